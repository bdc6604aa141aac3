#include "proto/stun/ChannelData.hpp"

#include "proto/stun/StunMessage.hpp"
#include "proto/stun/StunTypes.hpp"

namespace meeting::proto::stun {
namespace {
constexpr size_t padded(size_t n) { return (n + 3) & ~size_t{3}; }
uint16_t loadU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
}  // namespace

std::optional<ChannelData> parseChannelData(std::span<const uint8_t> data) {
  if (data.size() < ChannelDataHeaderSize) return std::nullopt;
  const uint16_t channel = loadU16(data.data());
  const size_t length = loadU16(data.data() + 2);
  if (!isValidChannelNumber(channel)) return std::nullopt;
  // RFC 8656 §12.5: shorter than 4 + length is discarded; padding up to 4 is allowed.
  const size_t body = data.size() - ChannelDataHeaderSize;
  if (body < length || body > padded(length)) return std::nullopt;
  return ChannelData{channel, data.subspan(ChannelDataHeaderSize, length)};
}

bool writeChannelDataHeader(ByteWriter& w, uint16_t channel, size_t payloadSize) {
  if (!isValidChannelNumber(channel) || payloadSize > 0xFFFF || w.remaining() < ChannelDataHeaderSize)
    return false;
  return w.writeU16(channel) && w.writeU16(static_cast<uint16_t>(payloadSize));
}

bool writeChannelData(ByteWriter& w, uint16_t channel, std::span<const uint8_t> payload, bool padToFour) {
  const size_t pad = padToFour ? padded(payload.size()) - payload.size() : 0;
  if (w.remaining() < ChannelDataHeaderSize + payload.size() + pad) return false;
  return writeChannelDataHeader(w, channel, payload.size()) && w.writeBytes(payload) && w.writeZeros(pad);
}

StreamFrame findStreamFrame(std::span<const uint8_t> buffered) {
  if (buffered.empty()) return {FrameKind::NeedMore, 0};
  const uint8_t first = buffered[0];
  if (first < 0x40) {
    // STUN (RFC 7983: first byte 0..3; the top two bits of a STUN type are zero).
    if (first > 0x03) return {FrameKind::Invalid, 0};
    if (buffered.size() < 8) return {FrameKind::NeedMore, 0};
    const size_t length = loadU16(buffered.data() + 2);
    const uint32_t cookie = uint32_t{buffered[4]} << 24 | uint32_t{buffered[5]} << 16 |
                            uint32_t{buffered[6]} << 8 | buffered[7];
    if (length % 4 != 0 || cookie != MagicCookie) return {FrameKind::Invalid, 0};
    return {FrameKind::Stun, HeaderSize + length};
  }
  if (first <= 0x4F) {
    if (buffered.size() < ChannelDataHeaderSize) return {FrameKind::NeedMore, 0};
    return {FrameKind::ChannelData, ChannelDataHeaderSize + padded(loadU16(buffered.data() + 2))};
  }
  return {FrameKind::Invalid, 0};
}

}  // namespace meeting::proto::stun
