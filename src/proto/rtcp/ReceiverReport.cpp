#include "proto/rtcp/ReceiverReport.hpp"

#include "proto/rtp/Endian.hpp"

namespace meeting::proto::rtcp {

std::optional<ReceiverReport> ReceiverReport::parse(const RtcpPacketView& packet) {
  if (packet.type != static_cast<uint8_t>(PacketType::ReceiverReport)) return std::nullopt;
  const size_t blocksSize = size_t{packet.count} * ReportBlock::Size;
  if (packet.body.size() < 4 + blocksSize) return std::nullopt;
  ReceiverReport rr;
  rr.ssrc_ = rtp::loadBe32(packet.body.data());
  rr.blocks_ = packet.body.subspan(4, blocksSize);
  rr.extension_ = packet.body.subspan(4 + blocksSize);
  return rr;
}

bool ReceiverReport::build(ByteWriter& w, uint32_t ssrc, std::span<const ReportBlock> blocks) {
  if (blocks.size() > ReportBlock::MaxCount) return false;
  if (w.remaining() < HeaderSize + 4 + blocks.size() * ReportBlock::Size) return false;
  size_t start = 0;
  bool ok = beginPacket(w, static_cast<uint8_t>(blocks.size()), PacketType::ReceiverReport, start) &&
            w.writeU32(ssrc);
  for (const auto& b : blocks) ok = ok && b.write(w);
  return ok && endPacket(w, start);
}

bool ReceiverReport::serialize(ByteWriter& w) const {
  const size_t size = HeaderSize + 4 + blocks_.size() + extension_.size();
  if (w.remaining() < ((size + 3) & ~size_t{3})) return false;
  size_t start = 0;
  return beginPacket(w, static_cast<uint8_t>(reportCount()), PacketType::ReceiverReport, start) &&
         w.writeU32(ssrc_) && w.writeBytes(blocks_) && w.writeBytes(extension_) && endPacket(w, start);
}

}  // namespace meeting::proto::rtcp
