// Joining a meeting by its link without an API key: the public meeting card, the join itself
// (host, signed-in user or guest), the waiting room (tickets polled by the guest, decided by the
// host), and the chat history a late joiner loads.
#include "api/ApiJson.hpp"
#include "api/RestApi.hpp"
#include "api/auth/AccountJson.hpp"
#include "api/db/Secrets.hpp"
#include "common/Log.hpp"

namespace meeting::api {

using nlohmann::json;

namespace {

constexpr size_t MaxDisplayNameChars = 64;
constexpr uint32_t DefaultHistory = 100;

net::HttpResponse meetingNotFound() { return errorResponse(http::status::not_found, "not_found", "no meeting with this link"); }

// Join codes are xxx-xxxx-xxx today; older ones were 10 upper-case letters. Anything that is not a
// plausible code is refused before the database is asked.
bool plausibleCode(const std::string& code) { return !code.empty() && code.size() <= 32 && isValidId(code); }

json admittedJson(const json& peerAnswer, const std::string& room, bool host) {
  return {{"status", "admitted"},
          {"identity", peerAnswer["peer"]["id"]},
          {"token", peerAnswer["token"]},
          {"ws_url", peerAnswer["ws_url"]},
          {"ice_servers", peerAnswer["ice_servers"]},
          {"room", room},
          {"host", host}};
}

}  // namespace

net::HttpResponse RestApi::getJoinInfo(const ApiRequest& r) {
  const std::string& code = r.params.at("code");
  if (!plausibleCode(code)) return meetingNotFound();
  auto meeting = deps_.storage.findMeetingByJoinCode(code);
  if (!meeting) return meeting.error().code == db::errc::NotFound ? meetingNotFound() : storageError(meeting.error());
  std::string hostName;
  if (auto owner = deps_.storage.findUserByEmail(meeting->ownerEmail)) hostName = owner->displayName;
  // Only what a lobby shows: never the owner's address, invitees or servers.
  return jsonOk(http::status::ok, {{"title", meeting->title},
                                   {"begin_at", meeting->beginAt == 0 ? json(nullptr) : json(meeting->beginAt / 1000)},
                                   {"end_at", meeting->endAt == 0 ? json(nullptr) : json(meeting->endAt / 1000)},
                                   {"waiting_room", meeting->waitingRoom},
                                   {"host_name", hostName}});
}

net::HttpResponse RestApi::joinMeeting(const ApiRequest& r) {
  const std::string& code = r.params.at("code");
  net::HttpResponse error;
  auto body = BodyReader::parse(r.body, {"display_name"}, error);
  if (!body) return error;
  std::optional<std::string> name;
  if (!body->string("display_name", name, 1024)) return body->error();
  if (!name) return fieldError("display_name", "required");
  *name = auth::trimmed(*name);
  long chars = auth::displayChars(*name);
  if (chars < 0) return fieldError("display_name", "must be UTF-8 text without control characters");
  if (chars < 1 || chars > static_cast<long>(MaxDisplayNameChars)) return fieldError("display_name", "1 to 64 characters");
  if (!plausibleCode(code)) return meetingNotFound();
  auto meeting = deps_.storage.findMeetingByJoinCode(code);
  if (!meeting) return meeting.error().code == db::errc::NotFound ? meetingNotFound() : storageError(meeting.error());

  const auto& user = r.caller.user;
  const bool host = user && auth::lowerEmail(user->email) == meeting->ownerEmail;
  const std::string identity = user ? "u" + std::to_string(user->id)
                                    : "g-" + db::secrets::randomString(12, "abcdefghijklmnopqrstuvwxyz0123456789");
  if (meeting->waitingRoom && !host) {
    auto ticket = waitingRoom_.add(meeting->roomId, *name, identity, deps_.clock.wallMicros() / 1000);
    if (!ticket) return errorResponse(http::status::service_unavailable, "busy", "too many people waiting, retry shortly");
    return jsonOk(http::status::accepted, {{"status", "waiting"}, {"ticket", ticket->id}});
  }

  // The meeting's room: made at creation, made again when the meeting was ended for all.
  auto room = deps_.storage.getRoom(meeting->roomId);
  if (!room && room.error().code == db::errc::NotFound) {
    db::Room fresh;
    fresh.id = meeting->roomId;
    room = deps_.storage.createRoom(fresh);
    if (!room && room.error().code == db::errc::Conflict) room = deps_.storage.getRoom(meeting->roomId);
  }
  if (!room) return storageError(room.error());
  // One participation per signed-in user: joining again (another tab, a reload) replaces the old one.
  if (user && deps_.peers.get(room->id, identity)) removePeer(room->id, identity);
  Peer peer;
  peer.id = identity;
  peer.roomId = room->id;
  peer.displayName = *name;
  token::Grants grants;
  grants.roomAdmin = host;
  json answer;
  if (auto refused = admitPeer(*room, std::move(peer), grants, answer)) return *refused;
  return jsonOk(http::status::ok, admittedJson(answer, room->id, host));
}

net::HttpResponse RestApi::pollTicket(const ApiRequest& r) {
  const std::string& code = r.params.at("code");
  const std::string& ticketId = r.params.at("ticket");
  auto notFound = [] { return errorResponse(http::status::not_found, "not_found", "unknown or expired ticket"); };
  if (!plausibleCode(code) || ticketId.empty() || ticketId.size() > 64) return notFound();
  auto ticket = waitingRoom_.poll(ticketId, deps_.clock.wallMicros() / 1000);
  if (!ticket) return notFound();
  auto meeting = deps_.storage.findMeetingByJoinCode(code);
  if (!meeting) return meeting.error().code == db::errc::NotFound ? notFound() : storageError(meeting.error());
  if (meeting->roomId != ticket->room) return notFound();
  if (ticket->state == auth::WaitingRoom::State::Admitted) return jsonOk(http::status::ok, ticket->admission);
  return jsonOk(http::status::ok, {{"status", auth::stateName(ticket->state)}});
}

net::HttpResponse RestApi::listWaiting(const ApiRequest& r) {
  const std::string& roomId = r.params.at("room_id");
  if (!isValidId(roomId)) return fieldError("room_id", "not a valid id");
  if (auto refused = requireRoomAdmin(r.caller, roomId)) return *refused;
  json items = json::array();
  for (const auto& t : waitingRoom_.waiting(roomId, deps_.clock.wallMicros() / 1000)) {
    items.push_back({{"ticket", t.id}, {"display_name", t.displayName}, {"since", t.sinceMs}});
  }
  return jsonOk(http::status::ok, {{"waiting", items}});
}

net::HttpResponse RestApi::decideWaiting(const ApiRequest& r) {
  const std::string& roomId = r.params.at("room_id");
  const std::string& ticketId = r.params.at("ticket");
  if (!isValidId(roomId)) return fieldError("room_id", "not a valid id");
  if (auto refused = requireRoomAdmin(r.caller, roomId)) return *refused;
  net::HttpResponse error;
  auto body = BodyReader::parse(r.body, {"admit"}, error);
  if (!body) return error;
  std::optional<bool> admit;
  if (!body->boolean("admit", admit)) return body->error();
  if (!admit) return fieldError("admit", "required (true or false)");
  auto ticket = waitingRoom_.find(roomId, ticketId, deps_.clock.wallMicros() / 1000);
  if (!ticket) return errorResponse(http::status::not_found, "not_found", "nobody waits with this ticket");
  if (ticket->state != auth::WaitingRoom::State::Waiting) {
    return errorResponse(http::status::conflict, "conflict", "this ticket was decided already");
  }
  json admission;
  if (*admit) {
    auto room = deps_.storage.getRoom(roomId);
    if (!room) return storageError(room.error());
    Peer peer;
    peer.id = ticket->identity;
    peer.roomId = roomId;
    peer.displayName = ticket->displayName;
    json answer;
    if (auto refused = admitPeer(*room, std::move(peer), token::Grants{}, answer)) return *refused;
    admission = admittedJson(answer, roomId, false);
  }
  if (!waitingRoom_.decide(ticketId, *admit, admission)) {
    if (*admit) removePeer(roomId, ticket->identity);  // decided meanwhile by another host
    return errorResponse(http::status::conflict, "conflict", "this ticket was decided already");
  }
  return jsonOk(http::status::ok, {{"ticket", ticketId}, {"status", *admit ? "admitted" : "denied"}});
}

net::HttpResponse RestApi::listRoomMessages(const ApiRequest& r) {
  const std::string& roomId = r.params.at("room_id");
  if (!isValidId(roomId)) return fieldError("room_id", "not a valid id");
  if (!r.caller.apiKey && r.caller.room != roomId) {
    return errorResponse(http::status::forbidden, "forbidden", "this token is for another room");
  }
  uint32_t limit = DefaultHistory;
  if (auto text = r.queryValue("limit"); !text.empty()) {
    auto n = parsePositiveId(text);
    if (!n || *n > db::MaxPageLimit) return fieldError("limit", "must be an integer from 1 to 1000");
    limit = static_cast<uint32_t>(*n);
  }
  json items = json::array();
  auto session = deps_.storage.currentRoomSession(roomId);
  if (!session) {
    // No media session running yet: no history, not an error.
    if (session.error().code == db::errc::NotFound) return jsonOk(http::status::ok, {{"messages", items}});
    return storageError(session.error());
  }
  auto messages = deps_.storage.listRecentMessages(session->id, limit);
  if (!messages) return storageError(messages.error());
  for (const auto& m : *messages) {
    items.push_back({{"from", m.peerId}, {"name", m.displayName}, {"text", m.text}, {"time", m.sentAt}});
  }
  return jsonOk(http::status::ok, {{"messages", items}});
}

}  // namespace meeting::api
