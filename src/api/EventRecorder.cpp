#include "api/EventRecorder.hpp"

#include "common/Log.hpp"

namespace meeting::api {

EventRecorder::EventRecorder(db::Storage& storage, db::DbExecutor& ordered, PeerRegistry& peers)
    : storage_(storage), ordered_(ordered), peers_(peers) {}

void EventRecorder::onNodeRegistered(const control::NodeInfo& node) {
  db::Node row{node.id, node.role, node.address, node.capacity, 0};
  bool queued = ordered_.post([this, row] {
    if (auto r = storage_.upsertNode(row); !r) MLOG_WARN("control: cannot store node {}: {}", row.id, r.error().message);
  });
  if (!queued) MLOG_WARN("control: event queue full, node {} not stored", node.id);
}

void EventRecorder::onNodeEvent(const control::NodeInfo& node, const control::NodeEvent& event) {
  if (!ordered_.post([this, event] { apply(event); })) {
    MLOG_WARN("control: event queue full, dropping {} from {}", event.event, node.id);
  }
}

Result<db::RoomSession> EventRecorder::openSession(const std::string& roomId) {
  auto current = storage_.currentRoomSession(roomId);
  if (current || current.error().code != db::errc::NotFound) return current;
  auto started = storage_.startRoomSession(roomId);
  if (!started && started.error().code == db::errc::Conflict) return storage_.currentRoomSession(roomId);
  return started;
}

void EventRecorder::apply(const control::NodeEvent& e) {
  bool wasConnected = false;
  applyToStorage(e, wasConnected);
  if (webhooks_ && !e.room.empty()) emitWebhook(e, wasConnected);
}

void EventRecorder::emitWebhook(const control::NodeEvent& e, bool wasConnected) {
  namespace ev = webhook::event;
  webhook::WebhookEvent out;
  out.room = e.room;
  out.peer = e.peer;
  if (e.event == "room_started") {
    out.type = ev::RoomStarted;
    out.peer.clear();
  } else if (e.event == "room_ended") {
    out.type = ev::RoomFinished;
    out.peer.clear();
  } else if (e.event == "peer_connected") {
    out.type = ev::PeerConnected;
  } else if (e.event == "peer_disconnected" || (e.event == "peer_left" && wasConnected)) {
    // A peer that leaves without a disconnect first (the usual case) is disconnected too; one
    // already reported disconnected is not reported twice.
    out.type = ev::PeerDisconnected;
  } else if (e.event == "track_published" || e.event == "track_unpublished") {
    out.type = e.event == "track_published" ? ev::TrackAdded : ev::TrackRemoved;
    out.track = {{"id", e.track.id}, {"kind", e.track.kind}, {"source", e.track.source}};
  } else if (e.event == "chat") {
    out.type = ev::ChatMessage;
    out.text = e.text;
  } else {
    return;
  }
  auto room = storage_.getRoom(e.room);
  if (!room) {
    if (room.error().code != db::errc::NotFound) MLOG_WARN("webhook: room {}: {}", e.room, room.error().message);
    return;
  }
  webhooks_->emit(room->webhookUrl, out);  // "" = the server-wide default URL, if any
}

void EventRecorder::applyToStorage(const control::NodeEvent& e, bool& wasConnected) {
  auto warn = [&e](const Error& error) { MLOG_WARN("control event {} in {}: {}", e.event, e.room, error.message); };
  if (e.room.empty()) return warn(makeError("invalid_field", "room: missing"));
  if (e.event == "room_started") {
    if (auto s = openSession(e.room); !s) warn(s.error());
  } else if (e.event == "room_ended") {
    auto current = storage_.currentRoomSession(e.room);
    if (current) {
      if (auto ended = storage_.endRoomSession(current->id); !ended) warn(ended.error());
    }
    for (const auto& p : peers_.list(e.room)) {
      peers_.update(e.room, p.id, [](Peer& peer) {
        peer.status = "disconnected";
        peer.userSessionId = 0;
        peer.tracks.clear();
      });
    }
  } else if (e.event == "peer_connected") {
    auto known = peers_.get(e.room, e.peer);
    if (!known && !e.peer.empty()) {
      // A peer this apiserver did not add (it restarted since): learn it from the sfuserver.
      Peer learned;
      learned.id = e.peer;
      learned.roomId = e.room;
      learned.displayName = e.displayName;
      peers_.add(learned);
    }
    peers_.update(e.room, e.peer, [](Peer& peer) { peer.status = "connected"; });
    if (known && known->userSessionId != 0) return;  // a reconnect within the same participation
    auto session = openSession(e.room);
    if (!session) return warn(session.error());
    db::UserSession us;
    us.roomSessionId = session->id;
    us.peerId = e.peer;
    us.displayName = !e.displayName.empty() ? e.displayName : known ? known->displayName : std::string{};
    auto joined = storage_.joinSession(us);
    if (!joined) return warn(joined.error());
    peers_.update(e.room, e.peer, [&](Peer& peer) { peer.userSessionId = joined->id; });
  } else if (e.event == "peer_disconnected") {
    peers_.update(e.room, e.peer, [](Peer& peer) { peer.status = "disconnected"; });
  } else if (e.event == "peer_left") {
    auto known = peers_.get(e.room, e.peer);
    wasConnected = known && known->status == "connected";
    peers_.remove(e.room, e.peer);
    if (known && known->userSessionId != 0) {
      if (auto left = storage_.leaveSession(known->userSessionId, e.reason.empty() ? "left" : e.reason); !left) {
        warn(left.error());
      }
    }
  } else if (e.event == "track_published") {
    peers_.update(e.room, e.peer, [&](Peer& peer) {
      std::erase_if(peer.tracks, [&](const control::TrackInfo& t) { return t.id == e.track.id; });
      if (peer.tracks.size() < 64) peer.tracks.push_back(e.track);
    });
  } else if (e.event == "track_unpublished") {
    peers_.update(e.room, e.peer, [&](Peer& peer) {
      std::erase_if(peer.tracks, [&](const control::TrackInfo& t) { return t.id == e.track.id; });
    });
  } else if (e.event == "peer_metadata") {
    peers_.update(e.room, e.peer, [&](Peer& peer) { peer.metadata = e.metadata; });
  } else if (e.event == "chat") {
    auto session = openSession(e.room);
    if (!session) return warn(session.error());
    db::Message m;
    m.roomSessionId = session->id;
    m.peerId = e.peer;
    m.displayName = e.displayName;
    m.text = e.text;
    m.sentAt = e.sentAt;
    if (auto appended = storage_.appendMessage(m); !appended) warn(appended.error());
  } else {
    MLOG_DEBUG("control: unknown event {}", e.event);
  }
}

}  // namespace meeting::api
