#pragma once
// Sends invitation mail off the request path, the way WebhookDispatcher delivers webhooks: the
// REST routes call meetingCreated/Updated/Deleted (InvitationSink), which store one row per
// recipient in the database queue (table mail_deliveries) and wake the mail thread; the thread
// sends the head of each (meeting, recipient) queue, so a cancellation never overtakes its
// invitation. Temporary failures (network, TLS, 4xx, refused login) are retried with exponential
// back-off and jitter up to `maxAttempts`; a 5xx refusal or the last attempt marks the row
// failed. Rows stay after sending: they are the per-invitee status on GET /meetings/{id}.
// Without mail servers, rows are stored as "not_configured" and nothing is sent. When `maxQueued`
// mails already wait, a new one is recorded as "dropped" (visible on the meeting, counted in
// meeting_mail_dropped_total) instead of growing the queue without bound.
// The thread and the pass over the queue heads are the DeliveryWorker shared with webhooks.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "api/DeliveryWorker.hpp"
#include "api/db/Storage.hpp"
#include "api/mail/Invitation.hpp"
#include "api/mail/SmtpClient.hpp"
#include "common/Clock.hpp"
#include "common/Config.hpp"
#include "common/Metrics.hpp"

namespace meeting::api::mail {

/// The seam through which the meeting routes report changes (called on a worker thread; may block
/// briefly on the database). Implementations are thread-safe and never throw.
class InvitationSink {
 public:
  virtual ~InvitationSink() = default;
  virtual void meetingCreated(const db::Meeting& meeting, const std::string& joinUrl) = 0;
  virtual void meetingUpdated(const db::Meeting& before, const db::Meeting& after, const std::string& joinUrl) = 0;
  virtual void meetingDeleted(const db::Meeting& meeting, const std::string& joinUrl) = 0;
};

struct MailOptions {
  std::vector<SmtpServer> servers;                 ///< empty = mail off ("not_configured")
  std::string uidHost = "meeting.invalid";         ///< iCalendar UID / Message-ID host
  int maxAttempts = 8;                             ///< attempts before a mail is marked failed
  int64_t maxQueued = 10'000;                      ///< queued mails (all meetings); beyond: dropped
  std::chrono::milliseconds baseBackoff{30'000};   ///< wait after the first failure
  std::chrono::milliseconds maxBackoff{3'600'000}; ///< cap of the exponential wait
  std::chrono::milliseconds idlePoll{10'000};      ///< re-read the table when nothing is due
};

/// SmtpServers from Config::mailServers plus the role file's optional `ext.mail` object:
/// {"require_tls": bool, "verify_tls": bool, "ca_file": path, "timeout_ms": n,
///  "tls": {"<mail server host>": "required" | "opportunistic" | "none"},
///  "domains": {"<mail server host>": ["internal.example.com", ...]}}. The per-server "tls" wins
/// over "require_tls"; --mailTls and --mailDomains are written into the same two maps. Port 465
/// means implicit TLS. Unknown keys are ignored; wrong types or values are reported in `warnings`.
std::vector<SmtpServer> mailServersFromConfig(const Config& config, std::vector<std::string>& warnings);

class MailDispatcher final : public InvitationSink {
 public:
  /// `store`, `clock` and `transport` must outlive the dispatcher.
  MailDispatcher(db::MailStore& store, const Clock& clock, MailTransport& transport, MailOptions options);
  ~MailDispatcher() override;
  MailDispatcher(const MailDispatcher&) = delete;
  MailDispatcher& operator=(const MailDispatcher&) = delete;

  /// Starts the mail thread (rows queued before a restart are picked up at once). Does nothing
  /// when no server is configured.
  void start();
  /// Stops after the send in flight (at most a server's timeout); queued rows stay queued.
  void stop();
  bool enabled() const { return !options_.servers.empty(); }

  void meetingCreated(const db::Meeting& meeting, const std::string& joinUrl) override;
  void meetingUpdated(const db::Meeting& before, const db::Meeting& after, const std::string& joinUrl) override;
  void meetingDeleted(const db::Meeting& meeting, const std::string& joinUrl) override;

  uint64_t sent() const { return sent_.value(); }
  uint64_t failed() const { return failed_.value(); }    ///< mails given up (5xx or attempts)
  uint64_t retried() const { return retried_.value(); }  ///< attempts rescheduled
  uint64_t dropped() const { return dropped_.value(); }  ///< mails not queued: the queue was full

 private:
  void enqueue(int64_t meetingId, std::vector<PlannedMail> mails);
  std::chrono::milliseconds sendDue();
  void attempt(const db::MailDelivery& d);
  void finish(const db::MailDelivery& d, const char* status, int64_t attempts, const std::string& error);
  db::Millis nowMs() const { return worker_.nowMs(); }
  std::string randomToken();

  db::MailStore& store_;
  MailTransport& transport_;
  MailOptions options_;
  Counter sent_, failed_, retried_, dropped_;
  Counter& metricSent_;
  Counter& metricFailed_;
  Counter& metricRetried_;
  Counter& metricDropped_;
  Gauge& metricDepth_;
  std::mutex enqueueMutex_;  // the queue-size check and the insert go together
  std::mutex randomMutex_;
  std::mt19937_64 random_;
  DeliveryWorker worker_;  // last: its thread stops before the members it uses go
};

}  // namespace meeting::api::mail
