#pragma once
// Unaligned big-endian loads and stores on raw pointers. Used by the in-place RTP/RTCP views
// after the caller has already checked the bounds, where going through ByteReader would cost a
// bounds check per field on the packet path.
#include <cstdint>

namespace meeting::proto::rtp {

/// Reads a big-endian 16-bit value; `p` must point at 2 readable bytes.
inline uint16_t loadBe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
/// Reads a big-endian 24-bit value; `p` must point at 3 readable bytes.
inline uint32_t loadBe24(const uint8_t* p) {
  return uint32_t{p[0]} << 16 | uint32_t{p[1]} << 8 | p[2];
}
/// Reads a big-endian 32-bit value; `p` must point at 4 readable bytes.
inline uint32_t loadBe32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
inline void storeBe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void storeBe24(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 16);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v);
}
inline void storeBe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace meeting::proto::rtp
