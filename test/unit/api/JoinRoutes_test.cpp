// Joining by link: the public card, host / signed-in user / guest joins, the waiting room, host
// powers with room tokens (remove someone, end for all), chat history for late joiners, and who
// may call what.
#include "api/auth/PasswordHasher.hpp"
#include "unit/api/ApiFixture.hpp"

namespace meeting::api::test {
namespace {

class JoinTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    auth::PasswordHasher hasher(auth::PasswordParams::fastForTests());
    for (auto [email, name] : {std::pair{"host@example.com", "Hanna Host"}, std::pair{"ann@example.com", "Ann"}}) {
      db::User u;
      u.email = email;
      u.displayName = name;
      u.passwordHash = *hasher.hash("password-123");
      auto created = storage_->createUser(u);
      ASSERT_TRUE(created);
    }
    hostSession_ = login("host@example.com");
    annSession_ = login("ann@example.com");
    sfu_ = std::make_unique<FakeNode>(*hub_, sfuInfo());
    for (int i = 0; i < 100 && !registry_->find("sfu-1"); ++i) std::this_thread::sleep_for(10ms);
  }
  void TearDown() override {
    sfu_.reset();
    ApiFixture::TearDown();
  }
  std::string login(const std::string& email) {
    auto r = as(http::verb::post, "/api/v1/auth/login", "", {{"email", email}, {"password", "password-123"}});
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body.value("token", "");
  }
  Reply as(http::verb method, const std::string& path, const std::string& bearer, const json& body = nullptr) {
    return call(method, path, body.is_null() ? std::string{} : body.dump(), bearer);
  }
  json makeMeeting(bool waitingRoom) {
    auto r = as(http::verb::post, "/api/v1/meetings", hostSession_,
                {{"title", "Weekly"}, {"begin_at", 1'900'000'000}, {"end_at", 1'900'003'600}, {"waiting_room", waitingRoom}});
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body["meeting"];
  }
  Reply join(const std::string& code, const std::string& name, const std::string& bearer = "") {
    return as(http::verb::post, "/api/v1/join/" + code, bearer, {{"display_name", name}});
  }
  std::string hostSession_, annSession_;
  std::unique_ptr<FakeNode> sfu_;
};

TEST_F(JoinTest, PublicCardShowsOnlyLobbyFacts) {
  json m = makeMeeting(true);
  auto r = as(http::verb::get, "/api/v1/join/" + m["join_code"].get<std::string>(), "");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, json({{"title", "Weekly"}, {"begin_at", 1'900'000'000}, {"end_at", 1'900'003'600},
                          {"waiting_room", true}, {"host_name", "Hanna Host"}}));
  EXPECT_EQ(as(http::verb::get, "/api/v1/join/abc-defg-hij", "").status, 404);
  EXPECT_EQ(as(http::verb::get, "/api/v1/join/%20", "").status, 404);
  EXPECT_EQ(as(http::verb::get, "/api/v1/join/" + std::string(200, 'a'), "").body["error"]["code"], "not_found");
}

TEST_F(JoinTest, HostUserAndGuestJoinWithoutWaitingRoom) {
  json m = makeMeeting(false);
  const std::string code = m["join_code"];
  const std::string room = m["room_id"];
  auto host = join(code, "Hanna", hostSession_);
  ASSERT_EQ(host.status, 200) << host.raw;
  EXPECT_EQ(host.body["status"], "admitted");
  EXPECT_EQ(host.body["host"], true);
  EXPECT_EQ(host.body["room"], room);
  EXPECT_EQ(host.body["ws_url"], "wss://sfu1.example.com:443/rtc");
  const std::string hostIdentity = host.body["identity"];
  EXPECT_EQ(hostIdentity.rfind("u", 0), 0u);
  auto claims = token::verifyAccessToken(host.body["token"].get<std::string>(), Secret, clock_.wallMicros() / 1'000'000);
  ASSERT_TRUE(claims);
  EXPECT_TRUE(claims->grants.roomAdmin);
  EXPECT_EQ(claims->room, room);
  EXPECT_EQ(claims->displayName, "Hanna");

  auto ann = join(code, "Ann", annSession_);
  ASSERT_EQ(ann.status, 200) << ann.raw;
  EXPECT_EQ(ann.body["host"], false);
  EXPECT_FALSE(token::verifyAccessToken(ann.body["token"].get<std::string>(), Secret, clock_.wallMicros() / 1'000'000)->grants.roomAdmin);

  auto guest = join(code, "  Gus  ");
  ASSERT_EQ(guest.status, 200) << guest.raw;
  EXPECT_EQ(guest.body["identity"].get<std::string>().rfind("g-", 0), 0u);
  EXPECT_EQ(guest.body["host"], false);
  auto peer = get("/api/v1/rooms/" + room + "/peers/" + guest.body["identity"].get<std::string>());
  ASSERT_EQ(peer.status, 200) << peer.raw;
  EXPECT_EQ(peer.body["peer"]["display_name"], "Gus");
  ASSERT_TRUE(sfu_->waitCommand("add_peer"));

  // The same user joining again replaces the earlier participation.
  auto again = join(code, "Hanna", hostSession_);
  ASSERT_EQ(again.status, 200) << again.raw;
  EXPECT_EQ(again.body["identity"], hostIdentity);
  EXPECT_EQ(get("/api/v1/rooms/" + room + "/peers").body["peers"].size(), 3u);
}

