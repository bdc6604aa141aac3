#pragma once
// MySQL/MariaDB back end over libmariadb's C API: a small pool of connections (utf8mb4, strict SQL
// mode, CLIENT_FOUND_ROWS so UPDATE reports matched rows like SQLite), server-side prepared
// statements cached per connection, and a transparent reconnect: a call that finds its connection
// dead (server restarted: CR_SERVER_GONE_ERROR / CR_SERVER_LOST) is retried once on a new one.
#include <memory>
#include <string>

#include "api/db/SqlStorage.hpp"

namespace meeting::api::db {

struct MysqlOptions {
  std::string host = "127.0.0.1";
  unsigned port = 3306;
  std::string unixSocket;  ///< used instead of host/port when set
  std::string user;
  std::string password;
  std::string database;
  int poolSize = 4;
  unsigned connectTimeoutSec = 5;
  unsigned readTimeoutSec = 30;
  unsigned writeTimeoutSec = 30;
};

class MysqlStorage final : public SqlStorage {
 public:
  /// Connects (one connection up front, to report a bad configuration at start) and applies
  /// pending migrations.
  static Result<std::unique_ptr<MysqlStorage>> open(const MysqlOptions& options, const Clock& clock);

 private:
  MysqlStorage(std::unique_ptr<ConnectionPool> pool, const Clock& clock)
      : SqlStorage(Dialect::Mysql, std::move(pool), clock) {}
};

}  // namespace meeting::api::db
