// Webhooks end to end: a receiver in this process (plain HTTP on 127.0.0.1:0) checks the
// signature, the order per room, retries after 500s, no loss across a dispatcher restart in the
// middle of a retry, and SSRF refusal of webhook URLs.
#include <arpa/inet.h>

#include <deque>
#include <set>

#include "ApiFixture.hpp"
#include "api/webhook/WebhookDispatcher.hpp"
#include "api/webhook/WebhookSignature.hpp"
#include "api/webhook/WebhookUrlPolicy.hpp"

namespace meeting::api::test {
namespace {

using webhook::WebhookDispatcher;
using webhook::WebhookOptions;

constexpr const char* Key = "test-webhook-key";

struct Received {
  std::string body;
  std::string signature;
  std::string eventId;
  bool valid = false;
  json parsed;
};

/// Records every POST /hook; answers with the scripted statuses first, then `fallback`.
class Receiver {
 public:
  Receiver() {
    router_.add(http::verb::post, "/hook", [this](net::HttpRequestContext& ctx, net::HttpResponder respond) {
      Received r;
      r.body = ctx.request.body();
      if (auto it = ctx.request.find(webhook::SignatureHeader); it != ctx.request.end()) r.signature = std::string(it->value());
      if (auto it = ctx.request.find("Meeting-Event-Id"); it != ctx.request.end()) r.eventId = std::string(it->value());
      r.valid = webhook::verifySignatureHeader(Key, r.signature, r.body, SystemClock::instance().wallMicros() / 1'000'000);
      r.parsed = json::parse(r.body, nullptr, false);
      int status = 200;
      {
        std::lock_guard lock(mutex_);
        all_.push_back(r);
        if (!script_.empty()) {
          status = script_.front();
          script_.pop_front();
        } else {
          status = fallback_;
        }
        if (status >= 200 && status < 300) delivered_.push_back(r);
      }
      respond(net::HttpResponse{static_cast<http::status>(status), 11});
    });
    server_ = std::make_unique<TestHttpServer>(router_);
  }
  std::string url() const { return server_->url("/hook"); }
  void script(std::deque<int> statuses, int fallback = 200) {
    std::lock_guard lock(mutex_);
    script_ = std::move(statuses);
    fallback_ = fallback;
  }
  std::vector<Received> all() {
    std::lock_guard lock(mutex_);
    return all_;
  }
  std::vector<Received> delivered() {
    std::lock_guard lock(mutex_);
    return delivered_;
  }
  /// Waits up to 5 s until `n` requests were answered 2xx.
  std::vector<Received> waitDelivered(size_t n) {
    for (int i = 0; i < 500 && delivered().size() < n; ++i) std::this_thread::sleep_for(10ms);
    return delivered();
  }

 private:
  net::HttpRouter router_;
  std::unique_ptr<TestHttpServer> server_;
  std::mutex mutex_;
  std::deque<int> script_;
  int fallback_ = 200;
  std::vector<Received> all_;
  std::vector<Received> delivered_;
};

WebhookOptions fastOptions(bool allowPrivate = true) {
  WebhookOptions o;
  o.key = Key;
  o.allowPrivate = allowPrivate;
  o.baseBackoff = 20ms;
  o.maxBackoff = 100ms;
  o.idlePoll = 50ms;
  o.timeout = 2s;
  return o;
}

control::NodeEvent nodeEvent(const std::string& name, const std::string& room, const std::string& peer = {}) {
  control::NodeEvent e;
  e.event = name;
  e.room = room;
  e.peer = peer;
  return e;
}

int64_t depth(db::Storage& storage) {
  auto n = storage.countWebhooks();
  return n ? *n : -1;
}

template <typename F>
bool waitFor(F&& done, std::chrono::milliseconds limit = 5s) {
  for (auto waited = 0ms; waited < limit; waited += 10ms) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

class WebhookTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    startDispatcher(fastOptions());
  }
  void TearDown() override {
    dispatcher_.reset();
    ApiFixture::TearDown();
  }
  void startDispatcher(WebhookOptions options, bool start = true) {
    dispatcher_.reset();
    allowPrivate_ = options.allowPrivate;
    dispatcher_ = std::make_unique<WebhookDispatcher>(*storage_, SystemClock::instance(), options);
    rest_->setWebhooks(dispatcher_.get(), options.allowPrivate);
    recorder_->setWebhooks(dispatcher_.get());
    if (start) dispatcher_->start();
  }

