#pragma once
// A private MariaDB server for tests, from Debian's mariadb-server package: a fresh data folder
// made by mariadb-install-db (on tmpfs when available), mariadbd started as a child process
// (fork/exec; it gets SIGKILL if the test process dies) on a free loopback
// port, a database and a user created, and the server stopped by pid (SIGTERM, then SIGKILL) and
// its folder removed when the object goes. stop() + start() restarts it on the same port and data,
// which is how tests check reconnects.
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/Result.hpp"

namespace meeting::testsupport {

class MariaDbServer {
 public:
  /// Creates the data folder and starts the server (at most ~30 s); an error says what failed
  /// (e.g. mariadbd not installed), with the tail of the server log.
  static Result<std::unique_ptr<MariaDbServer>> create();
  /// Path of mariadbd ($MEETING_MARIADBD if set, else from PATH and /usr/sbin), or "" if missing.
  static std::string findServerBinary();

  ~MariaDbServer();
  MariaDbServer(const MariaDbServer&) = delete;
  MariaDbServer& operator=(const MariaDbServer&) = delete;

  /// Stops the server: SIGTERM, SIGKILL after 20 s. Idempotent.
  void stop();
  /// Starts it again on the same port and data folder and waits until it accepts connections.
  Result<void> start();
  bool running() const { return pid_ > 0; }
  /// Drops and re-creates the test database (the user's grants survive), for test isolation.
  Result<void> resetDatabase();

  unsigned port() const { return port_; }
  const std::string& socketPath() const { return socket_; }
  const std::string& database() const { return database_; }
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }
  /// `mysql://user:password@127.0.0.1:port/database`
  std::string url() const;

 private:
  MariaDbServer() = default;
  Result<void> install();
  Result<void> waitReady();
  Result<void> createDatabase();
  Result<void> runAsRoot(const std::vector<std::string>& statements);
  std::string logTail() const;

  std::string dir_;
  std::string dataDir_;
  std::string socket_;
  std::string log_;
  std::string serverBin_;
  unsigned port_ = 0;
  pid_t pid_ = -1;
  std::string database_ = "meeting_test";
  std::string user_ = "meeting";
  std::string password_ = "meeting-test-pw";
};

}  // namespace meeting::testsupport
