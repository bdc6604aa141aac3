#include "turn/TurnWorker.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/detail/socket_option.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>

#include "common/Log.hpp"
#include "turn/StreamConnection.hpp"

namespace meeting::turn {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

constexpr int SocketBuffer = 4 << 20;  // absorb bursts between two loop turns
constexpr size_t MaxDrainBatches = 8;  // then yield to the other sockets of the loop

Error bindError(const std::string& what, const boost::system::error_code& ec) {
  return makeError("turn_bind", what + ": " + ec.message());
}

Address toAddress(const asio::ip::address& ip, uint16_t port) {
  if (ip.is_v4()) return Address::v4(ip.to_v4().to_bytes(), port);
  return Address::v6(ip.to_v6().to_bytes(), port);
}

template <typename Socket>
void setBuffers(Socket& s) {
  boost::system::error_code ignored;
  s.set_option(asio::socket_base::receive_buffer_size(SocketBuffer), ignored);
  s.set_option(asio::socket_base::send_buffer_size(SocketBuffer), ignored);
}

Result<void> listenOn(tcp::acceptor& a, const tcp::endpoint& ep) {
  boost::system::error_code ec;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.set_option(ReusePort(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return bindError("TCP " + ep.address().to_string() + ":" + std::to_string(ep.port()), ec);
  return {};
}

}  // namespace

struct TurnWorker::Relay {
  Relay(asio::io_context& ctx) : socket(ctx) {}
  uint32_t id = 0;
  uint16_t port = 0;
  udp::socket socket;
  bool closed = false;
};

struct TurnWorker::TcpRelay {
  TcpRelay(asio::io_context& ctx) : acceptor(ctx) {}
  uint32_t id = 0;
  uint16_t port = 0;
  tcp::acceptor acceptor;
  bool closed = false;
};

struct TurnWorker::PeerSocket {
  PeerSocket(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  bool closed = false;
};

TurnWorker::TurnWorker(net::EventLoop& loop, TurnShared& shared, TurnStats& stats, uint32_t index)
    : loop_(loop), shared_(shared), stats_(stats), index_(index), udp_(loop.context()), tcp_(loop.context()),
      tls_(loop.context()) {
  core_ = std::make_unique<TurnServer>(shared.options, shared.policy, *this, shared.budget, shared.nonceKey, stats);
  core_->setWorkerIndex(index);
  queue_.setGso(shared.udpGso);
}

TurnWorker::~TurnWorker() = default;

Result<void> TurnWorker::bind(const asio::ip::address& ip, uint16_t port, std::optional<uint16_t> tlsPort) {
  boost::system::error_code ec;
  udp::endpoint uep(ip, port);
  udp_.open(uep.protocol(), ec);
  if (!ec) udp_.set_option(udp::socket::reuse_address(true), ec);
  if (!ec) udp_.set_option(ReusePort(true), ec);
  if (!ec) udp_.bind(uep, ec);
  if (ec) return bindError("UDP " + ip.to_string() + ":" + std::to_string(port), ec);
  setBuffers(udp_);
  udp_.non_blocking(true, ec);
  const uint16_t bound = udp_.local_endpoint().port();
  if (auto r = listenOn(tcp_, tcp::endpoint(ip, bound)); !r) return r;
  if (tlsPort && shared_.tls) {
    if (auto r = listenOn(tls_, tcp::endpoint(ip, *tlsPort)); !r) return r;
  }
  return {};
}

uint16_t TurnWorker::udpPort() const {
  boost::system::error_code ec;
  auto ep = udp_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

uint16_t TurnWorker::tlsPort() const {
  boost::system::error_code ec;
  auto ep = tls_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void TurnWorker::start() {
  armUdp();
  accept(tcp_, false);
  if (tls_.is_open()) accept(tls_, true);
  expiryTimer_ = loop_.runEvery(std::chrono::seconds(1), [this] {
    core_->expire(now());
    closeIdleStreams(now());
    closeIdleSplices(now());
  });
}

void TurnWorker::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (expiryTimer_) loop_.cancel(expiryTimer_);
  boost::system::error_code ignored;
  udp_.close(ignored);
  tcp_.close(ignored);
  tls_.close(ignored);
  auto streams = std::move(streams_);
  for (auto& [id, s] : streams) s.connection->close();
  auto splices = std::move(splices_);
  for (auto& [id, c] : splices) c->close();
  core_.reset();  // closes every relay through closeRelay()
  relays_.clear();
  for (auto& [id, p] : peerSockets_) {
    p->closed = true;
    p->socket.close(ignored);
  }
  peerSockets_.clear();
  boundAt_.clear();
}

void TurnWorker::armUdp() {
  udp_.async_wait(udp::socket::wait_read, [this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    onUdpReadable();
    armUdp();
  });
}

bool TurnWorker::receiveInto(int fd) {
  if (batch_.full()) flush();  // every slot is queued: send them before reusing any
  return batch_.receive(fd) > 0;
}

void TurnWorker::onUdpReadable() {
  beginRound();
  const int fd = udp_.native_handle();
  for (size_t round = 0; round < MaxDrainBatches; ++round) {
    if (!receiveInto(fd)) break;
    const size_t n = batch_.count();
    const TimePoint t = now();
    const int64_t wall = wallSeconds();
    batching_ = true;
    for (size_t i = 0; i < n; ++i) {
      if (batch_.truncated(i)) continue;
      auto from = proto::stun::addressFromSockaddr(batch_.source(i));
      if (!from) continue;
      ClientKey key{ClientTransport::Udp, index_, *from};
      core_->handleClientPacket(key, batch_.slot(i).subspan(RecvBatch::Headroom, batch_.length(i)), t, wall);
    }
    batching_ = false;
    if (n < RecvBatch::Size) break;
  }
}

void TurnWorker::armRelay(const std::shared_ptr<Relay>& relay) {
  relay->socket.async_wait(udp::socket::wait_read, [this, relay](const boost::system::error_code& ec) {
    if (ec || relay->closed || stopped_) return;
    onRelayReadable(relay);
    if (!relay->closed) armRelay(relay);
  });
}

void TurnWorker::onRelayReadable(const std::shared_ptr<Relay>& relay) {
  beginRound();
  const int fd = relay->socket.native_handle();
  for (size_t round = 0; round < MaxDrainBatches && !relay->closed; ++round) {
    if (!receiveInto(fd)) break;
    const size_t n = batch_.count();
    const TimePoint t = now();
    batching_ = true;
    for (size_t i = 0; i < n; ++i) {
      if (batch_.truncated(i)) continue;
      auto from = proto::stun::addressFromSockaddr(batch_.source(i));
      if (!from) continue;
      core_->handlePeerPacket(relay->id, *from, batch_.slot(i), RecvBatch::Headroom, batch_.length(i), t);
    }
    batching_ = false;
    if (n < RecvBatch::Size) break;
  }
}

void TurnWorker::beginRound() {
  if (roundPending_) return;
  roundPending_ = true;
  // Posted behind the other sockets the same epoll wakeup made ready, so the round's datagrams
  // leave in one sendmmsg per socket (replies to every client on the listening socket at once).
  boost::asio::post(loop_.context(), [this] { endRound(); });
}

void TurnWorker::endRound() {
  roundPending_ = false;
  if (!stopped_) flush();
}

void TurnWorker::flush() {
  if (!queue_.empty()) {
    if (size_t dropped = queue_.flush(); dropped > 0) stats_.droppedSendFailed.inc(dropped);
  }
  batch_.recycle(batching_);  // nothing refers to the slots now, except the batch in hand
}

void TurnWorker::sendToClient(const ClientKey& client, std::span<const uint8_t> data) {
  if (client.transport == ClientTransport::Udp) {
    if (batching_ && batch_.owns(data.data())) {
      queue_.push(udp_.native_handle(), data, client.remote);
    } else if (!sendDatagram(udp_.native_handle(), data, client.remote)) {
      stats_.droppedSendFailed.inc();
    }
    return;
  }
  auto it = streams_.find(client.connection);
  if (it != streams_.end()) it->second.connection->send(data);
}

void TurnWorker::sendToPeer(uint32_t relayId, const Address& peer, std::span<const uint8_t> data) {
  auto it = relays_.find(relayId);
  if (it == relays_.end()) return;
  // Client frames stay in the receive batch (UDP) or the connection buffer (TCP) until flush().
  queue_.push(it->second->socket.native_handle(), data, peer);
}

std::optional<RelayEndpoint> TurnWorker::openRelay(const RelayRequest& request, RelayError& error) {
  const bool v6 = request.family == AddressFamily::IPv6;
  if (v6 && !shared_.announcedV6) {
    error = RelayError::FamilyUnsupported;
    return std::nullopt;
  }
  asio::ip::address bindIp = shared_.relayBind;
  if (v6 && bindIp.is_v4()) bindIp = asio::ip::address_v6::any();
  if (!v6 && bindIp.is_v6()) bindIp = asio::ip::address_v4::any();
  if (request.tcp) return openTcpRelay(bindIp, v6, error);
  const TimePoint t = now();
  std::optional<RelayEndpoint> result;
  // A plain flag and value instead of std::optional: g++ 12 at -O2 reports a false
  // maybe-uninitialized on the optional's payload here.
  bool hasToken = request.reservationToken.has_value();
  uint64_t tokenValue = request.reservationToken.value_or(0);
  for (int attempt = 0; attempt < 16 && !result; ++attempt) {
    RelayPortPool::Grant grant;
    if (hasToken) {
      auto port = shared_.ports->acquireReserved(tokenValue, t);
      if (!port) {
        error = RelayError::BadToken;
        return std::nullopt;
      }
      grant.port = *port;
      hasToken = false;
    } else {
      auto g = shared_.ports->acquire(request.evenPort, request.reserveNext, t);
      if (!g) {
        error = RelayError::NoCapacity;
        return std::nullopt;
      }
      grant = *g;
    }
    auto relay = std::make_shared<Relay>(loop_.context());
    boost::system::error_code ec;
    udp::endpoint ep(bindIp, grant.port);
    relay->socket.open(ep.protocol(), ec);
    if (!ec) relay->socket.bind(ep, ec);
    if (ec) {
      // Someone else holds the port: set it aside and try another.
      shared_.ports->markUnusable(grant.port, t);
      if (grant.reservationToken) shared_.ports->release(static_cast<uint16_t>(grant.port + 1));
      if (request.reservationToken) break;
      continue;
    }
    relay->socket.non_blocking(true, ec);
    setBuffers(relay->socket);
    if (request.dontFragment) {
      // RFC 8656 §7.2 DONT-FRAGMENT: set DF on what the relay sends.
      int on = v6 ? IPV6_PMTUDISC_DO : IP_PMTUDISC_DO;
      if (v6) setsockopt(relay->socket.native_handle(), IPPROTO_IPV6, IPV6_MTU_DISCOVER, &on, sizeof on);
      else setsockopt(relay->socket.native_handle(), IPPROTO_IP, IP_MTU_DISCOVER, &on, sizeof on);
    }
    relay->id = nextRelayId_++;
    relay->port = grant.port;
    RelayEndpoint e;
    e.id = relay->id;
    e.address = v6 ? *shared_.announcedV6 : shared_.announcedV4;
    e.address.port = grant.port;
    e.reservationToken = grant.reservationToken;
    relays_[relay->id] = relay;
    armRelay(relay);
    result = e;
  }
  if (!result) error = RelayError::NoCapacity;
  return result;
}

void TurnWorker::closeRelay(uint32_t relayId) {
  if (auto t = tcpRelays_.find(relayId); t != tcpRelays_.end()) {
    auto relay = t->second;
    tcpRelays_.erase(t);
    relay->closed = true;
    boost::system::error_code ignored;
    relay->acceptor.close(ignored);
    shared_.ports->release(relay->port);
    return;
  }
  auto it = relays_.find(relayId);
  if (it == relays_.end()) return;
  auto relay = it->second;
  relays_.erase(it);
  flush();  // nothing queued may refer to a closed socket's descriptor
  relay->closed = true;
  boost::system::error_code ignored;
  relay->socket.close(ignored);
  shared_.ports->release(relay->port);
}

void TurnWorker::accept(tcp::acceptor& acceptor, bool tls) {
  acceptor.async_accept([this, &acceptor, tls](const boost::system::error_code& ec, tcp::socket socket) {
    if (stopped_) return;
    if (!ec) {
      boost::system::error_code e2;
      auto remote = socket.remote_endpoint(e2);
      if (!e2 && idleStreamCount() >= shared_.maxIdleStreams) {
        // Connections that hold no allocation cost memory (a 128 KiB read buffer, a TLS session)
        // and nothing else bounds them: refuse beyond the cap.
        stats_.streamsRefused.inc();
        socket.close(e2);
      } else if (!e2) {
        ClientKey key{tls ? ClientTransport::Tls : ClientTransport::Tcp, nextConnectionId_++,
                      toAddress(remote.address(), remote.port())};
        auto c = tls ? StreamConnection::makeTls(*this, key, std::move(socket), *shared_.tls)
                     : StreamConnection::makeTcp(*this, key, std::move(socket));
        streams_[key.connection] = Stream{c, now()};
        stats_.streamsAccepted.inc();
        c->start();
      }
    }
    accept(acceptor, tls);
  });
}

size_t TurnWorker::idleStreamCount() const {
  // Each stream holds at most one allocation (RFC 8656 §2.2: one per 5-tuple).
  const size_t allocated = core_ ? core_->streamAllocationCount() : 0;
  return streams_.size() > allocated ? streams_.size() - allocated : 0;
}

void TurnWorker::closeIdleStreams(TimePoint t) {
  std::vector<std::shared_ptr<StreamConnection>> idle;
  for (auto& [id, s] : streams_) {
    if (core_->findAllocation(s.connection->key())) {
      s.idleSince = t;
    } else if (t - s.idleSince >= shared_.streamIdleTimeout) {
      idle.push_back(s.connection);
    }
  }
  // close() calls back into onStreamClosed, which erases from streams_: not while iterating it.
  for (auto& c : idle) {
    stats_.streamsIdleClosed.inc();
    c->close();
  }
}

void TurnWorker::closeIdleSplices(TimePoint t) {
  if (shared_.tcpRelayIdleTimeout <= Duration::zero()) return;
  // RFC 6062 gives a data connection no lifetime of its own (it lives as long as its allocation
  // and both TCP connections); a relay left silent this long is most likely dead at one end (no
  // FIN or RST ever reaches us through a vanished NAT binding), so it frees its descriptors and
  // the quota slot. close() erases from splices_: collect first.
  std::vector<std::shared_ptr<StreamConnection>> idle;
  for (auto& [id, c] : splices_) {
    if (t - c->lastActivity() >= shared_.tcpRelayIdleTimeout) idle.push_back(c);
  }
  for (auto& c : idle) {
    stats_.tcpIdleClosed.inc();
    c->close();
  }
}

void TurnWorker::onStreamFrame(StreamConnection& c, std::span<const uint8_t> frame) {
  batching_ = true;  // only sendToPeer queues; stream answers are copied by the connection
  core_->handleClientPacket(c.key(), frame, now(), wallSeconds());
  batching_ = false;
}

void TurnWorker::onStreamClosed(StreamConnection& c) {
  const ClientKey key = c.key();
  if (core_) core_->clientClosed(key);
  streams_.erase(key.connection);
}

// ---- RFC 6062 TCP relays ----

std::optional<RelayEndpoint> TurnWorker::openTcpRelay(const asio::ip::address& bindIp, bool v6, RelayError& error) {
  const TimePoint t = now();
  for (int attempt = 0; attempt < 16; ++attempt) {
    auto g = shared_.ports->acquire(false, false, t);
    if (!g) break;
    auto relay = std::make_shared<TcpRelay>(loop_.context());
    // SO_REUSEPORT as well: the connects of Connect requests bind the same address (RFC 6062 §5.2:
    // they come from the relayed transport address).
    if (auto r = listenOn(relay->acceptor, tcp::endpoint(bindIp, g->port)); !r) {
      boost::system::error_code ignored;
      relay->acceptor.close(ignored);
      shared_.ports->markUnusable(g->port, t);
      continue;
    }
    relay->id = nextRelayId_++;
    relay->port = g->port;
    RelayEndpoint e;
    e.id = relay->id;
    e.address = v6 ? *shared_.announcedV6 : shared_.announcedV4;
    e.address.port = g->port;
    e.tcp = true;
    tcpRelays_[relay->id] = relay;
    acceptPeer(relay);
    return e;
  }
  error = RelayError::NoCapacity;
  return std::nullopt;
}

void TurnWorker::acceptPeer(const std::shared_ptr<TcpRelay>& relay) {
  relay->acceptor.async_accept([this, relay](const boost::system::error_code& ec, tcp::socket socket) {
    if (relay->closed || stopped_) return;
    if (!ec) {
      boost::system::error_code e2;
      auto remote = socket.remote_endpoint(e2);
      const uint32_t id = e2 ? 0 : core_->peerConnectionAccepted(relay->id, toAddress(remote.address(), remote.port()), now());
      if (id == 0) {
        socket.close(e2);  // RFC 6062 §5.3: no permission: closed at once
      } else {
        // Not read until bound: what the peer sends waits in the kernel's buffer (RFC 6062 §5.3).
        peerSockets_[id] = std::make_shared<PeerSocket>(std::move(socket));
      }
    }
    acceptPeer(relay);
  });
}

bool TurnWorker::connectPeer(uint32_t relayId, uint32_t connectionId, const Address& peer) {
  auto it = tcpRelays_.find(relayId);
  if (it == tcpRelays_.end()) return false;
  boost::system::error_code ec;
  const tcp::endpoint local = it->second->acceptor.local_endpoint(ec);
  if (ec) return false;
  tcp::endpoint remote;
  if (peer.family == AddressFamily::IPv4) {
    asio::ip::address_v4::bytes_type b{};
    std::copy_n(peer.ip.begin(), b.size(), b.begin());
    remote = tcp::endpoint(asio::ip::address_v4(b), peer.port);
  } else {
    asio::ip::address_v6::bytes_type b{};
    std::copy_n(peer.ip.begin(), b.size(), b.begin());
    remote = tcp::endpoint(asio::ip::address_v6(b), peer.port);
  }
  if (remote.protocol() != local.protocol()) return false;
  auto p = std::make_shared<PeerSocket>(tcp::socket(loop_.context()));
  p->socket.open(local.protocol(), ec);
  if (!ec) p->socket.set_option(tcp::socket::reuse_address(true), ec);
  if (!ec) p->socket.set_option(ReusePort(true), ec);
  if (!ec) p->socket.bind(local, ec);
  if (ec) return false;
  peerSockets_[connectionId] = p;
  // The core times the connect out (RFC 6062 §5.2, 30 s) and then closes the socket.
  p->socket.async_connect(remote, [this, p, connectionId](const boost::system::error_code& e) {
    if (p->closed || stopped_) return;
    core_->peerConnected(connectionId, !e, now());
  });
  return true;
}

void TurnWorker::closePeerConnection(uint32_t connectionId) {
  if (auto it = peerSockets_.find(connectionId); it != peerSockets_.end()) {
    auto p = it->second;
    peerSockets_.erase(it);
    p->closed = true;
    boost::system::error_code ignored;
    p->socket.close(ignored);
    return;
  }
  if (auto it = boundAt_.find(connectionId); it != boundAt_.end()) {
    TurnWorker* w = workerAt(it->second);
    boundAt_.erase(it);
    if (w) w->loop_.post([w, connectionId] { w->closeSplice(connectionId); });
  }
}

TurnWorker* TurnWorker::workerAt(uint32_t index) const {
  return index < shared_.workers.size() ? shared_.workers[index] : nullptr;
}

void TurnWorker::claimConnection(const ClientKey& dataClient, uint32_t connectionId, std::string_view username) {
  TurnWorker* owner = workerAt(TurnServer::connectionWorker(connectionId));
  if (!owner) owner = shared_.workers.empty() && TurnServer::connectionWorker(connectionId) == index_ ? this : nullptr;
  auto it = streams_.find(dataClient.connection);
  if (!owner || it == streams_.end()) {
    core_->finishConnectionBind(dataClient, 400);
    return;
  }
  it->second.connection->pauseReading();  // what follows the ConnectionBind is for the peer
  if (owner != this) stats_.tcpBindsHandedOver.inc();
  const uint32_t from = index_;
  owner->loop_.post([owner, from, dataClient, connectionId, user = std::string(username)]() mutable {
    owner->onClaim(from, dataClient, connectionId, std::move(user));
  });
}

void TurnWorker::onClaim(uint32_t fromWorker, ClientKey dataClient, uint32_t connectionId, std::string username) {
  TurnWorker* back = workerAt(fromWorker);
  if (!back && fromWorker == index_) back = this;
  if (stopped_ || !back) return;
  uint16_t code = core_->claimConnection(connectionId, username, now());
  int fd = -1;
  bool v6 = false;
  if (code == 0) {
    auto it = peerSockets_.find(connectionId);
    boost::system::error_code ec;
    if (it != peerSockets_.end()) {
      auto p = it->second;
      peerSockets_.erase(it);
      p->closed = true;
      v6 = p->socket.local_endpoint(ec).address().is_v6();
      fd = ec ? -1 : p->socket.release(ec);
      if (ec) fd = -1;
    }
    if (fd < 0) {
      core_->peerConnectionClosed(connectionId);
      code = 400;
    } else {
      boundAt_[connectionId] = fromWorker;
    }
  }
  back->loop_.post([back, dataClient, connectionId, fd, v6, code] {
    back->onClaimResult(dataClient, connectionId, fd, v6, code);
  });
}

void TurnWorker::onClaimResult(ClientKey dataClient, uint32_t connectionId, int fd, bool v6, uint16_t code) {
  const uint32_t owner = TurnServer::connectionWorker(connectionId);
  auto giveBack = [&] {
    if (fd >= 0) ::close(fd);
    TurnWorker* o = workerAt(owner);
    if (fd >= 0 && o) o->loop_.post([o, connectionId] { o->onSpliceGone(connectionId); });
  };
  auto it = streams_.find(dataClient.connection);
  if (stopped_ || it == streams_.end()) return giveBack();  // the data connection went meanwhile
  if (code == 0 && cancelledSplices_.erase(connectionId)) code = 400;  // its allocation went meanwhile
  std::shared_ptr<StreamConnection> c = it->second.connection;
  if (code != 0) {
    giveBack();
    core_->finishConnectionBind(dataClient, code);
    c->resumeReading();
    return;
  }
  tcp::socket peer(loop_.context());
  boost::system::error_code ec;
  peer.assign(v6 ? tcp::v6() : tcp::v4(), fd, ec);
  if (ec) {
    giveBack();
    core_->finishConnectionBind(dataClient, 400);
    c->resumeReading();
    return;
  }
  core_->finishConnectionBind(dataClient, 0);  // queued before any relayed byte
  streams_.erase(it);  // no longer a TURN client: neither idle-closed nor counted
  splices_[connectionId] = c;
  c->startSplice(std::move(peer), connectionId);
}

void TurnWorker::onSpliceClosed(StreamConnection&, uint32_t connectionId) {
  splices_.erase(connectionId);
  if (stopped_) return;
  if (TurnWorker* o = workerAt(TurnServer::connectionWorker(connectionId))) {
    o->loop_.post([o, connectionId] { o->onSpliceGone(connectionId); });
  }
}

void TurnWorker::onSpliceGone(uint32_t connectionId) {
  boundAt_.erase(connectionId);
  if (core_) core_->peerConnectionClosed(connectionId);
}

void TurnWorker::closeSplice(uint32_t connectionId) {
  auto it = splices_.find(connectionId);
  if (it == splices_.end()) {
    cancelledSplices_.insert(connectionId);  // its hand-over is still on the way here
    return;
  }
  auto c = it->second;
  c->close();
}

}  // namespace meeting::turn
