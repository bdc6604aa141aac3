#pragma once
// The seam between the shared query code (SqlStorage) and a database driver. Statements use `?`
// placeholders bound as typed parameters (never spliced into the SQL text); both SQLite and
// MariaDB accept that syntax. A connection is used by one thread at a time (the pool hands it out).
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/Result.hpp"

namespace meeting::api::db {

enum class Dialect { Sqlite, Mysql };

/// A parameter or column value: NULL, an integer or text.
using SqlValue = std::variant<std::monostate, int64_t, std::string>;

/// One result row with typed accessors that tolerate the other representation (MariaDB may hand
/// back integers as text and vice versa).
struct SqlRow {
  std::vector<SqlValue> cols;
  bool isNull(size_t i) const;
  int64_t integer(size_t i) const;
  std::string text(size_t i) const;
};

struct SqlResult {
  std::vector<SqlRow> rows;
  int64_t affected = 0;      ///< rows matched by UPDATE/DELETE, rows written by INSERT
  int64_t lastInsertId = 0;  ///< AUTOINCREMENT id of an INSERT
};

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  /// Runs one prepared (and cached) statement with bound parameters.
  virtual Result<SqlResult> query(std::string_view sql, std::span<const SqlValue> params) = 0;
  /// Runs one trusted, parameterless statement (DDL, BEGIN, COMMIT).
  virtual Result<void> execute(std::string_view sql) = 0;
  /// True once the driver reported the server connection lost; the pool then discards it.
  virtual bool broken() const = 0;
  /// True when the last failure was a deadlock the server resolved by rolling the transaction
  /// back: running the whole operation again is safe and usually succeeds.
  virtual bool lastFailureRetryable() const { return false; }
  /// Forgets the previous operation's failure (called before each operation).
  virtual void clearFailure() {}

  Result<SqlResult> query(std::string_view sql, std::initializer_list<SqlValue> params) {
    return query(sql, std::span<const SqlValue>(params.begin(), params.size()));
  }
};

/// Helper to bind an optional integer as NULL or a value.
template <typename Opt>
SqlValue nullable(const Opt& v) {
  return v ? SqlValue{static_cast<int64_t>(*v)} : SqlValue{};
}

}  // namespace meeting::api::db
