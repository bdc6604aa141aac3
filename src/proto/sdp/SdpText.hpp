#pragma once
// Small bounded text helpers shared by the SDP parser and writer (internal to proto/sdp).
// Nothing here throws or allocates except where a std::string is returned.
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace meeting::proto::sdp::text {

inline bool isSpace(char c) { return c == ' ' || c == '\t'; }
inline bool isDigit(char c) { return c >= '0' && c <= '9'; }
inline bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool isAlnum(char c) { return isAlpha(c) || isDigit(c); }
inline char toLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (toLower(a[i]) != toLower(b[i])) return false;
  }
  return true;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

/// Splits off the next whitespace-separated word; `rest` keeps what follows (leading space
/// removed). Returns an empty view when no word is left.
inline std::string_view nextWord(std::string_view& rest) {
  rest = trim(rest);
  size_t end = 0;
  while (end < rest.size() && !isSpace(rest[end])) ++end;
  std::string_view word = rest.substr(0, end);
  rest = trim(rest.substr(end));
  return word;
}

/// Splits `s` at the first `sep`: returns the part before, leaves the part after in `s`.
/// When `sep` is absent the whole of `s` is returned and `s` becomes empty.
inline std::string_view splitAt(std::string_view& s, char sep, bool* found = nullptr) {
  size_t pos = s.find(sep);
  if (found) *found = pos != std::string_view::npos;
  if (pos == std::string_view::npos) {
    std::string_view all = s;
    s = {};
    return all;
  }
  std::string_view head = s.substr(0, pos);
  s = s.substr(pos + 1);
  return head;
}

/// Decimal digits only (no sign, no spaces), within the range of T.
template <typename T>
std::optional<T> parseUnsigned(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  for (char c : s) {
    if (!isDigit(c)) return std::nullopt;
  }
  T value{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

/// RFC 8866 §9 `token`: printable ASCII except the separators listed there.
inline bool isTokenChar(char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '"': case '(': case ')': case ',': case '/': case ':': case ';': case '<':
    case '=': case '>': case '?': case '@': case '[': case '\\': case ']': case '{': case '}':
      return false;
    default:
      return true;
  }
}

inline bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isTokenChar(c)) return false;
  }
  return true;
}

/// A run of visible, non-space characters (what a space-separated field can hold).
inline bool isWord(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

/// RFC 8839 §5.1 `ice-char = ALPHA / DIGIT / "+" / "/"`.
inline bool isIceChars(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isAlnum(c) && c != '+' && c != '/') return false;
  }
  return true;
}

/// RFC 8851 §10 `rid-id = 1*(alpha-numeric / "-" / "_")`.
inline bool isRidId(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s) {
    if (!isAlnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace meeting::proto::sdp::text
