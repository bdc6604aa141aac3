#pragma once
// Receiver-side loss detection for one incoming video stream of a publisher: which sequence
// numbers to ask for again with RTCP generic NACK (RFC 4585 §6.2.1), when, and when to stop.
//
// A gap in the sequence numbers puts the missing ones in a table. Each is asked for first after
// a short reorder wait, then again every max(rtt, MinRetryInterval) up to MaxTries times, and
// forgotten when it arrives (counted as recovered if it had been asked for), after MaxTries, or
// after MaxAge. When too much is missing to be worth asking for (a jump of more than MaxJump or
// more than Capacity missing at once) the table is cleared and keyframeNeeded() says the caller
// should ask for a keyframe (PLI/FIR) instead.
//
// Fixed-size state (an array of Capacity entries inside the object), no allocation, no locks:
// one instance per incoming stream on the worker's loop. Time is passed in.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/Clock.hpp"

namespace meeting::sfu {

class NackGenerator {
 public:
  /// Missing packets tracked at once; more means the loss is beyond what retransmission repairs.
  static constexpr size_t Capacity = 512;
  /// A forward jump of more than this many sequence numbers is a discontinuity, not a loss burst.
  static constexpr uint16_t MaxJump = 1000;
  /// Wait before the first NACK for a missing packet. Reordering on one 5-tuple is rare and short
  /// (a few ms: pacer bursts, ECMP, Wi-Fi aggregation), so 10 ms hides nearly all of it while
  /// adding little to recovery next to an RTT of 20-200 ms and a 33 ms frame interval at 30 fps.
  static constexpr std::chrono::milliseconds ReorderWait{10};
  /// Retries are spaced by the RTT (the answer cannot come sooner), but never closer than this.
  static constexpr std::chrono::milliseconds MinRetryInterval{20};
  static constexpr uint8_t MaxTries = 10;
  /// After this long a retransmission would be too late for any jitter buffer.
  static constexpr std::chrono::milliseconds MaxAge{1000};

  struct Counters {
    uint64_t requested = 0;  ///< NACK entries produced by collect(), retries included
    uint64_t recovered = 0;  ///< missing packets that arrived after having been asked for
    uint64_t givenUp = 0;    ///< missing packets dropped after MaxTries or MaxAge (or skipped by a keyframe)
    uint64_t resets = 0;     ///< table cleared by an overflow or a jump (a keyframe was needed)
  };

  NackGenerator() = default;

  /// Every packet received for the stream, including ones recovered through RTX (pass the
  /// original sequence number). Duplicates, reordering and 16-bit wraparound are handled.
  void onPacket(uint16_t sequence, TimePoint now);
  /// The first packet of a keyframe arrived: missing packets before it are not needed any more.
  void onKeyframe(uint16_t firstSequence);
  /// Writes the sequence numbers to NACK now into `out`, in sequence order (wrap-aware), and
  /// returns how many. Also expires entries. Entries that do not fit are left for the next call.
  size_t collect(TimePoint now, std::chrono::milliseconds rtt, std::span<uint16_t> out);

  /// True after a reset until consumeKeyframeNeeded().
  bool keyframeNeeded() const { return keyframeNeeded_; }
  /// Returns keyframeNeeded() and clears it.
  bool consumeKeyframeNeeded();

  /// Missing packets currently tracked.
  size_t missingCount() const { return live_; }
  const Counters& counters() const { return counters_; }

 private:
  struct Entry {
    int64_t ext = 0;  // extended sequence number, increasing from head to tail
    TimePoint detected{};
    TimePoint lastSent{};
    uint8_t tries = 0;
    bool live = false;  // false: a tombstone (arrived or given up) waiting to leave the ring
  };

  Entry& at(size_t i) { return ring_[(head_ + i) % Capacity]; }
  const Entry& at(size_t i) const { return ring_[(head_ + i) % Capacity]; }
  // Index (0..used_) of the first entry with ext >= `ext`.
  size_t lowerBound(int64_t ext) const;
  void addMissing(int64_t fromExt, int64_t toExt, TimePoint now);
  void remove(Entry& e, bool gaveUp);
  void compact();
  void popDead();
  void reset(int64_t highestExt);

  std::array<Entry, Capacity> ring_{};
  size_t head_ = 0;
  size_t used_ = 0;  // slots from head_, tombstones included
  size_t live_ = 0;
  bool started_ = false;
  int64_t highest_ = 0;  // extended sequence number of the highest packet received
  // A packet far behind the highest: two in a row (consecutive) mean the sender restarted.
  uint16_t strayNext_ = 0;
  bool stray_ = false;
  bool keyframeNeeded_ = false;
  Counters counters_;
};

/// Writes one RTCP generic NACK (RFC 4585 §6.2.1, PID+BLP entries) asking `mediaSsrc` for `lost`
/// into `out`; `lost` in sequence order as collect() gives it. Returns the bytes written, 0 when
/// `lost` is empty or `out` is too small.
size_t writeNackPacket(std::span<uint8_t> out, uint32_t senderSsrc, uint32_t mediaSsrc, std::span<const uint16_t> lost);

}  // namespace meeting::sfu
