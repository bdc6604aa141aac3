#pragma once
// Seed 004's two timeouts on the apiserver's side: a room with no connected peer for
// `peerless_purge_timeout` seconds is deleted, and a peer disconnected for
// `peer_disconnected_timeout` seconds is removed, both exactly as the REST DELETE routes do
// (webhooks, tokens refused, the sfuserver told). The sfuserver keeps a dropped participant's
// place for the same `peer_disconnected_timeout` (docs/protocol.md, reconnecting) and reports
// it gone only then, so the peer goes from the REST view that long after the sfuserver gave up.
//
// Threading: sweep() runs on one thread (the control loop), once a second.
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "api/PeerRegistry.hpp"
#include "api/db/Storage.hpp"

namespace meeting::api {

class RoomJanitor {
 public:
  struct Actions {
    std::function<void(const std::string& roomId)> removeRoom;
    std::function<void(const std::string& roomId, const std::string& peerId)> removePeer;
  };
  /// Rooms' timeouts are read from the database at most this often (they change only on create).
  static constexpr int64_t RefreshMillis = 5000;
  /// Rooms read per sweep at most (pages of MaxPageLimit).
  static constexpr size_t MaxRooms = 100'000;

  RoomJanitor(db::Storage& storage, PeerRegistry& peers, Actions actions);

  /// Looks at every room with a timeout; `nowMillis` is Unix time in milliseconds.
  void sweep(int64_t nowMillis);

  /// Rooms with a timeout being watched (for tests and the monitoring report).
  size_t watchedRooms() const { return rooms_.size(); }

 private:
  struct Timeouts {
    int64_t peerlessMillis = 0;      // 0: never purge
    int64_t disconnectedMillis = 0;  // 0: never remove peers
  };
  void refresh(int64_t nowMillis);

  db::Storage& storage_;
  PeerRegistry& peers_;
  Actions actions_;
  int64_t refreshedAt_ = 0;
  bool refreshed_ = false;
  std::map<std::string, Timeouts> rooms_;
  std::map<std::string, int64_t> peerlessSince_;
  std::set<std::pair<std::string, std::string>> seenConnected_;
  std::map<std::pair<std::string, std::string>, int64_t> disconnectedSince_;
};

}  // namespace meeting::api
