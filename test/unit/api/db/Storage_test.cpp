// The storage suite, run against SQLite and MariaDB: every collection's operations and errors.
#include <set>

#include "api/db/Migrations.hpp"
#include "unit/api/db/StorageFixture.hpp"

namespace meeting::api::db::test {
namespace {

// The environment stops the shared MariaDB server after the last test of the binary.
[[maybe_unused]] ::testing::Environment* const Env =
    ::testing::AddGlobalTestEnvironment(new MariaDbEnvironment);

class StorageTest : public StorageFixture {};
INSTANTIATE_FOR_BOTH_BACKENDS(StorageTest);

User makeUser(const std::string& email) {
  User u;
  u.email = email;
  u.displayName = "Name of " + email;
  u.passwordHash = "argon2id$hash";
  return u;
}

TEST_P(StorageTest, MigrationsAreAppliedOnceAndReopenIsIdempotent) {
  ASSERT_OK_AND_ASSIGN(version, db().schemaVersion());
  EXPECT_EQ(version, static_cast<int>(migrations().size()));
  // A second open re-runs the migration check: applying any migration twice would fail on the
  // schema_migrations primary key, so success means each ran exactly once.
  ASSERT_OK_AND_ASSIGN(again, open());
  ASSERT_OK_AND_ASSIGN(version2, again->schemaVersion());
  EXPECT_EQ(version2, version);
  ASSERT_OK_AND_ASSIGN(third, open());
  EXPECT_EQ(third->backendName(), std::string(GetParam() == Backend::Sqlite ? "sqlite" : "mysql"));
}

TEST_P(StorageTest, UsersCrud) {
  ASSERT_OK_AND_ASSIGN(alice, db().createUser(makeUser("Alice@Example.com")));
  EXPECT_GT(alice.id, 0);
  EXPECT_EQ(alice.email, "alice@example.com");
  EXPECT_EQ(alice.createdAt, clock_.wallMicros() / 1000);

  ASSERT_OK_AND_ASSIGN(got, db().getUser(alice.id));
  EXPECT_EQ(got.displayName, alice.displayName);
  EXPECT_EQ(got.passwordHash, "argon2id$hash");
  EXPECT_EQ(got.role, Role::User);
  EXPECT_FALSE(got.disabled);

  ASSERT_OK_AND_ASSIGN(byEmail, db().findUserByEmail("ALICE@example.COM"));
  EXPECT_EQ(byEmail.id, alice.id);
  EXPECT_ERROR_CODE(db().findUserByEmail("nobody@example.com"), errc::NotFound);
  EXPECT_ERROR_CODE(db().createUser(makeUser("alice@example.com")), errc::Conflict);
  EXPECT_ERROR_CODE(db().createUser(makeUser("")), errc::InvalidField);

  User changed = got;
  changed.displayName = "Alice A.";
  changed.role = Role::Admin;
  changed.disabled = true;
  ASSERT_OK_AND_ASSIGN(updated, db().updateUser(changed));
  EXPECT_EQ(updated.displayName, "Alice A.");
  EXPECT_EQ(updated.role, Role::Admin);
  EXPECT_TRUE(updated.disabled);

  ASSERT_OK_AND_ASSIGN(bob, db().createUser(makeUser("bob@example.com")));
  User clash = bob;
  clash.email = "alice@example.com";
  EXPECT_ERROR_CODE(db().updateUser(clash), errc::Conflict);
  User ghost = bob;
  ghost.id = 999999;
  EXPECT_ERROR_CODE(db().updateUser(ghost), errc::NotFound);

  ASSERT_TRUE(db().deleteUser(alice.id).ok());
  EXPECT_ERROR_CODE(db().getUser(alice.id), errc::NotFound);
  EXPECT_ERROR_CODE(db().deleteUser(alice.id), errc::NotFound);
}

TEST_P(StorageTest, UsersPagination) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 7; ++i) {
    ASSERT_OK_AND_ASSIGN(u, db().createUser(makeUser("u" + std::to_string(i) + "@x.org")));
    ids.push_back(u.id);
  }
  std::vector<int64_t> seen;
  PageQuery q{"", 3};
  int pages = 0;
  for (;;) {
    ASSERT_OK_AND_ASSIGN(page, db().listUsers(q));
    ++pages;
    for (const auto& u : page.items) seen.push_back(u.id);
    if (page.next.empty()) break;
    EXPECT_EQ(page.items.size(), 3u);
    q.after = page.next;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, ids);
  EXPECT_ERROR_CODE(db().listUsers(PageQuery{"not-a-number", 3}), errc::InvalidField);
  ASSERT_OK_AND_ASSIGN(all, db().listUsers(PageQuery{"", 0}));  // 0 is clamped to 1
  EXPECT_EQ(all.items.size(), 1u);
}

