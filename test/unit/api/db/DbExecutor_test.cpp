#include "api/db/DbExecutor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <set>
#include <thread>

namespace meeting::api::db {
namespace {

TEST(DbExecutorTest, RunsWorkThenCompletionOnAWorkerThread) {
  DbExecutor executor(2, 16);
  std::promise<std::pair<int, std::thread::id>> done;
  ASSERT_TRUE(executor.post([] { return 41 + 1; },
                            [&](int v) { done.set_value({v, std::this_thread::get_id()}); }));
  auto [value, thread] = done.get_future().get();
  EXPECT_EQ(value, 42);
  EXPECT_NE(thread, std::this_thread::get_id());
}

TEST(DbExecutorTest, AcceptsMoveOnlyWorkAndVoidResults) {
  DbExecutor executor(1, 4);
  auto owned = std::make_unique<int>(7);
  std::promise<int> result;
  ASSERT_TRUE(executor.post([p = std::move(owned)] { return *p; },
                            [&result](int v) { result.set_value(v); }));
  EXPECT_EQ(result.get_future().get(), 7);
  std::promise<void> ran;
  ASSERT_TRUE(executor.post([] {}, [&ran] { ran.set_value(); }));
  ran.get_future().get();
}

TEST(DbExecutorTest, RefusesWhenTheQueueIsFull) {
  DbExecutor executor(1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(executor.post([gate, &started] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the only worker is now busy
  EXPECT_TRUE(executor.post([] {}));
  EXPECT_TRUE(executor.post([] {}));
  EXPECT_FALSE(executor.post([] {}));  // bounded: the caller answers "busy" instead of queuing
  EXPECT_EQ(executor.queued(), 2u);
  release.set_value();
}

TEST(DbExecutorTest, ShutdownRunsQueuedJobsThenRefusesNewOnes) {
  std::atomic<int> ran{0};
  std::set<std::thread::id> threads;
  std::mutex m;
  {
    DbExecutor executor(3, 100);
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(executor.post([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::lock_guard lock(m);
        threads.insert(std::this_thread::get_id());
        ++ran;
      }));
    }
    executor.shutdown();
    EXPECT_EQ(ran.load(), 50);
    EXPECT_FALSE(executor.post([&] { ++ran; }));
    executor.shutdown();  // idempotent; the destructor calls it again
  }
  EXPECT_EQ(ran.load(), 50);
  EXPECT_GE(threads.size(), 1u);
  EXPECT_LE(threads.size(), 3u);
}

}  // namespace
}  // namespace meeting::api::db
