#include "sfu/TransportCcFeedback.hpp"

#include <algorithm>

#include "common/ByteReader.hpp"

namespace meeting::sfu {
namespace rtcp = proto::rtcp;

TransportCcFeedback::TransportCcFeedback(uint32_t senderSsrc, size_t maxPacketSize)
    : senderSsrc_(senderSsrc),
      maxPacketSize_(std::max<size_t>(maxPacketSize, 64)),
      buffer_(new uint8_t[std::max<size_t>(maxPacketSize, 64) + Headroom]) {
  arrivals_.fill(NotReceived);
}

void TransportCcFeedback::clearRange(int64_t from, int64_t to) {
  if (to - from >= static_cast<int64_t>(Capacity)) {
    arrivals_.fill(NotReceived);
    return;
  }
  for (int64_t s = from; s < to; ++s) slot(s) = NotReceived;
}

void TransportCcFeedback::onPacket(uint16_t sequence, uint32_t mediaSsrc, TimePoint now) {
  const int64_t arrival = now.time_since_epoch().count();
  mediaSsrc_ = mediaSsrc;
  if (!started_) {
    started_ = true;
    next_ = highest_ = sequence;
    slot(highest_) = arrival;
    ++pending_;
    ++stats_.packets;
    return;
  }
  // Unwrap against the highest so far: the 16-bit difference decides the direction.
  const auto diff = static_cast<int16_t>(static_cast<uint16_t>(sequence - static_cast<uint16_t>(highest_)));
  const int64_t s = highest_ + diff;
  constexpr auto capacity = static_cast<int64_t>(Capacity);
  if (s > highest_) {
    if (s - next_ >= capacity) {
      // The pending window would not fit the ring: keep what fits, newest first. A jump of a
      // whole ring (a sender restart, or a long outage) starts over at `s`.
      ++stats_.resets;
      clearRange(highest_ + 1, s);
      next_ = s - highest_ >= capacity ? s : s - capacity + 1;
    } else {
      clearRange(highest_ + 1, s);
    }
    highest_ = s;
    slot(s) = arrival;
    ++pending_;
    ++stats_.packets;
    return;
  }
  if (highest_ - s >= capacity) {  // its slot was reused for a newer packet
    ++stats_.tooOld;
    return;
  }
  int64_t& entry = slot(s);
  if (entry != NotReceived) {
    ++stats_.duplicates;
    return;
  }
  entry = arrival;
  ++pending_;
  ++stats_.packets;
  if (s < next_) {  // already reported (as not received): report again from here
    next_ = s;
    ++stats_.lateRecovered;
  }
}

bool TransportCcFeedback::due(TimePoint now) const {
  if (pending_ == 0) return false;
  const auto since = now - lastFeedback_;
  return since >= Interval || (pending_ >= EarlyPackets && since >= MinInterval);
}

size_t TransportCcFeedback::flush(TimePoint now, const std::function<void(std::span<uint8_t>, size_t)>& send) {
  lastFeedback_ = now;
  pending_ = 0;
  if (!started_ || next_ > highest_) return 0;
  size_t count = 0;
  for (int64_t s = next_; s <= highest_; ++s) {
    const int64_t arrival = slot(s);
    if (arrival != NotReceived) staging_[count++] = {static_cast<uint16_t>(s), arrival};
  }
  next_ = highest_ + 1;
  size_t packets = 0;
  size_t done = 0;
  const std::span<uint8_t> buffer(buffer_.get(), maxPacketSize_ + Headroom);
  while (done < count) {
    ByteWriter writer(buffer.first(maxPacketSize_));
    const size_t used = rtcp::TransportFeedback::build(writer, senderSsrc_, mediaSsrc_, feedbackCount_,
                                                       std::span(staging_).subspan(done, count - done));
    if (used == 0) {  // cannot happen with a sane size; skip rather than loop forever
      ++done;
      continue;
    }
    // draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1: the count increments per packet
    // so the sender can tell a lost feedback packet from a late one.
    ++feedbackCount_;
    ++packets;
    ++stats_.feedbackPackets;
    done += used;
    send(buffer, writer.size());
  }
  return packets;
}

}  // namespace meeting::sfu
