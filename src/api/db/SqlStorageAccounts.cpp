// SqlStorage: browser sessions (user_logins) and password invitations (user_invites).
#include "api/db/SqlStorage.hpp"

namespace meeting::api::db {

using namespace sqlutil;

namespace {

constexpr const char* LoginColumns = "SELECT token_hash, user_id, created_at, expires_at FROM user_logins ";
constexpr const char* InviteColumns =
    "SELECT token_hash, user_id, created_at, expires_at, used_at FROM user_invites ";

}  // namespace

Result<Login> SqlStorage::createLogin(Login login) {
  if (auto v = checkSizes({{"token_hash", login.tokenHash, KeyMax}}); !v.ok()) return v.error();
  login.createdAt = now();
  return run([&](SqlConnection& c) -> Result<Login> {
    auto r = c.query("INSERT INTO user_logins (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                     {login.tokenHash, login.userId, login.createdAt, login.expiresAt});
    if (!r.ok()) return r.error();
    return login;
  });
}

Result<Login> SqlStorage::findLogin(const std::string& tokenHash, Millis at) {
  return run([&](SqlConnection& c) -> Result<Login> {
    auto r = c.query(std::string(LoginColumns) + "WHERE token_hash = ? AND expires_at > ?", {tokenHash, at});
    if (!r.ok()) return r.error();
    if (r->rows.empty()) return notFound("login");
    const SqlRow& row = r->rows[0];
    return Login{row.text(0), row.integer(1), row.integer(2), row.integer(3)};
  });
}

Result<void> SqlStorage::deleteLogin(const std::string& tokenHash) {
  return run([&](SqlConnection& c) -> Result<void> {
    auto r = c.query("DELETE FROM user_logins WHERE token_hash = ?", {tokenHash});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return notFound("login");
    return {};
  });
}

Result<int64_t> SqlStorage::deleteUserLogins(int64_t userId) {
  return run([&](SqlConnection& c) -> Result<int64_t> {
    auto r = c.query("DELETE FROM user_logins WHERE user_id = ?", {userId});
    if (!r.ok()) return r.error();
    return static_cast<int64_t>(r->affected);
  });
}

Result<Invite> SqlStorage::createInvite(Invite invite) {
  if (auto v = checkSizes({{"token_hash", invite.tokenHash, KeyMax}}); !v.ok()) return v.error();
  invite.createdAt = now();
  invite.usedAt = 0;
  return run([&](SqlConnection& c) -> Result<Invite> {
    auto r = c.query(
        "INSERT INTO user_invites (token_hash, user_id, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, 0)",
        {invite.tokenHash, invite.userId, invite.createdAt, invite.expiresAt});
    if (!r.ok()) return r.error();
    return invite;
  });
}

Result<Invite> SqlStorage::findInvite(const std::string& tokenHash) {
  return run([&](SqlConnection& c) -> Result<Invite> {
    auto r = c.query(std::string(InviteColumns) + "WHERE token_hash = ?", {tokenHash});
    if (!r.ok()) return r.error();
    if (r->rows.empty()) return notFound("invite");
    const SqlRow& row = r->rows[0];
    return Invite{row.text(0), row.integer(1), row.integer(2), row.integer(3), row.integer(4)};
  });
}

Result<void> SqlStorage::consumeInvite(const std::string& tokenHash, Millis at) {
  return run([&](SqlConnection& c) -> Result<void> {
    // The condition on used_at makes the update the arbiter: of two racing accepts one wins.
    auto r = c.query("UPDATE user_invites SET used_at = ? WHERE token_hash = ? AND used_at = 0", {at, tokenHash});
    if (!r.ok()) return r.error();
    if (r->affected == 1) return {};
    auto exists = c.query("SELECT used_at FROM user_invites WHERE token_hash = ?", {tokenHash});
    if (!exists.ok()) return exists.error();
    if (exists->rows.empty()) return notFound("invite");
    return makeError(errc::Conflict, "invite: already used");
  });
}

}  // namespace meeting::api::db
