#pragma once
// First start: an empty users table gets an administrator with a random password, printed once.
#include <ostream>
#include <string>

#include "api/auth/PasswordHasher.hpp"
#include "api/db/Storage.hpp"

namespace meeting::api::auth {

/// `admin@<host of publicUrl>` ("admin@localhost" without a host).
std::string defaultAdminEmail(const std::string& publicUrl);

/// When no user exists, creates administrator `email` with a random 16-character password, stores
/// only its Argon2id hash, and writes the sign-in URL, e-mail and password once to `out` and the log.
/// Returns true when it created one. Does nothing when any user exists.
Result<bool> ensureAdministrator(db::Storage& storage, const PasswordHasher& hasher, const std::string& email,
                                 const std::string& publicUrl, std::ostream& out);

}  // namespace meeting::api::auth
