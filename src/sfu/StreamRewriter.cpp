#include "sfu/StreamRewriter.hpp"

#include <algorithm>

namespace meeting::sfu {

namespace {

// Extended sequence numbers of a segment start here: a multiple of 2^16, so the low 16 bits are
// the wire value, and far enough from zero that reordering before the first packet stays positive.
constexpr int64_t ExtendedBase = int64_t{1} << 32;

}  // namespace

StreamRewriter::StreamRewriter(uint32_t clockRate) : clockRate_(clockRate == 0 ? 90000 : clockRate) {}

void StreamRewriter::resume() {
  if (!paused_) return;
  paused_ = false;
  resync_ = true;
}

int64_t StreamRewriter::extend(const Source& s, uint16_t sequence) {
  // RFC 3550 A.1: the signed 16-bit distance to the highest sequence number decides whether the
  // packet is ahead (possibly across a wrap) or behind (reordered, late).
  const auto delta = static_cast<int16_t>(static_cast<uint16_t>(sequence - static_cast<uint16_t>(s.maxExt)));
  return s.maxExt + delta;
}

bool StreamRewriter::isLateFromPrevious(uint32_t ssrc, uint16_t sequence, TimePoint arrival) const {
  if (!havePrevious_ || ssrc != previous_.ssrc) return false;
  if (arrival - switchedAt_ >= PreviousSourceMemory) return false;
  return extend(previous_, sequence) <= previous_.maxExt;
}

void StreamRewriter::startSegment(uint32_t ssrc, uint16_t sequence, uint32_t timestamp, TimePoint arrival) {
  const int64_t ext = ExtendedBase + sequence;
  if (!started_) {
    // The first packet ever goes out as it came: nothing to be continuous with yet.
    seqOffset_ = 0;
    tsOffset_ = 0;
  } else {
    seqOffset_ = lastOutSeq_ + 1 - ext;
    // RFC 3550 §5.1: the timestamp advances with the sampling clock, so let it advance by the
    // time that really passed since the last packet sent (at least one tick, so two frames never
    // share a timestamp across the switch).
    const auto elapsed = std::max<int64_t>(0, (arrival - lastOutArrival_).count());
    const auto ticks = std::max<int64_t>(1, elapsed * clockRate_ / 1'000'000);
    const uint32_t target = lastOutTs_ + static_cast<uint32_t>(ticks);
    tsOffset_ = target - timestamp;
    previous_ = source_;
    havePrevious_ = true;
    switchedAt_ = arrival;
    ++counters_.sourceChanges;
  }
  source_ = Source{ssrc, ext, ext};
  started_ = true;
  resync_ = false;
  probationCount_ = 0;
}

StreamRewriter::Rewritten StreamRewriter::emit(int64_t ext, uint32_t timestamp, TimePoint arrival) {
  const int64_t outExt = ext + seqOffset_;
  const uint32_t outTs = timestamp + tsOffset_;
  if (outExt > lastOutSeq_) {
    lastOutSeq_ = outExt;
    lastOutTs_ = outTs;
    lastOutArrival_ = arrival;
  }
  ++counters_.forwarded;
  return Rewritten{static_cast<uint16_t>(outExt), outTs};
}

std::optional<StreamRewriter::Rewritten> StreamRewriter::rewrite(uint32_t sourceSsrc, uint16_t sequence,
                                                                 uint32_t timestamp, TimePoint arrival) {
  if (paused_) {
    ++counters_.droppedPaused;
    return std::nullopt;
  }
  if (!started_ || resync_ || sourceSsrc != source_.ssrc) {
    if (started_ && sourceSsrc != source_.ssrc && isLateFromPrevious(sourceSsrc, sequence, arrival)) {
      // A straggler of the source we switched away from: its slot in the output is gone.
      ++counters_.droppedOld;
      return std::nullopt;
    }
    startSegment(sourceSsrc, sequence, timestamp, arrival);
    return emit(source_.firstExt, timestamp, arrival);
  }

  const int64_t ext = extend(source_, sequence);
  if (ext < source_.firstExt) {
    // Older than where this segment began: its output number would collide with one already
    // used. Unless it is the second of two consecutive such packets, which means the sender
    // restarted its numbering without a new SSRC (RFC 3550 A.1 probation).
    if (probationCount_ > 0 && sequence == probationNext_) {
      ++probationCount_;
    } else {
      probationCount_ = 1;
    }
    probationNext_ = static_cast<uint16_t>(sequence + 1);
    if (probationCount_ >= RestartProbation) {
      startSegment(sourceSsrc, sequence, timestamp, arrival);
      return emit(source_.firstExt, timestamp, arrival);
    }
    ++counters_.droppedOld;
    return std::nullopt;
  }
  probationCount_ = 0;
  source_.maxExt = std::max(source_.maxExt, ext);
  return emit(ext, timestamp, arrival);
}

}  // namespace meeting::sfu