TEST_F(JoinTest, DisplayNamesAreValidated) {
  json m = makeMeeting(false);
  const std::string path = "/api/v1/join/" + m["join_code"].get<std::string>();
  for (const std::string body : {R"({})", R"({"display_name": ""})", R"({"display_name": "   "})", R"({"display_name": 5})",
                                 R"({"display_name": "a\nb"})", "nope", R"({"display_name": "x", "role": "admin"})"}) {
    EXPECT_EQ(call(http::verb::post, path, body, "").status, 400) << body;
  }
  EXPECT_EQ(join(m["join_code"], std::string(65, 'x')).status, 400);
  EXPECT_EQ(join(m["join_code"], std::string(64, 'x')).status, 200);
  EXPECT_EQ(get("/api/v1/rooms/" + m["room_id"].get<std::string>() + "/peers").body["peers"].size(), 1u);
  EXPECT_EQ(join("nope-nope-no", "Ann").status, 404);
  // An invalid session is refused rather than silently treated as a guest.
  EXPECT_EQ(join(m["join_code"], "Ann", "bad-session").status, 401);
}

TEST_F(JoinTest, WaitingRoomTicketsAreAdmittedOrDeniedByTheHost) {
  json m = makeMeeting(true);
  const std::string code = m["join_code"];
  const std::string room = m["room_id"];
  auto host = join(code, "Hanna", hostSession_);
  ASSERT_EQ(host.status, 200) << host.raw;  // the host never waits
  const std::string hostToken = host.body["token"];

  auto guest = join(code, "Gus");
  ASSERT_EQ(guest.status, 202) << guest.raw;
  EXPECT_EQ(guest.body["status"], "waiting");
  const std::string ticket = guest.body["ticket"];
  clock_.advance(1ms);  // listed by arrival time
  auto other = join(code, "Olga", annSession_);  // a signed-in non-host waits too
  ASSERT_EQ(other.status, 202);
  const std::string poll = "/api/v1/join/" + code + "/tickets/" + ticket;
  EXPECT_EQ(as(http::verb::get, poll, "").body, json({{"status", "waiting"}}));
  EXPECT_EQ(get("/api/v1/rooms/" + room + "/peers").body["peers"].size(), 1u);  // nobody added yet

  auto waiting = as(http::verb::get, "/api/v1/rooms/" + room + "/waiting", hostToken);
  ASSERT_EQ(waiting.status, 200) << waiting.raw;
  ASSERT_EQ(waiting.body["waiting"].size(), 2u);
  EXPECT_EQ(waiting.body["waiting"][0]["display_name"], "Gus");
  EXPECT_EQ(waiting.body["waiting"][0]["ticket"], ticket);
  EXPECT_TRUE(waiting.body["waiting"][0]["since"].is_number());

  EXPECT_EQ(as(http::verb::post, "/api/v1/rooms/" + room + "/waiting/" + ticket, hostToken, {{"admit", "yes"}}).status, 400);
  auto admit = as(http::verb::post, "/api/v1/rooms/" + room + "/waiting/" + ticket, hostToken, {{"admit", true}});
  ASSERT_EQ(admit.status, 200) << admit.raw;
  auto admitted = as(http::verb::get, poll, "");
  ASSERT_EQ(admitted.status, 200);
  EXPECT_EQ(admitted.body["status"], "admitted");
  EXPECT_EQ(admitted.body["host"], false);
  EXPECT_EQ(admitted.body["room"], room);
  EXPECT_TRUE(token::verifyAccessToken(admitted.body["token"].get<std::string>(), Secret, clock_.wallMicros() / 1'000'000));
  EXPECT_EQ(get("/api/v1/rooms/" + room + "/peers").body["peers"].size(), 2u);
  EXPECT_EQ(as(http::verb::post, "/api/v1/rooms/" + room + "/waiting/" + ticket, hostToken, {{"admit", false}}).status, 409);

  const std::string olga = other.body["ticket"];
  EXPECT_EQ(as(http::verb::post, "/api/v1/rooms/" + room + "/waiting/" + olga, hostToken, {{"admit", false}}).status, 200);
  EXPECT_EQ(as(http::verb::get, "/api/v1/join/" + code + "/tickets/" + olga, "").body, json({{"status", "denied"}}));
  EXPECT_EQ(as(http::verb::get, "/api/v1/rooms/" + room + "/waiting", hostToken).body["waiting"].size(), 0u);
  EXPECT_EQ(as(http::verb::get, "/api/v1/join/" + code + "/tickets/unknown", "").status, 404);
}

