#pragma once
// A TURN client over TCP or TLS (RFC 8656 §3.1): STUN and ChannelData frames on one stream
// (RFC 8656 §12.5 framing), answers and relayed data written back in order.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <memory>
#include <span>
#include <vector>

#include "turn/TurnTypes.hpp"

namespace meeting::turn {

class TurnWorker;

class StreamConnection : public std::enable_shared_from_this<StreamConnection> {
 public:
  StreamConnection(TurnWorker& worker, ClientKey key) : worker_(worker), key_(key) {}
  virtual ~StreamConnection() = default;
  const ClientKey& key() const { return key_; }
  virtual void start() = 0;
  /// Queues bytes for the client (copied); dropped if the client is too far behind.
  virtual void send(std::span<const uint8_t> data) = 0;
  virtual void close() = 0;

  // RFC 6062 data connections.
  /// Stops taking frames after the current one (a ConnectionBind): what follows is raw data.
  virtual void pauseReading() = 0;
  /// The ConnectionBind failed: back to STUN/ChannelData framing.
  virtual void resumeReading() = 0;
  /// The ConnectionBind succeeded (its answer is queued): from now on bytes go both ways between
  /// this connection and `peer` as they are, one buffer per direction, each side read only once
  /// the other has taken the previous buffer (backpressure). An end of stream on one side is
  /// passed on as a half-close; an error, or both halves closed, closes both.
  virtual void startSplice(boost::asio::ip::tcp::socket peer, uint32_t connectionId) = 0;
  /// Splicing: when bytes last moved either way (or the splice began); the worker closes splices
  /// idle beyond TurnShared::tcpRelayIdleTimeout.
  virtual TimePoint lastActivity() const = 0;

  static std::shared_ptr<StreamConnection> makeTcp(TurnWorker& w, ClientKey key, boost::asio::ip::tcp::socket s);
  static std::shared_ptr<StreamConnection> makeTls(TurnWorker& w, ClientKey key, boost::asio::ip::tcp::socket s,
                                                   boost::asio::ssl::context& context);

 protected:
  TurnWorker& worker_;
  ClientKey key_;
};

}  // namespace meeting::turn
