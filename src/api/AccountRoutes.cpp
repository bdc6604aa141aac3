// Local accounts in the browser: password login (Argon2id, rate-limited), browser sessions,
// the signed-in user's own profile, and the administrator's user management with invitations.
#include "api/ApiJson.hpp"
#include "api/RestApi.hpp"
#include "api/auth/AccountJson.hpp"
#include "api/auth/SessionTokens.hpp"
#include "api/mail/Invitation.hpp"
#include "api/mail/MimeMessage.hpp"
#include "common/Log.hpp"

namespace meeting::api {

using nlohmann::json;

namespace {

net::HttpResponse invalidCredentials() {
  return errorResponse(http::status::unauthorized, "invalid_credentials", "wrong e-mail address or password");
}

net::HttpResponse forbidden(const std::string& message) {
  return errorResponse(http::status::forbidden, "forbidden", message);
}

bool isAdmin(const Caller& caller) { return caller.apiKey || caller.isAdminUser(); }

// A new password: 8 characters at least (code points), bounded bytes (the hash cost is fixed,
// but the request is not made to carry megabytes).
std::optional<net::HttpResponse> checkNewPassword(const std::string& password, const char* field) {
  long chars = auth::displayChars(password);
  if (password.size() > auth::MaxPasswordBytes) return fieldError(field, "at most 1024 bytes");
  if (chars < 0 && password.size() >= auth::MinPasswordChars) return std::nullopt;  // any bytes, long enough
  if (chars < static_cast<long>(auth::MinPasswordChars)) return fieldError(field, "at least 8 characters");
  return std::nullopt;
}

std::optional<net::HttpResponse> checkDisplayName(const std::string& name, const char* field) {
  long chars = auth::displayChars(name);
  if (chars < 0) return fieldError(field, "must be UTF-8 text without control characters");
  if (chars < 1 || chars > 64) return fieldError(field, "1 to 64 characters");
  return std::nullopt;
}

std::optional<int64_t> userId(const ApiRequest& r, net::HttpResponse& error) {
  auto id = parsePositiveId(r.params.at("user_id"));
  if (!id) error = fieldError("user_id", "must be a positive integer");
  return id;
}

}  // namespace

net::HttpResponse RestApi::startLogin(const db::User& user) {
  const std::string token = auth::newToken();
  db::Login login;
  login.tokenHash = auth::tokenHash(token);
  login.userId = user.id;
  const int64_t expiresAt = nowSeconds() + options_.loginTtl.count();
  login.expiresAt = expiresAt * 1000;
  if (auto stored = deps_.storage.createLogin(login); !stored) return storageError(stored.error());
  return jsonOk(http::status::ok, {{"token", token}, {"expires_at", expiresAt}, {"user", auth::userJson(user)}});
}

net::HttpResponse RestApi::login(const ApiRequest& r) {
  net::HttpResponse error;
  auto body = BodyReader::parse(r.body, {"email", "password"}, error);
  if (!body) return error;
  std::optional<std::string> email, password;
  if (!body->string("email", email, 254) || !body->string("password", password, auth::MaxPasswordBytes)) {
    return body->error();
  }
  if (!email || email->empty()) return fieldError("email", "required");
  if (!password) return fieldError("password", "required");
  const std::string key = auth::lowerEmail(*email);
  const int64_t nowMs = deps_.clock.wallMicros() / 1000;
  if (int64_t wait = loginLimiter_.retryAfter(key, r.remoteAddress, nowMs); wait > 0) {
    auto res = errorResponse(http::status::too_many_requests, "rate_limited", "too many failed logins, try again later");
    res.set(http::field::retry_after, std::to_string(wait));
    return res;
  }
  auto user = deps_.storage.findUserByEmail(key);
  if (!user && user.error().code != db::errc::NotFound) return storageError(user.error());
  // Same work and the same answer for an unknown address, an account without a password yet and a
  // wrong password: the answer tells nothing about which addresses have accounts.
  bool ok = false;
  if (user && !user->passwordHash.empty()) {
    ok = passwords_.verify(user->passwordHash, *password);
  } else {
    passwords_.verifyDummy(*password);
  }
  if (!ok) {
    loginLimiter_.recordFailure(key, r.remoteAddress, nowMs);
    return invalidCredentials();
  }
  loginLimiter_.recordSuccess(key);
  if (user->disabled) return errorResponse(http::status::forbidden, "account_disabled", "this account is disabled");
  if (passwords_.needsRehash(user->passwordHash)) {
    // Parameters changed since this verifier was made: upgrade it now that we know the password.
    if (auto rehashed = passwords_.hash(*password)) {
      db::User upgraded = *user;
      upgraded.passwordHash = *rehashed;
      if (auto saved = deps_.storage.updateUser(upgraded); !saved) MLOG_WARN("login: rehash not saved: {}", saved.error().message);
    }
  }
  return startLogin(*user);
}

net::HttpResponse RestApi::logout(const ApiRequest& r) {
  if (auto deleted = deps_.storage.deleteLogin(r.caller.loginHash); !deleted && deleted.error().code != db::errc::NotFound) {
    return storageError(deleted.error());
  }
  return net::HttpResponse{http::status::no_content, 11};
}

net::HttpResponse RestApi::getMe(const ApiRequest& r) { return jsonOk(http::status::ok, {{"user", auth::userJson(*r.caller.user)}}); }

net::HttpResponse RestApi::updateMe(const ApiRequest& r) {
  net::HttpResponse error;
  auto body = BodyReader::parse(r.body, {"display_name", "password", "current_password"}, error);
  if (!body) return error;
  std::optional<std::string> name, password, current;
  if (!body->string("display_name", name, 512) || !body->string("password", password, auth::MaxPasswordBytes) ||
      !body->string("current_password", current, auth::MaxPasswordBytes)) {
    return body->error();
  }
  if (name) {
    *name = auth::trimmed(*name);
    if (auto bad = checkDisplayName(*name, "display_name")) return *bad;
  }
  if (password) {
    if (auto bad = checkNewPassword(*password, "password")) return *bad;
  }
  // Changing the password needs the current one (a stolen session must not take the account over).
  if ((password || current) && (!current || !passwords_.verify(r.caller.user->passwordHash, *current))) {
    if (!current) return fieldError("current_password", "required to change the password");
    return errorResponse(http::status::forbidden, "wrong_password", "current_password: does not match",
                         "current_password");
  }
  db::User user = *r.caller.user;
  if (name) user.displayName = *name;
  if (password) {
    auto hashed = passwords_.hash(*password);
    if (!hashed) return storageError(hashed.error());
    user.passwordHash = *hashed;
  }
  auto saved = deps_.storage.updateUser(user);
  if (!saved) return storageError(saved.error());
  if (password) {
    // Other browsers signed in with the old password are signed out; this one stays.
    auto thisLogin = deps_.storage.findLogin(r.caller.loginHash, deps_.clock.wallMicros() / 1000);
    if (auto revoked = deps_.storage.deleteUserLogins(user.id); !revoked) return storageError(revoked.error());
    if (thisLogin) (void)deps_.storage.createLogin(*thisLogin);
  }
  return jsonOk(http::status::ok, {{"user", auth::userJson(*saved)}});
}

net::HttpResponse RestApi::createUser(const ApiRequest& r) {
  if (!isAdmin(r.caller)) return forbidden("administrators only");
  net::HttpResponse error;
  auto body = BodyReader::parse(r.body, {"email", "display_name", "role"}, error);
  if (!body) return error;
  std::optional<std::string> email, name, role;
  if (!body->string("email", email, 254) || !body->string("display_name", name, 512) || !body->string("role", role, 16)) {
    return body->error();
  }
  if (!email) return fieldError("email", "required");
  if (!isValidEmail(*email) || !mail::isMailAddress(*email)) return fieldError("email", "not an e-mail address");
  if (!name) return fieldError("display_name", "required");
  *name = auth::trimmed(*name);
  if (auto bad = checkDisplayName(*name, "display_name")) return *bad;
  if (role && *role != "user" && *role != "admin") return fieldError("role", "must be \"user\" or \"admin\"");
  db::User user;
  user.email = auth::lowerEmail(*email);
  user.displayName = *name;
  user.role = role && *role == "admin" ? db::Role::Admin : db::Role::User;
  // No password until the invitation is accepted: such an account cannot sign in.
  auto created = deps_.storage.createUser(user);
  if (!created) {
    if (created.error().code == db::errc::Conflict) {
      return errorResponse(http::status::conflict, "conflict", "email: an account with this address exists", "email");
    }
    return storageError(created.error());
  }
  const std::string token = auth::newToken();
  db::Invite invite;
  invite.tokenHash = auth::tokenHash(token);
  invite.userId = created->id;
  invite.expiresAt = (nowSeconds() + options_.inviteTtl.count()) * 1000;
  if (auto stored = deps_.storage.createInvite(invite); !stored) {
    (void)deps_.storage.deleteUser(created->id);
    return storageError(stored.error());
  }
  const std::string inviteUrl = options_.publicUrl + "invite/" + token;
  mailAccountInvite(*created, inviteUrl);
  return jsonOk(http::status::created, {{"user", auth::userJson(*created)}, {"invite_url", inviteUrl}});
}

void RestApi::mailAccountInvite(const db::User& user, const std::string& inviteUrl) {
  mail::MailContent content;
  content.subject = "You are invited to Meeting";
  content.text = "Hello " + user.displayName + ",\r\n\r\nan account on Meeting was created for you (" + user.email +
                 ").\r\nChoose your password here (the link works for 7 days):\r\n\r\n" + inviteUrl + "\r\n";
  content.html = "<p>An account on Meeting was created for you.</p><p><a href=\"" + inviteUrl +
                 "\">Choose your password</a> (the link works for 7 days).</p>";
  db::MailDelivery d;
  d.meetingId = 0;  // not about a meeting: a queue of its own per recipient
  d.recipient = user.email;
  d.kind = "account_invite";
  d.payload = content.toPayload();
  d.status = accountMail_ ? db::mailstatus::Queued : db::mailstatus::NotConfigured;
  if (!accountMail_) d.lastError = "no mail server configured";
  if (auto queued = deps_.storage.enqueueMail(std::move(d)); !queued) {
    MLOG_WARN("mail: account invitation to {} not queued: {}", user.email, queued.error().message);
  }
}

net::HttpResponse RestApi::listUsers(const ApiRequest& r) {
  if (!isAdmin(r.caller)) return forbidden("administrators only");
  db::PageQuery page;
  net::HttpResponse error;
  if (!readPage(r, page, error)) return error;
  auto users = deps_.storage.listUsers(page);
  if (!users) return storageError(users.error());
  json items = json::array();
  for (const auto& u : users->items) {
    json item = auth::userJson(u);
    item["pending_invite"] = u.passwordHash.empty();
    items.push_back(std::move(item));
  }
  return jsonOk(http::status::ok, {{"users", items}, {"next", users->next.empty() ? json(nullptr) : json(users->next)}});
}

net::HttpResponse RestApi::updateUser(const ApiRequest& r) {
  if (!isAdmin(r.caller)) return forbidden("administrators only");
  net::HttpResponse error;
  auto id = userId(r, error);
  if (!id) return error;
  auto body = BodyReader::parse(r.body, {"disabled", "role"}, error);
  if (!body) return error;
  std::optional<bool> disabled;
  std::optional<std::string> role;
  if (!body->boolean("disabled", disabled) || !body->string("role", role, 16)) return body->error();
  if (role && *role != "user" && *role != "admin") return fieldError("role", "must be \"user\" or \"admin\"");
  if (r.caller.user && r.caller.user->id == *id && ((disabled && *disabled) || (role && *role != "admin"))) {
    // Keeps at least the acting administrator able to administer.
    return errorResponse(http::status::conflict, "own_account", "you cannot disable or demote yourself");
  }
  auto user = deps_.storage.getUser(*id);
  if (!user) return storageError(user.error());
  if (disabled) user->disabled = *disabled;
  if (role) user->role = *role == "admin" ? db::Role::Admin : db::Role::User;
  auto saved = deps_.storage.updateUser(*user);
  if (!saved) return storageError(saved.error());
  if (saved->disabled) {
    if (auto revoked = deps_.storage.deleteUserLogins(saved->id); !revoked) return storageError(revoked.error());
  }
  return jsonOk(http::status::ok, {{"user", auth::userJson(*saved)}});
}

net::HttpResponse RestApi::deleteUser(const ApiRequest& r) {
  if (!isAdmin(r.caller)) return forbidden("administrators only");
  net::HttpResponse error;
  auto id = userId(r, error);
  if (!id) return error;
  if (r.caller.user && r.caller.user->id == *id) {
    return errorResponse(http::status::conflict, "own_account", "you cannot delete yourself");
  }
  if (auto revoked = deps_.storage.deleteUserLogins(*id); !revoked) return storageError(revoked.error());
  if (auto deleted = deps_.storage.deleteUser(*id); !deleted) return storageError(deleted.error());
  return net::HttpResponse{http::status::no_content, 11};
}

namespace {

// The invite named by the path: a usable one, or a 404 (unknown, expired and used look alike).
Result<db::Invite> usableInvite(db::Storage& storage, const std::string& token, int64_t nowMs) {
  if (!auth::looksLikeToken(token)) return makeError(db::errc::NotFound, "invite not found");
  auto invite = storage.findInvite(auth::tokenHash(token));
  if (!invite) return invite.error();
  if (invite->usedAt != 0 || invite->expiresAt <= nowMs) return makeError(db::errc::NotFound, "invite not found");
  return invite;
}

}  // namespace

net::HttpResponse RestApi::getInvite(const ApiRequest& r) {
  auto invite = usableInvite(deps_.storage, r.params.at("invite"), deps_.clock.wallMicros() / 1000);
  if (!invite) return storageError(invite.error());
  auto user = deps_.storage.getUser(invite->userId);
  if (!user) return storageError(user.error());
  return jsonOk(http::status::ok, {{"email", user->email}, {"display_name", user->displayName}});
}

net::HttpResponse RestApi::acceptInvite(const ApiRequest& r) {
  net::HttpResponse error;
  auto body = BodyReader::parse(r.body, {"password", "display_name"}, error);
  if (!body) return error;
  std::optional<std::string> password, name;
  if (!body->string("password", password, auth::MaxPasswordBytes) || !body->string("display_name", name, 512)) {
    return body->error();
  }
  if (!password) return fieldError("password", "required");
  if (auto bad = checkNewPassword(*password, "password")) return *bad;
  if (name) {
    *name = auth::trimmed(*name);
    if (auto bad = checkDisplayName(*name, "display_name")) return *bad;
  }
  const int64_t nowMs = deps_.clock.wallMicros() / 1000;
  auto invite = usableInvite(deps_.storage, r.params.at("invite"), nowMs);
  if (!invite) return storageError(invite.error());
  auto hashed = passwords_.hash(*password);  // slow: before the invite is spent
  if (!hashed) return storageError(hashed.error());
  if (auto consumed = deps_.storage.consumeInvite(invite->tokenHash, nowMs); !consumed) {
    if (consumed.error().code == db::errc::Conflict) return errorResponse(http::status::not_found, "not_found", "invite not found");
    return storageError(consumed.error());
  }
  auto user = deps_.storage.getUser(invite->userId);
  if (!user) return storageError(user.error());
  user->passwordHash = *hashed;
  if (name) user->displayName = *name;
  auto saved = deps_.storage.updateUser(*user);
  if (!saved) return storageError(saved.error());
  if (saved->disabled) return errorResponse(http::status::forbidden, "account_disabled", "this account is disabled");
  return startLogin(*saved);
}

}  // namespace meeting::api
