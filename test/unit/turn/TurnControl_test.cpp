// The turnserver on the control link: it registers with the apiserver's hub (in memory as in
// `meeting all`, and over the WebSocket route as a separate process) and reports its load.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "turn/TurnService.hpp"

#if MEETING_TURN_CONTROL
#include "api/control/ControlHub.hpp"
#include "net/HttpServer.hpp"

namespace meeting::turn {
namespace {

using namespace std::chrono_literals;
namespace control = api::control;

constexpr const char* kSecret = "control-secret";

class Listener final : public control::ControlHub::Listener {
 public:
  void onNodeRegistered(const control::NodeInfo&) override {}
  void onNodeEvent(const control::NodeInfo&, const control::NodeEvent&) override {}
};

// A port free for UDP and TCP right now.
int freePort() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a);
    getsockname(u, reinterpret_cast<sockaddr*>(&a), &len);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    const bool tcpFree = bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(t);
    close(u);
    if (tcpFree) return ntohs(a.sin_port);
  }
  return 0;
}

bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit = 5s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

class TurnControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.secret = kSecret;
    config_.ip = "127.0.0.1";
    config_.turnIface = "127.0.0.1";
    config_.turnPort = freePort();  // 0 would mean the default 3478
    config_.turnPortTls = -1;  // no TLS listener
    config_.turnWorkers = 1;
    config_.turnRelayPortMin = 63000;
    config_.turnRelayPortMax = 63099;
    config_.turnMaxAllocationsTotal = 321;
  }
  void TearDown() override {
    std::promise<void> done;
    loop_.loop().post([&] {
      service_.stopControl();
      done.set_value();
    });
    done.get_future().wait();
    service_.stop();
  }
  void startControl(control::ControlHub* hub) {
    std::promise<void> started;
    loop_.loop().post([&] {
      service_.startControl(config_, loop_.loop(), hub);
      started.set_value();
    });
    started.get_future().wait();
  }

  Config config_;
  TurnService service_;
  net::EventLoopThread loop_{"turn-control"};
  SystemClock& clock_ = SystemClock::instance();
  control::NodeRegistry registry_{clock_, 5s};
  Listener listener_;
  control::ControlHub hub_{registry_, listener_, kSecret, clock_};
};

TEST_F(TurnControlTest, RegistersInMemoryAndReportsLoad) {
  ASSERT_TRUE(service_.startWith(config_));
  const auto node = service_.nodeInfo(config_);
  EXPECT_EQ(node.role, "turn");
  EXPECT_EQ(node.capacity, 321);
  EXPECT_EQ(node.address, "127.0.0.1:" + std::to_string(service_.port()));
  startControl(&hub_);
  ASSERT_TRUE(waitFor([&] {
    auto n = registry_.get(node.id);
    return n && n->alive;
  }));
  auto state = registry_.get(node.id);
  EXPECT_EQ(state->info.address, node.address);
  EXPECT_EQ(state->info.capacity, 321);
  EXPECT_EQ(state->load.load, 0);
  // The monitoring report rides on the load message (docs/operations.md "Monitoring", role turn).
  ASSERT_TRUE(waitFor([&] { return registry_.get(node.id)->load.report != nullptr; }));
  const auto report = *registry_.get(node.id)->load.report;
  EXPECT_EQ(report.value("role", ""), "turn");
  for (const char* field : {"allocations", "permissions", "channels", "packets_in_per_s", "packets_out_per_s",
                            "bytes_in_per_s", "bytes_out_per_s", "auth_failures", "relay_ports_total"}) {
    EXPECT_TRUE(report.contains(field)) << field << " " << report.dump();
  }
  EXPECT_EQ(report.value("relay_ports_total", -1), 100);
  EXPECT_EQ(report.value("allocations", -1), 0);
  auto picked = registry_.pickLeastLoaded("turn");
  ASSERT_TRUE(picked);
  EXPECT_EQ(picked->info.id, node.id);

  // Commands are about rooms: a relay refuses them, and says so.
  std::promise<control::CommandAck> acked;
  control::Command command;
  command.command = "add_peer";
  command.room = "r";
  ASSERT_TRUE(hub_.sendCommand(node.id, command, [&](const control::CommandAck& a) { acked.set_value(a); }));
  auto ack = acked.get_future();
  ASSERT_EQ(ack.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(ack.get().ok);
}

TEST_F(TurnControlTest, RegistersOverTheWebSocketRouteAndGoesDownOnStop) {
  net::HttpRouter router;
  router.addWebSocket("/api/v1/control", hub_.webSocketRoute());
  net::EventLoopThread httpThread("test-http");
  std::unique_ptr<net::HttpServer> server;
  {
    std::promise<void> started;
    httpThread.loop().post([&] {
      net::HttpServerOptions options;
      options.port = 0;
      options.accessLog = false;
      server = std::make_unique<net::HttpServer>(httpThread.loop(), router, options);
      EXPECT_TRUE(server->start());
      started.set_value();
    });
    started.get_future().wait();
  }
  config_.apiServer = "ws://127.0.0.1:" + std::to_string(server->port());
  ASSERT_TRUE(service_.startWith(config_));
  const std::string id = service_.nodeInfo(config_).id;
  startControl(nullptr);
  ASSERT_TRUE(waitFor([&] {
    auto n = registry_.get(id);
    return n && n->alive;
  }));
  EXPECT_EQ(registry_.get(id)->info.role, "turn");

  std::promise<void> stopped;
  loop_.loop().post([&] {
    service_.stopControl();
    stopped.set_value();
  });
  stopped.get_future().wait();
  EXPECT_TRUE(waitFor([&] { return !registry_.get(id)->alive; }));

  std::promise<void> done;
  httpThread.loop().post([&] { server->stop(500ms, [&] { done.set_value(); }); });
  done.get_future().wait_for(5s);
}

TEST_F(TurnControlTest, WrongSecretNeverRegisters) {
  net::HttpRouter router;
  router.addWebSocket("/api/v1/control", hub_.webSocketRoute());
  net::EventLoopThread httpThread("test-http");
  std::unique_ptr<net::HttpServer> server;
  {
    std::promise<void> started;
    httpThread.loop().post([&] {
      net::HttpServerOptions options;
      options.port = 0;
      options.accessLog = false;
      server = std::make_unique<net::HttpServer>(httpThread.loop(), router, options);
      EXPECT_TRUE(server->start());
      started.set_value();
    });
    started.get_future().wait();
  }
  config_.apiServer = "ws://127.0.0.1:" + std::to_string(server->port());
  config_.secret = "not-the-cluster-secret";
  ASSERT_TRUE(service_.startWith(config_));
  startControl(nullptr);
  std::this_thread::sleep_for(700ms);
  EXPECT_TRUE(registry_.list("turn").empty());
  std::promise<void> done;
  httpThread.loop().post([&] { server->stop(500ms, [&] { done.set_value(); }); });
  done.get_future().wait_for(5s);
}

}  // namespace
}  // namespace meeting::turn
#endif  // MEETING_TURN_CONTROL
