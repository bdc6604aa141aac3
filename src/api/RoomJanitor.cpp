#include "api/RoomJanitor.hpp"

#include "common/Log.hpp"

namespace meeting::api {

RoomJanitor::RoomJanitor(db::Storage& storage, PeerRegistry& peers, Actions actions)
    : storage_(storage), peers_(peers), actions_(std::move(actions)) {}

void RoomJanitor::refresh(int64_t nowMillis) {
  if (refreshed_ && nowMillis - refreshedAt_ < RefreshMillis) return;
  std::map<std::string, Timeouts> rooms;
  db::PageQuery page;
  page.limit = db::MaxPageLimit;
  size_t seen = 0;
  while (seen < MaxRooms) {
    auto result = storage_.listRooms(page);
    if (!result) {
      MLOG_WARN("room timeouts: cannot list rooms: {}", result.error().message);
      return;  // keep the previous view; try again next sweep
    }
    for (const auto& room : result->items) {
      Timeouts t;
      if (room.peerlessPurgeTimeout) t.peerlessMillis = *room.peerlessPurgeTimeout * 1000;
      if (room.peerDisconnectedTimeout) t.disconnectedMillis = *room.peerDisconnectedTimeout * 1000;
      if (t.peerlessMillis > 0 || t.disconnectedMillis > 0) rooms.emplace(room.id, t);
    }
    seen += result->items.size();
    if (result->next.empty() || result->items.empty()) break;
    page.after = result->next;
  }
  rooms_ = std::move(rooms);
  refreshedAt_ = nowMillis;
  refreshed_ = true;
  // Forget state of rooms that are gone.
  std::erase_if(peerlessSince_, [this](const auto& entry) { return !rooms_.contains(entry.first); });
  std::erase_if(disconnectedSince_, [this](const auto& entry) { return !rooms_.contains(entry.first.first); });
  std::erase_if(seenConnected_, [this](const auto& key) { return !rooms_.contains(key.first); });
}

void RoomJanitor::sweep(int64_t nowMillis) {
  refresh(nowMillis);
  std::vector<std::string> purge;
  std::vector<std::pair<std::string, std::string>> remove;
  for (const auto& [roomId, timeouts] : rooms_) {
    bool anyConnected = false;
    for (const auto& peer : peers_.list(roomId)) {
      std::pair key{roomId, peer.id};
      if (peer.status == "connected") {
        anyConnected = true;
        seenConnected_.insert(key);
        disconnectedSince_.erase(key);
        continue;
      }
      // Only a peer that was connected can be "disconnected"; one that never came keeps its token.
      if (timeouts.disconnectedMillis == 0 || !seenConnected_.contains(key)) continue;
      auto [it, added] = disconnectedSince_.emplace(key, nowMillis);
      if (!added && nowMillis - it->second >= timeouts.disconnectedMillis) remove.push_back(key);
    }
    if (timeouts.peerlessMillis == 0) continue;
    if (anyConnected) {
      peerlessSince_.erase(roomId);
      continue;
    }
    // Counted from when this apiserver first saw the room without peers (after a restart no
    // peer is known yet: they get the whole timeout to come back).
    auto [it, added] = peerlessSince_.emplace(roomId, nowMillis);
    if (!added && nowMillis - it->second >= timeouts.peerlessMillis) purge.push_back(roomId);
  }
  for (const auto& [roomId, peerId] : remove) {
    MLOG_INFO("room {}: peer {} disconnected for its peer_disconnected_timeout: removed", roomId, peerId);
    disconnectedSince_.erase({roomId, peerId});
    seenConnected_.erase({roomId, peerId});
    if (actions_.removePeer) actions_.removePeer(roomId, peerId);
  }
  for (const auto& roomId : purge) {
    MLOG_INFO("room {}: no peer connected for its peerless_purge_timeout: deleted", roomId);
    peerlessSince_.erase(roomId);
    rooms_.erase(roomId);
    if (actions_.removeRoom) actions_.removeRoom(roomId);
  }
}

}  // namespace meeting::api
