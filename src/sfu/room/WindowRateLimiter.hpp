#pragma once
// At most Max events in any Window (a sliding window over the last Max event times): the rate
// limit of chat-like messages a participant sends (reactions: 5 per second). Fixed size, no
// allocation; time is passed in.
#include <array>
#include <cstddef>

#include "common/Clock.hpp"

namespace meeting::sfu {

template <size_t Max>
class WindowRateLimiter {
 public:
  explicit WindowRateLimiter(Duration window) : window_(window) {}

  /// True (and counted) when one more event at `now` stays within Max per window.
  bool allow(TimePoint now) {
    // times_[next_] is the oldest of the last Max accepted events.
    if (count_ == Max && now - times_[next_] < window_) return false;
    times_[next_] = now;
    next_ = (next_ + 1) % Max;
    if (count_ < Max) ++count_;
    return true;
  }

 private:
  Duration window_;
  std::array<TimePoint, Max> times_{};
  size_t next_ = 0;
  size_t count_ = 0;
};

}  // namespace meeting::sfu
