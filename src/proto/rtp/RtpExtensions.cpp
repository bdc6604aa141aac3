#include "proto/rtp/RtpExtensions.hpp"

#include "proto/rtp/Endian.hpp"

namespace meeting::proto::rtp {
namespace {

std::span<const uint8_t> find(const RtpPacket& packet, uint8_t id) {
  if (id == 0) return {};
  return packet.extension(id);
}

std::string_view asText(std::span<const uint8_t> value) {
  return {reinterpret_cast<const char*>(value.data()), value.size()};
}

}  // namespace

std::string_view readMid(const RtpPacket& packet, uint8_t id) { return asText(find(packet, id)); }
std::string_view readRid(const RtpPacket& packet, uint8_t id) { return asText(find(packet, id)); }
std::string_view readRepairedRid(const RtpPacket& packet, uint8_t id) {
  return asText(find(packet, id));
}

std::optional<uint32_t> readAbsSendTime(const RtpPacket& packet, uint8_t id) {
  auto value = find(packet, id);
  if (value.size() != 3) return std::nullopt;
  return loadBe24(value.data());
}

bool writeAbsSendTime(RtpPacket& packet, uint8_t id, uint32_t value) {
  if (id == 0) return false;
  auto span = packet.mutableExtension(id);
  if (span.size() != 3) return false;
  storeBe24(span.data(), value & 0xFFFFFF);
  return true;
}

std::optional<uint16_t> readTransportSequence(const RtpPacket& packet, uint8_t id) {
  // transport-wide-cc-02 appends feedback-request bytes; the sequence is always first.
  auto value = find(packet, id);
  if (value.size() < 2) return std::nullopt;
  return loadBe16(value.data());
}

bool writeTransportSequence(RtpPacket& packet, uint8_t id, uint16_t seq) {
  if (id == 0) return false;
  auto span = packet.mutableExtension(id);
  if (span.size() < 2) return false;
  storeBe16(span.data(), seq);
  return true;
}

std::optional<AudioLevel> readAudioLevel(const RtpPacket& packet, uint8_t id) {
  // RFC 6464 §3: one byte (V:1, level:7); the two-byte form may carry padding after it.
  auto value = find(packet, id);
  if (value.empty()) return std::nullopt;
  return AudioLevel{(value[0] & 0x80) != 0, static_cast<uint8_t>(value[0] & 0x7F)};
}

std::optional<VideoOrientation> readVideoOrientation(const RtpPacket& packet, uint8_t id) {
  auto value = find(packet, id);
  if (value.empty()) return std::nullopt;
  const uint8_t b = value[0];
  return VideoOrientation{(b & 0x08) != 0, (b & 0x04) != 0, static_cast<uint16_t>((b & 0x03) * 90)};
}

std::span<const uint8_t> readDependencyDescriptor(const RtpPacket& packet, uint8_t id) {
  return find(packet, id);
}

}  // namespace meeting::proto::rtp
