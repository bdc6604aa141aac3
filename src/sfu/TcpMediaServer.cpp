#include "sfu/TcpMediaServer.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "common/Log.hpp"

namespace meeting::sfu {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

proto::stun::Address toAddress(const tcp::endpoint& endpoint) {
  proto::stun::Address address;
  address.port = endpoint.port();
  if (endpoint.address().is_v4()) {
    auto bytes = endpoint.address().to_v4().to_bytes();
    address = proto::stun::Address::v4({bytes[0], bytes[1], bytes[2], bytes[3]}, endpoint.port());
  } else {
    auto v6 = endpoint.address().to_v6();
    if (v6.is_v4_mapped()) {
      auto bytes = asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes();
      address = proto::stun::Address::v4({bytes[0], bytes[1], bytes[2], bytes[3]}, endpoint.port());
    } else {
      auto bytes = v6.to_bytes();
      std::array<uint8_t, 16> raw{};
      std::memcpy(raw.data(), bytes.data(), 16);
      address = proto::stun::Address::v6(raw, endpoint.port());
    }
  }
  return address;
}

}  // namespace

// ---- connection ----

TcpMediaConnection::TcpMediaConnection(TcpMediaServer& server, tcp::socket socket, proto::stun::Address remote)
    : server_(server), socket_(std::move(socket)), remote_(remote) {}

void TcpMediaConnection::startReading() {
  if (closed_) return;
  if (readUsed_ == readBuffer_.size()) {  // cannot happen with frames <= MaxFrameSize, but never spin
    close();
    return;
  }
  socket_.async_read_some(asio::buffer(readBuffer_.data() + readUsed_, readBuffer_.size() - readUsed_),
                          [self = shared_from_this()](const boost::system::error_code& error, size_t bytes) {
                            if (error || self->closed_) {
                              self->close();
                              return;
                            }
                            self->readUsed_ += bytes;
                            self->deliverFrames();
                            self->startReading();
                          });
}

void TcpMediaConnection::deliverFrames() {
  size_t offset = 0;
  // RFC 4571 §2: a 16-bit length in network order, then the packet. A zero length is legal
  // framing but carries nothing.
  while (!closed_ && readUsed_ - offset >= 2) {
    size_t length = (size_t{readBuffer_[offset]} << 8) | readBuffer_[offset + 1];
    if (readUsed_ - offset - 2 < length) break;
    if (length > 0) server_.onFrame_(std::span<uint8_t>(readBuffer_.data() + offset + 2, length), *this);
    offset += 2 + length;
  }
  if (offset > 0 && !closed_) {
    std::memmove(readBuffer_.data(), readBuffer_.data() + offset, readUsed_ - offset);
    readUsed_ -= offset;
  }
}

bool TcpMediaConnection::send(std::span<const uint8_t> packet) {
  if (closed_ || packet.size() > MaxFrameSize || pending_.size() + packet.size() + 2 > MaxQueuedBytes) {
    ++drops_;
    return false;
  }
  pending_.push_back(static_cast<uint8_t>(packet.size() >> 8));
  pending_.push_back(static_cast<uint8_t>(packet.size()));
  pending_.insert(pending_.end(), packet.begin(), packet.end());
  startWriting();
  return true;
}

void TcpMediaConnection::startWriting() {
  if (writeInProgress_ || pending_.empty() || closed_) return;
  writing_.swap(pending_);
  pending_.clear();
  writeInProgress_ = true;
  asio::async_write(socket_, asio::buffer(writing_), [self = shared_from_this()](const boost::system::error_code& error, size_t) {
    self->writeInProgress_ = false;
    self->writing_.clear();
    if (error) {
      self->close();
      return;
    }
    self->startWriting();
  });
}

void TcpMediaConnection::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  server_.onConnectionClosed(*this);
}

// ---- server ----

Result<std::unique_ptr<TcpMediaServer>> TcpMediaServer::open(net::EventLoop& loop, const std::string& ip,
                                                             uint16_t port) {
  boost::system::error_code error;
  auto address = asio::ip::make_address(ip, error);
  if (error) return makeError("invalid_address", "media address '" + ip + "' is not an IPv4 or IPv6 address");
  tcp::acceptor acceptor(loop.context());
  tcp::endpoint endpoint(address, port);
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (!error && address.is_v6()) acceptor.set_option(asio::ip::v6_only(false), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return makeError("socket", "cannot listen on TCP " + ip + ":" + std::to_string(port) + ": " + error.message());
  }
  return std::unique_ptr<TcpMediaServer>(new TcpMediaServer(loop, std::move(acceptor)));
}

TcpMediaServer::TcpMediaServer(net::EventLoop& loop, tcp::acceptor acceptor)
    : loop_(loop), acceptor_(std::move(acceptor)) {
  port_ = acceptor_.local_endpoint().port();
}

TcpMediaServer::~TcpMediaServer() {
  *alive_ = false;
  close();
}

void TcpMediaServer::start(FrameReceiver onFrame, CloseHandler onClosed, std::chrono::milliseconds acceptTimeout) {
  onFrame_ = std::move(onFrame);
  onClosed_ = std::move(onClosed);
  acceptTimeout_ = acceptTimeout;
  acceptNext();
}

void TcpMediaServer::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  auto connections = std::move(connections_);
  connections_.clear();
  for (auto& [raw, connection] : connections) connection->close();
}

void TcpMediaServer::acceptNext() {
  if (closed_) return;
  acceptor_.async_accept([this, alive = alive_](const boost::system::error_code& error, tcp::socket socket) {
    if (!*alive || closed_) return;
    if (!error) {
      boost::system::error_code ignored;
      auto remote = socket.remote_endpoint(ignored);
      if (ignored || connections_.size() >= MaxConnections) {
        socket.close(ignored);
      } else {
        socket.set_option(tcp::no_delay(true), ignored);
        auto connection = std::make_shared<TcpMediaConnection>(*this, std::move(socket), toAddress(remote));
        connections_.emplace(connection.get(), connection);
        std::weak_ptr<TcpMediaConnection> weak = connection;
        loop_.runAfter(acceptTimeout_, [weak, alive] {
          if (!*alive) return;
          if (auto c = weak.lock(); c && !c->accepted()) c->close();
        });
        connection->startReading();
      }
    } else if (error == asio::error::operation_aborted) {
      return;
    }
    acceptNext();
  });
}

void TcpMediaServer::onConnectionClosed(TcpMediaConnection& connection) {
  auto it = connections_.find(&connection);
  if (it == connections_.end()) return;  // server closing: callbacks are not wanted any more
  auto keep = it->second;                // the connection lives until its handlers finish
  connections_.erase(it);
  if (onClosed_) onClosed_(connection);
}

}  // namespace meeting::sfu
