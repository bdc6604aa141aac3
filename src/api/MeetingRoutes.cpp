// Meetings (seed 001: instant or scheduled, owner, invitees, join link) and the history of room
// sessions: participants (user sessions), chat, feedback.
#include <algorithm>
#include <map>

#include "api/ApiJson.hpp"
#include "api/RestApi.hpp"
#include "api/auth/AccountJson.hpp"
#include "api/mail/MimeMessage.hpp"

namespace meeting::api {

using nlohmann::json;

namespace {

constexpr int64_t MaxUnixSeconds = 253'402'300'799;  // 9999-12-31T23:59:59Z

std::optional<int64_t> sessionId(const ApiRequest& r, net::HttpResponse& error) {
  auto id = parsePositiveId(r.params.at("session_id"));
  if (!id) error = fieldError("session_id", "must be a positive integer");
  return id;
}

// Titles become mail subjects and calendar summaries: no control characters (no header injection,
// no forged lines), refused rather than silently changed.
bool validTitle(const std::string& title) {
  return std::none_of(title.begin(), title.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// Invitees receive mail: each must be an address SMTP and the mail headers can carry safely.
std::optional<net::HttpResponse> checkInvitees(const std::vector<std::string>& invitees) {
  for (size_t i = 0; i < invitees.size(); ++i) {
    if (!isValidEmail(invitees[i])) return fieldError("invitees[" + std::to_string(i) + "]", "not an e-mail address");
    if (!mail::isMailAddress(invitees[i])) {
      return fieldError("invitees[" + std::to_string(i) + "]", "not a deliverable address (ASCII local@domain.tld)");
    }
  }
  return std::nullopt;
}

// The latest mail row per recipient, in the order recipients first appear.
json invitationsJson(const std::vector<db::MailDelivery>& rows) {
  std::vector<const db::MailDelivery*> latest;
  std::map<std::string, size_t> index;
  for (const auto& r : rows) {
    auto [it, added] = index.emplace(r.recipient, latest.size());
    if (added) {
      latest.push_back(&r);
    } else {
      latest[it->second] = &r;  // rows come oldest first
    }
  }
  json out = json::array();
  for (const auto* r : latest) {
    out.push_back({{"email", r->recipient},
                   {"kind", r->kind},
                   {"status", r->status},
                   {"attempts", r->attempts},
                   {"last_error", r->lastError.empty() ? json(nullptr) : json(r->lastError)},
                   {"sent_at", r->sentAt == 0 ? json(nullptr) : json(r->sentAt)}});
  }
  return out;
}

// A signed-in user sees and changes only own meetings (the owner is the user's e-mail); API keys
// see all. Another user's meeting answers 404, as if it did not exist.
bool visibleTo(const Caller& caller, const db::Meeting& meeting) {
  return !caller.user || auth::lowerEmail(caller.user->email) == meeting.ownerEmail;
}

net::HttpResponse meetingNotFound() { return errorResponse(http::status::not_found, "not_found", "meeting not found"); }

}  // namespace

json RestApi::meetingWithInvitations(const db::Meeting& meeting) {
  json out = meetingJson(meeting, joinUrl(meeting.joinCode));
  auto rows = deps_.storage.listMeetingMail(meeting.id);
  // The meeting itself was read; a failed status read shows as null rather than failing the call.
  out["invitations"] = rows ? invitationsJson(*rows) : json(nullptr);
  return out;
}

net::HttpResponse RestApi::createMeeting(const ApiRequest& r) {
  net::HttpResponse error;
  auto body = BodyReader::parse(r.body, {"title", "owner_email", "begin_at", "end_at", "invitees", "room", "waiting_room"},
                                error);
  if (!body) return error;
  std::optional<std::string> title, owner;
  std::optional<int64_t> beginAt, endAt;
  std::optional<bool> waitingRoom;
  std::vector<std::string> invitees;
  std::optional<BodyReader> roomBody;
  if (!body->string("title", title, 512) || !body->string("owner_email", owner, 254) ||
      !body->boolean("waiting_room", waitingRoom) ||
      !body->integer("begin_at", beginAt, 0, MaxUnixSeconds) || !body->integer("end_at", endAt, 0, MaxUnixSeconds) ||
      !body->stringList("invitees", invitees, 500, 254) ||
      !body->object("room", roomBody, {"max_peers", "video_codec", "webhook_url", "peerless_purge_timeout",
                                       "peer_disconnected_timeout"})) {
    return body->error();
  }
  if (r.caller.user) {
    // A signed-in user creates meetings for itself only.
    if (owner && auth::lowerEmail(*owner) != auth::lowerEmail(r.caller.user->email)) {
      return errorResponse(http::status::forbidden, "forbidden", "owner_email: must be your own address", "owner_email");
    }
    owner = r.caller.user->email;
  }
  if (!owner) return fieldError("owner_email", "required");
  if (!isValidEmail(*owner)) return fieldError("owner_email", "not an e-mail address");
  if (title && !validTitle(*title)) return fieldError("title", "must not contain control characters");
  if (auto bad = checkInvitees(invitees)) return *bad;
  bool scheduled = beginAt.value_or(0) != 0 || endAt.value_or(0) != 0;
  if (scheduled) {
    if (!beginAt || *beginAt == 0) return fieldError("begin_at", "required for a scheduled meeting (with end_at)");
    if (!endAt || *endAt == 0) return fieldError("end_at", "required for a scheduled meeting (with begin_at)");
    if (*endAt <= *beginAt) {
      return errorResponse(http::status::unprocessable_entity, "invalid_time_range", "end_at: must be after begin_at", "end_at");
    }
  }
  db::Room room;
  if (roomBody) {
    std::optional<std::string> codec, webhook;
    if (!roomBody->integer("max_peers", room.maxPeers, 1, 100'000) || !roomBody->string("video_codec", codec, 16) ||
        !roomBody->string("webhook_url", webhook, 2048) ||
        !roomBody->integer("peerless_purge_timeout", room.peerlessPurgeTimeout, 1, 7 * 24 * 3600) ||
        !roomBody->integer("peer_disconnected_timeout", room.peerDisconnectedTimeout, 1, 7 * 24 * 3600)) {
      return roomBody->error();
    }
    if (codec && *codec != "h264" && *codec != "vp8" && *codec != "vp9" && *codec != "av1") {
      return fieldError("room.video_codec", "must be h264, vp8, vp9 or av1");
    }
    if (webhook && webhook->rfind("http://", 0) != 0 && webhook->rfind("https://", 0) != 0) {
      return fieldError("room.webhook_url", "must be an http:// or https:// URL");
    }
    room.videoCodec = codec.value_or("");
    room.webhookUrl = webhook.value_or("");
  }

  // Seed 001: scheduled meetings send their times, instant ones BeginAt=0&EndAt=0.
  MediaRequest request{*owner, scheduled ? *beginAt : 0, scheduled ? *endAt : 0};
  auto allocation = deps_.allocator.allocateMedia(request);
  if (!allocation) return errorResponse(http::status::service_unavailable, "unavailable", allocation.error().message);

  room.sfuNode = allocation->sfu;
  auto createdRoom = deps_.storage.createRoom(room);
  if (!createdRoom) return storageError(createdRoom.error());
  deps_.peers.setRoomTurn(createdRoom->id, allocation->turn);

  db::Meeting meeting;
  meeting.roomId = createdRoom->id;
  meeting.title = title.value_or("");
  meeting.ownerEmail = *owner;
  meeting.beginAt = scheduled ? *beginAt * 1000 : 0;
  meeting.endAt = scheduled ? *endAt * 1000 : 0;
  meeting.invitees = invitees;
  meeting.sfu = allocation->sfu;
  meeting.turn = allocation->turn;
  meeting.waitingRoom = waitingRoom.value_or(false);
  auto created = deps_.storage.createMeeting(meeting);
  if (!created) {
    (void)deps_.storage.deleteRoom(createdRoom->id);
    return storageError(created.error());
  }
  if (invitations_) invitations_->meetingCreated(*created, joinUrl(created->joinCode));
  return jsonOk(http::status::created, {{"meeting", meetingWithInvitations(*created)}});
}

net::HttpResponse RestApi::listMeetings(const ApiRequest& r) {
  std::string owner = r.queryValue("owner_email");
  if (r.caller.user) {
    if (!owner.empty() && auth::lowerEmail(owner) != auth::lowerEmail(r.caller.user->email)) {
      return errorResponse(http::status::forbidden, "forbidden", "owner_email: you see your own meetings only", "owner_email");
    }
    owner = r.caller.user->email;
  }
  if (owner.empty()) return fieldError("owner_email", "required (query parameter)");
  if (!isValidEmail(owner)) return fieldError("owner_email", "not an e-mail address");
  db::PageQuery page;
  net::HttpResponse error;
  if (!readPage(r, page, error)) return error;
  auto meetings = deps_.storage.listMeetingsByOwner(owner, page);
  if (!meetings) return storageError(meetings.error());
  json items = json::array();
  for (const auto& m : meetings->items) items.push_back(meetingJson(m, joinUrl(m.joinCode)));
  return jsonOk(http::status::ok,
                {{"meetings", items}, {"next", meetings->next.empty() ? json(nullptr) : json(meetings->next)}});
}

net::HttpResponse RestApi::getMeeting(const ApiRequest& r) {
  auto id = parsePositiveId(r.params.at("meeting_id"));
  if (!id) return fieldError("meeting_id", "must be a positive integer");
  auto meeting = deps_.storage.getMeeting(*id);
  if (!meeting) return storageError(meeting.error());
  if (!visibleTo(r.caller, *meeting)) return meetingNotFound();
  return jsonOk(http::status::ok, {{"meeting", meetingWithInvitations(*meeting)}});
}

net::HttpResponse RestApi::deleteMeeting(const ApiRequest& r) {
  auto id = parsePositiveId(r.params.at("meeting_id"));
  if (!id) return fieldError("meeting_id", "must be a positive integer");
  auto meeting = deps_.storage.getMeeting(*id);
  if (!meeting) return storageError(meeting.error());
  if (!visibleTo(r.caller, *meeting)) return meetingNotFound();
  if (auto deleted = deps_.storage.deleteMeeting(*id); !deleted) return storageError(deleted.error());
  if (invitations_) invitations_->meetingDeleted(*meeting, joinUrl(meeting->joinCode));
  // The meeting owns its room: close it too (everyone is disconnected).
  ApiRequest roomRequest;
  roomRequest.params["room_id"] = meeting->roomId;
  auto roomDeleted = deleteRoom(roomRequest);
  if (roomDeleted.result() != http::status::no_content && roomDeleted.result() != http::status::not_found) {
    return roomDeleted;
  }
  return net::HttpResponse{http::status::no_content, 11};
}

net::HttpResponse RestApi::updateMeeting(const ApiRequest& r) {
  auto id = parsePositiveId(r.params.at("meeting_id"));
  if (!id) return fieldError("meeting_id", "must be a positive integer");
  net::HttpResponse error;
  auto body = BodyReader::parse(r.body, {"title", "begin_at", "end_at", "invitees", "waiting_room"}, error);
  if (!body) return error;
  std::optional<bool> waitingRoom;
  std::optional<std::string> title;
  std::optional<int64_t> beginAt, endAt;
  std::vector<std::string> invitees;
  json inviteesGiven;  // stays null when the field is absent (then the list is kept)
  if (!body->string("title", title, 512) || !body->integer("begin_at", beginAt, 1, MaxUnixSeconds) ||
      !body->integer("end_at", endAt, 1, MaxUnixSeconds) || !body->stringList("invitees", invitees, 500, 254) ||
      !body->value("invitees", inviteesGiven, 256 * 1024) || !body->boolean("waiting_room", waitingRoom)) {
    return body->error();
  }
  if (title && !validTitle(*title)) return fieldError("title", "must not contain control characters");
  if (auto bad = checkInvitees(invitees)) return *bad;
  const bool newInvitees = !inviteesGiven.is_null();
  auto before = deps_.storage.getMeeting(*id);
  if (!before) return storageError(before.error());
  if (!visibleTo(r.caller, *before)) return meetingNotFound();
  db::Meeting after = *before;
  const bool scheduled = before->beginAt != 0 || before->endAt != 0;
  if ((beginAt || endAt) && !scheduled) {
    return errorResponse(http::status::unprocessable_entity, "instant_meeting", "an instant meeting has no begin_at/end_at",
                         beginAt ? "begin_at" : "end_at");
  }
  if (title) after.title = *title;
  if (beginAt) after.beginAt = *beginAt * 1000;
  if (endAt) after.endAt = *endAt * 1000;
  if (newInvitees) after.invitees = invitees;
  if (waitingRoom) after.waitingRoom = *waitingRoom;
  if (scheduled && after.endAt <= after.beginAt) {
    return errorResponse(http::status::unprocessable_entity, "invalid_time_range", "end_at: must be after begin_at", "end_at");
  }
  // Storage bumps `sequence` (the iCalendar SEQUENCE) on every update.
  auto updated = deps_.storage.updateMeeting(after);
  if (!updated) return storageError(updated.error());
  if (invitations_) invitations_->meetingUpdated(*before, *updated, joinUrl(updated->joinCode));
  return jsonOk(http::status::ok, {{"meeting", meetingWithInvitations(*updated)}});
}

net::HttpResponse RestApi::getSession(const ApiRequest& r) {
  net::HttpResponse error;
  auto id = sessionId(r, error);
  if (!id) return error;
  auto session = deps_.storage.getRoomSession(*id);
  if (!session) return storageError(session.error());
  return jsonOk(http::status::ok, {{"session", roomSessionJson(*session)}});
}

net::HttpResponse RestApi::listSessionUsers(const ApiRequest& r) {
  net::HttpResponse error;
  auto id = sessionId(r, error);
  db::PageQuery page;
  if (!id || !readPage(r, page, error)) return error;
  if (auto session = deps_.storage.getRoomSession(*id); !session) return storageError(session.error());
  auto users = deps_.storage.listUserSessions(*id, page);
  if (!users) return storageError(users.error());
  json items = json::array();
  for (const auto& u : users->items) items.push_back(userSessionJson(u));
  return jsonOk(http::status::ok, {{"users", items}, {"next", users->next.empty() ? json(nullptr) : json(users->next)}});
}

net::HttpResponse RestApi::listSessionMessages(const ApiRequest& r) {
  net::HttpResponse error;
  auto id = sessionId(r, error);
  db::PageQuery page;
  if (!id || !readPage(r, page, error)) return error;
  if (auto session = deps_.storage.getRoomSession(*id); !session) return storageError(session.error());
  auto messages = deps_.storage.listMessages(*id, page);
  if (!messages) return storageError(messages.error());
  json items = json::array();
  for (const auto& m : messages->items) items.push_back(messageJson(m));
  return jsonOk(http::status::ok,
                {{"messages", items}, {"next", messages->next.empty() ? json(nullptr) : json(messages->next)}});
}

net::HttpResponse RestApi::listFeedback(const ApiRequest& r) {
  net::HttpResponse error;
  auto id = sessionId(r, error);
  db::PageQuery page;
  if (!id || !readPage(r, page, error)) return error;
  if (auto session = deps_.storage.getRoomSession(*id); !session) return storageError(session.error());
  auto feedback = deps_.storage.listFeedback(*id, page);
  if (!feedback) return storageError(feedback.error());
  json items = json::array();
  for (const auto& f : feedback->items) items.push_back(feedbackJson(f));
  return jsonOk(http::status::ok,
                {{"feedback", items}, {"next", feedback->next.empty() ? json(nullptr) : json(feedback->next)}});
}

net::HttpResponse RestApi::addFeedback(const ApiRequest& r) {
  net::HttpResponse error;
  auto id = sessionId(r, error);
  if (!id) return error;
  auto body = BodyReader::parse(r.body, {"peer_id", "rating", "comment"}, error);
  if (!body) return error;
  std::optional<std::string> peer, comment;
  std::optional<int64_t> rating;
  if (!body->string("peer_id", peer, 128) || !body->integer("rating", rating, 1, 5) ||
      !body->string("comment", comment, 4096)) {
    return body->error();
  }
  if (!rating) return fieldError("rating", "required (1 to 5)");
  if (peer && !isValidId(*peer)) return fieldError("peer_id", "not a valid id");
  if (auto session = deps_.storage.getRoomSession(*id); !session) return storageError(session.error());
  db::Feedback feedback;
  feedback.roomSessionId = *id;
  feedback.peerId = peer.value_or("");
  feedback.rating = static_cast<int>(*rating);
  feedback.comment = comment.value_or("");
  auto added = deps_.storage.addFeedback(feedback);
  if (!added) return storageError(added.error());
  return jsonOk(http::status::created, {{"feedback", feedbackJson(*added)}});
}

}  // namespace meeting::api
