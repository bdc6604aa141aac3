// The room's signaling on a real worker: join/leave events, max_peers, hostile messages that
// get an error and change nothing, resume within the reconnect grace without a leave for the
// others, the grace running out, subscription and pause of another participant's track.
#include "sfu/room/Room.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

namespace meeting::sfu {
namespace {
using nlohmann::json;

template <typename F>
auto onLoop(MediaWorker& worker, F&& f) {
  std::promise<decltype(f())> result;
  auto future = result.get_future();
  worker.loop().post([&] { result.set_value(f()); });
  return future.get();
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// What one participant's signaling connection received (written on the worker thread).
struct Inbox {
  std::mutex mutex;
  std::vector<json> messages;
  Room::SendText sender() {
    return [this](std::string text) {
      std::lock_guard lock(mutex);
      messages.push_back(json::parse(text));
    };
  }
  std::vector<json> ofType(const std::string& type) {
    std::lock_guard lock(mutex);
    std::vector<json> out;
    for (const auto& m : messages) {
      if (m["type"] == type) out.push_back(m);
    }
    return out;
  }
  size_t size() {
    std::lock_guard lock(mutex);
    return messages.size();
  }
};

token::AccessClaims claims(const std::string& identity) {
  token::AccessClaims c;
  c.room = "r";
  c.identity = identity;
  c.displayName = identity;
  return c;
}

class RoomTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = MediaWorker::create(MediaWorkerOptions{0, "127.0.0.1", 0, {}});
    ASSERT_TRUE(created) << created.error().message;
    worker_ = std::move(*created);
  }
  void TearDown() override {
    onLoop(*worker_, [this] {
      room_.reset();
      return 0;
    });
  }
  void makeRoom(RoomSettings settings) {
    onLoop(*worker_, [&] {
      room_ = std::make_unique<Room>(*worker_, "r", settings, [this](RoomEvent e) {
        std::lock_guard lock(eventsMutex_);
        events_.push_back(e.event + ":" + e.peer + ":" + e.reason);
      });
      room_->setOnEmpty([this] { emptied_ = true; });
      return 0;
    });
  }
  bool join(const std::string& identity, uint64_t connection, Inbox& inbox, bool resume = false) {
    return onLoop(*worker_, [&] { return static_cast<bool>(room_->join(claims(identity), connection, inbox.sender(), resume)); });
  }
  void send(const std::string& identity, uint64_t connection, const std::string& text) {
    onLoop(*worker_, [&] {
      room_->handleMessage(identity, connection, text);
      return 0;
    });
  }
  std::vector<std::string> events() {
    std::lock_guard lock(eventsMutex_);
    return events_;
  }
  // The publish offer Chromium 156 made (audio + video + data channel), from test/data.
  void publish(const std::string& identity, uint64_t connection) {
    auto sdp = readFile(std::string(MEETING_TEST_DATA) + "/sdp/captured/chromium156_publishOffer.sdp");
    ASSERT_FALSE(sdp.empty());
    send(identity, connection, json{{"type", "publish"}, {"sdp", sdp}}.dump());
  }

  std::unique_ptr<MediaWorker> worker_;
  std::unique_ptr<Room> room_;
  std::mutex eventsMutex_;
  std::vector<std::string> events_;
  std::atomic<bool> emptied_{false};
};

TEST_F(RoomTest, JoinAnnouncesAndMaxPeersRefusesWithoutChangingAnything) {
  RoomSettings settings;
  settings.maxPeers = 2;
  makeRoom(settings);
  Inbox a, b, c;
  ASSERT_TRUE(join("a", 1, a));
  ASSERT_TRUE(join("b", 2, b));
  auto joined = b.ofType("joined");
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0]["protocol"], 1);
  EXPECT_EQ(joined[0]["resumed"], false);
  EXPECT_EQ(joined[0]["participants"].size(), 1u);
  EXPECT_EQ(a.ofType("participantJoined").size(), 1u);

  auto before = a.size();
  auto refused = onLoop(*worker_, [&] { return room_->join(claims("c"), 3, c.sender()); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "room_full");
  EXPECT_EQ(onLoop(*worker_, [&] { return room_->participantCount(); }), 2u);
  EXPECT_EQ(a.size(), before) << "the others must not hear of a refused join";
  EXPECT_EQ(c.size(), 0u);
}

