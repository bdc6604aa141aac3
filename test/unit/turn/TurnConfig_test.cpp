// Configuration reaches the TURN core: the quota settings (--user-quota, --total-quota,
// --max-lifetime) and their defaults.
#include <gtest/gtest.h>

#include "turn/TurnService.hpp"

namespace meeting::turn {
namespace {

TEST(TurnConfig, QuotaSettingsReachTheCore) {
  Config config;
  config.ip = "127.0.0.1";
  auto defaults = runtimeOptionsFromConfig(config);
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_EQ(defaults->turn.maxAllocationsPerUser, 10u);
  EXPECT_EQ(defaults->turn.maxAllocationsTotal, 5000u);
  EXPECT_EQ(defaults->turn.maxLifetime, std::chrono::seconds(3600));

  config.turnMaxAllocationsPerUser = 500;
  config.turnMaxAllocationsTotal = 20000;
  config.turnMaxLifetime = 600;
  auto o = runtimeOptionsFromConfig(config);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->turn.maxAllocationsPerUser, 500u);
  EXPECT_EQ(o->turn.maxAllocationsTotal, 20000u);
  EXPECT_EQ(o->turn.maxLifetime, std::chrono::seconds(600));
}

}  // namespace
}  // namespace meeting::turn
