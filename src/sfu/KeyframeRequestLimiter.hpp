#pragma once
// Merges keyframe requests for one published track (design.md §2): however many subscribers send
// PLI/FIR, the publisher is asked at most once per interval, because every keyframe costs it a
// burst of bits and each subscriber's request would otherwise cost one. A forced request (a
// subscriber just started and cannot decode anything without one) always passes.
#include "common/Clock.hpp"

namespace meeting::sfu {

class KeyframeRequestLimiter {
 public:
  explicit KeyframeRequestLimiter(Duration interval) : interval_(interval) {}

  /// True when a request is to be sent now; records it.
  bool allow(TimePoint now, bool force) {
    if (!force && sent_ && now - last_ < interval_) {
      ++merged_;
      return false;
    }
    sent_ = true;
    last_ = now;
    return true;
  }

  /// Requests that were folded into an earlier one.
  uint64_t merged() const { return merged_; }

 private:
  Duration interval_;
  TimePoint last_{};
  bool sent_ = false;
  uint64_t merged_ = 0;
};

}  // namespace meeting::sfu