TEST_P(StorageTest, ApiKeysStoreOnlyTheHash) {
  ASSERT_OK_AND_ASSIGN(created, db().createApiKey("ci"));
  EXPECT_EQ(created.secret.rfind("mk_", 0), 0u);
  EXPECT_GE(created.secret.size(), 40u);
  EXPECT_EQ(created.key.keyHash.size(), 64u);
  EXPECT_EQ(created.secret.find(created.key.keyHash), std::string::npos);
  EXPECT_EQ(created.secret.substr(0, created.key.prefix.size()), created.key.prefix);

  ASSERT_OK_AND_ASSIGN(other, db().createApiKey("ops"));
  EXPECT_NE(other.secret, created.secret);

  ASSERT_OK_AND_ASSIGN(list, db().listApiKeys());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "ci");
  for (const auto& k : list) EXPECT_EQ(k.revokedAt, 0);

  ASSERT_OK_AND_ASSIGN(verified, db().verifyApiKey(created.secret));
  EXPECT_EQ(verified.id, created.key.id);
  EXPECT_ERROR_CODE(db().verifyApiKey(created.secret + "x"), errc::NotFound);
  EXPECT_ERROR_CODE(db().verifyApiKey(""), errc::NotFound);

  ASSERT_TRUE(db().revokeApiKey(created.key.id).ok());
  EXPECT_ERROR_CODE(db().verifyApiKey(created.secret), errc::NotFound);
  EXPECT_TRUE(db().revokeApiKey(created.key.id).ok());  // idempotent
  EXPECT_ERROR_CODE(db().revokeApiKey(4242), errc::NotFound);
  ASSERT_OK_AND_ASSIGN(stillValid, db().verifyApiKey(other.secret));
  EXPECT_EQ(stillValid.name, "ops");
}

TEST_P(StorageTest, RoomsCrudAndOptions) {
  Room custom;
  custom.id = "daily-standup";
  custom.maxPeers = 10;
  custom.videoCodec = "h264";
  custom.webhookUrl = "https://hooks.example.com/meet";
  custom.peerlessPurgeTimeout = 60;
  ASSERT_OK_AND_ASSIGN(room, db().createRoom(custom));
  EXPECT_EQ(room.id, "daily-standup");

  ASSERT_OK_AND_ASSIGN(generated, db().createRoom(Room{}));
  EXPECT_EQ(generated.id.size(), 36u);  // UUID text form
  EXPECT_EQ(generated.id[14], '4');

  ASSERT_OK_AND_ASSIGN(got, db().getRoom("daily-standup"));
  EXPECT_EQ(got.maxPeers, std::optional<int64_t>(10));
  EXPECT_EQ(got.videoCodec, "h264");
  EXPECT_EQ(got.webhookUrl, "https://hooks.example.com/meet");
  EXPECT_EQ(got.peerlessPurgeTimeout, std::optional<int64_t>(60));
  EXPECT_FALSE(got.peerDisconnectedTimeout.has_value());
  ASSERT_OK_AND_ASSIGN(unlimited, db().getRoom(generated.id));
  EXPECT_FALSE(unlimited.maxPeers.has_value());

  EXPECT_ERROR_CODE(db().createRoom(custom), errc::Conflict);
  EXPECT_ERROR_CODE(db().getRoom("missing"), errc::NotFound);
  EXPECT_ERROR_CODE(db().createRoom(roomNamed(std::string(300, 'r'))), errc::InvalidField);

  ASSERT_TRUE(db().assignRoomNode("daily-standup", "sfu-2").ok());
  ASSERT_OK_AND_ASSIGN(assigned, db().getRoom("daily-standup"));
  EXPECT_EQ(assigned.sfuNode, "sfu-2");
  EXPECT_ERROR_CODE(db().assignRoomNode("missing", "sfu-2"), errc::NotFound);

  ASSERT_TRUE(db().deleteRoom("daily-standup").ok());
  EXPECT_ERROR_CODE(db().getRoom("daily-standup"), errc::NotFound);
  EXPECT_ERROR_CODE(db().deleteRoom("daily-standup"), errc::NotFound);
}

