#include "api/RestApi.hpp"

#include <charconv>

#include "api/ApiJson.hpp"
#include "api/auth/SessionTokens.hpp"
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

RestApi::RestApi(RestApiDeps deps, RestApiOptions options)
    : deps_(deps),
      options_(std::move(options)),
      passwords_(options_.passwordParams),
      loginLimiter_(options_.loginLimits),
      waitingRoom_(options_.waitingTicketIdle) {
  if (!options_.publicUrl.empty() && options_.publicUrl.back() != '/') options_.publicUrl += '/';
}

void RestApi::route(net::HttpRouter& router, verb method, const std::string& pattern, Handler handler, Auth auth) {
  auto& requests = MetricsRegistry::global().counter("meeting_api_requests_total", "REST API requests");
  auto& refused = MetricsRegistry::global().counter("meeting_api_unauthorized_total", "REST API requests refused with 401");
  router.add(method, std::string(ApiPrefix) + pattern,
             [this, handler, auth, &requests, &refused](net::HttpRequestContext& ctx, net::HttpResponder respond) {
               requests.inc();
               std::string key = auth == Auth::Public ? std::string{} : ctx.bearerToken();
               if (key.empty() && auth != Auth::Public && auth != Auth::OptionalUser) {
                 refused.inc();
                 return respond(unauthorized("missing_api_key", "send Authorization: Bearer <api key>"));
               }
               auto request = std::make_shared<ApiRequest>();
               request->params = ctx.params;
               request->query = ctx.query;
               request->body = ctx.request.body();
               request->remoteAddress = ctx.remoteAddress;
               auto work = [this, handler, auth, request, key, &refused]() -> net::HttpResponse {
                 try {
                   if (auto refusal = authenticate(auth, key, *request)) {
                     if (refusal->result() == http::status::unauthorized) refused.inc();
                     return *refusal;
                   }
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

std::optional<net::HttpResponse> RestApi::authenticate(Auth auth, const std::string& key, ApiRequest& request) {
  Caller& caller = request.caller;
  if (auth == Auth::Public || (auth == Auth::OptionalUser && key.empty())) {
    caller.apiKey = false;
    return std::nullopt;
  }
  // A JWS always contains '.' (RFC 7515 §7.1), API keys start "mk_", anything else is taken for
  // a browser session token.
  const bool jwt = key.find('.') != std::string::npos;
  const bool apiKey = !jwt && key.rfind("mk_", 0) == 0;
  const bool takesKey = auth == Auth::ApiKey || auth == Auth::ApiKeyOrRoomToken || auth == Auth::ApiKeyOrUser;
  const bool takesUser = auth == Auth::ApiKeyOrUser || auth == Auth::User || auth == Auth::OptionalUser;
  if (jwt && auth == Auth::ApiKeyOrRoomToken) {
    auto claims = token::verifyAccessToken(key, options_.secret, nowSeconds());
    if (!claims) return unauthorized("invalid_token", "invalid or expired room token");
    if (deps_.peers.isRevoked(claims->room, claims->identity, nowSeconds())) {
      return errorResponse(http::status::forbidden, "peer_removed", "this participant was removed from the room");
    }
    caller.apiKey = false;
    caller.room = claims->room;
    caller.identity = claims->identity;
    caller.roomAdmin = claims->grants.roomAdmin;
    return std::nullopt;
  }
  if (!jwt && !apiKey && takesUser) return authenticateUser(key, caller);
  if (!takesKey) {
    return unauthorized("invalid_session", auth == Auth::User ? "sign in first (Authorization: Bearer <session token>)"
                                                              : "unknown or expired session");
  }
  auto verified = deps_.storage.verifyApiKey(key);
  if (!verified) {
    if (verified.error().code == db::errc::Unavailable) return storageError(verified.error());
    return unauthorized("invalid_api_key", "unknown or revoked API key");
  }
  caller.keyName = verified->name;
  return std::nullopt;
}

std::optional<net::HttpResponse> RestApi::authenticateUser(const std::string& key, Caller& caller) {
  caller.apiKey = false;
  if (!auth::looksLikeToken(key)) return unauthorized("invalid_session", "unknown or expired session");
  const std::string hash = auth::tokenHash(key);
  auto login = deps_.storage.findLogin(hash, deps_.clock.wallMicros() / 1000);
  if (!login) {
    if (login.error().code == db::errc::NotFound) return unauthorized("invalid_session", "unknown or expired session");
    return storageError(login.error());
  }
  auto user = deps_.storage.getUser(login->userId);
  if (!user) {
    if (user.error().code == db::errc::NotFound) return unauthorized("invalid_session", "unknown or expired session");
    return storageError(user.error());
  }
  if (user->disabled) return errorResponse(http::status::forbidden, "account_disabled", "this account is disabled");
  caller.user = std::move(*user);
  caller.loginHash = hash;
  return std::nullopt;
}

std::optional<net::HttpResponse> RestApi::requireRoomAdmin(const Caller& caller, const std::string& roomId) {
  if (caller.apiKey) return std::nullopt;
  if (caller.room == roomId && caller.roomAdmin) return std::nullopt;
  return errorResponse(http::status::forbidden, "forbidden",
                       caller.room == roomId ? "needs the room_admin grant" : "this token is for another room");
}

void RestApi::registerRoutes(net::HttpRouter& router) {
  route(router, verb::post, "/rooms", &RestApi::createRoom);
  route(router, verb::get, "/rooms", &RestApi::listRooms);
  route(router, verb::get, "/rooms/{room_id}", &RestApi::getRoom);
  route(router, verb::delete_, "/rooms/{room_id}", &RestApi::deleteRoom, Auth::ApiKeyOrRoomToken);
  route(router, verb::post, "/rooms/{room_id}/peers", &RestApi::addPeer);
  route(router, verb::get, "/rooms/{room_id}/peers", &RestApi::listPeers);
  route(router, verb::get, "/rooms/{room_id}/peers/{peer_id}", &RestApi::getPeer);
  route(router, verb::delete_, "/rooms/{room_id}/peers/{peer_id}", &RestApi::deletePeer, Auth::ApiKeyOrRoomToken);
  route(router, verb::get, "/rooms/{room_id}/session", &RestApi::currentSession);
  route(router, verb::post, "/meetings", &RestApi::createMeeting, Auth::ApiKeyOrUser);
  route(router, verb::get, "/meetings", &RestApi::listMeetings, Auth::ApiKeyOrUser);
  route(router, verb::get, "/meetings/{meeting_id}", &RestApi::getMeeting, Auth::ApiKeyOrUser);
  route(router, verb::delete_, "/meetings/{meeting_id}", &RestApi::deleteMeeting, Auth::ApiKeyOrUser);
  route(router, verb::patch, "/meetings/{meeting_id}", &RestApi::updateMeeting, Auth::ApiKeyOrUser);
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
  route(router, verb::post, "/rooms/{room_id}/minutes", &RestApi::minutesUrls, Auth::ApiKeyOrRoomToken);
  // Accounts (browser sessions), joining by link, waiting rooms and chat history.
  route(router, verb::post, "/auth/login", &RestApi::login, Auth::Public);
  route(router, verb::post, "/auth/logout", &RestApi::logout, Auth::User);
  route(router, verb::get, "/me", &RestApi::getMe, Auth::User);
  route(router, verb::patch, "/me", &RestApi::updateMe, Auth::User);
  route(router, verb::post, "/users", &RestApi::createUser, Auth::ApiKeyOrUser);
  route(router, verb::get, "/users", &RestApi::listUsers, Auth::ApiKeyOrUser);
  route(router, verb::patch, "/users/{user_id}", &RestApi::updateUser, Auth::ApiKeyOrUser);
  route(router, verb::delete_, "/users/{user_id}", &RestApi::deleteUser, Auth::ApiKeyOrUser);
  route(router, verb::get, "/invites/{invite}", &RestApi::getInvite, Auth::Public);
  route(router, verb::post, "/invites/{invite}", &RestApi::acceptInvite, Auth::Public);
  route(router, verb::get, "/join/{code}", &RestApi::getJoinInfo, Auth::Public);
  route(router, verb::post, "/join/{code}", &RestApi::joinMeeting, Auth::OptionalUser);
  route(router, verb::get, "/join/{code}/tickets/{ticket}", &RestApi::pollTicket, Auth::Public);
  route(router, verb::get, "/rooms/{room_id}/waiting", &RestApi::listWaiting, Auth::ApiKeyOrRoomToken);
  route(router, verb::post, "/rooms/{room_id}/waiting/{ticket}", &RestApi::decideWaiting, Auth::ApiKeyOrRoomToken);
  route(router, verb::get, "/rooms/{room_id}/messages", &RestApi::listRoomMessages, Auth::ApiKeyOrRoomToken);
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

std::string RestApi::joinUrl(const std::string& joinCode) const { return options_.publicUrl + "m/" + joinCode; }


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
