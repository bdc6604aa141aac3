#include "proto/rtcp/Remb.hpp"

#include "proto/rtp/Endian.hpp"

namespace meeting::proto::rtcp {

namespace {
constexpr uint8_t Identifier[4] = {'R', 'E', 'M', 'B'};
constexpr uint32_t MaxMantissa = 0x3FFFF;  // 18 bits
}  // namespace

std::optional<Remb> Remb::parse(const RtcpPacketView& packet) {
  if (!packet.is(PacketType::PayloadFeedback, psfb::Afb)) return std::nullopt;
  Remb remb;
  std::span<const uint8_t> fci;
  if (!parseFeedbackHeader(packet, remb.header_, fci) || fci.size() < 8) return std::nullopt;
  for (size_t i = 0; i < 4; ++i) {
    if (fci[i] != Identifier[i]) return std::nullopt;
  }
  const size_t count = fci[4];
  const uint8_t exponent = fci[5] >> 2;
  const uint64_t mantissa = rtp::loadBe24(fci.data() + 5) & MaxMantissa;
  // Reject a value that would overflow 64 bits instead of reporting a wrapped bitrate.
  if (exponent > 46 && (mantissa >> (64 - exponent)) != 0) return std::nullopt;
  if (fci.size() < 8 + 4 * count) return std::nullopt;
  remb.bitrate_ = mantissa << exponent;
  remb.ssrcs_ = fci.subspan(8, 4 * count);
  return remb;
}

uint32_t Remb::ssrc(size_t i) const { return rtp::loadBe32(ssrcs_.data() + 4 * i); }

namespace {
bool writeRemb(ByteWriter& w, uint32_t senderSsrc, uint64_t bitrate, size_t count) {
  uint8_t exponent = 0;
  while ((bitrate >> exponent) > MaxMantissa) ++exponent;
  const auto mantissa = static_cast<uint32_t>(bitrate >> exponent);
  size_t start = 0;
  return beginPacket(w, psfb::Afb, PacketType::PayloadFeedback, start) && w.writeU32(senderSsrc) &&
         w.writeU32(0) && w.writeBytes(Identifier) && w.writeU8(static_cast<uint8_t>(count)) &&
         w.writeU24(uint32_t{exponent} << 18 | mantissa);
}
}  // namespace

bool Remb::build(ByteWriter& w, uint32_t senderSsrc, uint64_t bitrateBps, std::span<const uint32_t> ssrcs) {
  if (ssrcs.size() > 255 || w.remaining() < FeedbackHeaderSize + 8 + 4 * ssrcs.size()) return false;
  const size_t start = w.size();
  bool ok = writeRemb(w, senderSsrc, bitrateBps, ssrcs.size());
  for (uint32_t ssrc : ssrcs) ok = ok && w.writeU32(ssrc);
  return ok && endPacket(w, start);
}

bool Remb::serialize(ByteWriter& w) const {
  if (w.remaining() < FeedbackHeaderSize + 8 + ssrcs_.size()) return false;
  const size_t start = w.size();
  return writeRemb(w, header_.senderSsrc, bitrate_, ssrcCount()) && w.writeBytes(ssrcs_) && endPacket(w, start);
}

}  // namespace meeting::proto::rtcp
