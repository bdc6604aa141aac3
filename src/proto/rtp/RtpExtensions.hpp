#pragma once
// Readers (and a few in-place writers) for the header extensions the SFU negotiates. Ids are
// negotiated per transport in SDP (RFC 8285 §5 "a=extmap"), so every helper takes the local id;
// id 0 means "not negotiated" and always reads as absent.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "proto/rtp/RtpPacket.hpp"

namespace meeting::proto::rtp {

/// Extension URIs as they appear in "a=extmap" lines.
namespace uri {
inline constexpr std::string_view Mid = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr std::string_view RtpStreamId = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr std::string_view RepairedRtpStreamId =
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
inline constexpr std::string_view AbsSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view TransportWideCc =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
inline constexpr std::string_view AudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
inline constexpr std::string_view VideoOrientation = "urn:3gpp:video-orientation";
inline constexpr std::string_view DependencyDescriptor =
    "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension";
}  // namespace uri

/// RFC 9143 sdes:mid value as text (a view into the packet); empty when absent.
std::string_view readMid(const RtpPacket& packet, uint8_t id);
/// RFC 8852 rtp-stream-id (the simulcast "rid"); empty when absent.
std::string_view readRid(const RtpPacket& packet, uint8_t id);
/// RFC 8852 repaired-rtp-stream-id (rid of the stream an RTX packet repairs); empty when absent.
std::string_view readRepairedRid(const RtpPacket& packet, uint8_t id);

/// abs-send-time: 24-bit 6.18 fixed-point seconds; nothing when absent or not 3 bytes.
std::optional<uint32_t> readAbsSendTime(const RtpPacket& packet, uint8_t id);
/// Rewrites an existing abs-send-time value (low 24 bits of `value`).
bool writeAbsSendTime(RtpPacket& packet, uint8_t id, uint32_t value);
/// 6.18 fixed point to microseconds (within the 64 s wrap of the field).
inline int64_t absSendTimeToMicros(uint32_t value) {
  return static_cast<int64_t>((uint64_t{value & 0xFFFFFF} * 1'000'000) >> 18);
}
/// Microseconds to the 24-bit 6.18 wire value (wraps every 64 s).
inline uint32_t absSendTimeFromMicros(int64_t micros) {
  constexpr int64_t Wrap = 64'000'000;  // the field spans 64 s
  const auto inWrap = static_cast<uint64_t>(((micros % Wrap) + Wrap) % Wrap);
  return static_cast<uint32_t>(((inWrap << 18) / 1'000'000) & 0xFFFFFF);
}

/// transport-wide-cc-01 sequence number (first 16 bits of the value).
std::optional<uint16_t> readTransportSequence(const RtpPacket& packet, uint8_t id);
/// Rewrites an existing transport-wide sequence number (the SFU renumbers per transport).
bool writeTransportSequence(RtpPacket& packet, uint8_t id, uint16_t seq);

/// RFC 6464 §3 audio level: V flag and level in -dBov (0 loudest .. 127 silence).
struct AudioLevel {
  bool voiceActivity = false;
  uint8_t level = 127;
};
std::optional<AudioLevel> readAudioLevel(const RtpPacket& packet, uint8_t id);

/// 3GPP TS 26.114 §7.4.5 coordination of video orientation (CVO): bits 0 0 0 0 C F R1 R0.
struct VideoOrientation {
  bool backCamera = false;
  bool horizontalFlip = false;
  uint16_t rotationDegrees = 0;  // clockwise: 0, 90, 180, 270
};
std::optional<VideoOrientation> readVideoOrientation(const RtpPacket& packet, uint8_t id);

/// The AV1 dependency descriptor, raw (parsing needs the template structure; see proto/codecs).
std::span<const uint8_t> readDependencyDescriptor(const RtpPacket& packet, uint8_t id);

}  // namespace meeting::proto::rtp
