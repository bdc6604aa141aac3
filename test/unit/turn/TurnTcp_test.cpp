// RFC 6062 TCP allocations in the protocol core: Allocate with REQUESTED-TRANSPORT TCP, Connect,
// ConnectionAttempt, ConnectionBind, their errors (400/403/437/441/442/446/447/508) and the
// lifetimes of connection ids, with a fake socket layer and time driven by hand.
#include <gtest/gtest.h>

#include "TurnTestUtil.hpp"
#include "turn/TurnServer.hpp"

namespace meeting::turn::test {
namespace {

constexpr const char* kSecret = "tcp-secret";
constexpr int64_t kWall = 1'700'000'000;

class TurnTcpTest : public ::testing::Test {
 protected:
  TurnTcpTest() {
    options.secret = kSecret;
    options.maxTcpConnectionsPerAllocation = 3;
    server = std::make_unique<TurnServer>(options, policy, io, budget, NonceService::Key{4, 5, 6}, stats);
    server->setWorkerIndex(3);
  }

  TimePoint now{Duration{std::chrono::hours(2)}};
  TurnOptions options;
  PeerPolicy policy;
  FakeIo io{now};
  AllocationBudget budget;
  TurnStats stats;
  std::unique_ptr<TurnServer> server;
  ClientKey control{ClientTransport::Tcp, 11, Address::v4({198, 51, 100, 7}, 40000)};
  ClientKey data{ClientTransport::Tcp, 12, Address::v4({198, 51, 100, 7}, 40001)};
  ClientKey udp{ClientTransport::Udp, 0, Address::v4({198, 51, 100, 7}, 40002)};
  Address peer = Address::v4({198, 51, 100, 20}, 5000);
  TurnCredential cred = makeTurnCredential(kSecret, "alice", kWall, 3600);
  uint8_t nextTid = 1;

  // One request from `from`, signed unless `auth` is false (nonce fetched first); the last answer.
  std::vector<uint8_t> request(const ClientKey& from, Method method, const std::function<void(StunBuilder&)>& attrs,
                               bool auth = true, const TurnCredential* c = nullptr) {
    std::string nonce;
    if (auth) {
      std::array<uint8_t, 64> probe{};
      ByteWriter pw(probe);
      StunBuilder pb(pw, Method::Allocate, MessageClass::Request, tidOf(250));
      io.toClient.clear();
      server->handleClientPacket(from, pb.message(), now, kWall);
      EXPECT_EQ(io.toClient.size(), 1u);
      auto m = StunMessage::parse(io.toClient.back().bytes);
      EXPECT_TRUE(m && m->nonce());
      nonce = std::string(*m->nonce());
    }
    const TurnCredential& credential = c ? *c : cred;
    std::array<uint8_t, 1500> buf{};
    ByteWriter w(buf);
    StunBuilder b(w, method, MessageClass::Request, tidOf(nextTid++));
    if (attrs) attrs(b);
    if (auth) {
      b.addUsername(credential.username);
      b.addRealm("meeting");
      b.addNonce(nonce);
      b.addMessageIntegrity(turnLongTermKey(credential.username, "meeting", credential.password));
    }
    b.addFingerprint();
    EXPECT_TRUE(b.ok());
    io.toClient.clear();
    server->handleClientPacket(from, b.message(), now, kWall);
    if (io.toClient.empty()) return {};
    return io.toClient.back().bytes;
  }

  static uint16_t codeOf(const std::vector<uint8_t>& bytes) {
    auto m = StunMessage::parse(bytes);
    if (!m) return 1;
    if (classOf(m->type()) == MessageClass::SuccessResponse) return 0;
    auto e = m->errorCode();
    return e ? e->code : 2;
  }

