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

  static std::shared_ptr<StreamConnection> makeTcp(TurnWorker& w, ClientKey key, boost::asio::ip::tcp::socket s);
  static std::shared_ptr<StreamConnection> makeTls(TurnWorker& w, ClientKey key, boost::asio::ip::tcp::socket s,
                                                   boost::asio::ssl::context& context);

 protected:
  TurnWorker& worker_;
  ClientKey key_;
};

}  // namespace meeting::turn
