#include "api/ApiKeys.hpp"
#include "common/Clock.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <sys/stat.h>

namespace meeting::api {
namespace {

class ApiKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("meeting-keys-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    config_.dataDir = dir_.string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  int ctl(std::vector<std::string> args, std::string& out) {
    std::ostringstream o, e;
    int rc = runApiKeyCommand(args, config_, o, e);
    out = o.str() + e.str();
    return rc;
  }
  std::filesystem::path dir_;
  Config config_;
};

TEST(StorageUrl, FromFlags) {
  Config c;
  c.dataDir = "/var/lib/meeting";
  EXPECT_EQ(storageUrl(c), "sqlite:/var/lib/meeting/meeting.db");
  c.mysqlAddress = "127.0.0.1:3306";
  c.mysqlUser = "root";
  c.mysqlPassword = "p@ss:w/rd";
  c.mysqlDatabase = "Meeting";
  EXPECT_EQ(storageUrl(c), "mysql://root:p%40ss%3Aw%2Frd@127.0.0.1:3306/Meeting");
}

TEST_F(ApiKeysTest, DefaultKeyIsCreatedOnceKeptPrivateAndVerifies) {
  auto storage = db::openStorage({storageUrl(config_), 1}, SystemClock::instance());
  ASSERT_TRUE(storage);
  std::ostringstream first;
  ASSERT_TRUE(ensureDefaultApiKey(**storage, config_.dataDir, first));
  std::ifstream file(dir_ / DefaultKeyFile);
  std::string secret;
  ASSERT_TRUE(std::getline(file, secret));
  EXPECT_NE(first.str().find(secret), std::string::npos);  // printed on first start
  EXPECT_TRUE((*storage)->verifyApiKey(secret));
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / DefaultKeyFile).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  std::ostringstream second;
  ASSERT_TRUE(ensureDefaultApiKey(**storage, config_.dataDir, second));
  EXPECT_EQ(second.str().find(secret), std::string::npos);  // not printed again
  EXPECT_EQ((*storage)->listApiKeys()->size(), 1u);
}

TEST_F(ApiKeysTest, CtlCreateListRevoke) {
  std::string out;
  ASSERT_EQ(ctl({"create", "ops"}, out), 0) << out;
  auto secret = out.substr(out.find("mk_"), 43);
  ASSERT_EQ(ctl({"list"}, out), 0);
  EXPECT_NE(out.find("ops"), std::string::npos);
  EXPECT_NE(out.find("active"), std::string::npos);
  EXPECT_EQ(out.find(secret), std::string::npos);  // the secret is shown only at creation
  ASSERT_EQ(ctl({"revoke", "1"}, out), 0) << out;
  ASSERT_EQ(ctl({"list"}, out), 0);
  EXPECT_NE(out.find("revoked"), std::string::npos);
  auto storage = db::openStorage({storageUrl(config_), 1}, SystemClock::instance());
  EXPECT_FALSE((*storage)->verifyApiKey(secret));
  EXPECT_EQ(ctl({"revoke", "99"}, out), 1);
  EXPECT_EQ(ctl({"revoke", "x"}, out), 2);
  EXPECT_EQ(ctl({"create"}, out), 2);
  EXPECT_EQ(ctl({"dance"}, out), 2);
  EXPECT_EQ(ctl({}, out), 2);
}

}  // namespace
}  // namespace meeting::api
