#include "api/db/SqliteStorage.hpp"

#include <sqlite3.h>

#include <unordered_map>

namespace meeting::api::db {
namespace {

Error sqliteError(sqlite3* db, int rc) {
  const int ext = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return makeError(errc::Conflict, "duplicate key: " + msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return makeError(errc::NotFound, "referenced row does not exist: " + msg);
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_NOTNULL:
      return makeError(errc::InvalidField, msg);
    default:
      break;
  }
  switch (ext & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return makeError(errc::Unavailable, "sqlite: " + msg);
    default:
      return makeError(errc::Internal, "sqlite: " + msg);
  }
}

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Result<SqlResult> query(std::string_view sql, std::span<const SqlValue> params) override {
    auto prepared = prepare(sql);
    if (!prepared.ok()) return prepared.error();
    sqlite3_stmt* stmt = *prepared;
    // Reset and unbind whatever happens, so the cached statement is clean for the next caller.
    struct Cleanup {
      sqlite3_stmt* s;
      ~Cleanup() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } cleanup{stmt};
    for (size_t i = 0; i < params.size(); ++i) {
      if (auto rc = bind(stmt, static_cast<int>(i + 1), params[i]); rc != SQLITE_OK) {
        return sqliteError(db_, rc);
      }
    }
    SqlResult out;
    const int ncol = sqlite3_column_count(stmt);
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return sqliteError(db_, rc);
      SqlRow row;
      row.cols.reserve(static_cast<size_t>(ncol));
      for (int c = 0; c < ncol; ++c) row.cols.push_back(column(stmt, c));
      out.rows.push_back(std::move(row));
    }
    if (sqlite3_stmt_readonly(stmt) == 0) {
      out.affected = sqlite3_changes64(db_);
      out.lastInsertId = sqlite3_last_insert_rowid(db_);
    }
    return out;
  }

  Result<void> execute(std::string_view sql) override {
    const std::string text(sql);
    if (int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr); rc != SQLITE_OK) {
      return sqliteError(db_, rc);
    }
    return {};
  }

  bool broken() const override { return false; }  // a file does not go away between calls

 private:
  static constexpr size_t MaxCachedStatements = 128;

  Result<sqlite3_stmt*> prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    if (cache_.size() >= MaxCachedStatements) {
      for (auto& [s, stmt] : cache_) sqlite3_finalize(stmt);
      cache_.clear();
    }
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT,
                                &stmt, nullptr);
    if (rc != SQLITE_OK) return sqliteError(db_, rc);
    cache_.emplace(std::move(key), stmt);
    return stmt;
  }

  static int bind(sqlite3_stmt* stmt, int index, const SqlValue& v) {
    if (const auto* i = std::get_if<int64_t>(&v)) return sqlite3_bind_int64(stmt, index, *i);
    if (const auto* s = std::get_if<std::string>(&v)) {
      // SQLITE_STATIC: the parameters outlive the statement's execution (cleared in Cleanup).
      return sqlite3_bind_text64(stmt, index, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
    }
    return sqlite3_bind_null(stmt, index);
  }

  static SqlValue column(sqlite3_stmt* stmt, int c) {
    switch (sqlite3_column_type(stmt, c)) {
      case SQLITE_NULL:
        return SqlValue{};
      case SQLITE_INTEGER:
      case SQLITE_FLOAT:
        return SqlValue{static_cast<int64_t>(sqlite3_column_int64(stmt, c))};
      default: {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        const int n = sqlite3_column_bytes(stmt, c);
        return SqlValue{std::string(p != nullptr ? p : "", static_cast<size_t>(n))};
      }
    }
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

Result<std::unique_ptr<SqlConnection>> openConnection(const SqliteOptions& options) {
  sqlite3* db = nullptr;
  // NOMUTEX: a connection is used by one thread at a time (the pool guarantees it).
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error e = sqliteError(db, rc);
    sqlite3_close_v2(db);
    e.code = errc::Unavailable;
    e.message = "cannot open " + options.path + ": " + e.message;
    return e;
  }
  auto conn = std::make_unique<SqliteConnection>(db);
  sqlite3_busy_timeout(db, options.busyTimeoutMs);
  // WAL: readers proceed while one writer writes; synchronous=NORMAL is durable across process
  // crashes in WAL mode (only an OS crash can lose the last commits).
  for (const char* pragma : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL",
                             "PRAGMA foreign_keys = ON"}) {
    if (auto r = conn->execute(pragma); !r.ok()) return r.error();
  }
  return std::unique_ptr<SqlConnection>(std::move(conn));
}

}  // namespace

Result<std::unique_ptr<SqliteStorage>> SqliteStorage::open(const SqliteOptions& options, const Clock& clock) {
  if (options.path.empty()) return makeError(errc::InvalidField, "sqlite path: must not be empty");
  // Every connection to ":memory:" would be a separate, empty database: use exactly one.
  const bool memory = options.path == ":memory:";
  auto pool = std::make_unique<ConnectionPool>([options] { return openConnection(options); },
                                               memory ? 1 : static_cast<size_t>(options.poolSize));
  std::unique_ptr<SqliteStorage> storage(new SqliteStorage(std::move(pool), clock));
  if (auto v = storage->migrate(); !v.ok()) return v.error();
  return storage;
}

}  // namespace meeting::api::db
