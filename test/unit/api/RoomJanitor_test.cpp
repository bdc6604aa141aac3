// Seed 004's peerless_purge_timeout and peer_disconnected_timeout, with time driven by hand.
#include "api/RoomJanitor.hpp"

#include <gtest/gtest.h>

#include "common/Clock.hpp"

namespace meeting::api {
namespace {

class RoomJanitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = db::openStorage(db::StorageConfig{"sqlite::memory:", 1}, clock_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    storage_ = std::move(*opened);
    janitor_ = std::make_unique<RoomJanitor>(*storage_, peers_, RoomJanitor::Actions{
        [this](const std::string& room) {
          purged_.push_back(room);
          (void)storage_->deleteRoom(room);
          peers_.removeRoom(room);
        },
        [this](const std::string& room, const std::string& peer) {
          removed_.push_back(room + "/" + peer);
          peers_.remove(room, peer);
        }});
  }
  void createRoom(const std::string& id, std::optional<int64_t> peerless, std::optional<int64_t> disconnected) {
    db::Room room;
    room.id = id;
    room.peerlessPurgeTimeout = peerless;
    room.peerDisconnectedTimeout = disconnected;
    ASSERT_TRUE(storage_->createRoom(room).ok());
  }
  void addPeer(const std::string& room, const std::string& id, const std::string& status) {
    Peer peer;
    peer.id = id;
    peer.roomId = room;
    peer.status = status;
    if (!peers_.add(peer)) peers_.update(room, id, [&](Peer& p) { p.status = status; });
  }
  void setStatus(const std::string& room, const std::string& id, const std::string& status) {
    peers_.update(room, id, [&](Peer& p) { p.status = status; });
  }

  ManualClock clock_;
  std::unique_ptr<db::Storage> storage_;
  PeerRegistry peers_;
  std::unique_ptr<RoomJanitor> janitor_;
  std::vector<std::string> purged_;
  std::vector<std::string> removed_;
};

TEST_F(RoomJanitorTest, RoomWithoutConnectedPeersIsPurgedAfterItsTimeout) {
  createRoom("timed", 10, std::nullopt);
  createRoom("forever", std::nullopt, std::nullopt);
  int64_t t = 1'000'000;
  janitor_->sweep(t);
  EXPECT_EQ(janitor_->watchedRooms(), 1u) << "rooms without a timeout are not watched";
  janitor_->sweep(t + 9'000);
  EXPECT_TRUE(purged_.empty());
  janitor_->sweep(t + 10'000);
  ASSERT_EQ(purged_.size(), 1u);
  EXPECT_EQ(purged_[0], "timed");
  janitor_->sweep(t + 60'000);
  EXPECT_EQ(purged_.size(), 1u) << "purged once";
}

TEST_F(RoomJanitorTest, AConnectedPeerKeepsTheRoomAndTheClockRestartsWhenItGoes) {
  createRoom("r", 10, std::nullopt);
  addPeer("r", "p", "connected");
  int64_t t = 1'000'000;
  janitor_->sweep(t);
  janitor_->sweep(t + 30'000);
  EXPECT_TRUE(purged_.empty());
  setStatus("r", "p", "disconnected");
  janitor_->sweep(t + 31'000);
  janitor_->sweep(t + 40'000);
  EXPECT_TRUE(purged_.empty()) << "only 9 s without a connected peer";
  janitor_->sweep(t + 41'000);
  EXPECT_EQ(purged_.size(), 1u);
}

TEST_F(RoomJanitorTest, PeerDisconnectedPastItsTimeoutIsRemovedButNotOneThatNeverCame) {
  createRoom("r", std::nullopt, 5);
  addPeer("r", "came", "connected");
  addPeer("r", "never", "disconnected");
  int64_t t = 1'000'000;
  janitor_->sweep(t);
  setStatus("r", "came", "disconnected");
  janitor_->sweep(t + 1'000);
  janitor_->sweep(t + 5'000);
  EXPECT_TRUE(removed_.empty());
  // Back within the timeout: the clock starts over.
  setStatus("r", "came", "connected");
  janitor_->sweep(t + 5'500);
  setStatus("r", "came", "disconnected");
  janitor_->sweep(t + 6'000);
  janitor_->sweep(t + 10'999);
  EXPECT_TRUE(removed_.empty());
  janitor_->sweep(t + 11'000);
  ASSERT_EQ(removed_.size(), 1u);
  EXPECT_EQ(removed_[0], "r/came");
  janitor_->sweep(t + 100'000);
  EXPECT_EQ(removed_.size(), 1u);
  EXPECT_TRUE(purged_.empty());
}

}  // namespace
}  // namespace meeting::api
