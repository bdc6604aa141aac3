#include "api/db/MysqlStorage.hpp"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <mutex>
#include <unordered_map>

namespace meeting::api::db {
namespace {

// Codes meaning "this connection is gone"; the pool then drops it and run() retries once.
bool isConnectionLost(unsigned code) {
  switch (code) {
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT (server closed an idle connection)
      return true;
    default:
      return false;
  }
}

Error mysqlError(unsigned code, const char* text) {
  std::string msg = std::string("mysql ") + std::to_string(code) + ": " + (text != nullptr ? text : "");
  switch (code) {
    case ER_DUP_ENTRY:
    case ER_DUP_KEY:
      return makeError(errc::Conflict, "duplicate key: " + msg);
    case ER_NO_REFERENCED_ROW:
    case ER_NO_REFERENCED_ROW_2:
      return makeError(errc::NotFound, "referenced row does not exist: " + msg);
    case ER_BAD_NULL_ERROR:
    case ER_DATA_TOO_LONG:
    case ER_CONSTRAINT_FAILED:
    case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
      return makeError(errc::InvalidField, msg);
    case ER_LOCK_DEADLOCK:
    case ER_LOCK_WAIT_TIMEOUT:
      return makeError(errc::Unavailable, msg);
    default:
      break;
  }
  if (isConnectionLost(code) || (code >= 2000 && code < 3000)) return makeError(errc::Unavailable, msg);
  return makeError(errc::Internal, msg);
}

bool isIntegerField(enum_field_types t) {
  return t == MYSQL_TYPE_TINY || t == MYSQL_TYPE_SHORT || t == MYSQL_TYPE_LONG ||
         t == MYSQL_TYPE_INT24 || t == MYSQL_TYPE_LONGLONG || t == MYSQL_TYPE_YEAR;
}

class MysqlConnection final : public SqlConnection {
 public:
  explicit MysqlConnection(MYSQL* mysql) : mysql_(mysql) {}
  ~MysqlConnection() override {
    for (auto& [sql, stmt] : cache_) mysql_stmt_close(stmt);
    mysql_close(mysql_);
  }
  MysqlConnection(const MysqlConnection&) = delete;
  MysqlConnection& operator=(const MysqlConnection&) = delete;

  Result<SqlResult> query(std::string_view sql, std::span<const SqlValue> params) override {
    auto prepared = prepare(sql);
    if (!prepared.ok()) return prepared.error();
    MYSQL_STMT* stmt = *prepared;
    if (mysql_stmt_param_count(stmt) != params.size()) {
      return makeError(errc::Internal, "parameter count mismatch for: " + std::string(sql));
    }
    if (auto r = bindAndExecute(stmt, params); !r.ok()) return r.error();
    SqlResult out;
    MYSQL_RES* meta = mysql_stmt_result_metadata(stmt);
    if (meta == nullptr) {
      out.affected = static_cast<int64_t>(mysql_stmt_affected_rows(stmt));
      out.lastInsertId = static_cast<int64_t>(mysql_stmt_insert_id(stmt));
      return out;
    }
    auto rows = fetchAll(stmt, meta);
    mysql_free_result(meta);
    mysql_stmt_free_result(stmt);
    if (!rows.ok()) return rows.error();
    out.rows = std::move(rows).value();
    return out;
  }

  Result<void> execute(std::string_view sql) override {
    if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return fail(mysql_errno(mysql_), mysql_error(mysql_));
    // Drain any result so the connection is ready for the next command.
    if (MYSQL_RES* res = mysql_store_result(mysql_)) mysql_free_result(res);
    return {};
  }

  bool broken() const override { return broken_; }
  bool lastFailureRetryable() const override { return retryable_; }
  void clearFailure() override { retryable_ = false; }

 private:
  static constexpr size_t MaxCachedStatements = 128;
  static constexpr unsigned long InitialTextBuffer = 256;

