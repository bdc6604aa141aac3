#pragma once
// The query code shared by both back ends: Storage implemented over a ConnectionPool of
// SqlConnections. SqliteStorage and MysqlStorage supply the pool (their driver) and the dialect.
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>

#include "api/db/ConnectionPool.hpp"
#include "api/db/Storage.hpp"
#include "common/Clock.hpp"

namespace meeting::api::db {

class SqlStorage : public Storage {
 public:
  SqlStorage(Dialect dialect, std::unique_ptr<ConnectionPool> pool, const Clock& clock);

  /// Applies pending migrations; the back ends' open() calls it once before handing out storage.
  Result<int> migrate();

  Result<int> schemaVersion() override;
  const char* backendName() const override { return dialect_ == Dialect::Sqlite ? "sqlite" : "mysql"; }

  // UserStore
  Result<User> createUser(User user) override;
  Result<User> getUser(int64_t id) override;
  Result<User> findUserByEmail(const std::string& email) override;
  Result<Page<User>> listUsers(const PageQuery& page) override;
  Result<User> updateUser(const User& user) override;
  Result<void> deleteUser(int64_t id) override;
  // LoginStore, InviteStore (SqlStorageAccounts.cpp)
  Result<Login> createLogin(Login login) override;
  Result<Login> findLogin(const std::string& tokenHash, Millis now) override;
  Result<void> deleteLogin(const std::string& tokenHash) override;
  Result<int64_t> deleteUserLogins(int64_t userId) override;
  Result<Invite> createInvite(Invite invite) override;
  Result<Invite> findInvite(const std::string& tokenHash) override;
  Result<void> consumeInvite(const std::string& tokenHash, Millis at) override;
  // ApiKeyStore
  Result<NewApiKey> createApiKey(const std::string& name) override;
  Result<std::vector<ApiKey>> listApiKeys() override;
  Result<void> revokeApiKey(int64_t id) override;
  Result<ApiKey> verifyApiKey(const std::string& secret) override;
  // RoomStore
  Result<Room> createRoom(Room room) override;
  Result<Room> getRoom(const std::string& id) override;
  Result<Page<Room>> listRooms(const PageQuery& page) override;
  Result<void> assignRoomNode(const std::string& id, const std::string& sfuNode) override;
  Result<void> deleteRoom(const std::string& id) override;
  // MeetingStore
  Result<Meeting> createMeeting(Meeting meeting) override;
  Result<Meeting> getMeeting(int64_t id) override;
  Result<Meeting> findMeetingByJoinCode(const std::string& joinCode) override;
  Result<Page<Meeting>> listMeetingsByOwner(const std::string& ownerEmail,
                                            const PageQuery& page) override;
  Result<Meeting> updateMeeting(const Meeting& meeting) override;
  Result<void> deleteMeeting(int64_t id) override;
  // RoomSessionStore
  Result<RoomSession> startRoomSession(const std::string& roomId) override;
  Result<RoomSession> endRoomSession(int64_t id) override;
  Result<RoomSession> currentRoomSession(const std::string& roomId) override;
  Result<RoomSession> getRoomSession(int64_t id) override;
  // UserSessionStore
  Result<UserSession> joinSession(UserSession session) override;
  Result<UserSession> leaveSession(int64_t id, const std::string& reason) override;
  Result<Page<UserSession>> listUserSessions(int64_t roomSessionId, const PageQuery& page) override;
  // MessageStore
  Result<Message> appendMessage(Message message) override;
  Result<Page<Message>> listMessages(int64_t roomSessionId, const PageQuery& page) override;
  Result<std::vector<Message>> listRecentMessages(int64_t roomSessionId, uint32_t limit) override;
  // RecordingStore
  Result<Recording> startRecording(int64_t roomSessionId, const std::string& path) override;
  Result<Recording> finishRecording(int64_t id, const std::string& status) override;
  Result<std::vector<Recording>> listRecordings(int64_t roomSessionId) override;
  // FeedbackStore
  Result<Feedback> addFeedback(Feedback feedback) override;
  Result<Page<Feedback>> listFeedback(int64_t roomSessionId, const PageQuery& page) override;
  // FileStore
  Result<FileEntry> addFile(FileEntry file) override;
  Result<FileEntry> getFile(const std::string& id) override;
  Result<Page<FileEntry>> listFiles(const std::string& roomId, const PageQuery& page) override;
  Result<FileEntry> markFileDeleted(const std::string& id) override;
  // NodeStore
  Result<Node> upsertNode(Node node) override;
  Result<std::vector<Node>> listNodes(const std::string& role) override;
  // WebhookStore (SqlStorageWebhooks.cpp)
  Result<WebhookDelivery> enqueueWebhook(WebhookDelivery delivery, int64_t maxQueued) override;
  Result<std::vector<WebhookDelivery>> webhookHeads(uint32_t limit) override;
  Result<void> rescheduleWebhook(int64_t id, int64_t attempts, Millis nextAttemptAt,
                                 const std::string& lastError) override;
  Result<void> deleteWebhook(int64_t id) override;
  Result<int64_t> countWebhooks() override;
  // MailStore (SqlStorageMail.cpp)
  Result<MailDelivery> enqueueMail(MailDelivery mail) override;
  Result<std::vector<MailDelivery>> mailHeads(uint32_t limit) override;
  Result<void> rescheduleMail(int64_t id, int64_t attempts, Millis nextAttemptAt,
                              const std::string& lastError) override;
  Result<void> finishMail(int64_t id, const std::string& status, int64_t attempts, Millis at,
                          const std::string& lastError) override;
  Result<int64_t> countQueuedMail() override;
  Result<std::vector<MailDelivery>> listMeetingMail(int64_t meetingId) override;

