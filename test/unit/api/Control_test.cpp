// The control link: message codec, control tokens, and the WebSocket client against the hub over
// a real HTTP server (register, load, commands and acks, events, wrong secret, reconnect).
#include "ApiFixture.hpp"
#include "common/AccessToken.hpp"

namespace meeting::api::test {
namespace {

using control::ControlMessage;
using T = ControlMessage::Type;

ControlMessage roundTrip(const ControlMessage& m) {
  auto parsed = control::parseControlMessage(control::serializeControlMessage(m));
  EXPECT_TRUE(parsed) << control::serializeControlMessage(m);
  return parsed ? *parsed : ControlMessage{};
}

TEST(ControlMessages, RoundTripEveryType) {
  ControlMessage reg;
  reg.type = T::Register;
  reg.node = {"sfu-1", "sfu", "1.sfuserver.com:443", "wss://1.sfuserver.com:443/rtc", 500};
  auto r = roundTrip(reg);
  EXPECT_EQ(r.type, T::Register);
  EXPECT_EQ(r.version, control::ProtocolVersion);
  EXPECT_EQ(r.node.id, "sfu-1");
  EXPECT_EQ(r.node.wsUrl, "wss://1.sfuserver.com:443/rtc");
  EXPECT_EQ(r.node.capacity, 500);

  ControlMessage load;
  load.type = T::Load;
  load.load = {42, 3, 40, nullptr};
  EXPECT_EQ(roundTrip(load).load.peers, 40);

  ControlMessage ev;
  ev.type = T::Event;
  ev.event.event = "track_published";
  ev.event.room = "r";
  ev.event.peer = "p";
  ev.event.track = {"t", "audio", "microphone"};
  ev.event.metadata = {{"k", 1}};
  auto e = roundTrip(ev);
  EXPECT_EQ(e.event.track.source, "microphone");
  EXPECT_EQ(e.event.metadata["k"], 1);

  ControlMessage cmd;
  cmd.type = T::Command;
  cmd.command = {7, "add_peer", "r", "p", "Ada", {{"max_peers", 3}}, nullptr};
  auto c = roundTrip(cmd);
  EXPECT_EQ(c.command.id, 7u);
  EXPECT_EQ(c.command.displayName, "Ada");
  EXPECT_EQ(c.command.roomConfig["max_peers"], 3);

  ControlMessage ack;
  ack.type = T::Ack;
  ack.ack = {7, false, "no such room"};
  auto a = roundTrip(ack);
  EXPECT_FALSE(a.ack.ok);
  EXPECT_EQ(a.ack.error, "no such room");

  ControlMessage registered;
  registered.type = T::Registered;
  registered.downAfterMs = 4000;
  EXPECT_EQ(roundTrip(registered).downAfterMs, 4000);
}

TEST(ControlMessages, MalformedIsRefused) {
  for (const char* bad : {
           "", "{", "[]", "42", R"({"type": 1})", R"({"type": "dance"})",
           R"({"type": "register", "role": "sfu"})",                    // no id
           R"({"type": "register", "id": "a", "role": "printer"})",     // unknown role
           R"({"type": "register", "id": "a", "role": "sfu", "capacity": -1})",
           R"({"type": "register", "id": "a", "role": "sfu", "capacity": 1.5})",
           R"({"type": "load", "load": "high"})",
           R"({"type": "event", "room": "r"})",                         // no event name
           R"({"type": "event", "event": "chat", "track": "t"})",
           R"({"type": "command", "id": 1})",
           R"({"type": "command", "id": 1, "command": "add_peer", "room_config": []})",
           R"({"type": "ack", "id": 1})",                               // ok missing
           R"({"type": "ack", "id": 18446744073709551615, "ok": true})",
       }) {
    EXPECT_FALSE(control::parseControlMessage(bad)) << bad;
  }
  std::string longId = R"({"type": "register", "role": "sfu", "id": ")" + std::string(300, 'a') + "\"}";
  EXPECT_FALSE(control::parseControlMessage(longId));
  std::string huge = R"({"type": "load", "pad": ")" + std::string(control::MaxMessageBytes, 'a') + "\"}";
  EXPECT_FALSE(control::parseControlMessage(huge));
}

