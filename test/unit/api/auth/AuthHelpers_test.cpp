// The account building blocks: Argon2id wrapper, session tokens, login throttle, waiting room,
// display-name checks and the first-start administrator.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <sstream>

#include "api/auth/AccountJson.hpp"
#include "api/auth/AdminBootstrap.hpp"
#include "api/auth/LoginLimiter.hpp"
#include "api/auth/PasswordHasher.hpp"
#include "api/auth/SessionTokens.hpp"
#include "api/auth/WaitingRoom.hpp"
#include "common/Clock.hpp"

namespace meeting::api::auth {
namespace {

TEST(PasswordHasher, HashesAreArgon2idAndVerify) {
  PasswordHasher hasher(PasswordParams::fastForTests());
  auto hash = hasher.hash("correct horse battery");
  ASSERT_TRUE(hash);
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(hasher.verify(*hash, "correct horse battery"));
  EXPECT_FALSE(hasher.verify(*hash, "correct horse batterY"));
  EXPECT_FALSE(hasher.verify("", "x"));
  EXPECT_FALSE(hasher.verify("not a verifier", "x"));
  EXPECT_FALSE(hasher.verify(std::string(500, '$'), "x"));
  // Same password, new salt.
  auto again = hasher.hash("correct horse battery");
  ASSERT_TRUE(again);
  EXPECT_NE(*again, *hash);
}

TEST(PasswordHasher, NeedsRehashWhenParametersChange) {
  PasswordHasher cheap(PasswordParams::fastForTests());
  PasswordHasher dearer(PasswordParams{2, size_t{16} << 20});
  auto hash = cheap.hash("password1");
  ASSERT_TRUE(hash);
  EXPECT_FALSE(cheap.needsRehash(*hash));
  EXPECT_TRUE(dearer.needsRehash(*hash));
  EXPECT_TRUE(dearer.verify(*hash, "password1"));  // old verifiers still verify
  EXPECT_TRUE(cheap.needsRehash("plain"));
  EXPECT_TRUE(cheap.needsRehash(""));
}

TEST(PasswordHasher, RefusesOverlongPasswords) {
  PasswordHasher hasher(PasswordParams::fastForTests());
  EXPECT_FALSE(hasher.hash(std::string(MaxPasswordBytes + 1, 'a')));
  EXPECT_TRUE(hasher.hash(std::string(MaxPasswordBytes, 'a')));
}

TEST(SessionTokens, RandomBase64UrlOf32Bytes) {
  auto a = newToken();
  auto b = newToken();
  EXPECT_EQ(a.size(), 43u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(looksLikeToken(a));
  EXPECT_FALSE(looksLikeToken(a + "x"));
  EXPECT_FALSE(looksLikeToken(std::string(43, '.')));
  EXPECT_EQ(tokenHash(a).size(), 64u);
  EXPECT_NE(tokenHash(a), tokenHash(b));
}

TEST(LoginLimiter, TenFailuresPerEmailOrAddressIn15Minutes) {
  LoginLimiter limiter;
  const int64_t t0 = 1'000'000;
  for (int i = 0; i < 9; ++i) limiter.recordFailure("a@x.io", "10.0.0.1", t0 + i);
  EXPECT_EQ(limiter.retryAfter("a@x.io", "10.0.0.9", t0 + 10), 0);
  limiter.recordFailure("a@x.io", "10.0.0.1", t0 + 9);
  // The e-mail is blocked from any address, the address for any e-mail.
  EXPECT_GT(limiter.retryAfter("a@x.io", "10.0.0.9", t0 + 10), 0);
  EXPECT_GT(limiter.retryAfter("b@x.io", "10.0.0.1", t0 + 10), 0);
  EXPECT_EQ(limiter.retryAfter("b@x.io", "10.0.0.9", t0 + 10), 0);
  EXPECT_LE(limiter.retryAfter("a@x.io", "10.0.0.9", t0 + 10), 15 * 60);
  // The oldest failure leaves the window after 15 minutes.
  EXPECT_EQ(limiter.retryAfter("a@x.io", "10.0.0.9", t0 + 15 * 60 * 1000), 0);
  // Success clears the e-mail's count, not the address's.
  limiter.recordSuccess("a@x.io");
  EXPECT_EQ(limiter.retryAfter("a@x.io", "10.0.0.9", t0 + 20), 0);
  EXPECT_GT(limiter.retryAfter("c@x.io", "10.0.0.1", t0 + 20), 0);
}

TEST(LoginLimiter, BoundedKeys) {
  LoginLimiter limiter(LoginLimiter::Options{2, std::chrono::milliseconds(1000), 10});
  for (int i = 0; i < 100; ++i) limiter.recordFailure("u" + std::to_string(i), "a" + std::to_string(i), i);
  // No crash and no unbounded growth; old windows are pruned when full.
  limiter.recordFailure("late", "late", 5000);
  limiter.recordFailure("late", "late", 5001);
  EXPECT_GT(limiter.retryAfter("late", "other", 5002), 0);
}

TEST(WaitingRoom, TicketLifecycle) {
  WaitingRoom room(std::chrono::minutes(10));
  auto t = room.add("r1", "Ann", "g-1", 1000);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->id.size(), 32u);
  auto t2 = room.add("r1", "Bob", "g-2", 2000);
  room.add("r2", "Cy", "g-3", 1500);
  auto list = room.waiting("r1", 3000);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].displayName, "Ann");
  EXPECT_FALSE(room.find("r2", t->id, 3000));  // another room's ticket
  EXPECT_TRUE(room.decide(t->id, true, {{"status", "admitted"}}));
  EXPECT_FALSE(room.decide(t->id, false, {}));  // decided once
  EXPECT_EQ(room.poll(t->id, 4000)->state, WaitingRoom::State::Admitted);
  EXPECT_EQ(room.waiting("r1", 4000).size(), 1u);
  EXPECT_TRUE(room.decide(t2->id, false, {}));
  EXPECT_EQ(room.poll(t2->id, 4000)->state, WaitingRoom::State::Denied);
  EXPECT_FALSE(room.poll("nope", 4000));
}

