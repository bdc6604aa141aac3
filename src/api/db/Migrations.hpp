#pragma once
// The one schema, as numbered migrations shared by both dialects. Types that differ are written as
// tokens ({ID}, {KEY}, {TEXT}, {BIGTEXT}, {INT}, {OPTS}) and expanded per dialect; a migration may
// also carry whole per-dialect SQL when more than types differ.
#include <span>
#include <string>

#include "api/db/Records.hpp"
#include "api/db/SqlConnection.hpp"

namespace meeting::api::db {

struct Migration {
  int version;
  const char* name;
  const char* sql;                   ///< statements separated by ';', with type tokens
  const char* sqliteSql = nullptr;   ///< replaces `sql` for SQLite when set
  const char* mysqlSql = nullptr;    ///< replaces `sql` for MariaDB/MySQL when set
};

/// All migrations, ascending by version. Append only: never edit one that has shipped.
std::span<const Migration> migrations();

/// `sql` with the type tokens expanded for `dialect`.
std::string expandSql(const Migration& migration, Dialect dialect);

/// Creates `schema_migrations` if needed and applies every migration not yet recorded there, each
/// once. SQLite runs each migration in a write transaction; MariaDB commits DDL implicitly, so its
/// statements are idempotent (IF NOT EXISTS) and a named lock serializes concurrent apiservers.
/// Returns the schema version afterwards.
Result<int> applyMigrations(SqlConnection& conn, Dialect dialect, Millis now);

/// Highest applied version (0 when none).
Result<int> currentSchemaVersion(SqlConnection& conn);

}  // namespace meeting::api::db
