#include "api/db/Migrations.hpp"

#include <array>
#include <string_view>
#include <utility>

#include "api/db/Storage.hpp"

namespace meeting::api::db {
namespace {

// Version 1: accounts, operator keys, rooms (seed 004 options) and meetings.
constexpr const char* V1 = R"SQL(
CREATE TABLE IF NOT EXISTS users (
  id {ID},
  email {KEY} NOT NULL,
  display_name {TEXT} NOT NULL,
  password_hash {TEXT} NOT NULL,
  role {KEY} NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
  created_at {INT} NOT NULL,
  disabled {INT} NOT NULL DEFAULT 0,
  CONSTRAINT users_email_key UNIQUE (email)
){OPTS};
CREATE TABLE IF NOT EXISTS api_keys (
  id {ID},
  name {TEXT} NOT NULL,
  key_hash {KEY} NOT NULL,
  prefix {KEY} NOT NULL,
  created_at {INT} NOT NULL,
  revoked_at {INT} NOT NULL DEFAULT 0,
  CONSTRAINT api_keys_hash_key UNIQUE (key_hash)
){OPTS};
CREATE TABLE IF NOT EXISTS rooms (
  id {KEY} NOT NULL PRIMARY KEY,
  domain {KEY} NOT NULL DEFAULT '',
  max_peers {INT} NULL,
  video_codec {KEY} NOT NULL DEFAULT '',
  webhook_url {TEXT} NOT NULL,
  peerless_purge_timeout {INT} NULL,
  peer_disconnected_timeout {INT} NULL,
  sfu_node {KEY} NOT NULL DEFAULT '',
  created_at {INT} NOT NULL
){OPTS};
CREATE TABLE IF NOT EXISTS meetings (
  id {ID},
  room_id {KEY} NOT NULL DEFAULT '',
  title {TEXT} NOT NULL,
  owner_email {KEY} NOT NULL,
  begin_at {INT} NOT NULL DEFAULT 0,
  end_at {INT} NOT NULL DEFAULT 0,
  invitees {TEXT} NOT NULL,
  join_code {KEY} NOT NULL,
  sfu {KEY} NOT NULL DEFAULT '',
  turn {KEY} NOT NULL DEFAULT '',
  created_at {INT} NOT NULL,
  updated_at {INT} NOT NULL,
  sequence {INT} NOT NULL DEFAULT 0,
  CONSTRAINT meetings_join_code_key UNIQUE (join_code)
){OPTS};
CREATE INDEX IF NOT EXISTS meetings_owner_idx ON meetings (owner_email, id)
)SQL";

// Version 2: what happens in rooms. History rows keep the room id as plain text (no foreign key
// to rooms) so deleting a room keeps its history; rows below a room session cascade with it.
constexpr const char* V2 = R"SQL(
CREATE TABLE IF NOT EXISTS room_sessions (
  id {ID},
  room_id {KEY} NOT NULL,
  started_at {INT} NOT NULL,
  ended_at {INT} NOT NULL DEFAULT 0,
  active_room {KEY} NULL,
  CONSTRAINT room_sessions_active_key UNIQUE (active_room)
){OPTS};
CREATE INDEX IF NOT EXISTS room_sessions_room_idx ON room_sessions (room_id, id);
CREATE TABLE IF NOT EXISTS user_sessions (
  id {ID},
  room_session_id {INT} NOT NULL,
  peer_id {KEY} NOT NULL,
  user_id {INT} NULL,
  display_name {TEXT} NOT NULL,
  joined_at {INT} NOT NULL,
  left_at {INT} NOT NULL DEFAULT 0,
  leave_reason {KEY} NOT NULL DEFAULT '',
  CONSTRAINT user_sessions_room_session_fk FOREIGN KEY (room_session_id)
    REFERENCES room_sessions (id) ON DELETE CASCADE,
  CONSTRAINT user_sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
){OPTS};
CREATE INDEX IF NOT EXISTS user_sessions_rs_idx ON user_sessions (room_session_id, id);
CREATE TABLE IF NOT EXISTS messages (
  id {ID},
  room_session_id {INT} NOT NULL,
  room_id {KEY} NOT NULL,
  peer_id {KEY} NOT NULL,
  display_name {TEXT} NOT NULL,
  text {TEXT} NOT NULL,
  sent_at {INT} NOT NULL,
  CONSTRAINT messages_room_session_fk FOREIGN KEY (room_session_id)
    REFERENCES room_sessions (id) ON DELETE CASCADE
){OPTS};
CREATE INDEX IF NOT EXISTS messages_rs_idx ON messages (room_session_id, id);
CREATE TABLE IF NOT EXISTS records (
  id {ID},
  room_session_id {INT} NOT NULL,
  path {TEXT} NOT NULL,
  started_at {INT} NOT NULL,
  ended_at {INT} NOT NULL DEFAULT 0,
  status {KEY} NOT NULL,
  CONSTRAINT records_room_session_fk FOREIGN KEY (room_session_id)
    REFERENCES room_sessions (id) ON DELETE CASCADE
){OPTS};
CREATE INDEX IF NOT EXISTS records_rs_idx ON records (room_session_id, id);
CREATE TABLE IF NOT EXISTS feedbacks (
  id {ID},
  room_session_id {INT} NOT NULL,
  peer_id {KEY} NOT NULL,
  rating {INT} NOT NULL CHECK (rating BETWEEN 1 AND 5),
  comment {TEXT} NOT NULL,
  created_at {INT} NOT NULL,
  CONSTRAINT feedbacks_room_session_fk FOREIGN KEY (room_session_id)
    REFERENCES room_sessions (id) ON DELETE CASCADE
){OPTS};
CREATE INDEX IF NOT EXISTS feedbacks_rs_idx ON feedbacks (room_session_id, id)
)SQL";

