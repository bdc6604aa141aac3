// The cluster report with separate processes: a real `meeting apiserver`, `meeting turnserver`
// and `meeting fsserver` on free loopback ports; the turn and fs servers register over the
// control link and report their load every second. The test drives each (coturn's uclient
// through the relay, once with a wrong secret; an upload to the fsserver with a signed URL) and
// reads the changes at /monitoring/<password>, GET /api/v1/monitoring and in `meeting ctl stats`.
// It also checks that the access log never prints the report password or a token.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "ChildProcess.hpp"
#include "common/SignedUrl.hpp"
#include "net/HttpClient.hpp"

namespace {

using namespace std::chrono_literals;
using namespace meeting::test;  // freeTcpPort, shell, spawnLogged
using nlohmann::json;
namespace http = meeting::net::http;

constexpr const char* Secret = "cluster-monitoring-test-secret";
constexpr const char* ReportPassword = "s3cret-report-pw";

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class ClusterMonitoring : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(testing::TempDir()) / ("cluster-monitoring-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    apiPort_ = freeTcpPort();
    base_ = "http://127.0.0.1:" + std::to_string(apiPort_);
    const std::string api = base_;

    std::filesystem::create_directories(dir_ / "api");
    auto created = shell(std::string(MEETING_BINARY) + " ctl apikey create monitoring --data " + (dir_ / "api").string());
    ASSERT_EQ(created.first, 0) << created.second;
    key_ = created.second.substr(created.second.find('\n') + 1);
    key_ = key_.substr(0, key_.find('\n'));
    ASSERT_FALSE(key_.empty()) << created.second;

    start("api", {MEETING_BINARY, "apiserver", "--data", (dir_ / "api").string(), "--listen",
                  "127.0.0.1:" + std::to_string(apiPort_), "--http", "--secret", Secret, "--report-password", ReportPassword});
    for (int i = 0; i < 150 && request("/ping").first != 200; ++i) std::this_thread::sleep_for(100ms);
    ASSERT_EQ(request("/ping").first, 200) << "apiserver did not start:\n" << readFile(dir_ / "api.log");

    turnPort_ = freeTcpPort();
    start("turn", {MEETING_BINARY, "turnserver", "--data", (dir_ / "turn").string(), "--listen",
                   "127.0.0.1:" + std::to_string(freeTcpPort()), "--http", "--secret", Secret, "--apiserver", api, "--port",
                   std::to_string(turnPort_), "--tls-port", std::to_string(freeTcpPort()), "--ip", "127.0.0.1",
                   "--turn-workers", "1", "--allow-loopback-peers", "--relay-ports", "62000-62199"});
    fsPort_ = freeTcpPort();
    start("fs", {MEETING_BINARY, "fsserver", "--data", (dir_ / "fs").string(), "--listen",
                 "127.0.0.1:" + std::to_string(fsPort_), "--http", "--secret", Secret, "--apiserver", api, "--directory",
                 (dir_ / "files").string()});
  }

