// `meeting ctl files ROOM`: lists a room's live files straight from the database.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <sstream>

#include "api/ApiKeys.hpp"
#include "common/Clock.hpp"

namespace meeting::api {
namespace {

TEST(FilesCommand, ListsLiveFilesOfOneRoom) {
  auto dir = std::filesystem::temp_directory_path() / ("meeting-ctl-files-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  Config config;
  config.dataDir = dir.string();
  {
    auto storage = db::openStorage(db::StorageConfig{storageUrl(config), 1}, SystemClock::instance());
    ASSERT_TRUE(storage);
    db::FileEntry f;
    f.id = "0123456789abcdef0123456789abcdef";
    f.roomId = "standup";
    f.name = "slides.pdf";
    f.contentType = "application/pdf";
    f.size = 1234;
    f.sha256 = std::string(64, 'a');
    f.uploader = "ada";
    ASSERT_TRUE((*storage)->addFile(f));
    f.id = "fedcba9876543210fedcba9876543210";
    f.name = "gone.txt";
    ASSERT_TRUE((*storage)->addFile(f));
    ASSERT_TRUE((*storage)->markFileDeleted(f.id));
    f.id = "00000000000000000000000000000001";
    f.roomId = "other";
    f.name = "elsewhere.txt";
    ASSERT_TRUE((*storage)->addFile(f));
  }
  std::ostringstream out, err;
  EXPECT_EQ(runFilesCommand("standup", config, out, err), 0) << err.str();
  std::string text = out.str();
  EXPECT_NE(text.find("0123456789abcdef0123456789abcdef\tslides.pdf\tapplication/pdf\t1234\t"), std::string::npos) << text;
  EXPECT_EQ(text.find("gone.txt"), std::string::npos);
  EXPECT_EQ(text.find("elsewhere.txt"), std::string::npos);
  std::ostringstream none, noneErr;
  EXPECT_EQ(runFilesCommand("empty-room", config, none, noneErr), 0);
  const std::string header = none.str();
  EXPECT_EQ(std::count(header.begin(), header.end(), '\n'), 1);  // the header only
  EXPECT_EQ(runFilesCommand("", config, none, noneErr), 2);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meeting::api
