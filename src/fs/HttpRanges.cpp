#include "fs/HttpRanges.hpp"

#include <charconv>

namespace meeting::fs {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// RFC 8187 §3.2.1 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
bool isAttrChar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  for (char a : std::string_view("!#$&+-.^_`|~")) {
    if (c == static_cast<unsigned char>(a)) return true;
  }
  return false;
}

// Drops bytes that are not well-formed UTF-8 (so filename* never carries garbage).
std::string validUtf8(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
    if (ok) out.append(s.substr(i, n));
    i += ok ? n : 1;
  }
  return out;
}

}  // namespace

RangeRequest parseRange(std::string_view header, uint64_t size) {
  RangeRequest out;
  header = trim(header);
  constexpr std::string_view Unit = "bytes=";
  if (header.size() <= Unit.size() || header.substr(0, Unit.size()) != Unit) return out;  // other units: ignore
  header.remove_prefix(Unit.size());
  std::vector<ByteRange> ranges;
  size_t specs = 0;
  while (true) {
    auto comma = header.find(',');
    std::string_view spec = trim(header.substr(0, comma));
    if (!spec.empty()) {  // RFC 9110 §5.6.1: empty list elements are allowed and ignored
      if (++specs > MaxRanges) return RangeRequest{};
      auto dash = spec.find('-');
      if (dash == std::string_view::npos) return RangeRequest{};
      auto firstText = spec.substr(0, dash), lastText = spec.substr(dash + 1);
      if (firstText.empty()) {
        // suffix-range: the last N bytes (§14.1.1)
        auto suffix = number(lastText);
        if (!suffix) return RangeRequest{};
        if (*suffix > 0 && size > 0) ranges.push_back({size - std::min(*suffix, size), size - 1});
      } else {
        auto first = number(firstText);
        auto last = lastText.empty() ? std::optional<uint64_t>(UINT64_MAX) : number(lastText);
        if (!first || !last || *last < *first) return RangeRequest{};  // invalid: ignore the header
        if (*first < size) ranges.push_back({*first, std::min(*last, size - 1)});
      }
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  if (specs == 0) return RangeRequest{};
  if (ranges.empty()) {
    out.kind = RangeRequest::Kind::Unsatisfiable;
    return out;
  }
  out.kind = RangeRequest::Kind::Satisfiable;
  out.ranges = std::move(ranges);
  return out;
}

bool ifNoneMatchMatches(std::string_view header, std::string_view etag) {
  auto opaque = [](std::string_view t) {
    t = trim(t);
    if (t.substr(0, 2) == "W/") t.remove_prefix(2);
    return t;
  };
  if (trim(header) == "*") return true;
  std::string_view want = opaque(etag);
  while (!header.empty()) {
    auto comma = header.find(',');
    if (opaque(header.substr(0, comma)) == want) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

std::string contentDisposition(std::string_view fileName, bool inlineDisposition) {
  // Only the last path component: a name is never a path (RFC 6266 §4.3).
  auto slash = fileName.find_last_of("/\\");
  if (slash != std::string_view::npos) fileName.remove_prefix(slash + 1);
  std::string name = validUtf8(fileName.substr(0, 255));
  std::string clean;
  for (char ch : name) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) continue;  // control characters, incl. CR/LF (header injection)
    clean.push_back(ch);
  }
  while (!clean.empty() && (clean.front() == '.' || clean.front() == ' ')) clean.erase(0, 1);  // no dotfiles
  while (!clean.empty() && clean.back() == ' ') clean.pop_back();
  if (clean.empty()) clean = "file";
  std::string ascii, encoded;
  for (char ch : clean) {
    auto c = static_cast<unsigned char>(ch);
    // One '_' per non-ASCII character (on its lead byte), not per byte.
    if (c < 0x80 || c >= 0xC0) ascii.push_back(c >= 0x80 || c == '"' || c == '\\' || c == '%' || c == ';' ? '_' : ch);
    if (isAttrChar(c)) {
      encoded.push_back(ch);
    } else {
      static constexpr char Hex[] = "0123456789ABCDEF";
      encoded.push_back('%');
      encoded.push_back(Hex[c >> 4]);
      encoded.push_back(Hex[c & 15]);
    }
  }
  std::string out = inlineDisposition ? "inline" : "attachment";
  out += "; filename=\"" + ascii + "\"";
  if (encoded != ascii) out += "; filename*=UTF-8''" + encoded;
  return out;
}

}  // namespace meeting::fs
