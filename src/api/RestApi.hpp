#pragma once
// The REST API under /api/v1 (docs/api.yaml). Every route requires `Authorization: Bearer
// <api key>` (the file routes also take a participant's room token instead); handlers run on the worker pool (database, allocation), never on the control loop,
// and answer through the thread-safe HttpResponder. The control link's WebSocket route is
// registered here too (authenticated by a control token instead of an API key).
#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "api/Allocator.hpp"
#include "api/PeerRegistry.hpp"
#include "api/PendingUploads.hpp"
#include "api/auth/LoginLimiter.hpp"
#include "api/auth/PasswordHasher.hpp"
#include "api/auth/WaitingRoom.hpp"
#include "api/control/ControlHub.hpp"
#include "api/db/DbExecutor.hpp"
#include "api/db/Storage.hpp"
#include "api/mail/MailDispatcher.hpp"
#include "api/webhook/WebhookEvent.hpp"
#include "common/Clock.hpp"
#include "common/AccessToken.hpp"
#include "common/SignedUrl.hpp"
#include "net/HttpRouter.hpp"

namespace meeting::api {

inline constexpr const char* ApiPrefix = "/api/v1";

struct RestApiOptions {
  std::string secret;                          ///< signs peer tokens and TURN credentials
  std::string publicUrl;                       ///< base of join links, e.g. "https://meet.example.com/"
  std::chrono::seconds tokenTtl{6 * 3600};     ///< peer tokens and TURN credentials
  /// Base URL of an fsserver running in this process (`meeting all`), e.g.
  /// "https://127.0.0.1:8443"; used when no fsserver is allocated or registered. "" = none.
  std::string localFsUrl;
  /// Verify the fsserver's certificate when the apiserver calls it (off by default: the default
  /// deployment is self-signed, as for the control link).
  bool verifyFsTls = false;
  std::chrono::milliseconds fsTimeout{5000};   ///< each call to an fsserver
  /// Largest upload granted (the fsserver's own limit, --fs-max-file-size, still applies).
  uint64_t maxUploadBytes = 2ull << 30;
  /// Argon2id cost of account passwords (AccountRoutes.cpp).
  auth::PasswordParams passwordParams{};
  std::chrono::seconds loginTtl{30 * 24 * 3600};   ///< browser sessions
  std::chrono::seconds inviteTtl{7 * 24 * 3600};   ///< account invitations
  std::chrono::milliseconds waitingTicketIdle{10 * 60 * 1000};  ///< waiting-room tickets not polled
  auth::LoginLimiter::Options loginLimits{};
};

struct RestApiDeps {
  db::Storage& storage;
  db::DbExecutor& workers;  ///< runs handlers (storage and allocation calls block)
  Allocator& allocator;
  control::ControlHub& hub;
  PeerRegistry& peers;
  const Clock& clock;
};

/// Who is calling: an operator's API key, a participant's peer token (routes that take one), a
/// signed-in user's browser session, or nobody (public routes).
struct Caller {
  bool apiKey = true;
  std::string keyName;   ///< API key: its name
  std::string room;      ///< peer token: the one room it opens
  std::string identity;  ///< peer token: the peer id
  bool roomAdmin = false;
  std::optional<db::User> user;  ///< browser session: the signed-in user
  std::string loginHash;         ///< browser session: SHA-256 of its token
  bool isRoomToken() const { return !apiKey && !room.empty(); }
  bool isAdminUser() const { return user && user->role == db::Role::Admin; }
};

/// What a handler sees: owned copies, safe to use on a worker thread.
struct ApiRequest {
  Caller caller;
  std::map<std::string, std::string> params;
  std::multimap<std::string, std::string> query;
  std::string body;
  std::string remoteAddress;
  std::string queryValue(const std::string& key) const;
};

class RestApi {
 public:
  RestApi(RestApiDeps deps, RestApiOptions options);
  /// Adds every /api/v1 route (and the control WebSocket) to `router`.
  void registerRoutes(net::HttpRouter& router);
  /// Turns webhooks on: room and peer routes emit their events to `sink`, and a room's
  /// webhook_url is refused (400) when its host resolves to a loopback, private or link-local
  /// address unless `allowPrivateUrls`. Call before serving. Without it no webhook is sent.
  void setWebhooks(webhook::WebhookSink* sink, bool allowPrivateUrls);
  /// Turns invitation mail on: meeting create/update/delete report to `sink` (src/api/mail/).
  /// Call before serving. Without it no mail is queued.
  void setInvitations(mail::InvitationSink* sink) { invitations_ = sink; }
  /// Account invitations are e-mailed (queued in mail_deliveries) when mail is on; otherwise
  /// they are recorded as not_configured and only the invite_url of the answer reaches the user.
  void setAccountMail(bool enabled) { accountMail_ = enabled; }

