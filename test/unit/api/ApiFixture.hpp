#pragma once
// A real apiserver stack for tests: SQLite in a temp dir, the REST API and the control hub on an
// HttpServer bound to 127.0.0.1:0, a ManualClock for stored times, tokens and node liveness, and
// an allocator the test can swap (built-in or an allocate server URL).
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include "api/Allocator.hpp"
#include "api/EventRecorder.hpp"
#include "api/PeerRegistry.hpp"
#include "api/RestApi.hpp"
#include "api/control/ControlClient.hpp"
#include "api/control/ControlHub.hpp"
#include "api/control/NodeRegistry.hpp"
#include "api/db/DbExecutor.hpp"
#include "api/db/Storage.hpp"
#include "net/HttpClient.hpp"
#include "net/HttpServer.hpp"

namespace meeting::api::test {

using nlohmann::json;
namespace http = net::http;
using namespace std::chrono_literals;

inline constexpr const char* Secret = "test-cluster-secret";

/// Forwards to whichever allocator the test installed.
class SwitchableAllocator final : public Allocator {
 public:
  std::unique_ptr<Allocator> inner;
  Result<MediaAllocation> allocateMedia(const MediaRequest& r) override { return inner->allocateMedia(r); }
  Result<std::string> allocateFs(const std::string& email) override { return inner->allocateFs(email); }
  bool external() const override { return inner->external(); }
};

/// An HTTP server on its own loop thread (also used as a fake allocate server).
class TestHttpServer {
 public:
  explicit TestHttpServer(net::HttpRouter& router, uint16_t port = 0) : thread_("test-http") {
    net::HttpServerOptions options;
    options.port = port;
    options.accessLog = false;
    std::promise<void> started;
    thread_.loop().post([&] {
      server_ = std::make_unique<net::HttpServer>(thread_.loop(), router, options);
      auto r = server_->start();
      EXPECT_TRUE(r) << (r ? "" : r.error().message);
      started.set_value();
    });
    started.get_future().wait();
    port_ = server_->port();
  }
  ~TestHttpServer() {
    std::promise<void> done;
    thread_.loop().post([&] { server_->stop(500ms, [&] { done.set_value(); }); });
    done.get_future().wait_for(5s);
  }
  uint16_t port() const { return port_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

 private:
  net::EventLoopThread thread_;
  std::unique_ptr<net::HttpServer> server_;
  uint16_t port_ = 0;
};

struct Reply {
  int status = 0;
  json body;
  std::string raw;
  std::string retryAfter;
};

/// A fake server on the control link: records commands, answers ok.
class FakeNode {
 public:
  FakeNode(control::ControlHub& hub, control::NodeInfo info) : thread_("fake-node") {
    std::promise<void> started;
    thread_.loop().post([&] {
      client_ = control::makeLocalControlClient(
          thread_.loop(), hub, info,
          [this](const control::Command& c) {
            std::lock_guard lock(mutex_);
            commands_.push_back(c);
            return control::CommandAck{c.id, true, ""};
          },
          [] { return control::LoadReport{1, 1, 1, nullptr}; }, 50ms);
      client_->start();
      started.set_value();
    });
    started.get_future().wait();
  }
  ~FakeNode() {
    std::promise<void> done;
    thread_.loop().post([&] {
      client_.reset();
      done.set_value();
    });
    done.get_future().wait();
  }
  void report(control::NodeEvent e) { client_->reportEvent(std::move(e)); }
  std::vector<control::Command> commands() {
    std::lock_guard lock(mutex_);
    return commands_;
  }
  /// Waits until a command named `name` arrived (up to 3 s).
  std::optional<control::Command> waitCommand(const std::string& name) {
    for (int i = 0; i < 300; ++i) {
      for (const auto& c : commands()) {
        if (c.command == name) return c;
      }
      std::this_thread::sleep_for(10ms);
    }
    return std::nullopt;
  }