// Version 3: file metadata, the node registry and the webhook outbox (used by later issues).
constexpr const char* V3 = R"SQL(
CREATE TABLE IF NOT EXISTS files (
  id {KEY} NOT NULL PRIMARY KEY,
  room_id {KEY} NOT NULL,
  name {TEXT} NOT NULL,
  content_type {KEY} NOT NULL,
  size {INT} NOT NULL,
  sha256 {KEY} NOT NULL,
  uploader {KEY} NOT NULL,
  fs_node {KEY} NOT NULL,
  created_at {INT} NOT NULL,
  deleted_at {INT} NOT NULL DEFAULT 0
){OPTS};
CREATE INDEX IF NOT EXISTS files_room_idx ON files (room_id, id);
CREATE TABLE IF NOT EXISTS nodes (
  id {KEY} NOT NULL PRIMARY KEY,
  role {KEY} NOT NULL,
  address {TEXT} NOT NULL,
  capacity {INT} NOT NULL DEFAULT 0,
  last_seen {INT} NOT NULL
){OPTS};
CREATE TABLE IF NOT EXISTS webhook_outbox (
  id {ID},
  url {TEXT} NOT NULL,
  body {BIGTEXT} NOT NULL,
  attempts {INT} NOT NULL DEFAULT 0,
  next_attempt_at {INT} NOT NULL,
  created_at {INT} NOT NULL
){OPTS};
CREATE INDEX IF NOT EXISTS webhook_outbox_due_idx ON webhook_outbox (next_attempt_at)
)SQL";

// Version 4: the webhook delivery queues. A queue is all rows of one URL, addressed by the
// SHA-256 of the URL (queue_key) because a URL may be longer than an index key; delivery takes
// the lowest id of each queue. (V3's webhook_outbox has no per-URL order and stays unused.)
constexpr const char* V4 = R"SQL(
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id {ID},
  queue_key {KEY} NOT NULL,
  url {TEXT} NOT NULL,
  event_id {KEY} NOT NULL,
  body {BIGTEXT} NOT NULL,
  attempts {INT} NOT NULL DEFAULT 0,
  next_attempt_at {INT} NOT NULL,
  created_at {INT} NOT NULL,
  last_error {TEXT} NOT NULL
){OPTS};
CREATE INDEX IF NOT EXISTS webhook_deliveries_queue_idx ON webhook_deliveries (queue_key, id)
)SQL";

