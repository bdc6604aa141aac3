#pragma once
// Bearer secrets of browser sessions and invitations: 32 random bytes from OpenSSL's CSPRNG in
// base64url without padding (RFC 4648 §5), 43 characters. Only their SHA-256 is stored.
#include <string>
#include <string_view>

namespace meeting::api::auth {

/// A fresh 43-character base64url token.
std::string newToken();
/// What the database keeps: lower-case hex SHA-256 of the token.
std::string tokenHash(std::string_view token);
/// True for something newToken() could have made (43 chars of [A-Za-z0-9_-]): anything else is
/// refused before touching the database.
bool looksLikeToken(std::string_view token);

}  // namespace meeting::api::auth
