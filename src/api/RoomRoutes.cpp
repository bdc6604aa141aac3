// Rooms and peers (seed 004): create/get/list/delete rooms, add/get/list/delete peers.
#include "api/ApiJson.hpp"
#include "api/RestApi.hpp"
#include "api/db/Secrets.hpp"
#include "api/webhook/WebhookUrlPolicy.hpp"
#include "common/AccessToken.hpp"
#include "common/Log.hpp"

namespace meeting::api {

using nlohmann::json;

namespace {

constexpr int64_t MaxTimeoutSeconds = 7 * 24 * 3600;

bool isHttpUrl(const std::string& url) {
  return (url.rfind("http://", 0) == 0 && url.size() > 7) || (url.rfind("https://", 0) == 0 && url.size() > 8);
}

}  // namespace

net::HttpResponse RestApi::createRoom(const ApiRequest& r) {
  net::HttpResponse error;
  auto body = BodyReader::parse(r.body, {"room_id", "max_peers", "video_codec", "webhook_url", "peerless_purge_timeout",
                                         "peer_disconnected_timeout"}, error);
  if (!body) return error;
  std::optional<std::string> id, codec, webhook;
  db::Room room;
  if (!body->string("room_id", id, 128) || !body->integer("max_peers", room.maxPeers, 1, 100'000) ||
      !body->string("video_codec", codec, 16) || !body->string("webhook_url", webhook, 2048) ||
      !body->integer("peerless_purge_timeout", room.peerlessPurgeTimeout, 1, MaxTimeoutSeconds) ||
      !body->integer("peer_disconnected_timeout", room.peerDisconnectedTimeout, 1, MaxTimeoutSeconds)) {
    return body->error();
  }
  if (id && !isValidId(*id)) return fieldError("room_id", "1 to 128 characters from A-Z a-z 0-9 - _ . ~");
  if (codec && *codec != "h264" && *codec != "vp8" && *codec != "vp9" && *codec != "av1") {
    return fieldError("video_codec", "must be h264, vp8, vp9 or av1");
  }
  if (webhook && !isHttpUrl(*webhook)) return fieldError("webhook_url", "must be an http:// or https:// URL");
  if (webhook && webhooks_) {
    // SSRF: the apiserver would POST to this address from inside the operator's network.
    if (auto allowed = webhook::checkWebhookUrl(*webhook, allowPrivateWebhooks_); !allowed) {
      return fieldError("webhook_url", allowed.error().message);
    }
  }
  room.id = id.value_or("");
  room.videoCodec = codec.value_or("");
  room.webhookUrl = webhook.value_or("");
  auto created = deps_.storage.createRoom(room);
  if (!created) {
    if (created.error().code == db::errc::Conflict) {
      return errorResponse(http::status::conflict, "conflict", "room_id: a room with this id exists", "room_id");
    }
    return storageError(created.error());
  }
  emitWebhook(created->webhookUrl, webhook::event::RoomCreated, created->id);
  return jsonOk(http::status::created,
                {{"room", {{"id", created->id}, {"config", roomConfigJson(*created)}, {"peers", json::array()},
                           {"components", json::array()}, {"created_at", created->createdAt}}}});
}

net::HttpResponse RestApi::listRooms(const ApiRequest& r) {
  db::PageQuery page;
  net::HttpResponse error;
  if (!readPage(r, page, error)) return error;
  auto rooms = deps_.storage.listRooms(page);
  if (!rooms) return storageError(rooms.error());
  json items = json::array();
  for (const auto& room : rooms->items) {
    json peers = json::array();
    for (const auto& p : deps_.peers.list(room.id)) peers.push_back(peerJson(p));
    items.push_back({{"id", room.id}, {"config", roomConfigJson(room)}, {"peers", peers},
                     {"components", json::array()}, {"created_at", room.createdAt}});
  }
  return jsonOk(http::status::ok, {{"rooms", items}, {"next", rooms->next.empty() ? json(nullptr) : json(rooms->next)}});
}

net::HttpResponse RestApi::getRoom(const ApiRequest& r) {
  const std::string& id = r.params.at("room_id");
  if (!isValidId(id)) return fieldError("room_id", "not a valid id");
  auto room = deps_.storage.getRoom(id);
  if (!room) return storageError(room.error());
  json peers = json::array();
  for (const auto& p : deps_.peers.list(id)) peers.push_back(peerJson(p));
  return jsonOk(http::status::ok, {{"room", {{"id", room->id}, {"config", roomConfigJson(*room)}, {"peers", peers},
                                             {"components", json::array()}, {"created_at", room->createdAt}}}});
}

net::HttpResponse RestApi::deleteRoom(const ApiRequest& r) {
  const std::string& id = r.params.at("room_id");
  if (!isValidId(id)) return fieldError("room_id", "not a valid id");
  // A host ends the meeting for everyone with its own room token (roomAdmin).
  if (auto refused = requireRoomAdmin(r.caller, id)) return *refused;
  if (auto removed = removeRoom(id); !removed) return storageError(removed.error());
  return net::HttpResponse{http::status::no_content, 11};
}

Result<void> RestApi::removeRoom(const std::string& id) {
  auto room = deps_.storage.getRoom(id);
  if (!room) return room.error();
  if (auto deleted = deps_.storage.deleteRoom(id); !deleted) return deleted.error();
  // Their tokens stay valid until they expire: refuse them on the file routes from now on.
  for (const auto& peer : deps_.peers.list(id)) {
    deps_.peers.revoke(id, peer.id, nowSeconds(), nowSeconds() + options_.tokenTtl.count());
  }
  deps_.peers.removeRoom(id);
  waitingRoom_.dropRoom(id);
  emitWebhook(room->webhookUrl, webhook::event::RoomDeleted, id);
  // Disconnect everyone: the hosting sfuserver closes the room (docs/control.md delete_room).
  if (auto node = deps_.hub.registry().find(room->sfuNode)) {
    control::Command command;
    command.command = "delete_room";
    command.room = id;
    deps_.hub.sendCommand(node->info.id, command);
  }
  return {};
}

net::HttpResponse RestApi::addPeer(const ApiRequest& r) {
  const std::string& roomId = r.params.at("room_id");
  if (!isValidId(roomId)) return fieldError("room_id", "not a valid id");
  net::HttpResponse error;
  auto body = BodyReader::parse(r.body, {"type", "peer_id", "display_name", "metadata", "options", "grants"}, error);
  if (!body) return error;
  std::optional<std::string> type, peerId, name;
  json metadata;
  std::optional<BodyReader> grantsBody, options;
  if (!body->string("type", type, 32) || !body->string("peer_id", peerId, 128) ||
      !body->string("display_name", name, 255) || !body->value("metadata", metadata, 4096) ||
      !body->object("options", options, {"enable_simulcast"}) ||
      !body->object("grants", grantsBody, {"can_publish", "can_subscribe", "can_publish_data", "room_admin"})) {
    return body->error();
  }
  if (type && *type != "webrtc") return fieldError("type", "must be \"webrtc\"");
  if (peerId && !isValidId(*peerId)) return fieldError("peer_id", "1 to 128 characters from A-Z a-z 0-9 - _ . ~");
  token::Grants grants;
  if (grantsBody) {
    std::optional<bool> pub, sub, data, admin;
    if (!grantsBody->boolean("can_publish", pub) || !grantsBody->boolean("can_subscribe", sub) ||
        !grantsBody->boolean("can_publish_data", data) || !grantsBody->boolean("room_admin", admin)) {
      return grantsBody->error();
    }
    grants.canPublish = pub.value_or(true);
    grants.canSubscribe = sub.value_or(true);
    grants.canPublishData = data.value_or(true);
    grants.roomAdmin = admin.value_or(false);
  }
  if (options) {
    std::optional<bool> simulcast;
    if (!options->boolean("enable_simulcast", simulcast)) return options->error();
  }

  auto room = deps_.storage.getRoom(roomId);
  if (!room) return storageError(room.error());
  Peer peer;
  peer.id = peerId.value_or(db::secrets::uuid4());
  peer.roomId = roomId;
  peer.displayName = name.value_or("");
  peer.metadata = metadata;
  json answer;
  if (auto refused = admitPeer(*room, std::move(peer), grants, answer)) return *refused;
  return jsonOk(http::status::created, answer);
}

std::optional<net::HttpResponse> RestApi::admitPeer(const db::Room& room, Peer peer, const token::Grants& grants,
                                                    json& answer) {
  const std::string& roomId = room.id;
  if (room.maxPeers && deps_.peers.count(roomId) >= static_cast<size_t>(*room.maxPeers)) {
    return errorResponse(http::status::forbidden, "room_full", "the room has reached max_peers");
  }
  auto placement = placeRoom(room);
  if (!placement) {
    if (placement.error().code == AllocationUnavailable) {
      return errorResponse(http::status::service_unavailable, "unavailable", placement.error().message);
    }
    return storageError(placement.error());
  }
  if (!deps_.peers.add(peer)) {
    return errorResponse(http::status::conflict, "conflict", "peer_id: a peer with this id is in the room", "peer_id");
  }
  deps_.peers.unrevoke(roomId, peer.id);  // added again: as the sfuserver does on add_peer
  token::AccessClaims claims;
  claims.room = roomId;
  claims.identity = peer.id;
  claims.displayName = peer.displayName;
  claims.grants = grants;
  claims.issuedAt = nowSeconds();
  claims.expiresAt = claims.issuedAt + options_.tokenTtl.count();
  auto jwt = token::signAccessToken(claims, options_.secret);
  if (!jwt) {
    deps_.peers.remove(roomId, peer.id);
    MLOG_ERROR("cannot sign a peer token: {}", jwt.error().message);
    return errorResponse(http::status::internal_server_error, "internal", "cannot sign tokens");
  }
  if (!placement->sfuNode.empty()) {
    control::Command command;
    command.command = "add_peer";
    command.room = roomId;
    command.peer = peer.id;
    command.displayName = peer.displayName;
    command.roomConfig = roomConfigJson(room);
    command.metadata = peer.metadata;
    deps_.hub.sendCommand(placement->sfuNode, command);
  }
  emitWebhook(room.webhookUrl, webhook::event::PeerAdded, roomId, peer.id);
  answer = {{"peer", peerJson(peer)},
            {"token", *jwt},
            {"ws_url", placement->wsUrl},
            {"ice_servers", iceServers(placement->turn, peer.id)}};
  return std::nullopt;
}

net::HttpResponse RestApi::listPeers(const ApiRequest& r) {
  const std::string& roomId = r.params.at("room_id");
  if (!isValidId(roomId)) return fieldError("room_id", "not a valid id");
  auto room = deps_.storage.getRoom(roomId);
  if (!room) return storageError(room.error());
  json peers = json::array();
  for (const auto& p : deps_.peers.list(roomId)) peers.push_back(peerJson(p));
  return jsonOk(http::status::ok, {{"peers", peers}});
}

net::HttpResponse RestApi::getPeer(const ApiRequest& r) {
  const std::string& roomId = r.params.at("room_id");
  const std::string& peerId = r.params.at("peer_id");
  if (!isValidId(roomId)) return fieldError("room_id", "not a valid id");
  if (!isValidId(peerId)) return fieldError("peer_id", "not a valid id");
  auto peer = deps_.peers.get(roomId, peerId);
  if (!peer) return errorResponse(http::status::not_found, "not_found", "no such peer in this room");
  return jsonOk(http::status::ok, {{"peer", peerJson(*peer)}});
}

net::HttpResponse RestApi::deletePeer(const ApiRequest& r) {
  const std::string& roomId = r.params.at("room_id");
  const std::string& peerId = r.params.at("peer_id");
  if (!isValidId(roomId)) return fieldError("room_id", "not a valid id");
  if (!isValidId(peerId)) return fieldError("peer_id", "not a valid id");
  if (auto refused = requireRoomAdmin(r.caller, roomId)) return *refused;  // a host removes someone
  if (!removePeer(roomId, peerId)) return errorResponse(http::status::not_found, "not_found", "no such peer in this room");
  return net::HttpResponse{http::status::no_content, 11};
}

bool RestApi::removePeer(const std::string& roomId, const std::string& peerId) {
  if (!deps_.peers.remove(roomId, peerId)) return false;
  // Its token stays valid until it expires: the file routes refuse it from now on (the sfuserver
  // refuses it on /rtc after remove_peer).
  deps_.peers.revoke(roomId, peerId, nowSeconds(), nowSeconds() + options_.tokenTtl.count());
  // Kick: the hosting sfuserver closes the peer's connection (docs/control.md remove_peer).
  if (auto room = deps_.storage.getRoom(roomId)) {
    emitWebhook(room->webhookUrl, webhook::event::PeerDeleted, roomId, peerId);
    if (auto node = deps_.hub.registry().find(room->sfuNode)) {
      control::Command command;
      command.command = "remove_peer";
      command.room = roomId;
      command.peer = peerId;
      deps_.hub.sendCommand(node->info.id, command);
    }
  }
  return true;
}

void RestApi::setWebhooks(webhook::WebhookSink* sink, bool allowPrivateUrls) {
  webhooks_ = sink;
  allowPrivateWebhooks_ = allowPrivateUrls;
}

void RestApi::emitWebhook(const std::string& url, const char* type, const std::string& room, const std::string& peer) {
  if (!webhooks_) return;  // an empty url means the server-wide default (the dispatcher decides)
  webhook::WebhookEvent e;
  e.type = type;
  e.room = room;
  e.peer = peer;
  webhooks_->emit(url, e);
}

net::HttpResponse RestApi::currentSession(const ApiRequest& r) {
  const std::string& roomId = r.params.at("room_id");
  if (!isValidId(roomId)) return fieldError("room_id", "not a valid id");
  auto session = deps_.storage.currentRoomSession(roomId);
  if (!session) return storageError(session.error());
  return jsonOk(http::status::ok, {{"session", roomSessionJson(*session)}});
}

}  // namespace meeting::api
