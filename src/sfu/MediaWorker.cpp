#include "sfu/MediaWorker.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <future>

#include "common/Log.hpp"
#include "proto/Demux.hpp"
#include "proto/stun/StunMessage.hpp"

namespace meeting::sfu {
namespace stun = proto::stun;

size_t AddressHash::operator()(const stun::Address& a) const noexcept {
  // FNV-1a over the meaningful bytes; addresses are not attacker-chosen in bulk (each needs a
  // valid ICE check to be inserted), so a simple hash is enough.
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](uint8_t b) { h = (h ^ b) * 1099511628211ULL; };
  for (size_t i = 0; i < a.ipSize(); ++i) mix(a.ip[i]);
  mix(static_cast<uint8_t>(a.port >> 8));
  mix(static_cast<uint8_t>(a.port));
  mix(static_cast<uint8_t>(a.family));
  return static_cast<size_t>(h);
}

namespace {

bool isWildcard(const std::string& ip) { return ip == "0.0.0.0" || ip == "::" || ip.empty(); }

// Every IPv4 address of an interface that is up; loopback last (it only helps a browser on
// this machine, which also reaches the LAN address).
std::vector<std::string> localIpv4Addresses() {
  std::vector<std::string> out;
  std::vector<std::string> loopback;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {"127.0.0.1"};
  for (ifaddrs* it = list; it; it = it->ifa_next) {
    if (!it->ifa_addr || it->ifa_addr->sa_family != AF_INET || !(it->ifa_flags & IFF_UP)) continue;
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(it->ifa_addr)->sin_addr, text, sizeof(text));
    ((it->ifa_flags & IFF_LOOPBACK) ? loopback : out).push_back(text);
  }
  freeifaddrs(list);
  out.insert(out.end(), loopback.begin(), loopback.end());
  if (out.empty()) out.push_back("127.0.0.1");
  return out;
}

// The ufrag we gave out is the part of USERNAME before the colon (RFC 8445 §7.2.2).
std::optional<std::string_view> localUfragOf(std::span<const uint8_t> packet) {
  auto message = stun::StunMessage::parse(packet);
  if (!message || message->method() != stun::Method::Binding ||
      message->messageClass() != stun::MessageClass::Request) {
    return std::nullopt;
  }
  auto username = message->username();
  if (!username) return std::nullopt;
  return username->substr(0, username->find(':'));
}

}  // namespace

Result<std::unique_ptr<MediaWorker>> MediaWorker::create(MediaWorkerOptions options) {
  std::unique_ptr<MediaWorker> worker(new MediaWorker(std::move(options)));
  std::promise<Result<void>> opened;
  auto result = opened.get_future();
  worker->loop().post([&] { opened.set_value(worker->openSockets()); });
  if (auto r = result.get(); !r) return r.error();
  return worker;
}

MediaWorker::MediaWorker(MediaWorkerOptions options) : options_(std::move(options)) {
  thread_ = std::make_unique<net::EventLoopThread>("media-" + std::to_string(options_.index));
}

MediaWorker::~MediaWorker() {
  std::promise<void> done;
  auto finished = done.get_future();
  loop().post([&] {
    for (auto& [id, entry] : transports_) entry.transport->close();
    transports_.clear();
    byUfrag_.clear();
    byAddress_.clear();
    byConnection_.clear();
    tcp_.reset();
    udp_.reset();
    done.set_value();
  });
  finished.wait();
  thread_.reset();
}

Result<void> MediaWorker::openSockets() {
  auto certificate = DtlsCertificate::generate();
  if (!certificate) return certificate.error();
  certificate_ = std::move(*certificate);
  fingerprint_ = certificate_->fingerprintSdp();

  auto udp = UdpMediaSocket::open(loop(), options_.listenIp, options_.port);
  if (!udp) return udp.error();
  udp_ = std::move(*udp);
  udpPort_ = udp_->port();
  // The TCP port follows the UDP one so a firewall rule covers both (seed 001 opens ALL/TCP+UDP).
  auto tcp = TcpMediaServer::open(loop(), options_.listenIp, udpPort_);
  if (!tcp && options_.port == 0) tcp = TcpMediaServer::open(loop(), options_.listenIp, 0);
  if (!tcp) return tcp.error();
  tcp_ = std::move(*tcp);
  tcpPort_ = tcp_->port();

  announced_ = options_.announcedIps;
  if (announced_.empty()) {
    announced_ = isWildcard(options_.listenIp) ? localIpv4Addresses() : std::vector<std::string>{options_.listenIp};
  }
  udp_->start([this](std::span<uint8_t> packet, const stun::Address& from) { onUdpPacket(packet, from); });
  tcp_->start([this](std::span<uint8_t> packet, TcpMediaConnection& c) { onTcpFrame(packet, c); },
              [this](TcpMediaConnection& c) { onTcpClosed(c); });
  return {};
}

WebRtcTransport& MediaWorker::createTransport(WebRtcTransportCallbacks callbacks) {
  uint64_t id = nextTransportId_++;
  // Failures counted for the monitoring report and /metrics; the phase is the state it failed
  // from (Connecting: ICE done, DTLS running). One extra call per state change, none per packet.
  callbacks.onState = [this, inner = std::move(callbacks.onState), last = TransportState::New](TransportState state) mutable {
    if (state == TransportState::Failed) ++(last == TransportState::Connecting ? counters_.dtlsFailures : counters_.iceFailures);
    last = state;
    if (inner) inner(state);
  };
  auto transport = std::make_unique<WebRtcTransport>(id, loop(), *this, *certificate_, IceCredentials::generate(),
                                                     std::move(callbacks));
  auto& ref = *transport;
  auto& entry = transports_[id];
  entry.transport = std::move(transport);
  registerUfrag(ref, ref.localIce().ufrag);
  return ref;
}

