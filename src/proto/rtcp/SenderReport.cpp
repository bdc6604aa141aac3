#include "proto/rtcp/SenderReport.hpp"

#include "proto/rtp/Endian.hpp"

namespace meeting::proto::rtcp {

using rtp::loadBe32;

std::optional<SenderReport> SenderReport::parse(const RtcpPacketView& packet) {
  if (packet.type != static_cast<uint8_t>(PacketType::SenderReport)) return std::nullopt;
  const auto body = packet.body;
  const size_t blocksSize = size_t{packet.count} * ReportBlock::Size;
  if (body.size() < MinBodySize + blocksSize) return std::nullopt;
  SenderReport sr;
  const uint8_t* p = body.data();
  sr.info_.ssrc = loadBe32(p);
  sr.info_.ntpTimestamp = uint64_t{loadBe32(p + 4)} << 32 | loadBe32(p + 8);
  sr.info_.rtpTimestamp = loadBe32(p + 12);
  sr.info_.packetCount = loadBe32(p + 16);
  sr.info_.octetCount = loadBe32(p + 20);
  sr.blocks_ = body.subspan(MinBodySize, blocksSize);
  sr.extension_ = body.subspan(MinBodySize + blocksSize);
  return sr;
}

namespace {
bool writeInfo(ByteWriter& w, const SenderInfo& info) {
  return w.writeU32(info.ssrc) && w.writeU64(info.ntpTimestamp) && w.writeU32(info.rtpTimestamp) &&
         w.writeU32(info.packetCount) && w.writeU32(info.octetCount);
}
}  // namespace

bool SenderReport::build(ByteWriter& w, const SenderInfo& info, std::span<const ReportBlock> blocks) {
  if (blocks.size() > ReportBlock::MaxCount) return false;
  if (w.remaining() < HeaderSize + MinBodySize + blocks.size() * ReportBlock::Size) return false;
  size_t start = 0;
  bool ok = beginPacket(w, static_cast<uint8_t>(blocks.size()), PacketType::SenderReport, start) && writeInfo(w, info);
  for (const auto& b : blocks) ok = ok && b.write(w);
  return ok && endPacket(w, start);
}

bool SenderReport::serialize(ByteWriter& w) const {
  const size_t size = HeaderSize + MinBodySize + blocks_.size() + extension_.size();
  if (w.remaining() < ((size + 3) & ~size_t{3})) return false;
  size_t start = 0;
  return beginPacket(w, static_cast<uint8_t>(reportCount()), PacketType::SenderReport, start) &&
         writeInfo(w, info_) && w.writeBytes(blocks_) && w.writeBytes(extension_) && endPacket(w, start);
}

}  // namespace meeting::proto::rtcp
