// Invitation mail end to end: the REST API queues mail in the database, the MailDispatcher sends
// it with libcurl to an SMTP sink in this process, and the test reads what arrived as a mail
// client would (MIME parts, .ics fields). Covers update/cancel SEQUENCE, a server that is down at
// first, STARTTLS with a verified test certificate, server choice by domain, header injection,
// permanent refusal and running without mail servers.
#include <filesystem>
#include <fstream>

#include "ApiFixture.hpp"
#include "SmtpSink.hpp"
#include "api/mail/MailDispatcher.hpp"
#include "mail/MimeTestParser.hpp"

namespace meeting::api::test {
namespace {

using mail::MailDispatcher;
using mail::MailOptions;
using mail::SmtpServer;

constexpr const char* User = "mailer";
constexpr const char* Password = "s3cret pass";

template <typename F>
bool waitFor(F&& done, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  return done();
}

SmtpServer serverFor(uint16_t port, const std::string& from) {
  SmtpServer s;
  s.host = "127.0.0.1";
  s.port = port;
  s.username = User;
  s.password = Password;
  s.from = from;
  s.timeout = 5s;
  return s;
}

/// A loopback port nothing listens on (bound, read, released).
uint16_t freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct Mail {
  SmtpReceived raw;
  MimePart mime;
  std::vector<std::pair<std::string, std::string>> ics;
};

Mail readMail(const SmtpReceived& r) {
  Mail m{r, parseMime(r.data), {}};
  if (const auto* cal = m.mime.find("text/calendar")) m.ics = icsLines(cal->body);
  return m;
}

const Mail* mailTo(const std::vector<Mail>& mails, const std::string& rcpt, const std::string& method = {}) {
  for (const auto& m : mails) {
    if (m.raw.rcptTo.size() == 1 && m.raw.rcptTo[0] == rcpt && (method.empty() || icsValue(m.ics, "METHOD") == method)) {
      return &m;
    }
  }
  return nullptr;
}

class MailTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    sfu_ = std::make_unique<FakeNode>(*hub_, sfuInfo());  // meetings need a media server
    ASSERT_TRUE(waitFor([&] {
      auto node = registry_->find("sfu-1");
      return node && node->alive;
    }));
  }
  void TearDown() override {
    rest_->setInvitations(nullptr);
    dispatcher_.reset();
    sfu_.reset();
    ApiFixture::TearDown();
  }
  void startDispatcher(std::vector<SmtpServer> servers, int64_t maxQueued = 10'000) {
    MailOptions o;
    o.maxQueued = maxQueued;
    o.servers = std::move(servers);
    o.uidHost = "meet.example.com";
    o.baseBackoff = 50ms;
    o.maxBackoff = 200ms;
    o.idlePoll = 50ms;
    o.maxAttempts = 100;
    dispatcher_ = std::make_unique<MailDispatcher>(*storage_, SystemClock::instance(), smtp_, o);
    rest_->setInvitations(dispatcher_.get());
    dispatcher_->start();
  }
  static int64_t inOneDay() { return SystemClock::instance().wallMicros() / 1'000'000 + 86'400; }
  json scheduled(std::vector<std::string> invitees, const std::string& title = "Design review") {
    const int64_t begin = inOneDay();
    return {{"title", title}, {"owner_email", "owner@example.com"}, {"begin_at", begin}, {"end_at", begin + 3600},
            {"invitees", invitees}};
  }
  int64_t createMeeting(const json& body) {
    auto r = post("/api/v1/meetings", body);
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body["meeting"].value("id", int64_t{0});
  }
  json invitations(int64_t id) { return get("/api/v1/meetings/" + std::to_string(id)).body["meeting"]["invitations"]; }
  static std::string statusOf(const json& invitations, const std::string& email) {
    for (const auto& i : invitations) {
      if (i["email"] == email) return i["status"].get<std::string>();
    }
    return "";
  }
  std::vector<Mail> waitMails(SmtpSink& sink, size_t n) {
    std::vector<Mail> out;
    for (const auto& r : sink.waitReceived(n)) out.push_back(readMail(r));
    return out;
  }

  mail::SmtpClient smtp_;
  std::unique_ptr<FakeNode> sfu_;
  std::unique_ptr<MailDispatcher> dispatcher_;
};

TEST_F(MailTest, ScheduledInvitationHasTextHtmlAndCalendar) {
  SmtpSink sink({false, User, Password, {}, 0});
  ASSERT_TRUE(sink.ok());
  startDispatcher({serverFor(sink.port(), "noreply@example.com")});
  const int64_t id = createMeeting(scheduled({"ann@example.com", "bob@example.org"}));
  auto mails = waitMails(sink, 2);
  ASSERT_EQ(mails.size(), 2u);
  auto meeting = get("/api/v1/meetings/" + std::to_string(id)).body["meeting"];
  const std::string joinUrl = meeting["join_url"];
  const Mail* ann = mailTo(mails, "ann@example.com");
  ASSERT_NE(ann, nullptr);
  EXPECT_EQ(ann->raw.mailFrom, "noreply@example.com");
  EXPECT_EQ(ann->raw.authUser, User);
  EXPECT_EQ(ann->mime.header("subject"), "Invitation: Design review");
  EXPECT_EQ(ann->mime.header("to"), "<ann@example.com>");
  const auto* text = ann->mime.find("text/plain");
  const auto* html = ann->mime.find("text/html");
  const auto* attachment = ann->mime.find("application/ics");
  ASSERT_TRUE(text && html && attachment);
  EXPECT_NE(text->body.find(joinUrl), std::string::npos);
  EXPECT_NE(html->body.find("href=\"" + joinUrl + "\""), std::string::npos);
  EXPECT_EQ(icsValue(ann->ics, "METHOD"), "REQUEST");
  EXPECT_EQ(icsValue(ann->ics, "UID"), "meeting-" + std::to_string(id) + "@meet.example.com");
  EXPECT_EQ(icsValue(ann->ics, "SEQUENCE"), "0");
  EXPECT_EQ(icsValue(ann->ics, "DTSTART"), mail::icsUtcTime(meeting["begin_at"].get<int64_t>() * 1000));
  EXPECT_EQ(icsValue(ann->ics, "DTEND"), mail::icsUtcTime(meeting["end_at"].get<int64_t>() * 1000));
  EXPECT_EQ(icsValue(ann->ics, "ORGANIZER"), "mailto:owner@example.com");
  EXPECT_EQ(icsValues(ann->ics, "ATTENDEE"), (std::vector<std::string>{"mailto:ann@example.com", "mailto:bob@example.org"}));
  EXPECT_EQ(icsLines(attachment->body), ann->ics);

  ASSERT_TRUE(waitFor([&] { return statusOf(invitations(id), "bob@example.org") == "sent"; }));
  auto inv = invitations(id);
  ASSERT_EQ(inv.size(), 2u);
  EXPECT_EQ(inv[0]["status"], "sent");
  EXPECT_EQ(inv[0]["attempts"], 1);
  EXPECT_TRUE(inv[0]["sent_at"].is_number());
  EXPECT_TRUE(inv[0]["last_error"].is_null());
  EXPECT_GE(dispatcher_->sent(), 2u);
}

TEST_F(MailTest, UpdateBumpsSequenceAndDeleteCancels) {
  SmtpSink sink({false, User, Password, {}, 0});
  startDispatcher({serverFor(sink.port(), "noreply@example.com")});
  const int64_t id = createMeeting(scheduled({"ann@example.com", "bob@example.org"}));
  ASSERT_EQ(sink.waitReceived(2).size(), 2u);

  // Bob is removed, Cat added, the time moves.
  const int64_t begin = inOneDay() + 7200;
  auto patched = call(http::verb::patch, "/api/v1/meetings/" + std::to_string(id),
                      json{{"begin_at", begin}, {"end_at", begin + 1800}, {"invitees", {"ann@example.com", "cat@example.net"}}}.dump());
  ASSERT_EQ(patched.status, 200) << patched.raw;
  auto mails = waitMails(sink, 5);
  ASSERT_EQ(mails.size(), 5u);
  const std::vector<Mail> afterUpdate(mails.begin() + 2, mails.end());
  const Mail* bobCancel = mailTo(mails, "bob@example.org", "CANCEL");
  const Mail* annUpdate = mailTo(afterUpdate, "ann@example.com", "REQUEST");
  const Mail* cat = mailTo(mails, "cat@example.net", "REQUEST");
  ASSERT_TRUE(bobCancel && annUpdate && cat);
  EXPECT_EQ(icsValue(bobCancel->ics, "SEQUENCE"), "1");
  EXPECT_EQ(icsValues(bobCancel->ics, "ATTENDEE"), std::vector<std::string>{"mailto:bob@example.org"});
  EXPECT_EQ(icsValue(annUpdate->ics, "SEQUENCE"), "1");
  EXPECT_EQ(icsValue(annUpdate->ics, "DTSTART"), mail::icsUtcTime(begin * 1000));
  EXPECT_EQ(annUpdate->mime.header("subject"), "Updated: Design review");
  EXPECT_EQ(icsValue(cat->ics, "UID"), icsValue(bobCancel->ics, "UID"));

  ASSERT_EQ(del("/api/v1/meetings/" + std::to_string(id)).status, 204);
  mails = waitMails(sink, 7);
  ASSERT_EQ(mails.size(), 7u);
  std::vector<Mail> last(mails.begin() + 5, mails.end());
  for (const char* who : {"ann@example.com", "cat@example.net"}) {
    const Mail* c = mailTo(last, who, "CANCEL");
    ASSERT_NE(c, nullptr) << who;
    EXPECT_EQ(icsValue(c->ics, "SEQUENCE"), "2");
    EXPECT_EQ(icsValue(c->ics, "STATUS"), "CANCELLED");
    EXPECT_EQ(mimeParam(c->mime.find("text/calendar")->header("content-type"), "method"), "CANCEL");
  }
}

TEST_F(MailTest, DownServerKeepsMailQueuedUntilItComesUp) {
  const uint16_t port = freePort();
  startDispatcher({serverFor(port, "noreply@example.com")});
  const int64_t id = createMeeting(scheduled({"ann@example.com"}));
  ASSERT_TRUE(waitFor([&] {
    auto inv = invitations(id);
    return inv.size() == 1 && inv[0]["attempts"].get<int>() >= 2;
  }));
  auto inv = invitations(id);
  EXPECT_EQ(inv[0]["status"], "queued");
  EXPECT_TRUE(inv[0]["last_error"].is_string());
  EXPECT_GE(dispatcher_->retried(), 1u);

  SmtpSink sink({false, User, Password, {}, port});
  ASSERT_TRUE(sink.ok()) << "port " << port << " taken meanwhile";
  auto mails = waitMails(sink, 1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(icsValue(mails[0].ics, "METHOD"), "REQUEST");
  ASSERT_TRUE(waitFor([&] { return statusOf(invitations(id), "ann@example.com") == "sent"; }));
}

TEST_F(MailTest, StartTlsWithVerifiedCertificate) {
  SmtpSink sink({true, User, Password, {}, 0});
  ASSERT_FALSE(sink.certificatePem().empty());
  const auto caFile = dir_ / "sink-ca.pem";
  std::ofstream(caFile) << sink.certificatePem();
  auto server = serverFor(sink.port(), "noreply@example.com");
  server.tls = mail::TlsMode::Required;
  server.verifyTls = true;
  server.caFile = caFile.string();
  startDispatcher({server});
  createMeeting(scheduled({"ann@example.com"}));
  auto mails = waitMails(sink, 1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_TRUE(mails[0].raw.tls);
  EXPECT_EQ(mails[0].raw.authUser, User);
  EXPECT_EQ(icsValue(mails[0].ics, "METHOD"), "REQUEST");
}

TEST_F(MailTest, RequiredTlsIsNotSentInTheClear) {
  SmtpSink sink({false, User, Password, {}, 0});
  auto server = serverFor(sink.port(), "noreply@example.com");
  server.tls = mail::TlsMode::Required;
  startDispatcher({server});
  const int64_t id = createMeeting(scheduled({"ann@example.com"}));
  ASSERT_TRUE(waitFor([&] {
    auto inv = invitations(id);
    return inv.size() == 1 && inv[0]["attempts"].get<int>() >= 1;
  }));
  EXPECT_EQ(statusOf(invitations(id), "ann@example.com"), "queued");
  EXPECT_TRUE(sink.received().empty());
}

TEST_F(MailTest, ServerChosenByRecipientDomain) {
  SmtpSink external({false, User, Password, {}, 0});
  SmtpSink internal({false, User, Password, {}, 0});
  startDispatcher({serverFor(external.port(), "noreply@example.com"), serverFor(internal.port(), "noreply@corp.example.com")});
  createMeeting(scheduled({"ann@corp.example.com", "bob@gmail.com", "cat@example.com"}));
  auto in = internal.waitReceived(1);
  auto out = external.waitReceived(2);
  ASSERT_EQ(in.size(), 1u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(in[0].rcptTo, std::vector<std::string>{"ann@corp.example.com"});
  EXPECT_EQ(in[0].mailFrom, "noreply@corp.example.com");
  EXPECT_EQ(parseMime(in[0].data).header("from"), "<noreply@corp.example.com>");
  std::set<std::string> outside{out[0].rcptTo.at(0), out[1].rcptTo.at(0)};
  EXPECT_EQ(outside, (std::set<std::string>{"bob@gmail.com", "cat@example.com"}));
}

TEST_F(MailTest, HeaderInjectionIsRefused) {
  SmtpSink sink({false, User, Password, {}, 0});
  startDispatcher({serverFor(sink.port(), "noreply@example.com")});
  auto body = scheduled({"ann@example.com\r\nBcc: victim@example.net"});
  auto r = post("/api/v1/meetings", body);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"]["field"], "invitees[0]");
  r = post("/api/v1/meetings", scheduled({"ann@example.com>\r\nRCPT TO:<victim@example.net"}));
  EXPECT_EQ(r.status, 400);
  r = post("/api/v1/meetings", scheduled({"ann@example.com"}, "Hi\r\nBcc: victim@example.net"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"]["field"], "title");
  const int64_t id = createMeeting(scheduled({"ann@example.com"}));
  auto patched = call(http::verb::patch, "/api/v1/meetings/" + std::to_string(id),
                      json{{"invitees", {"x@example.com\nBcc: victim@example.net"}}}.dump());
  EXPECT_EQ(patched.status, 400);
  // Only the valid meeting's invitation arrives, to its one recipient.
  auto mails = sink.waitReceived(1);
  std::this_thread::sleep_for(200ms);
  mails = sink.received();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].rcptTo, std::vector<std::string>{"ann@example.com"});
  EXPECT_EQ(parseMime(mails[0].data).headers.count("bcc"), 0u);
}

TEST_F(MailTest, PermanentRefusalMarksFailed) {
  SmtpSink sink({false, User, Password, {"gone@example.com"}, 0});
  startDispatcher({serverFor(sink.port(), "noreply@example.com")});
  const int64_t id = createMeeting(scheduled({"gone@example.com", "ann@example.com"}));
  ASSERT_TRUE(waitFor([&] { return statusOf(invitations(id), "gone@example.com") == "failed"; }));
  auto inv = invitations(id);
  EXPECT_EQ(inv[0]["attempts"], 1);
  EXPECT_NE(inv[0]["last_error"].get<std::string>().find("550"), std::string::npos);
  ASSERT_TRUE(waitFor([&] { return statusOf(invitations(id), "ann@example.com") == "sent"; }));
  EXPECT_GE(dispatcher_->failed(), 1u);
}

TEST_F(MailTest, WithoutServersMeetingsWorkAndMailIsNotConfigured) {
  startDispatcher({});
  EXPECT_FALSE(dispatcher_->enabled());
  const int64_t id = createMeeting(scheduled({"ann@example.com"}));
  auto inv = invitations(id);
  ASSERT_EQ(inv.size(), 1u);
  EXPECT_EQ(inv[0]["status"], "not_configured");
  EXPECT_EQ(del("/api/v1/meetings/" + std::to_string(id)).status, 204);
}

TEST_F(MailTest, InstantMeetingInvitationHasNoCalendar) {
  SmtpSink sink({false, User, Password, {}, 0});
  startDispatcher({serverFor(sink.port(), "noreply@example.com")});
  const int64_t id = createMeeting(json{{"owner_email", "owner@example.com"}, {"invitees", {"ann@example.com"}}});
  auto mails = waitMails(sink, 1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].mime.contentType(), "multipart/alternative");
  EXPECT_EQ(mails[0].mime.find("text/calendar"), nullptr);
  auto patched = call(http::verb::patch, "/api/v1/meetings/" + std::to_string(id), json{{"begin_at", inOneDay()}}.dump());
  EXPECT_EQ(patched.status, 422);
}

}  // namespace
TEST_F(MailTest, AFullQueueDropsNewMailAndShowsItOnTheMeeting) {
  Counter& droppedMetric = MetricsRegistry::global().counter("meeting_mail_dropped_total", "");
  const uint64_t droppedBefore = droppedMetric.value();
  const uint16_t port = freePort();  // down: nothing leaves the queue until the sink starts
  startDispatcher({serverFor(port, "noreply@example.com")}, /*maxQueued=*/2);
  const int64_t first = createMeeting(scheduled({"ann@example.com", "bob@example.com", "cat@example.com"}));
  auto inv = invitations(first);
  ASSERT_EQ(inv.size(), 3u);
  EXPECT_EQ(statusOf(inv, "ann@example.com"), "queued");
  EXPECT_EQ(statusOf(inv, "bob@example.com"), "queued");
  EXPECT_EQ(statusOf(inv, "cat@example.com"), "dropped");
  for (const auto& i : inv) {
    if (i["email"] == "cat@example.com") {
      EXPECT_NE(i["last_error"].get<std::string>().find("queue full"), std::string::npos);
    }
  }
  const int64_t second = createMeeting(scheduled({"dan@example.com"}));
  EXPECT_EQ(statusOf(invitations(second), "dan@example.com"), "dropped");
  EXPECT_EQ(dispatcher_->dropped(), 2u);
  EXPECT_EQ(droppedMetric.value(), droppedBefore + 2);
  auto depth = storage_->countQueuedMail();
  ASSERT_TRUE(depth);
  EXPECT_EQ(*depth, 2);

  // The server comes up: the queued two go out, never the dropped ones, and there is room again.
  SmtpSink sink({false, User, Password, {}, port});
  ASSERT_TRUE(sink.ok()) << "port " << port << " taken meanwhile";
  ASSERT_TRUE(waitFor([&] { return statusOf(invitations(first), "bob@example.com") == "sent"; }));
  ASSERT_TRUE(waitFor([&] { return statusOf(invitations(first), "ann@example.com") == "sent"; }));
  const int64_t third = createMeeting(scheduled({"eve@example.com"}));
  ASSERT_TRUE(waitFor([&] { return statusOf(invitations(third), "eve@example.com") == "sent"; }));
  std::set<std::string> recipients;
  for (const auto& r : sink.received()) recipients.insert(r.rcptTo.at(0));
  EXPECT_EQ(recipients, (std::set<std::string>{"ann@example.com", "bob@example.com", "eve@example.com"}));
  EXPECT_EQ(dispatcher_->dropped(), 2u);
}

TEST_F(MailTest, TlsNoneNeverStartsTlsEvenWhenOffered) {
  SmtpSink sink({true, User, Password, {}, 0});
  auto server = serverFor(sink.port(), "noreply@example.com");
  server.tls = mail::TlsMode::None;
  startDispatcher({server});
  createMeeting(scheduled({"ann@example.com"}));
  auto mails = waitMails(sink, 1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_FALSE(mails[0].raw.tls);
}

TEST(MailConfig, PerServerTlsAndDomainsFromExtMail) {
  Config config;
  config.mailServers = {MailServer{"smtp1.example.com", 587, "u", "p", "hi@example.com"},
                        MailServer{"smtp2.example.com", 587, "u", "p", "hi@corp.example.com"},
                        MailServer{"smtp3.example.com", 465, "u", "p", "hi@example.com"},
                        MailServer{"smtp4.example.com", 25, "", "", "hi@example.com"}};
  config.ext = json::parse(R"({"mail": {"require_tls": true,
      "tls": {"smtp1.example.com": "none", "smtp2.example.com": "opportunistic", "smtp3.example.com": "none",
              "smtp4.example.com": "sometimes"},
      "domains": {"smtp2.example.com": ["corp.example.com", "lab.example.com"]}}})");
  std::vector<std::string> warnings;
  auto servers = mail::mailServersFromConfig(config, warnings);
  ASSERT_EQ(servers.size(), 4u);
  EXPECT_EQ(servers[0].tls, mail::TlsMode::None);
  EXPECT_EQ(servers[1].tls, mail::TlsMode::Try);
  EXPECT_EQ(servers[2].tls, mail::TlsMode::Implicit);  // port 465 is TLS whatever is asked
  EXPECT_EQ(servers[3].tls, mail::TlsMode::Required);  // an unknown mode keeps require_tls, with a warning
  EXPECT_EQ(servers[1].domains, (std::vector<std::string>{"corp.example.com", "lab.example.com"}));
  EXPECT_TRUE(servers[0].domains.empty());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("sometimes"), std::string::npos);
  EXPECT_EQ(mail::parseTlsMode("required"), mail::TlsMode::Required);
  EXPECT_FALSE(mail::parseTlsMode("Required"));
}

}  // namespace meeting::api::test
