// Meetings (seed 001: instant or scheduled, owner, invitees, join link) and the history of room
// sessions: participants (user sessions), chat, feedback.
#include "api/ApiJson.hpp"
#include "api/RestApi.hpp"

namespace meeting::api {

using nlohmann::json;

namespace {

constexpr int64_t MaxUnixSeconds = 253'402'300'799;  // 9999-12-31T23:59:59Z

std::optional<int64_t> sessionId(const ApiRequest& r, net::HttpResponse& error) {
  auto id = parsePositiveId(r.params.at("session_id"));
  if (!id) error = fieldError("session_id", "must be a positive integer");
  return id;
}

}  // namespace

net::HttpResponse RestApi::createMeeting(const ApiRequest& r) {
  net::HttpResponse error;
  auto body = BodyReader::parse(r.body, {"title", "owner_email", "begin_at", "end_at", "invitees", "room"}, error);
  if (!body) return error;
  std::optional<std::string> title, owner;
  std::optional<int64_t> beginAt, endAt;
  std::vector<std::string> invitees;
  std::optional<BodyReader> roomBody;
  if (!body->string("title", title, 512) || !body->string("owner_email", owner, 254) ||
      !body->integer("begin_at", beginAt, 0, MaxUnixSeconds) || !body->integer("end_at", endAt, 0, MaxUnixSeconds) ||
      !body->stringList("invitees", invitees, 500, 254) ||
      !body->object("room", roomBody, {"max_peers", "video_codec", "webhook_url", "peerless_purge_timeout",
                                       "peer_disconnected_timeout"})) {
    return body->error();
  }
  if (!owner) return fieldError("owner_email", "required");
  if (!isValidEmail(*owner)) return fieldError("owner_email", "not an e-mail address");
  for (size_t i = 0; i < invitees.size(); ++i) {
    if (!isValidEmail(invitees[i])) return fieldError("invitees[" + std::to_string(i) + "]", "not an e-mail address");
  }
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
  auto created = deps_.storage.createMeeting(meeting);
  if (!created) {
    (void)deps_.storage.deleteRoom(createdRoom->id);
    return storageError(created.error());
  }
  return jsonOk(http::status::created, {{"meeting", meetingJson(*created, joinUrl(created->joinCode))}});
}

net::HttpResponse RestApi::listMeetings(const ApiRequest& r) {
  std::string owner = r.queryValue("owner_email");
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
  return jsonOk(http::status::ok, {{"meeting", meetingJson(*meeting, joinUrl(meeting->joinCode))}});
}

net::HttpResponse RestApi::deleteMeeting(const ApiRequest& r) {
  auto id = parsePositiveId(r.params.at("meeting_id"));
  if (!id) return fieldError("meeting_id", "must be a positive integer");
  auto meeting = deps_.storage.getMeeting(*id);
  if (!meeting) return storageError(meeting.error());
  if (auto deleted = deps_.storage.deleteMeeting(*id); !deleted) return storageError(deleted.error());
  // The meeting owns its room: close it too (everyone is disconnected).
  ApiRequest roomRequest;
  roomRequest.params["room_id"] = meeting->roomId;
  auto roomDeleted = deleteRoom(roomRequest);
  if (roomDeleted.result() != http::status::no_content && roomDeleted.result() != http::status::not_found) {
    return roomDeleted;
  }
  return net::HttpResponse{http::status::no_content, 11};
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
