#pragma once
// SQLite back end: one database file in the data folder, WAL mode (readers never block the
// writer), busy_timeout for writers waiting on each other, foreign keys on, and a small pool of
// connections, each with its own prepared-statement cache.
#include <memory>
#include <string>

#include "api/db/SqlStorage.hpp"

namespace meeting::api::db {

struct SqliteOptions {
  std::string path;  ///< database file, created when missing (its folder must exist); ":memory:"
                     ///< gives a private in-memory database on a single connection (tests)
  int poolSize = 4;           ///< connections (one per DB thread is enough)
  int busyTimeoutMs = 5000;   ///< how long a writer waits for another writer's lock
};

class SqliteStorage final : public SqlStorage {
 public:
  /// Opens (creating if needed) the database and applies pending migrations.
  static Result<std::unique_ptr<SqliteStorage>> open(const SqliteOptions& options, const Clock& clock);

 private:
  SqliteStorage(std::unique_ptr<ConnectionPool> pool, const Clock& clock)
      : SqlStorage(Dialect::Sqlite, std::move(pool), clock) {}
};

}  // namespace meeting::api::db
