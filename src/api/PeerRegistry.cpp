#include "api/PeerRegistry.hpp"

#include <algorithm>

namespace meeting::api {

nlohmann::json peerJson(const Peer& peer) {
  nlohmann::json tracks = nlohmann::json::array();
  for (const auto& t : peer.tracks) tracks.push_back({{"id", t.id}, {"type", t.kind}, {"source", t.source}});
  return {{"id", peer.id},
          {"type", peer.type},
          {"status", peer.status},
          {"display_name", peer.displayName},
          {"metadata", peer.metadata},
          {"tracks", tracks}};
}

bool PeerRegistry::add(const Peer& peer) {
  std::lock_guard lock(mutex_);
  return rooms_[peer.roomId].peers.emplace(peer.id, peer).second;
}

std::optional<Peer> PeerRegistry::get(const std::string& roomId, const std::string& peerId) const {
  std::lock_guard lock(mutex_);
  auto room = rooms_.find(roomId);
  if (room == rooms_.end()) return std::nullopt;
  auto it = room->second.peers.find(peerId);
  if (it == room->second.peers.end()) return std::nullopt;
  return it->second;
}

std::vector<Peer> PeerRegistry::list(const std::string& roomId) const {
  std::lock_guard lock(mutex_);
  std::vector<Peer> out;
  if (auto room = rooms_.find(roomId); room != rooms_.end()) {
    for (const auto& [id, p] : room->second.peers) out.push_back(p);
  }
  return out;
}

size_t PeerRegistry::count(const std::string& roomId) const {
  std::lock_guard lock(mutex_);
  auto room = rooms_.find(roomId);
  return room == rooms_.end() ? 0 : room->second.peers.size();
}

bool PeerRegistry::remove(const std::string& roomId, const std::string& peerId) {
  std::lock_guard lock(mutex_);
  auto room = rooms_.find(roomId);
  return room != rooms_.end() && room->second.peers.erase(peerId) > 0;
}

void PeerRegistry::removeRoom(const std::string& roomId) {
  std::lock_guard lock(mutex_);
  rooms_.erase(roomId);
}

void PeerRegistry::revoke(const std::string& roomId, const std::string& peerId, int64_t nowSeconds,
                          int64_t untilSeconds) {
  std::lock_guard lock(mutex_);
  std::erase_if(revoked_, [nowSeconds](const auto& e) { return e.second <= nowSeconds; });
  auto key = std::make_pair(roomId, peerId);
  if (revoked_.size() >= MaxRevoked && !revoked_.count(key)) {
    // Bounded memory whatever the caller does: forget the entry whose tokens expire first.
    auto first = std::min_element(revoked_.begin(), revoked_.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; });
    revoked_.erase(first);
  }
  auto& until = revoked_[key];
  until = std::max(until, untilSeconds);
}

void PeerRegistry::unrevoke(const std::string& roomId, const std::string& peerId) {
  std::lock_guard lock(mutex_);
  revoked_.erase({roomId, peerId});
}

bool PeerRegistry::isRevoked(const std::string& roomId, const std::string& peerId, int64_t nowSeconds) const {
  std::lock_guard lock(mutex_);
  auto it = revoked_.find({roomId, peerId});
  return it != revoked_.end() && it->second > nowSeconds;
}

std::string PeerRegistry::roomTurn(const std::string& roomId) const {
  std::lock_guard lock(mutex_);
  auto room = rooms_.find(roomId);
  return room == rooms_.end() ? std::string{} : room->second.turn;
}

void PeerRegistry::setRoomTurn(const std::string& roomId, const std::string& turn) {
  std::lock_guard lock(mutex_);
  rooms_[roomId].turn = turn;
}

}  // namespace meeting::api
