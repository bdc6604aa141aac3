#pragma once
// TURN channel numbers as clients really use them. RFC 8656 §12 narrowed channels to
// 0x4000-0x4FFF, but RFC 5766 §11 allowed 0x4000-0x7FFF and coturn's clients (turnutils_uclient)
// still pick numbers up to 0x7FFF, so the server accepts the old range, as coturn does. The
// listening port carries only STUN and ChannelData, so the wider first-byte range (0x40-0x7F)
// cannot be confused with DTLS or RTP here.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "proto/stun/ChannelData.hpp"

namespace meeting::turn {

constexpr bool isChannelNumber(uint16_t channel) { return channel >= 0x4000 && channel <= 0x7FFF; }

/// One ChannelData message (exact size, or padded to 4 bytes); nullopt if malformed.
inline std::optional<proto::stun::ChannelData> parseChannelMessage(std::span<const uint8_t> data) {
  if (data.size() < proto::stun::ChannelDataHeaderSize) return std::nullopt;
  const auto channel = static_cast<uint16_t>(data[0] << 8 | data[1]);
  const size_t length = static_cast<size_t>(data[2] << 8 | data[3]);
  if (!isChannelNumber(channel)) return std::nullopt;
  const size_t available = data.size() - proto::stun::ChannelDataHeaderSize;
  // RFC 8656 §12.5: up to 3 padding bytes may follow (always over TCP, optionally over UDP).
  if (length > available || available - length > 3) return std::nullopt;
  return proto::stun::ChannelData{channel, data.subspan(proto::stun::ChannelDataHeaderSize, length)};
}

/// Writes a ChannelData header at `out` (4 bytes).
inline void writeChannelHeader(uint8_t* out, uint16_t channel, size_t length) {
  out[0] = static_cast<uint8_t>(channel >> 8);
  out[1] = static_cast<uint8_t>(channel);
  out[2] = static_cast<uint8_t>(length >> 8);
  out[3] = static_cast<uint8_t>(length);
}

/// Frame boundaries on a TCP/TLS stream, with the wider channel range.
inline proto::stun::StreamFrame findTurnStreamFrame(std::span<const uint8_t> buffered) {
  if (!buffered.empty() && buffered[0] >= 0x50 && buffered[0] <= 0x7F) {
    if (buffered.size() < proto::stun::ChannelDataHeaderSize) return {proto::stun::FrameKind::NeedMore, 0};
    const size_t length = static_cast<size_t>(buffered[2] << 8 | buffered[3]);
    return {proto::stun::FrameKind::ChannelData, proto::stun::ChannelDataHeaderSize + ((length + 3) & ~size_t{3})};
  }
  return proto::stun::findStreamFrame(buffered);
}

}  // namespace meeting::turn
