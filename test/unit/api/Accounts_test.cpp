// Accounts over REST: login (same answer for unknown e-mail and wrong password, 429 after ten
// failures, disabled accounts), sessions (logout, expiry), /me, the administrator's user routes
// with invitations, and meetings seen through a user session.
#include "api/auth/PasswordHasher.hpp"
#include "unit/api/ApiFixture.hpp"

namespace meeting::api::test {
namespace {

class AccountsTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    adminId_ = makeUser("admin@meet.example.com", "Admin", "admin-password", db::Role::Admin);
    userId_ = makeUser("ann@example.com", "Ann", "ann-password", db::Role::User);
    otherId_ = makeUser("bob@example.com", "Bob", "bob-password", db::Role::User);
  }
  int64_t makeUser(const std::string& email, const std::string& name, const std::string& password, db::Role role) {
    auth::PasswordHasher hasher(auth::PasswordParams::fastForTests());
    db::User u;
    u.email = email;
    u.displayName = name;
    u.passwordHash = *hasher.hash(password);
    u.role = role;
    auto created = storage_->createUser(u);
    EXPECT_TRUE(created);
    return created ? created->id : 0;
  }
  Reply as(http::verb method, const std::string& path, const std::string& bearer, const json& body = nullptr) {
    return call(method, path, body.is_null() ? std::string{} : body.dump(), bearer);
  }
  std::string loginAs(const std::string& email, const std::string& password) {
    auto r = as(http::verb::post, "/api/v1/auth/login", "", {{"email", email}, {"password", password}});
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body.value("token", "");
  }
  int64_t adminId_ = 0, userId_ = 0, otherId_ = 0;
};

