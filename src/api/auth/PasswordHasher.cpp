#include "api/auth/PasswordHasher.hpp"

#include <sodium.h>


#include "api/db/Secrets.hpp"

namespace meeting::api::auth {
namespace {

bool sodiumReady() {
  static const bool ok = sodium_init() >= 0;  // thread-safe; idempotent
  return ok;
}

}  // namespace

PasswordParams PasswordParams::fastForTests() {
  return PasswordParams{crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

PasswordHasher::PasswordHasher(PasswordParams params) : params_(params) {
  auto made = hash(db::secrets::randomString(24, "abcdefghijklmnopqrstuvwxyz0123456789"));
  if (made) dummy_ = *made;
}

Result<std::string> PasswordHasher::hash(std::string_view password) const {
  if (!sodiumReady()) return makeError("internal", "libsodium failed to initialise");
  if (password.size() > MaxPasswordBytes) return makeError("invalid_field", "password: too long");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), params_.opsLimit, params_.memLimit) != 0) {
    return makeError("internal", "password hashing ran out of memory");
  }
  return std::string(out);
}

bool PasswordHasher::verify(std::string_view verifier, std::string_view password) const {
  if (!sodiumReady() || verifier.empty() || verifier.size() >= crypto_pwhash_STRBYTES) return false;
  if (password.size() > MaxPasswordBytes) return false;
  // crypto_pwhash_str_verify wants a NUL-terminated string.
  char buffer[crypto_pwhash_STRBYTES] = {};
  verifier.copy(buffer, verifier.size());
  return crypto_pwhash_str_verify(buffer, password.data(), password.size()) == 0;
}

bool PasswordHasher::needsRehash(std::string_view verifier) const {
  if (!sodiumReady() || verifier.empty() || verifier.size() >= crypto_pwhash_STRBYTES) return true;
  char buffer[crypto_pwhash_STRBYTES] = {};
  verifier.copy(buffer, verifier.size());
  // 1 = other parameters, -1 = not an Argon2id string: both mean "hash again".
  return crypto_pwhash_str_needs_rehash(buffer, params_.opsLimit, params_.memLimit) != 0;
}

void PasswordHasher::verifyDummy(std::string_view password) const { (void)verify(dummy_, password); }

}  // namespace meeting::api::auth
