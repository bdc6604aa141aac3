#pragma once
// What one published audio track's RFC 6464 audio levels said over the last half second, for
// active-speaker detection (docs/protocol.md "Active speakers").
//
// The packet path calls onLevel() with each packet's level: a few integer operations on a fixed
// ring of 50 ms slots inside the object; no allocation, no lock (the meter lives in its track, on
// the room's worker loop). The room looks at the window every 300 ms with evaluate(), which also
// keeps the speaking state with hysteresis so that the pauses between words do not make a
// speaker flicker in and out of the list.
#include <array>
#include <chrono>
#include <cstdint>

#include "common/Clock.hpp"

namespace meeting::sfu {

class AudioLevelMeter {
 public:
  /// The window is SlotCount slots of SlotLength: 500 ms.
  static constexpr Duration SlotLength = std::chrono::milliseconds(50);
  static constexpr int64_t SlotCount = 10;
  /// RFC 6464 §3 levels are -dBov (0 loudest, 127 silence). A packet at this level or louder can
  /// be voice: conversational speech into a browser's processed microphone sits around -20 to
  /// -40 dBov, a quiet room's noise floor below -60.
  static constexpr uint8_t VoiceLevel = 50;
  /// A slot is voiced when more than half of its packets are. Speaking starts when at least
  /// StartSlots of the window's slots are voiced ("most of the last 500 ms") and stops when fewer
  /// than StopSlots are (hysteresis: the gaps between words keep a speaker in the list).
  static constexpr int StartSlots = 5;
  static constexpr int StopSlots = 2;
  /// level() is 1 - dBov / LevelRange: -30 dBov is 0.5, the VoiceLevel about 0.17, 0 dBov 1.
  static constexpr double LevelRange = 60.0;

  /// One packet's audio level (RFC 6464 §3): `level` in -dBov, `voiceActivity` the V bit.
  /// Once a stream has set the V bit it is taken as the sender's voice activity decision (the
  /// default of RFC 6464 §4 "vad=on"); a sender that never sets it is judged by level alone.
  void onLevel(uint8_t level, bool voiceActivity, TimePoint now) {
    const int64_t index = now.time_since_epoch() / SlotLength;
    Slot& slot = slots_[static_cast<uint64_t>(index) % SlotCount];
    if (slot.index != index) slot = Slot{index, 0, 0, 0};
    ++slot.packets;
    vadSeen_ = vadSeen_ || (voiceActivity && useVad_);
    if (level <= VoiceLevel && (voiceActivity || !vadSeen_)) {
      ++slot.voiced;
      slot.levelSum += level;
    }
  }

  /// The extension was negotiated with "vad=off" (RFC 6464 §4): the V bit means nothing.
  void ignoreVoiceActivityBit() { useVad_ = false; }

  /// Updates and returns the speaking state from the window ending at `now`.
  bool evaluate(TimePoint now) {
    const int64_t current = now.time_since_epoch() / SlotLength;
    int voicedSlots = 0;
    uint64_t voicedPackets = 0;
    uint64_t levelSum = 0;
    for (const auto& slot : slots_) {
      if (slot.index <= current - SlotCount || slot.index > current || slot.packets == 0) continue;
      if (slot.voiced * 2 > slot.packets) ++voicedSlots;
      voicedPackets += slot.voiced;
      levelSum += slot.levelSum;
    }
    meanLevel_ = voicedPackets ? static_cast<uint8_t>(levelSum / voicedPackets) : 127;
    speaking_ = speaking_ ? voicedSlots >= StopSlots : voicedSlots >= StartSlots;
    return speaking_;
  }

  /// The speaking state as of the last evaluate().
  bool speaking() const { return speaking_; }
  /// Mean -dBov of the voiced packets in the window at the last evaluate() (127: none).
  uint8_t meanLevel() const { return meanLevel_; }
  /// meanLevel() as 0..1 (louder is higher), two decimals.
  double level() const {
    double value = 1.0 - meanLevel_ / LevelRange;
    value = value < 0 ? 0 : (value > 1 ? 1 : value);
    return static_cast<int>(value * 100 + 0.5) / 100.0;
  }
  /// Forgets the window and the speaking state (a mute: old levels must not speak after it).
  void reset() {
    slots_ = {};
    speaking_ = false;
    meanLevel_ = 127;
  }

 private:
  struct Slot {
    int64_t index = -1;  // which 50 ms of the clock it holds
    uint32_t packets = 0;
    uint32_t voiced = 0;
    uint32_t levelSum = 0;  // of the voiced packets
  };
  std::array<Slot, SlotCount> slots_{};
  bool vadSeen_ = false;
  bool useVad_ = true;
  bool speaking_ = false;
  uint8_t meanLevel_ = 127;
};

}  // namespace meeting::sfu
