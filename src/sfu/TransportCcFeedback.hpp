#pragma once
// Receive side of transport-wide congestion control
// (draft-holmer-rmcat-transport-wide-cc-extensions-01): remembers when each RTP packet carrying
// a transport-wide sequence number arrived on a transport, and periodically turns that into
// RTPFB/15 feedback (proto::rtcp::TransportFeedback) for the sender's bandwidth estimator.
//
// Timing. libwebrtc's receiver (RemoteEstimatorProxy) sends periodic feedback every 100 ms by
// default, clamped to 50..250 ms so that feedback costs about 5% of the media bitrate. We keep
// the 100 ms default and send early, but not before 50 ms, once many packets are pending (a
// fast sender then gets feedback sooner, as libwebrtc's 50 ms floor does at high rates); the
// caller polls due() from a 50 ms timer.
//
// Storage. A fixed ring of arrival times indexed by the unwrapped sequence number: no
// allocation per packet. The window [next, highest] is what the next feedback covers.
// Reordered packets fill their slot; a packet that arrives after the feedback that reported it
// lost rewinds the window so the next feedback reports it received (libwebrtc does the same
// within its back window); duplicates are ignored; a gap larger than the ring drops what is
// pending and starts over (the sender treats unreported packets as unknown, not lost).
//
// Known limit: TransportFeedback::build() takes the first received packet as the base
// sequence, so packets lost right after the end of one feedback and before the next received
// one are never reported as "not received" (losses inside a feedback are).
//
// Threading: owned by one WebRtcTransport on its loop.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "common/Clock.hpp"
#include "proto/rtcp/TransportFeedback.hpp"

namespace meeting::sfu {

class TransportCcFeedback {
 public:
  /// Slots in the arrival ring (a power of two): ~1 s at 1,000 packets/s.
  static constexpr size_t Capacity = 1024;
  /// Regular feedback period, and the earliest an early feedback may follow the previous one.
  static constexpr Duration Interval = std::chrono::milliseconds(100);
  static constexpr Duration MinInterval = std::chrono::milliseconds(50);
  /// Pending packets that allow feedback after MinInterval instead of Interval.
  static constexpr size_t EarlyPackets = 64;
  /// Largest feedback packet we write (before SRTCP), below any path MTU.
  static constexpr size_t DefaultMaxPacketSize = 1200;
  /// Spare bytes after each written packet for the SRTCP tag and index.
  static constexpr size_t Headroom = 32;

  struct Stats {
    uint64_t packets = 0;         ///< packets recorded (first arrival of a sequence number)
    uint64_t duplicates = 0;      ///< same sequence number again: ignored
    uint64_t tooOld = 0;          ///< older than the ring holds: ignored
    uint64_t lateRecovered = 0;   ///< arrived after being reported lost: reported again
    uint64_t resets = 0;          ///< jumps larger than the ring: pending window dropped
    uint64_t feedbackPackets = 0;
  };

  /// `senderSsrc` goes in every feedback packet (RFC 4585 §6.1); `maxPacketSize` bounds each.
  explicit TransportCcFeedback(uint32_t senderSsrc, size_t maxPacketSize = DefaultMaxPacketSize);

  /// One received RTP packet's transport-wide sequence number, its SSRC and arrival time.
  void onPacket(uint16_t sequence, uint32_t mediaSsrc, TimePoint now);

  /// True when feedback should be sent now (something pending and the interval has passed).
  bool due(TimePoint now) const;

  /// Writes feedback for everything pending, several packets when one does not fit, calling
  /// `send(buffer, length)` for each: the packet is buffer[0, length) and buffer has at least
  /// Headroom spare bytes after it (for sendRtcp). Returns how many packets were written.
  size_t flush(TimePoint now, const std::function<void(std::span<uint8_t>, size_t)>& send);

  /// Packets recorded since the last flush.
  size_t pending() const { return pending_; }
  const Stats& stats() const { return stats_; }

 private:
  static constexpr int64_t NotReceived = INT64_MIN;
  static constexpr int64_t Mask = static_cast<int64_t>(Capacity) - 1;
  int64_t& slot(int64_t unwrapped) { return arrivals_[static_cast<size_t>(unwrapped & Mask)]; }
  void clearRange(int64_t from, int64_t to);  // [from, to)

  uint32_t senderSsrc_;
  size_t maxPacketSize_;
  uint32_t mediaSsrc_ = 0;
  bool started_ = false;
  int64_t next_ = 0;     // first unwrapped sequence the next feedback covers
  int64_t highest_ = 0;  // highest unwrapped sequence recorded
  size_t pending_ = 0;
  uint8_t feedbackCount_ = 0;
  TimePoint lastFeedback_{};
  Stats stats_;
  std::array<int64_t, Capacity> arrivals_;
  std::array<proto::rtcp::TwccArrival, Capacity> staging_{};
  std::unique_ptr<uint8_t[]> buffer_;
};

}  // namespace meeting::sfu
