#pragma once
// Parsers and writers for the values of individual SDP attributes (the text after "a=name:").
// The session parser uses them line by line; signaling uses parseCandidate/formatCandidate for
// trickled candidates. All parsers are bounded by their input, never throw, and on failure return
// an Error whose message says what is wrong (without a line number: the caller adds it).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/Result.hpp"
#include "proto/sdp/SessionDescription.hpp"

namespace meeting::proto::sdp {

/// Error code of a malformed description or attribute.
inline constexpr std::string_view ErrorInvalid = "invalid_sdp";
/// Error code of a description larger than the parser's limits.
inline constexpr std::string_view ErrorTooLarge = "sdp_too_large";
/// Error code of a well-formed candidate with a transport or type this codec does not model;
/// RFC 8839 §5.1 says to ignore such candidates, so the session parser keeps them verbatim.
inline constexpr std::string_view ErrorUnsupportedCandidate = "unsupported_candidate";

/// Parses a candidate: the value of `a=candidate:`, also accepted with a leading "candidate:"
/// or "a=candidate:" (the form trickled by browsers in RTCIceCandidate.candidate).
Result<Candidate> parseCandidate(std::string_view value);
/// Writes "candidate:<foundation> <component> ..." (no "a=" prefix, no line ending).
std::string formatCandidate(const Candidate& candidate);

/// Parses the value of `a=rid:` (RFC 8851 §10).
Result<Rid> parseRid(std::string_view value);
/// Writes the value of `a=rid:`.
std::string formatRid(const Rid& rid);

/// Parses the value of `a=simulcast:` (RFC 8853 §5.1).
Result<Simulcast> parseSimulcast(std::string_view value);
/// Writes the value of `a=simulcast:` (send first, then recv).
std::string formatSimulcast(const Simulcast& simulcast);

/// `a=rtpmap:<pt> <name>/<clock>[/<channels>]` (RFC 8866 §6.6): a Codec with no fmtp/rtcp-fb.
Result<Codec> parseRtpmap(std::string_view value);
/// `a=fmtp:<pt> <params>`: the payload type and the `;`-separated parameters in order.
Result<std::pair<uint8_t, std::vector<Param>>> parseFmtp(std::string_view value);
/// `a=rtcp-fb:<pt|*> <type> [<param>]`: nullopt payload type means `*`.
Result<std::pair<std::optional<uint8_t>, RtcpFeedback>> parseRtcpFeedback(std::string_view value);
/// `a=extmap:` (RFC 8285 §8).
Result<Extmap> parseExtmap(std::string_view value);
/// `a=ssrc:` (RFC 5576 §4.1).
Result<SsrcAttribute> parseSsrc(std::string_view value);
/// `a=ssrc-group:` (RFC 5576 §4.2).
Result<SsrcGroup> parseSsrcGroup(std::string_view value);
/// `a=msid:` (RFC 8830 §2).
Result<Msid> parseMsid(std::string_view value);
/// `a=fingerprint:` (RFC 8122 §5).
Result<Fingerprint> parseFingerprint(std::string_view value);
/// `a=group:` (RFC 5888 §5).
Result<Group> parseGroup(std::string_view value);
/// `a=msid-semantic:` (tolerates Chromium's space after the colon).
Result<MsidSemantic> parseMsidSemantic(std::string_view value);
/// `a=sctpmap:` (legacy data channel attribute).
Result<Sctpmap> parseSctpmap(std::string_view value);
/// `a=setup:` value.
std::optional<Setup> parseSetup(std::string_view value);
/// A direction token ("sendrecv", "sendonly", "recvonly", "inactive").
std::optional<Direction> parseDirection(std::string_view token);

}  // namespace meeting::proto::sdp
