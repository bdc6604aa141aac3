#include "api/webhook/WebhookDispatcher.hpp"

#include <algorithm>

#include "api/db/Secrets.hpp"
#include "api/webhook/WebhookSignature.hpp"
#include "api/webhook/WebhookUrlPolicy.hpp"
#include "common/Log.hpp"
#include "net/HttpClient.hpp"

namespace meeting::api::webhook {
namespace {

// Queue heads read per pass; more queues than this are served over several passes.
constexpr uint32_t HeadsPerPass = 64;

Counter& metric(const char* name, const char* help) { return MetricsRegistry::global().counter(name, help); }

bool retryableStatus(int status) { return status >= 500 || status == 408 || status == 429; }

}  // namespace

Result<std::string> defaultWebhookUrl(const Config& config, bool allowPrivate) {
  if (!config.ext.is_object()) return std::string();
  auto hook = config.ext.find("webhook");
  if (hook == config.ext.end() || !hook->is_object()) return std::string();
  auto url = hook->find("url");
  if (url == hook->end() || url->is_null()) return std::string();
  if (!url->is_string()) return makeError("invalid_config", "ext.webhook.url: must be a string");
  const std::string text = url->get<std::string>();
  if (auto allowed = checkWebhookUrl(text, allowPrivate); !allowed) {
    if (allowed.error().code != "unresolvable") return makeError("invalid_config", "webhook URL: " + allowed.error().message);
    MLOG_WARN("webhook: the default URL's host does not resolve (yet); events wait in the queue until it does");
  }
  return text;
}

WebhookDispatcher::WebhookDispatcher(db::WebhookStore& store, const Clock& clock, WebhookOptions options)
    : store_(store),
      options_(std::move(options)),
      metricDelivered_(metric("meeting_webhook_delivered_total", "Webhook events delivered (2xx)")),
      metricFailed_(metric("meeting_webhook_failed_total", "Webhook delivery attempts that failed")),
      metricRetried_(metric("meeting_webhook_retried_total", "Webhook deliveries rescheduled after a failure")),
      metricDropped_(metric("meeting_webhook_dropped_total",
                            "Webhook events given up: attempts exhausted, refused, or queue full")),
      metricDepth_(MetricsRegistry::global().gauge("meeting_webhook_queue_depth", "Webhook events waiting in the database")),
      worker_("webhook", clock, [this] { return deliverDue(); }) {
  options_.maxAttempts = std::max(1, options_.maxAttempts);
}

WebhookDispatcher::~WebhookDispatcher() { stop(); }

void WebhookDispatcher::start() { worker_.start(); }

void WebhookDispatcher::stop() { worker_.stop(); }

void WebhookDispatcher::emit(const std::string& url, const WebhookEvent& event) {
  const std::string& target = url.empty() ? options_.defaultUrl : url;
  if (target.empty()) return;
  db::WebhookDelivery d;
  d.url = target;
  d.eventId = db::secrets::uuid4();
  d.body = webhookBody(event, d.eventId, nowMs());
  auto queued = store_.enqueueWebhook(std::move(d), options_.maxQueuedPerUrl);
  if (!queued) {
    dropped_.inc();
    metricDropped_.inc();
    MLOG_WARN("webhook: {} for room {} dropped: {}", event.type, event.room, queued.error().message);
    return;
  }
  worker_.wake();
}

std::chrono::milliseconds WebhookDispatcher::deliverDue() {
  auto wait = worker_.attemptDue(store_.webhookHeads(HeadsPerPass), options_.idlePoll,
                                 [this](const db::WebhookDelivery& d) { attempt(d); });
  if (auto depth = store_.countWebhooks()) metricDepth_.set(static_cast<double>(*depth));
  return wait;
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
  auto wait = worker_.retryLater(failures, options_.baseBackoff, options_.maxBackoff,
                                 [&](int64_t at) { return store_.rescheduleWebhook(d.id, failures, at, why); }, d.eventId);
  if (!wait) return;
  retried_.inc();
  metricRetried_.inc();
  MLOG_DEBUG("webhook: {} to {} failed ({}), attempt {} in {} ms", d.eventId, d.url, why, failures + 1, wait->count());
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
