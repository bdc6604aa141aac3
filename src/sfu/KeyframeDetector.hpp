#pragma once
// Does this RTP payload start a keyframe? For VP8 (RFC 7741), VP9 (RFC 9628, formerly
// draft-ietf-payload-vp9), H.264 (RFC 6184) and AV1 (AOM "RTP Payload Format for AV1" v1.0).
// Used to resume a paused consumer or switch a simulcast layer on a frame the subscriber can
// decode, and to know that a requested keyframe arrived.
//
// Only the first packet of a keyframe says so (the others are continuations), so callers look
// at every packet. Parsing is bounded by the span, never throws and answers false on anything
// malformed or truncated.
#include <cstdint>
#include <span>

namespace meeting::sfu {

enum class VideoCodec : uint8_t;  // SdpNegotiation.hpp

namespace keyframe {

bool isVp8Keyframe(std::span<const uint8_t> payload);
/// A keyframe of spatial layer 0 (the one a decoder can start on).
bool isVp9Keyframe(std::span<const uint8_t> payload);
/// An IDR slice or a sequence parameter set, alone, in a STAP-A/B or at the start of a FU-A/B.
bool isH264Keyframe(std::span<const uint8_t> payload);
/// The aggregation header's N bit (first packet of a coded video sequence), or a sequence
/// header OBU among the packet's OBU elements.
bool isAv1Keyframe(std::span<const uint8_t> payload);

}  // namespace keyframe

/// Dispatches on the codec; false for VideoCodec::Any.
bool isKeyframe(VideoCodec codec, std::span<const uint8_t> payload);

}  // namespace meeting::sfu
