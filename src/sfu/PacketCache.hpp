#pragma once
// The last packets of one outgoing stream, by sequence number, so that a NACK can be answered
// with a retransmission (RFC 4585 §6.2.1, RFC 4588). Fixed memory, no allocation after
// construction: slot = sequence number modulo the capacity, a newer packet overwrites an older.
#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace meeting::sfu {

class PacketCache {
 public:
  /// Largest packet kept (a full Ethernet payload).
  static constexpr size_t MaxPacketSize = 1500;

  /// `capacity` packets (about 1.5 s of 720p video at 350 packets/s for 512).
  explicit PacketCache(size_t capacity = 512) : slots_(capacity) {}

  /// Keeps a copy of `packet` (a plain RTP packet) under `sequenceNumber`; too large is ignored.
  void store(uint16_t sequenceNumber, std::span<const uint8_t> packet) {
    if (packet.size() > MaxPacketSize || slots_.empty()) return;
    auto& slot = slots_[sequenceNumber % slots_.size()];
    std::copy(packet.begin(), packet.end(), slot.data.begin());
    slot.size = static_cast<uint16_t>(packet.size());
    slot.sequenceNumber = sequenceNumber;
  }

  /// The packet stored under `sequenceNumber`, or empty when it was never stored or overwritten.
  std::span<const uint8_t> find(uint16_t sequenceNumber) const {
    if (slots_.empty()) return {};
    const auto& slot = slots_[sequenceNumber % slots_.size()];
    if (slot.size == 0 || slot.sequenceNumber != sequenceNumber) return {};
    return {slot.data.data(), slot.size};
  }

  void clear() {
    for (auto& slot : slots_) slot.size = 0;
  }

 private:
  struct Slot {
    std::array<uint8_t, MaxPacketSize> data;
    uint16_t size = 0;
    uint16_t sequenceNumber = 0;
  };
  std::vector<Slot> slots_;
};

}  // namespace meeting::sfu