 private:
  /// Runs `f(connection)`; when the connection turned out dead (server restarted), runs it once
  /// more on a fresh connection (after closing the idle ones). A transaction that died with its connection was rolled back by
  /// the server, so repeating it is safe. A deadlock victim is likewise retried once.
  template <typename F>
  auto run(F&& f) -> std::invoke_result_t<F&, SqlConnection&> {
    for (int attempt = 0;; ++attempt) {
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.error();
      lease.value()->clearFailure();
      auto result = f(*lease.value());
      if (!result.ok() && lease.value()->broken()) {
        // The other idle connections date from before the same outage: drop them too, so the
        // retry really runs on a fresh connection.
        lease.value().discard();
        pool_->closeIdle();
        if (attempt == 0) continue;
      } else if (!result.ok() && lease.value()->lastFailureRetryable() && attempt == 0) {
        continue;  // deadlock victim: rolled back by the server (transact() rolled back too)
      }
      return result;
    }
  }

  /// Like run(), inside BEGIN … COMMIT (ROLLBACK when `f` fails).
  template <typename F>
  auto transact(F&& f) -> std::invoke_result_t<F&, SqlConnection&> {
    using R = std::invoke_result_t<F&, SqlConnection&>;
    return run([&](SqlConnection& c) -> R {
      if (auto b = c.execute(beginSql()); !b.ok()) return b.error();
      R result = f(c);
      if (!result.ok()) {
        (void)c.execute("ROLLBACK");
        return result;
      }
      if (auto done = c.execute("COMMIT"); !done.ok()) {
        (void)c.execute("ROLLBACK");
        return done.error();
      }
      return result;
    });
  }

  const char* beginSql() const {
    // SQLite: take the write lock at BEGIN; a deferred transaction that later upgrades can fail
    // with SQLITE_BUSY without waiting for busy_timeout.
    return dialect_ == Dialect::Sqlite ? "BEGIN IMMEDIATE" : "START TRANSACTION";
  }
  Millis now() const { return clock_.wallMicros() / 1000; }

  Dialect dialect_;
  std::unique_ptr<ConnectionPool> pool_;
  const Clock& clock_;
};

/// Helpers shared by the SqlStorage*.cpp files.
namespace sqlutil {
uint32_t clampLimit(uint32_t limit);

/// Size limits that both engines can hold: key-like columns are VARCHAR(255) and text columns
/// TEXT (64 KiB) in MariaDB, so longer values are refused up front on both back ends alike.
inline constexpr size_t KeyMax = 255;
inline constexpr size_t TextMax = 65535;
struct FieldSize {
  const char* name;
  const std::string& value;
  size_t max;
};
/// `invalid_field` naming the first field longer than its limit (in bytes).
Result<void> checkSizes(std::initializer_list<FieldSize> fields);
/// Parses an integer keyset cursor ("" = from the start).
Result<int64_t> intCursor(const std::string& after);
Error notFound(const std::string& what);
/// ASCII lower-case (emails are compared case-insensitively by storing them lower-cased).
std::string lowerAscii(std::string s);
/// Trims `rows` to `limit` and sets `next` to the last kept item's key when more rows exist.
template <typename T, typename KeyFn>
Page<T> makePage(std::vector<T> items, uint32_t limit, KeyFn key) {
  Page<T> page;
  if (items.size() > limit) {
    items.resize(limit);
    page.next = key(items.back());
  }
  page.items = std::move(items);
  return page;
}
}  // namespace sqlutil

}  // namespace meeting::api::db
