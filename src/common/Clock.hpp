#pragma once
// Time as a dependency: algorithms take `now` as a parameter and objects that need the time get
// a Clock, so tests drive time by hand with ManualClock instead of sleeping.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace meeting {

using Duration = std::chrono::microseconds;
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

class Clock {
 public:
  virtual ~Clock() = default;
  /// Monotonic time, for timeouts and rates.
  virtual TimePoint now() const = 0;
  /// Wall-clock time in microseconds since the Unix epoch, for timestamps people read.
  virtual int64_t wallMicros() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
  }
  int64_t wallMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

/// A clock that moves only when told to; thread-safe reads.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{Duration{1'000'000}}, int64_t wallStart = 1'700'000'000'000'000)
      : now_(start.time_since_epoch().count()), wallOffset_(wallStart - now_.load()) {}
  TimePoint now() const override { return TimePoint{Duration{now_.load()}}; }
  int64_t wallMicros() const override { return now_.load() + wallOffset_; }
  void advance(Duration d) { now_ += d.count(); }

 private:
  std::atomic<int64_t> now_;
  int64_t wallOffset_;
};

}  // namespace meeting
