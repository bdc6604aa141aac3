#pragma once
// Parses an SDP offer or answer (RFC 8866 with the WebRTC attributes) into a SessionDescription.
#include <cstddef>
#include <string_view>

#include "common/Result.hpp"
#include "proto/sdp/SessionDescription.hpp"

namespace meeting::proto::sdp {

/// Input limits: a browser offer is a few KiB; anything far larger is refused up front.
inline constexpr size_t MaxSdpBytes = 64 * 1024;
inline constexpr size_t MaxSdpLines = 2000;
inline constexpr size_t MaxLineBytes = 4096;
inline constexpr size_t MaxMediaSections = 64;
inline constexpr size_t MaxCodecsPerSection = 256;

/// Parses `sdp` (CRLF or LF line endings). Never throws. On failure the Error's message starts
/// with "line <n>: " and says what is wrong; the code is ErrorInvalid or ErrorTooLarge.
/// Unknown attributes are kept verbatim in `otherAttributes`; unknown line types are an error
/// (RFC 8866 §5).
Result<SessionDescription> parse(std::string_view sdp);

}  // namespace meeting::proto::sdp
