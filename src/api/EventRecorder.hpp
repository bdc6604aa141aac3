#pragma once
// Turns the servers' control-link events into stored history (room_sessions, user_sessions,
// messages) and keeps the in-memory peers current (status, tracks, metadata). Storage work runs
// on a one-thread executor so events of a room are applied in the order they arrived.
#include "api/PeerRegistry.hpp"
#include "api/control/ControlHub.hpp"
#include "api/db/DbExecutor.hpp"
#include "api/db/Storage.hpp"
#include "api/webhook/WebhookEvent.hpp"

namespace meeting::api {

class EventRecorder final : public control::ControlHub::Listener {
 public:
  /// `ordered` must have exactly one thread.
  EventRecorder(db::Storage& storage, db::DbExecutor& ordered, PeerRegistry& peers);

  void onNodeRegistered(const control::NodeInfo& node) override;
  void onNodeEvent(const control::NodeInfo& node, const control::NodeEvent& event) override;

  /// Applies one event synchronously (what the executor runs; tests call it directly).
  void apply(const control::NodeEvent& event);

  /// Sends room/peer/track/chat events to the room's webhook_url, or the server-wide default
  /// URL when it has none, through `sink` (nullptr = off).
  /// Call before events arrive.
  void setWebhooks(webhook::WebhookSink* sink) { webhooks_ = sink; }

 private:
  Result<db::RoomSession> openSession(const std::string& roomId);
  void applyToStorage(const control::NodeEvent& event, bool& wasConnected);
  void emitWebhook(const control::NodeEvent& event, bool wasConnected);

  db::Storage& storage_;
  db::DbExecutor& ordered_;
  PeerRegistry& peers_;
  webhook::WebhookSink* webhooks_ = nullptr;
};

}  // namespace meeting::api
