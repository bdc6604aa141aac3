#pragma once
// What invitation mail a meeting change causes, and what each mail says. Pure logic (no I/O):
// planCreated/planUpdated/planDeleted turn a meeting (before/after) into one PlannedMail per
// recipient; the MailDispatcher queues them and sends them later.
//
// Rules (docs/operations.md "E-mail invitations"):
// - created: every invitee gets an invitation; scheduled meetings carry a METHOD:REQUEST
//   iCalendar (SEQUENCE = the meeting's sequence, 0).
// - updated (title, times or invitees changed): removed invitees get METHOD:CANCEL, the others a
//   METHOD:REQUEST update (new invitees an invitation), all with the new SEQUENCE. An instant
//   meeting (no calendar) only invites the newly added.
// - deleted: a scheduled meeting that has not ended sends METHOD:CANCEL with SEQUENCE + 1.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "api/db/Records.hpp"
#include "api/mail/ICalendar.hpp"

namespace meeting::api::mail {

/// Kinds stored in mail_deliveries.kind.
namespace mailkind {
inline constexpr const char* Invitation = "invitation";
inline constexpr const char* Update = "update";
inline constexpr const char* Cancel = "cancel";
}  // namespace mailkind

/// The parts of one mail (stored as the row's payload; From/To/Date are added when sent).
struct MailContent {
  std::string subject;
  std::string text;
  std::string html;
  std::string ics;  ///< "" = no calendar part
  CalendarMethod method = CalendarMethod::Request;

  std::string toPayload() const;
  /// False when `payload` is not a payload object.
  static bool fromPayload(const std::string& payload, MailContent& out);
};

struct PlannedMail {
  std::string recipient;
  const char* kind = mailkind::Invitation;
  int64_t sequence = 0;
  MailContent content;
};

/// What every mail about a meeting needs besides the meeting itself.
struct InvitationContext {
  std::string joinUrl;
  std::string uidHost;  ///< right side of the iCalendar UID and Message-IDs, e.g. "meet.example.com"
  int64_t nowMs = 0;    ///< DTSTAMP
};

/// The iCalendar UID of a meeting: "meeting-<id>@<uidHost>" (stable across updates).
std::string meetingUid(int64_t meetingId, const std::string& uidHost);

std::vector<PlannedMail> planCreated(const db::Meeting& meeting, const InvitationContext& ctx);
std::vector<PlannedMail> planUpdated(const db::Meeting& before, const db::Meeting& after, const InvitationContext& ctx);
std::vector<PlannedMail> planDeleted(const db::Meeting& meeting, const InvitationContext& ctx);

/// Invitees without duplicates (compared ignoring ASCII case), first spelling kept, in order.
std::vector<std::string> uniqueInvitees(const std::vector<std::string>& invitees);

/// The host part of a URL ("https://meet.example.com:8443/x" -> "meet.example.com"), or
/// "meeting.invalid" when it is not a usable host name.
std::string hostOfUrl(const std::string& url);

}  // namespace meeting::api::mail
