#pragma once
// The media worker's ICE-TCP port (RFC 6544, passive candidates): browsers that cannot use UDP
// connect here. Each connection carries STUN, DTLS and SRTP packets framed with a 16-bit length
// (RFC 4571 §2, as RFC 6544 §3 says). A connection is anonymous until ICE accepts a check on it;
// one that is not accepted within `acceptTimeout` is closed, so idle sockets cannot pile up.
//
// Threading: owned by one worker loop; every method and callback runs there.
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/Result.hpp"
#include "net/EventLoop.hpp"
#include "proto/stun/StunTypes.hpp"

namespace meeting::sfu {

class TcpMediaServer;

class TcpMediaConnection : public std::enable_shared_from_this<TcpMediaConnection> {
 public:
  /// Bytes waiting to be written beyond which further packets are dropped (a stalled reader
  /// must not make the server buffer without bound; media is useless when that late anyway).
  static constexpr size_t MaxQueuedBytes = 4 * 1024 * 1024;
  static constexpr size_t MaxFrameSize = 65535;

  TcpMediaConnection(TcpMediaServer& server, boost::asio::ip::tcp::socket socket, proto::stun::Address remote);
  TcpMediaConnection(const TcpMediaConnection&) = delete;
  TcpMediaConnection& operator=(const TcpMediaConnection&) = delete;

  /// Sends one packet with its length prefix; false when dropped (closed or queue full).
  bool send(std::span<const uint8_t> packet);
  void close();
  /// ICE accepted a check on this connection: it may live past the accept timeout.
  void markAccepted() { accepted_ = true; }
  bool accepted() const { return accepted_; }
  bool closed() const { return closed_; }
  const proto::stun::Address& remote() const { return remote_; }
  uint64_t drops() const { return drops_; }

 private:
  friend class TcpMediaServer;
  void startReading();
  void deliverFrames();
  void startWriting();

  TcpMediaServer& server_;
  boost::asio::ip::tcp::socket socket_;
  proto::stun::Address remote_;
  std::array<uint8_t, 2 * (MaxFrameSize + 2)> readBuffer_{};
  size_t readUsed_ = 0;
  std::vector<uint8_t> pending_;  // framed packets not yet handed to the kernel
  std::vector<uint8_t> writing_;  // the buffer of the write in progress
  bool writeInProgress_ = false;
  bool accepted_ = false;
  bool closed_ = false;
  uint64_t drops_ = 0;
};

class TcpMediaServer {
 public:
  using FrameReceiver = std::function<void(std::span<uint8_t> packet, TcpMediaConnection& connection)>;
  using CloseHandler = std::function<void(TcpMediaConnection& connection)>;

  static constexpr size_t MaxConnections = 4096;

  static Result<std::unique_ptr<TcpMediaServer>> open(net::EventLoop& loop, const std::string& ip, uint16_t port);
  ~TcpMediaServer();

  void start(FrameReceiver onFrame, CloseHandler onClosed,
             std::chrono::milliseconds acceptTimeout = std::chrono::seconds(10));
  void close();
  uint16_t port() const { return port_; }
  size_t connectionCount() const { return connections_.size(); }

 private:
  friend class TcpMediaConnection;
  TcpMediaServer(net::EventLoop& loop, boost::asio::ip::tcp::acceptor acceptor);
  void acceptNext();
  void onConnectionClosed(TcpMediaConnection& connection);

  net::EventLoop& loop_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  FrameReceiver onFrame_;
  CloseHandler onClosed_;
  std::chrono::milliseconds acceptTimeout_{10000};
  std::unordered_map<TcpMediaConnection*, std::shared_ptr<TcpMediaConnection>> connections_;
  bool closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace meeting::sfu