TEST_F(RoomTest, HostileMessagesGetAnErrorAndChangeNothing) {
  makeRoom({});
  Inbox a, b;
  ASSERT_TRUE(join("a", 1, a));
  ASSERT_TRUE(join("b", 2, b));
  publish("b", 2);
  ASSERT_EQ(b.ofType("publishAnswer").size(), 1u);
  auto published = a.ofType("trackPublished");
  ASSERT_EQ(published.size(), 2u);
  std::string bTrack = published[0]["track"]["id"];
  auto aMessagesBefore = a.size();
  auto bMessagesBefore = b.size();

  const std::vector<std::pair<std::string, std::string>> hostile = {
      {"{not json", "bad_message"},
      {"[1,2,3]", "bad_message"},
      {R"({"type": 7})", "bad_message"},
      {R"({"type": "nonsense"})", "unknown_type"},
      {json{{"type", "mute"}, {"trackId", bTrack}, {"muted", true}}.dump(), "unknown_track"},  // another peer's track
      {R"({"type": "mute", "trackId": "x"})", "bad_message"},
      {json{{"type", "chat"}, {"text", std::string(5000, 'x')}}.dump(), "bad_message"},
      {R"({"type": "subscribeAnswer", "sdp": "v=0", "version": 99})", "stale_answer"},
      {R"({"type": "publish", "sdp": "garbage"})", "invalid_sdp"},
      {R"({"type": "subscription", "trackId": "TR_unknown", "subscribe": true})", "unknown_track"},
      {R"({"type": "pause", "trackId": "TR_unknown", "paused": true})", "unknown_track"},
      {R"({"type": "pause", "trackId": "TR_unknown", "paused": "yes"})", "bad_message"},
  };
  for (const auto& [text, code] : hostile) {
    auto before = a.ofType("error").size();
    send("a", 1, text);
    auto errors = a.ofType("error");
    ASSERT_EQ(errors.size(), before + 1) << text;
    EXPECT_EQ(errors.back()["code"], code) << text;
  }
  // Only error replies to a; b heard nothing; b's track is still unmuted.
  EXPECT_EQ(a.size(), aMessagesBefore + hostile.size());
  EXPECT_EQ(b.size(), bMessagesBefore);
  EXPECT_TRUE(a.ofType("trackMuted").empty());
  // A message on a connection that is not the participant's current one is ignored.
  send("a", 42, R"({"type": "leave"})");
  EXPECT_EQ(onLoop(*worker_, [&] { return room_->participantCount(); }), 2u);
}

TEST_F(RoomTest, ResumeWithinTheGraceIsInvisibleToOthers) {
  RoomSettings settings;
  settings.reconnectGrace = std::chrono::seconds(30);
  makeRoom(settings);
  Inbox a, b, b2;
  ASSERT_TRUE(join("a", 1, a));
  ASSERT_TRUE(join("b", 2, b));
  publish("b", 2);
  onLoop(*worker_, [&] {
    room_->disconnect("b", 2);
    return 0;
  });
  EXPECT_EQ(onLoop(*worker_, [&] { return room_->participantCount(); }), 2u) << "b keeps its place";
  ASSERT_TRUE(join("b", 3, b2, true));
  auto joined = b2.ofType("joined");
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0]["resumed"], true);
  EXPECT_EQ(joined[0]["self"]["tracks"].size(), 2u) << "its published tracks are still there";
  EXPECT_EQ(onLoop(*worker_, [&] { return room_->connectionOf("b"); }), 3u);
  EXPECT_TRUE(a.ofType("participantLeft").empty());
  EXPECT_EQ(a.ofType("participantJoined").size(), 1u);
  EXPECT_TRUE(a.ofType("trackUnpublished").empty());
  // The old connection is ignored from now on.
  send("b", 2, R"({"type": "leave"})");
  EXPECT_EQ(onLoop(*worker_, [&] { return room_->participantCount(); }), 2u);
  for (const auto& e : events()) EXPECT_EQ(e.find("peer_left"), std::string::npos) << e;
}

