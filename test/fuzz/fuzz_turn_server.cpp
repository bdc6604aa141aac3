// libFuzzer target for the TURN protocol core: a sequence of operations decoded from the input
// (raw client datagrams/frames, requests signed with valid credentials so the fuzzer reaches the
// allocation logic, peer datagrams, time steps, closed connections, and the RFC 6062 TCP relay
// events: connects finishing, peers connecting, ConnectionBind claims and answers, splices
// ending) run against one TurnServer.
// Any crash, sanitizer report or broken invariant is a bug.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "common/ByteReader.hpp"
#include "common/TurnCredentials.hpp"
#include "proto/stun/Stun.hpp"
#include "turn/RelayPortPool.hpp"
#include "turn/TurnServer.hpp"

using namespace meeting;
using namespace meeting::turn;
using namespace meeting::proto::stun;

namespace {

constexpr const char* kSecret = "fuzz-secret";
constexpr int64_t kWall = 1'700'000'000;

class FuzzIo : public TurnIo {
 public:
  explicit FuzzIo(TimePoint& now) : now_(now) {}
  void sendToClient(const ClientKey&, std::span<const uint8_t> data) override {
    // Everything the server says must itself be a well-formed STUN or ChannelData message.
    if (data.empty()) abort();
    lastReply.assign(data.begin(), data.end());
  }
  void sendToPeer(uint32_t, const Address&, std::span<const uint8_t> data) override { sentBytes += data.size(); }
  std::optional<RelayEndpoint> openRelay(const RelayRequest& r, RelayError& error) override {
    std::optional<RelayPortPool::Grant> g;
    if (r.reservationToken) {
      auto p = pool.acquireReserved(*r.reservationToken, now_);
      if (p) g = RelayPortPool::Grant{*p, std::nullopt};
    } else {
      g = pool.acquire(r.evenPort, r.reserveNext, now_);
    }
    if (!g) {
      error = RelayError::NoCapacity;
      return std::nullopt;
    }
    RelayEndpoint e;
    e.id = nextId++;
    e.address = Address::v4({203, 0, 113, 1}, g->port);
    e.reservationToken = g->reservationToken;
    return e;
  }
  void closeRelay(uint32_t) override {}
  bool connectPeer(uint32_t, uint32_t id, const Address&) override {
    ids.push_back(id);
    return (id & 7) != 5;  // now and then the socket layer cannot even start
  }
  void closePeerConnection(uint32_t) override {}
  void claimConnection(const ClientKey&, uint32_t id, std::string_view) override { ids.push_back(id); }
  // An id seen lately (or a made-up one), for the events that refer to connections.
  uint32_t pickId(uint8_t selector) const {
    if (ids.empty() || selector >= 0xF0) return selector;
    return ids[ids.size() - 1 - selector % std::min<size_t>(ids.size(), 8)];
  }
  std::vector<uint32_t> ids;

  RelayPortPool pool{50000, 50015};
  uint32_t nextId = 1;
  size_t sentBytes = 0;
  std::vector<uint8_t> lastReply;

 private:
  TimePoint& now_;
};

const ClientKey kClients[] = {
    {ClientTransport::Udp, 0, Address::v4({198, 51, 100, 1}, 1000)},
    {ClientTransport::Tcp, 7, Address::v4({198, 51, 100, 2}, 2000)},
    {ClientTransport::Tls, 9, Address::v6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3}, 3000)},
};