void MediaWorker::destroyTransport(uint64_t id) {
  auto it = transports_.find(id);
  if (it == transports_.end()) return;
  auto& entry = it->second;
  for (auto& ufrag : entry.ufrags) {
    if (auto u = byUfrag_.find(ufrag); u != byUfrag_.end() && u->second == entry.transport.get()) byUfrag_.erase(u);
  }
  for (auto& address : entry.addresses) {
    if (auto a = byAddress_.find(address); a != byAddress_.end() && a->second == entry.transport.get()) byAddress_.erase(a);
  }
  for (auto* connection : entry.connections) {
    if (auto c = byConnection_.find(connection); c != byConnection_.end() && c->second == entry.transport.get()) {
      byConnection_.erase(c);
    }
  }
  entry.transport->close();
  transports_.erase(it);
}

WebRtcTransport* MediaWorker::findTransport(uint64_t id) {
  auto it = transports_.find(id);
  return it == transports_.end() ? nullptr : it->second.transport.get();
}

std::vector<proto::sdp::Candidate> MediaWorker::localCandidates() const {
  std::vector<proto::sdp::Candidate> out;
  uint32_t localPreference = 65535;
  for (size_t i = 0; i < announced_.size(); ++i, --localPreference) {
    proto::sdp::Candidate udp;
    udp.foundation = "udp" + std::to_string(i);
    udp.transport = proto::sdp::CandidateTransport::Udp;
    udp.priority = proto::sdp::Candidate::computePriority(126, localPreference, 1);
    udp.address = announced_[i];
    udp.port = udpPort_;
    out.push_back(udp);
  }
  localPreference = 65535;
  for (size_t i = 0; i < announced_.size(); ++i, --localPreference) {
    proto::sdp::Candidate tcp;
    tcp.foundation = "tcp" + std::to_string(i);
    tcp.transport = proto::sdp::CandidateTransport::Tcp;
    // RFC 6544 §4.2: TCP host candidates rank below UDP ones (lower type preference).
    tcp.priority = proto::sdp::Candidate::computePriority(90, localPreference, 1);
    tcp.address = announced_[i];
    tcp.port = tcpPort_;
    tcp.tcpType = "passive";
    out.push_back(tcp);
  }
  return out;
}

WebRtcTransport* MediaWorker::transportForStun(std::span<const uint8_t> packet) {
  auto ufrag = localUfragOf(packet);
  if (!ufrag) return nullptr;
  auto it = byUfrag_.find(std::string(*ufrag));
  return it == byUfrag_.end() ? nullptr : it->second;
}

void MediaWorker::onUdpPacket(std::span<uint8_t> packet, const stun::Address& from) {
  IcePath path{IceProtocol::Udp, from, nullptr};
  WebRtcTransport* transport = nullptr;
  // STUN goes by ufrag so that a path can move to another transport (restart, address reuse);
  // media goes by address, the fast path.
  if (!packet.empty() && proto::isStunByte(packet[0])) transport = transportForStun(packet);
  if (!transport) {
    if (auto it = byAddress_.find(from); it != byAddress_.end()) transport = it->second;
  }
  if (!transport) {
    ++counters_.unroutedPackets;
    return;
  }
  transport->receive(packet, path);
}

void MediaWorker::onTcpFrame(std::span<uint8_t> packet, TcpMediaConnection& connection) {
  IcePath path{IceProtocol::Tcp, connection.remote(), &connection};
  WebRtcTransport* transport = nullptr;
  if (auto it = byConnection_.find(&connection); it != byConnection_.end()) {
    transport = it->second;
  } else if (!packet.empty() && proto::isStunByte(packet[0])) {
    transport = transportForStun(packet);
  }
  if (!transport) {
    ++counters_.unroutedPackets;
    return;
  }
  transport->receive(packet, path);
}

void MediaWorker::onTcpClosed(TcpMediaConnection& connection) {
  auto it = byConnection_.find(&connection);
  if (it == byConnection_.end()) return;
  it->second->removeConnection(&connection);
  byConnection_.erase(it);
}

void MediaWorker::sendOnPath(const IcePath& path, std::span<const uint8_t> packet) {
  if (path.protocol == IceProtocol::Udp) {
    udp_->send(packet, path.remote);
    return;
  }
  // The connection is alive: onTcpClosed removes it from every transport before it goes away.
  auto* connection = static_cast<TcpMediaConnection*>(const_cast<void*>(path.connection));
  if (connection) connection->send(packet);
}

void MediaWorker::bindPath(WebRtcTransport& transport, const IcePath& path) {
  auto it = transports_.find(transport.id());
  if (it == transports_.end()) return;
  auto& entry = it->second;
  if (path.protocol == IceProtocol::Udp) {
    auto [slot, inserted] = byAddress_.try_emplace(path.remote, &transport);
    if (!inserted && slot->second == &transport) return;
    slot->second = &transport;
    entry.addresses.push_back(path.remote);
    return;
  }
  auto* connection = static_cast<TcpMediaConnection*>(const_cast<void*>(path.connection));
  auto [slot, inserted] = byConnection_.try_emplace(path.connection, &transport);
  if (!inserted && slot->second == &transport) return;
  slot->second = &transport;
  entry.connections.push_back(path.connection);
  connection->markAccepted();
}

void MediaWorker::registerUfrag(WebRtcTransport& transport, const std::string& ufrag) {
  auto it = transports_.find(transport.id());
  if (it == transports_.end()) return;
  byUfrag_[ufrag] = &transport;
  it->second.ufrags.push_back(ufrag);
}

}  // namespace meeting::sfu
