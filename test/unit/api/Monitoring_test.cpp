// The apiserver's monitoring report: the report a server sends with its load, the cluster JSON,
// /monitoring/<password> (any other password: the plain 404 of an unknown path) and
// GET /api/v1/monitoring for API keys.
#include "api/Monitoring.hpp"

#include "ApiFixture.hpp"

namespace meeting::api::test {
namespace {

class MonitoringTest : public ApiFixture {
 protected:
  // A fake sfu node whose load carries a report.
  std::unique_ptr<net::EventLoopThread> startReportingNode(const std::string& id, nlohmann::json report) {
    auto thread = std::make_unique<net::EventLoopThread>("fake-sfu");
    std::promise<void> started;
    thread->loop().post([&, id, report] {
      client_ = control::makeLocalControlClient(
          thread->loop(), *hub_, sfuInfo(id), [](const control::Command& c) { return control::CommandAck{c.id, true, ""}; },
          [report] {
            control::LoadReport load{3, 1, 3, std::make_shared<const json>(report)};
            return load;
          },
          50ms);
      client_->start();
      started.set_value();
    });
    started.get_future().wait();
    return thread;
  }
  void stopNode(net::EventLoopThread& thread) {
    std::promise<void> done;
    thread.loop().post([&] {
      client_.reset();
      done.set_value();
    });
    done.get_future().wait();
  }
  bool waitFor(const std::function<bool()>& pred) {
    for (int i = 0; i < 300; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  std::unique_ptr<control::ControlClient> client_;
};

TEST(MonitoringPassword, ComparesWholeValues) {
  EXPECT_TRUE(passwordMatches("reppass", "reppass"));
  EXPECT_FALSE(passwordMatches("reppas", "reppass"));
  EXPECT_FALSE(passwordMatches("reppassx", "reppass"));
  EXPECT_FALSE(passwordMatches("", "reppass"));
  EXPECT_FALSE(passwordMatches("", ""));  // an empty password never opens the report
  EXPECT_FALSE(passwordMatches(std::string("reppass\0", 8), "reppass"));
}

TEST(MonitoringMessages, LoadCarriesTheReport) {
  control::ControlMessage m;
  m.type = control::ControlMessage::Type::Load;
  m.load = control::LoadReport{5, 2, 5, std::make_shared<const json>(json{{"workers", json::array()}, {"rooms", json::array()}})};
  auto parsed = control::parseControlMessage(control::serializeControlMessage(m));
  ASSERT_TRUE(parsed);
  ASSERT_TRUE(parsed->load.report);
  EXPECT_EQ((*parsed->load.report)["workers"], json::array());
  // Without a report the message is as before; a report that is not an object is refused.
  m.load.report.reset();
  auto plain = control::serializeControlMessage(m);
  EXPECT_EQ(plain.find("report"), std::string::npos);
  EXPECT_FALSE(control::parseControlMessage(plain)->load.report);
  EXPECT_FALSE(control::parseControlMessage(R"({"type":"load","load":1,"report":[1,2]})"));
  EXPECT_TRUE(control::parseControlMessage(R"({"type":"load","load":1,"report":null})"));
}

TEST_F(MonitoringTest, ClusterReportListsServersWithTheirReports) {
  auto report = json{{"node", "sfu-a"}, {"workers", json::array({{{"id", 0}, {"cpu", 0.1}}})},
                     {"rooms", json::array({{{"id", "standup"}, {"peers", 3}}})}};
  auto node = startReportingNode("sfu-a", report);
  FakeNode turn(*hub_, control::NodeInfo{"turn-a", "turn", "turn.example.com:3478", "", 100});
  ASSERT_TRUE(waitFor([&] {
    auto n = registry_->get("sfu-a");
    return n && n->load.report && registry_->get("turn-a");
  }));
  auto cluster = clusterReport(*registry_, clock_);
  EXPECT_EQ(cluster["time"], clock_.wallMicros() / 1000);
  ASSERT_EQ(cluster["servers"].size(), 2u);
  const auto& sfu = cluster["servers"][0];
  EXPECT_EQ(sfu["id"], "sfu-a");
  EXPECT_EQ(sfu["role"], "sfu");
  EXPECT_EQ(sfu["status"], "up");
  EXPECT_EQ(sfu["peers"], 3);
  EXPECT_EQ(sfu["report"], report);
  EXPECT_EQ(cluster["servers"][1]["role"], "turn");
  EXPECT_TRUE(cluster["servers"][1]["report"].is_null());
  EXPECT_EQ(cluster["totals"]["servers"], 2);
  EXPECT_EQ(cluster["totals"]["servers_up"], 2);

  // The same document for an API key; 401 without one.
  auto viaApi = get("/api/v1/monitoring");
  EXPECT_EQ(viaApi.status, 200);
  EXPECT_EQ(viaApi.body["servers"][0]["report"], report);
  EXPECT_EQ(call(http::verb::get, "/api/v1/monitoring", {}, "").status, 401);

  // A silent server is down (its last report stays visible).
  clock_.advance(6s);
  cluster = clusterReport(*registry_, clock_);
  EXPECT_EQ(cluster["servers"][0]["status"], "down");
  EXPECT_EQ(cluster["totals"]["servers_up"], 0);
  stopNode(*node);
}

TEST_F(MonitoringTest, PasswordRouteAnswersOnlyTheRightPassword) {
  net::HttpRouter router;
  addMonitoringRoute(router, *registry_, clock_, "reppass");
  net::HttpRouter disabled;
  addMonitoringRoute(disabled, *registry_, clock_, "");
  EXPECT_TRUE(disabled.routes().empty());
  TestHttpServer server(router);
  auto fetch = [&](const std::string& path) {
    auto r = net::httpRequest(http::verb::get, server.url(path));
    return r ? std::make_pair(r->result_int(), r->body()) : std::make_pair(0u, std::string{});
  };
  auto ok = fetch("/monitoring/reppass");
  EXPECT_EQ(ok.first, 200u);
  EXPECT_TRUE(json::parse(ok.second)["servers"].is_array());
  auto wrong = fetch("/monitoring/nope");
  auto unknown = fetch("/no/such/path");
  EXPECT_EQ(wrong.first, 404u);
  EXPECT_EQ(unknown.first, 404u);
  // Same shape as the router's own 404: {"error": {"code": "not_found", ...}}.
  EXPECT_EQ(json::parse(wrong.second)["error"]["code"], json::parse(unknown.second)["error"]["code"]);
  EXPECT_EQ(fetch("/monitoring/").first, 404u);
  EXPECT_EQ(fetch("/monitoring/reppass/x").first, 404u);
}

TEST_F(MonitoringTest, DatabaseLatencyHistogramIsExported) {
  ASSERT_EQ(get("/api/v1/rooms").status, 200);
  auto text = MetricsRegistry::global().render();
  EXPECT_NE(text.find("# TYPE meeting_db_operation_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("meeting_db_operation_duration_seconds_bucket{le=\"+Inf\"}"), std::string::npos);
  EXPECT_NE(text.find("meeting_db_operation_duration_seconds_count"), std::string::npos);
}

}  // namespace
}  // namespace meeting::api::test
