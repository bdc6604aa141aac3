#pragma once
// The iCalendar object (RFC 5545) attached to an invitation: one VEVENT in a VCALENDAR whose
// METHOD (RFC 5546 iTIP) says whether it invites/updates (REQUEST) or cancels (CANCEL). Pure text
// building: no I/O, never throws on odd input (controls are dropped, text is escaped and folded).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace meeting::api::mail {

enum class CalendarMethod { Request, Cancel };

struct CalendarEvent {
  CalendarMethod method = CalendarMethod::Request;
  std::string uid;          ///< stable per meeting, e.g. "meeting-42@meet.example.com"
  int64_t sequence = 0;     ///< RFC 5545 §3.8.7.4: +1 for every significant change
  int64_t stampMs = 0;      ///< DTSTAMP: when this object was made (Unix ms)
  int64_t beginMs = 0;      ///< DTSTART (Unix ms, written in UTC)
  int64_t endMs = 0;        ///< DTEND
  std::string summary;      ///< the meeting title
  std::string description;  ///< free text (the join link is added by the caller)
  std::string url;          ///< the join link
  std::string organizer;    ///< e-mail address of the owner
  std::vector<std::string> attendees;  ///< e-mail addresses (already validated)
};

/// The whole VCALENDAR text: CRLF line ends, lines folded at 75 octets.
std::string buildICalendar(const CalendarEvent& event);

/// RFC 5545 §3.3.11 TEXT escaping: `\` `;` `,` escaped, a newline becomes `\n`, other control
/// characters are dropped.
std::string icsEscapeText(std::string_view text);

/// RFC 5545 §3.1: one content line ending in CRLF, folded so no line exceeds 75 octets (not
/// counting CRLF); continuation lines start with one space. A UTF-8 sequence is never split.
std::string icsFoldLine(std::string_view line);

/// RFC 5545 §3.3.5 form 2 (UTC): YYYYMMDDTHHMMSSZ.
std::string icsUtcTime(int64_t unixMs);

}  // namespace meeting::api::mail
