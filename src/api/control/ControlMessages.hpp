#pragma once
// The control link between the apiserver and the sfu/turn/fs servers (docs/control.md): JSON
// text messages over one WebSocket (or in memory in `meeting all`). Pure codec, no I/O.
// Parsing is bounded and never throws: anything malformed yields nullopt.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/Result.hpp"

namespace meeting::api::control {

/// Protocol version carried in "register"; bumped on incompatible changes.
inline constexpr int ProtocolVersion = 1;
/// Largest message accepted (a chat text is at most MaxTextBytes; a load message with its
/// monitoring report carries at most MaxReportRooms rooms, about 200 bytes each).
inline constexpr size_t MaxMessageBytes = 1024 * 1024;
/// Rooms listed in one monitoring report (more are counted in `rooms_omitted`).
inline constexpr size_t MaxReportRooms = 2000;
inline constexpr size_t MaxKeyBytes = 255;
inline constexpr size_t MaxTextBytes = 16 * 1024;

/// What a server tells the apiserver about itself when it registers.
struct NodeInfo {
  std::string id;        ///< unique per server, e.g. "sfu-1"
  std::string role;      ///< "sfu", "turn" or "fs"
  std::string address;   ///< public host:port (seed 001 style: "1.sfuserver.com:443", "1.2.3.4:3478")
  std::string wsUrl;     ///< sfu only: signaling URL clients connect to, e.g. "wss://host:443/rtc"
  int64_t capacity = 0;  ///< in the same unit as LoadReport::load (peers for an sfu)
};

/// Sent every second.
struct LoadReport {
  int64_t load = 0;
  int64_t rooms = 0;
  int64_t peers = 0;
  /// The server's monitoring report (docs/operations.md "Monitoring"): a JSON object, or null
  /// when the server's monitoring is off. Shared and immutable, so registry copies are cheap.
  std::shared_ptr<const nlohmann::json> report = nullptr;
};

struct TrackInfo {
  std::string id;
  std::string kind;    ///< "audio" / "video" / "data"
  std::string source;  ///< "camera", "microphone", "screen", ... (free text)
};

/// Room, peer and track events a server reports (docs/control.md lists them).
struct NodeEvent {
  std::string event;  ///< room_started, room_ended, peer_connected, peer_disconnected, peer_left,
                      ///< track_published, track_unpublished, peer_metadata, chat
  std::string room;
  std::string peer;
  std::string displayName;
  std::string reason;
  std::string text;
  int64_t sentAt = 0;        ///< chat: Unix ms (0 = when received)
  TrackInfo track;
  nlohmann::json metadata;   ///< peer_metadata: any JSON value (null when absent)
};

/// An instruction from the apiserver to a server; answered with an Ack carrying the same id.
struct Command {
  uint64_t id = 0;
  std::string command;      ///< add_peer, remove_peer, delete_room
  std::string room;
  std::string peer;
  std::string displayName;
  nlohmann::json roomConfig;  ///< add_peer: the room's options (seed 004 names)
  nlohmann::json metadata;    ///< add_peer: peer metadata
};

struct CommandAck {
  uint64_t id = 0;
  bool ok = true;
  std::string error;
};

struct ControlMessage {
  enum class Type { Register, Registered, Load, Event, Command, Ack, Error };
  Type type = Type::Error;
  int version = ProtocolVersion;  // Register
  NodeInfo node;                  // Register
  LoadReport load;                // Load
  NodeEvent event;                // Event
  Command command;                // Command
  CommandAck ack;                 // Ack
  int64_t heartbeatMs = 1000;     // Registered
  int64_t downAfterMs = 5000;     // Registered
  std::string errorCode;          // Error
  std::string errorMessage;       // Error
};

std::optional<ControlMessage> parseControlMessage(std::string_view text);
std::string serializeControlMessage(const ControlMessage& message);

/// Short-lived credential for opening the control link (sent as `Authorization: Bearer`): an
/// HS256 JWT with audience "control", the node id and role, valid `ttlSeconds`. The raw secret
/// never travels.
Result<std::string> makeControlToken(std::string_view secret, const std::string& nodeId, const std::string& role,
                                     int64_t nowSeconds, int64_t ttlSeconds = 60);
/// Verifies a control token; returns the node id it was issued to.
Result<std::string> verifyControlToken(std::string_view token, std::string_view secret, int64_t nowSeconds);

}  // namespace meeting::api::control
