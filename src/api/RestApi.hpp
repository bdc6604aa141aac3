#pragma once
// The REST API under /api/v1 (docs/api.yaml). Every route requires `Authorization: Bearer
// <api key>`; handlers run on the worker pool (database, allocation), never on the control loop,
// and answer through the thread-safe HttpResponder. The control link's WebSocket route is
// registered here too (authenticated by a control token instead of an API key).
#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "api/Allocator.hpp"
#include "api/PeerRegistry.hpp"
#include "api/control/ControlHub.hpp"
#include "api/db/DbExecutor.hpp"
#include "api/db/Storage.hpp"
#include "common/Clock.hpp"
#include "net/HttpRouter.hpp"

namespace meeting::api {

inline constexpr const char* ApiPrefix = "/api/v1";

struct RestApiOptions {
  std::string secret;                          ///< signs peer tokens and TURN credentials
  std::string publicUrl;                       ///< base of join links, e.g. "https://meet.example.com/"
  std::chrono::seconds tokenTtl{6 * 3600};     ///< peer tokens and TURN credentials
};

struct RestApiDeps {
  db::Storage& storage;
  db::DbExecutor& workers;  ///< runs handlers (storage and allocation calls block)
  Allocator& allocator;
  control::ControlHub& hub;
  PeerRegistry& peers;
  const Clock& clock;
};

/// What a handler sees: owned copies, safe to use on a worker thread.
struct ApiRequest {
  std::map<std::string, std::string> params;
  std::multimap<std::string, std::string> query;
  std::string body;
  std::string queryValue(const std::string& key) const;
};

class RestApi {
 public:
  RestApi(RestApiDeps deps, RestApiOptions options);
  /// Adds every /api/v1 route (and the control WebSocket) to `router`.
  void registerRoutes(net::HttpRouter& router);

 private:
  using Handler = net::HttpResponse (RestApi::*)(const ApiRequest&);
  void route(net::HttpRouter& router, net::http::verb method, const std::string& pattern, Handler handler);

  // Rooms and peers (RoomRoutes.cpp).
  net::HttpResponse createRoom(const ApiRequest& r);
  net::HttpResponse listRooms(const ApiRequest& r);
  net::HttpResponse getRoom(const ApiRequest& r);
  net::HttpResponse deleteRoom(const ApiRequest& r);
  net::HttpResponse addPeer(const ApiRequest& r);
  net::HttpResponse listPeers(const ApiRequest& r);
  net::HttpResponse getPeer(const ApiRequest& r);
  net::HttpResponse deletePeer(const ApiRequest& r);
  net::HttpResponse currentSession(const ApiRequest& r);
  net::HttpResponse listNodes(const ApiRequest& r);
  net::HttpResponse allocateFs(const ApiRequest& r);
  // Meetings and history (MeetingRoutes.cpp).
  net::HttpResponse createMeeting(const ApiRequest& r);
  net::HttpResponse listMeetings(const ApiRequest& r);
  net::HttpResponse getMeeting(const ApiRequest& r);
  net::HttpResponse deleteMeeting(const ApiRequest& r);
  net::HttpResponse getSession(const ApiRequest& r);
  net::HttpResponse listSessionUsers(const ApiRequest& r);
  net::HttpResponse listSessionMessages(const ApiRequest& r);
  net::HttpResponse listFeedback(const ApiRequest& r);
  net::HttpResponse addFeedback(const ApiRequest& r);

  // Placement of a room on an sfuserver: reuses its node while alive, else allocates.
  struct Placement {
    std::string sfuNode;  ///< registered node id ("" when the sfu is known only by address)
    std::string wsUrl;
    std::string turn;
  };
  Result<Placement> placeRoom(const db::Room& room);
  nlohmann::json iceServers(const std::string& turn, const std::string& user) const;
  std::string joinUrl(const std::string& joinCode) const;
  int64_t nowSeconds() const { return deps_.clock.wallMicros() / 1'000'000; }

  RestApiDeps deps_;
  RestApiOptions options_;
};

/// Parses `?after=&limit=` into a PageQuery; false (with a 400 in `error`) on a bad limit.
bool readPage(const ApiRequest& r, db::PageQuery& page, net::HttpResponse& error);
/// Parses a positive decimal id from a path segment.
std::optional<int64_t> parsePositiveId(const std::string& text);

}  // namespace meeting::api
