#include "api/auth/AccountJson.hpp"

namespace meeting::api::auth {

std::string lowerEmail(std::string email) {
  for (char& c : email) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return email;
}

nlohmann::json userJson(const db::User& user) {
  return {{"id", user.id},
          {"email", user.email},
          {"display_name", user.displayName},
          {"role", user.role == db::Role::Admin ? "admin" : "user"},
          {"disabled", user.disabled},
          {"created_at", user.createdAt}};
}

std::string trimmed(const std::string& text) {
  const char* ws = " \t\r\n\f\v";
  size_t begin = text.find_first_not_of(ws);
  if (begin == std::string::npos) return {};
  size_t end = text.find_last_not_of(ws);
  return text.substr(begin, end - begin + 1);
}

long displayChars(const std::string& text) {
  long count = 0;
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > text.size()) return -1;
    uint32_t cp = len == 1 ? c : c & (0xFF >> (len + 1));
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc >> 6) != 0x2) return -1;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and out-of-range code points are not UTF-8 (RFC 3629 §3).
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return -1;
    }
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) return -1;
    i += len;
    ++count;
  }
  return count;
}

}  // namespace meeting::api::auth