TEST(ControlToken, SignedShortLivedAndNotAPeerToken) {
  auto t = control::makeControlToken("s", "sfu-1", "sfu", 1000, 60);
  ASSERT_TRUE(t);
  auto node = control::verifyControlToken(*t, "s", 1010);
  ASSERT_TRUE(node) << node.error().message;
  EXPECT_EQ(*node, "sfu-1");
  EXPECT_EQ(control::verifyControlToken(*t, "other", 1010).error().code, token::errc::BadSignature);
  EXPECT_EQ(control::verifyControlToken(*t, "s", 1060).error().code, token::errc::Expired);
  // Neither kind of token opens the other door.
  EXPECT_EQ(token::verifyAccessToken(*t, "s", 1010).error().code, token::errc::WrongAudience);
  token::AccessClaims claims{"r", "p", "", {}, 1000, 2000};
  auto peer = token::signAccessToken(claims, "s");
  ASSERT_TRUE(peer);
  EXPECT_EQ(control::verifyControlToken(*peer, "s", 1010).error().code, token::errc::WrongAudience);
  EXPECT_FALSE(control::verifyControlToken("", "s", 1010));
}

// The WebSocket client runs on its own loop with the real clock; the hub's clock is manual.
class ControlLinkTest : public ApiFixture {
 protected:
  struct Client {
    net::EventLoopThread thread{"control-client"};
    std::unique_ptr<control::ControlClient> client;
    std::mutex mutex;
    std::vector<control::Command> commands;
  };

  std::unique_ptr<Client> connect(const std::string& secret, uint16_t port, control::NodeInfo node) {
    auto c = std::make_unique<Client>();
    control::ControlClientOptions options;
    options.apiServer = "ws://127.0.0.1:" + std::to_string(port);
    options.secret = secret;
    options.node = node;
    options.loadInterval = 100ms;
    options.minBackoff = 50ms;
    options.maxBackoff = 200ms;
    std::promise<void> started;
    Client* raw = c.get();
    c->thread.loop().post([&, raw] {
      raw->client = control::makeWebSocketControlClient(
          raw->thread.loop(), options,
          [raw](const control::Command& command) {
            std::lock_guard lock(raw->mutex);
            raw->commands.push_back(command);
            return control::CommandAck{command.id, command.command != "delete_room", "refused in test"};
          },
          [] { return control::LoadReport{7, 2, 7, nullptr}; });
      raw->client->start();
      started.set_value();
    });
    started.get_future().wait();
    return c;
  }
  void disconnect(std::unique_ptr<Client>& c) {
    std::promise<void> done;
    c->thread.loop().post([&] {
      c->client.reset();
      done.set_value();
    });
    done.get_future().wait();
    c.reset();
  }
  bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return condition();
  }
  bool alive(const std::string& id) {
    auto n = registry_->get(id);
    return n && n->alive;
  }
};