  bool allowPrivate_ = true;
  std::unique_ptr<WebhookDispatcher> dispatcher_;
  Receiver receiver_;
};

std::vector<std::string> typesOf(const std::vector<Received>& got, const std::string& room) {
  std::vector<std::string> out;
  for (const auto& r : got) {
    if (r.parsed.is_object() && r.parsed.value("room", "") == room) out.push_back(r.parsed.value("type", ""));
  }
  return out;
}

}  // namespace

TEST(WebhookSignature, MatchesOpenSslAndRefusesTampering) {
  // Expected values computed with `openssl dgst -sha256 -hmac` (docs/operations.md does the same).
  EXPECT_EQ(webhook::deriveWebhookKey("cluster-secret"), "f980508788744556173f8495dafc8eab99a83c75c79b1cb9553b2c371afd67bc");
  EXPECT_EQ(webhook::signatureHeader("k", 1'700'000'000, R"({"a":1})"),
            "t=1700000000,v1=1b6ad1bc9bf48c52ce01939866d5877c6cc4e87ddad27e16673cb8c4964394a3");
  const std::string header = webhook::signatureHeader(Key, 1'700'000'000, "body");
  EXPECT_TRUE(webhook::verifySignatureHeader(Key, header, "body", 1'700'000'010));
  EXPECT_FALSE(webhook::verifySignatureHeader(Key, header, "bodY", 1'700'000'010));
  EXPECT_FALSE(webhook::verifySignatureHeader("other", header, "body", 1'700'000'010));
  EXPECT_FALSE(webhook::verifySignatureHeader(Key, header, "body", 1'700'000'000 + 301));  // replay window
  EXPECT_FALSE(webhook::verifySignatureHeader(Key, "", "body", 1'700'000'000));
  EXPECT_FALSE(webhook::verifySignatureHeader(Key, "t=1700000000", "body", 1'700'000'000));
  EXPECT_FALSE(webhook::verifySignatureHeader(Key, "t=x,v1=zz", "body", 1'700'000'000));
  EXPECT_FALSE(webhook::verifySignatureHeader(Key, std::string(5000, ','), "body", 1'700'000'000));
  // A second v1 (key rotation) is accepted when one matches.
  EXPECT_TRUE(webhook::verifySignatureHeader(Key, "t=1700000000,v1=" + std::string(64, '0') + "," + header.substr(13),
                                             "body", 1'700'000'000));
}

TEST(WebhookBackoff, GrowsExponentiallyWithJitterAndCap) {
  using WD = WebhookDispatcher;
  EXPECT_EQ(WD::backoff(1, 1000ms, 300s, 0.0), 500ms);
  EXPECT_EQ(WD::backoff(1, 1000ms, 300s, 1.0), 1000ms);
  EXPECT_EQ(WD::backoff(4, 1000ms, 300s, 1.0), 8000ms);
  EXPECT_EQ(WD::backoff(30, 1000ms, 300s, 1.0), 300s);
  EXPECT_EQ(WD::backoff(1000, 1000ms, 300s, 0.0), 150s);
  for (double u : {0.1, 0.5, 0.9}) {
    auto d = WD::backoff(3, 1000ms, 300s, u);
    EXPECT_GE(d, 2000ms);
    EXPECT_LE(d, 4000ms);
  }
}

TEST(WebhookUrlPolicy, ClassifiesAddresses) {
  auto v4 = [](const char* text) {
    in_addr a{};
    EXPECT_EQ(inet_pton(AF_INET, text, &a), 1);
    return webhook::isNonPublicAddress(a);
  };
  auto v6 = [](const char* text) {
    in6_addr a{};
    EXPECT_EQ(inet_pton(AF_INET6, text, &a), 1);
    return webhook::isNonPublicAddress(a);
  };
  for (const char* bad : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                          "0.0.0.0", "100.64.0.1", "224.0.0.1", "255.255.255.255"}) {
    EXPECT_TRUE(v4(bad)) << bad;
  }
  for (const char* good : {"8.8.8.8", "172.32.0.1", "203.0.113.7", "1.1.1.1"}) EXPECT_FALSE(v4(good)) << good;
  for (const char* bad : {"::1", "::", "fe80::1", "fd00::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "ff02::1"}) {
    EXPECT_TRUE(v6(bad)) << bad;
  }
  for (const char* good : {"2001:4860:4860::8888", "::ffff:8.8.8.8"}) EXPECT_FALSE(v6(good)) << good;
  EXPECT_TRUE(webhook::checkWebhookUrl("http://8.8.8.8/hook", false));
  EXPECT_FALSE(webhook::checkWebhookUrl("http://127.0.0.1:9/hook", false));
  EXPECT_TRUE(webhook::checkWebhookUrl("http://127.0.0.1:9/hook", true));
  EXPECT_FALSE(webhook::checkWebhookUrl("ftp://8.8.8.8/", true));
}

TEST_F(WebhookTest, SignedEventsArriveInOrderPerRoom) {
  FakeNode sfu(*hub_, sfuInfo());
  for (const char* room : {"r1", "r2"}) {
    ASSERT_EQ(post("/api/v1/rooms", {{"room_id", room}, {"webhook_url", receiver_.url()}}).status, 201);
  }
  ASSERT_EQ(post("/api/v1/rooms/r1/peers", {{"peer_id", "ada"}}).status, 201);
  ASSERT_EQ(post("/api/v1/rooms/r2/peers", {{"peer_id", "bob"}}).status, 201);
  // Interleave the two rooms' events.
  recorder_->apply(nodeEvent("room_started", "r1"));
  recorder_->apply(nodeEvent("room_started", "r2"));
  recorder_->apply(nodeEvent("peer_connected", "r1", "ada"));
  recorder_->apply(nodeEvent("peer_connected", "r2", "bob"));
  auto track = nodeEvent("track_published", "r1", "ada");
  track.track = {"t1", "video", "camera"};
  recorder_->apply(track);
  auto chat = nodeEvent("chat", "r1", "ada");
  chat.text = "hello, world";
  recorder_->apply(chat);
  track.event = "track_unpublished";
  recorder_->apply(track);
  recorder_->apply(nodeEvent("peer_left", "r1", "ada"));
  recorder_->apply(nodeEvent("peer_disconnected", "r2", "bob"));
  recorder_->apply(nodeEvent("room_ended", "r1"));
  EXPECT_EQ(del("/api/v1/rooms/r2/peers/bob").status, 204);
  EXPECT_EQ(del("/api/v1/rooms/r1").status, 204);

  auto got = receiver_.waitDelivered(16);
  ASSERT_EQ(got.size(), 16u);
  std::set<std::string> ids;
  for (const auto& r : got) {
    EXPECT_TRUE(r.valid) << r.signature << " " << r.body;
    ASSERT_TRUE(r.parsed.is_object()) << r.body;
    EXPECT_EQ(r.parsed["id"], r.eventId);
    ids.insert(r.parsed["id"].get<std::string>());
    int64_t nowMs = SystemClock::instance().wallMicros() / 1000;
    EXPECT_GT(r.parsed["time"].get<int64_t>(), nowMs - 60'000);
    EXPECT_LE(r.parsed["time"].get<int64_t>(), nowMs);
  }
  EXPECT_EQ(ids.size(), got.size());
  EXPECT_EQ(typesOf(got, "r1"),
            (std::vector<std::string>{"room_created", "peer_added", "room_started", "peer_connected", "track_added",
                                      "chat_message", "track_removed", "peer_disconnected", "room_finished",
                                      "room_deleted"}));
  EXPECT_EQ(typesOf(got, "r2"), (std::vector<std::string>{"room_created", "peer_added", "room_started", "peer_connected",
                                                          "peer_disconnected", "peer_deleted"}));
  for (const auto& r : got) {
    if (r.parsed["type"] == "chat_message") {
      EXPECT_EQ(r.parsed["text"], "hello, world");
      EXPECT_EQ(r.parsed["peer"], "ada");
    }
    if (r.parsed["type"] == "track_added") {
      EXPECT_EQ(r.parsed["track"]["id"], "t1");
      EXPECT_EQ(r.parsed["track"]["kind"], "video");
    }
    if (r.parsed["type"] == "room_created") {
      EXPECT_FALSE(r.parsed.contains("peer"));
    }
  }
  EXPECT_EQ(dispatcher_->delivered(), 16u);
  EXPECT_TRUE(waitFor([&] { return depth(*storage_) == 0; }));
}

TEST_F(WebhookTest, RetriesAfterTwo500sWithTheSameEvent) {
  receiver_.script({500, 500});
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "r"}, {"webhook_url", receiver_.url()}}).status, 201);
  auto got = receiver_.waitDelivered(1);
  ASSERT_EQ(got.size(), 1u);
  auto all = receiver_.all();
  ASSERT_EQ(all.size(), 3u);
  for (const auto& r : all) {
    EXPECT_EQ(r.eventId, got[0].eventId);
    EXPECT_EQ(r.body, got[0].body);
    EXPECT_TRUE(r.valid);
  }
  // The receiver answers before the dispatcher counts the delivery: wait for the count.
  EXPECT_TRUE(waitFor([&] { return dispatcher_->delivered() == 1u; }));
  EXPECT_EQ(dispatcher_->failed(), 2u);
  EXPECT_EQ(dispatcher_->retried(), 2u);
  EXPECT_EQ(dispatcher_->dropped(), 0u);
}

TEST_F(WebhookTest, LaterEventsWaitBehindARetriedOne) {
  receiver_.script({503, 500});
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "r"}, {"webhook_url", receiver_.url()}}).status, 201);
  recorder_->apply(nodeEvent("room_started", "r"));
  recorder_->apply(nodeEvent("room_ended", "r"));
  auto got = receiver_.waitDelivered(3);
  EXPECT_EQ(typesOf(got, "r"), (std::vector<std::string>{"room_created", "room_started", "room_finished"}));
}

TEST_F(WebhookTest, NoLossAcrossARestartInTheMiddleOfARetry) {
  receiver_.script({}, 500);
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "r"}, {"webhook_url", receiver_.url()}}).status, 201);
  recorder_->apply(nodeEvent("room_started", "r"));
  ASSERT_TRUE(waitFor([&] { return dispatcher_->failed() >= 1; }));
  // "Crash" the delivery side while the first event is between retries, and reopen the database
  // as a restarted apiserver would.
  rest_->setWebhooks(nullptr, true);
  recorder_->setWebhooks(nullptr);
  dispatcher_.reset();
  auto first = receiver_.all();
  ASSERT_FALSE(first.empty());
  auto reopened = db::openStorage(db::StorageConfig{"sqlite:" + (dir_ / "t.db").string(), 1}, clock_);
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ(depth(**reopened), 2);
  receiver_.script({}, 200);
  {
    WebhookDispatcher restarted(**reopened, SystemClock::instance(), fastOptions());
    restarted.start();
    auto got = receiver_.waitDelivered(2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].eventId, first[0].eventId);
    EXPECT_EQ(typesOf(got, "r"), (std::vector<std::string>{"room_created", "room_started"}));
    EXPECT_TRUE(got[0].valid && got[1].valid);
    EXPECT_TRUE(waitFor([&] { return depth(**reopened) == 0; }));
  }
}

TEST_F(WebhookTest, DropsAfterMaxAttemptsAndOnClientErrors) {
  auto options = fastOptions();
  options.maxAttempts = 3;
  startDispatcher(options);
  receiver_.script({}, 500);
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "r"}, {"webhook_url", receiver_.url()}}).status, 201);
  ASSERT_TRUE(waitFor([&] { return dispatcher_->dropped() == 1; }));
  EXPECT_EQ(receiver_.all().size(), 3u);
  EXPECT_EQ(dispatcher_->retried(), 2u);
  // 4xx is the receiver refusing this event: not retried.
  receiver_.script({}, 400);
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "r2"}, {"webhook_url", receiver_.url()}}).status, 201);
  ASSERT_TRUE(waitFor([&] { return dispatcher_->dropped() == 2; }));
  EXPECT_EQ(receiver_.all().size(), 4u);
  EXPECT_EQ(depth(*storage_), 0);
}

