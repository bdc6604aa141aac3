// Browser sessions, invitations (migration 6), the waiting_room flag, join-code shape and the
// recent chat history on both back ends.
#include <regex>

#include "unit/api/db/StorageFixture.hpp"

namespace meeting::api::db::test {
namespace {

class AccountStoreTest : public StorageFixture {};
INSTANTIATE_FOR_BOTH_BACKENDS(AccountStoreTest);

User someone(const std::string& email) {
  User u;
  u.email = email;
  u.displayName = "Someone";
  u.passwordHash = "$argon2id$x";
  return u;
}

TEST_P(AccountStoreTest, LoginsExpireAndAreRevoked) {
  ASSERT_OK_AND_ASSIGN(user, db().createUser(someone("a@example.com")));
  ASSERT_OK_AND_ASSIGN(login, db().createLogin(Login{"hash-1", user.id, 0, 5000}));
  EXPECT_EQ(login.userId, user.id);
  ASSERT_OK_AND_ASSIGN(found, db().findLogin("hash-1", 4999));
  EXPECT_EQ(found.userId, user.id);
  EXPECT_EQ(found.expiresAt, 5000);
  EXPECT_ERROR_CODE(db().findLogin("hash-1", 5000), errc::NotFound);  // expired
  EXPECT_ERROR_CODE(db().findLogin("other", 0), errc::NotFound);
  EXPECT_ERROR_CODE(db().createLogin(Login{"hash-1", user.id, 0, 9000}), errc::Conflict);
  ASSERT_TRUE(db().deleteLogin("hash-1").ok());
  EXPECT_ERROR_CODE(db().deleteLogin("hash-1"), errc::NotFound);
  ASSERT_TRUE(db().createLogin(Login{"h2", user.id, 0, 9000}).ok());
  ASSERT_TRUE(db().createLogin(Login{"h3", user.id, 0, 9000}).ok());
  ASSERT_OK_AND_ASSIGN(n, db().deleteUserLogins(user.id));
  EXPECT_EQ(n, 2);
  EXPECT_ERROR_CODE(db().findLogin("h2", 0), errc::NotFound);
}

TEST_P(AccountStoreTest, LoginsAndInvitesGoWithTheirUser) {
  ASSERT_OK_AND_ASSIGN(user, db().createUser(someone("b@example.com")));
  ASSERT_TRUE(db().createLogin(Login{"hl", user.id, 0, 9000}).ok());
  ASSERT_TRUE(db().createInvite(Invite{"hi", user.id, 0, 9000, 0}).ok());
  ASSERT_TRUE(db().deleteUser(user.id).ok());
  EXPECT_ERROR_CODE(db().findLogin("hl", 0), errc::NotFound);
  EXPECT_ERROR_CODE(db().findInvite("hi"), errc::NotFound);
}

TEST_P(AccountStoreTest, InvitesAreUsedOnce) {
  ASSERT_OK_AND_ASSIGN(user, db().createUser(someone("c@example.com")));
  ASSERT_OK_AND_ASSIGN(invite, db().createInvite(Invite{"inv", user.id, 0, 7000, 0}));
  EXPECT_EQ(invite.usedAt, 0);
  ASSERT_OK_AND_ASSIGN(found, db().findInvite("inv"));
  EXPECT_EQ(found.expiresAt, 7000);
  ASSERT_TRUE(db().consumeInvite("inv", 100).ok());
  EXPECT_ERROR_CODE(db().consumeInvite("inv", 200), errc::Conflict);
  EXPECT_ERROR_CODE(db().consumeInvite("nope", 200), errc::NotFound);
  ASSERT_OK_AND_ASSIGN(used, db().findInvite("inv"));
  EXPECT_EQ(used.usedAt, 100);
}

TEST_P(AccountStoreTest, MeetingsKeepWaitingRoomAndGetReadableCodes) {
  Meeting m;
  m.roomId = "r1";
  m.ownerEmail = "o@example.com";
  m.waitingRoom = true;
  ASSERT_OK_AND_ASSIGN(created, db().createMeeting(m));
  EXPECT_TRUE(std::regex_match(created.joinCode, std::regex("[a-z0-9]{3}-[a-z0-9]{4}-[a-z0-9]{3}"))) << created.joinCode;
  ASSERT_OK_AND_ASSIGN(read, db().findMeetingByJoinCode(created.joinCode));
  EXPECT_TRUE(read.waitingRoom);
  read.waitingRoom = false;
  ASSERT_OK_AND_ASSIGN(updated, db().updateMeeting(read));
  EXPECT_FALSE(updated.waitingRoom);
}

TEST_P(AccountStoreTest, RecentMessagesAreTheLastOnesOldestFirst) {
  ASSERT_OK_AND_ASSIGN(session, db().startRoomSession("room-1"));
  for (int i = 0; i < 5; ++i) {
    Message m;
    m.roomSessionId = session.id;
    m.roomId = "room-1";
    m.peerId = "p";
    m.displayName = "P";
    m.text = "m" + std::to_string(i);
    m.sentAt = 1000 + i;
    ASSERT_TRUE(db().appendMessage(m).ok());
  }
  ASSERT_OK_AND_ASSIGN(last3, db().listRecentMessages(session.id, 3));
  ASSERT_EQ(last3.size(), 3u);
  EXPECT_EQ(last3[0].text, "m2");
  EXPECT_EQ(last3[2].text, "m4");
  ASSERT_OK_AND_ASSIGN(all, db().listRecentMessages(session.id, 100));
  EXPECT_EQ(all.size(), 5u);
  ASSERT_OK_AND_ASSIGN(none, db().listRecentMessages(session.id + 1, 100));
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace meeting::api::db::test