  void TearDown() override {
    for (auto it = pids_.rbegin(); it != pids_.rend(); ++it) {
      kill(*it, SIGTERM);
      int status = 0;
      for (int i = 0; i < 100 && waitpid(*it, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(50ms);
      kill(*it, SIGKILL);
      waitpid(*it, &status, 0);
    }
  }

  void start(const std::string& name, std::vector<std::string> args) {
    pid_t pid = spawnLogged(args, (dir_ / (name + ".log")).string());
    ASSERT_GT(pid, 0) << name;
    pids_.push_back(pid);
  }

  std::pair<int, std::string> request(const std::string& path, bool withKey = false) {
    meeting::net::HttpClientOptions options;
    options.timeout = 5s;
    if (withKey) options.headers["Authorization"] = "Bearer " + key_;
    auto r = meeting::net::httpRequest(http::verb::get, base_ + path, "", options);
    if (!r) return {0, r.error().message};
    return {r->result_int(), r->body()};
  }

  /// The report of the server of `role` once `pred` holds for it (bounded: ~15 s).
  json waitForReport(const std::string& role, const std::function<bool(const json&)>& pred) {
    json last;
    for (int i = 0; i < 150; ++i) {
      auto r = request(std::string("/monitoring/") + ReportPassword);
      last = json::parse(r.second, nullptr, false);
      if (last.is_object()) {
        for (const auto& s : last["servers"]) {
          if (s["role"] == role && s["status"] == "up" && s["report"].is_object() && pred(s["report"])) return s;
        }
      }
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << role << ": condition not reached; last report: " << last.dump(2) << "\nturn log:\n"
                  << readFile(dir_ / "turn.log") << "\nfs log:\n" << readFile(dir_ / "fs.log");
    return nullptr;
  }

  std::filesystem::path dir_;
  uint16_t apiPort_ = 0, turnPort_ = 0, fsPort_ = 0;
  std::string base_, key_;
  std::vector<pid_t> pids_;
};

TEST_F(ClusterMonitoring, TurnAndFsServersReportTheirLoadToTheApiserver) {
  // Both register and send a report with every documented field.
  json turn = waitForReport("turn", [](const json&) { return true; });
  ASSERT_TRUE(turn.is_object());
  for (const char* field : {"allocations", "permissions", "channels", "tcp_connections", "packets_in_per_s",
                            "packets_out_per_s", "bytes_in_per_s", "bytes_out_per_s", "auth_failures",
                            "auth_failures_per_s", "relay_ports_free", "relay_ports_total", "workers"}) {
    EXPECT_TRUE(turn["report"].contains(field) && turn["report"][field].is_number()) << field << " " << turn.dump();
  }
  EXPECT_EQ(turn["report"]["relay_ports_total"], 200);
  EXPECT_EQ(turn["address"], "127.0.0.1:" + std::to_string(turnPort_));
  json fs = waitForReport("fs", [](const json&) { return true; });
  ASSERT_TRUE(fs.is_object());
  for (const char* field : {"uploads_in_progress", "downloads_in_progress", "bytes_in_per_s", "bytes_out_per_s",
                            "stored_files", "stored_bytes"}) {
    EXPECT_TRUE(fs["report"].contains(field) && fs["report"][field].is_number()) << field << " " << fs.dump();
  }
  EXPECT_EQ(fs["report"]["stored_files"], 0);

  // FS: an upload shows up as a stored file of its size.
  meeting::signedurl::Grant grant;
  grant.op = meeting::signedurl::Operation::Upload;
  grant.id = meeting::signedurl::newFileId();
  grant.room = "monitored-room";
  grant.maxBytes = 1 << 20;
  grant.expiresAt = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() + 600;
  auto query = meeting::signedurl::sign(grant, Secret);
  ASSERT_TRUE(query) << query.error().message;
  meeting::net::HttpClientOptions options;
  options.timeout = 5s;
  options.headers["Content-Type"] = "text/plain";
  const std::string body(100'000, 'x');
  auto put = meeting::net::httpRequest(http::verb::put,
                                       "http://127.0.0.1:" + std::to_string(fsPort_) + "/fs/v1/files/" + grant.id + "?" + *query,
                                       body, options);
  ASSERT_TRUE(put) << put.error().message;
  ASSERT_EQ(put->result_int(), 201) << put->body();
  json stored = waitForReport("fs", [](const json& r) { return r["stored_files"].get<int64_t>() == 1; });
  ASSERT_TRUE(stored.is_object());
  EXPECT_GE(stored["report"]["stored_bytes"].get<int64_t>(), 100'000);

  // (coturn's tools come with scripts/setup.sh --test; without them only the fields are checked.)
  if (std::filesystem::exists("/usr/bin/turnutils_uclient")) {
    // TURN: a client with a wrong secret fails authentication; one with the right secret relays
    // through allocations with permissions and channels (uclient binds channels by default).
    const auto uclient = std::string("timeout 20 /usr/bin/turnutils_uclient -e 127.0.0.1 -p ") + std::to_string(turnPort_) +
                         " -u monitor -n 5 -m 1 -l 100 ";
    shell(uclient + "-W not-the-secret -r 9 127.0.0.1");
    waitForReport("turn", [](const json& r) { return r["auth_failures"].get<int64_t>() >= 1; });
    const uint16_t peerPort = freeTcpPort();
    pid_t peer = spawnLogged({"/usr/bin/turnutils_peer", "-L", "127.0.0.1", "-p", std::to_string(peerPort)},
                             (dir_ / "peer.log").string());
    ASSERT_GT(peer, 0);
    pids_.push_back(peer);
    std::this_thread::sleep_for(200ms);
    pid_t client = spawnLogged({"/usr/bin/turnutils_uclient", "-e", "127.0.0.1", "-r", std::to_string(peerPort), "-p",
                                std::to_string(turnPort_), "-W", Secret, "-u", "monitor", "-n", "3000", "-m", "2", "-l",
                                "200", "-z", "2", "127.0.0.1"},
                               (dir_ / "uclient.log").string());
    ASSERT_GT(client, 0);
    pids_.push_back(client);
    json busy = waitForReport("turn", [](const json& r) {
      return r["allocations"].get<int64_t>() >= 1 && r["packets_in_per_s"].get<int64_t>() > 0 &&
             r["bytes_in_per_s"].get<int64_t>() > 0 && r["packets_out_per_s"].get<int64_t>() > 0;
    });
    ASSERT_TRUE(busy.is_object()) << readFile(dir_ / "uclient.log");
    EXPECT_GE(busy["report"]["permissions"].get<int64_t>() + busy["report"]["channels"].get<int64_t>(), 1) << busy.dump();
    EXPECT_GE(busy["load"].get<int64_t>(), 1);
  } else {
    ADD_FAILURE() << "coturn's turnutils_uclient is missing: TURN traffic not tested (scripts/setup.sh --test)";
  }

  // The REST route serves the same cluster report, and `meeting ctl stats` prints both servers.
  auto rest = request("/api/v1/monitoring", true);
  ASSERT_EQ(rest.first, 200) << rest.second;
  std::set<std::string> roles;
  const json cluster = json::parse(rest.second, nullptr, false);
  ASSERT_TRUE(cluster.is_object()) << rest.second;
  for (const auto& s : cluster["servers"]) roles.insert(s["role"].get<std::string>());
  EXPECT_EQ(roles, (std::set<std::string>{"turn", "fs"}));
  auto stats = shell(std::string(MEETING_BINARY) + " ctl --server " + base_ + " --key " + key_ + " stats --once");
  ASSERT_EQ(stats.first, 0) << stats.second;
  EXPECT_NE(stats.second.find("TURN"), std::string::npos) << stats.second;
  EXPECT_NE(stats.second.find(turn["id"].get<std::string>().substr(0, 24)), std::string::npos) << stats.second;
  EXPECT_NE(stats.second.find("FS"), std::string::npos) << stats.second;
  EXPECT_NE(stats.second.find(fs["id"].get<std::string>().substr(0, 24)), std::string::npos) << stats.second;

  // The report password was requested many times; the access log never shows it.
  request(std::string("/monitoring/") + ReportPassword + "?token=also-secret");
  request("/monitoring/wrong-guess");
  std::this_thread::sleep_for(200ms);
  const std::string log = readFile(dir_ / "api.log");
  EXPECT_NE(log.find("/monitoring/<redacted>"), std::string::npos) << log.substr(0, 4000);
  EXPECT_EQ(log.find(ReportPassword), std::string::npos);
  EXPECT_EQ(log.find("wrong-guess"), std::string::npos);
  EXPECT_EQ(log.find("also-secret"), std::string::npos);
}

}  // namespace
