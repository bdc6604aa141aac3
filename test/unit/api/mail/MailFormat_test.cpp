// The mail builders on their own: iCalendar folding/escaping/fields, MIME structure, RFC 2047
// subjects, header-injection refusal, address checks and server choice by domain.
#include <gtest/gtest.h>

#include "MimeTestParser.hpp"
#include "api/mail/ICalendar.hpp"
#include "api/mail/Invitation.hpp"
#include "api/mail/MimeMessage.hpp"
#include "api/mail/SmtpClient.hpp"

namespace meeting::api::test {
namespace {

using namespace mail;

std::vector<std::string> physicalLines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find("\r\n", pos);
    EXPECT_NE(end, std::string::npos) << "every line ends in CRLF";
    if (end == std::string::npos) break;
    out.push_back(text.substr(pos, end - pos));
    pos = end + 2;
  }
  return out;
}

TEST(ICalendarTest, EscapesTextSpecials) {
  EXPECT_EQ(icsEscapeText("a,b;c\\d"), "a\\,b\\;c\\\\d");
  EXPECT_EQ(icsEscapeText("line1\nline2\r\nline3\rx"), "line1\\nline2\\nline3\\nx");
  EXPECT_EQ(icsEscapeText(std::string("bell\x07tab\t", 9)), "belltab ");
}

TEST(ICalendarTest, FoldsAt75OctetsWithoutSplittingUtf8) {
  std::string line = "DESCRIPTION:" + std::string(200, 'x');
  auto folded = icsFoldLine(line);
  auto lines = physicalLines(folded);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0].size(), 75u);
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i][0], ' ');
    EXPECT_LE(lines[i].size(), 75u);
  }
  // Unfolding gives the original back.
  EXPECT_EQ(icsValue(icsLines(folded), "DESCRIPTION"), std::string(200, 'x'));

  // "é" is two octets: no line may end between them.
  std::string utf8 = "SUMMARY:";
  for (int i = 0; i < 80; ++i) utf8 += "\xC3\xA9";
  for (const auto& l : physicalLines(icsFoldLine(utf8))) {
    EXPECT_LE(l.size(), 75u);
    EXPECT_NE(static_cast<unsigned char>(l.back()), 0xC3) << "a UTF-8 sequence was split";
  }
  EXPECT_EQ(icsFoldLine("SHORT:x"), "SHORT:x\r\n");
}

TEST(ICalendarTest, RequestHasTheRequiredFields) {
  CalendarEvent e;
  e.uid = "meeting-7@meet.example.com";
  e.sequence = 2;
  e.stampMs = 1'700'000'000'000;
  e.beginMs = 1'700'003'600'000;
  e.endMs = 1'700'007'200'000;
  e.summary = "Plan, review; and \\ more\nsecond line";
  e.url = "https://meet.example.com/join/ABC";
  e.organizer = "owner@example.com";
  e.attendees = {"a@example.com", "b@example.org"};
  const std::string ics = buildICalendar(e);
  for (const auto& l : physicalLines(ics)) EXPECT_LE(l.size(), 75u);
  auto lines = icsLines(ics);
  EXPECT_EQ(lines.front().first, "BEGIN");
  EXPECT_EQ(icsValue(lines, "VERSION"), "2.0");
  EXPECT_FALSE(icsValue(lines, "PRODID").empty());
  EXPECT_EQ(icsValue(lines, "METHOD"), "REQUEST");
  EXPECT_EQ(icsValue(lines, "UID"), "meeting-7@meet.example.com");
  EXPECT_EQ(icsValue(lines, "SEQUENCE"), "2");
  EXPECT_EQ(icsValue(lines, "DTSTAMP"), "20231114T221320Z");
  EXPECT_EQ(icsValue(lines, "DTSTART"), "20231114T231320Z");
  EXPECT_EQ(icsValue(lines, "DTEND"), "20231115T001320Z");
  EXPECT_EQ(icsValue(lines, "SUMMARY"), "Plan\\, review\\; and \\\\ more\\nsecond line");
  EXPECT_EQ(icsValue(lines, "URL"), "https://meet.example.com/join/ABC");
  EXPECT_NE(icsValue(lines, "DESCRIPTION").find("https://meet.example.com/join/ABC"), std::string::npos);
  EXPECT_EQ(icsValue(lines, "ORGANIZER"), "mailto:owner@example.com");
  auto attendees = icsValues(lines, "ATTENDEE");
  ASSERT_EQ(attendees.size(), 2u);
  EXPECT_EQ(attendees[1], "mailto:b@example.org");
  bool rsvp = false;
  for (const auto& [k, v] : lines) {
    if (k.rfind("ATTENDEE", 0) == 0) rsvp = k.find("RSVP=TRUE") != std::string::npos && k.find("PARTSTAT=NEEDS-ACTION") != std::string::npos;
  }
  EXPECT_TRUE(rsvp);
  EXPECT_EQ(icsValue(lines, "STATUS"), "CONFIRMED");

  e.method = CalendarMethod::Cancel;
  auto cancel = icsLines(buildICalendar(e));
  EXPECT_EQ(icsValue(cancel, "METHOD"), "CANCEL");
  EXPECT_EQ(icsValue(cancel, "STATUS"), "CANCELLED");
}

