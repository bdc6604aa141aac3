// The first start of `meeting all` creates an administrator and prints its login once; the
// printed password signs in over the REST API; a second start prints nothing new.
#include <gtest/gtest.h>

#include "ChildProcess.hpp"
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "net/HttpClient.hpp"

using namespace std::chrono_literals;

namespace {

using meeting::test::freeTcpPort;
using meeting::test::spawnLogged;

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string valueAfter(const std::string& text, const std::string& label) {
  auto at = text.find(label);
  if (at == std::string::npos) return {};
  auto begin = at + label.size();
  auto end = text.find('\n', begin);
  std::string v = text.substr(begin, end - begin);
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  return v;
}

struct Started {
  pid_t pid = 0;
  std::string base;
};

Started start(const std::filesystem::path& dir, const std::string& log) {
  uint16_t port = freeTcpPort();
  std::string listen = "127.0.0.1:" + std::to_string(port);
  Started s{spawnLogged({MEETING_BINARY, "--data", (dir / "data").string(), "--listen", listen}, (dir / log).string()),
            "https://" + listen};
  meeting::net::HttpClientOptions insecure;
  insecure.verifyTls = false;
  insecure.timeout = 2s;
  for (int i = 0; i < 150; ++i) {
    auto r = meeting::net::httpRequest(meeting::net::http::verb::get, s.base + "/ping", {}, insecure);
    if (r && r->result_int() == 200) return s;
    std::this_thread::sleep_for(100ms);
  }
  ADD_FAILURE() << "server did not answer /ping: " << readFile(dir / log);
  return s;
}

void stop(pid_t pid) {
  kill(pid, SIGTERM);
  for (int i = 0; i < 500; ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(20ms);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

int login(const std::string& base, const std::string& email, const std::string& password) {
  meeting::net::HttpClientOptions options;
  options.verifyTls = false;
  options.timeout = 10s;
  options.headers["Content-Type"] = "application/json";
  nlohmann::json body{{"email", email}, {"password", password}};
  auto r = meeting::net::httpRequest(meeting::net::http::verb::post, base + "/api/v1/auth/login", body.dump(), options);
  return r ? r->result_int() : 0;
}

}  // namespace

TEST(FirstStart, PrintsAWorkingAdministratorLoginOnce) {
  auto dir = std::filesystem::path(testing::TempDir()) / "first-start";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto first = start(dir, "log1");
  ASSERT_GT(first.pid, 0);
  std::string log = readFile(dir / "log1");
  std::string email = valueAfter(log, "e-mail:");
  std::string password = valueAfter(log, "password:");
  std::string url = valueAfter(log, "sign in at:");
  EXPECT_EQ(email.rfind("admin@", 0), 0u) << log;
  EXPECT_EQ(password.size(), 16u) << log;
  EXPECT_EQ(url.rfind("https://", 0), 0u) << log;
  EXPECT_EQ(login(first.base, email, password), 200);
  EXPECT_EQ(login(first.base, email, password + "x"), 401);
  stop(first.pid);
  // The database holds only the hash (the log, by design, has the one-time banner).
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir / "data")) {
    if (entry.is_regular_file() && entry.path().string().find(".db") != std::string::npos) {
      EXPECT_EQ(readFile(entry.path()).find(password), std::string::npos) << entry.path();
    }
  }

  auto second = start(dir, "log2");
  ASSERT_GT(second.pid, 0);
  std::string log2 = readFile(dir / "log2");
  EXPECT_EQ(log2.find("Administrator account created"), std::string::npos) << log2;
  EXPECT_EQ(log2.find(password), std::string::npos);
  EXPECT_EQ(login(second.base, email, password), 200);
  stop(second.pid);
}
