#include "proto/rtcp/Nack.hpp"

#include "proto/rtp/Endian.hpp"

namespace meeting::proto::rtcp {

std::optional<Nack> Nack::parse(const RtcpPacketView& packet) {
  if (!packet.is(PacketType::RtpFeedback, rtpfb::Nack)) return std::nullopt;
  Nack nack;
  std::span<const uint8_t> fci;
  if (!parseFeedbackHeader(packet, nack.header_, fci)) return std::nullopt;
  // RFC 4585 §6.2.1: one or more 4-byte entries; trailing partial bytes are ignored.
  if (fci.size() < 4) return std::nullopt;
  nack.fci_ = fci.first(fci.size() & ~size_t{3});
  return nack;
}

NackItem Nack::item(size_t i) const {
  const uint8_t* p = fci_.data() + 4 * i;
  return NackItem{rtp::loadBe16(p), rtp::loadBe16(p + 2)};
}

size_t Nack::lostSequences(std::span<uint16_t> out) const {
  size_t n = 0;
  forEachLost([&](uint16_t seq) {
    if (n < out.size()) out[n++] = seq;
  });
  return n;
}

namespace {

// Groups sorted sequence numbers into PID+BLP entries, calling `emit(NackItem)` for each.
template <typename Emit>
void groupLost(std::span<const uint16_t> lost, Emit&& emit) {
  if (lost.empty()) return;
  NackItem cur{lost[0], 0};
  for (size_t i = 1; i < lost.size(); ++i) {
    const auto diff = static_cast<uint16_t>(lost[i] - cur.pid);
    if (diff == 0) continue;  // duplicate
    if (diff <= 16) {
      cur.blp = static_cast<uint16_t>(cur.blp | (1u << (diff - 1)));
    } else {
      emit(cur);
      cur = NackItem{lost[i], 0};
    }
  }
  emit(cur);
}

}  // namespace

bool Nack::build(ByteWriter& w, uint32_t senderSsrc, uint32_t mediaSsrc, std::span<const uint16_t> lost) {
  if (lost.empty()) return false;
  size_t count = 0;
  groupLost(lost, [&](const NackItem&) { ++count; });
  if (w.remaining() < FeedbackHeaderSize + 4 * count || count > 0xFFFF - 2) return false;
  size_t start = 0;
  bool ok = beginPacket(w, rtpfb::Nack, PacketType::RtpFeedback, start) && w.writeU32(senderSsrc) &&
            w.writeU32(mediaSsrc);
  groupLost(lost, [&](const NackItem& it) { ok = ok && w.writeU16(it.pid) && w.writeU16(it.blp); });
  return ok && endPacket(w, start);
}

bool Nack::build(ByteWriter& w, uint32_t senderSsrc, uint32_t mediaSsrc, std::span<const NackItem> items) {
  if (items.empty() || items.size() > 0xFFFF - 2) return false;
  if (w.remaining() < FeedbackHeaderSize + 4 * items.size()) return false;
  size_t start = 0;
  bool ok = beginPacket(w, rtpfb::Nack, PacketType::RtpFeedback, start) && w.writeU32(senderSsrc) &&
            w.writeU32(mediaSsrc);
  for (const auto& it : items) ok = ok && w.writeU16(it.pid) && w.writeU16(it.blp);
  return ok && endPacket(w, start);
}

bool Nack::serialize(ByteWriter& w) const {
  if (w.remaining() < FeedbackHeaderSize + fci_.size()) return false;
  size_t start = 0;
  return beginPacket(w, rtpfb::Nack, PacketType::RtpFeedback, start) && w.writeU32(header_.senderSsrc) &&
         w.writeU32(header_.mediaSsrc) && w.writeBytes(fci_) && endPacket(w, start);
}

}  // namespace meeting::proto::rtcp
