#pragma once
// RFC 4585 §6.2.1 generic NACK: RTPFB FMT 1, FCI entries of PID (a lost sequence number) and BLP
// (a bitmask of the 16 following sequence numbers also lost).
#include <cstdint>
#include <optional>
#include <span>

#include "common/ByteReader.hpp"
#include "proto/rtcp/RtcpPacket.hpp"

namespace meeting::proto::rtcp {

struct NackItem {
  uint16_t pid = 0;
  uint16_t blp = 0;  ///< bit i set: pid + i + 1 lost too
  bool operator==(const NackItem&) const = default;
};

class Nack {
 public:
  /// Nothing unless `packet` is RTPFB/1 with at least one whole FCI entry.
  static std::optional<Nack> parse(const RtcpPacketView& packet);
  /// Writes a NACK for the lost sequence numbers, in sequence order (wrap-aware); later ones
  /// within 16 of an entry's PID go into its BLP. False when `lost` is empty or there is no room.
  static bool build(ByteWriter& w, uint32_t senderSsrc, uint32_t mediaSsrc, std::span<const uint16_t> lost);
  /// Writes a NACK from ready-made FCI entries.
  static bool build(ByteWriter& w, uint32_t senderSsrc, uint32_t mediaSsrc, std::span<const NackItem> items);

  uint32_t senderSsrc() const { return header_.senderSsrc; }
  uint32_t mediaSsrc() const { return header_.mediaSsrc; }
  size_t itemCount() const { return fci_.size() / 4; }
  /// The i-th entry; `i` must be < itemCount().
  NackItem item(size_t i) const;
  /// Calls `f(uint16_t seq)` for every sequence number reported lost (at most 17 per entry).
  template <typename F>
  void forEachLost(F&& f) const;
  /// Writes lost sequence numbers into `out`; returns how many (stops when `out` is full).
  size_t lostSequences(std::span<uint16_t> out) const;
  bool serialize(ByteWriter& w) const;

 private:
  FeedbackHeader header_;
  std::span<const uint8_t> fci_;
};

template <typename F>
void Nack::forEachLost(F&& f) const {
  for (size_t i = 0; i < itemCount(); ++i) {
    const NackItem it = item(i);
    f(it.pid);
    for (unsigned bit = 0; bit < 16; ++bit) {
      if ((it.blp >> bit) & 1u) f(static_cast<uint16_t>(it.pid + bit + 1));
    }
  }
}

}  // namespace meeting::proto::rtcp
