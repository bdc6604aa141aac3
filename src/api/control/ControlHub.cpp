#include "api/control/ControlHub.hpp"

#include "common/Log.hpp"
#include "net/WebSocketConnection.hpp"

namespace meeting::api::control {
namespace {

namespace http = net::http;

int64_t unixSeconds(const Clock& clock) { return clock.wallMicros() / 1'000'000; }

// Not a route parameter: where authorize() leaves the verified node id for onOpen().
constexpr const char* TokenNodeParam = "\x01control-node";

}  // namespace

ControlHub::ControlHub(NodeRegistry& registry, Listener& listener, std::string secret, const Clock& clock)
    : registry_(registry), listener_(listener), secret_(std::move(secret)), clock_(clock) {}

net::WebSocketRoute ControlHub::webSocketRoute() {
  net::WebSocketRoute route;
  route.maxMessageBytes = MaxMessageBytes;
  route.authorize = [this](net::HttpRequestContext& ctx) -> std::optional<net::HttpResponse> {
    auto node = verifyControlToken(ctx.bearerToken(), secret_, unixSeconds(clock_));
    if (!node) return net::jsonError(http::status::unauthorized, "unauthorized", "control link: " + node.error().message);
    // onOpen sees the same context but no longer the request headers (the upgrade took them).
    ctx.params[TokenNodeParam] = *node;
    return std::nullopt;
  };
  route.onOpen = [this](std::shared_ptr<net::WebSocketConnection> ws, net::HttpRequestContext& ctx) {
    auto found = ctx.params.find(TokenNodeParam);
    Result<std::string> node = found != ctx.params.end() ? Result<std::string>(found->second)
                                                          : Result<std::string>(makeError("unauthorized", "no token"));
    std::weak_ptr<net::WebSocketConnection> weak = ws;
    LinkOps ops{[weak](std::string text) {
                  if (auto c = weak.lock()) c->send(std::move(text));
                },
                [weak](uint16_t code, std::string reason) {
                  if (auto c = weak.lock()) c->close(code, std::move(reason));
                }};
    LinkId id = attach(std::move(ops), node ? *node : std::string("\x01invalid"));
    ws->onMessage([this, id](std::string&& text) { receive(id, text); });
    ws->onClose([this, id] { detach(id); });
  };
  return route;
}

ControlHub::LinkId ControlHub::attach(LinkOps ops, std::string expectedNodeId) {
  std::lock_guard lock(mutex_);
  LinkId id = nextLink_++;
  links_[id] = Link{std::move(ops), std::move(expectedNodeId), {}, {}};
  return id;
}

void ControlHub::refuse(LinkId id, const Link& link, const std::string& code, const std::string& message) {
  MLOG_WARN("control link {}: {} ({})", id, message, code);
  ControlMessage error;
  error.type = ControlMessage::Type::Error;
  error.errorCode = code;
  error.errorMessage = message;
  link.ops.send(serializeControlMessage(error));
  link.ops.close(1008, code);  // RFC 6455 §7.4.1: policy violation
}

void ControlHub::receive(LinkId id, std::string_view text) {
  auto message = parseControlMessage(text);
  using T = ControlMessage::Type;
  std::unique_lock lock(mutex_);
  auto it = links_.find(id);
  if (it == links_.end()) return;
  Link& link = it->second;
  if (!message) return refuse(id, link, "bad_message", "malformed control message");
  if (link.nodeId.empty() && message->type != T::Register) return refuse(id, link, "not_registered", "register first");

  switch (message->type) {
    case T::Register: {
      const NodeInfo& node = message->node;
      if (message->version != ProtocolVersion) return refuse(id, link, "bad_version", "unsupported protocol version");
      if (!link.expectedNodeId.empty() && link.expectedNodeId != node.id) {
        return refuse(id, link, "wrong_node", "node id differs from the token's");
      }
      // A reconnecting server replaces its older link (which may not have noticed it died yet).
      if (auto old = nodeLinks_.find(node.id); old != nodeLinks_.end() && old->second != id) {
        if (auto previous = links_.find(old->second); previous != links_.end()) {
          previous->second.ops.close(1000, "replaced");
          previous->second.nodeId.clear();
        }
      }
      link.nodeId = node.id;
      link.node = node;
      nodeLinks_[node.id] = id;
      registry_.upsert(node);
      ControlMessage reply;
      reply.type = T::Registered;
      reply.heartbeatMs = 1000;
      reply.downAfterMs = std::chrono::duration_cast<std::chrono::milliseconds>(registry_.downAfter()).count();
      link.ops.send(serializeControlMessage(reply));
      lock.unlock();
      MLOG_INFO("control: {} {} registered ({}, capacity {})", node.role, node.id, node.address, node.capacity);
      listener_.onNodeRegistered(node);
      return;
    }
    case T::Load:
      registry_.report(link.nodeId, message->load);
      return;
    case T::Event: {
      NodeInfo node = link.node;
      lock.unlock();
      listener_.onNodeEvent(node, message->event);
      return;
    }
    case T::Ack: {
      AckHandler handler;
      if (auto p = pendingAcks_.find(message->ack.id); p != pendingAcks_.end()) {
        handler = std::move(p->second);
        pendingAcks_.erase(p);
      }
      lock.unlock();
      if (!message->ack.ok) MLOG_WARN("control: command {} refused: {}", message->ack.id, message->ack.error);
      if (handler) handler(message->ack);
      return;
    }
    default:
      return refuse(id, link, "unexpected", "message not expected from a server");
  }
}

void ControlHub::detach(LinkId id) {
  std::string nodeId;
  {
    std::lock_guard lock(mutex_);
    auto it = links_.find(id);
    if (it == links_.end()) return;
    nodeId = it->second.nodeId;
    links_.erase(it);
    if (auto n = nodeLinks_.find(nodeId); n != nodeLinks_.end() && n->second == id) {
      nodeLinks_.erase(n);
    } else {
      nodeId.clear();  // replaced by a newer link: the node stays up
    }
  }
  if (!nodeId.empty()) {
    registry_.disconnected(nodeId);
    MLOG_WARN("control: {} disconnected", nodeId);
  }
}

bool ControlHub::sendCommand(const std::string& nodeId, Command command, AckHandler onAck) {
  std::lock_guard lock(mutex_);
  auto n = nodeLinks_.find(nodeId);
  if (n == nodeLinks_.end()) return false;
  auto link = links_.find(n->second);
  if (link == links_.end()) return false;
  command.id = nextCommand_++;
  if (onAck) {
    if (pendingAcks_.size() > 10'000) pendingAcks_.erase(pendingAcks_.begin());  // bound lost acks
    pendingAcks_[command.id] = std::move(onAck);
  }
  ControlMessage message;
  message.type = ControlMessage::Type::Command;
  message.command = std::move(command);
  link->second.ops.send(serializeControlMessage(message));
  return true;
}

}  // namespace meeting::api::control