TEST_F(JoinTest, TicketsExpireWithoutPolls) {
  json m = makeMeeting(true);
  auto guest = join(m["join_code"], "Gus");
  ASSERT_EQ(guest.status, 202);
  const std::string poll = "/api/v1/join/" + m["join_code"].get<std::string>() + "/tickets/" + guest.body["ticket"].get<std::string>();
  clock_.advance(std::chrono::minutes(9));
  EXPECT_EQ(as(http::verb::get, poll, "").status, 200);
  clock_.advance(std::chrono::minutes(9));
  EXPECT_EQ(as(http::verb::get, poll, "").status, 200);
  clock_.advance(std::chrono::minutes(10) + std::chrono::seconds(1));
  EXPECT_EQ(as(http::verb::get, poll, "").status, 404);
  // A ticket is only valid with its own meeting's code.
  auto g2 = join(m["join_code"], "Gus");
  std::this_thread::sleep_for(200ms);  // the fake sfu's next load report after the clock jump keeps it alive
  json other = makeMeeting(false);
  EXPECT_EQ(as(http::verb::get, "/api/v1/join/" + other["join_code"].get<std::string>() + "/tickets/" + g2.body["ticket"].get<std::string>(), "").status, 404);
}

TEST_F(JoinTest, HostRemovesSomeoneAndEndsForAll) {
  json m = makeMeeting(false);
  const std::string code = m["join_code"];
  const std::string room = m["room_id"];
  const std::string hostToken = join(code, "Hanna", hostSession_).body["token"];
  auto gus = join(code, "Gus");
  auto ida = join(code, "Ida");
  const std::string gusToken = gus.body["token"];
  const std::string gusId = gus.body["identity"];
  const std::string idaId = ida.body["identity"];
  // Another meeting's host token.
  json other = makeMeeting(false);
  const std::string otherHost = join(other["join_code"], "Hanna", hostSession_).body["token"];

  EXPECT_EQ(as(http::verb::delete_, "/api/v1/rooms/" + room + "/peers/" + idaId, gusToken).status, 403);
  EXPECT_EQ(as(http::verb::delete_, "/api/v1/rooms/" + room + "/peers/" + idaId, otherHost).status, 403);
  EXPECT_EQ(as(http::verb::delete_, "/api/v1/rooms/" + room + "/peers/" + idaId, "").status, 401);
  EXPECT_EQ(as(http::verb::delete_, "/api/v1/rooms/" + room + "/peers/" + idaId, hostSession_).status, 401);  // a session is no room token
  EXPECT_EQ(as(http::verb::delete_, "/api/v1/rooms/" + room, gusToken).status, 403);
  EXPECT_EQ(as(http::verb::delete_, "/api/v1/rooms/" + room, otherHost).status, 403);
  EXPECT_EQ(get("/api/v1/rooms/" + room + "/peers").body["peers"].size(), 3u);  // nothing changed

  EXPECT_EQ(as(http::verb::delete_, "/api/v1/rooms/" + room + "/peers/" + gusId, hostToken).status, 204);
  auto kicked = sfu_->waitCommand("remove_peer");
  ASSERT_TRUE(kicked);
  EXPECT_EQ(kicked->peer, gusId);
  // The removed guest's token is refused from now on.
  EXPECT_EQ(as(http::verb::get, "/api/v1/rooms/" + room + "/messages", gusToken).status, 403);

  EXPECT_EQ(as(http::verb::delete_, "/api/v1/rooms/" + room, hostToken).status, 204);
  auto closed = sfu_->waitCommand("delete_room");
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->room, room);
  EXPECT_EQ(get("/api/v1/rooms/" + room).status, 404);
  // The meeting link still works: the room is made again.
  auto back = join(code, "Ida again");
  ASSERT_EQ(back.status, 200) << back.raw;
  EXPECT_EQ(back.body["room"], room);
}

