// Connection-quality classification: the score formula, the bands, hysteresis and `lost`; and
// the reaction rate limiter.
#include "sfu/room/ConnectionQuality.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sfu/room/WindowRateLimiter.hpp"

namespace meeting::sfu {
namespace {
using namespace std::chrono_literals;

QualitySample sample(double uplink, double downlink, std::optional<std::chrono::milliseconds> rtt = std::nullopt) {
  QualitySample s;
  s.uplinkLoss = uplink;
  s.downlinkLoss = downlink;
  s.rtt = rtt;
  return s;
}

TEST(ConnectionQuality, ScoreFromTheWorseLossAndTheRoundTrip) {
  EXPECT_EQ(ConnectionQuality::score(QualitySample{}), 100) << "nothing known: nothing wrong";
  EXPECT_EQ(ConnectionQuality::score(sample(0, 0, 40ms)), 100);
  EXPECT_EQ(ConnectionQuality::score(sample(0.02, 0)), 90);
  EXPECT_EQ(ConnectionQuality::score(sample(0, 0.02)), 90) << "downlink counts the same";
  EXPECT_EQ(ConnectionQuality::score(sample(0.01, 0.05)), 75) << "the worse of the two";
  EXPECT_EQ(ConnectionQuality::score(sample(0, 0, 350ms)), 80) << "(350 - 150) / 10";
  EXPECT_EQ(ConnectionQuality::score(sample(0.1, 0, 650ms)), 0);
  EXPECT_EQ(ConnectionQuality::score(sample(0.5, 0)), 0) << "clamped";
  QualitySample lost;
  lost.lost = true;
  lost.uplinkLoss = 0;
  EXPECT_EQ(ConnectionQuality::score(lost), 0);
  EXPECT_EQ(ConnectionQuality::score(sample(std::numeric_limits<double>::quiet_NaN(), 0)), 0) << "nonsense is not good";
  EXPECT_EQ(ConnectionQuality::score(sample(-1, 0)), 100);
}

TEST(ConnectionQuality, Bands) {
  EXPECT_EQ(ConnectionQuality::band(100), Quality::Excellent);
  EXPECT_EQ(ConnectionQuality::band(85), Quality::Excellent);
  EXPECT_EQ(ConnectionQuality::band(84), Quality::Good);
  EXPECT_EQ(ConnectionQuality::band(60), Quality::Good);
  EXPECT_EQ(ConnectionQuality::band(59), Quality::Poor);
  EXPECT_EQ(ConnectionQuality::band(0), Quality::Poor);
  EXPECT_EQ(toString(Quality::Excellent), "excellent");
  EXPECT_EQ(toString(Quality::Good), "good");
  EXPECT_EQ(toString(Quality::Poor), "poor");
  EXPECT_EQ(toString(Quality::Lost), "lost");
}

TEST(ConnectionQuality, SmoothedDownAndUpOnlyPastTheMargin) {
  ConnectionQuality q;
  EXPECT_EQ(q.current().quality, Quality::Excellent);
  // One interval with 10% loss (sample score 50) after a clean start: a dip, not a collapse.
  auto dip = q.update(sample(0.1, 0));
  EXPECT_EQ(dip.score, 75);
  EXPECT_EQ(dip.quality, Quality::Good);
  // Loss that lasts drags it down: 63 (still good), then 57 (poor) after the third interval.
  EXPECT_EQ(q.update(sample(0.1, 0)).quality, Quality::Good);
  EXPECT_EQ(q.update(sample(0.1, 0)).quality, Quality::Poor);
}

TEST(ConnectionQuality, LastingLossIsPoorAndRecoveryClimbsPastTheMargin) {
  ConnectionQuality q;
  for (int i = 0; i < 6; ++i) q.update(sample(0.12, 0));  // sample score 40
  EXPECT_EQ(q.current().quality, Quality::Poor);
  EXPECT_LE(q.current().score, 45);
  // Clean intervals: the score climbs 41 -> 71 -> 86 -> 93; good once past 60 + 5, excellent past 85 + 5.
  EXPECT_EQ(q.update(sample(0, 0)).quality, Quality::Good);
  EXPECT_EQ(q.update(sample(0, 0)).quality, Quality::Good) << "86 is not 85 + 5";
  EXPECT_EQ(q.update(sample(0, 0)).quality, Quality::Excellent);
}

TEST(ConnectionQuality, LostAndBack) {
  ConnectionQuality q;
  QualitySample gone;
  gone.lost = true;
  auto a = q.update(gone);
  EXPECT_EQ(a.quality, Quality::Lost);
  EXPECT_EQ(a.score, 0);
  // Back from lost: straight to what the sample says, no margin to climb first.
  EXPECT_EQ(q.update(sample(0.05, 0)).quality, Quality::Good);
  q.update(gone);
  EXPECT_EQ(q.update(QualitySample{}).quality, Quality::Excellent);
}

TEST(WindowRateLimiter, FivePerSecondSliding) {
  WindowRateLimiter<5> limiter(1s);
  TimePoint t{5s};
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allow(t + i * 10ms)) << i;
  EXPECT_FALSE(limiter.allow(t + 100ms));
  EXPECT_FALSE(limiter.allow(t + 999ms));
  EXPECT_TRUE(limiter.allow(t + 1000ms)) << "the first one left the window";
  EXPECT_FALSE(limiter.allow(t + 1005ms));
  EXPECT_TRUE(limiter.allow(t + 1010ms));
  EXPECT_TRUE(limiter.allow(t + 10s));
}

}  // namespace
}  // namespace meeting::sfu
