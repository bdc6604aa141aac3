#pragma once
// One worker loop of the turnserver: its share of the listening sockets (SO_REUSEPORT spreads
// clients over the workers), the relay sockets of the allocations it owns, and its TurnServer
// core. Everything here runs on the worker's loop thread.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/Result.hpp"
#include "net/EventLoop.hpp"
#include "turn/RelayPortPool.hpp"
#include "turn/TurnServer.hpp"
#include "turn/UdpBatch.hpp"

namespace meeting::turn {

class StreamConnection;
class TurnWorker;

/// What every worker shares (read-only after start, or internally locked).
struct TurnShared {
  TurnOptions options;
  PeerPolicy policy;
  AllocationBudget budget;
  NonceService::Key nonceKey{};
  std::unique_ptr<RelayPortPool> ports;
  boost::asio::ip::address relayBind;  ///< relay sockets bind here (the listening address)
  Address announcedV4;                 ///< XOR-RELAYED-ADDRESS for IPv4 (port filled per relay)
  std::optional<Address> announcedV6;
  std::shared_ptr<boost::asio::ssl::context> tls;  ///< null: no TLS listener
  Duration streamIdleTimeout = std::chrono::seconds(30);
  size_t maxIdleStreams = 1024;
  /// Bound RFC 6062 data connections with no byte either way for this long are closed (both
  /// sides); 0 = never (they still go with their allocation).
  Duration tcpRelayIdleTimeout = std::chrono::minutes(10);
  bool udpGso = true;  ///< SendQueue merges same-destination datagrams (UDP_SEGMENT)
  /// Every worker by index (set before they start): RFC 6062 data connections may land on a
  /// worker other than the one owning the allocation.
  std::vector<TurnWorker*> workers;
};

class TurnWorker final : public TurnIo {
 public:
  TurnWorker(net::EventLoop& loop, TurnShared& shared, TurnStats& stats, uint32_t index);
  ~TurnWorker() override;

  /// Binds this worker's listeners (caller's thread, before the loop uses them): UDP and TCP on
  /// `port` (0: pick one, the UDP port is then used for TCP too), TLS on `tlsPort` if given.
  Result<void> bind(const boost::asio::ip::address& ip, uint16_t port, std::optional<uint16_t> tlsPort);
  /// Loop thread: starts reading and the expiry timer.
  void start();
  /// Loop thread: closes every socket and deletes every allocation.
  void stop();

  uint16_t udpPort() const;
  uint16_t tlsPort() const;
  size_t allocationCount() const { return core_ ? core_->allocationCount() : 0; }
  size_t streamCount() const { return streams_.size(); }

  // TurnIo
  void sendToClient(const ClientKey& client, std::span<const uint8_t> data) override;
  void sendToPeer(uint32_t relayId, const Address& peer, std::span<const uint8_t> data) override;
  std::optional<RelayEndpoint> openRelay(const RelayRequest& request, RelayError& error) override;
  void closeRelay(uint32_t relayId) override;
  bool connectPeer(uint32_t relayId, uint32_t connectionId, const Address& peer) override;
  void closePeerConnection(uint32_t connectionId) override;
  void claimConnection(const ClientKey& dataClient, uint32_t connectionId, std::string_view username) override;

  // Called by stream connections.
  void onStreamFrame(StreamConnection& c, std::span<const uint8_t> frame);
  void onStreamClosed(StreamConnection& c);
  /// A spliced data connection ended (either side).
  void onSpliceClosed(StreamConnection& c, uint32_t connectionId);
  TurnStats& stats() { return stats_; }
  size_t spliceCount() const { return splices_.size(); }
  void flush();
  TimePoint now() const { return loop_.clock().now(); }

 private:
  struct Relay;
  struct TcpRelay;
  struct PeerSocket;
  std::optional<RelayEndpoint> openTcpRelay(const boost::asio::ip::address& bindIp, bool v6, RelayError& error);
  void acceptPeer(const std::shared_ptr<TcpRelay>& relay);
  // RFC 6062 hand-over between workers; each runs on the loop of the worker it is called on.
  void onClaim(uint32_t fromWorker, ClientKey dataClient, uint32_t connectionId, std::string username);
  void onClaimResult(ClientKey dataClient, uint32_t connectionId, int fd, bool v6, uint16_t code);
  void onSpliceGone(uint32_t connectionId);
  void closeSplice(uint32_t connectionId);
  TurnWorker* workerAt(uint32_t index) const;
  void armUdp();
  void onUdpReadable();
  void armRelay(const std::shared_ptr<Relay>& relay);
  void onRelayReadable(const std::shared_ptr<Relay>& relay);
  bool receiveInto(int fd);
  void beginRound();
  void endRound();
  void accept(boost::asio::ip::tcp::acceptor& acceptor, bool tls);
  int64_t wallSeconds() const { return loop_.clock().wallMicros() / 1'000'000; }

  net::EventLoop& loop_;
  TurnShared& shared_;
  TurnStats& stats_;
  uint32_t index_;
  std::unique_ptr<TurnServer> core_;
  boost::asio::ip::udp::socket udp_;
  boost::asio::ip::tcp::acceptor tcp_;
  boost::asio::ip::tcp::acceptor tls_;
  std::unordered_map<uint32_t, std::shared_ptr<Relay>> relays_;
  struct Stream {
    std::shared_ptr<StreamConnection> connection;
    TimePoint idleSince;  // accepted, or last seen with an allocation
  };
  void closeIdleStreams(TimePoint now);
  void closeIdleSplices(TimePoint now);
  size_t idleStreamCount() const;

  std::unordered_map<uint64_t, Stream> streams_;
  std::unordered_map<uint32_t, std::shared_ptr<TcpRelay>> tcpRelays_;
  std::unordered_map<uint32_t, std::shared_ptr<PeerSocket>> peerSockets_;  // owner: connecting or unbound
  std::unordered_map<uint32_t, uint32_t> boundAt_;  // owner: connection id -> worker splicing it
  std::unordered_map<uint32_t, std::shared_ptr<StreamConnection>> splices_;  // spliced here
  std::unordered_set<uint32_t> cancelledSplices_;  // deleted by the owner before the splice began
  RecvBatch batch_;
  SendQueue queue_;
  bool batching_ = false;  // inside a batch: sends are queued and flushed at the round's end
  bool roundPending_ = false;  // endRound() is posted
  uint32_t nextRelayId_ = 1;
  uint64_t nextConnectionId_ = 1;
  net::TimerId expiryTimer_ = 0;
  bool stopped_ = false;
};

}  // namespace meeting::turn
