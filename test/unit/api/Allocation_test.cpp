// Allocation through an allocate server (seed 001) and meetings: a fake allocate server in the
// test process records the exact request targets.
#include <thread>

#include "ApiFixture.hpp"

namespace meeting::api::test {
namespace {

class FakeAllocateServer {
 public:
  enum class Mode { Ok, NotReady, Slow, Garbage };

  FakeAllocateServer() {
    router_.add(http::verb::get, "/alloc/x7Qp2", [this](net::HttpRequestContext& ctx, net::HttpResponder respond) {
      Mode mode;
      {
        std::lock_guard lock(mutex_);
        targets_.emplace_back(ctx.request.target());
        mode = mode_;
      }
      bool fs = ctx.queryValue("Kind") == "FS";
      if (mode == Mode::NotReady) return respond(net::textResponse(http::status::service_unavailable, "starting"));
      if (mode == Mode::Garbage) return respond(net::jsonResponse(http::status::ok, "[1,2"));
      auto answer = net::jsonResponse(http::status::ok, fs ? R"({"fs": "fsserver.com:443"})"
                                                             : R"({"sfu": "1.sfuserver.com:443", "turn": "198.51.100.4:3478"})");
      if (mode == Mode::Slow) {
        std::lock_guard lock(mutex_);
        slow_.emplace_back([respond, answer]() mutable {
          std::this_thread::sleep_for(1500ms);
          respond(std::move(answer));
        });
        return;
      }
      respond(std::move(answer));
    });
    server_ = std::make_unique<TestHttpServer>(router_);
  }
  ~FakeAllocateServer() {
    // Late answers must reach a live server loop.
    for (auto& t : slow_) t.join();
  }
  std::string url() const { return server_->url("/alloc/x7Qp2"); }
  void setMode(Mode m) {
    std::lock_guard lock(mutex_);
    mode_ = m;
  }
  std::vector<std::string> targets() {
    std::lock_guard lock(mutex_);
    return targets_;
  }

 private:
  net::HttpRouter router_;
  std::mutex mutex_;
  Mode mode_ = Mode::Ok;
  std::vector<std::string> targets_;
  std::vector<std::thread> slow_;
  std::unique_ptr<TestHttpServer> server_;
};

class AllocationTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    allocate_ = std::make_unique<FakeAllocateServer>();
    allocator_.inner = makeRemoteAllocator(allocate_->url(), 500ms);
  }
  void TearDown() override {
    ApiFixture::TearDown();
    allocate_.reset();
  }
  std::unique_ptr<FakeAllocateServer> allocate_;
};

TEST(AllocationQuery, ExactSeed001Strings) {
  EXPECT_EQ(mediaQuery({"owner@example.com", 1'800'000'000, 1'800'003'600}),
            "Kind=SFUTURN&Email=owner@example.com&BeginAt=1800000000&EndAt=1800003600");
  EXPECT_EQ(mediaQuery({"owner@example.com", 0, 0}), "Kind=SFUTURN&Email=owner@example.com&BeginAt=0&EndAt=0");
  EXPECT_EQ(fsQuery("a+b@example.com"), "Kind=FS&Email=a%2Bb@example.com");
  EXPECT_EQ(mediaQuery({"x&Kind=FS@e.com", 0, 0}), "Kind=SFUTURN&Email=x%26Kind%3DFS@e.com&BeginAt=0&EndAt=0");
}

TEST_F(AllocationTest, ScheduledMeetingAsksWithItsTimes) {
  auto r = post("/api/v1/meetings", {{"title", "Planning"}, {"owner_email", "owner@example.com"},
                                     {"begin_at", 1'800'000'000}, {"end_at", 1'800'003'600},
                                     {"invitees", {"a@example.com", "b@example.com"}}, {"room", {{"max_peers", 8}}}});
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(allocate_->targets(),
            std::vector<std::string>{"/alloc/x7Qp2?Kind=SFUTURN&Email=owner@example.com&BeginAt=1800000000&EndAt=1800003600"});
  const json& m = r.body["meeting"];
  EXPECT_EQ(m["kind"], "scheduled");
  EXPECT_EQ(m["begin_at"], 1'800'000'000);
  EXPECT_EQ(m["end_at"], 1'800'003'600);
  EXPECT_EQ(m["sfu"], "1.sfuserver.com:443");
  EXPECT_EQ(m["turn"], "198.51.100.4:3478");
  EXPECT_EQ(m["invitees"].size(), 2u);
  EXPECT_EQ(m["join_url"], "https://meet.example.com/m/" + m["join_code"].get<std::string>());

  // The meeting's room is placed on the allocated sfuserver without asking again.
  std::string room = m["room_id"];
  EXPECT_EQ(get("/api/v1/rooms/" + room).body["room"]["config"]["max_peers"], 8);
  auto peer = post("/api/v1/rooms/" + room + "/peers", json::object());
  ASSERT_EQ(peer.status, 201) << peer.raw;
  EXPECT_EQ(peer.body["ws_url"], "wss://1.sfuserver.com:443/rtc");
  EXPECT_EQ(peer.body["ice_servers"][0]["urls"][2], "turn:198.51.100.4:3478?transport=tcp");
  EXPECT_EQ(allocate_->targets().size(), 1u);

  std::string id = std::to_string(m["id"].get<int64_t>());
  EXPECT_EQ(get("/api/v1/meetings/" + id).body["meeting"]["title"], "Planning");
  auto list = get("/api/v1/meetings?owner_email=owner@example.com");
  ASSERT_EQ(list.body["meetings"].size(), 1u);
  EXPECT_EQ(del("/api/v1/meetings/" + id).status, 204);
  EXPECT_EQ(get("/api/v1/meetings/" + id).status, 404);
  EXPECT_EQ(get("/api/v1/rooms/" + room).status, 404);
}

TEST_F(AllocationTest, InstantMeetingAndPlainRoomAskWithZeroTimes) {
  auto r = post("/api/v1/meetings", {{"owner_email", "boss@example.com"}});
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body["meeting"]["kind"], "instant");
  ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "adhoc"}}).status, 201);
  ASSERT_EQ(post("/api/v1/rooms/adhoc/peers", json::object()).status, 201);
  EXPECT_EQ(allocate_->targets(), (std::vector<std::string>{
                                      "/alloc/x7Qp2?Kind=SFUTURN&Email=boss@example.com&BeginAt=0&EndAt=0",
                                      "/alloc/x7Qp2?Kind=SFUTURN&Email=&BeginAt=0&EndAt=0"}));
}

