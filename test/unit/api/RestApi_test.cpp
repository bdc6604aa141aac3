// The REST API over real HTTP: rooms, peers, sessions, feedback, errors and authentication.
#include <fstream>
#include <regex>
#include <set>

#include "ApiFixture.hpp"
#include "common/AccessToken.hpp"
#include "common/TurnCredentials.hpp"

namespace meeting::api::test {
namespace {

control::NodeEvent event(const std::string& name, const std::string& room, const std::string& peer = {},
                         const std::string& displayName = {}) {
  control::NodeEvent e;
  e.event = name;
  e.room = room;
  e.peer = peer;
  e.displayName = displayName;
  return e;
}

// A concrete path for a route pattern ({name} -> a valid id).
std::string concrete(const std::string& pattern) {
  return std::regex_replace(pattern, std::regex(R"(\{[a-z_]+\})"), "1");
}

TEST_F(ApiFixture, EveryRouteRefusesAMissingOrWrongKey) {
  auto routes = router_.routes();
  ASSERT_GE(routes.size(), 20u);
  ASSERT_TRUE(storage_->createApiKey("revoked"));
  auto revoked = storage_->createApiKey("to-revoke");
  ASSERT_TRUE(revoked);
  ASSERT_TRUE(storage_->revokeApiKey(revoked->key.id));
  for (const auto& [method, pattern] : routes) {
    SCOPED_TRACE(method + " " + pattern);
    std::string path = concrete(pattern);
    if (method == "WEBSOCKET") {
      // The control link takes a control token, never an API key.
      for (const std::string& auth : std::vector<std::string>{"", "Bearer " + apiKey_, "Bearer not-a-token"}) {
        net::HttpClientOptions options;
        options.headers = {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"},
                           {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
        if (!auth.empty()) options.headers["Authorization"] = auth;
        auto r = net::httpRequest(http::verb::get, server_->url(path), {}, options);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->result_int(), 401) << auth;
      }
      continue;
    }
    auto verb = http::string_to_verb(method);
    // Public by design (JoinRoutes.cpp, AccountRoutes.cpp): sign-in, invitations and meeting links.
    static const std::set<std::string> publicRoutes{"/api/v1/auth/login", "/api/v1/invites/{invite}", "/api/v1/join/{code}",
                                                    "/api/v1/join/{code}/tickets/{ticket}"};
    if (publicRoutes.count(pattern)) continue;
    for (std::string key : {std::string(), std::string("mk_wrong"), revoked->secret}) {
      auto reply = call(verb, path, verb == http::verb::post ? "{}" : "", key);
      EXPECT_EQ(reply.status, 401) << "key '" << key << "'";
      EXPECT_TRUE(reply.body.contains("error")) << reply.raw;
    }
    // Another scheme is not a bearer key.
    net::HttpClientOptions basic;
    basic.headers["Authorization"] = "Basic " + apiKey_;
    auto r = net::httpRequest(verb, server_->url(path), {}, basic);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 401);
  }
}

// docs/api.yaml and the router agree: every route is documented and every documented
// operation is served.
TEST_F(ApiFixture, OpenApiDocumentMatchesTheRoutes) {
  std::ifstream file(std::string(MEETING_SOURCE_DIR) + "/docs/api.yaml");
  ASSERT_TRUE(file) << "docs/api.yaml missing";
  std::set<std::string> documented;
  std::string line, path;
  bool inPaths = false;
  std::regex pathLine(R"(^  (/[^:]*):\s*$)"), methodLine(R"(^    (get|post|put|patch|delete):\s*$)");
  std::smatch m;
  while (std::getline(file, line)) {
    if (line.rfind("paths:", 0) == 0) {
      inPaths = true;
      continue;
    }
    if (inPaths && !line.empty() && line[0] != ' ' && line[0] != '#') inPaths = false;
    if (!inPaths) continue;
    if (std::regex_match(line, m, pathLine)) path = m[1];
    else if (std::regex_match(line, m, methodLine)) documented.insert(m[1].str() + " " + path);
  }
  std::set<std::string> served;
  for (const auto& [method, pattern] : router_.routes()) {
    std::string verb = method == "WEBSOCKET" ? "get" : method;
    std::transform(verb.begin(), verb.end(), verb.begin(), ::tolower);
    served.insert(verb + " " + pattern);
  }
  for (const auto& op : served) EXPECT_TRUE(documented.count(op)) << op << " is not in docs/api.yaml";
  for (const auto& op : documented) {
    if (op.find(" /fs/v1/") != std::string::npos) continue;  // the fsserver's routes (test/unit/fs checks them)
    EXPECT_TRUE(served.count(op)) << op << " is documented but not served";
  }
}

TEST_F(ApiFixture, RoomsCreateGetListDelete) {
  auto created = post("/api/v1/rooms", {{"room_id", "standup"}, {"max_peers", 10}, {"video_codec", "vp8"},
                                        {"webhook_url", "https://hooks.example.com/x"}, {"peerless_purge_timeout", 60},
                                        {"peer_disconnected_timeout", 30}});
  ASSERT_EQ(created.status, 201) << created.raw;
  EXPECT_EQ(created.body["room"]["id"], "standup");
  EXPECT_EQ(created.body["room"]["config"]["max_peers"], 10);
  EXPECT_EQ(created.body["room"]["config"]["video_codec"], "vp8");
  EXPECT_EQ(created.body["room"]["config"]["peerless_purge_timeout"], 60);
  EXPECT_EQ(created.body["room"]["peers"], json::array());

  auto generated = post("/api/v1/rooms", json::object());
  ASSERT_EQ(generated.status, 201);
  EXPECT_EQ(generated.body["room"]["id"].get<std::string>().size(), 36u);  // a UUID
  EXPECT_TRUE(generated.body["room"]["config"]["max_peers"].is_null());

  auto duplicate = post("/api/v1/rooms", {{"room_id", "standup"}});
  EXPECT_EQ(duplicate.status, 409);
  EXPECT_EQ(duplicate.body["error"]["field"], "room_id");

  auto got = get("/api/v1/rooms/standup");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body["room"]["config"]["webhook_url"], "https://hooks.example.com/x");

