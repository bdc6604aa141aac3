#pragma once
// The apiserver's storage front door. One interface per collection (each a handful of methods),
// gathered in `Storage`. Calls are synchronous and blocking: run them on the DbExecutor pool, never
// on a media or HTTP loop. Implementations are thread-safe and never throw across the interface;
// failures come back as Result errors with the codes below.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/db/Records.hpp"
#include "common/Result.hpp"

namespace meeting {
class Clock;
}

namespace meeting::api::db {

/// Stable error codes carried in Error::code.
namespace errc {
inline constexpr const char* NotFound = "not_found";        ///< no such row
inline constexpr const char* Conflict = "conflict";         ///< duplicate key / state clash
inline constexpr const char* Unavailable = "unavailable";   ///< database down or pool exhausted
inline constexpr const char* InvalidField = "invalid_field";///< bad argument (names the field)
inline constexpr const char* Internal = "internal";         ///< anything else (message has detail)
}  // namespace errc

/// Keyset pagination: items come in ascending id order after the cursor `after` ("" = start).
struct PageQuery {
  std::string after;
  uint32_t limit = 50;  ///< clamped to 1..MaxPageLimit
};
inline constexpr uint32_t MaxPageLimit = 1000;

/// One page; `next` is the cursor for the following page, "" when this is the last one.
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next;
};

/// meet/Users.
class UserStore {
 public:
  virtual ~UserStore() = default;
  /// Stores a new user (id and createdAt are assigned). `conflict` when the email exists.
  virtual Result<User> createUser(User user) = 0;
  virtual Result<User> getUser(int64_t id) = 0;
  virtual Result<User> findUserByEmail(const std::string& email) = 0;
  virtual Result<Page<User>> listUsers(const PageQuery& page) = 0;
  /// Replaces email, display name, password hash, role and disabled of user `user.id`.
  virtual Result<User> updateUser(const User& user) = 0;
  virtual Result<void> deleteUser(int64_t id) = 0;
};

/// Browser sessions of signed-in users (bearer tokens stored as SHA-256).
class LoginStore {
 public:
  virtual ~LoginStore() = default;
  /// Stores a session (createdAt assigned). `conflict` when the hash exists.
  virtual Result<Login> createLogin(Login login) = 0;
  /// The session with this token hash; `not_found` when unknown or expired at `now`.
  virtual Result<Login> findLogin(const std::string& tokenHash, Millis now) = 0;
  /// Revokes one session; `not_found` when it is gone.
  virtual Result<void> deleteLogin(const std::string& tokenHash) = 0;
  /// Revokes every session of a user (disabled, deleted, password changed); returns how many.
  virtual Result<int64_t> deleteUserLogins(int64_t userId) = 0;
};

/// Invitations to set a password (tokens stored as SHA-256).
class InviteStore {
 public:
  virtual ~InviteStore() = default;
  virtual Result<Invite> createInvite(Invite invite) = 0;
  /// The invite with this hash, used or not (callers check usedAt/expiresAt); `not_found`.
  virtual Result<Invite> findInvite(const std::string& tokenHash) = 0;
  /// Marks the invite used at `at`; `conflict` when it was used already (one winner of a race).
  virtual Result<void> consumeInvite(const std::string& tokenHash, Millis at) = 0;
};

/// REST API keys: only SHA-256 hashes are stored.
class ApiKeyStore {
 public:
  virtual ~ApiKeyStore() = default;
  /// Generates a random secret, stores its hash and returns the secret this one time.
  virtual Result<NewApiKey> createApiKey(const std::string& name) = 0;
  virtual Result<std::vector<ApiKey>> listApiKeys() = 0;
  /// Marks the key revoked (idempotent); `not_found` for an unknown id.
  virtual Result<void> revokeApiKey(int64_t id) = 0;
  /// The key whose secret this is; `not_found` when unknown or revoked.
  virtual Result<ApiKey> verifyApiKey(const std::string& secret) = 0;
};