  /// Deletes a room as DELETE /rooms/{id} does: webhook, its peers' tokens refused, its
  /// sfuserver told to close it. A not_found error when there is no such room.
  Result<void> removeRoom(const std::string& roomId);
  /// Removes a peer as DELETE /rooms/{id}/peers/{peer} does (kick). False when unknown.
  bool removePeer(const std::string& roomId, const std::string& peerId);

 private:
  using Handler = net::HttpResponse (RestApi::*)(const ApiRequest&);
  /// Which credentials a route takes. `Public` ignores any bearer; `OptionalUser` takes none or
  /// a user's browser session.
  enum class Auth { ApiKey, ApiKeyOrRoomToken, ApiKeyOrUser, User, Public, OptionalUser };
  /// Resolves `bearer` for `auth` into request->caller; a response when it is refused.
  std::optional<net::HttpResponse> authenticate(Auth auth, const std::string& bearer, ApiRequest& request);
  std::optional<net::HttpResponse> authenticateUser(const std::string& bearer, Caller& caller);
  void route(net::HttpRouter& router, net::http::verb method, const std::string& pattern, Handler handler,
             Auth auth = Auth::ApiKey);

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
  /// The cluster monitoring report (Monitoring.cpp), for `meeting ctl stats` with an API key.
  net::HttpResponse getMonitoring(const ApiRequest& r);
  net::HttpResponse allocateFs(const ApiRequest& r);
  // Meetings and history (MeetingRoutes.cpp).
  net::HttpResponse createMeeting(const ApiRequest& r);
  net::HttpResponse listMeetings(const ApiRequest& r);
  net::HttpResponse getMeeting(const ApiRequest& r);
  net::HttpResponse deleteMeeting(const ApiRequest& r);
  net::HttpResponse updateMeeting(const ApiRequest& r);
  /// `meetingJson` plus the per-invitee mail status (`invitations`).
  nlohmann::json meetingWithInvitations(const db::Meeting& meeting);
  net::HttpResponse getSession(const ApiRequest& r);
  net::HttpResponse listSessionUsers(const ApiRequest& r);
  net::HttpResponse listSessionMessages(const ApiRequest& r);
  net::HttpResponse listFeedback(const ApiRequest& r);
  net::HttpResponse addFeedback(const ApiRequest& r);
  // Files on fsservers (FileRoutes.cpp).
  net::HttpResponse createUpload(const ApiRequest& r);
  net::HttpResponse listRoomFiles(const ApiRequest& r);
  net::HttpResponse completeUpload(const ApiRequest& r);
  net::HttpResponse getFileInfo(const ApiRequest& r);
  net::HttpResponse deleteFile(const ApiRequest& r);
  net::HttpResponse minutesUrls(const ApiRequest& r);
  /// Base URL of the fsserver for a new upload: allocated (Kind=FS), registered, or local.
  Result<std::string> pickFsServer();
  /// For new files of room `roomId` (which must exist): sets `fsBase`, or returns the error answer.
  std::optional<net::HttpResponse> chooseFsServer(const std::string& roomId, std::string& fsBase);
  /// A URL at `fsBase` for the file `grant.id`, signed for `grant`; `action` is appended to the
  /// file's path (e.g. "/confirm").
  Result<std::string> fsFileUrl(const std::string& fsBase, const signedurl::Grant& grant,
                                const std::string& action = {}) const;
  /// The apiserver's own signed call to an fsserver (confirm, delete) for file `id` of `room`:
  /// the fsserver's answer, or an error when it does not answer.
  Result<net::HttpResponse> callFs(net::http::verb method, const std::string& fsBase, signedurl::Operation op,
                                   const std::string& id, const std::string& room, const std::string& action = {});
  /// After a confirmed upload's row failed: deletes the bytes on the fsserver; the 503 to answer.
  net::HttpResponse abandonUpload(const std::string& id, const PendingUpload& pending, const Error& cause);

