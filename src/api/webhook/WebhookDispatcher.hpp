#pragma once
// Delivers webhooks off the request path. emit() stores the event in the database queue of its
// URL (table webhook_deliveries) and wakes the delivery thread; the thread POSTs the head of each
// queue, so one URL receives its events in order, and another URL in back-off does not hold it
// up. Failures (5xx, 408, 429, timeouts, connection errors) are retried with exponential back-off
// and jitter up to `maxAttempts`, then dropped and counted. Because the queue lives in the
// database, events survive a restart; delivery is at-least-once (receivers de-duplicate on "id").
// The thread and the pass over the queue heads are the DeliveryWorker shared with invitation mail.
#include <chrono>
#include <cstdint>
#include <string>

#include "api/DeliveryWorker.hpp"
#include "api/db/Storage.hpp"
#include "api/webhook/WebhookEvent.hpp"
#include "common/Clock.hpp"
#include "common/Config.hpp"
#include "common/Metrics.hpp"

namespace meeting::api::webhook {

struct WebhookOptions {
  std::string key;                                 ///< HMAC key (--webhook-key or derived)
  /// Server-wide default (--webhook-url / role file ext.webhook.url): receives the events of
  /// rooms without a webhook_url of their own and events without a room. "" = none.
  std::string defaultUrl;
  bool allowPrivate = false;                       ///< --allow-private-webhooks
  int maxAttempts = 8;                             ///< attempts before a delivery is dropped
  int64_t maxQueuedPerUrl = 10'000;                ///< a full queue drops new events
  std::chrono::milliseconds timeout{5000};         ///< deadline of one POST (connect to answer)
  std::chrono::milliseconds baseBackoff{1000};     ///< wait after the first failure
  std::chrono::milliseconds maxBackoff{300'000};   ///< cap of the exponential wait
  std::chrono::milliseconds idlePoll{5000};        ///< re-read the table when nothing is due
  bool verifyTls = true;                           ///< check the receiver's certificate
};

/// The server-wide default webhook URL: the role file's `ext.webhook.url` (--webhook-url writes
/// the same place), "" when there is none. The SSRF policy applies as to a room's URL: an invalid
/// URL or one resolving to a non-public address (unless `allowPrivate`) is an error; a host that
/// does not resolve yet is accepted (it is checked again at every delivery).
Result<std::string> defaultWebhookUrl(const Config& config, bool allowPrivate);

class WebhookDispatcher final : public WebhookSink {
 public:
  /// `store` and `clock` must outlive the dispatcher.
  WebhookDispatcher(db::WebhookStore& store, const Clock& clock, WebhookOptions options);
  ~WebhookDispatcher() override;
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  /// Starts the delivery thread (queued rows from before a restart are picked up at once).
  void start();
  /// Stops after the POST in flight (at most `timeout`); undelivered rows stay in the database.
  void stop();

  /// Queues `event` for `url`, or for the default URL when `url` is "" (nothing when both are
  /// empty). Blocking database insert; never throws.
  void emit(const std::string& url, const WebhookEvent& event) override;

  uint64_t delivered() const { return delivered_.value(); }
  uint64_t failed() const { return failed_.value(); }    ///< failed attempts
  uint64_t retried() const { return retried_.value(); }  ///< attempts rescheduled
  uint64_t dropped() const { return dropped_.value(); }  ///< events given up (attempts, 4xx, full queue)

  /// Wait after `failures` failed attempts (>= 1): min(max, base * 2^(failures-1)) scaled into
  /// [1/2, 1] by `unit` in [0, 1) ("equal jitter", so receivers coming back are not hit in step).
  static std::chrono::milliseconds backoff(int failures, std::chrono::milliseconds base, std::chrono::milliseconds max,
                                           double unit) {
    return DeliveryWorker::backoff(failures, base, max, unit);
  }

 private:
  /// One pass over the queue heads; returns how long to sleep before the next pass.
  std::chrono::milliseconds deliverDue();
  void attempt(const db::WebhookDelivery& d);
  void drop(const db::WebhookDelivery& d, const std::string& why);
  db::Millis nowMs() const { return worker_.nowMs(); }

  db::WebhookStore& store_;
  WebhookOptions options_;
  // Process-wide metrics (also served at /metrics) and this dispatcher's own counts (tests).
  Counter delivered_, failed_, retried_, dropped_;
  Counter& metricDelivered_;
  Counter& metricFailed_;
  Counter& metricRetried_;
  Counter& metricDropped_;
  Gauge& metricDepth_;
  DeliveryWorker worker_;  // last: its thread stops before the members it uses go
};

}  // namespace meeting::api::webhook
