// SqlStorage: the invitation mail queues (table mail_deliveries, migration 5).
#include "api/db/SqlStorage.hpp"

namespace meeting::api::db {

using namespace sqlutil;

namespace {

// Payloads hold the text, HTML and iCalendar parts of one mail: a few KiB, 500 attendees ~40 KiB.
constexpr size_t PayloadMax = 1024 * 1024;
constexpr size_t ErrorMax = 1024;

constexpr const char* MailColumns =
    "SELECT id, meeting_id, recipient, kind, sequence, payload, status, attempts, next_attempt_at, "
    "created_at, sent_at, last_error FROM mail_deliveries ";

MailDelivery mailFromRow(const SqlRow& r) {
  MailDelivery m;
  m.id = r.integer(0);
  m.meetingId = r.integer(1);
  m.recipient = r.text(2);
  m.kind = r.text(3);
  m.sequence = r.integer(4);
  m.payload = r.text(5);
  m.status = r.text(6);
  m.attempts = r.integer(7);
  m.nextAttemptAt = r.integer(8);
  m.createdAt = r.integer(9);
  m.sentAt = r.integer(10);
  m.lastError = r.text(11);
  return m;
}

Result<std::vector<MailDelivery>> mailRows(Result<SqlResult> r) {
  if (!r.ok()) return r.error();
  std::vector<MailDelivery> out;
  out.reserve(r->rows.size());
  for (const auto& row : r->rows) out.push_back(mailFromRow(row));
  return out;
}

bool knownStatus(const std::string& s) {
  return s == mailstatus::Queued || s == mailstatus::Sent || s == mailstatus::Failed ||
         s == mailstatus::NotConfigured || s == mailstatus::Dropped;
}

}  // namespace

Result<MailDelivery> SqlStorage::enqueueMail(MailDelivery m) {
  if (m.recipient.empty()) return makeError(errc::InvalidField, "recipient: must not be empty");
  if (m.status.empty()) m.status = mailstatus::Queued;
  if (!knownStatus(m.status)) return makeError(errc::InvalidField, "status: unknown");
  if (auto v = checkSizes({{"recipient", m.recipient, KeyMax}, {"kind", m.kind, KeyMax}, {"payload", m.payload, PayloadMax}});
      !v.ok()) {
    return v.error();
  }
  if (m.lastError.size() > ErrorMax) m.lastError.resize(ErrorMax);
  m.createdAt = now();
  if (m.nextAttemptAt == 0) m.nextAttemptAt = m.createdAt;
  // queue_key is VARCHAR(255) in MariaDB: the recipient part is cut to fit. Two long addresses
  // sharing a prefix would only share one queue (order kept, nothing lost).
  std::string queue = std::to_string(m.meetingId) + "/" + m.recipient;
  if (queue.size() > KeyMax) queue.resize(KeyMax);
  return run([&](SqlConnection& c) -> Result<MailDelivery> {
    auto r = c.query(
        "INSERT INTO mail_deliveries (queue_key, meeting_id, recipient, kind, sequence, payload, status, "
        "attempts, next_attempt_at, created_at, sent_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {queue, m.meetingId, m.recipient, m.kind, m.sequence, m.payload, m.status, m.attempts, m.nextAttemptAt,
         m.createdAt, m.sentAt, m.lastError});
    if (!r.ok()) return r.error();
    MailDelivery out = m;
    out.id = r->lastInsertId;
    return out;
  });
}

Result<std::vector<MailDelivery>> SqlStorage::mailHeads(uint32_t limit) {
  const int64_t n = clampLimit(limit);
  return run([&](SqlConnection& c) {
    return mailRows(c.query(
        "SELECT d.id, d.meeting_id, d.recipient, d.kind, d.sequence, d.payload, d.status, d.attempts, "
        "d.next_attempt_at, d.created_at, d.sent_at, d.last_error FROM mail_deliveries d "
        "JOIN (SELECT MIN(id) AS head FROM mail_deliveries WHERE status = 'queued' GROUP BY queue_key) h "
        "ON d.id = h.head ORDER BY d.next_attempt_at, d.id LIMIT ?",
        {n}));
  });
}

Result<void> SqlStorage::rescheduleMail(int64_t id, int64_t attempts, Millis nextAttemptAt,
                                        const std::string& lastError) {
  std::string error = lastError.substr(0, ErrorMax);
  return run([&](SqlConnection& c) -> Result<void> {
    auto r = c.query(
        "UPDATE mail_deliveries SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ? AND status = 'queued'",
        {attempts, nextAttemptAt, error, id});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return notFound("queued mail");
    return {};
  });
}

Result<void> SqlStorage::finishMail(int64_t id, const std::string& status, int64_t attempts, Millis at,
                                    const std::string& lastError) {
  if (status != mailstatus::Sent && status != mailstatus::Failed) {
    return makeError(errc::InvalidField, "status: must be sent or failed");
  }
  const bool sent = status == mailstatus::Sent;
  std::string error = lastError.substr(0, ErrorMax);
  return run([&](SqlConnection& c) -> Result<void> {
    // A sent mail's payload is no longer needed; a failed one keeps it for the operator to inspect.
    auto r = c.query(sent ? "UPDATE mail_deliveries SET status = ?, attempts = ?, sent_at = ?, last_error = ?, "
                            "payload = '' WHERE id = ?"
                          : "UPDATE mail_deliveries SET status = ?, attempts = ?, sent_at = ?, last_error = ? WHERE id = ?",
                     {status, attempts, sent ? at : Millis{0}, error, id});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return notFound("mail");
    return {};
  });
}

Result<int64_t> SqlStorage::countQueuedMail() {
  return run([&](SqlConnection& c) -> Result<int64_t> {
    auto r = c.query("SELECT COUNT(*) FROM mail_deliveries WHERE status = 'queued'", std::span<const SqlValue>{});
    if (!r.ok()) return r.error();
    return r->rows.empty() ? int64_t{0} : r->rows[0].integer(0);
  });
}

Result<std::vector<MailDelivery>> SqlStorage::listMeetingMail(int64_t meetingId) {
  return run([&](SqlConnection& c) {
    return mailRows(c.query(std::string(MailColumns) + "WHERE meeting_id = ? ORDER BY id", {meetingId}));
  });
}

}  // namespace meeting::api::db
