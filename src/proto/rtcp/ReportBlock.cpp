#include "proto/rtcp/ReportBlock.hpp"

#include <algorithm>

#include "proto/rtp/Endian.hpp"

namespace meeting::proto::rtcp {

using rtp::loadBe24;
using rtp::loadBe32;

ReportBlock ReportBlock::read(const uint8_t* p) {
  ReportBlock b;
  b.ssrc = loadBe32(p);
  b.fractionLost = p[4];
  const uint32_t lost = loadBe24(p + 5);
  // Sign-extend the 24-bit two's complement value (RFC 3550 §6.4.1: it may go negative).
  b.cumulativeLost = (lost & 0x800000) != 0 ? static_cast<int32_t>(lost | 0xFF000000u) : static_cast<int32_t>(lost);
  b.extendedHighestSequence = loadBe32(p + 8);
  b.jitter = loadBe32(p + 12);
  b.lastSr = loadBe32(p + 16);
  b.delaySinceLastSr = loadBe32(p + 20);
  return b;
}

bool ReportBlock::write(ByteWriter& w) const {
  // Clamp rather than wrap: a huge loss count must not read as a small or negative one.
  const int32_t lost = std::clamp<int32_t>(cumulativeLost, -0x800000, 0x7FFFFF);
  return w.writeU32(ssrc) && w.writeU8(fractionLost) && w.writeU24(static_cast<uint32_t>(lost) & 0xFFFFFF) &&
         w.writeU32(extendedHighestSequence) && w.writeU32(jitter) && w.writeU32(lastSr) &&
         w.writeU32(delaySinceLastSr);
}

}  // namespace meeting::proto::rtcp