  // Accounts (AccountRoutes.cpp).
  net::HttpResponse login(const ApiRequest& r);
  net::HttpResponse logout(const ApiRequest& r);
  net::HttpResponse getMe(const ApiRequest& r);
  net::HttpResponse updateMe(const ApiRequest& r);
  net::HttpResponse createUser(const ApiRequest& r);
  net::HttpResponse listUsers(const ApiRequest& r);
  net::HttpResponse updateUser(const ApiRequest& r);
  net::HttpResponse deleteUser(const ApiRequest& r);
  net::HttpResponse getInvite(const ApiRequest& r);
  net::HttpResponse acceptInvite(const ApiRequest& r);
  /// A new browser session for `user`: the login answer {token, expires_at, user}.
  net::HttpResponse startLogin(const db::User& user);
  void mailAccountInvite(const db::User& user, const std::string& inviteUrl);
  // Joining by link, waiting rooms, host powers, chat history (JoinRoutes.cpp).
  net::HttpResponse getJoinInfo(const ApiRequest& r);
  net::HttpResponse joinMeeting(const ApiRequest& r);
  net::HttpResponse pollTicket(const ApiRequest& r);
  net::HttpResponse listWaiting(const ApiRequest& r);
  net::HttpResponse decideWaiting(const ApiRequest& r);
  net::HttpResponse listRoomMessages(const ApiRequest& r);
  /// Registers a peer in `room` as POST /rooms/{id}/peers does (placement, token, add_peer to the
  /// sfuserver, webhook); fills `answer` with {peer, token, ws_url, ice_servers}, or returns the
  /// error response.
  std::optional<net::HttpResponse> admitPeer(const db::Room& room, Peer peer, const token::Grants& grants,
                                             nlohmann::json& answer);
  /// Null when `caller` may act as host of `roomId` (an API key, or a room token of that room
  /// with roomAdmin); else the 403.
  static std::optional<net::HttpResponse> requireRoomAdmin(const Caller& caller, const std::string& roomId);

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

  /// Emits `type` for a room whose webhook_url is `url` ("" = the server-wide default, if any).
  void emitWebhook(const std::string& url, const char* type, const std::string& room, const std::string& peer = {});

  RestApiDeps deps_;
  RestApiOptions options_;
  PendingUploads pendingUploads_;
  webhook::WebhookSink* webhooks_ = nullptr;
  mail::InvitationSink* invitations_ = nullptr;
  bool allowPrivateWebhooks_ = false;
  bool accountMail_ = false;
  auth::PasswordHasher passwords_;
  auth::LoginLimiter loginLimiter_;
  auth::WaitingRoom waitingRoom_;
};

/// Parses `?after=&limit=` into a PageQuery; false (with a 400 in `error`) on a bad limit.
bool readPage(const ApiRequest& r, db::PageQuery& page, net::HttpResponse& error);
/// Parses a positive decimal id from a path segment.
std::optional<int64_t> parsePositiveId(const std::string& text);

}  // namespace meeting::api
