#pragma once
// RFC 3550 §6.5 source description: SC chunks, each an SSRC followed by typed text items.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/ByteReader.hpp"
#include "proto/rtcp/RtcpPacket.hpp"

namespace meeting::proto::rtcp {

/// SDES item types (RFC 3550 §6.5).
enum class SdesType : uint8_t { End = 0, Cname = 1, Name = 2, Email = 3, Phone = 4, Loc = 5, Tool = 6, Note = 7, Priv = 8 };

struct SdesItem {
  uint8_t type = 0;
  std::string_view value;  ///< at most 255 bytes
};
/// Input to Sdes::build.
struct SdesChunk {
  uint32_t ssrc = 0;
  std::span<const SdesItem> items;
};

/// A parsed SDES packet; chunks and items are walked on demand over the packet bytes.
class Sdes {
 public:
  /// Nothing unless all SC chunks are complete: item lengths inside the packet and every chunk
  /// ended by a null item and null padding up to a 32-bit boundary.
  static std::optional<Sdes> parse(const RtcpPacketView& packet);
  /// Writes an SDES packet; false on more than 31 chunks, an item over 255 bytes, or no room.
  static bool build(ByteWriter& w, std::span<const SdesChunk> chunks);
  /// The usual one-chunk form: CNAME of `ssrc`.
  static bool buildCname(ByteWriter& w, uint32_t ssrc, std::string_view cname);

  size_t chunkCount() const { return count_; }
  /// Calls `f(uint32_t ssrc, uint8_t type, std::string_view value)` for every item.
  template <typename F>
  void forEachItem(F&& f) const;
  /// The first CNAME in the packet, empty when there is none.
  std::string_view cname() const;
  bool serialize(ByteWriter& w) const;

 private:
  uint8_t count_ = 0;
  std::span<const uint8_t> chunks_;  // validated chunk bytes
};

template <typename F>
void Sdes::forEachItem(F&& f) const {
  // Already validated by parse(): each chunk is SSRC, items, null, padding to 32 bits.
  const uint8_t* p = chunks_.data();
  size_t pos = 0;
  for (size_t c = 0; c < count_; ++c) {
    const uint32_t ssrc = uint32_t{p[pos]} << 24 | uint32_t{p[pos + 1]} << 16 | uint32_t{p[pos + 2]} << 8 | p[pos + 3];
    pos += 4;
    while (p[pos] != 0) {
      const size_t len = p[pos + 1];
      f(ssrc, p[pos], std::string_view(reinterpret_cast<const char*>(p + pos + 2), len));
      pos += 2 + len;
    }
    pos = (pos + 4) & ~size_t{3};
  }
}

}  // namespace meeting::proto::rtcp
