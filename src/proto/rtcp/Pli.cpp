#include "proto/rtcp/Pli.hpp"

namespace meeting::proto::rtcp {

std::optional<Pli> Pli::parse(const RtcpPacketView& packet) {
  if (!packet.is(PacketType::PayloadFeedback, psfb::Pli)) return std::nullopt;
  Pli pli;
  std::span<const uint8_t> fci;
  if (!parseFeedbackHeader(packet, pli.header_, fci)) return std::nullopt;
  return pli;  // RFC 4585 §6.3.1: no FCI; extra bytes are ignored
}

bool Pli::build(ByteWriter& w, uint32_t senderSsrc, uint32_t mediaSsrc) {
  if (w.remaining() < Size) return false;
  size_t start = 0;
  return beginPacket(w, psfb::Pli, PacketType::PayloadFeedback, start) && w.writeU32(senderSsrc) &&
         w.writeU32(mediaSsrc) && endPacket(w, start);
}

}  // namespace meeting::proto::rtcp