/// meet/Rooms. Deleting a room keeps its history (sessions, chat, files keep the room id).
class RoomStore {
 public:
  virtual ~RoomStore() = default;
  /// Creates the room (UUID id when `room.id` is empty). `conflict` when the id exists.
  virtual Result<Room> createRoom(Room room) = 0;
  virtual Result<Room> getRoom(const std::string& id) = 0;
  virtual Result<Page<Room>> listRooms(const PageQuery& page) = 0;
  /// Records which sfu node hosts the room.
  virtual Result<void> assignRoomNode(const std::string& id, const std::string& sfuNode) = 0;
  /// Deletes the room row and, in the same transaction, closes its open room session and the
  /// open user sessions in it (leave reason "room_deleted").
  virtual Result<void> deleteRoom(const std::string& id) = 0;
};

/// Scheduled and instant meetings.
class MeetingStore {
 public:
  virtual ~MeetingStore() = default;
  /// Stores a meeting (join code generated when empty). `conflict` when the join code exists.
  virtual Result<Meeting> createMeeting(Meeting meeting) = 0;
  virtual Result<Meeting> getMeeting(int64_t id) = 0;
  virtual Result<Meeting> findMeetingByJoinCode(const std::string& joinCode) = 0;
  virtual Result<Page<Meeting>> listMeetingsByOwner(const std::string& ownerEmail,
                                                    const PageQuery& page) = 0;
  /// Replaces the editable fields of `meeting.id`, bumps `sequence`, sets `updatedAt`.
  virtual Result<Meeting> updateMeeting(const Meeting& meeting) = 0;
  virtual Result<void> deleteMeeting(int64_t id) = 0;
};

/// meet/RoomSessions: at most one open session per room (enforced by a unique key).
class RoomSessionStore {
 public:
  virtual ~RoomSessionStore() = default;
  /// Opens a session; `conflict` when the room already has an open one.
  virtual Result<RoomSession> startRoomSession(const std::string& roomId) = 0;
  /// Closes the session and, in one transaction, every user session still open in it.
  virtual Result<RoomSession> endRoomSession(int64_t id) = 0;
  /// The room's open session; `not_found` when none is open.
  virtual Result<RoomSession> currentRoomSession(const std::string& roomId) = 0;
  virtual Result<RoomSession> getRoomSession(int64_t id) = 0;
};

/// meet/UserSessions.
class UserSessionStore {
 public:
  virtual ~UserSessionStore() = default;
  /// Records a join (joinedAt from the clock). `not_found` when the room session does not exist.
  virtual Result<UserSession> joinSession(UserSession session) = 0;
  /// Records the leave; `conflict` when it already left.
  virtual Result<UserSession> leaveSession(int64_t id, const std::string& reason) = 0;
  virtual Result<Page<UserSession>> listUserSessions(int64_t roomSessionId,
                                                     const PageQuery& page) = 0;
};

/// meet/Messages: chat history, ordered by arrival.
class MessageStore {
 public:
  virtual ~MessageStore() = default;
  virtual Result<Message> appendMessage(Message message) = 0;
  virtual Result<Page<Message>> listMessages(int64_t roomSessionId, const PageQuery& page) = 0;
  /// The last `limit` messages of a session (1..MaxPageLimit), oldest first: a late joiner's history.
  virtual Result<std::vector<Message>> listRecentMessages(int64_t roomSessionId, uint32_t limit) = 0;
};

/// meet/records: recordings.
class RecordingStore {
 public:
  virtual ~RecordingStore() = default;
  /// Stores a recording in status "recording".
  virtual Result<Recording> startRecording(int64_t roomSessionId, const std::string& path) = 0;
  /// Sets endedAt and the final status.
  virtual Result<Recording> finishRecording(int64_t id, const std::string& status) = 0;
  virtual Result<std::vector<Recording>> listRecordings(int64_t roomSessionId) = 0;
};

/// meet/Feedbacks.
class FeedbackStore {
 public:
  virtual ~FeedbackStore() = default;
  /// `invalid_field` unless 1 <= rating <= 5.
  virtual Result<Feedback> addFeedback(Feedback feedback) = 0;
  virtual Result<Page<Feedback>> listFeedback(int64_t roomSessionId, const PageQuery& page) = 0;
};

/// Metadata of files kept by fsservers.
class FileStore {
 public:
  virtual ~FileStore() = default;
  virtual Result<FileEntry> addFile(FileEntry file) = 0;
  /// Returns deleted files too (deletedAt != 0): callers decide what a tombstone means.
  virtual Result<FileEntry> getFile(const std::string& id) = 0;
  /// Live (not deleted) files of a room.
  virtual Result<Page<FileEntry>> listFiles(const std::string& roomId, const PageQuery& page) = 0;
  /// Sets deletedAt (idempotent: an already deleted file keeps its first deletion time).
  virtual Result<FileEntry> markFileDeleted(const std::string& id) = 0;
};

