#include "api/mail/ICalendar.hpp"

#include <ctime>

namespace meeting::api::mail {
namespace {

// RFC 5545 §3.1: "Lines of text SHOULD NOT be longer than 75 octets, excluding the line break."
constexpr size_t FoldOctets = 75;

bool isUtf8Continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

void addLine(std::string& out, std::string_view line) { out += icsFoldLine(line); }

// Mail addresses reach here validated (no ':' ';' ',' '"' or controls), so a mailto: URI needs no
// escaping; the filter is a second guard so a bad address can never break the object's structure.
std::string mailto(std::string_view address) {
  std::string out = "mailto:";
  for (char c : address) {
    const auto u = static_cast<unsigned char>(c);
    if (u > 0x20 && u != 0x7f && c != ';' && c != ',' && c != ':' && c != '"') out += c;
  }
  return out;
}

std::string withoutControls(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  }
  return out;
}

}  // namespace

std::string icsEscapeText(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '\\': out += "\\\\"; break;
      case ';': out += "\\;"; break;
      case ',': out += "\\,"; break;
      case '\r':
        // CRLF and a lone CR are one line break.
        if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        out += "\\n";
        break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
          out += c;
        } else if (c == '\t') {
          out += ' ';
        }
    }
  }
  return out;
}

std::string icsFoldLine(std::string_view line) {
  std::string out;
  out.reserve(line.size() + line.size() / 70 * 3 + 2);
  size_t pos = 0;
  size_t budget = FoldOctets;  // the first line has 75 octets, continuations 74 after their space
  while (line.size() - pos > budget) {
    size_t cut = pos + budget;
    // Back up to the start of a UTF-8 character (at most 3 steps in valid text).
    while (cut > pos + 1 && isUtf8Continuation(static_cast<unsigned char>(line[cut]))) --cut;
    out.append(line.substr(pos, cut - pos));
    out += "\r\n ";
    pos = cut;
    budget = FoldOctets - 1;
  }
  out.append(line.substr(pos));
  out += "\r\n";
  return out;
}

std::string icsUtcTime(int64_t unixMs) {
  std::time_t seconds = static_cast<std::time_t>(unixMs / 1000);
  if (unixMs < 0) seconds = 0;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string buildICalendar(const CalendarEvent& e) {
  const bool cancel = e.method == CalendarMethod::Cancel;
  std::string out;
  out.reserve(1024 + e.attendees.size() * 96);
  addLine(out, "BEGIN:VCALENDAR");
  // RFC 5545 §3.7.3 PRODID, §3.7.4 VERSION, §3.7.2 METHOD (RFC 5546 §1.4).
  addLine(out, "PRODID:-//Meeting//Meeting server//EN");
  addLine(out, "VERSION:2.0");
  addLine(out, "CALSCALE:GREGORIAN");
  addLine(out, cancel ? "METHOD:CANCEL" : "METHOD:REQUEST");
  addLine(out, "BEGIN:VEVENT");
  addLine(out, "UID:" + icsEscapeText(e.uid));
  addLine(out, "SEQUENCE:" + std::to_string(e.sequence < 0 ? 0 : e.sequence));
  addLine(out, "DTSTAMP:" + icsUtcTime(e.stampMs));
  addLine(out, "DTSTART:" + icsUtcTime(e.beginMs));
  addLine(out, "DTEND:" + icsUtcTime(e.endMs));
  addLine(out, "SUMMARY:" + icsEscapeText(e.summary));
  std::string description = e.description;
  if (!e.url.empty()) description += (description.empty() ? "" : "\n") + std::string("Join: ") + e.url;
  if (!description.empty()) addLine(out, "DESCRIPTION:" + icsEscapeText(description));
  // URL is a URI value (§3.8.4.6), not TEXT: not escaped, only controls dropped.
  if (!e.url.empty()) addLine(out, "URL:" + withoutControls(e.url));
  addLine(out, "ORGANIZER:" + mailto(e.organizer));
  for (const auto& a : e.attendees) {
    // RFC 5545 §3.8.4.1 with §3.2.3 CUTYPE, §3.2.16 ROLE, §3.2.12 PARTSTAT, §3.2.17 RSVP.
    addLine(out, std::string("ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=") +
                     (cancel ? "FALSE" : "TRUE") + ":" + mailto(a));
  }
  addLine(out, cancel ? "STATUS:CANCELLED" : "STATUS:CONFIRMED");
  addLine(out, "TRANSP:OPAQUE");
  addLine(out, "END:VEVENT");
  addLine(out, "END:VCALENDAR");
  return out;
}

}  // namespace meeting::api::mail
