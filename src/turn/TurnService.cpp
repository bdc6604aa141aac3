#include "turn/TurnService.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <sstream>

#include "common/Log.hpp"
#include "common/Metrics.hpp"
#include "net/Tls.hpp"

namespace meeting::turn {
namespace {

namespace asio = boost::asio;

constexpr uint16_t DefaultPort = 3478;     // RFC 8656 §4
constexpr uint16_t DefaultTlsPort = 5349;  // RFC 8656 §4

Address toAddress(const asio::ip::address& ip) {
  if (ip.is_v4()) return Address::v4(ip.to_v4().to_bytes(), 0);
  return Address::v6(ip.to_v6().to_bytes(), 0);
}

// Every address of this host: the relay must not reach the server itself (RFC 8656 §21.3).
std::vector<Address> localAddresses() {
  std::vector<Address> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (auto* it = list; it; it = it->ifa_next) {
    if (!it->ifa_addr) continue;
    if (auto a = proto::stun::addressFromSockaddr(it->ifa_addr)) out.push_back(*a);
  }
  freeifaddrs(list);
  return out;
}

std::optional<Address> firstPublicV4() {
  for (const auto& a : localAddresses()) {
    if (a.family == AddressFamily::IPv4 && !isLoopback(a)) return a;
  }
  return std::nullopt;
}

// "1.2.3.4:3478" or "[2001:db8::1]:3478".
std::string hostPort(const Address& a, uint16_t port) {
  char text[INET6_ADDRSTRLEN] = {};
  const bool v6 = a.family == AddressFamily::IPv6;
  inet_ntop(v6 ? AF_INET6 : AF_INET, a.ip.data(), text, sizeof text);
  return v6 ? "[" + std::string(text) + "]:" + std::to_string(port) : std::string(text) + ":" + std::to_string(port);
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Result<std::shared_ptr<asio::ssl::context>> tlsContext(const Config& config) {
  Result<net::TlsIdentity> identity = makeError("", "");
  if (!config.turnCertDir.empty()) {
    std::string dir = resolvePathAlias(config.turnCertDir, config.dataDir);
    identity = net::loadTlsIdentity(dir + "/fullchain.pem", dir + "/privkey.pem");
    if (!identity) return makeError("invalid_config", "turn_certdir: " + identity.error().message);
  } else {
    identity = net::resolveTlsIdentity(config);
    if (!identity) return identity.error();
  }
  return net::makeServerContext(*identity);
}

struct MetricsExport {
  std::mutex mutex;
  std::vector<std::weak_ptr<TurnStats>> stats;
};

MetricsExport& metricsExport() {
  static MetricsExport e;
  return e;
}

void renderMetrics(std::string& out) {
  auto& e = metricsExport();
  TurnStats sum;
  uint64_t active = 0;
  int64_t activeTcp = 0;
  {
    std::lock_guard lock(e.mutex);
    std::erase_if(e.stats, [](const std::weak_ptr<TurnStats>& w) { return w.expired(); });
    for (auto& w : e.stats) {
      auto s = w.lock();
      if (!s) continue;
      active += s->activeAllocations.load(std::memory_order_relaxed);
      activeTcp += s->activeTcpConnections.load(std::memory_order_relaxed);
      sum.tcpConnectsFailed.inc(s->tcpConnectsFailed.value());
      sum.tcpPeerConnections.inc(s->tcpPeerConnections.value());
      sum.tcpPeerRefused.inc(s->tcpPeerRefused.value());
      sum.tcpBindTimeouts.inc(s->tcpBindTimeouts.value());
      sum.tcpIdleClosed.inc(s->tcpIdleClosed.value());
      sum.tcpBindsHandedOver.inc(s->tcpBindsHandedOver.value());
      sum.tcpBound.inc(s->tcpBound.value());
      sum.splicedBytesToPeer.inc(s->splicedBytesToPeer.value());
      sum.splicedBytesToClient.inc(s->splicedBytesToClient.value());
      sum.allocationsCreated.inc(s->allocationsCreated.value());
      sum.authFailures.inc(s->authFailures.value());
      sum.unauthorizedDropped.inc(s->unauthorizedDropped.value());
      sum.packetsToPeer.inc(s->packetsToPeer.value());
      sum.packetsToClient.inc(s->packetsToClient.value());
      sum.bytesToPeer.inc(s->bytesToPeer.value());
      sum.bytesToClient.inc(s->bytesToClient.value());
      sum.peerRefused.inc(s->peerRefused.value());
      sum.droppedNoPermission.inc(s->droppedNoPermission.value());
      sum.droppedBandwidth.inc(s->droppedBandwidth.value());
      sum.droppedSendFailed.inc(s->droppedSendFailed.value());
      sum.malformed.inc(s->malformed.value());
      sum.streamsIdleClosed.inc(s->streamsIdleClosed.value());
      sum.streamsRefused.inc(s->streamsRefused.value());
    }
  }
  auto family = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  auto line = [&](const char* name, const char* labels, uint64_t v) {
    out += std::string(name) + labels + " " + std::to_string(v) + "\n";
  };
  family("meeting_turn_allocations", "gauge", "TURN allocations now active");
  line("meeting_turn_allocations", "", active);
  family("meeting_turn_allocations_created_total", "counter", "TURN allocations created");
  line("meeting_turn_allocations_created_total", "", sum.allocationsCreated.value());
  family("meeting_turn_relayed_packets_total", "counter", "Packets relayed, by direction");
  line("meeting_turn_relayed_packets_total", "{direction=\"to_peer\"}", sum.packetsToPeer.value());
  line("meeting_turn_relayed_packets_total", "{direction=\"to_client\"}", sum.packetsToClient.value());
  family("meeting_turn_relayed_bytes_total", "counter", "Payload bytes relayed, by direction");
  line("meeting_turn_relayed_bytes_total", "{direction=\"to_peer\"}", sum.bytesToPeer.value());
  line("meeting_turn_relayed_bytes_total", "{direction=\"to_client\"}", sum.bytesToClient.value());
  family("meeting_turn_auth_failures_total", "counter", "Requests with wrong or expired credentials");
  line("meeting_turn_auth_failures_total", "", sum.authFailures.value());
  family("meeting_turn_unauthorized_dropped_total", "counter", "401 answers suppressed by the rate limit");
  line("meeting_turn_unauthorized_dropped_total", "", sum.unauthorizedDropped.value());
  family("meeting_turn_peer_refused_total", "counter", "Permissions refused by the peer-address policy");
  line("meeting_turn_peer_refused_total", "", sum.peerRefused.value());
  family("meeting_turn_dropped_packets_total", "counter", "Packets not relayed, by reason");
  line("meeting_turn_dropped_packets_total", "{reason=\"no_permission\"}", sum.droppedNoPermission.value());
  line("meeting_turn_dropped_packets_total", "{reason=\"bandwidth\"}", sum.droppedBandwidth.value());
  line("meeting_turn_dropped_packets_total", "{reason=\"send_failed\"}", sum.droppedSendFailed.value());
  line("meeting_turn_dropped_packets_total", "{reason=\"malformed\"}", sum.malformed.value());
  family("meeting_turn_stream_connections_closed_total", "counter",
         "TCP/TLS client connections closed or refused without an allocation, by reason");
  line("meeting_turn_stream_connections_closed_total", "{reason=\"idle\"}", sum.streamsIdleClosed.value());
  line("meeting_turn_stream_connections_closed_total", "{reason=\"over_cap\"}", sum.streamsRefused.value());
  // RFC 6062 TCP relays.
  family("meeting_turn_tcp_connections", "gauge", "RFC 6062 peer data connections (connecting, unbound, bound)");
  line("meeting_turn_tcp_connections", "", static_cast<uint64_t>(std::max<int64_t>(0, activeTcp)));
  family("meeting_turn_tcp_connections_total", "counter", "RFC 6062 peer data connections, by outcome");
  line("meeting_turn_tcp_connections_total", "{event=\"established\"}", sum.tcpPeerConnections.value());
  line("meeting_turn_tcp_connections_total", "{event=\"bound\"}", sum.tcpBound.value());
  line("meeting_turn_tcp_connections_total", "{event=\"connect_failed\"}", sum.tcpConnectsFailed.value());
  line("meeting_turn_tcp_connections_total", "{event=\"refused\"}", sum.tcpPeerRefused.value());
  line("meeting_turn_tcp_connections_total", "{event=\"bind_timeout\"}", sum.tcpBindTimeouts.value());
  line("meeting_turn_tcp_connections_total", "{event=\"idle_closed\"}", sum.tcpIdleClosed.value());
  line("meeting_turn_tcp_connections_total", "{event=\"bind_handed_over\"}", sum.tcpBindsHandedOver.value());
  family("meeting_turn_tcp_relayed_bytes_total", "counter", "Bytes relayed over RFC 6062 data connections, by direction");
  line("meeting_turn_tcp_relayed_bytes_total", "{direction=\"to_peer\"}", sum.splicedBytesToPeer.value());
  line("meeting_turn_tcp_relayed_bytes_total", "{direction=\"to_client\"}", sum.splicedBytesToClient.value());
}

}  // namespace

void exportMetrics(const TurnRuntime& runtime) {
  auto& e = metricsExport();
  static std::once_flag registered;
  std::call_once(registered, [] { MetricsRegistry::global().addCollector(renderMetrics); });
  std::lock_guard lock(e.mutex);
  for (const auto& s : runtime.stats()) e.stats.push_back(s);
}

Result<TurnRuntimeOptions> runtimeOptionsFromConfig(const Config& config) {
  TurnRuntimeOptions o;
  o.port = config.turnPort > 0 ? static_cast<uint16_t>(config.turnPort) : DefaultPort;
  boost::system::error_code ec;
  if (!config.turnIface.empty()) {
    auto iface = resolveInterface(config.turnIface, "turn_iface");
    if (!iface) return iface.error();
    o.listenIp = asio::ip::make_address(*iface, ec);
    if (ec) return makeError("invalid_config", "turn_iface: " + *iface + " is not an address");
  }
  // The relayed address announced is --ip (seed 001); else the listening address; else this
  // host's first non-loopback IPv4 address.
  std::optional<Address> announced;
  if (!config.ip.empty()) {
    auto ip = asio::ip::make_address(config.ip, ec);
    if (ec) return makeError("invalid_flag", "--ip: " + config.ip + " is not an address");
    announced = toAddress(ip);
  } else if (!o.listenIp.is_unspecified()) {
    announced = toAddress(o.listenIp);
  } else {
    announced = firstPublicV4();
  }
  if (!announced) announced = Address::v4({127, 0, 0, 1}, 0);
  if (announced->family == AddressFamily::IPv4) o.announcedV4 = *announced;
  else o.announcedV6 = *announced;

  o.relayPortMin = static_cast<uint16_t>(config.turnRelayPortMin);
  o.relayPortMax = static_cast<uint16_t>(config.turnRelayPortMax);
  o.workers = config.turnWorkers > 0 ? static_cast<size_t>(config.turnWorkers) : 0;
  o.turn.secret = config.secret;
  if (!config.turnRealm.empty()) o.turn.realm = config.turnRealm;
  if (config.turnBandwidth > 0) o.turn.bandwidthBytesPerSecond = static_cast<uint64_t>(config.turnBandwidth);
  if (config.turnMaxAllocationsPerUser > 0) o.turn.maxAllocationsPerUser = static_cast<size_t>(config.turnMaxAllocationsPerUser);
  if (config.turnMaxAllocationsTotal > 0) o.turn.maxAllocationsTotal = static_cast<size_t>(config.turnMaxAllocationsTotal);
  if (config.turnMaxLifetime > 0) o.turn.maxLifetime = std::chrono::seconds(config.turnMaxLifetime);

  o.policy.setAllowLoopback(config.turnAllowLoopbackPeers);
  for (const auto& text : splitList(config.turnAllowedPeers)) {
    auto r = IpRange::parse(text);
    if (!r) return makeError("invalid_flag", "--allowed-peers: '" + text + "' is not an address or CIDR range");
    o.policy.addAllowed(*r);
  }
  for (const auto& text : splitList(config.turnDeniedPeers)) {
    auto r = IpRange::parse(text);
    if (!r) return makeError("invalid_flag", "--denied-peers: '" + text + "' is not an address or CIDR range");
    o.policy.addDenied(*r);
  }
  for (const auto& a : localAddresses()) o.policy.addOwnAddress(a);
  o.policy.addOwnAddress(*announced);
  return o;
}

Result<void> TurnService::startWith(const Config& config) {
  auto options = runtimeOptionsFromConfig(config);
  if (!options) return options.error();
  if (config.secret.empty()) {
    // An empty HMAC key would let anyone mint credentials: use a random one nobody knows, so the
    // relay is closed until a --secret shared with the apiserver is given.
    auto key = NonceService::randomKey();
    options->turn.secret.assign(reinterpret_cast<const char*>(key.data()), key.size());
    MLOG_WARN("turnserver: no --secret: no TURN credentials will be accepted");
  }
  if (config.turnPortTls >= 0) {
    auto tls = tlsContext(config);
    if (!tls) {
      MLOG_WARN("turnserver: no TLS listener: {}", tls.error().message);
    } else {
      options->tls = *tls;
      options->tlsPort = config.turnPortTls > 0 ? static_cast<uint16_t>(config.turnPortTls) : DefaultTlsPort;
    }
  }
  if (auto r = runtime_.start(*options); !r) return r;
  exportMetrics(runtime_);
  capacity_ = options->turn.maxAllocationsTotal;
  announced_ = hostPort(options->announcedV6 ? *options->announcedV6 : options->announcedV4, runtime_.port());
  MLOG_INFO("turnserver: UDP/TCP {} port {}{}, relay ports {}-{}, {} workers, peers {}", options->listenIp.to_string(),
            runtime_.port(), runtime_.tlsPort() ? ", TLS port " + std::to_string(runtime_.tlsPort()) : std::string(),
            options->relayPortMin, options->relayPortMax, runtime_.load().workers,
            config.turnAllowLoopbackPeers ? "incl. loopback (test mode)" : "public only");
  return {};
}

TurnService::~TurnService() = default;

#if MEETING_TURN_CONTROL
api::control::NodeInfo TurnService::nodeInfo(const Config& config) const {
  api::control::NodeInfo node;
  node.role = "turn";
  node.address = announced_;
  // Unique per turnserver and stable across restarts: the announced relay address.
  node.id = "turn-" + (config.name.empty() ? announced_ : config.name + "-" + announced_);
  node.capacity = static_cast<int64_t>(capacity_);
  return node;
}

api::control::LoadReport TurnService::loadReport() {
  const TurnLoad l = runtime_.load();
  api::control::LoadReport r;
  r.load = static_cast<int64_t>(l.allocations);  // in the unit of capacity: allocations
  r.peers = static_cast<int64_t>(l.allocations);
  r.rooms = 0;  // a relay knows no rooms
  r.report = std::make_shared<const nlohmann::json>(monitoringReport(SystemClock::instance().now()));
  return r;
}

void TurnService::startControl(const Config& config, net::EventLoop& loop, api::control::ControlHub* hub) {
  if (control_) return;
  // The apiserver sends commands for rooms; a relay hosts none, so it refuses them all.
  auto onCommand = [](const api::control::Command& c) {
    return api::control::CommandAck{c.id, false, "turnserver hosts no rooms"};
  };
  auto load = [this] { return loadReport(); };
  control_ = api::control::makeControlClient(loop, hub, config.apiServer, config.secret, nodeInfo(config), onCommand, load);
  if (!control_) return;
  MLOG_INFO("turnserver: registering with the apiserver as {}", nodeInfo(config).id);
}

void TurnService::stopControl() {
  if (!control_) return;
  control_->stop();
  control_.reset();
}
#endif

nlohmann::json TurnService::monitoringReport(TimePoint now) {
  const TurnLoad l = runtime_.load();
  const double seconds = lastReportAt_ == TimePoint{} ? 0.0 : std::chrono::duration<double>(now - lastReportAt_).count();
  // Counters only grow while the runtime lives; the first report has no interval yet (0).
  auto perSecond = [seconds](uint64_t value, uint64_t before) -> int64_t {
    return seconds > 0 && value >= before ? std::llround(static_cast<double>(value - before) / seconds) : 0;
  };
  nlohmann::json report = {
      {"role", "turn"},
      {"workers", l.workers},
      {"allocations", l.allocations},
      {"permissions", l.permissions},
      {"channels", l.channels},
      {"tcp_connections", l.tcpConnections},
      {"packets_in_per_s", perSecond(l.packetsToPeer, lastReported_.packetsToPeer)},
      {"packets_out_per_s", perSecond(l.packetsToClient, lastReported_.packetsToClient)},
      {"bytes_in_per_s", perSecond(l.bytesToPeer, lastReported_.bytesToPeer)},
      {"bytes_out_per_s", perSecond(l.bytesToClient, lastReported_.bytesToClient)},
      {"auth_failures", l.authFailures},
      {"auth_failures_per_s", perSecond(l.authFailures, lastReported_.authFailures)},
      {"relay_ports_free", l.relayPortsFree},
      {"relay_ports_total", l.relayPortsTotal}};
  lastReported_ = l;
  lastReportAt_ = now;
  return report;
}

Result<void> TurnService::start(app::ServiceContext& context) {
  if (auto r = startWith(context.config); !r) return r;
#if MEETING_TURN_CONTROL
  startControl(context.config, context.controlLoop, context.controlHub);
#else
  if (!context.config.apiServer.empty()) MLOG_WARN("turnserver: built without the control link: --apiserver ignored");
#endif
  return {};
}

void TurnService::stop() {
#if MEETING_TURN_CONTROL
  stopControl();
#endif
  runtime_.stop();
}

}  // namespace meeting::turn