/// Servers registered on the control link.
class NodeStore {
 public:
  virtual ~NodeStore() = default;
  /// Inserts or replaces the node by id; lastSeen comes from the clock.
  virtual Result<Node> upsertNode(Node node) = 0;
  /// All nodes, or those of one role when `role` is non-empty.
  virtual Result<std::vector<Node>> listNodes(const std::string& role) = 0;
};

/// The webhook outbox: one ordered queue per URL, kept in the database so queued events survive
/// a restart.
class WebhookStore {
 public:
  virtual ~WebhookStore() = default;
  /// Appends `delivery` to its URL's queue (id and createdAt assigned). `conflict` when that queue
  /// already holds `maxQueued` rows (the caller counts the drop).
  virtual Result<WebhookDelivery> enqueueWebhook(WebhookDelivery delivery, int64_t maxQueued) = 0;
  /// The head (oldest row) of up to `limit` queues, earliest nextAttemptAt first, due or not.
  virtual Result<std::vector<WebhookDelivery>> webhookHeads(uint32_t limit) = 0;
  /// Records a failed attempt: new attempt count, next attempt time and the error text.
  virtual Result<void> rescheduleWebhook(int64_t id, int64_t attempts, Millis nextAttemptAt,
                                         const std::string& lastError) = 0;
  /// Removes a delivered or abandoned row; `not_found` when it is gone.
  virtual Result<void> deleteWebhook(int64_t id) = 0;
  /// Rows queued over all URLs.
  virtual Result<int64_t> countWebhooks() = 0;
};

/// The invitation mail outbox: one ordered queue per (meeting, recipient), kept in the database so
/// queued mail survives a restart; rows stay after delivery as the per-invitee status.
class MailStore {
 public:
  virtual ~MailStore() = default;
  /// Appends `mail` (id and createdAt assigned; status "queued" when empty).
  virtual Result<MailDelivery> enqueueMail(MailDelivery mail) = 0;
  /// The head (oldest queued row) of up to `limit` queues, earliest nextAttemptAt first, due or not.
  virtual Result<std::vector<MailDelivery>> mailHeads(uint32_t limit) = 0;
  /// Records a failed attempt that will be retried.
  virtual Result<void> rescheduleMail(int64_t id, int64_t attempts, Millis nextAttemptAt,
                                      const std::string& lastError) = 0;
  /// Ends a row: status "sent" (sentAt = `at`, payload dropped) or "failed". `not_found` when gone.
  virtual Result<void> finishMail(int64_t id, const std::string& status, int64_t attempts, Millis at,
                                  const std::string& lastError) = 0;
  /// Rows still queued.
  virtual Result<int64_t> countQueuedMail() = 0;
  /// Every row of a meeting, oldest first.
  virtual Result<std::vector<MailDelivery>> listMeetingMail(int64_t meetingId) = 0;
};

/// All collections together; what the apiserver holds.
class Storage : public UserStore,
                public LoginStore,
                public InviteStore,
                public ApiKeyStore,
                public RoomStore,
                public MeetingStore,
                public RoomSessionStore,
                public UserSessionStore,
                public MessageStore,
                public RecordingStore,
                public FeedbackStore,
                public FileStore,
                public NodeStore,
                public WebhookStore,
                public MailStore {
 public:
  ~Storage() override = default;
  /// Highest migration applied (for /monitoring and tests).
  virtual Result<int> schemaVersion() = 0;
  /// "sqlite" or "mysql".
  virtual const char* backendName() const = 0;
};

/// How to reach the database. `url` is `sqlite:<path>` or
/// `mysql://user:password@host:port/database` (also `mariadb://`); a bare path means SQLite.
struct StorageConfig {
  std::string url;
  int poolSize = 4;  ///< connections kept open (and the most used at once)
};

/// Opens the back end named by `config.url` and applies pending migrations. `clock` stamps the
/// created/started/ended times and must outlive the storage.
Result<std::unique_ptr<Storage>> openStorage(const StorageConfig& config, const Clock& clock);

}  // namespace meeting::api::db
