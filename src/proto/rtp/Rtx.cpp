#include "proto/rtp/Rtx.hpp"

#include <cstring>

#include "proto/rtp/Endian.hpp"

namespace meeting::proto::rtp {

std::optional<RtpPacket> buildRtx(const RtpPacket& original, const RtxParams& rtx, std::span<uint8_t> out) {
  if (original.empty()) return std::nullopt;
  const size_t header = original.headerSize();
  const size_t total = rtxPacketSize(original);
  if (out.size() < total) return std::nullopt;
  uint8_t* o = out.data();
  std::memcpy(o, original.data().data(), header);
  o[0] &= static_cast<uint8_t>(~0x20);  // RFC 4588 §4: the RTX packet has its own padding, none here
  storeBe16(o + header, original.sequenceNumber());  // OSN
  if (original.payloadSize() > 0) std::memcpy(o + header + 2, original.payload().data(), original.payloadSize());
  auto packet = RtpPacket::parse(out, total);
  if (!packet) return std::nullopt;
  packet->setPayloadType(rtx.payloadType);
  packet->setSsrc(rtx.ssrc);
  packet->setSequenceNumber(rtx.sequenceNumber);
  return packet;
}

std::optional<RtpPacket> recoverFromRtx(const RtpPacket& rtxPacket, uint8_t originalPayloadType,
                                        uint32_t originalSsrc, std::span<uint8_t> out) {
  if (rtxPacket.empty() || rtxPacket.payloadSize() < 2) return std::nullopt;
  const size_t header = rtxPacket.headerSize();
  const size_t payload = rtxPacket.payloadSize() - 2;
  const size_t total = header + payload;
  if (out.size() < total) return std::nullopt;
  const uint8_t* in = rtxPacket.data().data();
  const uint16_t osn = loadBe16(in + header);
  uint8_t* o = out.data();
  // memmove: `out` may be the RTX buffer itself; the payload then shifts 2 bytes left.
  if (o != in) std::memmove(o, in, header);
  if (payload > 0) std::memmove(o + header, in + header + 2, payload);
  o[0] &= static_cast<uint8_t>(~0x20);
  auto packet = RtpPacket::parse(out, total);
  if (!packet) return std::nullopt;
  packet->setPayloadType(originalPayloadType);
  packet->setSsrc(originalSsrc);
  packet->setSequenceNumber(osn);
  return packet;
}

}  // namespace meeting::proto::rtp
