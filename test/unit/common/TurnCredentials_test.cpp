#include "common/TurnCredentials.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace meeting {
namespace {

// Computed independently in a shell with coturn's scheme:
//   printf '%s' '1700000000:alice' | openssl dgst -sha1 -hmac 'northwind-secret' -binary | base64
constexpr const char* kVectorSecret = "northwind-secret";
constexpr const char* kVectorUsername = "1700000000:alice";
constexpr const char* kVectorPassword = "kwpAd9AplQGqekf61KUYR7f5S24=";
//   printf '%s' '1700000000:alice:meeting:kwpAd9AplQGqekf61KUYR7f5S24=' | openssl dgst -md5
constexpr const char* kVectorKeyHex = "40e572a5617e0f1a0c908f7c774732a8";

std::string hex(const std::array<uint8_t, 16>& bytes) {
  std::string out;
  char buf[3];
  for (uint8_t b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

TEST(TurnCredentials, PasswordMatchesIndependentVector) {
  EXPECT_EQ(turnRestPassword(kVectorSecret, kVectorUsername), kVectorPassword);
}

TEST(TurnCredentials, LongTermKeyMatchesIndependentVector) {
  EXPECT_EQ(hex(turnLongTermKey(kVectorUsername, "meeting", kVectorPassword)), kVectorKeyHex);
}

TEST(TurnCredentials, MakeBuildsExpiryColonUser) {
  auto c = makeTurnCredential(kVectorSecret, "alice", 1'699'999'000, 1000);
  EXPECT_EQ(c.username, kVectorUsername);
  EXPECT_EQ(c.password, kVectorPassword);
  EXPECT_EQ(c.expiresAt, 1'700'000'000);
  auto bare = makeTurnCredential(kVectorSecret, "", 100, 50);
  EXPECT_EQ(bare.username, "150");
}

TEST(TurnCredentials, VerifyAcceptsValidAndRefusesExpired) {
  auto ok = verifyTurnRestUsername(kVectorSecret, kVectorUsername, 1'699'999'999);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, kVectorPassword);
  EXPECT_TRUE(verifyTurnRestUsername(kVectorSecret, kVectorUsername, 1'700'000'000).has_value());
  EXPECT_FALSE(verifyTurnRestUsername(kVectorSecret, kVectorUsername, 1'700'000'001).has_value());
}

TEST(TurnCredentials, VerifyRefusesMalformedUsernames) {
  for (const char* bad : {"", ":alice", "alice", "12a:alice", "-5:alice", "99999999999999999999:x"}) {
    EXPECT_FALSE(verifyTurnRestUsername(kVectorSecret, bad, 0).has_value()) << bad;
  }
  EXPECT_EQ(turnRestExpiry("42"), 42);
  EXPECT_EQ(turnRestExpiry("42:bob:x"), 42);
}

TEST(TurnCredentials, DifferentSecretGivesDifferentPassword) {
  EXPECT_NE(turnRestPassword("other", kVectorUsername), kVectorPassword);
}

}  // namespace
}  // namespace meeting
