#pragma once
// Bounds-checked big-endian reading of network input. Every read reports failure instead of
// reading past the end, so parsers of untrusted bytes never touch memory they were not given.
#include <cstddef>
#include <cstdint>
#include <span>

namespace meeting {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool empty() const { return remaining() == 0; }

  bool readU8(uint8_t& out) {
    if (remaining() < 1) return false;
    out = data_[pos_++];
    return true;
  }
  bool readU16(uint16_t& out) {
    if (remaining() < 2) return false;
    out = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool readU24(uint32_t& out) {
    if (remaining() < 3) return false;
    out = uint32_t{data_[pos_]} << 16 | uint32_t{data_[pos_ + 1]} << 8 | data_[pos_ + 2];
    pos_ += 3;
    return true;
  }
  bool readU32(uint32_t& out) {
    if (remaining() < 4) return false;
    out = uint32_t{data_[pos_]} << 24 | uint32_t{data_[pos_ + 1]} << 16 |
          uint32_t{data_[pos_ + 2]} << 8 | data_[pos_ + 3];
    pos_ += 4;
    return true;
  }
  bool readU64(uint64_t& out) {
    uint32_t hi = 0, lo = 0;
    if (remaining() < 8) return false;
    (void)readU32(hi);
    (void)readU32(lo);
    out = uint64_t{hi} << 32 | lo;
    return true;
  }
  /// A view of the next `n` bytes (no copy); fails when fewer remain.
  bool readBytes(size_t n, std::span<const uint8_t>& out) {
    if (remaining() < n) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }
  std::span<const uint8_t> rest() const { return data_.subspan(pos_); }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

/// Big-endian writing into a caller-owned buffer; fails (and writes nothing) when it is full.
class ByteWriter {
 public:
  explicit ByteWriter(std::span<uint8_t> buffer) : buf_(buffer) {}

  size_t size() const { return pos_; }
  size_t capacity() const { return buf_.size(); }
  size_t remaining() const { return buf_.size() - pos_; }
  std::span<uint8_t> written() const { return buf_.first(pos_); }
  uint8_t* data() const { return buf_.data(); }

  bool writeU8(uint8_t v) {
    if (remaining() < 1) return false;
    buf_[pos_++] = v;
    return true;
  }
  bool writeU16(uint16_t v) {
    if (remaining() < 2) return false;
    buf_[pos_++] = static_cast<uint8_t>(v >> 8);
    buf_[pos_++] = static_cast<uint8_t>(v);
    return true;
  }
  bool writeU24(uint32_t v) {
    if (remaining() < 3) return false;
    buf_[pos_++] = static_cast<uint8_t>(v >> 16);
    buf_[pos_++] = static_cast<uint8_t>(v >> 8);
    buf_[pos_++] = static_cast<uint8_t>(v);
    return true;
  }
  bool writeU32(uint32_t v) {
    if (remaining() < 4) return false;
    for (int shift = 24; shift >= 0; shift -= 8) buf_[pos_++] = static_cast<uint8_t>(v >> shift);
    return true;
  }
  bool writeU64(uint64_t v) {
    if (remaining() < 8) return false;
    for (int shift = 56; shift >= 0; shift -= 8) buf_[pos_++] = static_cast<uint8_t>(v >> shift);
    return true;
  }
  bool writeBytes(std::span<const uint8_t> bytes) {
    if (remaining() < bytes.size()) return false;
    for (uint8_t b : bytes) buf_[pos_++] = b;
    return true;
  }
  bool writeZeros(size_t n) {
    if (remaining() < n) return false;
    for (size_t i = 0; i < n; ++i) buf_[pos_++] = 0;
    return true;
  }
  /// Overwrites already written bytes (e.g. a length field known only at the end).
  bool patchU16(size_t at, uint16_t v) {
    if (at + 2 > pos_) return false;
    buf_[at] = static_cast<uint8_t>(v >> 8);
    buf_[at + 1] = static_cast<uint8_t>(v);
    return true;
  }

 private:
  std::span<uint8_t> buf_;
  size_t pos_ = 0;
};

}  // namespace meeting
