#include "proto/rtcp/TransportFeedback.hpp"

namespace meeting::proto::rtcp {

using rtp::loadBe16;
using rtp::loadBe24;

std::optional<TransportFeedback> TransportFeedback::parse(const RtcpPacketView& packet) {
  if (!packet.is(PacketType::RtpFeedback, rtpfb::TransportFeedback)) return std::nullopt;
  TransportFeedback fb;
  std::span<const uint8_t> fci;
  if (!parseFeedbackHeader(packet, fb.header_, fci) || fci.size() < 8) return std::nullopt;
  fb.baseSequence_ = loadBe16(fci.data());
  fb.statusCount_ = loadBe16(fci.data() + 2);
  fb.referenceTime_ = loadBe24(fci.data() + 4);
  fb.feedbackCount_ = fci[7];
  if (fb.statusCount_ == 0) return std::nullopt;

  // Walk the chunks until they cover the status count; the 16-bit count bounds the work, and
  // every chunk must be inside the packet, so a huge count with few chunks is rejected here.
  size_t pos = 8;
  size_t remaining = fb.statusCount_;
  size_t deltaBytes = 0;
  uint32_t received = 0;
  while (remaining > 0) {
    if (pos + 2 > fci.size()) return std::nullopt;
    const size_t n = expandChunk(loadBe16(fci.data() + pos), remaining, [&](TwccStatus s) {
      deltaBytes += static_cast<size_t>(s);  // NotReceived 0, Small 1, Large 2 bytes
      received += s != TwccStatus::NotReceived ? 1 : 0;
    });
    if (n == 0) return std::nullopt;
    remaining -= n;
    pos += 2;
  }
  if (pos + deltaBytes > fci.size()) return std::nullopt;
  // After the deltas only zero padding up to a 32-bit boundary may follow.
  if (fci.size() - (pos + deltaBytes) > 3) return std::nullopt;
  fb.chunks_ = fci.subspan(8, pos - 8);
  fb.deltas_ = fci.subspan(pos, deltaBytes);
  fb.receivedCount_ = received;
  return fb;
}

size_t TransportFeedback::packets(std::span<TwccPacketResult> out) const {
  size_t n = 0;
  forEachPacket([&](const TwccPacketResult& r) {
    if (n < out.size()) out[n++] = r;
  });
  return n;
}

bool TransportFeedback::serialize(ByteWriter& w) const {
  if (w.remaining() < ((FixedSize + chunks_.size() + deltas_.size() + 3) & ~size_t{3})) return false;
  size_t start = 0;
  return beginPacket(w, rtpfb::TransportFeedback, PacketType::RtpFeedback, start) &&
         w.writeU32(header_.senderSsrc) && w.writeU32(header_.mediaSsrc) && w.writeU16(baseSequence_) &&
         w.writeU16(statusCount_) && w.writeU24(referenceTime_) && w.writeU8(feedbackCount_) &&
         w.writeBytes(chunks_) && w.writeBytes(deltas_) && endPacket(w, start);
}

namespace {

constexpr size_t MaxRun = 0x1FFF;

/// Packs statuses into chunks greedily: a vector chunk that is not the last must be full
/// (7 two-bit or 14 one-bit symbols), a run-length chunk can end anywhere.
class ChunkEncoder {
 public:
  /// Adds a status; returns true and sets `chunk` when a chunk was completed.
  bool add(TwccStatus s, uint16_t& chunk) {
    bool emitted = false;
    if (!canAdd(s)) {
      chunk = emit();
      emitted = true;
    }
    push(s);
    return emitted;
  }
  bool pending() const { return size_ > 0; }
  /// Encodes what is pending as the final chunk; false when nothing is pending.
  bool finish(uint16_t& chunk) {
    if (size_ == 0) return false;
    if (allSame_) {
      chunk = runChunk(st_[0], size_);
    } else if (size_ <= 7) {
      chunk = twoBitChunk(size_);
    } else {
      chunk = oneBitChunk(size_);
    }
    size_ = 0;
    return true;
  }

 private:
  bool canAdd(TwccStatus s) const {
    if (size_ < 7) return true;
    if (size_ < 14 && !hasLarge_ && s != TwccStatus::LargeDelta) return true;
    return size_ < MaxRun && allSame_ && st_[0] == s;
  }
  void push(TwccStatus s) {
    if (size_ < 14) st_[size_] = s;
    allSame_ = size_ == 0 || (allSame_ && st_[0] == s);
    hasLarge_ = (size_ == 0 ? false : hasLarge_) || s == TwccStatus::LargeDelta;
    ++size_;
  }
  uint16_t emit() {
    if (allSame_) {
      const uint16_t c = runChunk(st_[0], size_);
      size_ = 0;
      return c;
    }
    if (size_ == 14) {  // no large delta here, or canAdd would have refused the 8th
      const uint16_t c = oneBitChunk(14);
      size_ = 0;
      return c;
    }
    const uint16_t c = twoBitChunk(7);
    const size_t left = size_ - 7;
    size_ = 0;
    TwccStatus rest[7];
    for (size_t i = 0; i < left; ++i) rest[i] = st_[7 + i];
    for (size_t i = 0; i < left; ++i) push(rest[i]);
    return c;
  }
  static uint16_t runChunk(TwccStatus s, size_t n) {
    return static_cast<uint16_t>(static_cast<unsigned>(s) << 13 | n);
  }
  uint16_t oneBitChunk(size_t n) const {
    unsigned c = 0x8000;
    for (size_t i = 0; i < n; ++i) {
      if (st_[i] != TwccStatus::NotReceived) c |= 1u << (13 - i);
    }
    return static_cast<uint16_t>(c);
  }
  uint16_t twoBitChunk(size_t n) const {
    unsigned c = 0xC000;
    for (size_t i = 0; i < n; ++i) c |= static_cast<unsigned>(st_[i]) << (2 * (6 - i));
    return static_cast<uint16_t>(c);
  }