  std::vector<uint8_t> allocateTcp(const ClientKey& from, const std::function<void(StunBuilder&)>& extra = nullptr) {
    return request(from, Method::Allocate, [&](StunBuilder& b) {
      b.addRequestedTransport(TransportTcp);
      if (extra) extra(b);
    });
  }
  std::vector<uint8_t> connect(const Address& to) {
    return request(control, Method::Connect, [&](StunBuilder& b) { b.addXorPeerAddress(to); });
  }
  std::vector<uint8_t> permit(const Address& to) {
    return request(control, Method::CreatePermission, [&](StunBuilder& b) { b.addXorPeerAddress(to); });
  }
  std::vector<uint8_t> connectionBind(const ClientKey& from, std::optional<uint32_t> id, const TurnCredential* c = nullptr) {
    return request(from, Method::ConnectionBind, [&](StunBuilder& b) {
      if (id) b.addConnectionId(*id);
    }, true, c);
  }

  // Allocate TCP + Connect + the connect succeeding: the CONNECTION-ID.
  uint32_t connected(const Address& to) {
    EXPECT_EQ(connect(to), std::vector<uint8_t>{});  // answered only once the TCP connect is done
    EXPECT_FALSE(io.connects.empty());
    const uint32_t id = io.connects.back().id;
    io.toClient.clear();
    server->peerConnected(id, true, now);
    EXPECT_EQ(io.toClient.size(), 1u);
    auto m = StunMessage::parse(io.toClient.back().bytes);
    EXPECT_TRUE(m);
    EXPECT_EQ(classOf(m->type()), MessageClass::SuccessResponse);
    EXPECT_EQ(methodOf(m->type()), Method::Connect);
    EXPECT_EQ(m->connectionId(), id);
    return id;
  }
};

TEST_F(TurnTcpTest, AllocateTcpNeedsAStreamControlConnection) {
  EXPECT_EQ(codeOf(allocateTcp(udp)), 400);  // RFC 6062 §5.1
  EXPECT_EQ(server->allocationCount(), 0u);
  EXPECT_EQ(codeOf(allocateTcp(control)), 0);
  const Allocation* a = server->findAllocation(control);
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->relay().tcp);
  ASSERT_EQ(io.open.size(), 1u);
}

TEST_F(TurnTcpTest, AllocateTcpRefusesUdpOnlyAttributes) {
  EXPECT_EQ(codeOf(allocateTcp(control, [](StunBuilder& b) { b.addEmpty(attr::DontFragment); })), 400);
  EXPECT_EQ(codeOf(allocateTcp(control, [](StunBuilder& b) { b.addEvenPort(false); })), 400);
  EXPECT_EQ(codeOf(allocateTcp(control, [](StunBuilder& b) { b.addReservationToken(7); })), 400);
  EXPECT_EQ(server->allocationCount(), 0u);
}

TEST_F(TurnTcpTest, OtherTransportsAre442) {
  auto reply = request(control, Method::Allocate, [](StunBuilder& b) { b.addRequestedTransport(132); });
  EXPECT_EQ(codeOf(reply), 442);
}

TEST_F(TurnTcpTest, ConnectErrors) {
  EXPECT_EQ(codeOf(connect(peer)), 437);  // no allocation on this connection
  ASSERT_EQ(codeOf(request(udp, Method::Allocate, [](StunBuilder& b) { b.addRequestedTransport(TransportUdp); })), 0);
  EXPECT_EQ(codeOf(request(udp, Method::Connect, [&](StunBuilder& b) { b.addXorPeerAddress(peer); })), 400);
  ASSERT_EQ(codeOf(allocateTcp(control)), 0);
  EXPECT_EQ(codeOf(request(control, Method::Connect, nullptr)), 400);  // no XOR-PEER-ADDRESS
  EXPECT_EQ(codeOf(connect(Address::v4({127, 0, 0, 1}, 80))), 403);   // peer policy
  EXPECT_EQ(codeOf(connect(Address::v4({10, 1, 2, 3}, 80))), 403);
  EXPECT_EQ(codeOf(request(control, Method::ChannelBind, [&](StunBuilder& b) {
              b.addChannelNumber(0x4001);
              b.addXorPeerAddress(peer);
            })),
            400);  // no channels on a TCP allocation
  EXPECT_TRUE(io.connects.empty());
}

TEST_F(TurnTcpTest, ConnectSucceedsWithAConnectionIdOfThisWorker) {
  ASSERT_EQ(codeOf(allocateTcp(control)), 0);
  const uint32_t id = connected(peer);
  EXPECT_EQ(TurnServer::connectionWorker(id), 3u);
  EXPECT_EQ(io.connects.back().relay, server->findAllocation(control)->relay().id);
  EXPECT_EQ(io.connects.back().peer, peer);
  EXPECT_EQ(server->tcpConnectionCount(), 1u);
  EXPECT_EQ(stats.tcpPeerConnections.value(), 1u);
  EXPECT_EQ(stats.activeTcpConnections.load(), 1);
}

TEST_F(TurnTcpTest, SecondConnectToTheSamePeerIs446) {
  ASSERT_EQ(codeOf(allocateTcp(control)), 0);
  EXPECT_EQ(connect(peer), std::vector<uint8_t>{});
  EXPECT_EQ(codeOf(connect(peer)), 446);  // still connecting
  server->peerConnected(io.connects.back().id, true, now);
  EXPECT_EQ(codeOf(connect(peer)), 446);  // waiting for its bind
  // Another port of the same host is another connection.
  EXPECT_EQ(connect(Address::v4({198, 51, 100, 20}, 5001)), std::vector<uint8_t>{});
  EXPECT_EQ(io.connects.size(), 2u);
}

TEST_F(TurnTcpTest, FailedConnectIs447) {
  ASSERT_EQ(codeOf(allocateTcp(control)), 0);
  EXPECT_EQ(connect(peer), std::vector<uint8_t>{});
  const uint32_t id = io.connects.back().id;
  io.toClient.clear();
  server->peerConnected(id, false, now);
  ASSERT_EQ(io.toClient.size(), 1u);
  EXPECT_EQ(codeOf(io.toClient.back().bytes), 447);
  EXPECT_EQ(io.closedConnections, std::vector<uint32_t>{id});
  EXPECT_EQ(server->tcpConnectionCount(), 0u);
  EXPECT_EQ(stats.tcpConnectsFailed.value(), 1u);
  // A late or repeated outcome is ignored.
  io.toClient.clear();
  server->peerConnected(id, true, now);
  EXPECT_TRUE(io.toClient.empty());
  // A socket layer that cannot even start the connect: 447 at once.
  io.connectStarts = false;
  EXPECT_EQ(codeOf(connect(Address::v4({198, 51, 100, 21}, 5000))), 447);
  EXPECT_EQ(server->tcpConnectionCount(), 0u);
}

TEST_F(TurnTcpTest, ConnectTimesOutAfter30Seconds) {
  ASSERT_EQ(codeOf(allocateTcp(control)), 0);
  EXPECT_EQ(connect(peer), std::vector<uint8_t>{});
  const uint32_t id = io.connects.back().id;
  now += std::chrono::seconds(29);
  io.toClient.clear();
  server->expire(now);
  EXPECT_TRUE(io.toClient.empty());
  now += std::chrono::seconds(1);
  server->expire(now);
  ASSERT_EQ(io.toClient.size(), 1u);
  EXPECT_EQ(codeOf(io.toClient.back().bytes), 447);  // RFC 6062 §5.2
  EXPECT_EQ(io.closedConnections, std::vector<uint32_t>{id});
}

TEST_F(TurnTcpTest, UnboundConnectionIsClosedAfter30Seconds) {
  ASSERT_EQ(codeOf(allocateTcp(control)), 0);
  const uint32_t id = connected(peer);
  now += std::chrono::seconds(30);
  server->expire(now);
  EXPECT_EQ(io.closedConnections, std::vector<uint32_t>{id});
  EXPECT_EQ(stats.tcpBindTimeouts.value(), 1u);
  EXPECT_EQ(server->claimConnection(id, cred.username, now), 400);  // the id is gone
  EXPECT_EQ(stats.activeTcpConnections.load(), 0);
}

TEST_F(TurnTcpTest, ConnectionBindOnAnotherConnection) {
  ASSERT_EQ(codeOf(allocateTcp(control)), 0);
  const uint32_t id = connected(peer);
  // The data connection's core authenticates and asks the owner (through the socket layer).
  EXPECT_EQ(connectionBind(data, id), std::vector<uint8_t>{});
  ASSERT_EQ(io.claims.size(), 1u);
  EXPECT_EQ(io.claims[0].id, id);
  EXPECT_EQ(io.claims[0].client, data);
  EXPECT_TRUE(server->hasPendingBind(data));
  EXPECT_EQ(server->claimConnection(id, io.claims[0].user, now), 0);
  io.toClient.clear();
  server->finishConnectionBind(data, 0);
  ASSERT_EQ(io.toClient.size(), 1u);
  EXPECT_EQ(io.toClient[0].client, data);
  auto m = StunMessage::parse(io.toClient[0].bytes);
  ASSERT_TRUE(m);
  EXPECT_EQ(classOf(m->type()), MessageClass::SuccessResponse);
  EXPECT_EQ(methodOf(m->type()), Method::ConnectionBind);
  EXPECT_NE(m->messageIntegrityOffset(), 0u);
  EXPECT_FALSE(server->hasPendingBind(data));
  EXPECT_EQ(stats.tcpBound.value(), 1u);
  // Bound: no second bind, no timeout; the id lives until the splice reports its end.
  EXPECT_EQ(server->claimConnection(id, cred.username, now), 400);
  now += std::chrono::minutes(5);
  server->expire(now);
  EXPECT_TRUE(io.closedConnections.empty());
  EXPECT_EQ(server->tcpConnectionCount(), 1u);
  server->peerConnectionClosed(id);
  EXPECT_EQ(server->tcpConnectionCount(), 0u);
  EXPECT_EQ(stats.activeTcpConnections.load(), 0);
}

TEST_F(TurnTcpTest, ConnectionBindErrors) {
  ASSERT_EQ(codeOf(allocateTcp(control)), 0);
  const uint32_t id = connected(peer);
  EXPECT_EQ(codeOf(connectionBind(udp, id)), 400);       // RFC 6062 §5.4: TCP/TLS only
  EXPECT_EQ(codeOf(connectionBind(control, id)), 400);   // a control connection cannot become data
  EXPECT_EQ(codeOf(connectionBind(data, std::nullopt)), 400);  // no CONNECTION-ID
  EXPECT_EQ(codeOf(request(data, Method::ConnectionBind, [&](StunBuilder& b) { b.addConnectionId(id); }, false)), 401);
  EXPECT_TRUE(io.claims.empty());
  // One pending bind per connection.
  EXPECT_EQ(connectionBind(data, id), std::vector<uint8_t>{});
  EXPECT_EQ(codeOf(connectionBind(data, id)), 400);
  // Unknown ids and other users are refused by the owner.
  EXPECT_EQ(server->claimConnection(id ^ 0x5555, cred.username, now), 400);
  auto bob = makeTurnCredential(kSecret, "bob", kWall, 3600);
  EXPECT_EQ(server->claimConnection(id, bob.username, now), 441);
  // Renewed credentials of the same user are fine.
  auto alice2 = makeTurnCredential(kSecret, "alice", kWall + 60, 3600);
  EXPECT_EQ(server->claimConnection(id, alice2.username, now), 0);
  io.toClient.clear();
  server->finishConnectionBind(data, 400);
  ASSERT_EQ(io.toClient.size(), 1u);
  EXPECT_EQ(codeOf(io.toClient[0].bytes), 400);
  // Answered once only.
  io.toClient.clear();
  server->finishConnectionBind(data, 0);
  EXPECT_TRUE(io.toClient.empty());
}

TEST_F(TurnTcpTest, PeerConnectionNeedsAPermissionAndSendsConnectionAttempt) {
  ASSERT_EQ(codeOf(allocateTcp(control)), 0);
  const uint32_t relay = server->findAllocation(control)->relay().id;
  io.toClient.clear();
  EXPECT_EQ(server->peerConnectionAccepted(relay, peer, now), 0u);  // RFC 6062 §5.3
  EXPECT_TRUE(io.toClient.empty());
  EXPECT_EQ(stats.tcpPeerRefused.value(), 1u);
  ASSERT_EQ(codeOf(permit(Address::v4({198, 51, 100, 20}, 0))), 0);
  io.toClient.clear();
  const uint32_t id = server->peerConnectionAccepted(relay, peer, now);
  ASSERT_NE(id, 0u);
  ASSERT_EQ(io.toClient.size(), 1u);
  EXPECT_EQ(io.toClient[0].client, control);
  auto m = StunMessage::parse(io.toClient[0].bytes);
  ASSERT_TRUE(m);
  EXPECT_EQ(classOf(m->type()), MessageClass::Indication);
  EXPECT_EQ(methodOf(m->type()), Method::ConnectionAttempt);
  EXPECT_EQ(m->connectionId(), id);
  EXPECT_EQ(m->xorPeerAddress(), peer);
  EXPECT_EQ(server->claimConnection(id, cred.username, now), 0);
  // Unknown relays and UDP relays take no connections.
  EXPECT_EQ(server->peerConnectionAccepted(relay + 100, peer, now), 0u);
}

TEST_F(TurnTcpTest, ConnectionsCountAgainstTheAllocationQuota) {
  ASSERT_EQ(codeOf(allocateTcp(control)), 0);
  const uint32_t a = connected(Address::v4({198, 51, 100, 20}, 1));
  connected(Address::v4({198, 51, 100, 20}, 2));
  ASSERT_EQ(codeOf(permit(peer)), 0);
  const uint32_t relay = server->findAllocation(control)->relay().id;
  ASSERT_NE(server->peerConnectionAccepted(relay, peer, now), 0u);
  EXPECT_EQ(codeOf(connect(Address::v4({198, 51, 100, 20}, 3))), 508);
  EXPECT_EQ(server->peerConnectionAccepted(relay, Address::v4({198, 51, 100, 20}, 9), now), 0u);
  ASSERT_EQ(server->claimConnection(a, cred.username, now), 0);
  server->peerConnectionClosed(a);  // its splice ended: room for one more
  EXPECT_EQ(connect(Address::v4({198, 51, 100, 20}, 3)), std::vector<uint8_t>{});
  EXPECT_EQ(server->tcpConnectionCount(), 3u);
}

TEST_F(TurnTcpTest, DeletingTheAllocationClosesItsConnections) {
  ASSERT_EQ(codeOf(allocateTcp(control)), 0);
  const uint32_t a = connected(Address::v4({198, 51, 100, 20}, 1));
  const uint32_t b = connected(Address::v4({198, 51, 100, 20}, 2));
  ASSERT_EQ(server->claimConnection(b, cred.username, now), 0);
  EXPECT_EQ(connect(Address::v4({198, 51, 100, 20}, 3)), std::vector<uint8_t>{});
  const uint32_t c = io.connects.back().id;
  server->clientClosed(control);  // RFC 8656 §3.1: the control connection closed
  std::vector<uint32_t> closed = io.closedConnections;
  std::sort(closed.begin(), closed.end());
  std::vector<uint32_t> expected{a, b, c};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(closed, expected);
  EXPECT_EQ(server->tcpConnectionCount(), 0u);
  EXPECT_EQ(stats.activeTcpConnections.load(), 0);
  EXPECT_EQ(io.closed.size(), 1u);  // the listening relay socket
}

TEST_F(TurnTcpTest, ConnectionIdsAreUniqueAndSkipZero) {
  ASSERT_EQ(codeOf(allocateTcp(control)), 0);
  server->setWorkerIndex(0);
  const uint32_t a = connected(Address::v4({198, 51, 100, 20}, 1));
  const uint32_t b = connected(Address::v4({198, 51, 100, 20}, 2));
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, b);
  EXPECT_EQ(TurnServer::connectionWorker(a), 0u);
}

}  // namespace
}  // namespace meeting::turn::test
