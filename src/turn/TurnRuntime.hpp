#pragma once
// The running turnserver: one worker loop per core, each with its own SO_REUSEPORT share of the
// UDP/TCP/TLS listeners, plus what they share (quotas, relay ports, peer policy, nonce key).
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "common/Result.hpp"
#include "net/EventLoop.hpp"
#include "turn/TurnWorker.hpp"

namespace meeting::turn {

struct TurnRuntimeOptions {
  boost::asio::ip::address listenIp = boost::asio::ip::address_v4::any();
  uint16_t port = 3478;                  ///< UDP and TCP; 0 picks a free port (tests)
  std::optional<uint16_t> tlsPort;       ///< TLS listener; 0 picks a free port
  std::shared_ptr<boost::asio::ssl::context> tls;
  uint16_t relayPortMin = 49152;
  uint16_t relayPortMax = 65535;
  size_t workers = 0;                    ///< 0: one per core
  Address announcedV4 = Address::v4({127, 0, 0, 1}, 0);
  std::optional<Address> announcedV6;
  TurnOptions turn;
  PeerPolicy policy;
  /// TCP/TLS clients without an allocation for this long are closed (a handshake that never
  /// ends, or a connection left open after its allocation went).
  Duration streamIdleTimeout = std::chrono::seconds(30);
  /// Per worker: connections without an allocation beyond this are refused at accept.
  size_t maxIdleStreams = 1024;
  /// Bound RFC 6062 data connections idle (no byte either way) this long are closed; 0 = never.
  Duration tcpRelayIdleTimeout = std::chrono::minutes(10);
  /// UDP GSO on relay and listening sockets; the environment MEETING_TURN_GSO=0 turns it off
  /// (A/B benchmarks).
  bool udpGso = true;
  /// The workers' clock (tests pass a ManualClock and call runDueTimers()); null: the system's.
  Clock* clock = nullptr;
};

/// A load snapshot, e.g. for the control-link report to the apiserver.
struct TurnLoad {
  size_t workers = 0;
  uint64_t allocations = 0;
  uint64_t allocationsCreated = 0;
  uint64_t packetsRelayed = 0;  ///< both directions
  uint64_t bytesRelayed = 0;     ///< including RFC 6062 data connections
  uint64_t packetsToPeer = 0;    ///< received from clients and relayed on
  uint64_t packetsToClient = 0;  ///< received from peers and relayed on
  uint64_t bytesToPeer = 0;      ///< payload bytes, including RFC 6062 data connections
  uint64_t bytesToClient = 0;
  uint64_t permissions = 0;      ///< as of each worker's last expiry sweep (about a second)
  uint64_t channels = 0;
  uint64_t tcpConnections = 0;   ///< RFC 6062 peer data connections (connecting, unbound, bound)
  uint64_t authFailures = 0;
  size_t relayPortsFree = 0;
  size_t relayPortsTotal = 0;
};

class TurnRuntime {
 public:
  TurnRuntime() = default;
  ~TurnRuntime();
  TurnRuntime(const TurnRuntime&) = delete;
  TurnRuntime& operator=(const TurnRuntime&) = delete;

  /// Binds every listener and starts the workers; on failure nothing keeps running.
  Result<void> start(TurnRuntimeOptions options);
  /// Stops the workers (allocations deleted, sockets closed) and joins their threads.
  void stop();

  uint16_t port() const { return port_; }
  uint16_t tlsPort() const { return tlsPort_; }
  TurnLoad load() const;
  /// Tests with a ManualClock: runs every worker's due timers on its loop and waits for them.
  void runDueTimers();
  /// Per-worker counters (for /metrics); valid until the runtime is destroyed.
  const std::vector<std::shared_ptr<TurnStats>>& stats() const { return stats_; }

 private:
  struct Worker {
    std::unique_ptr<net::EventLoop> loop;
    std::unique_ptr<TurnWorker> worker;
    std::thread thread;
  };
  std::unique_ptr<TurnShared> shared_;
  std::vector<std::shared_ptr<TurnStats>> stats_;
  std::vector<Worker> workers_;
  uint16_t port_ = 0;
  uint16_t tlsPort_ = 0;
  bool running_ = false;
};

}  // namespace meeting::turn
