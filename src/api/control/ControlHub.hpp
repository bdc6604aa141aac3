#pragma once
// The apiserver's end of the control link. Servers connect over the WebSocket route (or in
// memory via LocalControlClient), register, report load every second and report room/peer/track
// events; the hub keeps the NodeRegistry current, hands events to its Listener and sends
// commands (add_peer, remove_peer, delete_room) to the server hosting a room. Thread-safe.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "api/control/ControlMessages.hpp"
#include "api/control/NodeRegistry.hpp"
#include "net/HttpRouter.hpp"

namespace meeting::api::control {

class ControlHub {
 public:
  /// Receives what servers report. Called on the thread that delivered the message (the control
  /// loop for WebSocket links); implementations hand blocking work to their own pool.
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void onNodeRegistered(const NodeInfo& node) = 0;
    virtual void onNodeEvent(const NodeInfo& node, const NodeEvent& event) = 0;
  };

  /// One connected server, as the hub sees it (a WebSocket or an in-memory channel).
  struct LinkOps {
    std::function<void(std::string text)> send;                         // thread-safe
    std::function<void(uint16_t code, std::string reason)> close;       // thread-safe
  };
  using LinkId = uint64_t;
  using AckHandler = std::function<void(const CommandAck&)>;

  ControlHub(NodeRegistry& registry, Listener& listener, std::string secret, const Clock& clock);

  /// The route servers open (`Authorization: Bearer <control token>`); 401 without a valid one.
  net::WebSocketRoute webSocketRoute();

  /// Attaches a link; `expectedNodeId` (from the token; empty for in-memory links) must match
  /// the id the server registers with.
  LinkId attach(LinkOps ops, std::string expectedNodeId);
  /// Handles one text message received on a link.
  void receive(LinkId link, std::string_view text);
  /// The link is gone: its node is marked down at once.
  void detach(LinkId link);

  /// Sends a command to a registered, connected node. Returns false when the node has no link.
  /// `onAck` (optional) runs when the node answers.
  bool sendCommand(const std::string& nodeId, Command command, AckHandler onAck = {});

  NodeRegistry& registry() { return registry_; }
  const std::string& secret() const { return secret_; }

 private:
  struct Link {
    LinkOps ops;
    std::string expectedNodeId;
    std::string nodeId;  // set by register
    NodeInfo node;
  };
  void refuse(LinkId id, const Link& link, const std::string& code, const std::string& message);

  NodeRegistry& registry_;
  Listener& listener_;
  const std::string secret_;
  const Clock& clock_;
  std::mutex mutex_;
  std::map<LinkId, Link> links_;
  std::map<std::string, LinkId> nodeLinks_;
  std::map<uint64_t, AckHandler> pendingAcks_;
  LinkId nextLink_ = 1;
  uint64_t nextCommand_ = 1;
};

}  // namespace meeting::api::control