TEST_F(JoinTest, LateJoinersLoadTheChatHistory) {
  json m = makeMeeting(false);
  const std::string code = m["join_code"];
  const std::string room = m["room_id"];
  auto gus = join(code, "Gus");
  const std::string gusToken = gus.body["token"];
  EXPECT_EQ(as(http::verb::get, "/api/v1/rooms/" + room + "/messages", gusToken).body, json({{"messages", json::array()}}));
  // Chat arrives over the control link as events (the sfuserver relays signaling chat).
  control::NodeEvent started;
  started.event = "room_started";
  started.room = room;
  sfu_->report(started);
  for (int i = 0; i < 3; ++i) {
    control::NodeEvent chat;
    chat.event = "chat";
    chat.room = room;
    chat.peer = gus.body["identity"];
    chat.displayName = "Gus";
    chat.text = "hello " + std::to_string(i);
    chat.sentAt = 1'700'000'000'000 + i;
    sfu_->report(chat);
  }
  json messages;
  for (int i = 0; i < 200; ++i) {
    drainEvents();
    messages = as(http::verb::get, "/api/v1/rooms/" + room + "/messages?limit=2", gusToken).body["messages"];
    if (messages.size() == 2) break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(messages.size(), 2u) << messages;
  EXPECT_EQ(messages[0], json({{"from", gus.body["identity"]}, {"name", "Gus"}, {"text", "hello 1"}, {"time", 1'700'000'000'001}}));
  EXPECT_EQ(messages[1]["text"], "hello 2");
  auto late = join(code, "Late");
  EXPECT_EQ(as(http::verb::get, "/api/v1/rooms/" + room + "/messages", late.body["token"]).body["messages"].size(), 3u);
  EXPECT_EQ(as(http::verb::get, "/api/v1/rooms/" + room + "/messages?limit=100", apiKey_).body["messages"].size(), 3u);
  // Other rooms' tokens, sessions and nobody are refused; bad limits are 400.
  json other = makeMeeting(false);
  const std::string otherToken = join(other["join_code"], "X").body["token"];
  EXPECT_EQ(as(http::verb::get, "/api/v1/rooms/" + room + "/messages", otherToken).status, 403);
  EXPECT_EQ(as(http::verb::get, "/api/v1/rooms/" + room + "/messages", hostSession_).status, 401);
  EXPECT_EQ(as(http::verb::get, "/api/v1/rooms/" + room + "/messages", "").status, 401);
  EXPECT_EQ(as(http::verb::get, "/api/v1/rooms/" + room + "/messages?limit=0", gusToken).status, 400);
  EXPECT_EQ(as(http::verb::get, "/api/v1/rooms/" + room + "/messages?limit=x", gusToken).status, 400);
}

TEST_F(JoinTest, WaitingRoomPermissionMatrix) {
  json m = makeMeeting(true);
  const std::string code = m["join_code"];
  const std::string room = m["room_id"];
  const std::string hostToken = join(code, "Hanna", hostSession_).body["token"];
  // A guest admitted earlier (non-admin room token).
  auto g = join(code, "Gus");
  ASSERT_TRUE(as(http::verb::post, "/api/v1/rooms/" + room + "/waiting/" + g.body["ticket"].get<std::string>(), hostToken,
                 {{"admit", true}}).status == 200);
  const std::string guestToken = as(http::verb::get, "/api/v1/join/" + code + "/tickets/" + g.body["ticket"].get<std::string>(), "").body["token"];
  json other = makeMeeting(false);
  const std::string otherHost = join(other["join_code"], "Hanna", hostSession_).body["token"];
  const std::string ticket = join(code, "Wanda").body["ticket"];
  struct Case {
    std::string who, bearer;
    int list;
  };
  for (const Case& c : {Case{"none", "", 401}, Case{"guest", guestToken, 403}, Case{"other host", otherHost, 403},
                        Case{"user session", annSession_, 401}, Case{"host session", hostSession_, 401},
                        Case{"host", hostToken, 200}, Case{"api key", apiKey_, 200}}) {
    EXPECT_EQ(as(http::verb::get, "/api/v1/rooms/" + room + "/waiting", c.bearer).status, c.list) << c.who;
    if (c.list != 200) {
      EXPECT_EQ(as(http::verb::post, "/api/v1/rooms/" + room + "/waiting/" + ticket, c.bearer, {{"admit", true}}).status, c.list)
          << c.who;
    }
  }
  EXPECT_EQ(as(http::verb::get, "/api/v1/join/" + code + "/tickets/" + ticket, "").body["status"], "waiting");
  EXPECT_EQ(as(http::verb::post, "/api/v1/rooms/" + room + "/waiting/" + ticket, apiKey_, {{"admit", true}}).status, 200);
}

}  // namespace
}  // namespace meeting::api::test
