#include "net/EventLoop.hpp"

#include <gtest/gtest.h>

#include <future>

using namespace std::chrono_literals;
using meeting::ManualClock;
using meeting::net::EventLoop;

TEST(EventLoop, TimersFollowTheInjectedClock) {
  ManualClock clock;
  EventLoop loop("test", clock);
  std::vector<int> fired;
  loop.runAfter(100ms, [&] { fired.push_back(1); });
  loop.runAfter(50ms, [&] { fired.push_back(2); });
  auto cancelled = loop.runAfter(70ms, [&] { fired.push_back(3); });
  loop.cancel(cancelled);
  EXPECT_EQ(loop.runDueTimers(), 0u);
  clock.advance(60ms);
  EXPECT_EQ(loop.runDueTimers(), 1u);
  clock.advance(40ms);
  EXPECT_EQ(loop.runDueTimers(), 1u);
  EXPECT_EQ(fired, (std::vector<int>{2, 1}));
  EXPECT_EQ(loop.pendingTimers(), 0u);
}

TEST(EventLoop, PeriodicTimerRepeatsUntilItCancelsItself) {
  ManualClock clock;
  EventLoop loop("test", clock);
  int count = 0;
  meeting::net::TimerId id = 0;
  id = loop.runEvery(10ms, [&] {
    if (++count == 3) loop.cancel(id);
  });
  for (int i = 0; i < 5; ++i) {
    clock.advance(10ms);
    loop.runDueTimers();
  }
  EXPECT_EQ(count, 3);
}

TEST(EventLoop, PostRunsOnTheLoopThreadInOrder) {
  meeting::net::EventLoopThread thread("worker");
  std::promise<std::vector<int>> done;
  auto order = std::make_shared<std::vector<int>>();
  for (int i = 0; i < 100; ++i) {
    thread.loop().post([&, order, i] {
      EXPECT_TRUE(thread.loop().isInLoopThread());
      order->push_back(i);
      if (i == 99) done.set_value(*order);
    });
  }
  EXPECT_FALSE(thread.loop().isInLoopThread());
  auto result = done.get_future();
  ASSERT_EQ(result.wait_for(5s), std::future_status::ready);
  auto values = result.get();
  ASSERT_EQ(values.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(values[i], i);
}

TEST(EventLoop, RealClockTimerFires) {
  meeting::net::EventLoopThread thread("worker");
  std::promise<void> fired;
  thread.loop().post([&] { thread.loop().runAfter(20ms, [&] { fired.set_value(); }); });
  EXPECT_EQ(fired.get_future().wait_for(5s), std::future_status::ready);
}