// Version 5: the invitation mail queues. A queue is all rows of one meeting and recipient
// (queue_key "meeting_id/recipient"); only queued rows are attempted, the lowest id first. Sent and
// failed rows stay: they are the per-invitee status shown on the meeting.
constexpr const char* V5 = R"SQL(
CREATE TABLE IF NOT EXISTS mail_deliveries (
  id {ID},
  queue_key {KEY} NOT NULL,
  meeting_id {INT} NOT NULL,
  recipient {KEY} NOT NULL,
  kind {KEY} NOT NULL,
  sequence {INT} NOT NULL DEFAULT 0,
  payload {BIGTEXT} NOT NULL,
  status {KEY} NOT NULL,
  attempts {INT} NOT NULL DEFAULT 0,
  next_attempt_at {INT} NOT NULL,
  created_at {INT} NOT NULL,
  sent_at {INT} NOT NULL DEFAULT 0,
  last_error {TEXT} NOT NULL
){OPTS};
CREATE INDEX IF NOT EXISTS mail_deliveries_status_idx ON mail_deliveries (status, queue_key, id);
CREATE INDEX IF NOT EXISTS mail_deliveries_meeting_idx ON mail_deliveries (meeting_id, id)
)SQL";

// Version 6: accounts in the browser. Sessions and invites keep only the SHA-256 of their bearer
// token; both go with their user. Meetings may hold guests in a waiting room.
constexpr const char* V6 = R"SQL(
CREATE TABLE IF NOT EXISTS user_logins (
  token_hash {KEY} NOT NULL PRIMARY KEY,
  user_id {INT} NOT NULL,
  created_at {INT} NOT NULL,
  expires_at {INT} NOT NULL,
  CONSTRAINT user_logins_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
){OPTS};
CREATE INDEX IF NOT EXISTS user_logins_user_idx ON user_logins (user_id);
CREATE TABLE IF NOT EXISTS user_invites (
  token_hash {KEY} NOT NULL PRIMARY KEY,
  user_id {INT} NOT NULL,
  created_at {INT} NOT NULL,
  expires_at {INT} NOT NULL,
  used_at {INT} NOT NULL DEFAULT 0,
  CONSTRAINT user_invites_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
){OPTS};
CREATE INDEX IF NOT EXISTS user_invites_user_idx ON user_invites (user_id);
ALTER TABLE meetings ADD COLUMN waiting_room {INT} NOT NULL DEFAULT 0
)SQL";

constexpr std::array<Migration, 6> All{{
    {1, "users, api keys, rooms, meetings", V1},
    {2, "sessions, messages, records, feedbacks", V2},
    {3, "files, nodes, webhook outbox", V3},
    {4, "webhook deliveries", V4},
    {5, "mail deliveries", V5},
    {6, "user logins, invites, waiting rooms", V6},
}};

// Index keys must be bounded in InnoDB, so key-like text is VARCHAR(255) there (utf8mb4: 1020
// bytes, within the 3072-byte limit). utf8mb4_bin makes comparisons byte-wise like SQLite's, so
// uniqueness and keyset ordering agree between the back ends.
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> SqliteTypes{{
    {"{ID}", "INTEGER PRIMARY KEY AUTOINCREMENT"},
    {"{KEY}", "TEXT"},
    {"{TEXT}", "TEXT"},
    {"{BIGTEXT}", "TEXT"},
    {"{INT}", "INTEGER"},
    {"{OPTS}", ""},
}};
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> MysqlTypes{{
    {"{ID}", "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY"},
    {"{KEY}", "VARCHAR(255)"},
    {"{TEXT}", "TEXT"},
    {"{BIGTEXT}", "MEDIUMTEXT"},
    {"{INT}", "BIGINT"},
    {"{OPTS}", " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"},
}};

std::vector<std::string> splitStatements(const std::string& sql) {
  // Our migration text never has ';' inside literals, so a plain split is exact.
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= sql.size()) {
    size_t end = sql.find(';', start);
    if (end == std::string::npos) end = sql.size();
    std::string stmt = sql.substr(start, end - start);
    if (stmt.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(std::move(stmt));
    start = end + 1;
  }
  return out;
}