TEST_F(WebhookTest, AFullQueueDropsNewEventsAndCountsThem) {
  auto options = fastOptions();
  options.maxQueuedPerUrl = 2;
  startDispatcher(options, /*start=*/false);
  for (const char* room : {"a", "b", "c"}) {
    ASSERT_EQ(post("/api/v1/rooms", {{"room_id", room}, {"webhook_url", receiver_.url()}}).status, 201);
  }
  EXPECT_EQ(dispatcher_->dropped(), 1u);
  EXPECT_EQ(depth(*storage_), 2);
  dispatcher_->start();
  auto got = receiver_.waitDelivered(2);
  EXPECT_EQ(got.size(), 2u);
}

TEST_F(WebhookTest, PrivateWebhookUrlsAreRefusedUnlessAllowed) {
  startDispatcher(fastOptions(/*allowPrivate=*/false));
  for (const std::string& url : {receiver_.url(), std::string("http://10.1.2.3/hook"), std::string("http://169.254.169.254/latest"),
                                std::string("http://[::1]:8080/"), std::string("http://localhost/"), std::string("https://[fe80::1]/"),
                                std::string("http://0x7f000001/"), std::string("http://192.168.0.10:8080/x")}) {
    auto r = post("/api/v1/rooms", {{"webhook_url", url}});
    EXPECT_EQ(r.status, 400) << url << " " << r.raw;
    EXPECT_EQ(r.body["error"]["field"], "webhook_url") << r.raw;
  }
  // Also refused at delivery time (the name may resolve elsewhere later): a stored private URL is dropped.
  dispatcher_->emit(receiver_.url(), webhook::WebhookEvent{"room_started", "public", "", nullptr, ""});
  ASSERT_TRUE(waitFor([&] { return dispatcher_->dropped() >= 1; }));
  EXPECT_TRUE(receiver_.all().empty());
  // With --allow-private-webhooks the same URL is accepted.
  startDispatcher(fastOptions(/*allowPrivate=*/true));
  EXPECT_EQ(post("/api/v1/rooms", {{"room_id", "local"}, {"webhook_url", receiver_.url()}}).status, 201);
  EXPECT_EQ(receiver_.waitDelivered(1).size(), 1u);
}

