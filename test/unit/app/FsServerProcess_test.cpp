// Issue 8 with the real binary: an fsserver process killed in the middle of an upload leaves no
// file (its temporary is removed at the next start), and `meeting ctl files ROOM` lists a room's
// rows from the database.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "ChildProcess.hpp"
#include "api/ApiKeys.hpp"
#include "api/db/Storage.hpp"
#include "common/Clock.hpp"
#include "common/SignedUrl.hpp"
#include "net/HttpClient.hpp"

using namespace std::chrono_literals;
namespace stdfs = std::filesystem;
namespace su = meeting::signedurl;

namespace {

using meeting::test::freeTcpPort;
using meeting::test::spawnLogged;

constexpr const char* Secret = "process-test-secret";

size_t filesIn(const stdfs::path& dir) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = stdfs::directory_iterator(dir, ec); it != stdfs::directory_iterator(); ++it) ++n;
  return n;
}

std::string readAll(const stdfs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int64_t unixNow() { return meeting::SystemClock::instance().wallMicros() / 1'000'000; }

// `meeting fsserver` on plain HTTP at 127.0.0.1:port, storing under `store`.
class FsProcess {
 public:
  FsProcess(stdfs::path dir, uint16_t port) : dir_(std::move(dir)), port_(port) {}
  ~FsProcess() { kill(SIGKILL); }
  bool start() {
    pid_ = spawnLogged({MEETING_BINARY, "fsserver", "--secret", Secret, "--data", (dir_ / "data").string(), "--directory",
                        (dir_ / "store").string(), "--listen", "127.0.0.1:" + std::to_string(port_), "--http"},
                       (dir_ / ("log." + std::to_string(++starts_))).string());
    for (int i = 0; pid_ > 0 && i < 100; ++i) {  // at most ~10 s
      meeting::net::HttpClientOptions o;
      o.timeout = 1s;
      auto r = meeting::net::httpRequest(meeting::net::http::verb::get, base() + "/ping", {}, o);
      if (r && r->result_int() == 200) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  void kill(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }
  std::string log() const { return readAll(dir_ / ("log." + std::to_string(starts_))); }

 private:
  stdfs::path dir_;
  uint16_t port_;
  pid_t pid_ = 0;
  int starts_ = 0;
};

}  // namespace

TEST(FsServerProcess, KilledMidUploadLeavesNoFileAndTheTemporaryGoesAtTheNextStart) {
  const auto dir = stdfs::path(testing::TempDir()) / ("fs-kill-" + std::to_string(::getpid()));
  stdfs::remove_all(dir);
  stdfs::create_directories(dir);
  FsProcess fs(dir, freeTcpPort());
  ASSERT_TRUE(fs.start()) << fs.log();

  const std::string id = su::newFileId();
  const int64_t exp = unixNow() + 600;
  auto query = su::sign(su::Grant{su::Operation::Upload, id, "room-1", 8 << 20, exp, "ada"}, Secret);
  ASSERT_TRUE(query);
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), fs.port()});
  const std::string head = "PUT /fs/v1/files/" + id + "?" + *query +
                           " HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(8 << 20) +
                           "\r\n\r\n";
  boost::asio::write(socket, boost::asio::buffer(head + std::string(1 << 20, 'k')));
  bool writing = false;
  for (int i = 0; i < 200 && !writing; ++i) {
    writing = filesIn(dir / "store" / "tmp") == 1;
    if (!writing) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(writing) << "the upload never reached the temporary directory\n" << fs.log();
  fs.kill(SIGKILL);  // 7 MiB still to come
  EXPECT_EQ(filesIn(dir / "store" / "tmp"), 1u);  // nobody cleaned up: the process was killed
  EXPECT_EQ(filesIn(dir / "store" / "files"), 0u);

  ASSERT_TRUE(fs.start()) << fs.log();
  EXPECT_EQ(filesIn(dir / "store" / "tmp"), 0u) << fs.log();
  EXPECT_EQ(filesIn(dir / "store" / "files"), 0u);
  EXPECT_NE(fs.log().find("removed 1 interrupted upload"), std::string::npos) << fs.log();
  auto download = su::sign(su::Grant{su::Operation::Download, id, "room-1", 0, exp, {}}, Secret);
  auto got = meeting::net::httpRequest(meeting::net::http::verb::get, fs.base() + "/fs/v1/files/" + id + "?" + *download);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->result_int(), 404);
  // The id can be uploaded for real now that the cut attempt is gone.
  meeting::net::HttpClientOptions typed;
  typed.headers = {{"Content-Type", "text/plain"}};
  auto again = meeting::net::httpRequest(meeting::net::http::verb::put, fs.base() + "/fs/v1/files/" + id + "?" + *query,
                                         "whole", typed);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->result_int(), 201) << again->body();
  fs.kill(SIGTERM);
  stdfs::remove_all(dir);
}

TEST(FsServerProcess, CtlFilesListsTheRoomsRows) {
  const auto dir = stdfs::path(testing::TempDir()) / ("ctl-files-" + std::to_string(::getpid()));
  stdfs::remove_all(dir);
  stdfs::create_directories(dir / "data");
  meeting::Config config;
  config.dataDir = (dir / "data").string();
  {
    auto storage = meeting::api::db::openStorage(
        meeting::api::db::StorageConfig{meeting::api::storageUrl(config), 1}, meeting::SystemClock::instance());
    ASSERT_TRUE(storage);
    ASSERT_TRUE((*storage)->addFile({.id = "0123456789abcdef0123456789abcdef", .roomId = "standup", .name = "slides.pdf",
                                     .contentType = "application/pdf", .size = 4321, .sha256 = std::string(64, 'b'),
                                     .uploader = "ada", .fsNode = "fs-1", .createdAt = 0, .deletedAt = 0}));
  }
  pid_t pid = spawnLogged({MEETING_BINARY, "ctl", "files", "standup", "--data", config.dataDir}, (dir / "out").string());
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  const std::string out = readAll(dir / "out");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_NE(out.find("0123456789abcdef0123456789abcdef\tslides.pdf\tapplication/pdf\t4321\t"), std::string::npos) << out;
  stdfs::remove_all(dir);
}
