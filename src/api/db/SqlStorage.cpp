// SqlStorage core (pool, migrations, helpers) and the user / API key collections.
#include "api/db/SqlStorage.hpp"

#include <algorithm>
#include <charconv>

#include "api/db/Migrations.hpp"
#include "api/db/Secrets.hpp"

namespace meeting::api::db {

// ---- SqlRow -------------------------------------------------------------------------------------

bool SqlRow::isNull(size_t i) const {
  return i >= cols.size() || std::holds_alternative<std::monostate>(cols[i]);
}

int64_t SqlRow::integer(size_t i) const {
  if (i >= cols.size()) return 0;
  if (const auto* v = std::get_if<int64_t>(&cols[i])) return *v;
  if (const auto* s = std::get_if<std::string>(&cols[i])) {
    int64_t out = 0;
    std::from_chars(s->data(), s->data() + s->size(), out);
    return out;
  }
  return 0;
}

std::string SqlRow::text(size_t i) const {
  if (i >= cols.size()) return {};
  if (const auto* s = std::get_if<std::string>(&cols[i])) return *s;
  if (const auto* v = std::get_if<int64_t>(&cols[i])) return std::to_string(*v);
  return {};
}

// ---- helpers ------------------------------------------------------------------------------------

namespace sqlutil {

Result<void> checkSizes(std::initializer_list<FieldSize> fields) {
  for (const auto& f : fields) {
    if (f.value.size() > f.max) {
      return makeError(errc::InvalidField,
                       std::string(f.name) + ": longer than " + std::to_string(f.max) + " bytes");
    }
  }
  return {};
}

uint32_t clampLimit(uint32_t limit) { return std::clamp<uint32_t>(limit, 1, MaxPageLimit); }

Result<int64_t> intCursor(const std::string& after) {
  if (after.empty()) return int64_t{0};
  int64_t v = 0;
  auto [end, ec] = std::from_chars(after.data(), after.data() + after.size(), v);
  if (ec != std::errc{} || end != after.data() + after.size() || v < 0) {
    return makeError(errc::InvalidField, "after: not a valid page cursor");
  }
  return v;
}

Error notFound(const std::string& what) { return makeError(errc::NotFound, what + " not found"); }

std::string lowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

}  // namespace sqlutil

using namespace sqlutil;

namespace {

const char* roleName(Role r) { return r == Role::Admin ? "admin" : "user"; }

constexpr const char* UserColumns =
    "SELECT id, email, display_name, password_hash, role, created_at, disabled FROM users ";

User userFromRow(const SqlRow& r) {
  User u;
  u.id = r.integer(0);
  u.email = r.text(1);
  u.displayName = r.text(2);
  u.passwordHash = r.text(3);
  u.role = r.text(4) == "admin" ? Role::Admin : Role::User;
  u.createdAt = r.integer(5);
  u.disabled = r.integer(6) != 0;
  return u;
}

constexpr const char* ApiKeyColumns =
    "SELECT id, name, prefix, key_hash, created_at, revoked_at FROM api_keys ";

ApiKey apiKeyFromRow(const SqlRow& r) {
  ApiKey k;
  k.id = r.integer(0);
  k.name = r.text(1);
  k.prefix = r.text(2);
  k.keyHash = r.text(3);
  k.createdAt = r.integer(4);
  k.revokedAt = r.integer(5);
  return k;
}

Result<User> oneUser(Result<SqlResult> r, const std::string& what) {
  if (!r.ok()) return r.error();
  if (r->rows.empty()) return notFound(what);
  return userFromRow(r->rows[0]);
}

}  // namespace

// ---- core ---------------------------------------------------------------------------------------

SqlStorage::SqlStorage(Dialect dialect, std::unique_ptr<ConnectionPool> pool, const Clock& clock)
    : dialect_(dialect), pool_(std::move(pool)), clock_(clock) {}

Result<int> SqlStorage::migrate() {
  return run([&](SqlConnection& c) { return applyMigrations(c, dialect_, now()); });
}

Result<int> SqlStorage::schemaVersion() {
  return run([&](SqlConnection& c) { return currentSchemaVersion(c); });
}

// ---- users --------------------------------------------------------------------------------------

Result<User> SqlStorage::createUser(User user) {
  user.email = lowerAscii(std::move(user.email));
  if (user.email.empty()) return makeError(errc::InvalidField, "email: must not be empty");
  if (auto v = checkSizes({{"email", user.email, KeyMax},
                           {"display_name", user.displayName, TextMax},
                           {"password_hash", user.passwordHash, TextMax}});
      !v.ok()) {
    return v.error();
  }
  user.createdAt = now();
  return run([&](SqlConnection& c) -> Result<User> {
    auto r = c.query(
        "INSERT INTO users (email, display_name, password_hash, role, created_at, disabled) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        {user.email, user.displayName, user.passwordHash, std::string(roleName(user.role)),
         user.createdAt, int64_t{user.disabled ? 1 : 0}});
    if (!r.ok()) return r.error();
    User out = user;
    out.id = r->lastInsertId;
    return out;
  });
}