TEST_F(WebhookTest, DefaultUrlGetsEventsOfRoomsWithoutTheirOwn) {
  Receiver own;
  auto options = fastOptions();
  options.defaultUrl = receiver_.url();
  startDispatcher(options);
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "plain"}}).status, 201);
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "mine"}, {"webhook_url", own.url()}}).status, 201);
  recorder_->apply(nodeEvent("room_started", "plain"));
  recorder_->apply(nodeEvent("room_started", "mine"));
  // An event without a room (none is emitted by the server yet) goes to the default too.
  dispatcher_->emit("", webhook::WebhookEvent{"room_finished", "", "", nullptr, ""});
  auto got = receiver_.waitDelivered(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(typesOf(got, "plain"), (std::vector<std::string>{"room_created", "room_started"}));
  EXPECT_TRUE(typesOf(got, "mine").empty());
  EXPECT_EQ(typesOf(got, ""), (std::vector<std::string>{"room_finished"}));
  for (const auto& r : got) EXPECT_TRUE(r.valid);
  auto mine = own.waitDelivered(2);
  EXPECT_EQ(typesOf(mine, "mine"), (std::vector<std::string>{"room_created", "room_started"}));
  EXPECT_EQ(typesOf(mine, "plain").size(), 0u);

  // Without a default, a room without webhook_url sends nothing.
  startDispatcher(fastOptions());
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "quiet"}}).status, 201);
  dispatcher_->emit("", webhook::WebhookEvent{"room_started", "quiet", "", nullptr, ""});
  EXPECT_TRUE(waitFor([&] { return depth(*storage_) == 0; }));
  EXPECT_EQ(receiver_.all().size(), 3u);
}

