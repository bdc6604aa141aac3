// The fsserver's monitoring report: the per-second rates of FsService's load report and the store
// usage it is built from.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/SignedUrl.hpp"
#include "fs/FileStore.hpp"
#include "fs/FsService.hpp"

namespace meeting::fs {
namespace {

TEST(FsMonitoring, ReportHasRatesOverTheInterval) {
  FsLoad before{0, 0, 1'000, 5'000, 3, 4'096};
  FsLoad now{2, 1, 1'000 + 500'000, 5'000 + 2'000'000, 4, 504'096};
  auto r = fsMonitoringReport(now, before, 2.0);
  EXPECT_EQ(r["role"], "fs");
  EXPECT_EQ(r["uploads_in_progress"], 2);
  EXPECT_EQ(r["downloads_in_progress"], 1);
  EXPECT_EQ(r["bytes_in_per_s"], 250'000);
  EXPECT_EQ(r["bytes_out_per_s"], 1'000'000);
  EXPECT_EQ(r["stored_files"], 4);
  EXPECT_EQ(r["stored_bytes"], 504'096);
  // The first report has no interval; counters that went back (a restart) give 0, not garbage.
  EXPECT_EQ(fsMonitoringReport(now, FsLoad{}, 0.0)["bytes_in_per_s"], 0);
  EXPECT_EQ(fsMonitoringReport(before, now, 1.0)["bytes_out_per_s"], 0);
}

TEST(FsMonitoring, StoreUsageCountsFilesBytesAndUploadsInProgress) {
  const auto dir = std::filesystem::path(testing::TempDir()) / ("fs-usage-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  auto store = FileStore::open(dir.string(), StoreLimits{}, SystemClock::instance());
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ((*store)->usage().files, 0u);
  FileMeta draft;
  draft.id = signedurl::newFileId();
  draft.room = "room-1";
  draft.name = "a.txt";
  draft.contentType = "text/plain";
  auto upload = (*store)->beginUpload(draft, 1 << 20, std::nullopt);
  ASSERT_TRUE(upload) << upload.error().message;
  ASSERT_TRUE((*upload)->write(std::string(1000, 'x')));
  EXPECT_EQ((*store)->usage().uploadsInProgress, 1u);
  EXPECT_EQ((*store)->usage().files, 0u);
  ASSERT_TRUE((*upload)->commit());
  upload->reset();
  const auto usage = (*store)->usage();
  EXPECT_EQ(usage.uploadsInProgress, 0u);
  EXPECT_EQ(usage.files, 1u);
  EXPECT_EQ(usage.bytes, 1000u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meeting::fs
