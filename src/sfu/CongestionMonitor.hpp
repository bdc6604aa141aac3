#pragma once
// Send side of transport-wide congestion control, reading only: numbers every RTP packet a
// transport sends with its own transport-wide sequence number, remembers when and how big
// each was (a fixed ring, no allocation per packet), and reads what the receiver says back:
// transport-wide feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) and REMB
// (draft-alvestrand-rmcat-remb-03). The result is a CongestionStats snapshot; the bandwidth
// estimator that acts on it (GCC-like, design.md §2) is a later step.
//
// Threading: owned by one WebRtcTransport on its loop.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/Clock.hpp"
#include "proto/rtcp/Remb.hpp"
#include "proto/rtcp/TransportFeedback.hpp"

namespace meeting::sfu {

/// What a subscriber's feedback says about the path towards it (all zero until it says).
struct CongestionStats {
  /// Latest REMB from the receiver (draft-alvestrand-rmcat-remb-03), bits per second.
  uint64_t rembBitrateBps = 0;
  TimePoint rembAt{};
  uint64_t rembPackets = 0;
  /// Transport-wide feedback packets read, and packets they reported (each sequence counted
  /// once: a packet first reported lost and later received moves from lost to received).
  uint64_t feedbackPackets = 0;
  uint64_t packetsReportedReceived = 0;
  uint64_t packetsReportedLost = 0;
  /// Reported sequence numbers we have no send record of (too old for the ring, or never sent).
  uint64_t unknownReported = 0;
  /// Lost / (received + lost) over the feedback of the last second, 0..1.
  double lossFraction = 0;
  /// Bytes of packets reported received during the last second, divided by the time between
  /// the first and last feedback in that second (0 until two feedback packets arrived).
  uint64_t ackedBitrateBps = 0;
  /// Feedback round trip: the smallest "feedback arrival - send time of the newest packet it
  /// reports" over the last second. It includes the receiver's feedback delay (up to its
  /// 50-250 ms interval), so it is an upper bound of the RTT; libwebrtc's send side uses the
  /// same quantity. -1 while unknown.
  int64_t feedbackRttUs = -1;
  /// Packets sent with a transport-wide sequence number.
  uint64_t packetsSent = 0;
};

class CongestionMonitor {
 public:
  /// Send records kept (a power of two): ~2 s at 1,000 packets/s.
  static constexpr size_t Capacity = 2048;
  /// The window for lossFraction, ackedBitrateBps and feedbackRttUs.
  static constexpr Duration Window = std::chrono::seconds(1);

  /// The sequence number the next onSend() takes.
  uint16_t nextSequence() const { return nextSequence_; }
  /// Takes the next transport-wide sequence number for a packet of `bytes` (RTP before SRTP)
  /// sent at `now`.
  uint16_t onSend(size_t bytes, TimePoint now);

  /// A transport-wide feedback packet from the receiver, read at `now`.
  void onTransportFeedback(const proto::rtcp::TransportFeedback& feedback, TimePoint now);
  /// A REMB from the receiver.
  void onRemb(const proto::rtcp::Remb& remb, TimePoint now);

  /// Reads every TWCC feedback and REMB in a compound RTCP packet (nothing else is touched).
  void onRtcp(std::span<const uint8_t> compound, TimePoint now);

  /// The counters, with the windowed values (loss, acked bitrate, RTT) computed for `now`.
  CongestionStats stats(TimePoint now) const;

 private:
  struct Sent {
    int64_t sendTimeUs = 0;
    uint32_t bytes = 0;
    uint16_t sequence = 0;
    bool valid = false;
    uint8_t reported = 0;  // 0 never, 1 lost, 2 received
  };
  struct Sample {  // one feedback packet's contribution to the windowed values
    TimePoint at{};
    uint32_t received = 0;
    int32_t lost = 0;  // may be negative: a correction for a packet an older sample counted lost
    uint64_t ackedBytes = 0;
    int64_t rttUs = -1;
  };
  static constexpr size_t MaxSamples = 64;  // 1 s of feedback at 16 ms intervals

  void computeWindow(TimePoint now, CongestionStats& out) const;

  uint16_t nextSequence_ = 1;
  std::array<Sent, Capacity> sent_{};
  std::array<Sample, MaxSamples> samples_{};
  size_t sampleHead_ = 0;  // next slot to write
  size_t sampleCount_ = 0;
  CongestionStats stats_;
};

/// Puts `sequence` into the transport-wide-cc element with local id `id` of the RTP packet in
/// buffer[0, length): in place when the element is there (2 bytes or more), otherwise by adding
/// the element (RFC 8285 §4.2 one-byte form for ids 1..14, §4.3 two-byte form otherwise, or when
/// the packet already uses it), moving the payload up by at most 8 bytes within `buffer`, which
/// must keep `reserve` spare bytes after the packet for SRTP. Returns the new length, or 0 when
/// the packet is not valid RTP, the id is 0, another element sits on `id` with a different size,
/// or the room is short.
size_t writeTransportSequence(std::span<uint8_t> buffer, size_t length, uint8_t id, uint16_t sequence,
                              size_t reserve);

}  // namespace meeting::sfu
