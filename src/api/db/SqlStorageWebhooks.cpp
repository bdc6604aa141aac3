// SqlStorage: the webhook delivery queues (table webhook_deliveries, migration 4).
#include "api/db/Secrets.hpp"
#include "api/db/SqlStorage.hpp"

namespace meeting::api::db {

using namespace sqlutil;

namespace {

// MEDIUMTEXT holds 16 MiB in MariaDB; bodies are small JSON objects far below that.
constexpr size_t BodyMax = 1024 * 1024;
// last_error is for operators reading the table; a short prefix is enough.
constexpr size_t ErrorMax = 1024;

WebhookDelivery deliveryFromRow(const SqlRow& r) {
  WebhookDelivery d;
  d.id = r.integer(0);
  d.url = r.text(1);
  d.eventId = r.text(2);
  d.body = r.text(3);
  d.attempts = r.integer(4);
  d.nextAttemptAt = r.integer(5);
  d.createdAt = r.integer(6);
  d.lastError = r.text(7);
  return d;
}

}  // namespace

Result<WebhookDelivery> SqlStorage::enqueueWebhook(WebhookDelivery d, int64_t maxQueued) {
  if (d.url.empty()) return makeError(errc::InvalidField, "url: must not be empty");
  if (auto v = checkSizes({{"url", d.url, TextMax}, {"event_id", d.eventId, KeyMax}, {"body", d.body, BodyMax}});
      !v.ok()) {
    return v.error();
  }
  if (d.lastError.size() > ErrorMax) d.lastError.resize(ErrorMax);
  d.createdAt = now();
  if (d.nextAttemptAt == 0) d.nextAttemptAt = d.createdAt;
  const std::string queue = secrets::sha256Hex(d.url);
  // Count and insert in one transaction so the cap holds for one apiserver; several apiservers
  // on one MariaDB may overshoot it by a few rows, which is harmless.
  return transact([&](SqlConnection& c) -> Result<WebhookDelivery> {
    auto n = c.query("SELECT COUNT(*) FROM webhook_deliveries WHERE queue_key = ?", {queue});
    if (!n.ok()) return n.error();
    if (!n->rows.empty() && n->rows[0].integer(0) >= maxQueued) {
      return makeError(errc::Conflict, "webhook queue full");
    }
    auto r = c.query(
        "INSERT INTO webhook_deliveries (queue_key, url, event_id, body, attempts, next_attempt_at, "
        "created_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        {queue, d.url, d.eventId, d.body, d.attempts, d.nextAttemptAt, d.createdAt, d.lastError});
    if (!r.ok()) return r.error();
    WebhookDelivery out = d;
    out.id = r->lastInsertId;
    return out;
  });
}

Result<std::vector<WebhookDelivery>> SqlStorage::webhookHeads(uint32_t limit) {
  const int64_t n = clampLimit(limit);
  return run([&](SqlConnection& c) -> Result<std::vector<WebhookDelivery>> {
    auto r = c.query(
        "SELECT d.id, d.url, d.event_id, d.body, d.attempts, d.next_attempt_at, d.created_at, d.last_error "
        "FROM webhook_deliveries d "
        "JOIN (SELECT MIN(id) AS head FROM webhook_deliveries GROUP BY queue_key) h ON d.id = h.head "
        "ORDER BY d.next_attempt_at, d.id LIMIT ?",
        {n});
    if (!r.ok()) return r.error();
    std::vector<WebhookDelivery> out;
    out.reserve(r->rows.size());
    for (const auto& row : r->rows) out.push_back(deliveryFromRow(row));
    return out;
  });
}

Result<void> SqlStorage::rescheduleWebhook(int64_t id, int64_t attempts, Millis nextAttemptAt,
                                           const std::string& lastError) {
  std::string error = lastError.substr(0, ErrorMax);
  return run([&](SqlConnection& c) -> Result<void> {
    auto r = c.query("UPDATE webhook_deliveries SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                     {attempts, nextAttemptAt, error, id});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return notFound("webhook delivery");
    return {};
  });
}

Result<void> SqlStorage::deleteWebhook(int64_t id) {
  return run([&](SqlConnection& c) -> Result<void> {
    auto r = c.query("DELETE FROM webhook_deliveries WHERE id = ?", {id});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return notFound("webhook delivery");
    return {};
  });
}

Result<int64_t> SqlStorage::countWebhooks() {
  return run([&](SqlConnection& c) -> Result<int64_t> {
    auto r = c.query("SELECT COUNT(*) FROM webhook_deliveries", std::span<const SqlValue>{});
    if (!r.ok()) return r.error();
    return r->rows.empty() ? int64_t{0} : r->rows[0].integer(0);
  });
}

}  // namespace meeting::api::db
