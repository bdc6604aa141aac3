#include "proto/rtcp/Xr.hpp"

#include "proto/rtp/Endian.hpp"

namespace meeting::proto::rtcp {

using rtp::loadBe16;
using rtp::loadBe32;

std::optional<Xr> Xr::parse(const RtcpPacketView& packet) {
  if (packet.type != static_cast<uint8_t>(PacketType::ExtendedReport) || packet.body.size() < 4) {
    return std::nullopt;
  }
  Xr report;
  report.ssrc_ = loadBe32(packet.body.data());
  const auto blocks = packet.body.subspan(4);
  size_t pos = 0;
  // RFC 3611 §3: block length counts 32-bit words after the 4-byte block header.
  while (pos + 4 <= blocks.size()) {
    const uint8_t type = blocks[pos];
    const size_t len = size_t{loadBe16(blocks.data() + pos + 2)} * 4;
    if (pos + 4 + len > blocks.size()) return std::nullopt;
    const uint8_t* contents = blocks.data() + pos + 4;
    if (type == xr::Rrtr) {
      if (len != 8) return std::nullopt;  // RFC 3611 §4.4: block length 2
      if (!report.rrtr_) report.rrtr_ = uint64_t{loadBe32(contents)} << 32 | loadBe32(contents + 4);
    } else if (type == xr::Dlrr) {
      if (len % 12 != 0) return std::nullopt;  // RFC 3611 §4.5: 3 words per sub-block
    }
    pos += 4 + len;
  }
  report.blocks_ = blocks.first(pos);
  return report;
}

DlrrItem Xr::readDlrr(const uint8_t* p) { return DlrrItem{loadBe32(p), loadBe32(p + 4), loadBe32(p + 8)}; }

bool Xr::build(ByteWriter& w, uint32_t ssrc, std::optional<uint64_t> rrtrNtp, std::span<const DlrrItem> dlrr) {
  if (dlrr.size() > 0xFFFF / 3) return false;
  const size_t size = HeaderSize + 4 + (rrtrNtp ? 12 : 0) + (dlrr.empty() ? 0 : 4 + 12 * dlrr.size());
  if (w.remaining() < size) return false;
  size_t start = 0;
  bool ok = beginPacket(w, 0, PacketType::ExtendedReport, start) && w.writeU32(ssrc);
  if (rrtrNtp) ok = ok && w.writeU8(xr::Rrtr) && w.writeU8(0) && w.writeU16(2) && w.writeU64(*rrtrNtp);
  if (!dlrr.empty()) {
    ok = ok && w.writeU8(xr::Dlrr) && w.writeU8(0) && w.writeU16(static_cast<uint16_t>(3 * dlrr.size()));
    for (const auto& d : dlrr) ok = ok && w.writeU32(d.ssrc) && w.writeU32(d.lastRr) && w.writeU32(d.delaySinceLastRr);
  }
  return ok && endPacket(w, start);
}

bool Xr::serialize(ByteWriter& w) const {
  if (w.remaining() < HeaderSize + 4 + blocks_.size()) return false;
  size_t start = 0;
  return beginPacket(w, 0, PacketType::ExtendedReport, start) && w.writeU32(ssrc_) && w.writeBytes(blocks_) &&
         endPacket(w, start);
}

}  // namespace meeting::proto::rtcp