TEST_F(AccountsTest, LoginReturnsASessionThatOpensMe) {
  auto r = as(http::verb::post, "/api/v1/auth/login", "", {{"email", "Ann@Example.com"}, {"password", "ann-password"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  std::string token = r.body["token"];
  EXPECT_EQ(token.size(), 43u);
  EXPECT_EQ(r.body["user"]["email"], "ann@example.com");
  EXPECT_EQ(r.body["user"]["display_name"], "Ann");
  EXPECT_EQ(r.body["user"]["role"], "user");
  EXPECT_FALSE(r.body["user"].contains("password_hash"));
  const int64_t now = clock_.wallMicros() / 1'000'000;
  EXPECT_NEAR(r.body["expires_at"].get<int64_t>(), now + 30 * 24 * 3600, 5);
  auto me = as(http::verb::get, "/api/v1/me", token);
  ASSERT_EQ(me.status, 200) << me.raw;
  EXPECT_EQ(me.body["user"]["id"], userId_);
  // Only the hash is stored.
  EXPECT_FALSE(storage_->findLogin(token, 0));
  // A session is not an API key.
  EXPECT_EQ(as(http::verb::get, "/api/v1/rooms", token).status, 401);
  // Logout revokes it.
  EXPECT_EQ(as(http::verb::post, "/api/v1/auth/logout", token).status, 204);
  EXPECT_EQ(as(http::verb::get, "/api/v1/me", token).status, 401);
}

TEST_F(AccountsTest, SessionsExpireAfterThirtyDays) {
  std::string token = loginAs("ann@example.com", "ann-password");
  clock_.advance(std::chrono::hours(24 * 30) + std::chrono::seconds(1));
  EXPECT_EQ(as(http::verb::get, "/api/v1/me", token).status, 401);
}

TEST_F(AccountsTest, SameAnswerForUnknownEmailAndWrongPassword) {
  auto unknown = as(http::verb::post, "/api/v1/auth/login", "", {{"email", "nobody@example.com"}, {"password", "x"}});
  auto wrong = as(http::verb::post, "/api/v1/auth/login", "", {{"email", "ann@example.com"}, {"password", "x"}});
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.body, wrong.body);
  EXPECT_EQ(wrong.body["error"]["code"], "invalid_credentials");
}

TEST_F(AccountsTest, TenFailuresThenTooManyRequests) {
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(as(http::verb::post, "/api/v1/auth/login", "", {{"email", "ann@example.com"}, {"password", "bad"}}).status, 401);
  }
  auto r = as(http::verb::post, "/api/v1/auth/login", "", {{"email", "ann@example.com"}, {"password", "ann-password"}});
  EXPECT_EQ(r.status, 429) << r.raw;
  EXPECT_EQ(r.body["error"]["code"], "rate_limited");
  EXPECT_FALSE(r.retryAfter.empty());
  // The same client address is throttled for other accounts too.
  EXPECT_EQ(as(http::verb::post, "/api/v1/auth/login", "", {{"email", "bob@example.com"}, {"password", "bob-password"}}).status, 429);
  clock_.advance(std::chrono::minutes(15));
  EXPECT_EQ(as(http::verb::post, "/api/v1/auth/login", "", {{"email", "ann@example.com"}, {"password", "ann-password"}}).status, 200);
}

TEST_F(AccountsTest, BadBodiesAre400) {
  for (const std::string body : {"not json", "[]", R"({"email": 5, "password": "x"})", R"({"email": "a@b.c"})",
                                 R"({"email": "a@b.c", "password": "x", "extra": 1})"}) {
    auto r = call(http::verb::post, "/api/v1/auth/login", body, "");
    EXPECT_EQ(r.status, 400) << body << " " << r.raw;
  }
  std::string token = loginAs("ann@example.com", "ann-password");
  EXPECT_EQ(call(http::verb::patch, "/api/v1/me", R"({"display_name": 7})", token).status, 400);
  EXPECT_EQ(call(http::verb::patch, "/api/v1/me", R"({"display_name": ""})", token).status, 400);
  EXPECT_EQ(call(http::verb::patch, "/api/v1/me", R"({"display_name": "a\u0007b"})", token).status, 400);
  EXPECT_EQ(storage_->getUser(userId_)->displayName, "Ann");
}

TEST_F(AccountsTest, DisabledAccountsCannotSignInAndLoseTheirSessions) {
  std::string admin = loginAs("admin@meet.example.com", "admin-password");
  std::string ann = loginAs("ann@example.com", "ann-password");
  auto r = as(http::verb::patch, "/api/v1/users/" + std::to_string(userId_), admin, {{"disabled", true}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["user"]["disabled"], true);
  EXPECT_EQ(as(http::verb::get, "/api/v1/me", ann).status, 401);
  auto login = as(http::verb::post, "/api/v1/auth/login", "", {{"email", "ann@example.com"}, {"password", "ann-password"}});
  EXPECT_EQ(login.status, 403);
  EXPECT_EQ(login.body["error"]["code"], "account_disabled");
  // A wrong password for a disabled account is still just 401.
  EXPECT_EQ(as(http::verb::post, "/api/v1/auth/login", "", {{"email", "ann@example.com"}, {"password", "nope"}}).status, 401);
}

TEST_F(AccountsTest, ChangeOwnNameAndPassword) {
  std::string token = loginAs("ann@example.com", "ann-password");
  std::string elsewhere = loginAs("ann@example.com", "ann-password");
  auto r = as(http::verb::patch, "/api/v1/me", token, {{"display_name", "  Ann B.  "}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["user"]["display_name"], "Ann B.");
  EXPECT_EQ(as(http::verb::patch, "/api/v1/me", token, {{"password", "new-password"}}).status, 400);
  EXPECT_EQ(as(http::verb::patch, "/api/v1/me", token, {{"password", "new-password"}, {"current_password", "wrong"}}).status, 403);
  EXPECT_EQ(as(http::verb::patch, "/api/v1/me", token, {{"password", "short"}, {"current_password", "ann-password"}}).status, 400);
  r = as(http::verb::patch, "/api/v1/me", token, {{"password", "new-password"}, {"current_password", "ann-password"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(as(http::verb::get, "/api/v1/me", token).status, 200);       // this browser stays
  EXPECT_EQ(as(http::verb::get, "/api/v1/me", elsewhere).status, 401);   // others are signed out
  EXPECT_EQ(as(http::verb::post, "/api/v1/auth/login", "", {{"email", "ann@example.com"}, {"password", "ann-password"}}).status, 401);
  loginAs("ann@example.com", "new-password");
}

TEST_F(AccountsTest, AdminInvitesAUserWhoSetsAPassword) {
  std::string admin = loginAs("admin@meet.example.com", "admin-password");
  auto r = as(http::verb::post, "/api/v1/users", admin, {{"email", "Cy@Example.com"}, {"display_name", "Cy"}});
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body["user"]["email"], "cy@example.com");
  EXPECT_EQ(r.body["user"]["role"], "user");
  std::string url = r.body["invite_url"];
  ASSERT_EQ(url.rfind("https://meet.example.com/invite/", 0), 0u) << url;
  std::string token = url.substr(std::string("https://meet.example.com/invite/").size());
  // The invitation mail is recorded (mail is off here: not_configured).
  auto mail = storage_->listMeetingMail(0);
  ASSERT_TRUE(mail);
  ASSERT_EQ(mail->size(), 1u);
  EXPECT_EQ((*mail)[0].recipient, "cy@example.com");
  EXPECT_NE((*mail)[0].payload.find(token), std::string::npos);
  // Not signable before the invite is accepted.
  EXPECT_EQ(as(http::verb::post, "/api/v1/auth/login", "", {{"email", "cy@example.com"}, {"password", ""}}).status, 401);
  auto info = as(http::verb::get, "/api/v1/invites/" + token, "");
  ASSERT_EQ(info.status, 200) << info.raw;
  EXPECT_EQ(info.body, json({{"email", "cy@example.com"}, {"display_name", "Cy"}}));
  EXPECT_EQ(as(http::verb::post, "/api/v1/invites/" + token, "", {{"password", "short"}}).status, 400);
  auto accepted = as(http::verb::post, "/api/v1/invites/" + token, "", {{"password", "cy-password"}, {"display_name", "Cy D"}});
  ASSERT_EQ(accepted.status, 200) << accepted.raw;
  EXPECT_EQ(accepted.body["user"]["display_name"], "Cy D");
  EXPECT_EQ(as(http::verb::get, "/api/v1/me", accepted.body["token"]).status, 200);
  // Used once.
  EXPECT_EQ(as(http::verb::get, "/api/v1/invites/" + token, "").status, 404);
  EXPECT_EQ(as(http::verb::post, "/api/v1/invites/" + token, "", {{"password", "other-password"}}).status, 404);
  loginAs("cy@example.com", "cy-password");
  // Duplicate address.
  EXPECT_EQ(as(http::verb::post, "/api/v1/users", admin, {{"email", "cy@example.com"}, {"display_name", "Cy"}}).status, 409);
}

TEST_F(AccountsTest, InvitesExpireAfterSevenDays) {
  auto r = as(http::verb::post, "/api/v1/users", apiKey_, {{"email", "dee@example.com"}, {"display_name", "Dee"}, {"role", "admin"}});
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body["user"]["role"], "admin");
  std::string token = r.body["invite_url"].get<std::string>().substr(32);
  clock_.advance(std::chrono::hours(24 * 7) + std::chrono::seconds(1));
  EXPECT_EQ(as(http::verb::get, "/api/v1/invites/" + token, "").status, 404);
  EXPECT_EQ(as(http::verb::post, "/api/v1/invites/" + token, "", {{"password", "dee-password"}}).status, 404);
  EXPECT_EQ(as(http::verb::get, "/api/v1/invites/short", "").status, 404);
}

TEST_F(AccountsTest, AdminRoutesPermissionMatrix) {
  std::string admin = loginAs("admin@meet.example.com", "admin-password");
  std::string user = loginAs("ann@example.com", "ann-password");
  const std::string bob = "/api/v1/users/" + std::to_string(otherId_);
  struct Case {
    std::string who;
    std::string bearer;
    int list, create, patch;
  };
  for (const Case& c : {Case{"none", "", 401, 401, 401}, Case{"user", user, 403, 403, 403},
                        Case{"garbage", "zzz", 401, 401, 401}, Case{"admin", admin, 200, 201, 200},
                        Case{"api key", apiKey_, 200, 201, 200}}) {
    EXPECT_EQ(as(http::verb::get, "/api/v1/users", c.bearer).status, c.list) << c.who;
    EXPECT_EQ(as(http::verb::post, "/api/v1/users", c.bearer, {{"email", c.who.substr(0, 3) + "x@example.com"}, {"display_name", "X"}}).status,
              c.create)
        << c.who;
    EXPECT_EQ(as(http::verb::patch, bob, c.bearer, {{"role", "user"}}).status, c.patch) << c.who;
  }
  auto list = as(http::verb::get, "/api/v1/users", admin);
  EXPECT_EQ(list.body["users"].size(), 5u);
  EXPECT_EQ(as(http::verb::patch, bob, admin, {{"role", "boss"}}).status, 400);
  EXPECT_EQ(as(http::verb::patch, bob, admin, {{"disabled", "yes"}}).status, 400);
  EXPECT_EQ(as(http::verb::patch, "/api/v1/users/" + std::to_string(adminId_), admin, {{"disabled", true}}).status, 409);
  EXPECT_EQ(as(http::verb::delete_, "/api/v1/users/" + std::to_string(adminId_), admin).status, 409);
  // Delete: user 403, admin deletes and signs the user out.
  std::string bobSession = loginAs("bob@example.com", "bob-password");
  EXPECT_EQ(as(http::verb::delete_, bob, user).status, 403);
  EXPECT_EQ(as(http::verb::delete_, bob, admin).status, 204);
  EXPECT_EQ(as(http::verb::get, "/api/v1/me", bobSession).status, 401);
  EXPECT_EQ(as(http::verb::delete_, bob, apiKey_).status, 404);
}

TEST_F(AccountsTest, UsersSeeOnlyTheirOwnMeetings) {
  std::string ann = loginAs("ann@example.com", "ann-password");
  std::string bob = loginAs("bob@example.com", "bob-password");
  FakeNode sfu(*hub_, sfuInfo());
  for (int i = 0; i < 100 && !registry_->find("sfu-1"); ++i) std::this_thread::sleep_for(10ms);
  auto created = as(http::verb::post, "/api/v1/meetings", ann, {{"title", "Standup"}, {"waiting_room", true}});
  ASSERT_EQ(created.status, 201) << created.raw;
  const json& m = created.body["meeting"];
  EXPECT_EQ(m["owner_email"], "ann@example.com");
  EXPECT_EQ(m["waiting_room"], true);
  EXPECT_EQ(m["join_url"], "https://meet.example.com/m/" + m["join_code"].get<std::string>());
  const std::string path = "/api/v1/meetings/" + std::to_string(m["id"].get<int64_t>());
  EXPECT_EQ(as(http::verb::post, "/api/v1/meetings", ann, {{"owner_email", "bob@example.com"}}).status, 403);
  EXPECT_EQ(as(http::verb::post, "/api/v1/meetings", ann, {{"waiting_room", "yes"}}).status, 400);
  EXPECT_EQ(as(http::verb::get, path, ann).status, 200);
  EXPECT_EQ(as(http::verb::get, path, bob).status, 404);
  EXPECT_EQ(as(http::verb::get, path, apiKey_).status, 200);
  EXPECT_EQ(as(http::verb::get, path, "").status, 401);
  EXPECT_EQ(as(http::verb::patch, path, bob, {{"title", "Mine"}}).status, 404);
  EXPECT_EQ(as(http::verb::delete_, path, bob).status, 404);
  auto mine = as(http::verb::get, "/api/v1/meetings", ann);
  ASSERT_EQ(mine.status, 200) << mine.raw;
  EXPECT_EQ(mine.body["meetings"].size(), 1u);
  EXPECT_EQ(as(http::verb::get, "/api/v1/meetings", bob).body["meetings"].size(), 0u);
  EXPECT_EQ(as(http::verb::get, "/api/v1/meetings?owner_email=ann@example.com", bob).status, 403);
  auto patched = as(http::verb::patch, path, ann, {{"waiting_room", false}});
  ASSERT_EQ(patched.status, 200) << patched.raw;
  EXPECT_EQ(patched.body["meeting"]["waiting_room"], false);
  EXPECT_EQ(as(http::verb::delete_, path, ann).status, 204);
}

}  // namespace
}  // namespace meeting::api::test
