#include "allocator/AllocationPool.hpp"

#include <gtest/gtest.h>

#include <future>

#include "allocator/AllocateService.hpp"
#include "api/Allocator.hpp"
#include "net/HttpClient.hpp"
#include "net/HttpServer.hpp"

namespace meeting::allocator {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

PoolConfig config(const std::string& strategy) {
  auto c = parsePoolConfig(json::parse(R"({
    "path": "/alloc/k3yP4th", "strategy": ")" + strategy + R"(",
    "sfu": [{"address": "1.sfu.example.com:443", "capacity": 2}, {"address": "2.sfu.example.com:443", "capacity": 1}],
    "turn": ["198.51.100.1:3478"],
    "fs": ["fs.example.com:443"],
    "instant_hold_seconds": 100})"));
  EXPECT_TRUE(c) << c.error().message;
  return *c;
}

TEST(PoolConfig, ValidationNamesTheField) {
  auto error = [](const char* text) {
    auto c = parsePoolConfig(json::parse(text));
    return c ? std::string("ok") : c.error().message;
  };
  EXPECT_EQ(error(R"({"sfu": ["a:1"]})"), "ok");
  EXPECT_NE(error(R"({})").find("sfu"), std::string::npos);
  EXPECT_NE(error(R"({"sfu": ["a:1"], "strategy": "random"})").find("strategy"), std::string::npos);
  EXPECT_NE(error(R"({"sfu": [{"address": "a:1", "capacity": 0}]})").find("sfu[0].capacity"), std::string::npos);
  EXPECT_NE(error(R"({"sfu": [7]})").find("sfu[0]"), std::string::npos);
  EXPECT_NE(error(R"({"sfu": ["a:1"], "path": "no-slash"})").find("path"), std::string::npos);
  EXPECT_NE(error(R"([])").find("object"), std::string::npos);
}

TEST(AllocationPool, LeastLoadedRespectsCapacityAndReleasesAfterTheMeeting) {
  AllocationPool pool(config("least_loaded"));
  auto a = pool.allocateMedia(1000, 0, 0);  // instant: held 100 s
  ASSERT_TRUE(a);
  EXPECT_EQ(a->first, "1.sfu.example.com:443");
  EXPECT_EQ(a->second, "198.51.100.1:3478");
  // 1/2 loaded vs 0/1: the empty one.
  EXPECT_EQ(pool.allocateMedia(1000, 2000, 5000)->first, "2.sfu.example.com:443");
  EXPECT_EQ(pool.allocateMedia(1000, 0, 0)->first, "1.sfu.example.com:443");
  EXPECT_FALSE(pool.allocateMedia(1000, 0, 0));  // all full: the contract's non-200
  EXPECT_EQ(pool.activeOn("1.sfu.example.com:443", 1000), 2);
  // The instant meetings are released after the hold time, the scheduled one after its end.
  EXPECT_EQ(pool.allocateMedia(1100, 0, 0)->first, "1.sfu.example.com:443");
  EXPECT_EQ(pool.activeOn("2.sfu.example.com:443", 4999), 1);
  EXPECT_EQ(pool.activeOn("2.sfu.example.com:443", 5000), 0);
  EXPECT_EQ(pool.allocateFs(1000), "fs.example.com:443");
}

TEST(AllocationPool, RoundRobinTakesTurnsAndSkipsFullServers) {
  AllocationPool pool(config("round_robin"));
  EXPECT_EQ(pool.allocateMedia(0, 0, 0)->first, "1.sfu.example.com:443");
  EXPECT_EQ(pool.allocateMedia(0, 0, 0)->first, "2.sfu.example.com:443");
  EXPECT_EQ(pool.allocateMedia(0, 0, 0)->first, "1.sfu.example.com:443");
  EXPECT_FALSE(pool.allocateMedia(0, 0, 0));
}

// The apiserver's client (api::makeRemoteAllocator) against this server: the contract end to end.
TEST(AllocateServer, ServesTheSeed001ContractToTheApiserver) {
  ManualClock clock;
  net::HttpRouter router;
  addAllocateRoute(router, std::make_shared<AllocationPool>(config("least_loaded")), clock);
  net::EventLoopThread thread("alloc");
  std::unique_ptr<net::HttpServer> server;
  std::promise<uint16_t> started;
  thread.loop().post([&] {
    net::HttpServerOptions options;
    options.accessLog = false;
    server = std::make_unique<net::HttpServer>(thread.loop(), router, options);
    EXPECT_TRUE(server->start());
    started.set_value(server->port());
  });
  std::string base = "http://127.0.0.1:" + std::to_string(started.get_future().get());
  auto client = api::makeRemoteAllocator(base + "/alloc/k3yP4th", 2000ms);
  auto media = client->allocateMedia({"owner@example.com", 1'800'000'000, 1'800'003'600});
  ASSERT_TRUE(media) << media.error().message;
  EXPECT_EQ(media->sfu, "1.sfu.example.com:443");
  EXPECT_EQ(media->turn, "198.51.100.1:3478");
  EXPECT_EQ(client->allocateMedia({"owner@example.com", 0, 0})->sfu, "2.sfu.example.com:443");
  EXPECT_TRUE(client->allocateMedia({"owner@example.com", 0, 0}));
  auto full = client->allocateMedia({"owner@example.com", 0, 0});
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, api::AllocationUnavailable);
  EXPECT_EQ(*client->allocateFs("w@example.com"), "fs.example.com:443");

  auto bad = net::httpRequest(net::http::verb::get, base + "/alloc/k3yP4th?Kind=SFUTURN&Email=x&BeginAt=soon&EndAt=0");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->result_int(), 400);
  EXPECT_EQ(net::httpRequest(net::http::verb::get, base + "/alloc/k3yP4th?Kind=GPU")->result_int(), 400);
  EXPECT_EQ(net::httpRequest(net::http::verb::get, base + "/alloc/guess")->result_int(), 404);

  std::promise<void> stopped;
  thread.loop().post([&] { server->stop(200ms, [&] { stopped.set_value(); }); });
  stopped.get_future().wait();
}

}  // namespace
}  // namespace meeting::allocator