  Error fail(unsigned code, const char* text) {
    if (isConnectionLost(code)) broken_ = true;
    if (code == ER_LOCK_DEADLOCK) retryable_ = true;
    return mysqlError(code, text);
  }
  Error stmtFail(MYSQL_STMT* stmt) { return fail(mysql_stmt_errno(stmt), mysql_stmt_error(stmt)); }

  Result<MYSQL_STMT*> prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    if (cache_.size() >= MaxCachedStatements) {
      for (auto& [s, st] : cache_) mysql_stmt_close(st);
      cache_.clear();
    }
    MYSQL_STMT* stmt = mysql_stmt_init(mysql_);
    if (stmt == nullptr) return fail(mysql_errno(mysql_), "out of memory");
    if (mysql_stmt_prepare(stmt, key.data(), key.size()) != 0) {
      Error e = stmtFail(stmt);
      mysql_stmt_close(stmt);
      return e;
    }
    cache_.emplace(std::move(key), stmt);
    return stmt;
  }

  Result<void> bindAndExecute(MYSQL_STMT* stmt, std::span<const SqlValue> params) {
    std::vector<MYSQL_BIND> binds(params.size());
    std::vector<unsigned long> lengths(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      MYSQL_BIND& b = binds[i];
      b = MYSQL_BIND{};
      if (const auto* v = std::get_if<int64_t>(&params[i])) {
        b.buffer_type = MYSQL_TYPE_LONGLONG;
        b.buffer = const_cast<int64_t*>(v);  // the C API reads input buffers only
      } else if (const auto* s = std::get_if<std::string>(&params[i])) {
        lengths[i] = s->size();
        b.buffer_type = MYSQL_TYPE_STRING;
        b.buffer = const_cast<char*>(s->data());
        b.buffer_length = s->size();
        b.length = &lengths[i];
      } else {
        b.buffer_type = MYSQL_TYPE_NULL;
      }
    }
    if (!binds.empty() && mysql_stmt_bind_param(stmt, binds.data()) != 0) return stmtFail(stmt);
    if (mysql_stmt_execute(stmt) != 0) return stmtFail(stmt);
    return {};
  }

  struct Column {
    bool integer = false;
    int64_t number = 0;
    std::vector<char> text;
    unsigned long length = 0;
    my_bool isNull = 0;
    my_bool error = 0;
  };