Result<bool> isApplied(SqlConnection& conn, int version) {
  auto r = conn.query("SELECT version FROM schema_migrations WHERE version = ?",
                      {SqlValue{int64_t{version}}});
  if (!r.ok()) return r.error();
  return !r->rows.empty();
}

Result<void> applyOne(SqlConnection& conn, Dialect dialect, const Migration& m, Millis now) {
  const bool transactional = dialect == Dialect::Sqlite;
  if (transactional) {
    // BEGIN IMMEDIATE takes the write lock up front, so two processes cannot both apply `m`.
    if (auto b = conn.execute("BEGIN IMMEDIATE"); !b.ok()) return b.error();
  }
  auto fail = [&](Error e) -> Result<void> {
    if (transactional) (void)conn.execute("ROLLBACK");
    e.message = "migration " + std::to_string(m.version) + " (" + m.name + "): " + e.message;
    return e;
  };
  auto applied = isApplied(conn, m.version);
  if (!applied.ok()) return fail(applied.error());
  if (*applied) {
    if (transactional) (void)conn.execute("ROLLBACK");
    return {};
  }
  for (const auto& stmt : splitStatements(expandSql(m, dialect))) {
    if (auto r = conn.execute(stmt); !r.ok()) return fail(r.error());
  }
  auto rec = conn.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                        {SqlValue{int64_t{m.version}}, SqlValue{std::string(m.name)}, SqlValue{now}});
  if (!rec.ok()) return fail(rec.error());
  if (transactional) {
    if (auto c = conn.execute("COMMIT"); !c.ok()) return fail(c.error());
  }
  return {};
}

}  // namespace

std::span<const Migration> migrations() { return All; }

std::string expandSql(const Migration& migration, Dialect dialect) {
  const char* own = dialect == Dialect::Sqlite ? migration.sqliteSql : migration.mysqlSql;
  std::string sql = own != nullptr ? own : migration.sql;
  const auto& types = dialect == Dialect::Sqlite ? SqliteTypes : MysqlTypes;
  for (const auto& [token, type] : types) {
    for (size_t pos = sql.find(token); pos != std::string::npos; pos = sql.find(token, pos)) {
      sql.replace(pos, token.size(), type);
      pos += type.size();
    }
  }
  return sql;
}

Result<int> currentSchemaVersion(SqlConnection& conn) {
  auto r = conn.query("SELECT MAX(version) FROM schema_migrations", std::span<const SqlValue>{});
  if (!r.ok()) return r.error();
  if (r->rows.empty() || r->rows[0].isNull(0)) return 0;
  return static_cast<int>(r->rows[0].integer(0));
}

Result<int> applyMigrations(SqlConnection& conn, Dialect dialect, Millis now) {
  const char* create = dialect == Dialect::Sqlite
                           ? "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL "
                             "PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
                           : "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL "
                             "PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL) "
                             "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
  if (auto r = conn.execute(create); !r.ok()) return r.error();

  const bool locked = dialect == Dialect::Mysql;
  if (locked) {
    // DDL commits implicitly in MariaDB, so transactions cannot serialize two apiservers starting
    // together; a named server-side lock does.
    auto lock = conn.query("SELECT GET_LOCK('meeting_schema_migrations', 60)", std::span<const SqlValue>{});
    if (!lock.ok()) return lock.error();
    if (lock->rows.empty() || lock->rows[0].integer(0) != 1) {
      return makeError(errc::Unavailable, "timed out waiting for the schema migration lock");
    }
  }
  Result<void> status;
  for (const auto& m : migrations()) {
    status = applyOne(conn, dialect, m, now);
    if (!status.ok()) break;
  }
  if (locked) {
    (void)conn.query("SELECT RELEASE_LOCK('meeting_schema_migrations')", std::span<const SqlValue>{});
  }
  if (!status.ok()) return status.error();
  return currentSchemaVersion(conn);
}

}  // namespace meeting::api::db