  auto page = get("/api/v1/rooms?limit=1");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.body["rooms"].size(), 1u);
  ASSERT_TRUE(page.body["next"].is_string());
  auto rest = get("/api/v1/rooms?limit=10&after=" + page.body["next"].get<std::string>());
  EXPECT_EQ(rest.body["rooms"].size(), 1u);
  EXPECT_TRUE(rest.body["next"].is_null());

  EXPECT_EQ(del("/api/v1/rooms/standup").status, 204);
  EXPECT_EQ(get("/api/v1/rooms/standup").status, 404);
  EXPECT_EQ(del("/api/v1/rooms/standup").status, 404);
}

TEST_F(ApiFixture, RoomValidationNamesTheField) {
  struct Case {
    std::string body;
    std::string field;
  };
  std::vector<Case> cases = {
      {R"({"max_peers": 0})", "max_peers"},
      {R"({"max_peers": "3"})", "max_peers"},
      {R"({"max_peers": 1e3})", "max_peers"},
      {R"({"max_peers": 99999999999999999999})", "max_peers"},
      {R"({"video_codec": "mpeg2"})", "video_codec"},
      {R"({"video_codec": 1})", "video_codec"},
      {R"({"webhook_url": "ftp://x"})", "webhook_url"},
      {R"({"peerless_purge_timeout": -5})", "peerless_purge_timeout"},
      {R"({"peer_disconnected_timeout": true})", "peer_disconnected_timeout"},
      {R"({"room_id": "has space"})", "room_id"},
      {R"({"room_id": ""})", "room_id"},
      {R"({"room_id": ")" + std::string(200, 'a') + R"("})", "room_id"},
      {R"({"colour": "red"})", "colour"},
  };
  for (const auto& c : cases) {
    auto r = call(http::verb::post, "/api/v1/rooms", c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    EXPECT_EQ(r.body["error"]["code"], "invalid_field") << c.body;
    EXPECT_EQ(r.body["error"]["field"], c.field) << c.body;
  }
  for (const std::string& bad : std::vector<std::string>{"{", "[]", "\"room\"", "null", "{\"room_id\":\"\xff\"}"}) {
    auto r = call(http::verb::post, "/api/v1/rooms", bad);
    EXPECT_EQ(r.status, 400) << bad;
  }
  // Deep nesting is refused before anything recurses over it.
  EXPECT_EQ(call(http::verb::post, "/api/v1/rooms", "{\"max_peers\":" + std::string(60000, '[')).status, 400);
  EXPECT_EQ(call(http::verb::post, "/api/v1/rooms", R"({"webhook_url": "https://h.example.com/[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})").status, 201);
  EXPECT_EQ(get("/api/v1/rooms?limit=0").status, 400);
  EXPECT_EQ(get("/api/v1/rooms?limit=abc").status, 400);
  EXPECT_EQ(get("/api/v1/rooms?after=nonexistent").status, 200);
  EXPECT_EQ(get("/api/v1/rooms/bad%20id").status, 400);
  // Too large a body is refused before it is read.
  EXPECT_EQ(call(http::verb::post, "/api/v1/rooms", std::string(100 * 1024, ' ')).status, 413);
}

TEST_F(ApiFixture, AddPeerWithoutAMediaServerIs503WithRetryAfter) {
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "r"}}).status, 201);
  auto r = post("/api/v1/rooms/r/peers", json::object());
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.retryAfter, "5");
  EXPECT_EQ(r.body["error"]["code"], "unavailable");
  EXPECT_EQ(post("/api/v1/rooms/missing/peers", json::object()).status, 404);
}

