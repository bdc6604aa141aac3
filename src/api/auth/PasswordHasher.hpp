#pragma once
// Password verifiers: Argon2id through libsodium's crypto_pwhash_str (the PHC string keeps salt
// and parameters, so a change of parameters is noticed and old hashes are upgraded on login).
// Every call is slow on purpose (tens to hundreds of ms): run it on a worker thread, never on a loop.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/Result.hpp"

namespace meeting::api::auth {

struct PasswordParams {
  uint64_t opsLimit = 3;                    ///< Argon2 passes (crypto_pwhash_OPSLIMIT_MODERATE is 3)
  size_t memLimit = size_t{64} << 20;       ///< bytes of memory per hash (MODERATE is 256 MiB)
  /// Minimal cost, for unit tests only (never in a server).
  static PasswordParams fastForTests();
};

/// Longest password accepted (Argon2 takes any length; this bounds the work per request).
inline constexpr size_t MaxPasswordBytes = 1024;
inline constexpr size_t MinPasswordChars = 8;

class PasswordHasher {
 public:
  explicit PasswordHasher(PasswordParams params = {});

  /// A new PHC-format Argon2id verifier ("$argon2id$v=19$m=...") for `password`.
  Result<std::string> hash(std::string_view password) const;
  /// True when `password` matches `verifier` (false for an empty or malformed verifier).
  bool verify(std::string_view verifier, std::string_view password) const;
  /// True when `verifier` was made with other parameters (or another algorithm) than ours.
  bool needsRehash(std::string_view verifier) const;
  /// Spends about the time of one verify() without a real verifier: unknown accounts answer as
  /// slowly as wrong passwords do.
  void verifyDummy(std::string_view password) const;

  const PasswordParams& params() const { return params_; }

 private:
  PasswordParams params_;
  std::string dummy_;  ///< a verifier of a random password, made once
};

}  // namespace meeting::api::auth
