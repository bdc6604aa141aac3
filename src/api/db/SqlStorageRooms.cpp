// SqlStorage: rooms and meetings.
#include <nlohmann/json.hpp>

#include "api/db/Secrets.hpp"
#include "api/db/SqlStorage.hpp"

namespace meeting::api::db {

using namespace sqlutil;

namespace {

constexpr const char* RoomColumns =
    "SELECT id, domain, max_peers, video_codec, webhook_url, peerless_purge_timeout, "
    "peer_disconnected_timeout, sfu_node, created_at FROM rooms ";

std::optional<int64_t> optInt(const SqlRow& r, size_t i) {
  if (r.isNull(i)) return std::nullopt;
  return r.integer(i);
}

Room roomFromRow(const SqlRow& r) {
  Room room;
  room.id = r.text(0);
  room.domain = r.text(1);
  room.maxPeers = optInt(r, 2);
  room.videoCodec = r.text(3);
  room.webhookUrl = r.text(4);
  room.peerlessPurgeTimeout = optInt(r, 5);
  room.peerDisconnectedTimeout = optInt(r, 6);
  room.sfuNode = r.text(7);
  room.createdAt = r.integer(8);
  return room;
}

constexpr const char* MeetingColumns =
    "SELECT id, room_id, title, owner_email, begin_at, end_at, invitees, join_code, sfu, turn, "
    "created_at, updated_at, sequence, waiting_room FROM meetings ";

std::string encodeInvitees(const std::vector<std::string>& invitees) {
  // Invalid UTF-8 is replaced rather than thrown on: storage never throws across the interface.
  return nlohmann::json(invitees).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> decodeInvitees(const std::string& text) {
  std::vector<std::string> out;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

Meeting meetingFromRow(const SqlRow& r) {
  Meeting m;
  m.id = r.integer(0);
  m.roomId = r.text(1);
  m.title = r.text(2);
  m.ownerEmail = r.text(3);
  m.beginAt = r.integer(4);
  m.endAt = r.integer(5);
  m.invitees = decodeInvitees(r.text(6));
  m.joinCode = r.text(7);
  m.sfu = r.text(8);
  m.turn = r.text(9);
  m.createdAt = r.integer(10);
  m.updatedAt = r.integer(11);
  m.sequence = r.integer(12);
  m.waitingRoom = r.integer(13) != 0;
  return m;
}

Result<void> checkMeetingSizes(const Meeting& m, const std::string& invitees) {
  return checkSizes({{"room_id", m.roomId, KeyMax},
                     {"title", m.title, TextMax},
                     {"owner_email", m.ownerEmail, KeyMax},
                     {"invitees", invitees, TextMax},
                     {"join_code", m.joinCode, KeyMax},
                     {"sfu", m.sfu, KeyMax},
                     {"turn", m.turn, KeyMax}});
}

Result<Meeting> oneMeeting(Result<SqlResult> r) {
  if (!r.ok()) return r.error();
  if (r->rows.empty()) return notFound("meeting");
  return meetingFromRow(r->rows[0]);
}

}  // namespace

// ---- rooms --------------------------------------------------------------------------------------

Result<Room> SqlStorage::createRoom(Room room) {
  if (room.id.empty()) room.id = secrets::uuid4();
  if (auto v = checkSizes({{"room_id", room.id, KeyMax},
                           {"domain", room.domain, KeyMax},
                           {"video_codec", room.videoCodec, KeyMax},
                           {"webhook_url", room.webhookUrl, TextMax},
                           {"sfu_node", room.sfuNode, KeyMax}});
      !v.ok()) {
    return v.error();
  }
  room.createdAt = now();
  return run([&](SqlConnection& c) -> Result<Room> {
    auto r = c.query(
        "INSERT INTO rooms (id, domain, max_peers, video_codec, webhook_url, peerless_purge_timeout, "
        "peer_disconnected_timeout, sfu_node, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {room.id, room.domain, nullable(room.maxPeers), room.videoCodec, room.webhookUrl,
         nullable(room.peerlessPurgeTimeout), nullable(room.peerDisconnectedTimeout), room.sfuNode,
         room.createdAt});
    if (!r.ok()) return r.error();
    return room;
  });
}

Result<Room> SqlStorage::getRoom(const std::string& id) {
  return run([&](SqlConnection& c) -> Result<Room> {
    auto r = c.query(std::string(RoomColumns) + "WHERE id = ?", {id});
    if (!r.ok()) return r.error();
    if (r->rows.empty()) return notFound("room");
    return roomFromRow(r->rows[0]);
  });
}

Result<Page<Room>> SqlStorage::listRooms(const PageQuery& page) {
  const uint32_t limit = clampLimit(page.limit);
  return run([&](SqlConnection& c) -> Result<Page<Room>> {
    auto r = c.query(std::string(RoomColumns) + "WHERE id > ? ORDER BY id LIMIT ?",
                     {page.after, int64_t{limit} + 1});
    if (!r.ok()) return r.error();
    std::vector<Room> items;
    for (const auto& row : r->rows) items.push_back(roomFromRow(row));
    return makePage(std::move(items), limit, [](const Room& x) { return x.id; });
  });
}

Result<void> SqlStorage::assignRoomNode(const std::string& id, const std::string& sfuNode) {
  if (auto v = checkSizes({{"sfu_node", sfuNode, KeyMax}}); !v.ok()) return v.error();
  return run([&](SqlConnection& c) -> Result<void> {
    auto r = c.query("UPDATE rooms SET sfu_node = ? WHERE id = ?", {sfuNode, id});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return notFound("room");
    return {};
  });
}

Result<void> SqlStorage::deleteRoom(const std::string& id) {
  const Millis at = now();
  return transact([&](SqlConnection& c) -> Result<void> {
    auto r = c.query("DELETE FROM rooms WHERE id = ?", {id});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return notFound("room");
    // History stays: close what was open, keep the rows (they hold the room id as text).
    auto users = c.query(
        "UPDATE user_sessions SET left_at = ?, leave_reason = 'room_deleted' WHERE left_at = 0 AND "
        "room_session_id IN (SELECT id FROM room_sessions WHERE active_room = ?)",
        {at, id});
    if (!users.ok()) return users.error();
    auto rs = c.query("UPDATE room_sessions SET ended_at = ?, active_room = NULL WHERE active_room = ?",
                      {at, id});
    if (!rs.ok()) return rs.error();
    return {};
  });
}

// ---- meetings -----------------------------------------------------------------------------------

Result<Meeting> SqlStorage::createMeeting(Meeting meeting) {
  // Join codes are the only secret of a meeting link: 10 characters of [a-z0-9] (~51 bits),
  // grouped xxx-xxxx-xxx so people can read them out.
  static constexpr std::string_view CodeAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bool generated = meeting.joinCode.empty();
  meeting.ownerEmail = lowerAscii(std::move(meeting.ownerEmail));
  meeting.createdAt = meeting.updatedAt = now();
  meeting.sequence = 0;
  const std::string invitees = encodeInvitees(meeting.invitees);
  if (auto v = checkMeetingSizes(meeting, invitees); !v.ok()) return v.error();
  // A generated code can collide with an existing one; draw again a few times before giving up.
  for (int attempt = 0;; ++attempt) {
    if (generated) {
      std::string raw = secrets::randomString(10, CodeAlphabet);
      meeting.joinCode = raw.substr(0, 3) + "-" + raw.substr(3, 4) + "-" + raw.substr(7);
    }
    auto created = run([&](SqlConnection& c) -> Result<Meeting> {
      auto r = c.query(
          "INSERT INTO meetings (room_id, title, owner_email, begin_at, end_at, invitees, join_code, "
          "sfu, turn, created_at, updated_at, sequence, waiting_room) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
          {meeting.roomId, meeting.title, meeting.ownerEmail, meeting.beginAt, meeting.endAt,
           invitees, meeting.joinCode, meeting.sfu, meeting.turn, meeting.createdAt,
           meeting.updatedAt, int64_t{meeting.waitingRoom ? 1 : 0}});
      if (!r.ok()) return r.error();
      Meeting out = meeting;
      out.id = r->lastInsertId;
      return out;
    });
    if (created.ok() || !generated || created.error().code != errc::Conflict || attempt == 3) {
      return created;
    }
  }
}

Result<Meeting> SqlStorage::getMeeting(int64_t id) {
  return run([&](SqlConnection& c) {
    return oneMeeting(c.query(std::string(MeetingColumns) + "WHERE id = ?", {id}));
  });
}

Result<Meeting> SqlStorage::findMeetingByJoinCode(const std::string& joinCode) {
  return run([&](SqlConnection& c) {
    return oneMeeting(c.query(std::string(MeetingColumns) + "WHERE join_code = ?", {joinCode}));
  });
}

Result<Page<Meeting>> SqlStorage::listMeetingsByOwner(const std::string& ownerEmail,
                                                      const PageQuery& page) {
  auto after = intCursor(page.after);
  if (!after.ok()) return after.error();
  const uint32_t limit = clampLimit(page.limit);
  const std::string owner = lowerAscii(ownerEmail);
  return run([&](SqlConnection& c) -> Result<Page<Meeting>> {
    auto r = c.query(std::string(MeetingColumns) + "WHERE owner_email = ? AND id > ? ORDER BY id LIMIT ?",
                     {owner, *after, int64_t{limit} + 1});
    if (!r.ok()) return r.error();
    std::vector<Meeting> items;
    for (const auto& row : r->rows) items.push_back(meetingFromRow(row));
    return makePage(std::move(items), limit, [](const Meeting& m) { return std::to_string(m.id); });
  });
}

Result<Meeting> SqlStorage::updateMeeting(const Meeting& meeting) {
  if (meeting.joinCode.empty()) return makeError(errc::InvalidField, "join_code: must not be empty");
  const Millis at = now();
  const std::string invitees = encodeInvitees(meeting.invitees);
  if (auto v = checkMeetingSizes(meeting, invitees); !v.ok()) return v.error();
  return transact([&](SqlConnection& c) -> Result<Meeting> {
    auto r = c.query(
        "UPDATE meetings SET room_id = ?, title = ?, begin_at = ?, end_at = ?, invitees = ?, "
        "join_code = ?, sfu = ?, turn = ?, updated_at = ?, sequence = sequence + 1, waiting_room = ? WHERE id = ?",
        {meeting.roomId, meeting.title, meeting.beginAt, meeting.endAt, invitees, meeting.joinCode,
         meeting.sfu, meeting.turn, at, int64_t{meeting.waitingRoom ? 1 : 0}, meeting.id});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return notFound("meeting");
    return oneMeeting(c.query(std::string(MeetingColumns) + "WHERE id = ?", {meeting.id}));
  });
}

Result<void> SqlStorage::deleteMeeting(int64_t id) {
  return run([&](SqlConnection& c) -> Result<void> {
    auto r = c.query("DELETE FROM meetings WHERE id = ?", {id});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return notFound("meeting");
    return {};
  });
}

}  // namespace meeting::api::db
