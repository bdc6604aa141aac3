#include "proto/rtcp/Fir.hpp"

#include "proto/rtp/Endian.hpp"

namespace meeting::proto::rtcp {

std::optional<Fir> Fir::parse(const RtcpPacketView& packet) {
  if (!packet.is(PacketType::PayloadFeedback, psfb::Fir)) return std::nullopt;
  Fir fir;
  std::span<const uint8_t> fci;
  if (!parseFeedbackHeader(packet, fir.header_, fci) || fci.size() < EntrySize) return std::nullopt;
  fir.fci_ = fci.first(fci.size() / EntrySize * EntrySize);
  return fir;
}

FirEntry Fir::entry(size_t i) const {
  const uint8_t* p = fci_.data() + EntrySize * i;
  return FirEntry{rtp::loadBe32(p), p[4]};
}

bool Fir::build(ByteWriter& w, uint32_t senderSsrc, std::span<const FirEntry> entries) {
  if (entries.empty() || entries.size() > 0x7FFE) return false;
  if (w.remaining() < FeedbackHeaderSize + EntrySize * entries.size()) return false;
  size_t start = 0;
  bool ok = beginPacket(w, psfb::Fir, PacketType::PayloadFeedback, start) && w.writeU32(senderSsrc) && w.writeU32(0);
  for (const auto& e : entries) ok = ok && w.writeU32(e.ssrc) && w.writeU8(e.sequence) && w.writeU24(0);
  return ok && endPacket(w, start);
}

bool Fir::serialize(ByteWriter& w) const {
  if (w.remaining() < FeedbackHeaderSize + fci_.size()) return false;
  size_t start = 0;
  bool ok = beginPacket(w, psfb::Fir, PacketType::PayloadFeedback, start) && w.writeU32(header_.senderSsrc) &&
            w.writeU32(header_.mediaSsrc);
  for (size_t i = 0; i < entryCount(); ++i) {
    const FirEntry e = entry(i);
    ok = ok && w.writeU32(e.ssrc) && w.writeU8(e.sequence) && w.writeU24(0);
  }
  return ok && endPacket(w, start);
}

}  // namespace meeting::proto::rtcp
