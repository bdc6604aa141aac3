#pragma once
// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
// §3.1): RTPFB FMT 15. After the two SSRCs: base sequence, packet status count, 24-bit reference
// time (64 ms units), feedback packet count, then status chunks (run-length, 1-bit and 2-bit
// vectors), then one receive delta (250 µs units) per received packet: 1 byte unsigned for
// "small", 2 bytes signed for "large or negative".
#include <cstdint>
#include <optional>
#include <span>

#include "common/ByteReader.hpp"
#include "proto/rtcp/RtcpPacket.hpp"
#include "proto/rtp/Endian.hpp"

namespace meeting::proto::rtcp {

enum class TwccStatus : uint8_t { NotReceived = 0, SmallDelta = 1, LargeDelta = 2 };

/// One reported packet, as decoded.
struct TwccPacketResult {
  uint16_t sequence = 0;
  TwccStatus status = TwccStatus::NotReceived;
  int32_t deltaTicks = 0;     ///< 250 µs units; 0 when not received
  int64_t receiveTimeUs = 0;  ///< reference time + all deltas so far; 0 when not received
  bool received() const { return status != TwccStatus::NotReceived; }
};

/// Builder input: one received packet's transport-wide sequence number and arrival time.
struct TwccArrival {
  uint16_t sequence = 0;
  int64_t arrivalUs = 0;  ///< any monotonic microsecond clock (the receiver's)
};

class TransportFeedback {
 public:
  static constexpr int64_t DeltaTickUs = 250;
  static constexpr int64_t ReferenceTickUs = 64'000;
  static constexpr size_t FixedSize = FeedbackHeaderSize + 8;

  /// Nothing unless `packet` is RTPFB/15 with a non-zero status count, chunks covering exactly
  /// that count (no reserved symbols, no empty runs) and every receive delta present.
  static std::optional<TransportFeedback> parse(const RtcpPacketView& packet);

  /// Writes one feedback packet for `arrivals`, which must be in increasing sequence order
  /// (wrap-aware; the first one is the base). Stops before an arrival that is not after the
  /// previous one, whose delta does not fit 16 bits, or that would not fit in `w`. Returns how
  /// many arrivals it covered (0: nothing written); send the rest in another packet.
  static size_t build(ByteWriter& w, uint32_t senderSsrc, uint32_t mediaSsrc, uint8_t feedbackCount,
                      std::span<const TwccArrival> arrivals);

  uint32_t senderSsrc() const { return header_.senderSsrc; }
  uint32_t mediaSsrc() const { return header_.mediaSsrc; }
  uint16_t baseSequence() const { return baseSequence_; }
  uint16_t statusCount() const { return statusCount_; }
  /// Raw 24-bit reference time (64 ms units); it wraps, so consumers unwrap successive values.
  uint32_t referenceTime() const { return referenceTime_; }
  int64_t referenceTimeUs() const { return int64_t{referenceTime_} * ReferenceTickUs; }
  uint8_t feedbackCount() const { return feedbackCount_; }
  size_t receivedCount() const { return receivedCount_; }

  /// Calls `f(const TwccPacketResult&)` for each of the statusCount() packets in order.
  template <typename F>
  void forEachPacket(F&& f) const;
  /// Fills `out` with the first min(statusCount(), out.size()) packets; returns how many.
  size_t packets(std::span<TwccPacketResult> out) const;
  /// Re-serializes the parsed packet (chunks and deltas copied as they were).
  bool serialize(ByteWriter& w) const;

 private:
  // Expands one status chunk into at most `limit` statuses, calling `emit(TwccStatus)` for
  // each. Returns how many it expanded, 0 for an invalid chunk.
  template <typename Emit>
  static size_t expandChunk(uint16_t chunk, size_t limit, Emit&& emit);

  FeedbackHeader header_;
  uint16_t baseSequence_ = 0;
  uint16_t statusCount_ = 0;
  uint32_t referenceTime_ = 0;
  uint8_t feedbackCount_ = 0;
  uint32_t receivedCount_ = 0;
  std::span<const uint8_t> chunks_;
  std::span<const uint8_t> deltas_;
};

template <typename Emit>
size_t TransportFeedback::expandChunk(uint16_t chunk, size_t limit, Emit&& emit) {
  if ((chunk & 0x8000) == 0) {
    // Run-length chunk: T=0, S (2 bits), run length (13 bits).
    const auto status = static_cast<uint8_t>((chunk >> 13) & 0x3);
    const size_t run = chunk & 0x1FFF;
    if (status == 3 || run == 0) return 0;
    const size_t n = run < limit ? run : limit;
    for (size_t i = 0; i < n; ++i) emit(static_cast<TwccStatus>(status));
    return n;
  }
  if ((chunk & 0x4000) == 0) {
    // Status vector, 14 one-bit symbols: 0 not received, 1 small delta.
    const size_t n = limit < 14 ? limit : 14;
    for (size_t i = 0; i < n; ++i) {
      emit(((chunk >> (13 - i)) & 1) != 0 ? TwccStatus::SmallDelta : TwccStatus::NotReceived);
    }
    return n;
  }
  // Status vector, 7 two-bit symbols; 3 is reserved.
  const size_t n = limit < 7 ? limit : 7;
  for (size_t i = 0; i < n; ++i) {
    if (((chunk >> (2 * (6 - i))) & 0x3) == 3) return 0;
  }
  for (size_t i = 0; i < n; ++i) emit(static_cast<TwccStatus>((chunk >> (2 * (6 - i))) & 0x3));
  return n;
}

template <typename F>
void TransportFeedback::forEachPacket(F&& f) const {
  // parse() validated the chunks and the delta bytes; the bounds checks stay as a backstop.
  size_t remaining = statusCount_;
  size_t chunkPos = 0;
  size_t deltaPos = 0;
  int64_t time = referenceTimeUs();
  TwccPacketResult result;
  result.sequence = baseSequence_;
  while (remaining > 0 && chunkPos + 2 <= chunks_.size()) {
    const uint16_t chunk = rtp::loadBe16(chunks_.data() + chunkPos);
    chunkPos += 2;
    const size_t n = expandChunk(chunk, remaining, [&](TwccStatus status) {
      result.status = status;
      result.deltaTicks = 0;
      result.receiveTimeUs = 0;
      if (status == TwccStatus::SmallDelta && deltaPos + 1 <= deltas_.size()) {
        result.deltaTicks = deltas_[deltaPos];
        deltaPos += 1;
      } else if (status == TwccStatus::LargeDelta && deltaPos + 2 <= deltas_.size()) {
        result.deltaTicks = static_cast<int16_t>(rtp::loadBe16(deltas_.data() + deltaPos));
        deltaPos += 2;
      }
      if (status != TwccStatus::NotReceived) {
        time += result.deltaTicks * DeltaTickUs;
        result.receiveTimeUs = time;
      }
      f(static_cast<const TwccPacketResult&>(result));
      ++result.sequence;
    });
    if (n == 0) return;
    remaining -= n;
  }
}

}  // namespace meeting::proto::rtcp
