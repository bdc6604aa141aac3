#include "sfu/NackGenerator.hpp"

#include <algorithm>

#include "common/ByteReader.hpp"
#include "proto/rtcp/Nack.hpp"

namespace meeting::sfu {

namespace {

// Extended sequence numbers start here (a multiple of 2^16) so that going back from the first
// packet stays positive.
constexpr int64_t ExtendedBase = int64_t{1} << 32;

int16_t distance(uint16_t sequence, int64_t highestExt) {
  // RFC 3550 A.1: the signed 16-bit difference says ahead (across a wrap too) or behind.
  return static_cast<int16_t>(static_cast<uint16_t>(sequence - static_cast<uint16_t>(highestExt)));
}

}  // namespace

void NackGenerator::onPacket(uint16_t sequence, TimePoint now) {
  if (!started_) {
    started_ = true;
    highest_ = ExtendedBase + sequence;
    return;
  }
  const int16_t delta = distance(sequence, highest_);
  if (delta > 0) {
    stray_ = false;
    const auto missing = static_cast<size_t>(delta - 1);
    if (delta > MaxJump || live_ + missing > Capacity) {
      // More lost than NACK can repair in time: a keyframe is the cheaper way back.
      reset(highest_ + delta);
      return;
    }
    if (missing > 0) addMissing(highest_ + 1, highest_ + delta - 1, now);
    highest_ += delta;
    return;
  }
  if (delta == 0) return;  // duplicate of the highest

  const int64_t ext = highest_ + delta;
  const size_t i = lowerBound(ext);
  if (i < used_ && at(i).ext == ext && at(i).live) {
    Entry& e = at(i);
    if (e.tries > 0) ++counters_.recovered;
    remove(e, false);
    popDead();
    return;
  }
  if (-static_cast<int>(delta) <= MaxJump) return;  // reordered, duplicate, or already given up
  // Far behind and not one we wait for: a stray, or the sender restarted its numbering. Two
  // consecutive ones decide (RFC 3550 A.1 probation).
  if (stray_ && sequence == strayNext_) {
    reset(ext);
    return;
  }
  stray_ = true;
  strayNext_ = static_cast<uint16_t>(sequence + 1);
}

void NackGenerator::onKeyframe(uint16_t firstSequence) {
  if (!started_) return;
  const int64_t ext = highest_ + distance(firstSequence, highest_);
  for (size_t i = 0; i < used_ && at(i).ext < ext; ++i) {
    if (at(i).live) remove(at(i), true);
  }
  popDead();
}

size_t NackGenerator::collect(TimePoint now, std::chrono::milliseconds rtt, std::span<uint16_t> out) {
  const Duration interval = std::max<Duration>(rtt, MinRetryInterval);
  size_t n = 0;
  for (size_t i = 0; i < used_; ++i) {
    Entry& e = at(i);
    if (!e.live) continue;
    if (now - e.detected >= MaxAge) {
      remove(e, true);
      continue;
    }
    if (e.tries >= MaxTries) {
      // The last request had its chance to be answered.
      if (now - e.lastSent >= interval) remove(e, true);
      continue;
    }
    const bool due = e.tries == 0 ? now - e.detected >= ReorderWait : now - e.lastSent >= interval;
    if (!due || n == out.size()) continue;
    out[n++] = static_cast<uint16_t>(e.ext);
    ++e.tries;
    e.lastSent = now;
    ++counters_.requested;
  }
  popDead();
  return n;
}

bool NackGenerator::consumeKeyframeNeeded() {
  const bool needed = keyframeNeeded_;
  keyframeNeeded_ = false;
  return needed;
}

size_t NackGenerator::lowerBound(int64_t ext) const {
  size_t lo = 0, hi = used_;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (at(mid).ext < ext) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

void NackGenerator::addMissing(int64_t fromExt, int64_t toExt, TimePoint now) {
  // Callers checked live_ + count <= Capacity, so after compacting there is always room.
  for (int64_t ext = fromExt; ext <= toExt; ++ext) {
    if (used_ == Capacity) compact();
    at(used_) = Entry{ext, now, TimePoint{}, 0, true};
    ++used_;
    ++live_;
  }
}

void NackGenerator::remove(Entry& e, bool gaveUp) {
  e.live = false;
  --live_;
  if (gaveUp) ++counters_.givenUp;
}

void NackGenerator::compact() {
  size_t kept = 0;
  for (size_t i = 0; i < used_; ++i) {
    if (at(i).live) at(kept++) = at(i);
  }
  used_ = kept;
}

void NackGenerator::popDead() {
  while (used_ > 0 && !at(0).live) {
    head_ = (head_ + 1) % Capacity;
    --used_;
  }
  if (used_ == 0) head_ = 0;
}

void NackGenerator::reset(int64_t highestExt) {
  counters_.givenUp += live_;
  ++counters_.resets;
  head_ = used_ = live_ = 0;
  highest_ = highestExt;
  stray_ = false;
  keyframeNeeded_ = true;
}

size_t writeNackPacket(std::span<uint8_t> out, uint32_t senderSsrc, uint32_t mediaSsrc,
                       std::span<const uint16_t> lost) {
  ByteWriter w(out);
  if (!proto::rtcp::Nack::build(w, senderSsrc, mediaSsrc, lost)) return 0;
  return w.size();
}

}  // namespace meeting::sfu
