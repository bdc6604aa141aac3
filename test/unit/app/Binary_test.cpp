// The real binary, as an administrator runs it: start, answer over HTTPS, stop on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/asio/ip/tcp.hpp>

#include "net/HttpClient.hpp"

extern char** environ;
using namespace std::chrono_literals;

namespace {

uint16_t freePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

pid_t spawn(const std::vector<std::string>& args, const std::string& logFile) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

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
  uint16_t port = freePort();
  std::string listen = "127.0.0.1:" + std::to_string(port);
  pid_t pid = spawn({MEETING_BINARY, "--data", (dir / "data").string(), "--listen", listen}, (dir / "log").string());
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
  pid_t pid = spawn({MEETING_BINARY, "all", "--config", (dir / "role.json").string(), "--data", (dir / "d").string()},
                    (dir / "log").string());
  EXPECT_EQ(waitExit(pid, 10s), 0);
}

TEST(Binary, UnknownFlagExitsWith2) {
  auto dir = std::filesystem::path(testing::TempDir());
  pid_t pid = spawn({MEETING_BINARY, "--no-such-flag"}, (dir / "flag.log").string());
  EXPECT_EQ(waitExit(pid, 10s), 2);
}
