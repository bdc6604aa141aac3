#pragma once
// One fixture for both back ends: SQLite in a temp dir, or the MariaDB server that
// MariaDbEnvironment starts once per test binary (lazily, on the first MariaDB test, so test
// binaries filtered to other suites never start it). Each test gets an empty database.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "api/db/Storage.hpp"
#include "common/Clock.hpp"
#include "support/MariaDbServer.hpp"

namespace meeting::api::db::test {

enum class Backend { Sqlite, Mariadb };

inline std::string backendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::Sqlite ? "Sqlite" : "Mariadb";
}

/// Owns the shared MariaDB server; stops it after the last test.
class MariaDbEnvironment : public ::testing::Environment {
 public:
  /// The running server, started on first use; nullptr with `error` set when it cannot start.
  static testsupport::MariaDbServer* server(std::string& error) {
    std::lock_guard lock(mutex());
    auto& s = state();
    if (!s.tried) {
      s.tried = true;
      auto created = testsupport::MariaDbServer::create();
      if (created.ok()) {
        s.server = std::move(created).value();
      } else {
        s.error = created.error().message;
      }
    }
    error = s.error;
    return s.server.get();
  }
  void TearDown() override {
    std::lock_guard lock(mutex());
    state() = State{};  // a later --gtest_repeat iteration starts a fresh server
  }
  static bool skipRequested() {
    const char* v = std::getenv("MEETING_SKIP_MARIADB");
    return v != nullptr && std::string(v) == "1";
  }

 private:
  struct State {
    bool tried = false;
    std::unique_ptr<testsupport::MariaDbServer> server;
    std::string error;
  };
  static State& state() {
    static State s;
    return s;
  }
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
};

class StorageFixture : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::Mariadb) {
      if (MariaDbEnvironment::skipRequested()) GTEST_SKIP() << "MEETING_SKIP_MARIADB=1";
      std::string error;
      server_ = MariaDbEnvironment::server(error);
      ASSERT_NE(server_, nullptr) << "MariaDB test server unavailable: " << error;
      if (!server_->running()) {
        ASSERT_TRUE(server_->start().ok()) << "restarting MariaDB failed";
      }
      auto reset = server_->resetDatabase();
      ASSERT_TRUE(reset.ok()) << reset.error().message;
      config_.url = server_->url();
    } else {
      std::string tmpl = (std::filesystem::temp_directory_path() / "meeting-sqlite-XXXXXX").string();
      ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
      config_.url = "sqlite:" + dir_ + "/meeting.db";
    }
    auto opened = open();
    ASSERT_TRUE(opened.ok()) << opened.error().code << ": " << opened.error().message;
    storage_ = std::move(opened).value();
  }

  void TearDown() override {
    storage_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  /// Opens another Storage on the same database (migrations run again).
  Result<std::unique_ptr<Storage>> open() { return openStorage(config_, clock_); }

  Storage& db() { return *storage_; }

  ManualClock clock_;
  StorageConfig config_;
  std::unique_ptr<Storage> storage_;
  testsupport::MariaDbServer* server_ = nullptr;
  std::string dir_;
};

inline Room roomNamed(std::string id) {
  Room r;
  r.id = std::move(id);
  return r;
}

inline User newUser(std::string email, std::string name, std::string hash) {
  User u;
  u.email = std::move(email);
  u.displayName = std::move(name);
  u.passwordHash = std::move(hash);
  return u;
}

inline UserSession peerJoin(int64_t roomSessionId, std::string peer, std::optional<int64_t> userId,
                            std::string name) {
  UserSession s;
  s.roomSessionId = roomSessionId;
  s.peerId = std::move(peer);
  s.userId = userId;
  s.displayName = std::move(name);
  return s;
}

#define INSTANTIATE_FOR_BOTH_BACKENDS(Suite)                                                     \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                                      \
                           ::testing::Values(::meeting::api::db::test::Backend::Sqlite,          \
                                             ::meeting::api::db::test::Backend::Mariadb),        \
                           ::meeting::api::db::test::backendName)

/// Unwraps a Result in a test, failing with its error.
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                                          \
  auto lhs##_result = (expr);                                                                    \
  ASSERT_TRUE(lhs##_result.ok()) << lhs##_result.error().code << ": " << lhs##_result.error().message; \
  auto lhs = std::move(lhs##_result).value()

#define EXPECT_ERROR_CODE(expr, codeText)                                                        \
  do {                                                                                           \
    auto r_ = (expr);                                                                            \
    ASSERT_FALSE(r_.ok()) << "expected error " << (codeText);                                    \
    EXPECT_EQ(r_.error().code, std::string(codeText)) << r_.error().message;                     \
  } while (0)

}  // namespace meeting::api::db::test
