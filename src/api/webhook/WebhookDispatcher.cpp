#include "api/webhook/WebhookDispatcher.hpp"

#include <algorithm>
#include <cmath>

#include "api/db/Secrets.hpp"
#include "api/webhook/WebhookSignature.hpp"
#include "api/webhook/WebhookUrlPolicy.hpp"
#include "common/Log.hpp"
#include "net/HttpClient.hpp"

namespace meeting::api::webhook {
namespace {

// Queue heads read per pass; more queues than this are served over several passes.
constexpr uint32_t HeadsPerPass = 64;
constexpr auto StorageRetry = std::chrono::milliseconds(1000);

Counter& metric(const char* name, const char* help) { return MetricsRegistry::global().counter(name, help); }

bool retryableStatus(int status) { return status >= 500 || status == 408 || status == 429; }

}  // namespace

WebhookDispatcher::WebhookDispatcher(db::WebhookStore& store, const Clock& clock, WebhookOptions options)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      metricDelivered_(metric("meeting_webhook_delivered_total", "Webhook events delivered (2xx)")),
      metricFailed_(metric("meeting_webhook_failed_total", "Webhook delivery attempts that failed")),
      metricRetried_(metric("meeting_webhook_retried_total", "Webhook deliveries rescheduled after a failure")),
      metricDropped_(metric("meeting_webhook_dropped_total",
                            "Webhook events given up: attempts exhausted, refused, or queue full")),
      metricDepth_(MetricsRegistry::global().gauge("meeting_webhook_queue_depth", "Webhook events waiting in the database")),
      random_(std::random_device{}()) {
  options_.maxAttempts = std::max(1, options_.maxAttempts);
}

WebhookDispatcher::~WebhookDispatcher() { stop(); }

void WebhookDispatcher::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void WebhookDispatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WebhookDispatcher::emit(const std::string& url, const WebhookEvent& event) {
  if (url.empty()) return;
  db::WebhookDelivery d;
  d.url = url;
  d.eventId = db::secrets::uuid4();
  d.body = webhookBody(event, d.eventId, nowMs());
  auto queued = store_.enqueueWebhook(std::move(d), options_.maxQueuedPerUrl);
  if (!queued) {
    dropped_.inc();
    metricDropped_.inc();
    MLOG_WARN("webhook: {} for room {} dropped: {}", event.type, event.room, queued.error().message);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_one();
}

std::chrono::milliseconds WebhookDispatcher::backoff(int failures, std::chrono::milliseconds base,
                                                     std::chrono::milliseconds max, double unit) {
  const double exponent = std::clamp(failures - 1, 0, 40);
  const double full = std::min(static_cast<double>(max.count()), static_cast<double>(base.count()) * std::exp2(exponent));
  const double jittered = full / 2 + full / 2 * std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(jittered));
}

void WebhookDispatcher::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    woken_ = false;
    lock.unlock();
    auto wait = deliverDue();
    lock.lock();
    if (wait.count() > 0) wake_.wait_for(lock, wait, [this] { return stopping_ || woken_; });
  }
}

std::chrono::milliseconds WebhookDispatcher::deliverDue() {
  auto heads = store_.webhookHeads(HeadsPerPass);
  if (!heads) {
    MLOG_WARN("webhook: cannot read the queue: {}", heads.error().message);
    return StorageRetry;
  }
  auto wait = options_.idlePoll;
  bool worked = false;
  for (const auto& d : *heads) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return std::chrono::milliseconds(0);
    }
    const db::Millis now = nowMs();
    if (d.nextAttemptAt > now) {
      // Heads come earliest first: the rest wait at least this long.
      wait = std::min(wait, std::chrono::milliseconds(d.nextAttemptAt - now));
      break;
    }
    attempt(d);
    worked = true;
  }
  if (auto depth = store_.countWebhooks()) metricDepth_.set(static_cast<double>(*depth));
  // After work, look again at once: the next row of a queue may now be its head.
  return worked ? std::chrono::milliseconds(0) : wait;
}

void WebhookDispatcher::attempt(const db::WebhookDelivery& d) {
  // Checked again at delivery: the name may point elsewhere now than at room creation.
  if (auto allowed = checkWebhookUrl(d.url, options_.allowPrivate); !allowed) {
    failed_.inc();
    metricFailed_.inc();
    return drop(d, allowed.error().message);
  }
  net::HttpClientOptions http;
  http.timeout = options_.timeout;
  http.verifyTls = options_.verifyTls;
  http.headers["Content-Type"] = "application/json";
  http.headers["User-Agent"] = "meeting-webhook/1";
  http.headers["Meeting-Event-Id"] = d.eventId;
  http.headers[SignatureHeader] = signatureHeader(options_.key, nowMs() / 1000, d.body);
  Result<net::HttpClientResponse> answer = makeError("internal", "not sent");
  try {
    answer = net::httpRequest(net::http::verb::post, d.url, d.body, http);
  } catch (const std::exception& e) {
    // A bug or resource failure inside the client: count it like a connection error.
    answer = makeError("internal", e.what());
  }
  if (answer && answer->result_int() >= 200 && answer->result_int() < 300) {
    if (auto gone = store_.deleteWebhook(d.id); !gone && gone.error().code != db::errc::NotFound) {
      // The row stays and will be sent again: at-least-once, receivers de-duplicate on the id.
      MLOG_WARN("webhook: delivered {} but cannot remove it: {}", d.eventId, gone.error().message);
    }
    delivered_.inc();
    metricDelivered_.inc();
    return;
  }
  failed_.inc();
  metricFailed_.inc();
  const bool retryable = !answer || retryableStatus(answer->result_int());
  const std::string why = answer ? "HTTP " + std::to_string(answer->result_int()) : answer.error().message;
  const int64_t failures = d.attempts + 1;
  if (!retryable) return drop(d, why + " (not retried)");
  if (failures >= options_.maxAttempts) return drop(d, why + " after " + std::to_string(failures) + " attempts");
  const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  const auto wait = backoff(static_cast<int>(failures), options_.baseBackoff, options_.maxBackoff, unit);
  if (auto r = store_.rescheduleWebhook(d.id, failures, nowMs() + wait.count(), why); !r) {
    MLOG_WARN("webhook: cannot reschedule {}: {}", d.eventId, r.error().message);
    return;
  }
  retried_.inc();
  metricRetried_.inc();
  MLOG_DEBUG("webhook: {} to {} failed ({}), attempt {} in {} ms", d.eventId, d.url, why, failures + 1, wait.count());
}

void WebhookDispatcher::drop(const db::WebhookDelivery& d, const std::string& why) {
  if (auto gone = store_.deleteWebhook(d.id); !gone && gone.error().code != db::errc::NotFound) {
    MLOG_WARN("webhook: cannot remove dropped {}: {}", d.eventId, gone.error().message);
    return;  // not counted: it will be attempted again
  }
  dropped_.inc();
  metricDropped_.inc();
  MLOG_WARN("webhook: dropped {} to {}: {}", d.eventId, d.url, why);
}

}  // namespace meeting::api::webhook
