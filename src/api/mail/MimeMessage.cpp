#include "api/mail/MimeMessage.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace meeting::api::mail {
namespace {

// RFC 2045 §6.8: encoded lines are at most 76 characters; 57 input octets make 76.
constexpr size_t Base64LineInput = 57;
// RFC 2047 §2: a line holding encoded-words is at most 76 characters. 39 octets make 52 base64
// characters, a 64-character word: "Subject: " + word = 73.
constexpr size_t EncodedWordInput = 39;
// Unstructured headers up to this length stay plain ASCII (RFC 5322 §2.1.1 limit is 998).
constexpr size_t PlainHeaderMax = 900;

bool isAtext(char c) {
  // RFC 5322 §3.2.3 atext.
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool isLdh(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'; }

bool validLocalPart(std::string_view local) {
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.') return false;
  for (size_t i = 0; i < local.size(); ++i) {
    if (local[i] == '.') {
      if (local[i + 1] == '.') return false;  // i + 1 < size: the last char is not '.'
    } else if (!isAtext(local[i])) {
      return false;
    }
  }
  return true;
}

bool validDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  size_t labels = 0;
  size_t start = 0;
  while (start <= domain.size()) {
    size_t end = domain.find('.', start);
    if (end == std::string_view::npos) end = domain.size();
    auto label = domain.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), isLdh)) return false;
    ++labels;
    start = end + 1;
  }
  return labels >= 2;
}

bool validMessageId(std::string_view id) {
  // msg-id = "<" id-left "@" id-right ">" (RFC 5322 §3.6.4); we only make dot-atoms.
  auto at = id.find('@');
  if (at == std::string_view::npos || id.size() > 200) return false;
  return validLocalPart(id.substr(0, at)) && validLocalPart(id.substr(at + 1));
}

std::string base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

std::string controlsToSpaces(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

bool plainAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; }) &&
         text.find("=?") == std::string_view::npos;
}

void part(std::string& out, std::string_view boundary, std::string_view contentType, std::string_view body,
          std::string_view extraHeaders = {}) {
  out += "--";
  out += boundary;
  out += "\r\nContent-Type: ";
  out += contentType;
  out += "\r\nContent-Transfer-Encoding: base64\r\n";
  out += extraHeaders;
  out += "\r\n";
  out += base64Lines(body);
}

}  // namespace

bool isMailAddress(std::string_view address) {
  if (address.size() < 3 || address.size() > 254) return false;
  auto at = address.find('@');
  if (at == std::string_view::npos || address.find('@', at + 1) != std::string_view::npos) return false;
  return validLocalPart(address.substr(0, at)) && validDomain(address.substr(at + 1));
}

std::string addressDomain(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string domain(address.substr(at + 1));
  for (auto& c : domain) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return domain;
}

std::string base64Lines(std::string_view data) {
  std::string out;
  out.reserve(data.size() * 4 / 3 + data.size() / Base64LineInput * 2 + 8);
  for (size_t pos = 0; pos < data.size(); pos += Base64LineInput) {
    out += base64(data.substr(pos, Base64LineInput));
    out += "\r\n";
  }
  return out;
}

std::string unstructuredHeader(std::string_view name, std::string_view value) {
  std::string out(name);
  out += ": ";
  const std::string clean = controlsToSpaces(value);
  if (plainAscii(clean) && clean.size() <= PlainHeaderMax) return out + clean;
  // RFC 2047 §5(1): encoded-words separated by folding white space, each whole UTF-8 characters.
  size_t pos = 0;
  bool first = true;
  while (pos < clean.size()) {
    size_t end = std::min(clean.size(), pos + EncodedWordInput);
    while (end > pos + 1 && end < clean.size() && (static_cast<unsigned char>(clean[end]) & 0xC0) == 0x80) --end;
    if (!first) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(std::string_view(clean).substr(pos, end - pos)) + "?=";
    first = false;
    pos = end;
  }
  return out;
}

std::string rfc5322Date(int64_t unixMs) {
  std::time_t seconds = static_cast<std::time_t>(unixMs < 0 ? 0 : unixMs / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  // Day and month names are fixed English tokens (RFC 5322 §3.3), not locale-dependent.
  static constexpr const char* Days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* Months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", Days[tm.tm_wday % 7], tm.tm_mday,
                Months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

Result<std::string> renderMime(const MimeMessage& m, std::string_view boundaryToken) {
  if (!isMailAddress(m.from)) return makeError("invalid_field", "from: not a safe mail address");
  if (!isMailAddress(m.to)) return makeError("invalid_field", "to: not a safe mail address");
  if (!validMessageId(m.messageId)) return makeError("invalid_field", "message_id: not a dot-atom id");
  std::string token;
  for (char c : boundaryToken) {
    if (isLdh(c)) token += c;
  }
  // "=_" never occurs in base64 text, so these boundaries cannot appear inside a part.
  const std::string outer = "=_mixed_" + token;
  const std::string inner = "=_alt_" + token;
  const bool calendar = !m.ics.empty();
  const char* method = m.method == CalendarMethod::Cancel ? "CANCEL" : "REQUEST";

  std::string out;
  out.reserve(m.text.size() * 2 + m.html.size() * 2 + m.ics.size() * 3 + 1024);
  out += "From: <" + m.from + ">\r\n";
  out += "To: <" + m.to + ">\r\n";
  out += unstructuredHeader("Subject", m.subject) + "\r\n";
  out += "Date: " + rfc5322Date(m.dateMs) + "\r\n";
  out += "Message-ID: <" + m.messageId + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Auto-Submitted: auto-generated\r\n";  // RFC 3834 §5: no vacation auto-replies
  if (calendar) {
    out += "Content-Type: multipart/mixed; boundary=\"" + outer + "\"\r\n\r\n";
    out += "--" + outer + "\r\n";
  }
  out += "Content-Type: multipart/alternative; boundary=\"" + inner + "\"\r\n\r\n";
  part(out, inner, "text/plain; charset=UTF-8", m.text);
  part(out, inner, "text/html; charset=UTF-8", m.html);
  if (calendar) {
    // RFC 6047 §2.4: the iTIP method is repeated as the Content-Type's method parameter.
    part(out, inner, std::string("text/calendar; charset=UTF-8; method=") + method, m.ics);
  }
  out += "--" + inner + "--\r\n";
  if (calendar) {
    part(out, outer, "application/ics; name=\"invite.ics\"", m.ics,
         "Content-Disposition: attachment; filename=\"invite.ics\"\r\n");
    out += "--" + outer + "--\r\n";
  }
  return out;
}

}  // namespace meeting::api::mail
