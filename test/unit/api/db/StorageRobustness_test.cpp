// The storage suite, part two: text fidelity, hostile input, concurrency and server restarts.
#include <atomic>
#include <future>
#include <thread>

#include "api/db/DbExecutor.hpp"
#include "unit/api/db/StorageFixture.hpp"

namespace meeting::api::db::test {
namespace {

class StorageRobustnessTest : public StorageFixture {};
INSTANTIATE_FOR_BOTH_BACKENDS(StorageRobustnessTest);

TEST_P(StorageRobustnessTest, UnicodeTextRoundTrips) {
  // 4-byte UTF-8 (emoji) needs utf8mb4 in MariaDB; combining marks, RTL and CJK must come back
  // byte for byte.
  const std::string name = "Zoë 👩🏽‍💻 Ñandú — 日本語 — مرحبا — e\xCC\x81";
  const std::string longText = [] {
    std::string s;
    while (s.size() < 20'000) s += "😀 längerer Text / 長いテキスト; ";
    return s;
  }();
  ASSERT_OK_AND_ASSIGN(user, db().createUser(newUser("ünïcode@example.com", name, "h")));
  ASSERT_OK_AND_ASSIGN(got, db().getUser(user.id));
  EXPECT_EQ(got.displayName, name);
  EXPECT_EQ(got.email, "ünïcode@example.com");  // only ASCII letters are lower-cased

  ASSERT_OK_AND_ASSIGN(room, db().createRoom(roomNamed("комната-😀")));
  ASSERT_OK_AND_ASSIGN(gotRoom, db().getRoom("комната-😀"));
  EXPECT_EQ(gotRoom.id, room.id);

  ASSERT_OK_AND_ASSIGN(rs, db().startRoomSession(room.id));
  ASSERT_TRUE(db().appendMessage(Message{0, rs.id, "", "p", name, longText, 0}).ok());
  ASSERT_OK_AND_ASSIGN(msgs, db().listMessages(rs.id, {}));
  ASSERT_EQ(msgs.items.size(), 1u);
  EXPECT_EQ(msgs.items[0].displayName, name);
  EXPECT_EQ(msgs.items[0].text, longText);  // longer than the MariaDB driver's first buffer
  EXPECT_EQ(msgs.items[0].roomId, "комната-😀");

  Meeting m;
  m.title = "Réunion 📅";
  m.ownerEmail = "o@x.org";
  m.invitees = {"δ@example.gr", "名前@example.jp"};
  ASSERT_OK_AND_ASSIGN(meeting, db().createMeeting(m));
  ASSERT_OK_AND_ASSIGN(gotMeeting, db().getMeeting(meeting.id));
  EXPECT_EQ(gotMeeting.title, m.title);
  EXPECT_EQ(gotMeeting.invitees, m.invitees);
}

TEST_P(StorageRobustnessTest, SqlInjectionLookingTextIsStoredVerbatim) {
  const std::string evil = "Robert'); DROP TABLE users; -- \" ` \\ %_ \\' OR '1'='1";
  ASSERT_OK_AND_ASSIGN(user, db().createUser(newUser("evil@x.org", evil, evil)));
  ASSERT_OK_AND_ASSIGN(got, db().getUser(user.id));
  EXPECT_EQ(got.displayName, evil);
  EXPECT_EQ(got.passwordHash, evil);
  EXPECT_ERROR_CODE(db().findUserByEmail("' OR '1'='1"), errc::NotFound);
  EXPECT_ERROR_CODE(db().findUserByEmail("%"), errc::NotFound);

  ASSERT_OK_AND_ASSIGN(room, db().createRoom(roomNamed(evil)));
  ASSERT_OK_AND_ASSIGN(rs, db().startRoomSession(room.id));
  ASSERT_TRUE(db().appendMessage(Message{0, rs.id, "", evil, evil, evil, 0}).ok());
  ASSERT_OK_AND_ASSIGN(msgs, db().listMessages(rs.id, {}));
  ASSERT_EQ(msgs.items.size(), 1u);
  EXPECT_EQ(msgs.items[0].text, evil);
  EXPECT_ERROR_CODE(db().verifyApiKey(evil), errc::NotFound);
  ASSERT_OK_AND_ASSIGN(rooms, db().listRooms(PageQuery{"' OR 1=1 --", 10}));
  EXPECT_TRUE(rooms.items.empty() || rooms.items[0].id == evil);

  // Everything is still there.
  ASSERT_OK_AND_ASSIGN(users, db().listUsers({}));
  EXPECT_EQ(users.items.size(), 1u);
  ASSERT_TRUE(db().getRoom(evil).ok());
}

TEST_P(StorageRobustnessTest, OversizedValuesAreRefusedAlikeOnBothBackends) {
  const std::string longKey(256, 'k');
  const std::string hugeText(70'000, 't');
  EXPECT_ERROR_CODE(db().createUser(newUser(longKey + "@x.org", "n", "h")), errc::InvalidField);
  EXPECT_ERROR_CODE(db().createRoom(roomNamed(longKey)), errc::InvalidField);
  ASSERT_OK_AND_ASSIGN(rs, db().startRoomSession("sized"));
  EXPECT_ERROR_CODE(db().appendMessage(Message{0, rs.id, "", "p", "n", hugeText, 0}), errc::InvalidField);
  EXPECT_ERROR_CODE(db().joinSession(peerJoin(rs.id, longKey, std::nullopt, "n")), errc::InvalidField);
  // Exactly at the limits is fine (255 4-byte characters would not be: the limit is in bytes).
  ASSERT_TRUE(db().createRoom(roomNamed(std::string(255, 'k'))).ok());
  ASSERT_TRUE(db().appendMessage(Message{0, rs.id, "", "p", "n", std::string(65'535, 't'), 0}).ok());
  ASSERT_OK_AND_ASSIGN(msgs, db().listMessages(rs.id, {}));
  ASSERT_EQ(msgs.items.size(), 1u);
  EXPECT_EQ(msgs.items[0].text.size(), 65'535u);
}

TEST_P(StorageRobustnessTest, ConcurrentWritersFromFourThreads) {
  constexpr int Threads = 4;
  constexpr int PerThread = 40;
  ASSERT_OK_AND_ASSIGN(rs, db().startRoomSession("busy-room"));
  std::atomic<int> failures{0};
  std::vector<std::string> errors(Threads);
  std::vector<std::thread> threads;
  for (int t = 0; t < Threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < PerThread; ++i) {
        const std::string tag = std::to_string(t) + "-" + std::to_string(i);
        auto u = db().createUser(newUser("w" + tag + "@x.org", "W", "h"));
        auto m = db().appendMessage(Message{0, rs.id, "", "peer-" + tag, "W", "msg " + tag, 0});
        auto j = db().joinSession(peerJoin(rs.id, "peer-" + tag, std::nullopt, "W"));
        for (const Error* e : {u.ok() ? nullptr : &u.error(), m.ok() ? nullptr : &m.error(),
                               j.ok() ? nullptr : &j.error()}) {
          if (e != nullptr) {
            ++failures;
            errors[static_cast<size_t>(t)] = e->code + ": " + e->message;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0) << errors[0] << errors[1] << errors[2] << errors[3];

  size_t users = 0;
  PageQuery q{"", MaxPageLimit};
  for (;;) {
    ASSERT_OK_AND_ASSIGN(page, db().listUsers(q));
    users += page.items.size();
    if (page.next.empty()) break;
    q.after = page.next;
  }
  EXPECT_EQ(users, static_cast<size_t>(Threads * PerThread));
  ASSERT_OK_AND_ASSIGN(msgs, db().listMessages(rs.id, PageQuery{"", MaxPageLimit}));
  EXPECT_EQ(msgs.items.size(), static_cast<size_t>(Threads * PerThread));
  for (size_t i = 1; i < msgs.items.size(); ++i) EXPECT_LT(msgs.items[i - 1].id, msgs.items[i].id);
  ASSERT_OK_AND_ASSIGN(sessions, db().listUserSessions(rs.id, PageQuery{"", MaxPageLimit}));
  EXPECT_EQ(sessions.items.size(), static_cast<size_t>(Threads * PerThread));
}

TEST_P(StorageRobustnessTest, WorksThroughTheDbExecutor) {
  DbExecutor executor(2, 64);
  constexpr int Jobs = 20;
  std::promise<void> allDone;
  std::atomic<int> completed{0};
  std::atomic<int> ok{0};
  for (int i = 0; i < Jobs; ++i) {
    ASSERT_TRUE(executor.post([this, i] { return db().createRoom(roomNamed("exec-" + std::to_string(i))); },
                              [&](Result<Room> r) {
                                if (r.ok()) ++ok;
                                if (++completed == Jobs) allDone.set_value();
                              }));
  }
  ASSERT_EQ(allDone.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  executor.shutdown();
  EXPECT_EQ(ok.load(), Jobs);
  ASSERT_OK_AND_ASSIGN(rooms, db().listRooms(PageQuery{"", 100}));
  EXPECT_EQ(rooms.items.size(), static_cast<size_t>(Jobs));
}

TEST_P(StorageRobustnessTest, ReconnectsAfterServerRestart) {
  if (GetParam() != Backend::Mariadb) GTEST_SKIP() << "only a server can restart";
  ASSERT_TRUE(db().createRoom(roomNamed("before-restart")).ok());
  // Warm several pooled connections so that more than one goes stale.
  {
    std::vector<std::thread> readers;
    for (int i = 0; i < 4; ++i) readers.emplace_back([this] { (void)db().getRoom("before-restart"); });
    for (auto& t : readers) t.join();
  }

  server_->stop();
  // While it is down: a clear error, no exception, no hang.
  auto down = db().getRoom("before-restart");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, errc::Unavailable) << down.error().message;

  ASSERT_TRUE(server_->start().ok());
  ASSERT_OK_AND_ASSIGN(room, db().getRoom("before-restart"));
  EXPECT_EQ(room.id, "before-restart");
  ASSERT_TRUE(db().createRoom(roomNamed("after-restart")).ok());

  // Restart again with live pooled connections: the very next call must succeed (one transparent
  // retry on a fresh connection).
  server_->stop();
  ASSERT_TRUE(server_->start().ok());
  ASSERT_OK_AND_ASSIGN(again, db().getRoom("after-restart"));
  EXPECT_EQ(again.id, "after-restart");
  ASSERT_OK_AND_ASSIGN(rs, db().startRoomSession("after-restart"));  // a write, in a new session
  ASSERT_TRUE(db().endRoomSession(rs.id).ok());                     // and a transaction
}

}  // namespace
}  // namespace meeting::api::db::test