Result<User> SqlStorage::getUser(int64_t id) {
  return run([&](SqlConnection& c) {
    return oneUser(c.query(std::string(UserColumns) + "WHERE id = ?", {id}), "user");
  });
}

Result<User> SqlStorage::findUserByEmail(const std::string& email) {
  std::string key = lowerAscii(email);
  return run([&](SqlConnection& c) {
    return oneUser(c.query(std::string(UserColumns) + "WHERE email = ?", {key}), "user");
  });
}

Result<Page<User>> SqlStorage::listUsers(const PageQuery& page) {
  auto after = intCursor(page.after);
  if (!after.ok()) return after.error();
  const uint32_t limit = clampLimit(page.limit);
  return run([&](SqlConnection& c) -> Result<Page<User>> {
    auto r = c.query(std::string(UserColumns) + "WHERE id > ? ORDER BY id LIMIT ?",
                     {*after, int64_t{limit} + 1});
    if (!r.ok()) return r.error();
    std::vector<User> items;
    for (const auto& row : r->rows) items.push_back(userFromRow(row));
    return makePage(std::move(items), limit, [](const User& u) { return std::to_string(u.id); });
  });
}

Result<User> SqlStorage::updateUser(const User& user) {
  std::string email = lowerAscii(user.email);
  if (email.empty()) return makeError(errc::InvalidField, "email: must not be empty");
  if (auto v = checkSizes({{"email", email, KeyMax},
                           {"display_name", user.displayName, TextMax},
                           {"password_hash", user.passwordHash, TextMax}});
      !v.ok()) {
    return v.error();
  }
  return transact([&](SqlConnection& c) -> Result<User> {
    auto r = c.query(
        "UPDATE users SET email = ?, display_name = ?, password_hash = ?, role = ?, disabled = ? "
        "WHERE id = ?",
        {email, user.displayName, user.passwordHash, std::string(roleName(user.role)),
         int64_t{user.disabled ? 1 : 0}, user.id});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return notFound("user");
    return oneUser(c.query(std::string(UserColumns) + "WHERE id = ?", {user.id}), "user");
  });
}

Result<void> SqlStorage::deleteUser(int64_t id) {
  return run([&](SqlConnection& c) -> Result<void> {
    auto r = c.query("DELETE FROM users WHERE id = ?", {id});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return notFound("user");
    return {};
  });
}

// ---- API keys -----------------------------------------------------------------------------------

Result<NewApiKey> SqlStorage::createApiKey(const std::string& name) {
  static constexpr std::string_view Alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  if (auto v = checkSizes({{"name", name, TextMax}}); !v.ok()) return v.error();
  NewApiKey out;
  // 40 characters of a 62-letter alphabet: about 238 bits of entropy.
  out.secret = "mk_" + secrets::randomString(40, Alphabet);
  out.key.name = name;
  out.key.prefix = out.secret.substr(0, 10);
  out.key.keyHash = secrets::sha256Hex(out.secret);
  out.key.createdAt = now();
  return run([&](SqlConnection& c) -> Result<NewApiKey> {
    auto r = c.query(
        "INSERT INTO api_keys (name, key_hash, prefix, created_at, revoked_at) VALUES (?, ?, ?, ?, 0)",
        {out.key.name, out.key.keyHash, out.key.prefix, out.key.createdAt});
    if (!r.ok()) return r.error();
    NewApiKey created = out;
    created.key.id = r->lastInsertId;
    return created;
  });
}

Result<std::vector<ApiKey>> SqlStorage::listApiKeys() {
  return run([&](SqlConnection& c) -> Result<std::vector<ApiKey>> {
    auto r = c.query(std::string(ApiKeyColumns) + "ORDER BY id", std::span<const SqlValue>{});
    if (!r.ok()) return r.error();
    std::vector<ApiKey> keys;
    for (const auto& row : r->rows) keys.push_back(apiKeyFromRow(row));
    return keys;
  });
}

Result<void> SqlStorage::revokeApiKey(int64_t id) {
  const Millis at = now();
  return run([&](SqlConnection& c) -> Result<void> {
    // Keep the first revocation time when revoked twice.
    auto r = c.query(
        "UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END "
        "WHERE id = ?",
        {at, id});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return notFound("api key");
    return {};
  });
}

Result<ApiKey> SqlStorage::verifyApiKey(const std::string& secret) {
  // Lookup by the hash: the secret itself never reaches the database.
  const std::string hash = secrets::sha256Hex(secret);
  return run([&](SqlConnection& c) -> Result<ApiKey> {
    auto r = c.query(std::string(ApiKeyColumns) + "WHERE key_hash = ? AND revoked_at = 0", {hash});
    if (!r.ok()) return r.error();
    if (r->rows.empty()) return notFound("api key");
    return apiKeyFromRow(r->rows[0]);
  });
}

}  // namespace meeting::api::db