  Result<std::vector<SqlRow>> fetchAll(MYSQL_STMT* stmt, MYSQL_RES* meta) {
    const unsigned n = mysql_num_fields(meta);
    const MYSQL_FIELD* fields = mysql_fetch_fields(meta);
    std::vector<Column> cols(n);
    std::vector<MYSQL_BIND> binds(n);
    for (unsigned i = 0; i < n; ++i) {
      Column& c = cols[i];
      MYSQL_BIND& b = binds[i];
      b = MYSQL_BIND{};
      c.integer = isIntegerField(fields[i].type);
      if (c.integer) {
        b.buffer_type = MYSQL_TYPE_LONGLONG;
        b.buffer = &c.number;
        b.is_unsigned = (fields[i].flags & UNSIGNED_FLAG) != 0;
      } else {
        c.text.resize(InitialTextBuffer);
        b.buffer_type = MYSQL_TYPE_STRING;
        b.buffer = c.text.data();
        b.buffer_length = c.text.size();
      }
      b.length = &c.length;
      b.is_null = &c.isNull;
      b.error = &c.error;
    }
    if (mysql_stmt_bind_result(stmt, binds.data()) != 0) return stmtFail(stmt);
    if (mysql_stmt_store_result(stmt) != 0) return stmtFail(stmt);
    std::vector<SqlRow> rows;
    for (;;) {
      const int rc = mysql_stmt_fetch(stmt);
      if (rc == MYSQL_NO_DATA) break;
      if (rc == 1) return stmtFail(stmt);
      SqlRow row;
      row.cols.reserve(n);
      for (unsigned i = 0; i < n; ++i) {
        auto value = columnValue(stmt, cols[i], i);
        if (!value.ok()) return value.error();
        row.cols.push_back(std::move(value).value());
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  Result<SqlValue> columnValue(MYSQL_STMT* stmt, Column& c, unsigned index) {
    if (c.isNull) return SqlValue{};
    if (c.integer) return SqlValue{c.number};
    if (c.length <= c.text.size()) return SqlValue{std::string(c.text.data(), c.length)};
    // Longer than the bound buffer (MYSQL_DATA_TRUNCATED): fetch this column again in full.
    std::string full(c.length, '\0');
    MYSQL_BIND b{};
    unsigned long len = 0;
    b.buffer_type = MYSQL_TYPE_STRING;
    b.buffer = full.data();
    b.buffer_length = full.size();
    b.length = &len;
    if (mysql_stmt_fetch_column(stmt, &b, index, 0) != 0) return stmtFail(stmt);
    full.resize(std::min<unsigned long>(len, full.size()));
    return SqlValue{std::move(full)};
  }

  MYSQL* mysql_;
  std::unordered_map<std::string, MYSQL_STMT*> cache_;
  bool broken_ = false;
  bool retryable_ = false;
};

Result<std::unique_ptr<SqlConnection>> connect(const MysqlOptions& o) {
  static std::once_flag libraryInit;
  // Not thread-safe itself, so done once before any thread calls mysql_init().
  std::call_once(libraryInit, [] { mysql_library_init(0, nullptr, nullptr); });
  MYSQL* m = mysql_init(nullptr);
  if (m == nullptr) return makeError(errc::Unavailable, "mysql_init failed");
  my_bool reconnect = 0;  // the library's auto-reconnect would silently drop prepared statements
  my_bool localInfile = 0;
  mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  mysql_options(m, MYSQL_OPT_RECONNECT, &reconnect);
  mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &localInfile);
  mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &o.connectTimeoutSec);
  mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &o.readTimeoutSec);
  mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &o.writeTimeoutSec);
  const char* socket = o.unixSocket.empty() ? nullptr : o.unixSocket.c_str();
  if (mysql_real_connect(m, o.host.c_str(), o.user.c_str(), o.password.c_str(), o.database.c_str(),
                         o.port, socket, CLIENT_FOUND_ROWS) == nullptr) {
    Error e = mysqlError(mysql_errno(m), mysql_error(m));
    mysql_close(m);
    if (e.code == errc::Internal) e.code = errc::Unavailable;  // e.g. access denied, unknown db
    e.message = "cannot connect to " + (socket != nullptr ? o.unixSocket : o.host + ":" + std::to_string(o.port)) +
                ": " + e.message;
    return e;
  }
  auto conn = std::make_unique<MysqlConnection>(m);
  // Strict mode: too-long or invalid values fail instead of being silently truncated. READ
  // COMMITTED: fewer gap locks, so concurrent writers deadlock less.
  for (const char* setup : {"SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,"
                            "NO_ENGINE_SUBSTITUTION'",
                            "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
                            "SET NAMES utf8mb4 COLLATE utf8mb4_bin"}) {
    if (auto r = conn->execute(setup); !r.ok()) return r.error();
  }
  return std::unique_ptr<SqlConnection>(std::move(conn));
}

}  // namespace

Result<std::unique_ptr<MysqlStorage>> MysqlStorage::open(const MysqlOptions& options, const Clock& clock) {
  if (options.database.empty()) return makeError(errc::InvalidField, "mysql database: must not be empty");
  auto pool = std::make_unique<ConnectionPool>([options] { return connect(options); },
                                               static_cast<size_t>(options.poolSize));
  std::unique_ptr<MysqlStorage> storage(new MysqlStorage(std::move(pool), clock));
  if (auto v = storage->migrate(); !v.ok()) return v.error();
  return storage;
}

}  // namespace meeting::api::db