  TwccStatus st_[14]{};
  size_t size_ = 0;
  bool allSame_ = true;
  bool hasLarge_ = false;
};

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

// The status of each accepted arrival and the not-received gaps before it, in wire order.
template <typename F>
void forEachStatus(std::span<const TwccArrival> arrivals, int64_t baseTicks, F&& f) {
  int64_t lastTicks = baseTicks;
  const uint16_t base = arrivals[0].sequence;
  size_t next = 0;  // offset of the next expected sequence
  for (const auto& a : arrivals) {
    const size_t offset = static_cast<uint16_t>(a.sequence - base);
    for (; next < offset; ++next) f(TwccStatus::NotReceived, 0);
    const int64_t ticks = floorDiv(a.arrivalUs, TransportFeedback::DeltaTickUs);
    const int64_t delta = ticks - lastTicks;
    lastTicks = ticks;
    f(delta >= 0 && delta <= 255 ? TwccStatus::SmallDelta : TwccStatus::LargeDelta, delta);
    next = offset + 1;
  }
}

}  // namespace

size_t TransportFeedback::build(ByteWriter& w, uint32_t senderSsrc, uint32_t mediaSsrc, uint8_t feedbackCount,
                                std::span<const TwccArrival> arrivals) {
  if (arrivals.empty()) return 0;
  const int64_t reference = floorDiv(arrivals[0].arrivalUs, ReferenceTickUs);
  const int64_t baseTicks = reference * (ReferenceTickUs / DeltaTickUs);
  const uint16_t base = arrivals[0].sequence;
  const size_t budget = w.remaining() < size_t{0x40000} ? w.remaining() : size_t{0x40000};

  // Pass 1: how many arrivals fit (ordering, 16-bit deltas, exact encoded size vs. budget).
  ChunkEncoder enc;
  size_t chunks = 0, deltaBytes = 0, accepted = 0, lastOffset = 0;
  int64_t lastTicks = baseTicks;
  for (const auto& a : arrivals) {
    const size_t offset = static_cast<uint16_t>(a.sequence - base);
    if (accepted > 0 && (offset <= lastOffset || offset >= 0x8000)) break;
    const int64_t ticks = floorDiv(a.arrivalUs, DeltaTickUs);
    const int64_t delta = ticks - lastTicks;
    if (delta < INT16_MIN || delta > INT16_MAX) break;
    const bool small = delta >= 0 && delta <= 255;
    ChunkEncoder trial = enc;
    size_t trialChunks = chunks;
    uint16_t chunk = 0;
    for (size_t gap = accepted == 0 ? 0 : lastOffset + 1; gap < offset; ++gap) {
      trialChunks += trial.add(TwccStatus::NotReceived, chunk) ? 1 : 0;
    }
    trialChunks += trial.add(small ? TwccStatus::SmallDelta : TwccStatus::LargeDelta, chunk) ? 1 : 0;
    const size_t trialDeltas = deltaBytes + (small ? 1 : 2);
    const size_t size = FixedSize + 2 * (trialChunks + (trial.pending() ? 1 : 0)) + trialDeltas;
    if (((size + 3) & ~size_t{3}) > budget) break;
    enc = trial;
    chunks = trialChunks;
    deltaBytes = trialDeltas;
    lastTicks = ticks;
    lastOffset = offset;
    ++accepted;
  }
  if (accepted == 0) return 0;
  const auto used = arrivals.first(accepted);

  // Pass 2: write header, chunks, then deltas.
  size_t start = 0;
  bool ok = beginPacket(w, rtpfb::TransportFeedback, PacketType::RtpFeedback, start) && w.writeU32(senderSsrc) &&
            w.writeU32(mediaSsrc) && w.writeU16(base) && w.writeU16(static_cast<uint16_t>(lastOffset + 1)) &&
            w.writeU24(static_cast<uint32_t>(reference) & 0xFFFFFF) && w.writeU8(feedbackCount);
  ChunkEncoder writer;
  forEachStatus(used, baseTicks, [&](TwccStatus s, int64_t) {
    uint16_t chunk = 0;
    if (writer.add(s, chunk)) ok = ok && w.writeU16(chunk);
  });
  uint16_t last = 0;
  if (writer.finish(last)) ok = ok && w.writeU16(last);
  forEachStatus(used, baseTicks, [&](TwccStatus s, int64_t delta) {
    if (s == TwccStatus::SmallDelta) ok = ok && w.writeU8(static_cast<uint8_t>(delta));
    if (s == TwccStatus::LargeDelta) ok = ok && w.writeU16(static_cast<uint16_t>(static_cast<int16_t>(delta)));
  });
  return ok && endPacket(w, start) ? accepted : 0;
}

}  // namespace meeting::proto::rtcp
