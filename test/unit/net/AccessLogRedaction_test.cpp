// The access log's view of a request target: no report password, no bearer token, no URL signature.
#include <gtest/gtest.h>

#include "net/AccessLog.hpp"

using meeting::net::redactTargetForLog;

TEST(AccessLogRedaction, HidesTheReportPasswordAndCredentialQueryValues) {
  EXPECT_EQ(redactTargetForLog("/monitoring/s3cret"), "/monitoring/<redacted>");
  EXPECT_EQ(redactTargetForLog("/monitoring/s3cret/extra?x=1"), "/monitoring/<redacted>?x=1");
  EXPECT_EQ(redactTargetForLog("/monitoring/"), "/monitoring/<redacted>");
  EXPECT_EQ(redactTargetForLog("/rtc?token=eyJhbGciOi.x.y"), "/rtc?token=<redacted>");
  EXPECT_EQ(redactTargetForLog("/rtc?resume=1&token=abc&x=2"), "/rtc?resume=1&token=<redacted>&x=2");
  EXPECT_EQ(redactTargetForLog("/fs/v1/files/ab?op=download&id=ab&exp=9&sig=MAC"),
            "/fs/v1/files/ab?op=download&id=ab&exp=9&sig=<redacted>");
  EXPECT_EQ(redactTargetForLog("/x?access_token=t&mytoken=kept"), "/x?access_token=<redacted>&mytoken=kept");
  // Everything else is printed as it is.
  EXPECT_EQ(redactTargetForLog("/api/v1/rooms"), "/api/v1/rooms");
  EXPECT_EQ(redactTargetForLog("/monitoring"), "/monitoring");
  EXPECT_EQ(redactTargetForLog("/api/v1/monitoring"), "/api/v1/monitoring");
  EXPECT_EQ(redactTargetForLog("/a?token"), "/a?token");
  EXPECT_EQ(redactTargetForLog("/a?"), "/a?");
  EXPECT_EQ(redactTargetForLog(""), "");
}
