#include "turn/RelayPortPool.hpp"

#include <gtest/gtest.h>

#include <set>

namespace meeting::turn {
namespace {

TEST(RelayPortPool, HandsOutEveryPortOnceThenRunsOut) {
  RelayPortPool pool(40000, 40003);
  TimePoint now{};
  std::set<uint16_t> seen;
  for (int i = 0; i < 4; ++i) {
    auto g = pool.acquire(false, false, now);
    ASSERT_TRUE(g);
    EXPECT_TRUE(seen.insert(g->port).second);
  }
  EXPECT_FALSE(pool.acquire(false, false, now));
  pool.release(40002);
  auto g = pool.acquire(false, false, now);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->port, 40002);
  EXPECT_EQ(pool.freeCount(), 0u);
}

TEST(RelayPortPool, EvenPortWithReservation) {
  RelayPortPool pool(40001, 40010);
  TimePoint now{};
  auto g = pool.acquire(true, true, now);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->port % 2, 0);
  ASSERT_TRUE(g->reservationToken);
  EXPECT_EQ(pool.freeCount(), 8u);
  auto reserved = pool.acquireReserved(*g->reservationToken, now);
  ASSERT_TRUE(reserved);
  EXPECT_EQ(*reserved, g->port + 1);
  EXPECT_FALSE(pool.acquireReserved(*g->reservationToken, now));  // used up
}

TEST(RelayPortPool, ReservationsExpireAfterThirtySeconds) {
  RelayPortPool pool(40000, 40001);
  TimePoint now{};
  auto g = pool.acquire(true, true, now);
  ASSERT_TRUE(g && g->reservationToken);
  EXPECT_FALSE(pool.acquire(false, false, now));
  now += RelayPortPool::ReservationLifetime;
  EXPECT_FALSE(pool.acquireReserved(*g->reservationToken, now));
  auto freed = pool.acquire(false, false, now);
  ASSERT_TRUE(freed);
  EXPECT_EQ(freed->port, 40001);
}

TEST(RelayPortPool, UnusablePortsComeBackLater) {
  RelayPortPool pool(40000, 40000);
  TimePoint now{};
  auto g = pool.acquire(false, false, now);
  ASSERT_TRUE(g);
  pool.markUnusable(g->port, now);
  EXPECT_FALSE(pool.acquire(false, false, now));
  now += std::chrono::seconds(61);
  EXPECT_TRUE(pool.acquire(false, false, now));
}

}  // namespace
}  // namespace meeting::turn