TEST_F(ControlLinkTest, RegistersReportsLoadRunsCommandsAndEvents) {
  auto c = connect(Secret, server_->port(), sfuInfo("ws-sfu"));
  ASSERT_TRUE(waitFor([&] { return alive("ws-sfu"); }));
  ASSERT_TRUE(waitFor([&] { return registry_->get("ws-sfu")->load.load == 7; }));
  EXPECT_EQ(registry_->get("ws-sfu")->info.wsUrl, "wss://sfu1.example.com:443/rtc");

  std::promise<control::CommandAck> acked;
  control::Command command;
  command.command = "add_peer";
  command.room = "r";
  command.peer = "p";
  ASSERT_TRUE(hub_->sendCommand("ws-sfu", command, [&](const control::CommandAck& a) { acked.set_value(a); }));
  auto ack = acked.get_future();
  ASSERT_EQ(ack.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(ack.get().ok);
  std::promise<control::CommandAck> refused;
  command.command = "delete_room";
  ASSERT_TRUE(hub_->sendCommand("ws-sfu", command, [&](const control::CommandAck& a) { refused.set_value(a); }));
  auto refusal = refused.get_future();
  ASSERT_EQ(refusal.wait_for(5s), std::future_status::ready);
  auto refusedAck = refusal.get();
  EXPECT_FALSE(refusedAck.ok);
  EXPECT_EQ(refusedAck.error, "refused in test");

  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "r"}}).status, 201);
  control::NodeEvent started;
  started.event = "room_started";
  started.room = "r";
  c->client->reportEvent(started);
  ASSERT_TRUE(waitFor([&] { return get("/api/v1/rooms/r/session").status == 200; }));

  // The node is in the database too.
  drainEvents();
  auto nodes = storage_->listNodes("sfu");
  ASSERT_TRUE(nodes);
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ((*nodes)[0].address, "sfu1.example.com:443");

  disconnect(c);
  EXPECT_TRUE(waitFor([&] { return !alive("ws-sfu"); }));
  EXPECT_FALSE(hub_->sendCommand("ws-sfu", command));
}

TEST_F(ControlLinkTest, WrongSecretNeverRegisters) {
  auto c = connect("not-the-secret", server_->port(), sfuInfo("intruder"));
  std::this_thread::sleep_for(400ms);  // several attempts with the short backoff
  EXPECT_FALSE(registry_->get("intruder"));
  disconnect(c);
}

TEST_F(ControlLinkTest, ReconnectsAfterTheApiserverRestarts) {
  uint16_t port = server_->port();
  auto c = connect(Secret, port, sfuInfo("phoenix"));
  ASSERT_TRUE(waitFor([&] { return alive("phoenix"); }));
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "held"}}).status, 201);
  server_.reset();  // the apiserver goes away: the link drops
  ASSERT_TRUE(waitFor([&] { return !alive("phoenix"); }));
  // An event raised during the outage is held and delivered after the re-registration.
  control::NodeEvent started;
  started.event = "room_started";
  started.room = "held";
  c->client->reportEvent(started);
  std::this_thread::sleep_for(300ms);  // a few refused attempts
  server_ = std::make_unique<TestHttpServer>(router_, port);
  EXPECT_TRUE(waitFor([&] { return alive("phoenix"); })) << "no re-registration after restart";
  EXPECT_TRUE(waitFor([&] {
    drainEvents();
    return get("/api/v1/rooms/held/session").status == 200;
  })) << "the event of the outage was lost";
  disconnect(c);
}

TEST_F(ControlLinkTest, ProtocolViolationsCloseTheLink) {
  std::vector<std::string> sent;
  std::mutex mutex;
  bool closed = false;
  control::ControlHub::LinkOps ops{[&](std::string text) {
                                     std::lock_guard lock(mutex);
                                     sent.push_back(text);
                                   },
                                   [&](uint16_t, std::string) { closed = true; }};
  auto link = hub_->attach(ops, "expected-id");
  hub_->receive(link, R"({"type": "load", "load": 1})");  // before register
  EXPECT_TRUE(closed);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_NE(sent[0].find("not_registered"), std::string::npos);
  hub_->detach(link);

  closed = false;
  link = hub_->attach(ops, "expected-id");
  hub_->receive(link, R"({"type": "register", "id": "someone-else", "role": "sfu"})");
  EXPECT_TRUE(closed);
  EXPECT_FALSE(registry_->get("someone-else"));
  hub_->detach(link);

  closed = false;
  link = hub_->attach(ops, "");
  hub_->receive(link, "garbage");
  EXPECT_TRUE(closed);
  hub_->detach(link);
}

}  // namespace
}  // namespace meeting::api::test