TEST_P(StorageTest, RoomsPaginationByTextId) {
  std::set<std::string> created;
  for (int i = 0; i < 8; ++i) {
    ASSERT_OK_AND_ASSIGN(r, db().createRoom(roomNamed("room-" + std::to_string(i))));
    created.insert(r.id);
  }
  std::vector<std::string> seen;
  PageQuery q{"", 3};
  for (;;) {
    ASSERT_OK_AND_ASSIGN(page, db().listRooms(q));
    for (const auto& r : page.items) seen.push_back(r.id);
    if (page.next.empty()) break;
    q.after = page.next;
  }
  EXPECT_EQ(seen, std::vector<std::string>(created.begin(), created.end()));
}

TEST_P(StorageTest, DeletingARoomKeepsItsHistory) {
  ASSERT_OK_AND_ASSIGN(room, db().createRoom(roomNamed("history")));
  ASSERT_OK_AND_ASSIGN(rs, db().startRoomSession(room.id));
  ASSERT_OK_AND_ASSIGN(us, db().joinSession(peerJoin(rs.id, "peer-1", std::nullopt, "Ann")));
  Message m;
  m.roomSessionId = rs.id;
  m.peerId = "peer-1";
  m.text = "hello";
  ASSERT_TRUE(db().appendMessage(m).ok());

  clock_.advance(std::chrono::seconds(5));
  ASSERT_TRUE(db().deleteRoom(room.id).ok());
  EXPECT_ERROR_CODE(db().currentRoomSession(room.id), errc::NotFound);
  ASSERT_OK_AND_ASSIGN(ended, db().getRoomSession(rs.id));
  EXPECT_EQ(ended.endedAt, rs.startedAt + 5000);
  EXPECT_EQ(ended.roomId, "history");
  ASSERT_OK_AND_ASSIGN(sessions, db().listUserSessions(rs.id, {}));
  ASSERT_EQ(sessions.items.size(), 1u);
  EXPECT_EQ(sessions.items[0].leaveReason, "room_deleted");
  EXPECT_EQ(sessions.items[0].leftAt, ended.endedAt);
  ASSERT_OK_AND_ASSIGN(messages, db().listMessages(rs.id, {}));
  ASSERT_EQ(messages.items.size(), 1u);
  EXPECT_EQ(messages.items[0].roomId, "history");
  (void)us;
}

TEST_P(StorageTest, MeetingsCrud) {
  Meeting m;
  m.roomId = "weekly";
  m.title = "Weekly sync";
  m.ownerEmail = "Owner@Example.com";
  m.beginAt = 1'800'000'000'000;
  m.endAt = 1'800'003'600'000;
  m.invitees = {"a@example.com", "b@example.com"};
  ASSERT_OK_AND_ASSIGN(created, db().createMeeting(m));
  EXPECT_GT(created.id, 0);
  EXPECT_EQ(created.joinCode.size(), 12u);  // xxx-xxxx-xxx
  EXPECT_EQ(created.sequence, 0);
  EXPECT_EQ(created.ownerEmail, "owner@example.com");

  ASSERT_OK_AND_ASSIGN(byCode, db().findMeetingByJoinCode(created.joinCode));
  EXPECT_EQ(byCode.id, created.id);
  EXPECT_EQ(byCode.invitees, m.invitees);
  EXPECT_EQ(byCode.endAt, m.endAt);
  EXPECT_ERROR_CODE(db().findMeetingByJoinCode("NOPE"), errc::NotFound);

  Meeting instant;
  instant.title = "Now";
  instant.ownerEmail = "owner@example.com";
  instant.joinCode = "FIXEDCODE1";
  ASSERT_OK_AND_ASSIGN(inst, db().createMeeting(instant));
  EXPECT_EQ(inst.endAt, 0);
  EXPECT_ERROR_CODE(db().createMeeting(instant), errc::Conflict);

  Meeting edited = byCode;
  edited.title = "Weekly sync (moved)";
  edited.invitees.push_back("c@example.com");
  clock_.advance(std::chrono::seconds(1));
  ASSERT_OK_AND_ASSIGN(updated, db().updateMeeting(edited));
  EXPECT_EQ(updated.sequence, 1);
  EXPECT_EQ(updated.title, "Weekly sync (moved)");
  EXPECT_EQ(updated.invitees.size(), 3u);
  EXPECT_EQ(updated.updatedAt, created.updatedAt + 1000);
  ASSERT_OK_AND_ASSIGN(updated2, db().updateMeeting(edited));
  EXPECT_EQ(updated2.sequence, 2);
  edited.joinCode = "FIXEDCODE1";
  EXPECT_ERROR_CODE(db().updateMeeting(edited), errc::Conflict);
  Meeting ghost = edited;
  ghost.id = 777777;
  ghost.joinCode = "GHOST";
  EXPECT_ERROR_CODE(db().updateMeeting(ghost), errc::NotFound);

  Meeting foreign = instant;
  foreign.ownerEmail = "someone@else.org";
  foreign.joinCode.clear();
  ASSERT_TRUE(db().createMeeting(foreign).ok());
  ASSERT_OK_AND_ASSIGN(mine, db().listMeetingsByOwner("OWNER@example.com", PageQuery{"", 1}));
  ASSERT_EQ(mine.items.size(), 1u);
  EXPECT_EQ(mine.items[0].id, created.id);
  ASSERT_FALSE(mine.next.empty());
  ASSERT_OK_AND_ASSIGN(mine2, db().listMeetingsByOwner("owner@example.com", PageQuery{mine.next, 1}));
  ASSERT_EQ(mine2.items.size(), 1u);
  EXPECT_EQ(mine2.items[0].id, inst.id);
  EXPECT_TRUE(mine2.next.empty());

  ASSERT_TRUE(db().deleteMeeting(created.id).ok());
  EXPECT_ERROR_CODE(db().getMeeting(created.id), errc::NotFound);
  EXPECT_ERROR_CODE(db().deleteMeeting(created.id), errc::NotFound);
}