TEST(WaitingRoom, TicketsExpireTenMinutesAfterTheLastPoll) {
  WaitingRoom room(std::chrono::minutes(10));
  auto t = room.add("r1", "Ann", "g-1", 0);
  ASSERT_TRUE(room.poll(t->id, 9 * 60 * 1000));
  ASSERT_TRUE(room.poll(t->id, 18 * 60 * 1000));  // polled: alive
  EXPECT_FALSE(room.poll(t->id, 28 * 60 * 1000 + 1));
  auto u = room.add("r1", "Bob", "g-2", 0);
  room.dropRoom("r1");
  EXPECT_FALSE(room.poll(u->id, 1));
}

TEST(WaitingRoom, Bounded) {
  WaitingRoom room(std::chrono::minutes(10), 3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(room.add("r", "n", "g", 0));
  EXPECT_FALSE(room.add("r", "n", "g", 0));
}

TEST(AccountJson, DisplayNames) {
  EXPECT_EQ(displayChars("Ann"), 3);
  EXPECT_EQ(displayChars("Zoë 日本"), 6);
  EXPECT_EQ(displayChars("a\nb"), -1);
  EXPECT_EQ(displayChars("\xff"), -1);
  EXPECT_EQ(displayChars("\xc0\xaf"), -1);  // overlong
  EXPECT_EQ(displayChars("\xed\xa0\x80"), -1);  // surrogate
  EXPECT_EQ(trimmed("  Ann \t"), "Ann");
  EXPECT_EQ(trimmed("   "), "");
  EXPECT_EQ(lowerEmail("A@Example.COM"), "a@example.com");
}

TEST(AdminBootstrap, DefaultEmailFromPublicUrl) {
  EXPECT_EQ(defaultAdminEmail("https://Meet.Example.com:8443/"), "admin@meet.example.com");
  EXPECT_EQ(defaultAdminEmail("https://[::1]:8443/"), "admin@localhost");
  EXPECT_EQ(defaultAdminEmail(""), "admin@localhost");
  EXPECT_EQ(defaultAdminEmail("https://127.0.0.1:8443/"), "admin@127.0.0.1");
}

TEST(AdminBootstrap, CreatesOnceAndPrintsWorkingCredentials) {
  auto dir = std::filesystem::temp_directory_path() / ("meeting-admin-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  ManualClock clock;
  auto storage = db::openStorage(db::StorageConfig{"sqlite:" + (dir / "t.db").string(), 1}, clock);
  ASSERT_TRUE(storage);
  PasswordHasher hasher(PasswordParams::fastForTests());
  std::ostringstream out;
  auto made = ensureAdministrator(**storage, hasher, "admin@meet.example.com", "https://meet.example.com/", out);
  ASSERT_TRUE(made);
  EXPECT_TRUE(*made);
  std::string text = out.str();
  auto at = text.find("password:   ");
  ASSERT_NE(at, std::string::npos) << text;
  std::string password = text.substr(at + 12, 16);
  EXPECT_NE(text.find("https://meet.example.com/"), std::string::npos);
  auto admin = (*storage)->findUserByEmail("admin@meet.example.com");
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->role, db::Role::Admin);
  EXPECT_EQ(admin->passwordHash.find(password), std::string::npos);
  EXPECT_TRUE(hasher.verify(admin->passwordHash, password));
  std::ostringstream second;
  auto again = ensureAdministrator(**storage, hasher, "admin@meet.example.com", "https://meet.example.com/", second);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_TRUE(second.str().empty());
  storage->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meeting::api::auth
