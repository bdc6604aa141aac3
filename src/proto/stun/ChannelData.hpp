#pragma once
// TURN ChannelData messages (RFC 8656 §12.4) and frame boundaries of STUN/ChannelData over a
// byte stream (RFC 8656 §12.5, RFC 8489 §6.2.2).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/ByteReader.hpp"

namespace meeting::proto::stun {

/// ChannelData header size: channel number (16 bits) + length (16 bits).
constexpr size_t ChannelDataHeaderSize = 4;

/// A parsed ChannelData message: a view over the caller's bytes.
struct ChannelData {
  uint16_t channel = 0;               ///< 0x4000-0x4FFF
  std::span<const uint8_t> payload;   ///< application data, without padding
};

/// Parses one ChannelData message. Accepts the exact size (UDP, padding optional) up to the
/// size padded to 4 bytes (stream transports, RFC 8656 §12.5); rejects channel numbers outside
/// 0x4000-0x4FFF, truncation and trailing bytes beyond the padding.
std::optional<ChannelData> parseChannelData(std::span<const uint8_t> data);

/// Writes only the 4-byte header, e.g. in headroom reserved in front of a relayed payload.
bool writeChannelDataHeader(ByteWriter& w, uint16_t channel, size_t payloadSize);
/// Writes header + payload, plus zero padding to 4 bytes when `padToFour` (required over TCP
/// and TLS, RFC 8656 §12.5). False if the channel is invalid, the payload too big or the
/// buffer too small; nothing useful is written then.
bool writeChannelData(ByteWriter& w, uint16_t channel, std::span<const uint8_t> payload, bool padToFour);

/// What starts a byte stream buffer.
enum class FrameKind : uint8_t {
  NeedMore,     ///< not enough bytes yet to tell the frame size
  Stun,         ///< a STUN message of `size` bytes
  ChannelData,  ///< a ChannelData message of `size` bytes (padding included)
  Invalid,      ///< neither STUN nor ChannelData: the stream is out of sync, close it
};

/// Kind and total size of the first frame of a stream buffer.
struct StreamFrame {
  FrameKind kind = FrameKind::NeedMore;
  size_t size = 0;  ///< total bytes of the frame; may exceed the buffer (wait for more)
};

/// Finds the first frame in buffered stream bytes. STUN frames are 20 + length bytes (length
/// a multiple of 4, magic cookie present); ChannelData frames are 4 + length padded to 4.
/// Check `size <= buffered.size()` before parsing the frame.
StreamFrame findStreamFrame(std::span<const uint8_t> buffered);

}  // namespace meeting::proto::stun