TEST_F(WebhookTest, DefaultUrlFollowsTheSsrfPolicy) {
  Config config;
  auto url = webhook::defaultWebhookUrl(config, false);
  ASSERT_TRUE(url);
  EXPECT_EQ(*url, "");  // no ext at all: no default
  config.ext = json{{"webhook", {{"url", receiver_.url()}}}};
  url = webhook::defaultWebhookUrl(config, false);
  ASSERT_FALSE(url);  // loopback: refused at start unless private targets are allowed
  EXPECT_NE(url.error().message.find("webhook URL"), std::string::npos) << url.error().message;
  url = webhook::defaultWebhookUrl(config, true);
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(*url, receiver_.url());
  config.ext = json{{"webhook", {{"url", "http://169.254.169.254/latest/meta-data"}}}};
  EXPECT_FALSE(webhook::defaultWebhookUrl(config, false));
  config.ext = json{{"webhook", {{"url", "ftp://8.8.8.8/"}}}};
  EXPECT_FALSE(webhook::defaultWebhookUrl(config, true));
  config.ext = json{{"webhook", {{"url", 42}}}};
  EXPECT_FALSE(webhook::defaultWebhookUrl(config, true));
  config.ext = json{{"webhook", {{"url", "http://8.8.8.8/hook"}}}};
  EXPECT_TRUE(webhook::defaultWebhookUrl(config, false));

  // And at delivery, like a room's URL: a private default is dropped, never POSTed.
  auto options = fastOptions(/*allowPrivate=*/false);
  options.defaultUrl = receiver_.url();
  startDispatcher(options);
  dispatcher_->emit("", webhook::WebhookEvent{"room_started", "r", "", nullptr, ""});
  ASSERT_TRUE(waitFor([&] { return dispatcher_->dropped() >= 1; }));
  EXPECT_TRUE(receiver_.all().empty());
}

}  // namespace meeting::api::test
