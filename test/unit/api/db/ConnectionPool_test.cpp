#include "api/db/ConnectionPool.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "api/db/Storage.hpp"

namespace meeting::api::db {
namespace {

class FakeConnection final : public SqlConnection {
 public:
  explicit FakeConnection(std::atomic<int>& live) : live_(live) { ++live_; }
  ~FakeConnection() override { --live_; }
  Result<SqlResult> query(std::string_view, std::span<const SqlValue>) override { return SqlResult{}; }
  Result<void> execute(std::string_view) override { return {}; }
  bool broken() const override { return broken_; }
  bool broken_ = false;

 private:
  std::atomic<int>& live_;
};

TEST(ConnectionPoolTest, ReusesIdleConnectionsAndBoundsTheTotal) {
  std::atomic<int> live{0};
  int opened = 0;
  ConnectionPool pool(
      [&]() -> Result<std::unique_ptr<SqlConnection>> {
        ++opened;
        return std::unique_ptr<SqlConnection>(new FakeConnection(live));
      },
      2, std::chrono::milliseconds(50));
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
    ASSERT_TRUE(a.ok() && b.ok());
    auto c = pool.acquire();  // both in use: waits 50 ms, then gives up
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, errc::Unavailable);
  }
  auto again = pool.acquire();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(opened, 2);  // reused, not reopened
  EXPECT_EQ(live.load(), 2);
}

TEST(ConnectionPoolTest, DropsBrokenConnectionsAndFreesTheSlot) {
  std::atomic<int> live{0};
  bool failNext = false;
  ConnectionPool pool(
      [&]() -> Result<std::unique_ptr<SqlConnection>> {
        if (failNext) return makeError(errc::Unavailable, "server down");
        return std::unique_ptr<SqlConnection>(new FakeConnection(live));
      },
      1, std::chrono::milliseconds(50));
  {
    auto lease = pool.acquire();
    ASSERT_TRUE(lease.ok());
    static_cast<FakeConnection&>(*lease.value()).broken_ = true;
  }
  EXPECT_EQ(live.load(), 0);  // closed on return, not kept
  failNext = true;
  auto down = pool.acquire();
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().message, "server down");
  failNext = false;
  auto back = pool.acquire();  // the failed connect did not leak the only slot
  ASSERT_TRUE(back.ok());
  back.value().discard();
  EXPECT_EQ(live.load(), 0);
}

TEST(ConnectionPoolTest, CloseIdleClosesOnlyIdleConnections) {
  std::atomic<int> live{0};
  ConnectionPool pool([&]() -> Result<std::unique_ptr<SqlConnection>> {
    return std::unique_ptr<SqlConnection>(new FakeConnection(live));
  }, 3);
  auto held = pool.acquire();
  { auto a = pool.acquire(); auto b = pool.acquire(); }
  EXPECT_EQ(live.load(), 3);
  pool.closeIdle();
  EXPECT_EQ(live.load(), 1);
  auto fresh = pool.acquire();
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(live.load(), 2);
}

}  // namespace
}  // namespace meeting::api::db
