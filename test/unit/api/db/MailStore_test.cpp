// The invitation mail queues (migration 5) on both back ends: per (meeting, recipient) order,
// heads of queued rows only, reschedule, finish (sent keeps the row as status), listing.
#include "unit/api/db/StorageFixture.hpp"

namespace meeting::api::db::test {
namespace {

class MailStoreTest : public StorageFixture {};
INSTANTIATE_FOR_BOTH_BACKENDS(MailStoreTest);

MailDelivery mail(int64_t meeting, std::string to, std::string kind, Millis nextAttemptAt = 0) {
  MailDelivery d;
  d.meetingId = meeting;
  d.recipient = std::move(to);
  d.kind = std::move(kind);
  d.payload = R"({"subject":"s"})";
  d.nextAttemptAt = nextAttemptAt;
  return d;
}

TEST_P(MailStoreTest, HeadsAreTheOldestQueuedRowPerMeetingAndRecipient) {
  ASSERT_OK_AND_ASSIGN(a1, db().enqueueMail(mail(1, "a@example.com", "invitation", 100)));
  ASSERT_OK_AND_ASSIGN(b1, db().enqueueMail(mail(1, "b@example.com", "invitation", 50)));
  ASSERT_OK_AND_ASSIGN(a2, db().enqueueMail(mail(1, "a@example.com", "cancel", 10)));
  ASSERT_OK_AND_ASSIGN(other, db().enqueueMail(mail(2, "a@example.com", "invitation", 200)));
  EXPECT_EQ(a1.status, mailstatus::Queued);
  ASSERT_OK_AND_ASSIGN(heads, db().mailHeads(10));
  ASSERT_EQ(heads.size(), 3u);
  EXPECT_EQ(heads[0].id, b1.id);
  EXPECT_EQ(heads[1].id, a1.id);  // the cancel (due earlier) waits behind its invitation
  EXPECT_EQ(heads[2].id, other.id);
  EXPECT_EQ(heads[1].payload, R"({"subject":"s"})");

  ASSERT_TRUE(db().rescheduleMail(b1.id, 1, 500, "connection refused").ok());
  ASSERT_TRUE(db().finishMail(a1.id, mailstatus::Sent, 1, 777, "").ok());
  ASSERT_OK_AND_ASSIGN(next, db().mailHeads(10));
  ASSERT_EQ(next.size(), 3u);
  EXPECT_EQ(next[0].id, a2.id);
  EXPECT_EQ(next[2].id, b1.id);
  EXPECT_EQ(next[2].attempts, 1);
  EXPECT_EQ(next[2].lastError, "connection refused");
  ASSERT_OK_AND_ASSIGN(queued, db().countQueuedMail());
  EXPECT_EQ(queued, 3);

  ASSERT_TRUE(db().finishMail(b1.id, mailstatus::Failed, 8, 900, "550 no such user").ok());
  EXPECT_ERROR_CODE(db().rescheduleMail(b1.id, 9, 1, ""), errc::NotFound);  // no longer queued
  EXPECT_ERROR_CODE(db().finishMail(999999, mailstatus::Sent, 1, 1, ""), errc::NotFound);
  EXPECT_ERROR_CODE(db().finishMail(a2.id, mailstatus::Queued, 1, 1, ""), errc::InvalidField);

  ASSERT_OK_AND_ASSIGN(rows, db().listMeetingMail(1));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].status, mailstatus::Sent);
  EXPECT_EQ(rows[0].sentAt, 777);
  EXPECT_EQ(rows[0].payload, "");  // dropped once sent
  EXPECT_EQ(rows[1].status, mailstatus::Failed);
  EXPECT_EQ(rows[1].attempts, 8);
  EXPECT_EQ(rows[1].sentAt, 0);
  EXPECT_EQ(rows[2].kind, "cancel");
}

TEST_P(MailStoreTest, NotConfiguredRowsAreNeverHeads) {
  auto d = mail(3, "a@example.com", "invitation");
  d.status = mailstatus::NotConfigured;
  ASSERT_TRUE(db().enqueueMail(d).ok());
  ASSERT_OK_AND_ASSIGN(heads, db().mailHeads(10));
  EXPECT_TRUE(heads.empty());
  ASSERT_OK_AND_ASSIGN(queued, db().countQueuedMail());
  EXPECT_EQ(queued, 0);
  d.status = "bogus";
  EXPECT_ERROR_CODE(db().enqueueMail(d), errc::InvalidField);
  EXPECT_ERROR_CODE(db().enqueueMail(mail(3, "", "invitation")), errc::InvalidField);
}

TEST_P(MailStoreTest, RowsSurviveReopening) {
  ASSERT_OK_AND_ASSIGN(queued, db().enqueueMail(mail(4, std::string(240, 'x') + "@e.com", "invitation")));
  ASSERT_OK_AND_ASSIGN(again, open());
  ASSERT_OK_AND_ASSIGN(heads, again->mailHeads(10));
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].id, queued.id);
  EXPECT_EQ(heads[0].recipient, std::string(240, 'x') + "@e.com");
}

}  // namespace
}  // namespace meeting::api::db::test
