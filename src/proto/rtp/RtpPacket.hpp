#pragma once
// An RTP packet parsed in place (RFC 3550 §5.1) with RFC 8285 header extensions. The view never
// copies or allocates: accessors read the caller's buffer and setters write into it, so the SFU
// can rewrite SSRC/sequence/timestamp of a received packet and forward the same bytes.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace meeting::proto::rtp {

/// RFC 8285 §4.2: the one-byte header profile ("0xBEDE").
inline constexpr uint16_t OneByteProfile = 0xBEDE;
/// RFC 8285 §4.3: the two-byte header profile is 0x100X (X = 4 "appbits").
inline constexpr uint16_t TwoByteProfileMask = 0xFFF0;
inline constexpr uint16_t TwoByteProfile = 0x1000;

/// A mutable view over one RTP packet held in a caller-owned buffer.
///
/// Obtain one with parse(); a default-constructed view is empty. The view stays valid while the
/// buffer lives and its layout (lengths) is not changed by someone else.
class RtpPacket {
 public:
  static constexpr size_t FixedHeaderSize = 12;
  /// Extensions remembered at parse time for O(1)-ish lookup; more are found by walking.
  static constexpr size_t MaxCachedExtensions = 16;

  RtpPacket() = default;

  /// Parses `length` bytes at the start of `buffer`. Returns nothing when the bytes are not a
  /// valid RTP packet (version, CSRC/extension/padding lengths). Malformed extension elements
  /// end the extension walk but do not reject the packet (RFC 8285 §4.2 id-15 rule likewise).
  static std::optional<RtpPacket> parse(std::span<uint8_t> buffer, size_t length);
  static std::optional<RtpPacket> parse(std::span<uint8_t> packet) { return parse(packet, packet.size()); }

  /// RFC 5761 §4 / RFC 7983: true when the bytes look like RTP rather than RTCP (version 2 and a
  /// second byte outside the RTCP packet-type range 192..223).
  static bool looksLikeRtp(std::span<const uint8_t> data);

  // --- Fixed header (RFC 3550 §5.1) ---
  uint8_t version() const { return data_[0] >> 6; }
  bool hasPadding() const { return (data_[0] & 0x20) != 0; }
  bool hasExtension() const { return (data_[0] & 0x10) != 0; }
  uint8_t csrcCount() const { return data_[0] & 0x0F; }
  bool marker() const { return (data_[1] & 0x80) != 0; }
  uint8_t payloadType() const { return data_[1] & 0x7F; }
  uint16_t sequenceNumber() const;
  uint32_t timestamp() const;
  uint32_t ssrc() const;
  /// The i-th contributing source; `i` must be < csrcCount().
  uint32_t csrc(size_t i) const;

  // --- In-place rewrites (the forwarding hot path) ---
  void setMarker(bool marker);
  /// Sets the 7-bit payload type (higher bits of `pt` are ignored).
  void setPayloadType(uint8_t pt);
  void setSequenceNumber(uint16_t seq);
  void setTimestamp(uint32_t ts);
  void setSsrc(uint32_t ssrc);

  // --- Header extension (RFC 8285) ---
  /// The "defined by profile" field, or 0 without an extension.
  uint16_t extensionProfile() const { return extProfile_; }
  bool hasOneByteExtensions() const { return extProfile_ == OneByteProfile && hasExtension(); }
  bool hasTwoByteExtensions() const {
    return hasExtension() && (extProfile_ & TwoByteProfileMask) == TwoByteProfile;
  }
  /// The extension data after the 4-byte extension header (empty without an extension).
  std::span<const uint8_t> extensionBlock() const { return {data_ + extOffset_, extLength_}; }
  /// True when an element with local id `id` is present (it may have an empty value).
  bool hasExtensionId(uint8_t id) const;
  /// The value of the first element with local id `id`; empty when absent.
  std::span<const uint8_t> extension(uint8_t id) const;
  /// Same, writable in place.
  std::span<uint8_t> mutableExtension(uint8_t id);
  /// Overwrites the value of an existing element of the same length; false when the element is
  /// absent or its length differs (the layout is never changed).
  bool setExtension(uint8_t id, std::span<const uint8_t> value);
  /// Changes the local id of an existing element in place (per-transport id mapping). The new id
  /// must fit the element's format (1..14 for one-byte, 1..255 for two-byte) and be unused.
  bool remapExtensionId(uint8_t fromId, uint8_t toId);
  /// Calls `f(id, std::span<const uint8_t> value)` for each element in wire order.
  template <typename F>
  void forEachExtension(F&& f) const;

  // --- Payload and sizes ---
  std::span<uint8_t> payload() const { return {data_ + headerSize_, payloadSize_}; }
  size_t headerSize() const { return headerSize_; }
  size_t payloadSize() const { return payloadSize_; }
  /// RFC 3550 §5.1: padding octets at the end, including the count octet itself.
  size_t paddingSize() const { return paddingSize_; }
  size_t size() const { return size_; }
  /// The packet bytes (header, payload and padding).
  std::span<uint8_t> data() const { return {data_, size_}; }
  bool empty() const { return data_ == nullptr; }

 private:
  struct ExtEntry {
    uint8_t id;
    uint8_t length;
    uint16_t offset;  // from the start of the packet
  };
  // Walks the block, calling `f(id, valueOffset, length)` until it returns false.
  template <typename F>
  void walkExtensions(F&& f) const;
  bool findExtension(uint8_t id, size_t& offset, size_t& length) const;
  void indexExtensions();

  uint8_t* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t headerSize_ = 0;
  uint32_t payloadSize_ = 0;
  uint32_t paddingSize_ = 0;
  uint32_t extOffset_ = 0;  // start of the extension elements
  uint32_t extLength_ = 0;
  uint16_t extProfile_ = 0;
  uint8_t extCount_ = 0;
  bool extOverflow_ = false;  // more elements than the cache holds
  std::array<ExtEntry, MaxCachedExtensions> ext_{};
};

template <typename F>
void RtpPacket::walkExtensions(F&& f) const {
  if (extLength_ == 0) return;
  const uint8_t* block = data_ + extOffset_;
  const size_t len = extLength_;
  size_t i = 0;
  if (extProfile_ == OneByteProfile) {
    while (i < len) {
      const uint8_t b = block[i];
      if (b == 0) {  // RFC 8285 §4.2: padding byte
        ++i;
        continue;
      }
      const uint8_t id = b >> 4;
      const size_t l = static_cast<size_t>(b & 0x0F) + 1;
      if (id == 15) return;  // RFC 8285 §4.2: stop, ignore the rest
      if (i + 1 + l > len) return;
      if (!f(id, extOffset_ + i + 1, l)) return;
      i += 1 + l;
    }
  } else if ((extProfile_ & TwoByteProfileMask) == TwoByteProfile) {
    while (i < len) {
      const uint8_t id = block[i];
      if (id == 0) {  // RFC 8285 §4.3: padding byte
        ++i;
        continue;
      }
      if (i + 2 > len) return;
      const size_t l = block[i + 1];
      if (i + 2 + l > len) return;
      if (!f(id, extOffset_ + i + 2, l)) return;
      i += 2 + l;
    }
  }
}

template <typename F>
void RtpPacket::forEachExtension(F&& f) const {
  walkExtensions([&](uint8_t id, size_t offset, size_t length) {
    f(id, std::span<const uint8_t>(data_ + offset, length));
    return true;
  });
}

}  // namespace meeting::proto::rtp
