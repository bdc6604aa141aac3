// The webhook delivery queues (migration 4) on both back ends: per-URL order, heads, cap,
// reschedule and delete.
#include "unit/api/db/StorageFixture.hpp"

namespace meeting::api::db::test {
namespace {

class WebhookStoreTest : public StorageFixture {};
INSTANTIATE_FOR_BOTH_BACKENDS(WebhookStoreTest);

WebhookDelivery delivery(std::string url, std::string eventId, Millis nextAttemptAt = 0) {
  WebhookDelivery d;
  d.url = std::move(url);
  d.eventId = std::move(eventId);
  d.body = R"({"id":")" + d.eventId + R"("})";
  d.nextAttemptAt = nextAttemptAt;
  return d;
}

TEST_P(WebhookStoreTest, HeadsAreTheOldestRowOfEachUrlEarliestFirst) {
  const std::string a = "https://a.example.com/hook";
  const std::string b = "https://b.example.com/hook?x=" + std::string(1000, 'y');  // longer than an index key
  ASSERT_OK_AND_ASSIGN(a1, db().enqueueWebhook(delivery(a, "a1", 100), 10));
  ASSERT_OK_AND_ASSIGN(b1, db().enqueueWebhook(delivery(b, "b1", 50), 10));
  ASSERT_OK_AND_ASSIGN(a2, db().enqueueWebhook(delivery(a, "a2", 10), 10));
  EXPECT_LT(a1.id, a2.id);
  ASSERT_OK_AND_ASSIGN(heads, db().webhookHeads(10));
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_EQ(heads[0].eventId, "b1");  // due at 50, before a1 at 100; a2 is behind a1
  EXPECT_EQ(heads[0].url, b);
  EXPECT_EQ(heads[1].eventId, "a1");
  EXPECT_EQ(heads[1].body, R"({"id":"a1"})");

  ASSERT_TRUE(db().rescheduleWebhook(b1.id, 1, 500, "HTTP 503").ok());
  ASSERT_OK_AND_ASSIGN(later, db().webhookHeads(10));
  ASSERT_EQ(later.size(), 2u);
  EXPECT_EQ(later[0].eventId, "a1");
  EXPECT_EQ(later[1].attempts, 1);
  EXPECT_EQ(later[1].nextAttemptAt, 500);
  EXPECT_EQ(later[1].lastError, "HTTP 503");

  ASSERT_TRUE(db().deleteWebhook(a1.id).ok());
  ASSERT_OK_AND_ASSIGN(next, db().webhookHeads(10));
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].eventId, "a2");
  EXPECT_ERROR_CODE(db().deleteWebhook(a1.id), errc::NotFound);
  EXPECT_ERROR_CODE(db().rescheduleWebhook(a1.id, 2, 1, ""), errc::NotFound);
  ASSERT_OK_AND_ASSIGN(count, db().countWebhooks());
  EXPECT_EQ(count, 2);
}

TEST_P(WebhookStoreTest, AFullQueueRefusesOnlyItsOwnUrl) {
  ASSERT_TRUE(db().enqueueWebhook(delivery("https://a.example.com/", "1"), 2).ok());
  ASSERT_TRUE(db().enqueueWebhook(delivery("https://a.example.com/", "2"), 2).ok());
  EXPECT_ERROR_CODE(db().enqueueWebhook(delivery("https://a.example.com/", "3"), 2), errc::Conflict);
  EXPECT_TRUE(db().enqueueWebhook(delivery("https://b.example.com/", "4"), 2).ok());
  EXPECT_ERROR_CODE(db().enqueueWebhook(delivery("", "5"), 2), errc::InvalidField);
  ASSERT_OK_AND_ASSIGN(count, db().countWebhooks());
  EXPECT_EQ(count, 3);
}

TEST_P(WebhookStoreTest, RowsSurviveReopening) {
  ASSERT_OK_AND_ASSIGN(queued, db().enqueueWebhook(delivery("https://a.example.com/", "e1"), 10));
  ASSERT_OK_AND_ASSIGN(again, open());
  ASSERT_OK_AND_ASSIGN(heads, again->webhookHeads(10));
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].id, queued.id);
  EXPECT_EQ(heads[0].eventId, "e1");
}

}  // namespace
}  // namespace meeting::api::db::test