TEST_F(ApiFixture, AddPeerReturnsTokenWsUrlAndIceServers) {
  FakeNode sfu(*hub_, sfuInfo());
  FakeNode turn(*hub_, control::NodeInfo{"turn-1", "turn", "203.0.113.7:3478", "", 1000});
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "r"}, {"max_peers", 2}}).status, 201);
  auto r = post("/api/v1/rooms/r/peers", {{"type", "webrtc"}, {"display_name", "Ada"}, {"metadata", {{"seat", 4}}},
                                          {"grants", {{"can_publish", false}}}});
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body["ws_url"], "wss://sfu1.example.com:443/rtc");
  const json& peer = r.body["peer"];
  EXPECT_EQ(peer["status"], "disconnected");
  EXPECT_EQ(peer["type"], "webrtc");
  EXPECT_EQ(peer["tracks"], json::array());
  EXPECT_EQ(peer["metadata"]["seat"], 4);
  int64_t now = clock_.wallMicros() / 1'000'000;
  auto claims = token::verifyAccessToken(r.body["token"].get<std::string>(), Secret, now);
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(claims->room, "r");
  EXPECT_EQ(claims->identity, peer["id"]);
  EXPECT_EQ(claims->displayName, "Ada");
  EXPECT_FALSE(claims->grants.canPublish);
  EXPECT_TRUE(claims->grants.canSubscribe);
  EXPECT_EQ(claims->expiresAt - claims->issuedAt, 6 * 3600);

  ASSERT_EQ(r.body["ice_servers"].size(), 1u);
  const json& ice = r.body["ice_servers"][0];
  EXPECT_EQ(ice["urls"][1], "turn:203.0.113.7:3478?transport=udp");
  std::string username = ice["username"];
  EXPECT_EQ(username, std::to_string(now + 6 * 3600) + ":" + peer["id"].get<std::string>());
  EXPECT_EQ(ice["credential"], turnRestPassword(Secret, username));

  // The hosting sfuserver is told over the control link.
  auto command = sfu.waitCommand("add_peer");
  ASSERT_TRUE(command);
  EXPECT_EQ(command->room, "r");
  EXPECT_EQ(command->peer, peer["id"]);
  EXPECT_EQ(command->roomConfig["max_peers"], 2);

  // Custom peer id, duplicates, max_peers.
  auto second = post("/api/v1/rooms/r/peers", {{"peer_id", "bob"}});
  ASSERT_EQ(second.status, 201);
  EXPECT_EQ(second.body["peer"]["id"], "bob");
  auto full = post("/api/v1/rooms/r/peers", {{"peer_id", "carol"}});
  EXPECT_EQ(full.status, 403);
  EXPECT_EQ(full.body["error"]["code"], "room_full");

  auto list = get("/api/v1/rooms/r/peers");
  EXPECT_EQ(list.body["peers"].size(), 2u);
  EXPECT_EQ(get("/api/v1/rooms/r").body["room"]["peers"].size(), 2u);
  EXPECT_EQ(get("/api/v1/rooms/r/peers/bob").body["peer"]["id"], "bob");
  EXPECT_EQ(get("/api/v1/rooms/r/peers/nobody").status, 404);

  EXPECT_EQ(del("/api/v1/rooms/r/peers/bob").status, 204);
  auto kicked = sfu.waitCommand("remove_peer");
  ASSERT_TRUE(kicked);
  EXPECT_EQ(kicked->peer, "bob");
  EXPECT_EQ(del("/api/v1/rooms/r/peers/bob").status, 404);

  EXPECT_EQ(del("/api/v1/rooms/r").status, 204);
  auto closed = sfu.waitCommand("delete_room");
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->room, "r");
  EXPECT_EQ(get("/api/v1/rooms/r/peers").status, 404);
}

