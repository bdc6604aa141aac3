#pragma once
// Types shared by the TURN protocol core (TurnServer) and the socket layer that drives it.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/Clock.hpp"
#include "proto/stun/StunTypes.hpp"

namespace meeting::turn {

using proto::stun::Address;
using proto::stun::AddressFamily;

enum class ClientTransport : uint8_t { Udp, Tcp, Tls };

/// Identifies a client's side of the 5-tuple (RFC 8656 §2): for UDP the listening socket index and
/// the client's address; for TCP/TLS the connection id (the address is informational).
struct ClientKey {
  ClientTransport transport = ClientTransport::Udp;
  uint64_t connection = 0;
  Address remote;

  bool operator==(const ClientKey& o) const {
    return transport == o.transport && connection == o.connection && remote == o.remote;
  }
  bool isStream() const { return transport != ClientTransport::Udp; }
};

struct ClientKeyHash {
  size_t operator()(const ClientKey& k) const {
    uint64_t h = 1469598103934665603ull ^ (uint64_t{static_cast<uint8_t>(k.transport)} << 56) ^ k.connection;
    for (size_t i = 0; i < k.remote.ipSize(); ++i) h = (h ^ k.remote.ip[i]) * 1099511628211ull;
    h = (h ^ k.remote.port) * 1099511628211ull;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

/// Settings of the protocol core.
struct TurnOptions {
  std::string realm = "meeting";
  std::string secret;                       ///< --secret: TURN REST API credentials
  std::string software = "meeting-turn";    ///< SOFTWARE attribute (RFC 8489 §14.14)
  Duration defaultLifetime = std::chrono::seconds(600);   // RFC 8656 §7.2: 10 minutes
  Duration maxLifetime = std::chrono::seconds(3600);      // lifetime cap (RFC 8656 §7.2)
  Duration permissionLifetime = std::chrono::seconds(300);  // RFC 8656 §9: 5 minutes
  Duration channelLifetime = std::chrono::seconds(600);     // RFC 8656 §12: 10 minutes
  Duration channelCooldown = std::chrono::seconds(300);     // RFC 8656 §12: no rebinding for 5 min
  Duration nonceLifetime = std::chrono::seconds(600);       // then 438 Stale Nonce
  size_t maxAllocationsPerUser = 10;        ///< 486 beyond
  size_t maxAllocationsTotal = 5000;        ///< 508 beyond
  size_t maxPermissionsPerAllocation = 64;  ///< 508 beyond
  size_t maxChannelsPerAllocation = 64;     ///< 508 beyond
  uint64_t bandwidthBytesPerSecond = 0;     ///< per allocation, both directions; 0 = unlimited
  uint32_t unauthorizedPerSecond = 20;      ///< 401 answers per client IP per second (burst 2x)
  bool ipv6Relay = false;                   ///< REQUESTED-ADDRESS-FAMILY IPv6 is served
  // RFC 6062 TCP allocations.
  Duration tcpConnectTimeout = std::chrono::seconds(30);  ///< RFC 6062 §5.2: at least 30 s, then 447
  Duration tcpBindTimeout = std::chrono::seconds(30);     ///< RFC 6062 §5.2/§5.3: unbound peer connections
  size_t maxTcpConnectionsPerAllocation = 32;  ///< connecting, unbound and bound; 508 / refused beyond
  size_t maxTcpConnections = 4096;             ///< per worker, all allocations
};

/// A relay transport address opened by the socket layer for an allocation.
struct RelayEndpoint {
  uint32_t id = 0;                           ///< chosen by the socket layer, unique per core
  Address address;                           ///< as announced (XOR-RELAYED-ADDRESS)
  std::optional<uint64_t> reservationToken;  ///< EVEN-PORT R=1 reserved the next port
  bool tcp = false;                          ///< RFC 6062: a listening TCP socket (set by the core)
};

struct RelayRequest {
  AddressFamily family = AddressFamily::IPv4;
  bool evenPort = false;
  bool reserveNext = false;
  std::optional<uint64_t> reservationToken;
  bool dontFragment = false;
  bool tcp = false;  ///< RFC 6062 §5.1: a listening TCP socket instead of a UDP one
};

/// Why openRelay failed: 508 when there is no port left, 440 when the family is not served.
enum class RelayError : uint8_t { NoCapacity, FamilyUnsupported, BadToken };

/// What the core asks of the socket layer (or a test fake). Called on the core's thread.
class TurnIo {
 public:
  virtual ~TurnIo() = default;
  /// Sends a STUN message or ChannelData to the client (framed as is; padded if stream).
  virtual void sendToClient(const ClientKey& client, std::span<const uint8_t> data) = 0;
  /// Sends application data from the relay socket `relayId` to `peer`.
  virtual void sendToPeer(uint32_t relayId, const Address& peer, std::span<const uint8_t> data) = 0;
  /// Opens a relay socket; the error says which TURN error to answer.
  virtual std::optional<RelayEndpoint> openRelay(const RelayRequest& request, RelayError& error) = 0;
  virtual void closeRelay(uint32_t relayId) = 0;

  // RFC 6062 TCP allocations. Connection ids are chosen by the core (TurnServer::connectionWorker
  // tells which core owns one); the defaults serve a socket layer without TCP relays.

  /// Starts a non-blocking TCP connect from TCP relay `relayId` to `peer`; the outcome comes back
  /// through TurnServer::peerConnected. False when it cannot even start (answered with 447).
  virtual bool connectPeer(uint32_t relayId, uint32_t connectionId, const Address& peer) {
    (void)relayId, (void)connectionId, (void)peer;
    return false;
  }
  /// Closes the peer data connection `connectionId` (connecting, waiting for its bind, or spliced).
  virtual void closePeerConnection(uint32_t connectionId) { (void)connectionId; }
  /// A ConnectionBind on `dataClient` was authenticated as `username`: ask the owning core
  /// (TurnServer::claimConnection), then answer through TurnServer::finishConnectionBind on the
  /// core of `dataClient`.
  virtual void claimConnection(const ClientKey& dataClient, uint32_t connectionId, std::string_view username) {
    (void)dataClient, (void)connectionId, (void)username;
  }
};

/// Single-writer counters: the owning loop bumps them without a locked instruction, the metrics
/// thread reads them (relaxed; a momentarily stale value is fine).
class LocalCounter {
 public:
  void inc(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

struct TurnStats {
  LocalCounter allocationsCreated;
  LocalCounter allocationsDeleted;  ///< refresh to 0, expiry, closed connection
  LocalCounter authFailures;        ///< wrong or expired credentials, bad MESSAGE-INTEGRITY
  LocalCounter unauthorizedDropped; ///< 401 answers suppressed by the rate limit
  LocalCounter packetsToPeer;
  LocalCounter bytesToPeer;
  LocalCounter packetsToClient;
  LocalCounter bytesToClient;
  LocalCounter droppedNoPermission;
  LocalCounter droppedBandwidth;
  LocalCounter peerRefused;         ///< 403 by the peer-address policy
  LocalCounter malformed;
  LocalCounter droppedSendFailed;   ///< socket buffer full or send error
  LocalCounter streamsIdleClosed;   ///< TCP/TLS clients closed after the idle timeout without allocation
  LocalCounter streamsRefused;      ///< TCP/TLS clients refused: too many without allocation
  LocalCounter streamsAccepted;     ///< TCP/TLS connections accepted on the TURN port(s)
  // RFC 6062 TCP relays.
  LocalCounter tcpConnectsFailed;   ///< Connect answered 447 (refused, unreachable, timed out)
  LocalCounter tcpPeerConnections;  ///< peer data connections established (Connect or accepted)
  LocalCounter tcpPeerRefused;      ///< incoming peer connections closed: no permission or over quota
  LocalCounter tcpBindTimeouts;     ///< peer data connections closed without ConnectionBind in time
  LocalCounter tcpBound;            ///< ConnectionBind successes (counted by the owning core)
  LocalCounter tcpBindsHandedOver;  ///< ConnectionBinds received here for another worker's allocation
  LocalCounter tcpIdleClosed;       ///< bound data connections closed after the relay idle timeout
  LocalCounter splicedBytesToPeer;  ///< raw bytes from client data connections to peers
  LocalCounter splicedBytesToClient;
  std::atomic<int64_t> activeTcpConnections{0};  ///< peer data connections held by the owning core
  std::atomic<uint64_t> activeAllocations{0};
  // Set by the owning core at each expiry sweep (about once a second) for the load report.
  std::atomic<uint64_t> activePermissions{0};
  std::atomic<uint64_t> activeChannels{0};
};

}  // namespace meeting::turn
