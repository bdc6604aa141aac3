// The real binary, as an administrator runs it: start, answer over HTTPS, stop on SIGTERM.
#include <gtest/gtest.h>

#include "ChildProcess.hpp"
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/asio/ip/tcp.hpp>

#include "net/HttpClient.hpp"

using namespace std::chrono_literals;

namespace {

using meeting::test::freeTcpPort;
using meeting::test::spawnLogged;

int waitExit(pid_t pid, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(20ms);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

}  // namespace

TEST(Binary, AllInOneServesPingAndMetricsOverHttpsAndStopsOnSigterm) {
  auto dir = std::filesystem::path(testing::TempDir()) / "binary-all";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  uint16_t port = freeTcpPort();
  std::string listen = "127.0.0.1:" + std::to_string(port);
  pid_t pid = spawnLogged({MEETING_BINARY, "--data", (dir / "data").string(), "--listen", listen}, (dir / "log").string());
  ASSERT_GT(pid, 0);
  meeting::net::HttpClientOptions insecure;
  insecure.verifyTls = false;
  insecure.timeout = 2s;
  std::string base = "https://" + listen;
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {  // at most ~10 s
    auto r = meeting::net::httpRequest(meeting::net::http::verb::get, base + "/ping", {}, insecure);
    up = r && r->result_int() == 200 && r->body() == "pong\n";
    if (!up) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(up) << "server did not answer /ping";
  auto metrics = meeting::net::httpRequest(meeting::net::http::verb::get, base + "/metrics", {}, insecure);
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body().find("process_cpu_seconds_total"), std::string::npos);
  EXPECT_NE(metrics->body().find("meeting_http_requests_total{method=\"GET\",route=\"/ping\",status=\"200\"}"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir / "data" / "tls" / "cert.pem"));
  kill(pid, SIGTERM);
  EXPECT_EQ(waitExit(pid, 10s), 0);
}

TEST(Binary, DisabledRoleDoesNotStart) {
  auto dir = std::filesystem::path(testing::TempDir()) / "binary-disabled";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "role.json") << R"({"name":"meet1","roletype":"meet","iface":"lo","group":1,"order":1,
    "roleid":1,"separate":false,"port":4123,"cert_domain":"x","license_path":"y","enabled":false})";
  pid_t pid = spawnLogged({MEETING_BINARY, "all", "--config", (dir / "role.json").string(), "--data", (dir / "d").string()},
                    (dir / "log").string());
  EXPECT_EQ(waitExit(pid, 10s), 0);
}

TEST(Binary, UnknownFlagExitsWith2) {
  auto dir = std::filesystem::path(testing::TempDir());
  pid_t pid = spawnLogged({MEETING_BINARY, "--no-such-flag"}, (dir / "flag.log").string());
  EXPECT_EQ(waitExit(pid, 10s), 2);
}
