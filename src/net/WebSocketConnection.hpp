#pragma once
// A server-side WebSocket, independent of whether it runs over TLS. Handlers are called on the
// loop that owns the connection; send() and close() may be called from any thread.
#include <functional>
#include <string>

namespace meeting::net {

class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;

  /// Queues a text message; messages go out in order. Dropped once the connection is closing.
  virtual void send(std::string text) = 0;
  /// Starts the closing handshake with a close code (RFC 6455 §7.4) and reason.
  virtual void close(uint16_t code, std::string reason) = 0;
  /// Drops the TCP connection at once, without a closing handshake (tests of reconnection).
  virtual void abort() = 0;

  /// Must be set inside onOpen, before the handler returns (reading starts after it).
  virtual void onMessage(std::function<void(std::string&& text)> handler) = 0;
  /// Called once when the connection ends, whoever ended it.
  virtual void onClose(std::function<void()> handler) = 0;

  virtual const std::string& remoteAddress() const = 0;
  /// Messages queued but not yet written (backpressure signal).
  virtual size_t pendingMessages() const = 0;
};

}  // namespace meeting::net
