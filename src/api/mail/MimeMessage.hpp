#pragma once
// The bytes of one invitation e-mail (RFC 5322 message, RFC 2045-2049 MIME):
//   multipart/mixed
//     multipart/alternative: text/plain, text/html[, text/calendar; method=REQUEST|CANCEL]
//     application/ics attachment "invite.ics" (scheduled meetings only)
// Without a calendar part the top level is the multipart/alternative itself. Bodies are base64
// (any UTF-8, no line-length limits, no dot-stuffing surprises). Header injection is impossible:
// addresses must pass isMailAddress() and the subject is stripped of controls and RFC 2047-encoded
// when not plain ASCII.
#include <cstdint>
#include <string>
#include <string_view>

#include "api/mail/ICalendar.hpp"
#include "common/Result.hpp"

namespace meeting::api::mail {

struct MimeMessage {
  std::string from;       ///< bare address (validated)
  std::string to;         ///< bare address (validated)
  std::string subject;    ///< any UTF-8; controls become spaces
  std::string text;       ///< plain-text body
  std::string html;       ///< HTML body
  std::string ics;        ///< VCALENDAR text; "" = no calendar part
  CalendarMethod method = CalendarMethod::Request;
  std::string messageId;  ///< without angle brackets, e.g. "meeting-1-7.abc@host" (validated)
  int64_t dateMs = 0;     ///< Date header (Unix ms)
};

/// The complete message with CRLF line ends. `boundaryToken` (letters/digits) makes the MIME
/// boundaries unique; `invalid_field` when an address or the message id is unsafe.
Result<std::string> renderMime(const MimeMessage& message, std::string_view boundaryToken);

/// A conservative address check for SMTP envelopes and headers: local@domain, ASCII only,
/// local part of RFC 5322 atext with single inner dots (<= 64 octets), domain of LDH labels
/// (at least two), <= 254 octets in all. Quoted local parts, IP literals and SMTPUTF8 are refused.
bool isMailAddress(std::string_view address);

/// `Name: value` for an unstructured header (RFC 5322 §3.2.5): controls become spaces; non-ASCII
/// text becomes RFC 2047 encoded-words (UTF-8, base64), folded over several lines. No CRLF at end.
std::string unstructuredHeader(std::string_view name, std::string_view value);

/// RFC 5322 §3.3 date-time in UTC, e.g. "Tue, 14 Nov 2023 22:13:20 +0000".
std::string rfc5322Date(int64_t unixMs);

/// Base64 (RFC 2045 §6.8) in lines of at most 76 characters, each ending in CRLF.
std::string base64Lines(std::string_view data);

/// The domain of an address, ASCII lower-cased ("" when there is no '@').
std::string addressDomain(std::string_view address);

}  // namespace meeting::api::mail
