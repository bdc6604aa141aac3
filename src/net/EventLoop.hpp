#pragma once
// One single-threaded event loop (Boost.Asio io_context underneath). Every media worker and the
// HTTP control thread own one. Objects that belong to a loop are touched only from its thread;
// other threads hand work over with post(). Timers run on the loop's injected Clock, so tests
// with a ManualClock fire them by advancing time and calling runDueTimers().
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "common/Clock.hpp"

namespace meeting::net {

using TimerId = uint64_t;

class EventLoop {
 public:
  explicit EventLoop(std::string name, Clock& clock = SystemClock::instance());
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop();

  /// Runs the loop in the calling thread until stop(); that thread becomes the loop thread.
  void run();
  /// Thread-safe: makes run() return after the handler now running.
  void stop();
  /// Thread-safe: runs `fn` on the loop thread, in order of posting.
  void post(std::function<void()> fn);
  /// True when called from the thread inside run() (or before run(), from the creating thread).
  bool isInLoopThread() const;

  /// Loop thread only: calls `fn` once after `delay` of this loop's clock. Returns an id for cancel.
  TimerId runAfter(Duration delay, std::function<void()> fn);
  /// Loop thread only: calls `fn` every `period` until cancelled.
  TimerId runEvery(Duration period, std::function<void()> fn);
  /// Loop thread only: a cancelled timer never fires; unknown ids are ignored.
  void cancel(TimerId id);
  /// Runs the timers whose time has come (called by the loop itself; tests call it after advancing
  /// a ManualClock). Returns how many fired.
  size_t runDueTimers();
  size_t pendingTimers() const { return timers_.size(); }

  Clock& clock() const { return clock_; }
  const std::string& name() const { return name_; }
  boost::asio::io_context& context() { return context_; }

 private:
  struct Timer {
    TimePoint due;
    Duration period{0};
    std::function<void()> fn;
  };
  void armWakeup();

  std::string name_;
  Clock& clock_;
  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::steady_timer wakeup_;
  std::atomic<std::thread::id> threadId_;
  std::map<TimerId, Timer> timers_;
  std::multimap<TimePoint, TimerId> schedule_;
  TimerId nextTimerId_ = 1;
};

/// A loop on its own thread, started at construction and joined at destruction.
class EventLoopThread {
 public:
  explicit EventLoopThread(std::string name, Clock& clock = SystemClock::instance());
  ~EventLoopThread();
  EventLoop& loop() { return loop_; }

 private:
  EventLoop loop_;
  std::thread thread_;
};

}  // namespace meeting::net
