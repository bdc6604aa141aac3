// SqlStorage: room sessions, user sessions, chat messages, recordings, feedback.
#include "api/db/SqlStorage.hpp"

namespace meeting::api::db {

using namespace sqlutil;

namespace {

constexpr const char* RoomSessionColumns =
    "SELECT id, room_id, started_at, ended_at FROM room_sessions ";

Result<RoomSession> oneRoomSession(Result<SqlResult> r) {
  if (!r.ok()) return r.error();
  if (r->rows.empty()) return notFound("room session");
  const SqlRow& row = r->rows[0];
  return RoomSession{row.integer(0), row.text(1), row.integer(2), row.integer(3)};
}

constexpr const char* UserSessionColumns =
    "SELECT id, room_session_id, peer_id, user_id, display_name, joined_at, left_at, leave_reason "
    "FROM user_sessions ";

UserSession userSessionFromRow(const SqlRow& r) {
  UserSession s;
  s.id = r.integer(0);
  s.roomSessionId = r.integer(1);
  s.peerId = r.text(2);
  if (!r.isNull(3)) s.userId = r.integer(3);
  s.displayName = r.text(4);
  s.joinedAt = r.integer(5);
  s.leftAt = r.integer(6);
  s.leaveReason = r.text(7);
  return s;
}

Result<UserSession> oneUserSession(Result<SqlResult> r) {
  if (!r.ok()) return r.error();
  if (r->rows.empty()) return notFound("user session");
  return userSessionFromRow(r->rows[0]);
}

constexpr const char* MessageColumns =
    "SELECT id, room_session_id, room_id, peer_id, display_name, text, sent_at FROM messages ";

Message messageFromRow(const SqlRow& r) {
  return Message{r.integer(0), r.integer(1), r.text(2), r.text(3), r.text(4), r.text(5), r.integer(6)};
}

constexpr const char* RecordingColumns =
    "SELECT id, room_session_id, path, started_at, ended_at, status FROM records ";

Recording recordingFromRow(const SqlRow& r) {
  return Recording{r.integer(0), r.integer(1), r.text(2), r.integer(3), r.integer(4), r.text(5)};
}

constexpr const char* FeedbackColumns =
    "SELECT id, room_session_id, peer_id, rating, comment, created_at FROM feedbacks ";

Feedback feedbackFromRow(const SqlRow& r) {
  return Feedback{r.integer(0), r.integer(1), r.text(2), static_cast<int>(r.integer(3)), r.text(4),
                  r.integer(5)};
}

/// After an UPDATE guarded by "still open" matched nothing: tells a missing row from a closed one.
Error missingOrClosed(SqlConnection& c, const char* table, int64_t id, const std::string& what) {
  auto r = c.query(std::string("SELECT id FROM ") + table + " WHERE id = ?", {id});
  if (!r.ok()) return r.error();
  if (r->rows.empty()) return notFound(what);
  return makeError(errc::Conflict, what + " already closed");
}

}  // namespace

// ---- room sessions ------------------------------------------------------------------------------

Result<RoomSession> SqlStorage::startRoomSession(const std::string& roomId) {
  if (roomId.empty()) return makeError(errc::InvalidField, "room_id: must not be empty");
  if (auto v = checkSizes({{"room_id", roomId, KeyMax}}); !v.ok()) return v.error();
  RoomSession s{0, roomId, now(), 0};
  return run([&](SqlConnection& c) -> Result<RoomSession> {
    // active_room is unique: a second open session for the room fails as a duplicate key.
    auto r = c.query(
        "INSERT INTO room_sessions (room_id, started_at, ended_at, active_room) VALUES (?, ?, 0, ?)",
        {s.roomId, s.startedAt, s.roomId});
    if (!r.ok()) {
      if (r.error().code == errc::Conflict) {
        return makeError(errc::Conflict, "room " + roomId + " already has an open session");
      }
      return r.error();
    }
    RoomSession out = s;
    out.id = r->lastInsertId;
    return out;
  });
}

Result<RoomSession> SqlStorage::endRoomSession(int64_t id) {
  const Millis at = now();
  return transact([&](SqlConnection& c) -> Result<RoomSession> {
    auto r = c.query(
        "UPDATE room_sessions SET ended_at = ?, active_room = NULL WHERE id = ? AND ended_at = 0",
        {at, id});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return missingOrClosed(c, "room_sessions", id, "room session");
    auto users = c.query(
        "UPDATE user_sessions SET left_at = ?, leave_reason = 'session_ended' "
        "WHERE room_session_id = ? AND left_at = 0",
        {at, id});
    if (!users.ok()) return users.error();
    return oneRoomSession(c.query(std::string(RoomSessionColumns) + "WHERE id = ?", {id}));
  });
}

Result<RoomSession> SqlStorage::currentRoomSession(const std::string& roomId) {
  return run([&](SqlConnection& c) {
    return oneRoomSession(c.query(std::string(RoomSessionColumns) + "WHERE active_room = ?", {roomId}));
  });
}

Result<RoomSession> SqlStorage::getRoomSession(int64_t id) {
  return run([&](SqlConnection& c) {
    return oneRoomSession(c.query(std::string(RoomSessionColumns) + "WHERE id = ?", {id}));
  });
}

// ---- user sessions ------------------------------------------------------------------------------

Result<UserSession> SqlStorage::joinSession(UserSession session) {
  if (auto v = checkSizes({{"peer_id", session.peerId, KeyMax},
                           {"display_name", session.displayName, TextMax}});
      !v.ok()) {
    return v.error();
  }
  session.joinedAt = now();
  session.leftAt = 0;
  session.leaveReason.clear();
  return transact([&](SqlConnection& c) -> Result<UserSession> {
    auto rs = oneRoomSession(c.query(std::string(RoomSessionColumns) + "WHERE id = ?",
                                     {session.roomSessionId}));
    if (!rs.ok()) return rs.error();
    if (rs->endedAt != 0) return makeError(errc::Conflict, "room session already ended");
    auto r = c.query(
        "INSERT INTO user_sessions (room_session_id, peer_id, user_id, display_name, joined_at, "
        "left_at, leave_reason) VALUES (?, ?, ?, ?, ?, 0, '')",
        {session.roomSessionId, session.peerId, nullable(session.userId), session.displayName,
         session.joinedAt});
    if (!r.ok()) return r.error();
    UserSession out = session;
    out.id = r->lastInsertId;
    return out;
  });
}

Result<UserSession> SqlStorage::leaveSession(int64_t id, const std::string& reason) {
  if (auto v = checkSizes({{"leave_reason", reason, KeyMax}}); !v.ok()) return v.error();
  const Millis at = now();
  return transact([&](SqlConnection& c) -> Result<UserSession> {
    auto r = c.query("UPDATE user_sessions SET left_at = ?, leave_reason = ? WHERE id = ? AND left_at = 0",
                     {at, reason, id});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return missingOrClosed(c, "user_sessions", id, "user session");
    return oneUserSession(c.query(std::string(UserSessionColumns) + "WHERE id = ?", {id}));
  });
}

Result<Page<UserSession>> SqlStorage::listUserSessions(int64_t roomSessionId, const PageQuery& page) {
  auto after = intCursor(page.after);
  if (!after.ok()) return after.error();
  const uint32_t limit = clampLimit(page.limit);
  return run([&](SqlConnection& c) -> Result<Page<UserSession>> {
    auto r = c.query(std::string(UserSessionColumns) +
                         "WHERE room_session_id = ? AND id > ? ORDER BY id LIMIT ?",
                     {roomSessionId, *after, int64_t{limit} + 1});
    if (!r.ok()) return r.error();
    std::vector<UserSession> items;
    for (const auto& row : r->rows) items.push_back(userSessionFromRow(row));
    return makePage(std::move(items), limit, [](const UserSession& s) { return std::to_string(s.id); });
  });
}

// ---- messages -----------------------------------------------------------------------------------

Result<Message> SqlStorage::appendMessage(Message message) {
  if (auto v = checkSizes({{"peer_id", message.peerId, KeyMax},
                           {"display_name", message.displayName, TextMax},
                           {"text", message.text, TextMax}});
      !v.ok()) {
    return v.error();
  }
  if (message.sentAt == 0) message.sentAt = now();
  return run([&](SqlConnection& c) -> Result<Message> {
    // The room id is copied from the room session, so the two can never disagree; no row is
    // inserted when the session does not exist.
    auto r = c.query(
        "INSERT INTO messages (room_session_id, room_id, peer_id, display_name, text, sent_at) "
        "SELECT id, room_id, ?, ?, ?, ? FROM room_sessions WHERE id = ?",
        {message.peerId, message.displayName, message.text, message.sentAt, message.roomSessionId});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return notFound("room session");
    auto row = c.query(std::string(MessageColumns) + "WHERE id = ?", {r->lastInsertId});
    if (!row.ok()) return row.error();
    if (row->rows.empty()) return notFound("message");
    return messageFromRow(row->rows[0]);
  });
}

Result<Page<Message>> SqlStorage::listMessages(int64_t roomSessionId, const PageQuery& page) {
  auto after = intCursor(page.after);
  if (!after.ok()) return after.error();
  const uint32_t limit = clampLimit(page.limit);
  return run([&](SqlConnection& c) -> Result<Page<Message>> {
    auto r = c.query(std::string(MessageColumns) +
                         "WHERE room_session_id = ? AND id > ? ORDER BY id LIMIT ?",
                     {roomSessionId, *after, int64_t{limit} + 1});
    if (!r.ok()) return r.error();
    std::vector<Message> items;
    for (const auto& row : r->rows) items.push_back(messageFromRow(row));
    return makePage(std::move(items), limit, [](const Message& m) { return std::to_string(m.id); });
  });
}

Result<std::vector<Message>> SqlStorage::listRecentMessages(int64_t roomSessionId, uint32_t limit) {
  const uint32_t n = clampLimit(limit);
  return run([&](SqlConnection& c) -> Result<std::vector<Message>> {
    auto r = c.query(std::string(MessageColumns) + "WHERE room_session_id = ? ORDER BY id DESC LIMIT ?",
                     {roomSessionId, int64_t{n}});
    if (!r.ok()) return r.error();
    std::vector<Message> items;
    items.reserve(r->rows.size());
    for (auto it = r->rows.rbegin(); it != r->rows.rend(); ++it) items.push_back(messageFromRow(*it));
    return items;
  });
}

// ---- recordings ---------------------------------------------------------------------------------

Result<Recording> SqlStorage::startRecording(int64_t roomSessionId, const std::string& path) {
  if (auto v = checkSizes({{"path", path, TextMax}}); !v.ok()) return v.error();
  Recording rec{0, roomSessionId, path, now(), 0, "recording"};
  return run([&](SqlConnection& c) -> Result<Recording> {
    auto r = c.query(
        "INSERT INTO records (room_session_id, path, started_at, ended_at, status) VALUES (?, ?, ?, 0, ?)",
        {rec.roomSessionId, rec.path, rec.startedAt, rec.status});
    if (!r.ok()) return r.error();
    Recording out = rec;
    out.id = r->lastInsertId;
    return out;
  });
}

Result<Recording> SqlStorage::finishRecording(int64_t id, const std::string& status) {
  if (status.empty()) return makeError(errc::InvalidField, "status: must not be empty");
  if (auto v = checkSizes({{"status", status, KeyMax}}); !v.ok()) return v.error();
  const Millis at = now();
  return transact([&](SqlConnection& c) -> Result<Recording> {
    auto r = c.query("UPDATE records SET ended_at = ?, status = ? WHERE id = ?", {at, status, id});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return notFound("recording");
    auto row = c.query(std::string(RecordingColumns) + "WHERE id = ?", {id});
    if (!row.ok()) return row.error();
    if (row->rows.empty()) return notFound("recording");
    return recordingFromRow(row->rows[0]);
  });
}

Result<std::vector<Recording>> SqlStorage::listRecordings(int64_t roomSessionId) {
  return run([&](SqlConnection& c) -> Result<std::vector<Recording>> {
    auto r = c.query(std::string(RecordingColumns) + "WHERE room_session_id = ? ORDER BY id",
                     {roomSessionId});
    if (!r.ok()) return r.error();
    std::vector<Recording> out;
    for (const auto& row : r->rows) out.push_back(recordingFromRow(row));
    return out;
  });
}

// ---- feedback -----------------------------------------------------------------------------------

Result<Feedback> SqlStorage::addFeedback(Feedback feedback) {
  if (feedback.rating < 1 || feedback.rating > 5) {
    return makeError(errc::InvalidField, "rating: must be between 1 and 5");
  }
  if (auto v = checkSizes({{"peer_id", feedback.peerId, KeyMax}, {"comment", feedback.comment, TextMax}});
      !v.ok()) {
    return v.error();
  }
  feedback.createdAt = now();
  return run([&](SqlConnection& c) -> Result<Feedback> {
    auto r = c.query(
        "INSERT INTO feedbacks (room_session_id, peer_id, rating, comment, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        {feedback.roomSessionId, feedback.peerId, int64_t{feedback.rating}, feedback.comment,
         feedback.createdAt});
    if (!r.ok()) return r.error();
    Feedback out = feedback;
    out.id = r->lastInsertId;
    return out;
  });
}

Result<Page<Feedback>> SqlStorage::listFeedback(int64_t roomSessionId, const PageQuery& page) {
  auto after = intCursor(page.after);
  if (!after.ok()) return after.error();
  const uint32_t limit = clampLimit(page.limit);
  return run([&](SqlConnection& c) -> Result<Page<Feedback>> {
    auto r = c.query(std::string(FeedbackColumns) +
                         "WHERE room_session_id = ? AND id > ? ORDER BY id LIMIT ?",
                     {roomSessionId, *after, int64_t{limit} + 1});
    if (!r.ok()) return r.error();
    std::vector<Feedback> items;
    for (const auto& row : r->rows) items.push_back(feedbackFromRow(row));
    return makePage(std::move(items), limit, [](const Feedback& f) { return std::to_string(f.id); });
  });
}

}  // namespace meeting::api::db
