#include "api/RestApi.hpp"

#include <charconv>

#include "api/ApiJson.hpp"
#include "common/AccessToken.hpp"
#include "common/Log.hpp"
#include "common/Metrics.hpp"
#include "common/TurnCredentials.hpp"

namespace meeting::api {

using nlohmann::json;
using net::http::verb;

namespace {

constexpr size_t MaxApiBodyBytes = 64 * 1024;

net::HttpResponse unauthorized(const std::string& code, const std::string& message) {
  auto res = errorResponse(http::status::unauthorized, code, message);
  res.set(http::field::www_authenticate, "Bearer realm=\"meeting\"");
  return res;
}

std::string wsUrlForAddress(const std::string& address) { return "wss://" + address + "/rtc"; }

}  // namespace

std::string ApiRequest::queryValue(const std::string& key) const {
  auto it = query.find(key);
  return it == query.end() ? std::string{} : it->second;
}

std::optional<int64_t> parsePositiveId(const std::string& text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v <= 0) return std::nullopt;
  return v;
}

bool readPage(const ApiRequest& r, db::PageQuery& page, net::HttpResponse& error) {
  page.after = r.queryValue("after");
  if (page.after.size() > 255) {
    error = fieldError("after", "cursor too long");
    return false;
  }
  if (auto limit = r.queryValue("limit"); !limit.empty()) {
    auto n = parsePositiveId(limit);
    if (!n || *n > db::MaxPageLimit) {
      error = fieldError("limit", "must be an integer from 1 to " + std::to_string(db::MaxPageLimit));
      return false;
    }
    page.limit = static_cast<uint32_t>(*n);
  }
  return true;
}

RestApi::RestApi(RestApiDeps deps, RestApiOptions options) : deps_(deps), options_(std::move(options)) {
  if (!options_.publicUrl.empty() && options_.publicUrl.back() != '/') options_.publicUrl += '/';
}

void RestApi::route(net::HttpRouter& router, verb method, const std::string& pattern, Handler handler, Auth auth) {
  auto& requests = MetricsRegistry::global().counter("meeting_api_requests_total", "REST API requests");
  auto& refused = MetricsRegistry::global().counter("meeting_api_unauthorized_total", "REST API requests refused with 401");
  router.add(method, std::string(ApiPrefix) + pattern,
             [this, handler, auth, &requests, &refused](net::HttpRequestContext& ctx, net::HttpResponder respond) {
               requests.inc();
               std::string key = ctx.bearerToken();
               if (key.empty()) {
                 refused.inc();
                 return respond(unauthorized("missing_api_key", "send Authorization: Bearer <api key>"));
               }
               auto request = std::make_shared<ApiRequest>();
               request->params = ctx.params;
               request->query = ctx.query;
               request->body = ctx.request.body();
               auto work = [this, handler, auth, request, key, &refused]() -> net::HttpResponse {
                 try {
                   // API keys never contain '.', a JWS always does (RFC 7515 §7.1).
                   if (auth == Auth::ApiKeyOrRoomToken && key.find('.') != std::string::npos) {
                     auto claims = token::verifyAccessToken(key, options_.secret, nowSeconds());
                     if (!claims) {
                       refused.inc();
                       return unauthorized("invalid_token", "invalid or expired room token");
                     }
                     if (deps_.peers.isRevoked(claims->room, claims->identity, nowSeconds())) {
                       return errorResponse(http::status::forbidden, "peer_removed",
                                            "this participant was removed from the room");
                     }
                     request->caller.apiKey = false;
                     request->caller.room = claims->room;
                     request->caller.identity = claims->identity;
                     request->caller.roomAdmin = claims->grants.roomAdmin;
                     return (this->*handler)(*request);
                   }
                   auto verified = deps_.storage.verifyApiKey(key);
                   if (!verified) {
                     if (verified.error().code == db::errc::Unavailable) return storageError(verified.error());
                     refused.inc();
                     return unauthorized("invalid_api_key", "unknown or revoked API key");
                   }
                   request->caller.keyName = verified->name;
                   return (this->*handler)(*request);
                 } catch (const std::exception& e) {
                   // A bug, not bad input: log it, answer 500, keep serving.
                   MLOG_ERROR("api handler threw: {}", e.what());
                   return errorResponse(http::status::internal_server_error, "internal", "internal error");
                 }
               };
               if (!deps_.workers.post(std::move(work), [respond](net::HttpResponse res) { respond(std::move(res)); })) {
                 respond(errorResponse(http::status::service_unavailable, "busy", "server busy, retry shortly"));
               }
             },
             net::RouteOptions{MaxApiBodyBytes});
}