// Wraps fuzz bytes (as type/length/value attributes) into a correctly signed request.
void signedRequest(TurnServer& server, FuzzIo& io, const ClientKey& client, std::span<const uint8_t> body,
                   TimePoint now) {
  if (body.empty()) return;
  static constexpr Method kMethods[] = {Method::Allocate, Method::Refresh, Method::CreatePermission,
                                        Method::ChannelBind, Method::Binding, Method::Connect,
                                        Method::ConnectionBind};
  const Method method = kMethods[body[0] % 7];
  // Get a nonce the honest way.
  std::array<uint8_t, 64> probe{};
  ByteWriter pw(probe);
  TransactionId tid{};
  tid[0] = body[0];
  StunBuilder pb(pw, Method::Allocate, MessageClass::Request, tid);
  server.handleClientPacket(client, pb.message(), now, kWall);
  auto answer = StunMessage::parse(io.lastReply);
  if (!answer || !answer->nonce()) return;
  const std::string nonce(*answer->nonce());

  std::array<uint8_t, 2048> buf{};
  ByteWriter w(buf);
  tid[1] = 1;
  StunBuilder b(w, method, MessageClass::Request, tid);
  ByteReader r(body.subspan(1));
  uint16_t type = 0;
  uint8_t len = 0;
  std::span<const uint8_t> value;
  while (r.readU16(type) && r.readU8(len) && r.readBytes(len, value)) {
    if (type == attr::MessageIntegrity || type == attr::MessageIntegritySha256 || type == attr::Fingerprint) continue;
    b.addAttribute(type, value);
  }
  const std::string user = (body.size() > 1 && body[1] & 1) ? "bob" : "alice";
  const TurnCredential cred = makeTurnCredential(kSecret, user, kWall, 3600);
  b.addUsername(cred.username);
  b.addRealm("meeting");
  b.addNonce(nonce);
  b.addMessageIntegrity(turnLongTermKey(cred.username, "meeting", cred.password));
  b.addFingerprint();
  if (b.ok()) server.handleClientPacket(client, b.message(), now, kWall);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  TimePoint now{std::chrono::hours(1)};
  FuzzIo io(now);
  TurnOptions options;
  options.secret = kSecret;
  options.maxAllocationsPerUser = 3;
  options.maxAllocationsTotal = 5;
  options.bandwidthBytesPerSecond = (size & 1) ? 5000 : 0;
  PeerPolicy policy;
  policy.setAllowLoopback((size & 2) != 0);
  AllocationBudget budget;
  TurnStats stats;
  {
    TurnServer server(options, policy, io, budget, NonceService::Key{7}, stats);
    ByteReader in(std::span<const uint8_t>(data, size));
    uint8_t op = 0;
    uint16_t len = 0;
    std::span<const uint8_t> payload;
    while (in.readU8(op) && in.readU16(len) && in.readBytes(std::min<size_t>(len, in.remaining()), payload)) {
      const ClientKey& client = kClients[(op >> 4) % 3];
      switch (op % 8) {
        case 0:
        case 1:
          server.handleClientPacket(client, payload, now, kWall);
          break;
        case 2:
          signedRequest(server, io, client, payload, now);
          break;
        case 3: {
          if (payload.size() < 2) break;
          std::array<uint8_t, TurnServer::PeerHeadroom + 1500 + TurnServer::PeerTailroom> buf{};
          const size_t n = std::min<size_t>(payload.size() - 2, 1500);
          std::copy(payload.begin() + 2, payload.begin() + 2 + static_cast<long>(n), buf.begin() + TurnServer::PeerHeadroom);
          Address peer = Address::v4({198, 51, 100, payload[1]}, 3480);
          server.handlePeerPacket(payload[0] % 6, peer, buf, TurnServer::PeerHeadroom, n, now);
          break;
        }
        case 4:
          now += std::chrono::seconds(payload.empty() ? 1 : payload[0] * 5);
          server.expire(now);
          break;
        case 5:
          server.clientClosed(client);
          break;
        case 6:
        case 7: {
          if (payload.size() < 2) break;
          const uint32_t id = io.pickId(payload[1]);
          const std::string user = payload[0] & 0x80 ? "bob" : "alice";
          switch (payload[0] % 5) {
            case 0:
              server.peerConnected(id, payload[0] & 0x10, now);
              break;
            case 1: {
              const uint32_t accepted =
                  server.peerConnectionAccepted(payload[1] % 6, Address::v4({198, 51, 100, payload[1]}, 4000), now);
              if (accepted) io.ids.push_back(accepted);
              break;
            }
            case 2:
              server.claimConnection(id, makeTurnCredential(kSecret, user, kWall, 3600).username, now);
              break;
            case 3:
              server.finishConnectionBind(client, payload[0] & 0x10 ? 0 : 400);
              break;
            case 4:
              server.peerConnectionClosed(id);
              break;
          }
          break;
        }
      }
      if (stats.activeTcpConnections.load() != static_cast<int64_t>(server.tcpConnectionCount())) abort();
    }
    if (server.allocationCount() > options.maxAllocationsTotal) abort();
  }
  // Every allocation gave its quota back when the server went away.
  if (budget.total() != 0) abort();
  if (stats.activeTcpConnections.load() != 0) abort();
  return 0;
}
