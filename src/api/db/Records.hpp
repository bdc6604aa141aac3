#pragma once
// Plain rows of the apiserver's collections (seed 000 + design §4). Every timestamp is integer Unix
// milliseconds; 0 means "not set" (e.g. an open session's ended_at). Ids assigned by the database
// are int64; rooms and files use text ids (custom or a generated UUID), nodes the id they register.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meeting::api::db {

/// Unix time in milliseconds.
using Millis = int64_t;

enum class Role { User, Admin };

/// meet/Users. `email` is unique and stored lower-cased (ASCII) so lookups ignore case.
struct User {
  int64_t id = 0;
  std::string email;
  std::string displayName;
  std::string passwordHash;  ///< an opaque verifier produced by the caller (never a password)
  Role role = Role::User;
  Millis createdAt = 0;
  bool disabled = false;
};

/// An operator's REST API key. Only the SHA-256 of the secret is stored.
struct ApiKey {
  int64_t id = 0;
  std::string name;
  std::string prefix;   ///< first characters of the secret, for display ("mk_3f9a…")
  std::string keyHash;  ///< lower-case hex SHA-256 of the whole secret
  Millis createdAt = 0;
  Millis revokedAt = 0;  ///< 0 while the key is valid
};

/// Returned once by ApiKeyStore::createApiKey: the secret is never stored and never shown again.
struct NewApiKey {
  ApiKey key;
  std::string secret;
};

/// meet/Rooms, with seed 004's options. Unset optionals mean "unlimited"/"disabled".
struct Room {
  std::string id;  ///< custom room_id, or a generated UUID when empty on create
  std::string domain;
  std::optional<int64_t> maxPeers;
  std::string videoCodec;  ///< "" = any, else e.g. "h264", "vp8"
  std::string webhookUrl;
  std::optional<int64_t> peerlessPurgeTimeout;     ///< seconds
  std::optional<int64_t> peerDisconnectedTimeout;  ///< seconds
  std::string sfuNode;                             ///< node id hosting the room, "" if none yet
  Millis createdAt = 0;
};

/// A scheduled (begin/end) or instant (endAt == 0) meeting with invitees.
struct Meeting {
  int64_t id = 0;
  std::string roomId;
  std::string title;
  std::string ownerEmail;
  Millis beginAt = 0;
  Millis endAt = 0;  ///< 0 = instant meeting
  std::vector<std::string> invitees;
  std::string joinCode;  ///< unique; generated when empty on create
  std::string sfu;
  std::string turn;
  Millis createdAt = 0;
  Millis updatedAt = 0;
  int64_t sequence = 0;  ///< iCalendar SEQUENCE: bumped on every update (RFC 5545 §3.8.7.4)
  bool waitingRoom = false;  ///< guests wait until the host admits them
};

/// A signed-in browser session (table user_logins). Only the SHA-256 of the bearer token is
/// stored, so a copy of the database cannot be used to sign in.
struct Login {
  std::string tokenHash;  ///< lower-case hex SHA-256 of the token
  int64_t userId = 0;
  Millis createdAt = 0;
  Millis expiresAt = 0;
};

/// An invitation to set a password (table user_invites); the token is stored hashed as well.
struct Invite {
  std::string tokenHash;
  int64_t userId = 0;
  Millis createdAt = 0;
  Millis expiresAt = 0;
  Millis usedAt = 0;  ///< 0 until consumed
};

/// meet/RoomSessions: one period during which a room had media running.
struct RoomSession {
  int64_t id = 0;
  std::string roomId;
  Millis startedAt = 0;
  Millis endedAt = 0;  ///< 0 while the session is open
};

/// meet/UserSessions: one peer's presence in a room session.
struct UserSession {
  int64_t id = 0;
  int64_t roomSessionId = 0;
  std::string peerId;
  std::optional<int64_t> userId;  ///< set when the peer is a signed-in user
  std::string displayName;
  Millis joinedAt = 0;
  Millis leftAt = 0;  ///< 0 while present
  std::string leaveReason;
};

/// meet/Messages: chat history.
struct Message {
  int64_t id = 0;
  int64_t roomSessionId = 0;
  std::string roomId;
  std::string peerId;
  std::string displayName;
  std::string text;
  Millis sentAt = 0;  ///< taken from the clock when 0 on append
};

/// meet/records: a recording of a room session.
struct Recording {
  int64_t id = 0;
  int64_t roomSessionId = 0;
  std::string path;
  Millis startedAt = 0;
  Millis endedAt = 0;
  std::string status;  ///< "recording", then e.g. "done" / "failed"
};

/// meet/Feedbacks: a 1–5 rating left by a peer after a session.
struct Feedback {
  int64_t id = 0;
  int64_t roomSessionId = 0;
  std::string peerId;
  int rating = 0;
  std::string comment;
  Millis createdAt = 0;
};

/// Metadata of a file held by an fsserver.
struct FileEntry {
  std::string id;  ///< generated UUID when empty on add
  std::string roomId;
  std::string name;
  std::string contentType;
  int64_t size = 0;
  std::string sha256;  ///< lower-case hex
  std::string uploader;
  std::string fsNode;
  Millis createdAt = 0;
  Millis deletedAt = 0;  ///< 0 while the file is live
};

/// A server registered on the control link (sfu / turn / fs).
struct Node {
  std::string id;
  std::string role;
  std::string address;
  int64_t capacity = 0;
  Millis lastSeen = 0;
};

/// One queued webhook delivery (table webhook_deliveries). Rows with the same `url` form one
/// ordered queue: only the oldest row of a queue is attempted, so receivers see events in order.
struct WebhookDelivery {
  int64_t id = 0;           ///< assigned on enqueue; also the queue order
  std::string url;
  std::string eventId;      ///< the body's "id" (receivers de-duplicate on it)
  std::string body;         ///< the exact JSON bytes that are signed and sent
  int64_t attempts = 0;     ///< failed attempts so far
  Millis nextAttemptAt = 0;
  Millis createdAt = 0;
  std::string lastError;
};

/// Mail delivery states (column mail_deliveries.status).
namespace mailstatus {
inline constexpr const char* Queued = "queued";                ///< waiting for (another) attempt
inline constexpr const char* Sent = "sent";                    ///< accepted by the SMTP server
inline constexpr const char* Failed = "failed";                ///< refused (5xx) or attempts exhausted
inline constexpr const char* NotConfigured = "not_configured"; ///< no mail server when it was queued
inline constexpr const char* Dropped = "dropped";              ///< not queued: the mail queue was full
}  // namespace mailstatus

/// One e-mail to one invitee about one meeting (table mail_deliveries). Rows with the same
/// meeting and recipient form one ordered queue: an invitation is sent before its cancellation.
/// Rows stay after sending (status, sentAt) so the meeting shows each invitee's state.
struct MailDelivery {
  int64_t id = 0;            ///< assigned on enqueue; also the queue order
  int64_t meetingId = 0;
  std::string recipient;     ///< one validated address
  std::string kind;          ///< "invitation", "update" or "cancel"
  int64_t sequence = 0;      ///< iCalendar SEQUENCE the mail carries
  std::string payload;       ///< JSON: subject, text, html, ics (From/To are added when sent)
  std::string status;        ///< mailstatus::*
  int64_t attempts = 0;      ///< attempts made so far
  Millis nextAttemptAt = 0;
  Millis createdAt = 0;
  Millis sentAt = 0;         ///< 0 until sent
  std::string lastError;
};

}  // namespace meeting::api::db
