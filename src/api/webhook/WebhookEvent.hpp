#pragma once
// What a webhook says: the event types, the JSON body, and the seam (WebhookSink) through which
// the REST routes and the EventRecorder hand events to the dispatcher.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace meeting::api::webhook {

/// Event types (docs/operations.md "Webhooks").
namespace event {
inline constexpr const char* RoomCreated = "room_created";
inline constexpr const char* RoomDeleted = "room_deleted";
inline constexpr const char* RoomStarted = "room_started";
inline constexpr const char* RoomFinished = "room_finished";
inline constexpr const char* PeerAdded = "peer_added";
inline constexpr const char* PeerDeleted = "peer_deleted";
inline constexpr const char* PeerConnected = "peer_connected";
inline constexpr const char* PeerDisconnected = "peer_disconnected";
inline constexpr const char* TrackAdded = "track_added";
inline constexpr const char* TrackRemoved = "track_removed";
inline constexpr const char* ChatMessage = "chat_message";
}  // namespace event

struct WebhookEvent {
  std::string type;      ///< one of event::*
  std::string room;
  std::string peer;      ///< "" = not sent
  nlohmann::json track;  ///< {"id","kind","source"}; null = not sent
  std::string text;      ///< chat_message only ("" = not sent)
};

/// The body: {"id","type","time" (Unix ms),"room","peer"?,"track"?,"text"?}. Never throws (text
/// that is not valid UTF-8 is replaced, not refused).
std::string webhookBody(const WebhookEvent& event, const std::string& id, int64_t timeMs);

/// Accepts events for a URL. Implementations must be thread-safe; emit() may block briefly on the
/// database (call it from a worker thread, never from an event loop).
class WebhookSink {
 public:
  virtual ~WebhookSink() = default;
  virtual void emit(const std::string& url, const WebhookEvent& event) = 0;
};

}  // namespace meeting::api::webhook
