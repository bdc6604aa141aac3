// SQLite storage costs per call (WAL, synchronous=NORMAL, prepared-statement cache), one thread.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>

#include "api/db/Storage.hpp"
#include "common/Clock.hpp"

namespace {

using namespace meeting::api::db;

struct Db {
  Db() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "meeting-bench-XXXXXX").string();
    dir = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string("/tmp");
    auto opened = openStorage(StorageConfig{"sqlite:" + dir + "/bench.db", 2}, clock);
    if (!opened.ok()) std::abort();
    storage = std::move(opened).value();
  }
  ~Db() {
    storage.reset();
    std::filesystem::remove_all(dir);
  }
  meeting::ManualClock clock;
  std::string dir;
  std::unique_ptr<Storage> storage;
};

void BM_SqliteGetRoom(benchmark::State& state) {
  Db db;
  Room room;
  room.id = "bench-room";
  if (!db.storage->createRoom(room).ok()) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(db.storage->getRoom("bench-room"));
}
BENCHMARK(BM_SqliteGetRoom);

void BM_SqliteVerifyApiKey(benchmark::State& state) {
  Db db;
  auto key = db.storage->createApiKey("bench");
  if (!key.ok()) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(db.storage->verifyApiKey(key->secret));
}
BENCHMARK(BM_SqliteVerifyApiKey);

void BM_SqliteAppendMessage(benchmark::State& state) {
  Db db;
  auto rs = db.storage->startRoomSession("chat");
  if (!rs.ok()) std::abort();
  Message m{0, rs->id, "", "peer", "Pat", "a chat line of typical length, about sixty bytes", 0};
  for (auto _ : state) benchmark::DoNotOptimize(db.storage->appendMessage(m));
}
BENCHMARK(BM_SqliteAppendMessage);

void BM_SqliteListMessagesPage50(benchmark::State& state) {
  Db db;
  auto rs = db.storage->startRoomSession("chat");
  if (!rs.ok()) std::abort();
  Message m{0, rs->id, "", "peer", "Pat", "a chat line of typical length, about sixty bytes", 0};
  for (int i = 0; i < 1000; ++i) (void)db.storage->appendMessage(m);
  for (auto _ : state) benchmark::DoNotOptimize(db.storage->listMessages(rs->id, PageQuery{"500", 50}));
}
BENCHMARK(BM_SqliteListMessagesPage50);

void BM_SqliteJoinLeaveTransactions(benchmark::State& state) {
  Db db;
  auto rs = db.storage->startRoomSession("room");
  if (!rs.ok()) std::abort();
  UserSession s;
  s.roomSessionId = rs->id;
  s.peerId = "peer";
  s.displayName = "Pat";
  for (auto _ : state) {
    auto joined = db.storage->joinSession(s);  // transaction: check session, insert
    if (joined.ok()) benchmark::DoNotOptimize(db.storage->leaveSession(joined->id, "left"));
  }
}
BENCHMARK(BM_SqliteJoinLeaveTransactions);

}  // namespace