TEST_P(StorageTest, RoomSessionsLifecycle) {
  EXPECT_ERROR_CODE(db().currentRoomSession("r1"), errc::NotFound);
  ASSERT_OK_AND_ASSIGN(s1, db().startRoomSession("r1"));
  EXPECT_EQ(s1.endedAt, 0);
  EXPECT_ERROR_CODE(db().startRoomSession("r1"), errc::Conflict);
  ASSERT_OK_AND_ASSIGN(other, db().startRoomSession("r2"));  // other rooms are independent
  ASSERT_OK_AND_ASSIGN(current, db().currentRoomSession("r1"));
  EXPECT_EQ(current.id, s1.id);

  ASSERT_OK_AND_ASSIGN(a, db().joinSession(peerJoin(s1.id, "pa", std::nullopt, "A")));
  ASSERT_OK_AND_ASSIGN(b, db().joinSession(peerJoin(s1.id, "pb", std::nullopt, "B")));
  ASSERT_TRUE(db().leaveSession(a.id, "left").ok());

  clock_.advance(std::chrono::minutes(1));
  ASSERT_OK_AND_ASSIGN(ended, db().endRoomSession(s1.id));
  EXPECT_EQ(ended.endedAt, s1.startedAt + 60'000);
  EXPECT_ERROR_CODE(db().currentRoomSession("r1"), errc::NotFound);
  EXPECT_ERROR_CODE(db().endRoomSession(s1.id), errc::Conflict);
  EXPECT_ERROR_CODE(db().endRoomSession(987654), errc::NotFound);
  ASSERT_OK_AND_ASSIGN(list, db().listUserSessions(s1.id, {}));
  ASSERT_EQ(list.items.size(), 2u);
  EXPECT_EQ(list.items[0].leaveReason, "left");  // closed before the end keeps its reason
  EXPECT_EQ(list.items[1].id, b.id);
  EXPECT_EQ(list.items[1].leaveReason, "session_ended");
  EXPECT_EQ(list.items[1].leftAt, ended.endedAt);

  ASSERT_OK_AND_ASSIGN(s2, db().startRoomSession("r1"));  // a new session once the old ended
  EXPECT_NE(s2.id, s1.id);
  EXPECT_ERROR_CODE(db().joinSession(peerJoin(s1.id, "late", std::nullopt, "L")), errc::Conflict);
  (void)other;
}

TEST_P(StorageTest, UserSessions) {
  ASSERT_OK_AND_ASSIGN(user, db().createUser(makeUser("member@x.org")));
  ASSERT_OK_AND_ASSIGN(rs, db().startRoomSession("room"));
  EXPECT_ERROR_CODE(db().joinSession(peerJoin(123456, "p", std::nullopt, "X")), errc::NotFound);
  ASSERT_OK_AND_ASSIGN(signedIn, db().joinSession(peerJoin(rs.id, "p1", user.id, "Member")));
  ASSERT_OK_AND_ASSIGN(guest, db().joinSession(peerJoin(rs.id, "p2", std::nullopt, "Guest")));
  EXPECT_EQ(signedIn.joinedAt, clock_.wallMicros() / 1000);

  clock_.advance(std::chrono::seconds(3));
  ASSERT_OK_AND_ASSIGN(left, db().leaveSession(guest.id, "network"));
  EXPECT_EQ(left.leftAt, guest.joinedAt + 3000);
  EXPECT_EQ(left.leaveReason, "network");
  EXPECT_ERROR_CODE(db().leaveSession(guest.id, "again"), errc::Conflict);
  EXPECT_ERROR_CODE(db().leaveSession(55555, "x"), errc::NotFound);

  ASSERT_OK_AND_ASSIGN(page1, db().listUserSessions(rs.id, PageQuery{"", 1}));
  ASSERT_EQ(page1.items.size(), 1u);
  EXPECT_EQ(page1.items[0].userId, std::optional<int64_t>(user.id));
  ASSERT_OK_AND_ASSIGN(page2, db().listUserSessions(rs.id, PageQuery{page1.next, 1}));
  ASSERT_EQ(page2.items.size(), 1u);
  EXPECT_FALSE(page2.items[0].userId.has_value());
  EXPECT_TRUE(page2.next.empty());

  // Deleting the user keeps the session row (user_id becomes NULL).
  ASSERT_TRUE(db().deleteUser(user.id).ok());
  ASSERT_OK_AND_ASSIGN(after, db().listUserSessions(rs.id, {}));
  ASSERT_EQ(after.items.size(), 2u);
  EXPECT_FALSE(after.items[0].userId.has_value());
}

TEST_P(StorageTest, MessagesAppendAndPageInOrder) {
  ASSERT_OK_AND_ASSIGN(rs, db().startRoomSession("chat-room"));
  ASSERT_OK_AND_ASSIGN(otherRs, db().startRoomSession("elsewhere"));
  for (int i = 0; i < 25; ++i) {
    Message m{0, rs.id, "ignored-room", "peer", "Pat", "message " + std::to_string(i), 0};
    ASSERT_TRUE(db().appendMessage(m).ok());
    clock_.advance(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(db().appendMessage(Message{0, otherRs.id, "", "p", "Q", "elsewhere", 0}).ok());
  EXPECT_ERROR_CODE(db().appendMessage(Message{0, 999999, "", "p", "Q", "lost", 0}), errc::NotFound);

  std::vector<std::string> texts;
  PageQuery q{"", 10};
  int pages = 0;
  Millis lastSent = 0;
  for (;;) {
    ASSERT_OK_AND_ASSIGN(page, db().listMessages(rs.id, q));
    ++pages;
    for (const auto& m : page.items) {
      texts.push_back(m.text);
      EXPECT_EQ(m.roomId, "chat-room");  // copied from the session, not the caller
      EXPECT_GT(m.sentAt, lastSent);
      lastSent = m.sentAt;
    }
    if (page.next.empty()) break;
    q.after = page.next;
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(texts.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(texts[static_cast<size_t>(i)], "message " + std::to_string(i));

  Message stamped{0, rs.id, "", "peer", "Pat", "explicit time", 1234};
  ASSERT_OK_AND_ASSIGN(kept, db().appendMessage(stamped));
  EXPECT_EQ(kept.sentAt, 1234);
}

TEST_P(StorageTest, RecordingsAndFeedback) {
  ASSERT_OK_AND_ASSIGN(rs, db().startRoomSession("rec-room"));
  ASSERT_OK_AND_ASSIGN(rec, db().startRecording(rs.id, "/var/lib/meeting/rec/1.webm"));
  EXPECT_EQ(rec.status, "recording");
  EXPECT_ERROR_CODE(db().startRecording(424242, "/x"), errc::NotFound);
  clock_.advance(std::chrono::seconds(30));
  ASSERT_OK_AND_ASSIGN(done, db().finishRecording(rec.id, "done"));
  EXPECT_EQ(done.endedAt, rec.startedAt + 30'000);
  EXPECT_EQ(done.status, "done");
  EXPECT_ERROR_CODE(db().finishRecording(424242, "done"), errc::NotFound);
  ASSERT_OK_AND_ASSIGN(recs, db().listRecordings(rs.id));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].path, "/var/lib/meeting/rec/1.webm");

  EXPECT_ERROR_CODE(db().addFeedback(Feedback{0, rs.id, "p", 0, "", 0}), errc::InvalidField);
  EXPECT_ERROR_CODE(db().addFeedback(Feedback{0, rs.id, "p", 6, "", 0}), errc::InvalidField);
  EXPECT_ERROR_CODE(db().addFeedback(Feedback{0, 31337, "p", 3, "", 0}), errc::NotFound);
  for (int rating = 1; rating <= 5; ++rating) {
    ASSERT_TRUE(db().addFeedback(Feedback{0, rs.id, "p" + std::to_string(rating), rating, "ok", 0}).ok());
  }
  ASSERT_OK_AND_ASSIGN(page, db().listFeedback(rs.id, PageQuery{"", 4}));
  ASSERT_EQ(page.items.size(), 4u);
  EXPECT_EQ(page.items[0].rating, 1);
  ASSERT_OK_AND_ASSIGN(rest, db().listFeedback(rs.id, PageQuery{page.next, 4}));
  ASSERT_EQ(rest.items.size(), 1u);
  EXPECT_EQ(rest.items[0].rating, 5);
  EXPECT_EQ(rest.items[0].comment, "ok");
}

TEST_P(StorageTest, FilesMetadata) {
  FileEntry f;
  f.roomId = "files-room";
  f.name = "slides.pdf";
  f.contentType = "application/pdf";
  f.size = 1 << 20;
  f.sha256 = std::string(64, 'a');
  f.uploader = "peer-7";
  f.fsNode = "fs-1";
  ASSERT_OK_AND_ASSIGN(added, db().addFile(f));
  EXPECT_EQ(added.id.size(), 36u);
  FileEntry named = f;
  named.id = "fixed-id";
  ASSERT_TRUE(db().addFile(named).ok());
  EXPECT_ERROR_CODE(db().addFile(named), errc::Conflict);
  FileEntry negative = f;
  negative.size = -1;
  EXPECT_ERROR_CODE(db().addFile(negative), errc::InvalidField);

  ASSERT_OK_AND_ASSIGN(got, db().getFile(added.id));
  EXPECT_EQ(got.name, "slides.pdf");
  EXPECT_EQ(got.size, 1 << 20);
  EXPECT_EQ(got.deletedAt, 0);
  EXPECT_ERROR_CODE(db().getFile("nope"), errc::NotFound);

  ASSERT_OK_AND_ASSIGN(live, db().listFiles("files-room", {}));
  EXPECT_EQ(live.items.size(), 2u);
  clock_.advance(std::chrono::seconds(1));
  ASSERT_OK_AND_ASSIGN(deleted, db().markFileDeleted("fixed-id"));
  EXPECT_NE(deleted.deletedAt, 0);
  clock_.advance(std::chrono::seconds(1));
  ASSERT_OK_AND_ASSIGN(again, db().markFileDeleted("fixed-id"));
  EXPECT_EQ(again.deletedAt, deleted.deletedAt);  // first deletion time kept
  EXPECT_ERROR_CODE(db().markFileDeleted("nope"), errc::NotFound);
  ASSERT_OK_AND_ASSIGN(remaining, db().listFiles("files-room", {}));
  ASSERT_EQ(remaining.items.size(), 1u);
  EXPECT_EQ(remaining.items[0].id, added.id);
  ASSERT_OK_AND_ASSIGN(tombstone, db().getFile("fixed-id"));
  EXPECT_EQ(tombstone.deletedAt, deleted.deletedAt);
}

TEST_P(StorageTest, NodesUpsertAndList) {
  ASSERT_TRUE(db().upsertNode(Node{"sfu-1", "sfu", "203.0.113.1:443", 100, 0}).ok());
  ASSERT_TRUE(db().upsertNode(Node{"turn-1", "turn", "203.0.113.2:3478", 500, 0}).ok());
  clock_.advance(std::chrono::seconds(2));
  ASSERT_OK_AND_ASSIGN(updated, db().upsertNode(Node{"sfu-1", "sfu", "203.0.113.9:443", 120, 0}));
  ASSERT_OK_AND_ASSIGN(all, db().listNodes(""));
  ASSERT_EQ(all.size(), 2u);
  ASSERT_OK_AND_ASSIGN(sfus, db().listNodes("sfu"));
  ASSERT_EQ(sfus.size(), 1u);
  EXPECT_EQ(sfus[0].address, "203.0.113.9:443");
  EXPECT_EQ(sfus[0].capacity, 120);
  EXPECT_EQ(sfus[0].lastSeen, updated.lastSeen);
  EXPECT_ERROR_CODE(db().upsertNode(Node{}), errc::InvalidField);
}

}  // namespace
}  // namespace meeting::api::db::test
