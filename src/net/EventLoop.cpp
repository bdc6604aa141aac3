#include "net/EventLoop.hpp"

#include <boost/asio/post.hpp>

#include <future>

namespace meeting::net {

EventLoop::EventLoop(std::string name, Clock& clock)
    : name_(std::move(name)),
      clock_(clock),
      work_(boost::asio::make_work_guard(context_)),
      wakeup_(context_),
      threadId_(std::this_thread::get_id()) {}

EventLoop::~EventLoop() = default;

void EventLoop::run() {
  threadId_ = std::this_thread::get_id();
  context_.restart();
  context_.run();
}

void EventLoop::stop() { context_.stop(); }

void EventLoop::post(std::function<void()> fn) { boost::asio::post(context_, std::move(fn)); }

bool EventLoop::isInLoopThread() const { return threadId_.load() == std::this_thread::get_id(); }

TimerId EventLoop::runAfter(Duration delay, std::function<void()> fn) {
  TimerId id = nextTimerId_++;
  TimePoint due = clock_.now() + delay;
  timers_.emplace(id, Timer{due, Duration{0}, std::move(fn)});
  schedule_.emplace(due, id);
  armWakeup();
  return id;
}

TimerId EventLoop::runEvery(Duration period, std::function<void()> fn) {
  if (period <= Duration{0}) period = Duration{1};
  TimerId id = nextTimerId_++;
  TimePoint due = clock_.now() + period;
  timers_.emplace(id, Timer{due, period, std::move(fn)});
  schedule_.emplace(due, id);
  armWakeup();
  return id;
}

void EventLoop::cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  auto range = schedule_.equal_range(it->second.due);
  for (auto s = range.first; s != range.second; ++s) {
    if (s->second == id) {
      schedule_.erase(s);
      break;
    }
  }
  timers_.erase(it);
}

size_t EventLoop::runDueTimers() {
  size_t fired = 0;
  const TimePoint now = clock_.now();
  // Bounded by the timers due now: a periodic timer re-armed below is due in the future.
  while (!schedule_.empty() && schedule_.begin()->first <= now) {
    TimerId id = schedule_.begin()->second;
    schedule_.erase(schedule_.begin());
    auto it = timers_.find(id);
    if (it == timers_.end()) continue;
    std::function<void()> fn;
    if (it->second.period > Duration{0}) {
      // Re-arm first, so the callback may cancel its own timer.
      it->second.due = std::max(it->second.due + it->second.period, now);
      if (it->second.due == now) it->second.due += it->second.period;
      schedule_.emplace(it->second.due, id);
      fn = it->second.fn;
    } else {
      fn = std::move(it->second.fn);
      timers_.erase(it);
    }
    fn();
    ++fired;
  }
  armWakeup();
  return fired;
}

void EventLoop::armWakeup() {
  if (schedule_.empty()) {
    wakeup_.cancel();
    return;
  }
  // The asio timer runs on real time; with a ManualClock tests call runDueTimers() themselves.
  auto wait = schedule_.begin()->first - clock_.now();
  if (wait < Duration{0}) wait = Duration{0};
  wakeup_.expires_after(wait);
  wakeup_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) runDueTimers();
  });
}

EventLoopThread::EventLoopThread(std::string name, Clock& clock) : loop_(std::move(name), clock) {
  std::promise<void> started;
  auto ready = started.get_future();
  thread_ = std::thread([this, &started] {
    loop_.post([&started] { started.set_value(); });
    loop_.run();
  });
  ready.wait();
}

EventLoopThread::~EventLoopThread() {
  loop_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace meeting::net
