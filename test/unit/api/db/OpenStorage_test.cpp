#include <gtest/gtest.h>

#include <filesystem>

#include "api/db/Migrations.hpp"
#include "api/db/Storage.hpp"
#include "common/Clock.hpp"

namespace meeting::api::db {
namespace {

TEST(OpenStorageTest, SqliteByUrlAndByBarePath) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "meeting-open-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  ManualClock clock;
  {
    auto s = openStorage(StorageConfig{"sqlite:" + tmpl + "/a.db"}, clock);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_STREQ((*s)->backendName(), "sqlite");
    auto bare = openStorage(StorageConfig{tmpl + "/b.db"}, clock);
    ASSERT_TRUE(bare.ok()) << bare.error().message;
  }
  EXPECT_TRUE(std::filesystem::exists(tmpl + "/a.db"));
  EXPECT_TRUE(std::filesystem::exists(tmpl + "/a.db-wal") || std::filesystem::exists(tmpl + "/a.db"));
  std::filesystem::remove_all(tmpl);
}

TEST(OpenStorageTest, InMemorySqliteIsOneSharedDatabase) {
  ManualClock clock;
  auto s = openStorage(StorageConfig{"sqlite::memory:", 4}, clock);
  ASSERT_TRUE(s.ok()) << s.error().message;
  User u;
  u.email = "mem@x.org";
  auto created = (*s)->createUser(u);
  ASSERT_TRUE(created.ok()) << created.error().message;
  // With several connections each would see its own empty database; here all see the same one.
  auto found = (*s)->findUserByEmail("mem@x.org");
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->id, created->id);
}

TEST(OpenStorageTest, ReportsUnusableConfigurationsAsErrors) {
  ManualClock clock;
  auto noDir = openStorage(StorageConfig{"sqlite:/nonexistent-dir/x/y.db"}, clock);
  ASSERT_FALSE(noDir.ok());
  EXPECT_EQ(noDir.error().code, errc::Unavailable);
  for (const char* url : {"mysql://u:p@127.0.0.1:99999/db", "mysql://u:p@host", "mysql://u:%zz@h/db",
                          "mysql://u@h/db?ssl=1"}) {
    auto r = openStorage(StorageConfig{url}, clock);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.error().code, errc::InvalidField) << url << " " << r.error().message;
  }
  // Nothing listens on port 1: a clear "unavailable", quickly.
  auto down = openStorage(StorageConfig{"mariadb://u:p@127.0.0.1:1/db"}, clock);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, errc::Unavailable) << down.error().message;
}

TEST(MigrationsTest, ExpandsTypesPerDialect) {
  const auto& first = migrations().front();
  std::string sqlite = expandSql(first, Dialect::Sqlite);
  std::string mysql = expandSql(first, Dialect::Mysql);
  EXPECT_EQ(sqlite.find('{'), std::string::npos);
  EXPECT_EQ(mysql.find('{'), std::string::npos);
  EXPECT_NE(sqlite.find("AUTOINCREMENT"), std::string::npos);
  EXPECT_NE(mysql.find("AUTO_INCREMENT"), std::string::npos);
  EXPECT_NE(mysql.find("utf8mb4"), std::string::npos);
  Migration custom{99, "custom", "CREATE TABLE t (id {ID})", nullptr, "CREATE TABLE t (k {KEY}){OPTS}"};
  EXPECT_EQ(expandSql(custom, Dialect::Sqlite), "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)");
  EXPECT_EQ(expandSql(custom, Dialect::Mysql),
            "CREATE TABLE t (k VARCHAR(255)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
  int expected = 1;
  for (const auto& m : migrations()) EXPECT_EQ(m.version, expected++) << "versions must be 1..N";
}

}  // namespace
}  // namespace meeting::api::db
