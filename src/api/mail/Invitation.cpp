#include "api/mail/Invitation.hpp"

#include <algorithm>
#include <ctime>
#include <set>

namespace meeting::api::mail {
namespace {

using nlohmann::json;

std::string lower(std::string s) {
  for (auto& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool scheduled(const db::Meeting& m) { return m.beginAt != 0 || m.endAt != 0; }

std::string humanUtc(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms < 0 ? 0 : ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string htmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string titleOf(const db::Meeting& m) { return m.title.empty() ? std::string("Meeting") : m.title; }

MailContent compose(const db::Meeting& m, const char* kind, int64_t sequence, const std::vector<std::string>& attendees,
                    const InvitationContext& ctx) {
  const bool cancel = std::string_view(kind) == mailkind::Cancel;
  const bool update = std::string_view(kind) == mailkind::Update;
  const std::string title = titleOf(m);
  MailContent c;
  c.method = cancel ? CalendarMethod::Cancel : CalendarMethod::Request;
  c.subject = std::string(cancel ? "Cancelled: " : update ? "Updated: " : "Invitation: ") + title;
  std::string when;
  if (scheduled(m)) when = humanUtc(m.beginAt) + " - " + humanUtc(m.endAt);

  const std::string lead = cancel ? "This meeting has been cancelled." :
                           update ? "This meeting has been updated." :
                                    m.ownerEmail + " invites you to a meeting.";
  c.text = lead + "\r\n\r\n" + title + "\r\n";
  if (!when.empty()) c.text += "When: " + when + "\r\n";
  c.text += "Organizer: " + m.ownerEmail + "\r\n";
  if (!cancel) c.text += "\r\nJoin: " + ctx.joinUrl + "\r\n";

  c.html = "<!DOCTYPE html><html><body><p>" + htmlEscape(lead) + "</p><h2>" + htmlEscape(title) + "</h2>";
  if (!when.empty()) c.html += "<p>When: " + htmlEscape(when) + "</p>";
  c.html += "<p>Organizer: " + htmlEscape(m.ownerEmail) + "</p>";
  if (!cancel) {
    c.html += "<p><a href=\"" + htmlEscape(ctx.joinUrl) + "\">Join the meeting</a><br>" + htmlEscape(ctx.joinUrl) + "</p>";
  }
  c.html += "</body></html>";

  if (scheduled(m)) {
    CalendarEvent e;
    e.method = c.method;
    e.uid = meetingUid(m.id, ctx.uidHost);
    e.sequence = sequence;
    e.stampMs = ctx.nowMs;
    e.beginMs = m.beginAt;
    e.endMs = m.endAt;
    e.summary = title;
    e.url = ctx.joinUrl;
    e.organizer = m.ownerEmail;
    e.attendees = attendees;
    c.ics = buildICalendar(e);
  }
  return c;
}

void addAll(std::vector<PlannedMail>& out, const db::Meeting& m, const std::vector<std::string>& recipients,
            const char* kind, int64_t sequence, const std::vector<std::string>& attendees, const InvitationContext& ctx) {
  for (const auto& r : recipients) {
    // Each mail is composed once per recipient: the content is the same, but rows are independent
    // (one may be sent while another waits), so each row carries its own copy.
    out.push_back(PlannedMail{r, kind, sequence, compose(m, kind, sequence, attendees, ctx)});
  }
}

}  // namespace

std::string MailContent::toPayload() const {
  json j = {{"subject", subject}, {"text", text}, {"html", html}, {"ics", ics},
            {"method", method == CalendarMethod::Cancel ? "CANCEL" : "REQUEST"}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool MailContent::fromPayload(const std::string& payload, MailContent& out) {
  auto j = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  auto str = [&](const char* key, std::string& v) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return false;
    v = it->get<std::string>();
    return true;
  };
  std::string method;
  if (!str("subject", out.subject) || !str("text", out.text) || !str("html", out.html) || !str("ics", out.ics) ||
      !str("method", method)) {
    return false;
  }
  out.method = method == "CANCEL" ? CalendarMethod::Cancel : CalendarMethod::Request;
  return true;
}

std::string meetingUid(int64_t meetingId, const std::string& uidHost) {
  return "meeting-" + std::to_string(meetingId) + "@" + uidHost;
}

std::vector<std::string> uniqueInvitees(const std::vector<std::string>& invitees) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& i : invitees) {
    if (seen.insert(lower(i)).second) out.push_back(i);
  }
  return out;
}

std::string hostOfUrl(const std::string& url) {
  auto start = url.find("://");
  std::string host = start == std::string::npos ? url : url.substr(start + 3);
  host = host.substr(0, host.find_first_of("/?#"));
  if (host.find('@') != std::string::npos) host = host.substr(host.find('@') + 1);
  if (!host.empty() && host.front() == '[') return "meeting.invalid";  // IPv6 literal: not a dot-atom
  host = lower(host.substr(0, host.find(':')));
  const bool usable = !host.empty() && host.size() <= 200 && host.front() != '.' && host.back() != '.' &&
                      host.find("..") == std::string::npos &&
                      std::all_of(host.begin(), host.end(), [](char c) {
                        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
                      });
  return usable ? host : "meeting.invalid";
}

std::vector<PlannedMail> planCreated(const db::Meeting& m, const InvitationContext& ctx) {
  std::vector<PlannedMail> out;
  const auto invitees = uniqueInvitees(m.invitees);
  addAll(out, m, invitees, mailkind::Invitation, m.sequence, invitees, ctx);
  return out;
}

std::vector<PlannedMail> planUpdated(const db::Meeting& before, const db::Meeting& after, const InvitationContext& ctx) {
  std::vector<PlannedMail> out;
  const auto oldList = uniqueInvitees(before.invitees);
  const auto newList = uniqueInvitees(after.invitees);
  std::set<std::string> oldSet, newSet;
  for (const auto& i : oldList) oldSet.insert(lower(i));
  for (const auto& i : newList) newSet.insert(lower(i));
  std::vector<std::string> removed, added, kept;
  for (const auto& i : oldList) {
    if (!newSet.count(lower(i))) removed.push_back(i);
  }
  for (const auto& i : newList) (oldSet.count(lower(i)) ? kept : added).push_back(i);

  if (!scheduled(after)) {
    addAll(out, after, added, mailkind::Invitation, after.sequence, newList, ctx);
    return out;
  }
  const bool changed = before.title != after.title || before.beginAt != after.beginAt ||
                       before.endAt != after.endAt || !removed.empty() || !added.empty();
  if (!changed) return out;
  // RFC 5546 §3.2.5: a CANCEL to some attendees lists just those attendees.
  for (const auto& r : removed) addAll(out, after, {r}, mailkind::Cancel, after.sequence, {r}, ctx);
  // RFC 5546 §3.2.2.1: the organizer sends the revised REQUEST to every remaining attendee.
  addAll(out, after, kept, mailkind::Update, after.sequence, newList, ctx);
  addAll(out, after, added, mailkind::Invitation, after.sequence, newList, ctx);
  return out;
}

std::vector<PlannedMail> planDeleted(const db::Meeting& m, const InvitationContext& ctx) {
  std::vector<PlannedMail> out;
  // An instant meeting has nothing in anyone's calendar, and a past one needs no cancellation.
  if (!scheduled(m) || m.endAt <= ctx.nowMs) return out;
  const auto invitees = uniqueInvitees(m.invitees);
  addAll(out, m, invitees, mailkind::Cancel, m.sequence + 1, invitees, ctx);
  return out;
}

}  // namespace meeting::api::mail