TEST_F(ApiFixture, PeerValidation) {
  FakeNode sfu(*hub_, sfuInfo());
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "r"}}).status, 201);
  std::vector<std::pair<json, std::string>> cases = {
      {{{"type", "sip"}}, "type"},
      {{{"peer_id", "a/b"}}, "peer_id"},
      {{{"display_name", 5}}, "display_name"},
      {{{"grants", {{"can_publish", "yes"}}}}, "grants.can_publish"},
      {{{"grants", {{"fly", true}}}}, "grants.fly"},
      {{{"metadata", std::string(5000, 'x')}}, "metadata"},
      {{{"options", {{"enable_simulcast", 1}}}}, "options.enable_simulcast"},
  };
  for (const auto& [body, field] : cases) {
    auto r = post("/api/v1/rooms/r/peers", body);
    EXPECT_EQ(r.status, 400) << body.dump();
    EXPECT_EQ(r.body["error"]["field"], field) << body.dump();
  }
}

TEST_F(ApiFixture, EventsBecomeSessionsChatAndPeerState) {
  FakeNode sfu(*hub_, sfuInfo());
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "r"}}).status, 201);
  auto added = post("/api/v1/rooms/r/peers", {{"peer_id", "ada"}, {"display_name", "Ada"}});
  ASSERT_EQ(added.status, 201);
  EXPECT_EQ(get("/api/v1/rooms/r/session").status, 404);

  sfu.report(event("room_started", "r"));
  auto joined = event("peer_connected", "r", "ada");
  sfu.report(joined);
  auto track = event("track_published", "r", "ada");
  track.track = {"t1", "video", "camera"};
  sfu.report(track);
  auto chat = event("chat", "r", "ada", "Ada");
  chat.text = "hello, world";
  sfu.report(chat);
  for (int i = 0; i < 100 && get("/api/v1/rooms/r/peers/ada").body["peer"]["tracks"].empty(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  drainEvents();
  auto peer = get("/api/v1/rooms/r/peers/ada").body["peer"];
  EXPECT_EQ(peer["status"], "connected");
  ASSERT_EQ(peer["tracks"].size(), 1u);
  EXPECT_EQ(peer["tracks"][0]["type"], "video");

  auto session = get("/api/v1/rooms/r/session");
  ASSERT_EQ(session.status, 200) << session.raw;
  int64_t sid = session.body["session"]["id"];
  std::string base = "/api/v1/sessions/" + std::to_string(sid);
  EXPECT_EQ(get(base).body["session"]["room_id"], "r");
  auto users = get(base + "/users");
  ASSERT_EQ(users.body["users"].size(), 1u);
  EXPECT_EQ(users.body["users"][0]["peer_id"], "ada");
  EXPECT_EQ(users.body["users"][0]["display_name"], "Ada");
  EXPECT_TRUE(users.body["users"][0]["left_at"].is_null());
  auto messages = get(base + "/messages");
  ASSERT_EQ(messages.body["messages"].size(), 1u);
  EXPECT_EQ(messages.body["messages"][0]["text"], "hello, world");

  auto left = event("peer_left", "r", "ada");
  left.reason = "leave";
  sfu.report(left);
  for (int i = 0; i < 100 && get("/api/v1/rooms/r/peers/ada").status == 200; ++i) std::this_thread::sleep_for(10ms);
  drainEvents();
  users = get(base + "/users");
  EXPECT_FALSE(users.body["users"][0]["left_at"].is_null());
  EXPECT_EQ(users.body["users"][0]["leave_reason"], "leave");

  // Feedback.
  auto fb = post(base + "/feedback", {{"peer_id", "ada"}, {"rating", 5}, {"comment", "clear audio"}});
  ASSERT_EQ(fb.status, 201) << fb.raw;
  EXPECT_EQ(get(base + "/feedback").body["feedback"][0]["comment"], "clear audio");
  EXPECT_EQ(post(base + "/feedback", {{"rating", 6}}).body["error"]["field"], "rating");
  EXPECT_EQ(post(base + "/feedback", json::object()).body["error"]["field"], "rating");
  EXPECT_EQ(post("/api/v1/sessions/999/feedback", {{"rating", 3}}).status, 404);
  EXPECT_EQ(get("/api/v1/sessions/abc").status, 400);
  EXPECT_EQ(get("/api/v1/sessions/0/users").status, 400);
  EXPECT_EQ(get("/api/v1/sessions/999/messages").status, 404);
}

TEST_F(ApiFixture, SilentServerIsMarkedDownAndGetsNoNewRooms) {
  registry_->upsert(sfuInfo("quiet"));
  auto nodes = get("/api/v1/nodes");
  ASSERT_EQ(nodes.body["nodes"].size(), 1u);
  EXPECT_EQ(nodes.body["nodes"][0]["status"], "up");
  clock_.advance(6s);
  EXPECT_EQ(get("/api/v1/nodes").body["nodes"][0]["status"], "down");
  EXPECT_EQ(registry_->sweep(), std::vector<std::string>{});  // first sweep saw it down already
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "r"}}).status, 201);
  EXPECT_EQ(post("/api/v1/rooms/r/peers", json::object()).status, 503);
  EXPECT_EQ(get("/api/v1/nodes?role=printer").status, 400);
}

