#pragma once
// Small helpers shared by the account, meeting and join routes.
#include <string>

#include <nlohmann/json.hpp>

#include "api/db/Records.hpp"

namespace meeting::api::auth {

/// E-mail addresses are compared ASCII case-insensitively (storage keeps them lower-cased).
std::string lowerEmail(std::string email);
/// `{id, email, display_name, role, disabled, created_at}` (never the password verifier).
nlohmann::json userJson(const db::User& user);
/// Trims ASCII whitespace at both ends.
std::string trimmed(const std::string& text);
/// Unicode code points in valid UTF-8 `text`; -1 when it is not valid UTF-8 or holds control
/// characters (names are shown to others and logged).
long displayChars(const std::string& text);

}  // namespace meeting::api::auth
