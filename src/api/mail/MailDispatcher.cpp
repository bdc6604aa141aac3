#include "api/mail/MailDispatcher.hpp"

#include <algorithm>
#include <map>

#include "api/mail/MimeMessage.hpp"
#include "common/Log.hpp"

namespace meeting::api::mail {
namespace {

constexpr uint32_t HeadsPerPass = 64;

Counter& metric(const char* name, const char* help) { return MetricsRegistry::global().counter(name, help); }

template <typename T>
bool readField(const nlohmann::json& obj, const char* key, T& out, std::vector<std::string>& warnings) {
  auto it = obj.find(key);
  if (it == obj.end()) return false;
  try {
    out = it->get<T>();
    return true;
  } catch (const nlohmann::json::exception&) {
    warnings.push_back(std::string("ext.mail.") + key + ": wrong type, ignored");
    return false;
  }
}

}  // namespace

std::vector<SmtpServer> mailServersFromConfig(const Config& config, std::vector<std::string>& warnings) {
  nlohmann::json ext = nlohmann::json::object();
  if (config.ext.is_object() && config.ext.contains("mail")) {
    ext = config.ext.at("mail");
    if (!ext.is_object()) {
      warnings.push_back("ext.mail: not an object, ignored");
      ext = nlohmann::json::object();
    }
  }
  bool requireTls = false, verifyTls = true;
  std::string caFile;
  int64_t timeoutMs = 30'000;
  readField(ext, "require_tls", requireTls, warnings);
  readField(ext, "verify_tls", verifyTls, warnings);
  readField(ext, "ca_file", caFile, warnings);
  readField(ext, "timeout_ms", timeoutMs, warnings);
  std::map<std::string, std::vector<std::string>> domains;
  readField(ext, "domains", domains, warnings);
  std::map<std::string, std::string> tlsByHost;
  readField(ext, "tls", tlsByHost, warnings);

  std::vector<SmtpServer> out;
  for (const auto& m : config.mailServers) {
    SmtpServer s;
    s.host = m.host;
    s.port = m.port;
    s.username = m.username;
    s.password = m.password;
    s.from = m.from;
    // RFC 8314 §3.3: port 465 is submission over implicit TLS.
    s.tls = m.port == 465 ? TlsMode::Implicit : requireTls ? TlsMode::Required : TlsMode::Try;
    if (auto it = tlsByHost.find(m.host); it != tlsByHost.end() && m.port != 465) {
      if (auto mode = parseTlsMode(it->second)) s.tls = *mode;
      else warnings.push_back("ext.mail.tls." + m.host + ": '" + it->second + "' is not required, opportunistic or none");
    }
    s.verifyTls = verifyTls;
    s.caFile = caFile;
    s.timeout = std::chrono::milliseconds(std::clamp<int64_t>(timeoutMs, 1000, 600'000));
    if (auto it = domains.find(m.host); it != domains.end()) s.domains = it->second;
    if (!isMailAddress(s.from)) warnings.push_back("--mailFrom " + s.from + ": not a plain address, mail through " + s.host + " will fail");
    out.push_back(std::move(s));
  }
  return out;
}

MailDispatcher::MailDispatcher(db::MailStore& store, const Clock& clock, MailTransport& transport, MailOptions options)
    : store_(store),
      transport_(transport),
      options_(std::move(options)),
      metricSent_(metric("meeting_mail_sent_total", "Invitation mails accepted by an SMTP server")),
      metricFailed_(metric("meeting_mail_failed_total", "Invitation mails given up (refused or attempts exhausted)")),
      metricRetried_(metric("meeting_mail_retried_total", "Invitation mail attempts rescheduled after a failure")),
      metricDropped_(metric("meeting_mail_dropped_total", "Invitation mails not queued because the mail queue was full")),
      metricDepth_(MetricsRegistry::global().gauge("meeting_mail_queue_depth", "Invitation mails waiting in the database")),
      random_(std::random_device{}()),
      worker_("mail", clock, [this] { return sendDue(); }) {
  options_.maxAttempts = std::max(1, options_.maxAttempts);
}

MailDispatcher::~MailDispatcher() { stop(); }

void MailDispatcher::start() {
  if (enabled()) worker_.start();
}

void MailDispatcher::stop() { worker_.stop(); }

void MailDispatcher::meetingCreated(const db::Meeting& meeting, const std::string& joinUrl) {
  enqueue(meeting.id, planCreated(meeting, InvitationContext{joinUrl, options_.uidHost, nowMs()}));
}

void MailDispatcher::meetingUpdated(const db::Meeting& before, const db::Meeting& after, const std::string& joinUrl) {
  enqueue(after.id, planUpdated(before, after, InvitationContext{joinUrl, options_.uidHost, nowMs()}));
}

void MailDispatcher::meetingDeleted(const db::Meeting& meeting, const std::string& joinUrl) {
  enqueue(meeting.id, planDeleted(meeting, InvitationContext{joinUrl, options_.uidHost, nowMs()}));
}

void MailDispatcher::enqueue(int64_t meetingId, std::vector<PlannedMail> mails) {
  if (mails.empty()) return;
  std::lock_guard lock(enqueueMutex_);
  int64_t queued = 0;
  if (enabled()) {
    // A database error counts as empty: mail is not refused because the count failed.
    if (auto n = store_.countQueuedMail()) queued = *n;
  }
  for (auto& m : mails) {
    db::MailDelivery d;
    d.meetingId = meetingId;
    d.recipient = m.recipient;
    d.kind = m.kind;
    d.sequence = m.sequence;
    if (!enabled()) {
      d.status = db::mailstatus::NotConfigured;
      d.lastError = "no mail server configured";
      d.payload = m.content.toPayload();
    } else if (queued >= options_.maxQueued) {
      // The row (without its body) stays as the invitee's status; it is never sent.
      d.status = db::mailstatus::Dropped;
      d.lastError = "mail queue full (" + std::to_string(options_.maxQueued) + " waiting)";
      dropped_.inc();
      metricDropped_.inc();
      MLOG_WARN("mail: {} to {} for meeting {} dropped: the queue is full", m.kind, m.recipient, meetingId);
    } else {
      d.status = db::mailstatus::Queued;
      d.payload = m.content.toPayload();
      ++queued;
    }
    if (auto r = store_.enqueueMail(std::move(d)); !r) {
      MLOG_WARN("mail: {} to {} for meeting {} not queued: {}", m.kind, m.recipient, meetingId, r.error().message);
    }
  }
  if (enabled()) worker_.wake();
}

std::chrono::milliseconds MailDispatcher::sendDue() {
  auto wait = worker_.attemptDue(store_.mailHeads(HeadsPerPass), options_.idlePoll,
                                 [this](const db::MailDelivery& d) { attempt(d); });
  if (auto depth = store_.countQueuedMail()) metricDepth_.set(static_cast<double>(*depth));
  return wait;
}

std::string MailDispatcher::randomToken() {
  std::lock_guard lock(randomMutex_);
  static constexpr char Hex[] = "0123456789abcdef";
  std::string out;
  uint64_t v = random_();
  for (int i = 0; i < 16; ++i, v >>= 4) out += Hex[v & 15];
  return out;
}

void MailDispatcher::attempt(const db::MailDelivery& d) {
  const int64_t attempts = d.attempts + 1;
  MailContent content;
  if (!MailContent::fromPayload(d.payload, content)) return finish(d, db::mailstatus::Failed, attempts, "unreadable payload");
  const SmtpServer* server = chooseServer(options_.servers, d.recipient);
  if (server == nullptr) return;  // not enabled: start() never ran the thread
  MimeMessage m;
  m.from = server->from;
  m.to = d.recipient;
  m.subject = content.subject;
  m.text = content.text;
  m.html = content.html;
  m.ics = content.ics;
  m.method = content.method;
  m.messageId = "meeting-" + std::to_string(d.meetingId) + "-" + std::to_string(d.id) + "." + randomToken() + "@" + options_.uidHost;
  m.dateMs = nowMs();
  auto bytes = renderMime(m, randomToken());
  if (!bytes) return finish(d, db::mailstatus::Failed, attempts, bytes.error().message);

  Result<void> sent = makeError(smtperr::Temporary, "not sent");
  try {
    sent = transport_.send(*server, d.recipient, *bytes);
  } catch (const std::exception& e) {
    sent = makeError(smtperr::Temporary, e.what());  // a bug or resource failure: retry
  }
  if (sent) {
    finish(d, db::mailstatus::Sent, attempts, "");
    sent_.inc();
    metricSent_.inc();
    MLOG_INFO("mail: {} for meeting {} sent to {} via {}", d.kind, d.meetingId, d.recipient, server->host);
    return;
  }
  const std::string why = server->host + ": " + sent.error().message;
  if (sent.error().code == smtperr::Permanent || attempts >= options_.maxAttempts) {
    failed_.inc();
    metricFailed_.inc();
    MLOG_WARN("mail: {} for meeting {} to {} failed after {} attempt(s): {}", d.kind, d.meetingId, d.recipient, attempts, why);
    return finish(d, db::mailstatus::Failed, attempts, why);
  }
  // The same "equal jitter" exponential back-off as webhooks.
  auto wait = worker_.retryLater(attempts, options_.baseBackoff, options_.maxBackoff,
                                 [&](int64_t at) { return store_.rescheduleMail(d.id, attempts, at, why); },
                                 "mail " + std::to_string(d.id));
  if (!wait) return;
  retried_.inc();
  metricRetried_.inc();
  MLOG_DEBUG("mail: {} to {} failed ({}), attempt {} in {} ms", d.kind, d.recipient, why, attempts + 1, wait->count());
}

void MailDispatcher::finish(const db::MailDelivery& d, const char* status, int64_t attempts, const std::string& error) {
  if (auto r = store_.finishMail(d.id, status, attempts, nowMs(), error); !r && r.error().code != db::errc::NotFound) {
    // The row stays queued and is attempted again: at-least-once, like webhooks.
    MLOG_WARN("mail: cannot record {} of mail {}: {}", status, d.id, r.error().message);
  }
}

}  // namespace meeting::api::mail
