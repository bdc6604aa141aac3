#pragma once
// Peers of the rooms (seed 004's Peer: id, type, status, tracks, metadata), kept in memory and
// updated from the sfuserver's events. Peers are ephemeral (a token and a live connection), so
// they are not stored; their participations are (user_sessions). Thread-safe.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/control/ControlMessages.hpp"

namespace meeting::api {

struct Peer {
  std::string id;
  std::string roomId;
  std::string type = "webrtc";
  std::string status = "disconnected";  ///< "disconnected" | "connected"
  std::string displayName;
  nlohmann::json metadata;              ///< null when unset
  std::vector<control::TrackInfo> tracks;
  int64_t userSessionId = 0;            ///< open user_sessions row while connected, 0 otherwise
};

nlohmann::json peerJson(const Peer& peer);

class PeerRegistry {
 public:
  /// Adds a peer; false when the id is taken in the room.
  bool add(const Peer& peer);
  std::optional<Peer> get(const std::string& roomId, const std::string& peerId) const;
  std::vector<Peer> list(const std::string& roomId) const;
  size_t count(const std::string& roomId) const;
  bool remove(const std::string& roomId, const std::string& peerId);
  void removeRoom(const std::string& roomId);

  /// Updates an existing peer in place; false when unknown.
  template <typename Fn>
  bool update(const std::string& roomId, const std::string& peerId, Fn&& fn) {
    std::lock_guard lock(mutex_);
    auto room = rooms_.find(roomId);
    if (room == rooms_.end()) return false;
    auto it = room->second.peers.find(peerId);
    if (it == room->second.peers.end()) return false;
    fn(it->second);
    return true;
  }

  /// Marks a peer as removed from its room (REST delete, room deleted): its still-unexpired
  /// tokens must not open the file routes any more. `untilSeconds` is when every token issued
  /// before now has expired (now + token lifetime); the entry is forgotten then (entries past
  /// their time are dropped at `nowSeconds`). Like the sfuserver's kicked set for /rtc, only
  /// adding the peer again (unrevoke) lifts it.
  void revoke(const std::string& roomId, const std::string& peerId, int64_t nowSeconds, int64_t untilSeconds);
  void unrevoke(const std::string& roomId, const std::string& peerId);
  bool isRevoked(const std::string& roomId, const std::string& peerId, int64_t nowSeconds) const;
  /// Revoked peers remembered at most (the ones whose tokens expire first are dropped beyond it).
  static constexpr size_t MaxRevoked = 100'000;

  /// The TURN server allocated for the room (with an external allocate server), "" if none.
  std::string roomTurn(const std::string& roomId) const;
  void setRoomTurn(const std::string& roomId, const std::string& turn);

 private:
  struct RoomPeers {
    std::map<std::string, Peer> peers;
    std::string turn;
  };
  mutable std::mutex mutex_;
  std::map<std::string, RoomPeers> rooms_;
  std::map<std::pair<std::string, std::string>, int64_t> revoked_;  // (room, peer) -> until
};

}  // namespace meeting::api