 private:
  net::EventLoopThread thread_;
  std::unique_ptr<control::ControlClient> client_;
  std::mutex mutex_;
  std::vector<control::Command> commands_;
};

class ApiFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("meeting-api-test-" + std::to_string(std::random_device{}()) + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    auto opened = db::openStorage(db::StorageConfig{"sqlite:" + (dir_ / "t.db").string(), 2}, clock_);
    ASSERT_TRUE(opened) << opened.error().message;
    storage_ = std::move(*opened);
    workers_ = std::make_unique<db::DbExecutor>(2, 256);
    events_ = std::make_unique<db::DbExecutor>(1, 1024);
    registry_ = std::make_unique<control::NodeRegistry>(clock_, 5s);
    recorder_ = std::make_unique<EventRecorder>(*storage_, *events_, peers_);
    hub_ = std::make_unique<control::ControlHub>(*registry_, *recorder_, Secret, clock_);
    allocator_.inner = makeBuiltInAllocator(*registry_);
    RestApiOptions options;
    options.secret = Secret;
    options.publicUrl = "https://meet.example.com";
    options.passwordParams = auth::PasswordParams::fastForTests();  // Argon2id at minimal cost
    configure(options);
    rest_ = std::make_unique<RestApi>(RestApiDeps{*storage_, *workers_, allocator_, *hub_, peers_, clock_}, options);
    rest_->registerRoutes(router_);
    server_ = std::make_unique<TestHttpServer>(router_);
    auto key = storage_->createApiKey("test");
    ASSERT_TRUE(key);
    apiKey_ = key->secret;
  }
  /// Lets a suite change the REST options before the API is built.
  virtual void configure(RestApiOptions&) {}

  void TearDown() override {
    server_.reset();
    workers_->shutdown();
    events_->shutdown();
    storage_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Reply call(http::verb method, const std::string& path, const std::string& body = {}, const std::string& key = "default") {
    net::HttpClientOptions options;
    options.timeout = 10s;
    std::string k = key == "default" ? apiKey_ : key;
    if (!k.empty()) options.headers["Authorization"] = "Bearer " + k;
    if (!body.empty()) options.headers["Content-Type"] = "application/json";
    auto r = net::httpRequest(method, server_->url(path), body, options);
    Reply reply;
    if (!r) {
      ADD_FAILURE() << "request failed: " << r.error().message;
      return reply;
    }
    reply.status = r->result_int();
    reply.raw = r->body();
    reply.body = json::parse(r->body(), nullptr, false);
    if (auto it = r->find(http::field::retry_after); it != r->end()) reply.retryAfter = std::string(it->value());
    return reply;
  }
  Reply post(const std::string& path, const json& body) { return call(http::verb::post, path, body.dump()); }
  Reply get(const std::string& path) { return call(http::verb::get, path); }
  Reply del(const std::string& path) { return call(http::verb::delete_, path); }

  /// Waits until the one-thread event executor has applied everything queued so far.
  void drainEvents() {
    for (int i = 0; i < 100; ++i) {
      std::promise<void> done;
      auto f = done.get_future();
      if (events_->post([&done] { done.set_value(); })) {
        f.wait();
        return;
      }
      std::this_thread::sleep_for(10ms);
    }
  }

  static control::NodeInfo sfuInfo(const std::string& id = "sfu-1") {
    return control::NodeInfo{id, "sfu", "sfu1.example.com:443", "wss://sfu1.example.com:443/rtc", 100};
  }

  std::filesystem::path dir_;
  // Wall time starts at the real time so that clients on real-clock loops (the WebSocket control
  // client signs its token with its loop's clock) agree with the hub within the token leeway.
  ManualClock clock_{TimePoint{Duration{1'000'000}}, SystemClock::instance().wallMicros()};
  std::unique_ptr<db::Storage> storage_;
  std::unique_ptr<db::DbExecutor> workers_;
  std::unique_ptr<db::DbExecutor> events_;
  std::unique_ptr<control::NodeRegistry> registry_;
  PeerRegistry peers_;
  std::unique_ptr<EventRecorder> recorder_;
  std::unique_ptr<control::ControlHub> hub_;
  SwitchableAllocator allocator_;
  std::unique_ptr<RestApi> rest_;
  net::HttpRouter router_;
  std::unique_ptr<TestHttpServer> server_;
  std::string apiKey_;
};

}  // namespace meeting::api::test
