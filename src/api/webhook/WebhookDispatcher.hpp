#pragma once
// Delivers webhooks off the request path. emit() stores the event in the database queue of its
// URL (table webhook_deliveries) and wakes the delivery thread; the thread POSTs the head of each
// queue, so one URL receives its events in order, and another URL in back-off does not hold it
// up. Failures (5xx, 408, 429, timeouts, connection errors) are retried with exponential back-off
// and jitter up to `maxAttempts`, then dropped and counted. Because the queue lives in the
// database, events survive a restart; delivery is at-least-once (receivers de-duplicate on "id").
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "api/db/Storage.hpp"
#include "api/webhook/WebhookEvent.hpp"
#include "common/Clock.hpp"
#include "common/Metrics.hpp"

namespace meeting::api::webhook {

struct WebhookOptions {
  std::string key;                                 ///< HMAC key (--webhook-key or derived)
  bool allowPrivate = false;                       ///< --allow-private-webhooks
  int maxAttempts = 8;                             ///< attempts before a delivery is dropped
  int64_t maxQueuedPerUrl = 10'000;                ///< a full queue drops new events
  std::chrono::milliseconds timeout{5000};         ///< deadline of one POST (connect to answer)
  std::chrono::milliseconds baseBackoff{1000};     ///< wait after the first failure
  std::chrono::milliseconds maxBackoff{300'000};   ///< cap of the exponential wait
  std::chrono::milliseconds idlePoll{5000};        ///< re-read the table when nothing is due
  bool verifyTls = true;                           ///< check the receiver's certificate
};

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

  /// Queues `event` for `url` (blocking database insert). Never throws.
  void emit(const std::string& url, const WebhookEvent& event) override;

  uint64_t delivered() const { return delivered_.value(); }
  uint64_t failed() const { return failed_.value(); }    ///< failed attempts
  uint64_t retried() const { return retried_.value(); }  ///< attempts rescheduled
  uint64_t dropped() const { return dropped_.value(); }  ///< events given up (attempts, 4xx, full queue)

  /// Wait after `failures` failed attempts (>= 1): min(max, base * 2^(failures-1)) scaled into
  /// [1/2, 1] by `unit` in [0, 1) ("equal jitter", so receivers coming back are not hit in step).
  static std::chrono::milliseconds backoff(int failures, std::chrono::milliseconds base, std::chrono::milliseconds max,
                                           double unit);

 private:
  void run();
  /// One pass over the queue heads; returns how long to sleep before the next pass.
  std::chrono::milliseconds deliverDue();
  void attempt(const db::WebhookDelivery& d);
  void drop(const db::WebhookDelivery& d, const std::string& why);
  db::Millis nowMs() const { return clock_.wallMicros() / 1000; }

  db::WebhookStore& store_;
  const Clock& clock_;
  WebhookOptions options_;
  // Process-wide metrics (also served at /metrics) and this dispatcher's own counts (tests).
  Counter delivered_, failed_, retried_, dropped_;
  Counter& metricDelivered_;
  Counter& metricFailed_;
  Counter& metricRetried_;
  Counter& metricDropped_;
  Gauge& metricDepth_;
  std::mt19937_64 random_;  // delivery thread only

  std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace meeting::api::webhook