MimeMessage sampleMessage() {
  MimeMessage m;
  m.from = "noreply@example.com";
  m.to = "guest@example.org";
  m.subject = "Invitation: Weekly";
  m.text = "Join: https://meet.example.com/join/ABC\r\n";
  m.html = "<p><a href=\"https://meet.example.com/join/ABC\">Join</a></p>";
  m.ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n";
  m.messageId = "meeting-1-1.abc@meet.example.com";
  m.dateMs = 1'700'000'000'000;
  return m;
}

TEST(MimeMessageTest, MixedWithAlternativeAndIcsAttachment) {
  auto text = renderMime(sampleMessage(), "t0k3n");
  ASSERT_TRUE(text) << text.error().message;
  for (const auto& l : physicalLines(*text)) EXPECT_LE(l.size(), 998u);
  auto msg = parseMime(*text);
  EXPECT_EQ(msg.header("from"), "<noreply@example.com>");
  EXPECT_EQ(msg.header("to"), "<guest@example.org>");
  EXPECT_EQ(msg.header("subject"), "Invitation: Weekly");
  EXPECT_EQ(msg.header("date"), "Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(msg.header("mime-version"), "1.0");
  EXPECT_EQ(msg.contentType(), "multipart/mixed");
  ASSERT_EQ(msg.parts.size(), 2u);
  EXPECT_EQ(msg.parts[0].contentType(), "multipart/alternative");
  ASSERT_EQ(msg.parts[0].parts.size(), 3u);
  EXPECT_EQ(msg.parts[0].parts[0].body, sampleMessage().text);
  EXPECT_EQ(msg.parts[0].parts[1].body, sampleMessage().html);
  const auto* calendar = msg.find("text/calendar");
  ASSERT_NE(calendar, nullptr);
  EXPECT_EQ(mimeParam(calendar->header("content-type"), "method"), "REQUEST");
  EXPECT_EQ(calendar->body, sampleMessage().ics);
  EXPECT_EQ(msg.parts[1].contentType(), "application/ics");
  EXPECT_NE(msg.parts[1].header("content-disposition").find("invite.ics"), std::string::npos);
  EXPECT_EQ(msg.parts[1].body, sampleMessage().ics);
}

TEST(MimeMessageTest, InstantMeetingIsJustAlternative) {
  auto m = sampleMessage();
  m.ics.clear();
  auto text = renderMime(m, "x");
  ASSERT_TRUE(text);
  auto msg = parseMime(*text);
  EXPECT_EQ(msg.contentType(), "multipart/alternative");
  EXPECT_EQ(msg.parts.size(), 2u);
  EXPECT_EQ(msg.find("text/calendar"), nullptr);
}

TEST(MimeMessageTest, NonAsciiSubjectIsRfc2047Encoded) {
  auto header = unstructuredHeader("Subject", "Réunion d'équipe " + std::string(60, 'x') + " – 日本語");
  for (const auto& l : physicalLines(header + "\r\n")) {
    EXPECT_LE(l.size(), 76u);  // RFC 2047 §2
    for (char c : l) EXPECT_LT(static_cast<unsigned char>(c), 0x80) << "header must be 7-bit";
  }
  EXPECT_EQ(header.rfind("Subject: =?UTF-8?B?", 0), 0u);
  // Decoding the words gives the subject back.
  std::string decoded;
  size_t at = 0;
  while ((at = header.find("=?UTF-8?B?", at)) != std::string::npos) {
    auto end = header.find("?=", at + 10);
    decoded += sinkBase64Decode(header.substr(at + 10, end - at - 10));
    at = end + 2;
  }
  EXPECT_EQ(decoded, "Réunion d'équipe " + std::string(60, 'x') + " – 日本語");
}

TEST(MimeMessageTest, HeaderInjectionIsImpossible) {
  auto m = sampleMessage();
  m.subject = "Hello\r\nBcc: victim@example.net\r\n\r\nbody";
  auto text = renderMime(m, "x");
  ASSERT_TRUE(text);
  auto msg = parseMime(*text);
  EXPECT_EQ(msg.headers.count("bcc"), 0u);
  EXPECT_EQ(msg.header("subject").find('\r'), std::string::npos);

  m = sampleMessage();
  m.to = "guest@example.org\r\nBcc: victim@example.net";
  EXPECT_FALSE(renderMime(m, "x"));
  m.to = "guest@example.org>, <victim@example.net";
  EXPECT_FALSE(renderMime(m, "x"));
  m = sampleMessage();
  m.from = "a@b.com\nX: y";
  EXPECT_FALSE(renderMime(m, "x"));
  m = sampleMessage();
  m.messageId = "x@y>\r\nBcc: z@w";
  EXPECT_FALSE(renderMime(m, "x"));
}

TEST(MimeMessageTest, AddressCheck) {
  for (const char* ok : {"a@example.com", "first.last+tag@sub.example.co", "o'neil@example.org", "x_y-z@a-b.example"}) {
    EXPECT_TRUE(isMailAddress(ok)) << ok;
  }
  for (const char* bad : {"", "a", "a@", "@b.com", "a@b", "a@@b.com", "a b@c.com", "a@b.com\r\n", ".a@b.com",
                          "a..b@c.com", "a@-b.com", "a@b..com", "\"q\"@b.com", "a@[127.0.0.1]", "a<b@c.com",
                          "ü@example.com", "a@exämple.com", "a,b@c.com", "a;b@c.com", "a:b@c.com"}) {
    EXPECT_FALSE(isMailAddress(bad)) << bad;
  }
}

TEST(MailServerChoiceTest, ByRecipientDomainElseFirst) {
  std::vector<SmtpServer> servers(3);
  servers[0].host = "external";
  servers[0].from = "noreply@example.com";
  servers[1].host = "internal";
  servers[1].from = "noreply@corp.example.com";
  servers[2].host = "partner";
  servers[2].from = "noreply@example.com";
  servers[2].domains = {"partner.org"};
  EXPECT_EQ(chooseServer(servers, "a@corp.example.com")->host, "internal");
  EXPECT_EQ(chooseServer(servers, "a@dept.CORP.example.com")->host, "internal");  // subdomain, any case
  EXPECT_EQ(chooseServer(servers, "a@example.com")->host, "external");            // tie: the earlier
  EXPECT_EQ(chooseServer(servers, "a@partner.org")->host, "partner");
  EXPECT_EQ(chooseServer(servers, "a@gmail.com")->host, "external");              // no match: first
  EXPECT_EQ(chooseServer(servers, "a@notcorp.example.com")->host, "external");    // not a subdomain
  EXPECT_EQ(chooseServer({}, "a@b.com"), nullptr);
}

TEST(InvitationPlanTest, CreateUpdateDelete) {
  db::Meeting m;
  m.id = 9;
  m.title = "Review";
  m.ownerEmail = "owner@example.com";
  m.beginAt = 2'000'000'000'000;
  m.endAt = 2'000'003'600'000;
  m.invitees = {"a@example.com", "B@example.com", "b@example.com"};
  InvitationContext ctx{"https://meet.example.com/join/X", "meet.example.com", 1'700'000'000'000};
  auto created = planCreated(m, ctx);
  ASSERT_EQ(created.size(), 2u);  // duplicates (ignoring case) once
  EXPECT_STREQ(created[0].kind, mailkind::Invitation);
  auto lines = icsLines(created[0].content.ics);
  EXPECT_EQ(icsValue(lines, "UID"), "meeting-9@meet.example.com");
  EXPECT_EQ(icsValues(lines, "ATTENDEE").size(), 2u);
  EXPECT_NE(created[0].content.text.find(ctx.joinUrl), std::string::npos);
  EXPECT_NE(created[0].content.html.find(ctx.joinUrl), std::string::npos);

  db::Meeting after = m;
  after.sequence = 1;
  after.invitees = {"a@example.com", "c@example.com"};
  auto updated = planUpdated(m, after, ctx);
  ASSERT_EQ(updated.size(), 3u);
  EXPECT_EQ(updated[0].recipient, "B@example.com");
  EXPECT_STREQ(updated[0].kind, mailkind::Cancel);
  EXPECT_EQ(icsValue(icsLines(updated[0].content.ics), "METHOD"), "CANCEL");
  EXPECT_EQ(icsValues(icsLines(updated[0].content.ics), "ATTENDEE"), std::vector<std::string>{"mailto:B@example.com"});
  EXPECT_STREQ(updated[1].kind, mailkind::Update);
  EXPECT_EQ(updated[1].recipient, "a@example.com");
  EXPECT_STREQ(updated[2].kind, mailkind::Invitation);
  for (const auto& u : updated) EXPECT_EQ(icsValue(icsLines(u.content.ics), "SEQUENCE"), "1");
  EXPECT_TRUE(planUpdated(after, after, ctx).empty()) << "nothing changed, nothing sent";

  auto deleted = planDeleted(after, ctx);
  ASSERT_EQ(deleted.size(), 2u);
  EXPECT_EQ(icsValue(icsLines(deleted[0].content.ics), "SEQUENCE"), "2");
  EXPECT_EQ(icsValue(icsLines(deleted[0].content.ics), "METHOD"), "CANCEL");
  ctx.nowMs = after.endAt + 1;
  EXPECT_TRUE(planDeleted(after, ctx).empty()) << "a past meeting is not cancelled";

  db::Meeting instant = m;
  instant.beginAt = instant.endAt = 0;
  auto invites = planCreated(instant, ctx);
  ASSERT_EQ(invites.size(), 2u);
  EXPECT_TRUE(invites[0].content.ics.empty());
  EXPECT_TRUE(planDeleted(instant, ctx).empty());

  MailContent back;
  ASSERT_TRUE(MailContent::fromPayload(created[0].content.toPayload(), back));
  EXPECT_EQ(back.ics, created[0].content.ics);
  EXPECT_FALSE(MailContent::fromPayload("[1]", back));
}

TEST(InvitationPlanTest, HostOfUrl) {
  EXPECT_EQ(hostOfUrl("https://Meet.Example.com:8443/"), "meet.example.com");
  EXPECT_EQ(hostOfUrl("https://127.0.0.1:8443/"), "127.0.0.1");
  EXPECT_EQ(hostOfUrl("https://[::1]:8443/"), "meeting.invalid");
  EXPECT_EQ(hostOfUrl(""), "meeting.invalid");
}

}  // namespace
}  // namespace meeting::api::test