void RestApi::registerRoutes(net::HttpRouter& router) {
  route(router, verb::post, "/rooms", &RestApi::createRoom);
  route(router, verb::get, "/rooms", &RestApi::listRooms);
  route(router, verb::get, "/rooms/{room_id}", &RestApi::getRoom);
  route(router, verb::delete_, "/rooms/{room_id}", &RestApi::deleteRoom);
  route(router, verb::post, "/rooms/{room_id}/peers", &RestApi::addPeer);
  route(router, verb::get, "/rooms/{room_id}/peers", &RestApi::listPeers);
  route(router, verb::get, "/rooms/{room_id}/peers/{peer_id}", &RestApi::getPeer);
  route(router, verb::delete_, "/rooms/{room_id}/peers/{peer_id}", &RestApi::deletePeer);
  route(router, verb::get, "/rooms/{room_id}/session", &RestApi::currentSession);
  route(router, verb::post, "/meetings", &RestApi::createMeeting);
  route(router, verb::get, "/meetings", &RestApi::listMeetings);
  route(router, verb::get, "/meetings/{meeting_id}", &RestApi::getMeeting);
  route(router, verb::delete_, "/meetings/{meeting_id}", &RestApi::deleteMeeting);
  route(router, verb::patch, "/meetings/{meeting_id}", &RestApi::updateMeeting);
  route(router, verb::get, "/sessions/{session_id}", &RestApi::getSession);
  route(router, verb::get, "/sessions/{session_id}/users", &RestApi::listSessionUsers);
  route(router, verb::get, "/sessions/{session_id}/messages", &RestApi::listSessionMessages);
  route(router, verb::get, "/sessions/{session_id}/feedback", &RestApi::listFeedback);
  route(router, verb::post, "/sessions/{session_id}/feedback", &RestApi::addFeedback);
  route(router, verb::get, "/nodes", &RestApi::listNodes);
  route(router, verb::get, "/monitoring", &RestApi::getMonitoring);
  route(router, verb::get, "/fsserver", &RestApi::allocateFs);
  route(router, verb::post, "/rooms/{room_id}/files", &RestApi::createUpload, Auth::ApiKeyOrRoomToken);
  route(router, verb::get, "/rooms/{room_id}/files", &RestApi::listRoomFiles, Auth::ApiKeyOrRoomToken);
  route(router, verb::post, "/files/{file_id}/complete", &RestApi::completeUpload, Auth::ApiKeyOrRoomToken);
  route(router, verb::get, "/files/{file_id}", &RestApi::getFileInfo, Auth::ApiKeyOrRoomToken);
  route(router, verb::delete_, "/files/{file_id}", &RestApi::deleteFile, Auth::ApiKeyOrRoomToken);
  router.addWebSocket(std::string(ApiPrefix) + "/control", deps_.hub.webSocketRoute());
}

Result<RestApi::Placement> RestApi::placeRoom(const db::Room& room) {
  auto& registry = deps_.hub.registry();
  Placement p;
  p.turn = deps_.peers.roomTurn(room.id);
  auto pickTurn = [&] {
    if (p.turn.empty() && !deps_.allocator.external()) {
      if (auto turn = registry.pickLeastLoaded("turn")) p.turn = turn->info.address;
    }
  };
  if (!room.sfuNode.empty()) {
    auto node = registry.find(room.sfuNode);
    if (node && node->alive) {
      p.sfuNode = node->info.id;
      p.wsUrl = node->info.wsUrl.empty() ? wsUrlForAddress(node->info.address) : node->info.wsUrl;
      pickTurn();
      return p;
    }
    // Allocated by address to a server that has not (yet) registered: trust the allocate server.
    if (!node && deps_.allocator.external()) {
      p.wsUrl = wsUrlForAddress(room.sfuNode);
      return p;
    }
    // The hosting server is down: the room moves (its peers reconnect with new tokens).
  }
  auto allocation = deps_.allocator.allocateMedia(MediaRequest{});
  if (!allocation) return allocation.error();
  if (auto r = deps_.storage.assignRoomNode(room.id, allocation->sfu); !r) return r.error();
  deps_.peers.setRoomTurn(room.id, allocation->turn);
  p.turn = allocation->turn;
  if (auto node = registry.find(allocation->sfu)) {
    p.sfuNode = node->info.id;
    p.wsUrl = node->info.wsUrl.empty() ? wsUrlForAddress(node->info.address) : node->info.wsUrl;
  } else {
    p.wsUrl = wsUrlForAddress(allocation->sfu);
  }
  pickTurn();
  return p;
}

json RestApi::iceServers(const std::string& turn, const std::string& user) const {
  json servers = json::array();
  if (turn.empty()) return servers;
  // coturn REST-API credentials (username "expiry:user", password base64(HMAC-SHA1)).
  auto credential = makeTurnCredential(options_.secret, user, nowSeconds(), options_.tokenTtl.count());
  servers.push_back({{"urls", {"stun:" + turn, "turn:" + turn + "?transport=udp", "turn:" + turn + "?transport=tcp"}},
                     {"username", credential.username},
                     {"credential", credential.password}});
  return servers;
}

std::string RestApi::joinUrl(const std::string& joinCode) const { return options_.publicUrl + "join/" + joinCode; }


net::HttpResponse RestApi::listNodes(const ApiRequest& r) {
  std::string role = r.queryValue("role");
  if (!role.empty() && role != "sfu" && role != "turn" && role != "fs") return fieldError("role", "must be sfu, turn or fs");
  json nodes = json::array();
  for (const auto& n : deps_.hub.registry().list(role)) {
    nodes.push_back({{"id", n.info.id},
                     {"role", n.info.role},
                     {"address", n.info.address},
                     {"ws_url", n.info.wsUrl},
                     {"capacity", n.info.capacity},
                     {"load", n.load.load},
                     {"rooms", n.load.rooms},
                     {"peers", n.load.peers},
                     {"status", n.alive ? "up" : "down"}});
  }
  return jsonOk(http::status::ok, {{"nodes", nodes}});
}

net::HttpResponse RestApi::allocateFs(const ApiRequest& r) {
  std::string email = r.queryValue("email");
  if (!email.empty() && !isValidEmail(email)) return fieldError("email", "not an e-mail address");
  auto fs = deps_.allocator.allocateFs(email);
  if (!fs) return errorResponse(http::status::service_unavailable, "unavailable", fs.error().message);
  return jsonOk(http::status::ok, {{"fs", *fs}});
}

}  // namespace meeting::api