TEST_F(AllocationTest, FsAllocation) {
  auto r = get("/api/v1/fsserver?email=writer@example.com");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["fs"], "fsserver.com:443");
  EXPECT_EQ(allocate_->targets(), std::vector<std::string>{"/alloc/x7Qp2?Kind=FS&Email=writer@example.com"});
  EXPECT_EQ(get("/api/v1/fsserver?email=not-an-email").status, 400);
}

TEST_F(AllocationTest, Non200SlowOrGarbageIs503WithRetryAfter) {
  for (auto mode : {FakeAllocateServer::Mode::NotReady, FakeAllocateServer::Mode::Slow, FakeAllocateServer::Mode::Garbage}) {
    allocate_->setMode(mode);
    auto r = post("/api/v1/meetings", {{"owner_email", "boss@example.com"}});
    EXPECT_EQ(r.status, 503) << r.raw;
    EXPECT_EQ(r.retryAfter, "5");
    EXPECT_EQ(get("/api/v1/fsserver?email=w@example.com").status, 503);
    ASSERT_EQ(post("/api/v1/rooms", json::object()).status, 201);
  }
  // Nothing was half-created.
  EXPECT_EQ(get("/api/v1/meetings?owner_email=boss@example.com").body["meetings"].size(), 0u);
}

TEST_F(AllocationTest, MeetingValidation) {
  struct Case {
    json body;
    int status;
    std::string field;
  };
  std::vector<Case> cases = {
      {json::object(), 400, "owner_email"},
      {{{"owner_email", "nobody"}}, 400, "owner_email"},
      {{{"owner_email", "o@e.com"}, {"begin_at", 100}}, 400, "end_at"},
      {{{"owner_email", "o@e.com"}, {"end_at", 100}}, 400, "begin_at"},
      {{{"owner_email", "o@e.com"}, {"begin_at", 200}, {"end_at", 100}}, 422, "end_at"},
      {{{"owner_email", "o@e.com"}, {"begin_at", -1}, {"end_at", 100}}, 400, "begin_at"},
      {{{"owner_email", "o@e.com"}, {"invitees", {"ok@e.com", "bad"}}}, 400, "invitees[1]"},
      {{{"owner_email", "o@e.com"}, {"invitees", "a@e.com"}}, 400, "invitees"},
      {{{"owner_email", "o@e.com"}, {"room", {{"video_codec", "theora"}}}}, 400, "room.video_codec"},
      {{{"owner_email", "o@e.com"}, {"room", {{"room_id", "x"}}}}, 400, "room.room_id"},
      {{{"owner_email", "o@e.com"}, {"title", 7}}, 400, "title"},
  };
  for (const auto& c : cases) {
    auto r = post("/api/v1/meetings", c.body);
    EXPECT_EQ(r.status, c.status) << c.body.dump() << " " << r.raw;
    EXPECT_EQ(r.body["error"]["field"], c.field) << c.body.dump();
  }
  EXPECT_TRUE(allocate_->targets().empty());  // bad input never reaches the allocate server
  EXPECT_EQ(get("/api/v1/meetings").status, 400);
  EXPECT_EQ(get("/api/v1/meetings/abc").status, 400);
  EXPECT_EQ(get("/api/v1/meetings/12345").status, 404);
  EXPECT_EQ(del("/api/v1/meetings/12345").status, 404);
}

}  // namespace
}  // namespace meeting::api::test