TEST_F(RoomTest, JoiningAgainWithoutResumeReplaces) {
  makeRoom({});
  Inbox a, b, b2;
  ASSERT_TRUE(join("a", 1, a));
  ASSERT_TRUE(join("b", 2, b));
  ASSERT_TRUE(join("b", 3, b2, false));
  auto left = a.ofType("participantLeft");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0]["reason"], "replaced");
  EXPECT_EQ(a.ofType("participantJoined").size(), 2u);
}

TEST_F(RoomTest, GraceRunningOutIsALeaveAndTheEmptyRoomSaysSo) {
  RoomSettings settings;
  settings.reconnectGrace = std::chrono::seconds(1);
  makeRoom(settings);
  Inbox a, b;
  ASSERT_TRUE(join("a", 1, a));
  ASSERT_TRUE(join("b", 2, b));
  onLoop(*worker_, [&] {
    room_->disconnect("b", 2);
    return 0;
  });
  for (int i = 0; i < 50 && a.ofType("participantLeft").empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto left = a.ofType("participantLeft");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0]["reason"], "timeout");
  EXPECT_FALSE(emptied_);
  onLoop(*worker_, [&] {
    room_->leave("a", "left", 1);
    return 0;
  });
  for (int i = 0; i < 50 && !emptied_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(emptied_);
}

TEST_F(RoomTest, UnsubscribeAndPauseAnotherParticipantsTrack) {
  makeRoom({});
  Inbox a, b;
  ASSERT_TRUE(join("a", 1, a));
  ASSERT_TRUE(join("b", 2, b));
  publish("b", 2);
  auto published = a.ofType("trackPublished");
  ASSERT_EQ(published.size(), 2u);
  std::string track = published[1]["track"]["id"];
  auto offers = a.ofType("subscribeOffer").size();
  ASSERT_GE(offers, 1u);

  send("a", 1, json{{"type", "pause"}, {"trackId", track}, {"paused", true}}.dump());
  auto updates = a.ofType("subscriptionUpdated");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0]["paused"], true);
  EXPECT_EQ(a.ofType("subscribeOffer").size(), offers) << "a pause needs no renegotiation";

  // Unsubscribing: acknowledged; the section goes inactive in the next offer.
  send("a", 1, json{{"type", "subscription"}, {"trackId", track}, {"subscribe", false}}.dump());
  updates = a.ofType("subscriptionUpdated");
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[1]["subscribed"], false);
  // A pause of a track one does not receive is refused.
  send("a", 1, json{{"type", "pause"}, {"trackId", track}, {"paused", false}}.dump());
  EXPECT_EQ(a.ofType("error").back()["code"], "unknown_track");
  // Subscribing to one's own track is refused.
  auto own = b.ofType("trackPublished");
  ASSERT_FALSE(own.empty());
  send("b", 2, json{{"type", "subscription"}, {"trackId", own[0]["track"]["id"]}, {"subscribe", true}}.dump());
  EXPECT_EQ(b.ofType("error").back()["code"], "unknown_track");
  // And back.
  send("a", 1, json{{"type", "subscription"}, {"trackId", track}, {"subscribe", true}}.dump());
  updates = a.ofType("subscriptionUpdated");
  ASSERT_EQ(updates.size(), 3u);
  EXPECT_EQ(updates[2]["subscribed"], true);
}

TEST(KeyframeRequestLimiter, MergesRequestsWithinTheInterval) {
  KeyframeRequestLimiter limiter(std::chrono::milliseconds(300));
  TimePoint t{};
  EXPECT_TRUE(limiter.allow(t, false));
  for (int i = 1; i < 10; ++i) EXPECT_FALSE(limiter.allow(t + std::chrono::milliseconds(i * 20), false));
  EXPECT_EQ(limiter.merged(), 9u);
  EXPECT_TRUE(limiter.allow(t + std::chrono::milliseconds(250), true)) << "a new subscriber always gets one";
  EXPECT_FALSE(limiter.allow(t + std::chrono::milliseconds(500), false)) << "the interval counts from the last request sent";
  EXPECT_TRUE(limiter.allow(t + std::chrono::milliseconds(550), false));
}

}  // namespace
}  // namespace meeting::sfu
