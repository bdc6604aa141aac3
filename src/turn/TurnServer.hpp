#pragma once
// The TURN protocol core (RFC 8656, RFC 8489, RFC 6156): a pure object with no sockets and no
// clock of its own. The socket layer feeds it client packets and peer packets with the current
// time and implements TurnIo for what goes out; tests drive it with a fake TurnIo and hand-made
// time. One instance per worker loop; it is not thread-safe.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>

#include "common/Clock.hpp"
#include "proto/stun/StunMessage.hpp"
#include "turn/Allocation.hpp"
#include "turn/AllocationBudget.hpp"
#include "turn/PeerPolicy.hpp"
#include "turn/TurnAuth.hpp"
#include "turn/TurnTypes.hpp"

namespace meeting::turn {

class TurnServer {
 public:
  /// Bytes the socket layer must leave free in front of a peer payload (room for a Data
  /// indication header: 20 + XOR-PEER-ADDRESS 24 + DATA header 4) and behind it (padding).
  static constexpr size_t PeerHeadroom = 64;
  static constexpr size_t PeerTailroom = 4;

  /// `wallSeconds` gives Unix time for credential expiry; `budget` may be shared between cores.
  TurnServer(const TurnOptions& options, const PeerPolicy& policy, TurnIo& io, AllocationBudget& budget,
             const NonceService::Key& nonceKey, TurnStats& stats);
  ~TurnServer();
  TurnServer(const TurnServer&) = delete;
  TurnServer& operator=(const TurnServer&) = delete;

  /// A datagram (UDP) or one complete stream frame (TCP/TLS) from a client. `wallSeconds` is Unix
  /// time, used only to check credential expiry.
  void handleClientPacket(const ClientKey& client, std::span<const uint8_t> data, TimePoint now,
                          int64_t wallSeconds);

  /// A datagram that relay `relayId` received from `peer`. The payload is
  /// buffer[offset, offset + length) with offset >= PeerHeadroom and PeerTailroom bytes after it,
  /// so it is framed for the client in place, without copying.
  void handlePeerPacket(uint32_t relayId, const Address& peer, std::span<uint8_t> buffer, size_t offset,
                        size_t length, TimePoint now);

  /// The stream connection of `client` closed: its allocation goes (RFC 8656 §3.1).
  void clientClosed(const ClientKey& client);
  /// Deletes expired allocations, permissions and channels; call about once a second.
  void expire(TimePoint now);

  // RFC 6062 TCP allocations. Connection ids carry the owning core's worker index in their top
  // byte, so a ConnectionBind that lands on another worker finds the owner.
  void setWorkerIndex(uint32_t index) { workerIndex_ = index & 0xFF; }
  static uint32_t connectionWorker(uint32_t connectionId) { return connectionId >> 24; }
  /// The TCP connect started for `connectionId` (TurnIo::connectPeer) finished (RFC 6062 §5.2).
  void peerConnected(uint32_t connectionId, bool ok, TimePoint now);
  /// A peer connected to TCP relay `relayId` (RFC 6062 §5.3). Returns its CONNECTION-ID after
  /// sending ConnectionAttempt to the client, or 0: no permission or over quota, close it.
  uint32_t peerConnectionAccepted(uint32_t relayId, const Address& peer, TimePoint now);
  /// The owner's half of ConnectionBind (RFC 6062 §5.4): 0 when `connectionId` was waiting for
  /// its bind and belongs to `username`'s allocation (it is bound now), else the error code.
  uint16_t claimConnection(uint32_t connectionId, std::string_view username, TimePoint now);
  /// The data connection's half: answers the ConnectionBind pending on `client` with success
  /// (code 0) or the error `code`.
  void finishConnectionBind(const ClientKey& client, uint16_t code);
  /// A bound peer data connection ended (either side closed); its quota is given back.
  void peerConnectionClosed(uint32_t connectionId);
  size_t tcpConnectionCount() const { return tcpConnections_.size(); }
  bool hasPendingBind(const ClientKey& client) const { return pendingBinds_.count(client.connection) != 0; }

  size_t allocationCount() const { return byClient_.size(); }
  /// Allocations whose client is on TCP/TLS (each connection holds at most one).
  size_t streamAllocationCount() const { return streamAllocations_; }
  const Allocation* findAllocation(const ClientKey& client) const;

 private:
  struct Request;  // the request being answered, with its authentication state
  void handleStun(const ClientKey& client, std::span<const uint8_t> data, TimePoint now, int64_t wallSeconds);
  void handleChannelData(const ClientKey& client, std::span<const uint8_t> data, TimePoint now);
  void handleSendIndication(const ClientKey& client, const proto::stun::StunMessage& msg, TimePoint now);
  void handleBinding(const Request& r);
  bool authenticate(Request& r, Allocation* existing, int64_t wallSeconds);
  void handleAllocate(Request& r, int64_t wallSeconds);
  void handleRefresh(Request& r, Allocation& a);
  void handleCreatePermission(Request& r, Allocation& a);
  void handleChannelBind(Request& r, Allocation& a);
  void handleConnect(Request& r, Allocation& a);
  void handleConnectionBind(Request& r, Allocation* existing, int64_t wallSeconds);

  // RFC 6062: a peer data connection, owned by the core whose allocation it belongs to.
  struct TcpConnection {
    enum class State : uint8_t { Connecting, Pending, Bound };
    ClientKey control;  // the allocation's client (control connection)
    Address peer;
    State state = State::Connecting;
    TimePoint deadline;  // Connecting: connect timeout; Pending: bind timeout
    // To answer the Connect once the TCP connect is done.
    proto::stun::TransactionId connectTid{};
    std::array<uint8_t, 16> key{};
    bool sha1 = true, sha256 = false;
  };
  // A ConnectionBind waiting for the owner's verdict, by the data connection's number.
  struct PendingBind {
    proto::stun::TransactionId tid{};
    std::array<uint8_t, 16> key{};
    bool sha1 = true, sha256 = false;
  };
  uint32_t newConnectionId();
  void answerConnect(const TcpConnection& c, uint32_t connectionId, uint16_t code);
  void removeTcpConnection(uint32_t connectionId, bool closeSocket);

  void sendError(const Request& r, uint16_t code, std::string_view reason, bool withNonce = false);
  void sendUnknownAttributes(const Request& r);
  Duration grantedLifetime(const proto::stun::StunMessage& msg) const;
  void removeAllocation(const ClientKey& client);

  TurnOptions options_;
  const PeerPolicy& policy_;
  TurnIo& io_;
  AllocationBudget& budget_;
  NonceService nonces_;
  UnauthorizedLimiter unauthorized_;
  TurnStats& stats_;
  std::unordered_map<ClientKey, std::unique_ptr<Allocation>, ClientKeyHash> byClient_;
  std::unordered_map<uint32_t, Allocation*> byRelay_;
  uint64_t indicationCounter_ = 0;
  size_t streamAllocations_ = 0;
  std::unordered_map<uint32_t, TcpConnection> tcpConnections_;
  std::unordered_map<uint64_t, PendingBind> pendingBinds_;
  uint32_t workerIndex_ = 0;
  uint32_t nextConnection_ = 0;
  std::array<uint8_t, 1536> out_{};  // responses are built here (never per-packet heap)
};

}  // namespace meeting::turn
