#pragma once
// Time-limited TURN credentials in coturn's "TURN REST API" scheme, which the apiserver hands out
// and the turnserver checks (draft-uberti-behave-turn-rest-00, as coturn implements it):
//   username = "<expiry unix seconds>:<user>", password = base64(HMAC-SHA1(secret, username)).
// Both sides share only --secret; the turnserver keeps no user table. HMAC/MD5 come from OpenSSL.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meeting {

/// A credential as handed to a client (e.g. in RTCIceServer).
struct TurnCredential {
  std::string username;   ///< "expiry:user"
  std::string password;   ///< base64(HMAC-SHA1(secret, username))
  int64_t expiresAt = 0;  ///< Unix seconds
};

/// Makes a credential valid for `ttlSeconds` from `nowUnix` (wall clock, seconds). `user` may be
/// empty (the username is then the bare expiry, which coturn accepts too).
TurnCredential makeTurnCredential(std::string_view secret, std::string_view user, int64_t nowUnix,
                                  int64_t ttlSeconds);

/// base64(HMAC-SHA1(secret, username)): the password that belongs to a REST API username.
std::string turnRestPassword(std::string_view secret, std::string_view username);

/// The expiry encoded in a REST API username ("expiry" or "expiry:user"); nullopt when the
/// username does not start with a decimal timestamp followed by ':' or the end.
std::optional<int64_t> turnRestExpiry(std::string_view username);

/// The password for `username` if it is a well-formed REST API username that has not expired at
/// `nowUnix`; nullopt otherwise (expired credentials are refused).
std::optional<std::string> verifyTurnRestUsername(std::string_view secret, std::string_view username,
                                                  int64_t nowUnix);

/// Long-term credential key MD5(username ":" realm ":" password) (RFC 8489 §9.2.2).
std::array<uint8_t, 16> turnLongTermKey(std::string_view username, std::string_view realm,
                                        std::string_view password);

}  // namespace meeting
