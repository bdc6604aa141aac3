// The room's signaling on a real worker: join/leave events, max_peers, hostile messages that
// get an error and change nothing, resume within the reconnect grace without a leave for the
// others, the grace running out, subscription and pause of another participant's track.
#include "sfu/room/Room.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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

token::AccessClaims claims(const std::string& identity, token::Grants grants = {}) {
  token::AccessClaims c;
  c.room = "r";
  c.identity = identity;
  c.displayName = identity;
  c.grants = grants;
  return c;
}

token::Grants admin() {
  token::Grants g;
  g.roomAdmin = true;
  return g;
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
  bool joinWith(const std::string& identity, uint64_t connection, Inbox& inbox, token::Grants grants) {
    return onLoop(*worker_, [&] { return static_cast<bool>(room_->join(claims(identity, grants), connection, inbox.sender())); });
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
      {R"({"type": "updateMetadata"})", "bad_message"},
      {R"({"type": "updateMetadata", "metadata": "raised"})", "bad_message"},
      {R"({"type": "updateMetadata", "metadata": [true]})", "bad_message"},
      {R"({"type": "updateMetadata", "metadata": null})", "bad_message"},
      {json{{"type", "updateMetadata"}, {"metadata", {{"note", std::string(1100, 'x')}}}}.dump(), "bad_message"},
      {R"({"type": "updateMetadata", "metadata": {"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":1}}}}}}}}}}})", "bad_message"},
      {R"({"type": "reaction"})", "bad_message"},
      {R"({"type": "reaction", "emoji": ""})", "bad_message"},
      {R"({"type": "reaction", "emoji": 128077})", "bad_message"},
      {R"({"type": "reaction", "emoji": "\u0007"})", "bad_message"},
      {R"({"type": "reaction", "emoji": "\ud83d"})", "bad_message"},  // a lone surrogate
      {"{\"type\": \"reaction\", \"emoji\": \"\xff\"}", "bad_message"},  // not UTF-8: not JSON
      {json{{"type", "reaction"}, {"emoji", "\xF0\x9F\x91\x8D\xF0\x9F\x91\x8D\xF0\x9F\x91\x8D\xF0\x9F\x91\x8D\xF0\x9F\x91\x8D"}}.dump(), "bad_message"},  // 20 bytes
      {R"({"type": "muteParticipant", "identity": "b"})", "bad_message"},
      {R"({"type": "muteParticipant", "trackId": 5, "identity": "b"})", "bad_message"},
      {json{{"type", "muteParticipant"}, {"identity", "b"}, {"trackId", bTrack}}.dump(), "forbidden"},  // a is no admin
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
  EXPECT_TRUE(a.ofType("participantUpdated").empty());
  EXPECT_TRUE(a.ofType("reaction").empty());
  // Nobody's metadata changed: a newcomer sees both with none.
  Inbox c;
  ASSERT_TRUE(join("c", 3, c));
  auto joined = c.ofType("joined");
  ASSERT_EQ(joined.size(), 1u);
  for (const auto& p : joined[0]["participants"]) EXPECT_EQ(p["metadata"], json::object()) << p;
  // A message on a connection that is not the participant's current one is ignored.
  send("a", 42, R"({"type": "leave"})");
  EXPECT_EQ(onLoop(*worker_, [&] { return room_->participantCount(); }), 3u);
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

namespace meeting::sfu {
namespace {

TEST_F(RoomTest, MetadataReplacesAndIsBroadcastAsTheWholeParticipant) {
  makeRoom({});
  Inbox a, b, c;
  ASSERT_TRUE(joinWith("a", 1, a, admin()));
  ASSERT_TRUE(join("b", 2, b));
  auto selfJoined = a.ofType("joined");
  ASSERT_EQ(selfJoined.size(), 1u);
  EXPECT_EQ(selfJoined[0]["self"]["admin"], true);
  EXPECT_EQ(selfJoined[0]["self"]["metadata"], json::object());
  auto bJoined = a.ofType("participantJoined");
  ASSERT_EQ(bJoined.size(), 1u);
  EXPECT_EQ(bJoined[0]["participant"]["admin"], false);

  send("a", 1, R"({"type": "updateMetadata", "metadata": {"handRaised": true, "emoji": "x"}})");
  send("a", 1, R"({"type": "updateMetadata", "metadata": {"handRaised": true}})");  // replaces, not merges
  for (auto* inbox : {&a, &b}) {
    auto updated = inbox->ofType("participantUpdated");
    ASSERT_EQ(updated.size(), 2u);
    const auto& participant = updated[1]["participant"];
    EXPECT_EQ(participant["identity"], "a");
    EXPECT_EQ(participant["name"], "a");
    EXPECT_EQ(participant["admin"], true);
    EXPECT_EQ(participant["metadata"], (json{{"handRaised", true}}));
    EXPECT_TRUE(participant["tracks"].is_array());
  }
  auto recorded = events();
  EXPECT_EQ(std::count(recorded.begin(), recorded.end(), "peer_metadata:a:"), 2) << "the apiserver hears of it";

  // A late joiner gets it in the participant list.
  ASSERT_TRUE(join("c", 3, c));
  auto joined = c.ofType("joined");
  ASSERT_EQ(joined.size(), 1u);
  bool seen = false;
  for (const auto& p : joined[0]["participants"]) {
    if (p["identity"] != "a") continue;
    seen = true;
    EXPECT_EQ(p["metadata"]["handRaised"], true);
    EXPECT_EQ(p["admin"], true);
  }
  EXPECT_TRUE(seen);
  // Exactly 1024 bytes serialized is accepted.
  json big = {{"k", ""}};
  big["k"] = std::string(1024 - big.dump().size(), 'y');
  ASSERT_EQ(big.dump().size(), 1024u);
  send("b", 2, json{{"type", "updateMetadata"}, {"metadata", big}}.dump());
  EXPECT_EQ(c.ofType("participantUpdated").size(), 1u);
  EXPECT_TRUE(b.ofType("error").empty());
}

TEST_F(RoomTest, MetadataAndReactionsNeedCanPublishData) {
  makeRoom({});
  Inbox a, b;
  token::Grants viewer;
  viewer.canPublishData = false;
  ASSERT_TRUE(join("a", 1, a));
  ASSERT_TRUE(joinWith("b", 2, b, viewer));
  auto before = a.size();
  send("b", 2, R"({"type": "updateMetadata", "metadata": {"handRaised": true}})");
  send("b", 2, R"({"type": "reaction", "emoji": "x"})");
  auto errors = b.ofType("error");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0]["code"], "forbidden");
  EXPECT_EQ(errors[1]["code"], "forbidden");
  EXPECT_EQ(a.size(), before);
}

TEST_F(RoomTest, ReactionsReachEveryoneAtMostFiveASecond) {
  makeRoom({});
  Inbox a, b;
  ASSERT_TRUE(join("a", 1, a));
  ASSERT_TRUE(join("b", 2, b));
  const std::string thumbsUp = "\xF0\x9F\x91\x8D";
  // All six in one turn of the loop: well within the second whatever the machine's load.
  onLoop(*worker_, [&] {
    for (int i = 0; i < 6; ++i) room_->handleMessage("a", 1, json{{"type", "reaction"}, {"emoji", thumbsUp}}.dump());
    return 0;
  });
  auto reactions = b.ofType("reaction");
  ASSERT_EQ(reactions.size(), 5u);
  EXPECT_EQ(reactions[0]["from"], "a");
  EXPECT_EQ(reactions[0]["emoji"], thumbsUp);
  EXPECT_GT(reactions[0]["time"].get<int64_t>(), 1'600'000'000'000) << "Unix milliseconds";
  EXPECT_EQ(a.ofType("reaction").size(), 5u) << "the sender sees its own";
  auto errors = a.ofType("error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["code"], "rate_limited");
  // Another participant has its own allowance; 16 bytes is the most.
  send("b", 2, json{{"type", "reaction"}, {"emoji", thumbsUp + thumbsUp + thumbsUp + thumbsUp}}.dump());
  EXPECT_EQ(a.ofType("reaction").size(), 6u);
}

TEST_F(RoomTest, HostMutesAnotherParticipantsTrackWhichMayUnmuteItself) {
  makeRoom({});
  Inbox a, b, c;
  ASSERT_TRUE(joinWith("a", 1, a, admin()));
  ASSERT_TRUE(join("b", 2, b));
  ASSERT_TRUE(join("c", 3, c));
  publish("b", 2);
  auto published = c.ofType("trackPublished");
  ASSERT_EQ(published.size(), 2u);
  std::string track = published[0]["track"]["id"];

  send("a", 1, json{{"type", "muteParticipant"}, {"identity", "b"}, {"trackId", track}}.dump());
  for (auto* inbox : {&a, &b, &c}) {
    auto muted = inbox->ofType("trackMuted");
    ASSERT_EQ(muted.size(), 1u);
    EXPECT_EQ(muted[0]["identity"], "b");
    EXPECT_EQ(muted[0]["trackId"], track);
    EXPECT_EQ(muted[0]["muted"], true);
  }
  auto byHost = b.ofType("mutedByHost");
  ASSERT_EQ(byHost.size(), 1u);
  EXPECT_EQ(byHost[0]["trackId"], track);
  EXPECT_EQ(byHost[0]["by"], "a");
  EXPECT_TRUE(c.ofType("mutedByHost").empty()) << "only the target is told who did it";
  // The newcomer sees it muted.
  Inbox d;
  ASSERT_TRUE(join("d", 4, d));
  auto joined = d.ofType("joined");
  ASSERT_EQ(joined.size(), 1u);
  for (const auto& p : joined[0]["participants"]) {
    for (const auto& t : p["tracks"]) {
      if (t["id"] == track) {
        EXPECT_EQ(t["muted"], true);
      }
    }
  }
  // Muting a muted track changes nothing and says nothing.
  send("a", 1, json{{"type", "muteParticipant"}, {"identity", "b"}, {"trackId", track}}.dump());
  EXPECT_EQ(c.ofType("trackMuted").size(), 1u);
  EXPECT_EQ(b.ofType("mutedByHost").size(), 1u);
  // The target unmutes itself with the normal mute.
  send("b", 2, json{{"type", "mute"}, {"trackId", track}, {"muted", false}}.dump());
  auto muted = c.ofType("trackMuted");
  ASSERT_EQ(muted.size(), 2u);
  EXPECT_EQ(muted[1]["muted"], false);
  // Unknown participant or track, or another participant's track id under the wrong identity.
  for (const auto& [identity, trackId] : std::vector<std::pair<std::string, std::string>>{
           {"nobody", track}, {"b", "TR_unknown"}, {"c", track}}) {
    send("a", 1, json{{"type", "muteParticipant"}, {"identity", identity}, {"trackId", trackId}}.dump());
    EXPECT_EQ(a.ofType("error").back()["code"], "unknown_track") << identity << " " << trackId;
  }
  EXPECT_EQ(c.ofType("trackMuted").size(), 2u);
  // Not an admin: forbidden, whoever the target.
  send("c", 3, json{{"type", "muteParticipant"}, {"identity", "b"}, {"trackId", track}}.dump());
  EXPECT_EQ(c.ofType("error").back()["code"], "forbidden");
  EXPECT_EQ(b.ofType("trackMuted").size(), 2u);
}

TEST_F(RoomTest, ConnectionQualityIsLostWhileTheSignalingIsGoneAndBackAfterAResume) {
  RoomSettings settings;
  settings.reconnectGrace = std::chrono::seconds(30);
  makeRoom(settings);
  Inbox a, b, b2;
  ASSERT_TRUE(join("a", 1, a));
  ASSERT_TRUE(join("b", 2, b));
  onLoop(*worker_, [&] {
    room_->disconnect("b", 2);
    return 0;
  });
  // The next 2 s sample says so (media transports that never connected are not judged).
  for (int i = 0; i < 40 && a.ofType("connectionQuality").empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto quality = a.ofType("connectionQuality");
  ASSERT_EQ(quality.size(), 1u);
  ASSERT_EQ(quality[0]["updates"].size(), 1u);
  EXPECT_EQ(quality[0]["updates"][0], (json{{"identity", "b"}, {"quality", "lost"}, {"score", 0}}));
  // Back: the resumed connection hears where things stand, and the next sample clears it.
  ASSERT_TRUE(join("b", 3, b2, true));
  auto told = b2.ofType("connectionQuality");
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0]["updates"][0]["quality"], "lost");
  for (int i = 0; i < 40 && a.ofType("connectionQuality").size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  quality = a.ofType("connectionQuality");
  ASSERT_EQ(quality.size(), 2u);
  EXPECT_EQ(quality[1]["updates"][0], (json{{"identity", "b"}, {"quality", "excellent"}, {"score", 100}}));
  EXPECT_TRUE(a.ofType("activeSpeakers").empty()) << "nobody spoke";
}

TEST_F(RoomTest, ChatReachesTheApiserverAsItIsBroadcast) {
  makeRoom({});
  Inbox a, b;
  ASSERT_TRUE(join("a", 1, a));
  ASSERT_TRUE(join("b", 2, b));
  send("a", 1, R"({"type": "chat", "text": "hello"})");
  EXPECT_EQ(b.ofType("chat").size(), 1u);
  auto recorded = events();
  EXPECT_EQ(std::count(recorded.begin(), recorded.end(), "chat:a:"), 1);
}

}  // namespace
}  // namespace meeting::sfu