TEST_F(ApiFixture, LeastLoadedServerHostsANewRoomAndARoomStaysOnItsServer) {
  registry_->upsert({"a", "sfu", "a.example.com:443", "wss://a.example.com/rtc", 100});
  registry_->upsert({"b", "sfu", "b.example.com:443", "wss://b.example.com/rtc", 100});
  registry_->report("a", {50, 3, 50});
  registry_->report("b", {10, 1, 10});
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "r"}}).status, 201);
  EXPECT_EQ(post("/api/v1/rooms/r/peers", json::object()).body["ws_url"], "wss://b.example.com/rtc");
  registry_->report("b", {90, 5, 90});
  // All peers of a room on one sfuserver, even when it is no longer the least loaded.
  EXPECT_EQ(post("/api/v1/rooms/r/peers", json::object()).body["ws_url"], "wss://b.example.com/rtc");
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "s"}}).status, 201);
  EXPECT_EQ(post("/api/v1/rooms/s/peers", json::object()).body["ws_url"], "wss://a.example.com/rtc");
}

}  // namespace
}  // namespace meeting::api::test

namespace meeting::api::test {
namespace {

// After an apiserver restart the peers come back from the sfuserver's events.
TEST_F(ApiFixture, UnknownConnectedPeerIsLearnedAndItsLeaveRecorded) {
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "r"}}).status, 201);
  control::NodeEvent joined;
  joined.event = "peer_connected";
  joined.room = "r";
  joined.peer = "returning";
  joined.displayName = "Grace";
  recorder_->apply(joined);
  auto peer = get("/api/v1/rooms/r/peers/returning");
  ASSERT_EQ(peer.status, 200);
  EXPECT_EQ(peer.body["peer"]["status"], "connected");
  control::NodeEvent left = joined;
  left.event = "peer_left";
  left.reason = "network";
  recorder_->apply(left);
  EXPECT_EQ(get("/api/v1/rooms/r/peers/returning").status, 404);
  int64_t sid = get("/api/v1/rooms/r/session").body["session"]["id"];
  auto users = get("/api/v1/sessions/" + std::to_string(sid) + "/users");
  ASSERT_EQ(users.body["users"].size(), 1u);
  EXPECT_EQ(users.body["users"][0]["leave_reason"], "network");
  EXPECT_EQ(users.body["users"][0]["display_name"], "Grace");
  // Events for rooms nobody knows, or without a room, are logged and ignored.
  control::NodeEvent stray;
  stray.event = "chat";
  recorder_->apply(stray);
  stray.room = "never-created";
  stray.event = "room_ended";
  recorder_->apply(stray);
}

}  // namespace
}  // namespace meeting::api::test
