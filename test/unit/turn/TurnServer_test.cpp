#include "turn/TurnServer.hpp"

#include <gtest/gtest.h>

#include "TurnTestUtil.hpp"

namespace meeting::turn::test {
namespace {

constexpr const char* kSecret = "test-secret";
constexpr int64_t kWall = 1'700'000'000;

class TurnServerTest : public ::testing::Test {
 protected:
  TurnServerTest() { rebuild(); }

  void rebuild() {
    server.reset();
    server = std::make_unique<TurnServer>(options, policy, io, budget, NonceService::Key{1, 2, 3}, stats);
  }

  TimePoint now{Duration{std::chrono::hours(1)}};
  int64_t wall = kWall;
  TurnOptions options = [] {
    TurnOptions o;
    o.secret = kSecret;
    return o;
  }();
  PeerPolicy policy;
  FakeIo io{now};
  AllocationBudget budget;
  TurnStats stats;
  std::unique_ptr<TurnServer> server;
  ClientKey client{ClientTransport::Udp, 0, Address::v4({198, 51, 100, 7}, 40000)};
  TurnCredential cred = makeTurnCredential(kSecret, "alice", kWall, 3600);
  std::string nonce;
  uint8_t nextTid = 1;

  // Sends one request (with credentials unless `auth` is false) and returns the raw answer.
  std::vector<uint8_t> request(Method method, const std::function<void(StunBuilder&)>& attrs, bool auth = true,
                               const ClientKey* from = nullptr, const TurnCredential* c = nullptr,
                               std::optional<TransactionId> tid = std::nullopt) {
    auto reply = requestOnce(method, attrs, auth, from, c, tid);
    // Like a real client: on 438 take the fresh nonce and try once more (RFC 8489 §9.2.5).
    if (auth && codeOf(reply) == 438) {
      nonce = std::string(*StunMessage::parse(reply)->nonce());
      reply = requestOnce(method, attrs, auth, from, c, tid);
    }
    return reply;
  }

  std::vector<uint8_t> requestOnce(Method method, const std::function<void(StunBuilder&)>& attrs, bool auth,
                                   const ClientKey* from, const TurnCredential* c,
                                   std::optional<TransactionId> tid) {
    const ClientKey& k = from ? *from : client;
    const TurnCredential& credential = c ? *c : cred;
    std::array<uint8_t, 1500> buf{};
    ByteWriter w(buf);
    StunBuilder b(w, method, MessageClass::Request, tid ? *tid : tidOf(nextTid++));
    if (attrs) attrs(b);
    if (auth) {
      if (nonce.empty()) fetchNonce(k);
      b.addUsername(credential.username);
      b.addRealm("meeting");
      b.addNonce(nonce);
      auto key = turnLongTermKey(credential.username, "meeting", credential.password);
      b.addMessageIntegrity(key);
    }
    b.addFingerprint();
    EXPECT_TRUE(b.ok());
    io.toClient.clear();
    server->handleClientPacket(k, b.message(), now, wall);
    if (io.toClient.empty()) return {};
    return io.toClient.back().bytes;
  }

  void fetchNonce(const ClientKey& k) {
    std::array<uint8_t, 100> buf{};
    ByteWriter w(buf);
    StunBuilder b(w, Method::Allocate, MessageClass::Request, tidOf(200));
    b.addRequestedTransport(TransportUdp);
    io.toClient.clear();
    server->handleClientPacket(k, b.message(), now, wall);
    ASSERT_EQ(io.toClient.size(), 1u);
    auto m = StunMessage::parse(io.toClient[0].bytes);
    ASSERT_TRUE(m && m->nonce());
    nonce = std::string(*m->nonce());
  }

  static uint16_t codeOf(const std::vector<uint8_t>& bytes) {
    auto m = StunMessage::parse(bytes);
    if (!m) return 1;
    if (classOf(m->type()) == MessageClass::SuccessResponse) return 0;
    auto e = m->errorCode();
    return e ? e->code : 2;
  }

  std::vector<uint8_t> allocate(const std::function<void(StunBuilder&)>& extra = nullptr,
                                const ClientKey* from = nullptr, const TurnCredential* c = nullptr) {
    return request(Method::Allocate, [&](StunBuilder& b) {
      b.addRequestedTransport(TransportUdp);
      if (extra) extra(b);
    }, true, from, c);
  }

  std::vector<uint8_t> permit(const Address& to) {
    return request(Method::CreatePermission, [&](StunBuilder& b) { b.addXorPeerAddress(to); });
  }
  std::vector<uint8_t> bind(uint16_t channel, const Address& to) {
    return request(Method::ChannelBind, [&](StunBuilder& b) {
      b.addChannelNumber(channel);
      b.addXorPeerAddress(to);
    });
  }
  void sendIndication(const Address& to, std::span<const uint8_t> data) {
    std::array<uint8_t, 1500> buf{};
    ByteWriter w(buf);
    StunBuilder b(w, Method::Send, MessageClass::Indication, tidOf(99));
    b.addXorPeerAddress(to);
    b.addData(data);
    server->handleClientPacket(client, b.message(), now, wall);
  }
  void channelData(uint16_t channel, std::span<const uint8_t> data) {
    std::array<uint8_t, 1500> buf{};
    ByteWriter w(buf);
    ASSERT_TRUE(writeChannelData(w, channel, data, false));
    server->handleClientPacket(client, w.written(), now, wall);
  }
  // Delivers a peer datagram to relay 1 and returns what the client got (empty if nothing).
  std::vector<uint8_t> fromPeer(const Address& from, std::span<const uint8_t> payload, uint32_t relay = 1) {
    std::array<uint8_t, 1600> buf{};
    std::copy(payload.begin(), payload.end(), buf.begin() + TurnServer::PeerHeadroom);
    io.toClient.clear();
    server->handlePeerPacket(relay, from, buf, TurnServer::PeerHeadroom, payload.size(), now);
    if (io.toClient.empty()) return {};
    return io.toClient.back().bytes;
  }
  void advance(Duration d) { now += d; }

  const Address peer = Address::v4({198, 51, 100, 20}, 3480);
  const std::vector<uint8_t> hello = {'h', 'e', 'l', 'l', 'o'};
};

TEST_F(TurnServerTest, BindingAnswersWithMappedAddress) {
  auto reply = request(Method::Binding, nullptr, false);
  auto m = StunMessage::parse(reply);
  ASSERT_TRUE(m);
  EXPECT_EQ(classOf(m->type()), MessageClass::SuccessResponse);
  ASSERT_TRUE(m->xorMappedAddress());
  EXPECT_EQ(*m->xorMappedAddress(), client.remote);
  EXPECT_TRUE(verifyFingerprint(*m));
  EXPECT_EQ(m->software(), "meeting-turn");
}

TEST_F(TurnServerTest, AllocateWithoutCredentialsGets401WithRealmAndNonce) {
  auto reply = request(Method::Allocate, [](StunBuilder& b) { b.addRequestedTransport(TransportUdp); }, false);
  auto m = StunMessage::parse(reply);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->errorCode()->code, 401);
  EXPECT_EQ(m->realm(), "meeting");
  ASSERT_TRUE(m->nonce());
  EXPECT_EQ(m->nonce()->size(), NonceService::NonceSize);
  EXPECT_EQ(server->allocationCount(), 0u);
}

TEST_F(TurnServerTest, AllocateSucceedsWithRestCredentials) {
  auto reply = allocate();
  auto m = StunMessage::parse(reply);
  ASSERT_TRUE(m);
  ASSERT_EQ(classOf(m->type()), MessageClass::SuccessResponse);
  ASSERT_TRUE(m->xorRelayedAddress());
  EXPECT_EQ(m->xorRelayedAddress()->port, 50000);
  EXPECT_EQ(m->lifetime(), 600u);
  EXPECT_EQ(*m->xorMappedAddress(), client.remote);
  auto key = turnLongTermKey(cred.username, "meeting", cred.password);
  EXPECT_TRUE(verifyMessageIntegrity(*m, key));
  EXPECT_TRUE(verifyFingerprint(*m));
  EXPECT_EQ(server->allocationCount(), 1u);
  EXPECT_EQ(stats.allocationsCreated.value(), 1u);
}

TEST_F(TurnServerTest, WrongSecretIsRefusedWith401) {
  TurnCredential bad = makeTurnCredential("wrong-secret", "alice", kWall, 3600);
  EXPECT_EQ(codeOf(allocate(nullptr, nullptr, &bad)), 401);
  EXPECT_EQ(stats.authFailures.value(), 1u);
  EXPECT_EQ(server->allocationCount(), 0u);
}

TEST_F(TurnServerTest, ExpiredCredentialsAreRefused) {
  TurnCredential old = makeTurnCredential(kSecret, "alice", kWall - 7200, 3600);
  EXPECT_EQ(codeOf(allocate(nullptr, nullptr, &old)), 401);
  EXPECT_EQ(stats.authFailures.value(), 1u);
}

TEST_F(TurnServerTest, WrongRealmIsRefused) {
  options.realm = "other";
  rebuild();
  EXPECT_EQ(codeOf(allocate()), 401);  // the client signs with realm "meeting"
}

TEST_F(TurnServerTest, StaleNonceGets438WithAFreshOne) {
  ASSERT_EQ(codeOf(allocate()), 0);
  advance(options.nonceLifetime + std::chrono::seconds(1));
  auto reply = requestOnce(Method::Refresh, nullptr, true, nullptr, nullptr, std::nullopt);
  auto m = StunMessage::parse(reply);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->errorCode()->code, 438);
  ASSERT_TRUE(m->nonce());
  EXPECT_NE(*m->nonce(), nonce);
  nonce = std::string(*m->nonce());
  EXPECT_EQ(codeOf(request(Method::Refresh, nullptr)), 0);
}

TEST_F(TurnServerTest, ForgedNonceGets438) {
  nonce = std::string(NonceService::NonceSize, 'f');
  auto reply = requestOnce(Method::Allocate, [](StunBuilder& b) { b.addRequestedTransport(TransportUdp); }, true,
                           nullptr, nullptr, std::nullopt);
  EXPECT_EQ(codeOf(reply), 438);
}

TEST_F(TurnServerTest, SecondAllocateIs437ButRetransmissionIsAnswered) {
  const TransactionId tid = tidOf(77);
  auto first = request(Method::Allocate, [](StunBuilder& b) { b.addRequestedTransport(TransportUdp); }, true,
                       nullptr, nullptr, tid);
  ASSERT_EQ(codeOf(first), 0);
  auto again = request(Method::Allocate, [](StunBuilder& b) { b.addRequestedTransport(TransportUdp); }, true,
                       nullptr, nullptr, tid);
  EXPECT_EQ(codeOf(again), 0);
  EXPECT_EQ(codeOf(allocate()), 437);
  EXPECT_EQ(server->allocationCount(), 1u);
}

TEST_F(TurnServerTest, TransportChecks) {
  EXPECT_EQ(codeOf(request(Method::Allocate, nullptr)), 400);  // no REQUESTED-TRANSPORT
  // RFC 6062 §5.1: a TCP relay over a UDP control connection is 400; unknown transports 442.
  EXPECT_EQ(codeOf(request(Method::Allocate, [](StunBuilder& b) { b.addRequestedTransport(TransportTcp); })), 400);
  EXPECT_EQ(codeOf(request(Method::Allocate, [](StunBuilder& b) { b.addRequestedTransport(132); })), 442);
}

TEST_F(TurnServerTest, AddressFamilyChecks) {
  EXPECT_EQ(codeOf(allocate([](StunBuilder& b) { b.addRequestedAddressFamily(0x02); })), 440);
  EXPECT_EQ(codeOf(allocate([](StunBuilder& b) { b.addRequestedAddressFamily(0x03); })), 440);
  EXPECT_EQ(codeOf(allocate([](StunBuilder& b) { b.addRequestedAddressFamily(0x01); })), 0);
  // A v6 peer on a v4 relay: 443.
  Address v6peer = Address::v6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 9);
  EXPECT_EQ(codeOf(permit(v6peer)), 443);
  EXPECT_EQ(codeOf(request(Method::Refresh, [](StunBuilder& b) { b.addRequestedAddressFamily(0x02); })), 443);
}

TEST_F(TurnServerTest, ReservationTokenWithEvenPortIs400) {
  EXPECT_EQ(codeOf(allocate([](StunBuilder& b) {
              b.addEvenPort(false);
              b.addReservationToken(5);
            })),
            400);
}

TEST_F(TurnServerTest, EvenPortReservesTheNextPortForAToken) {
  auto reply = allocate([](StunBuilder& b) { b.addEvenPort(true); });
  auto m = StunMessage::parse(reply);
  ASSERT_TRUE(m);
  ASSERT_EQ(classOf(m->type()), MessageClass::SuccessResponse);
  EXPECT_EQ(m->xorRelayedAddress()->port % 2, 0);
  auto token = m->reservationToken();
  ASSERT_TRUE(token);
  const uint16_t evenPort = m->xorRelayedAddress()->port;
  ClientKey other{ClientTransport::Udp, 0, Address::v4({198, 51, 100, 8}, 40000)};
  auto second = request(Method::Allocate, [&](StunBuilder& b) {
    b.addRequestedTransport(TransportUdp);
    b.addReservationToken(*token);
  }, true, &other);
  auto m2 = StunMessage::parse(second);
  ASSERT_TRUE(m2);
  ASSERT_EQ(classOf(m2->type()), MessageClass::SuccessResponse);
  EXPECT_EQ(m2->xorRelayedAddress()->port, evenPort + 1);
}

TEST_F(TurnServerTest, UnknownComprehensionRequiredAttributeGets420) {
  auto reply = request(Method::Allocate, [](StunBuilder& b) {
    b.addRequestedTransport(TransportUdp);
    const uint8_t v[4] = {};
    b.addAttribute(0x7F01, v);
  }, false);
  auto m = StunMessage::parse(reply);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->errorCode()->code, 420);
  std::array<uint16_t, 4> types{};
  ASSERT_EQ(m->unknownAttributes(types), 1u);
  EXPECT_EQ(types[0], 0x7F01);
}

TEST_F(TurnServerTest, RequestsWithoutAllocationAre437) {
  EXPECT_EQ(codeOf(request(Method::Refresh, nullptr)), 437);
  EXPECT_EQ(codeOf(permit(peer)), 437);
  EXPECT_EQ(codeOf(bind(0x4000, peer)), 437);
}

TEST_F(TurnServerTest, OtherUsernameOnAllocationIs441) {
  ASSERT_EQ(codeOf(allocate()), 0);
  TurnCredential bob = makeTurnCredential(kSecret, "bob", kWall, 3600);
  EXPECT_EQ(codeOf(request(Method::Refresh, nullptr, true, nullptr, &bob)), 441);
}

TEST_F(TurnServerTest, PermissionsExpireAfterFiveMinutes) {
  ASSERT_EQ(codeOf(allocate()), 0);
  sendIndication(peer, hello);
  EXPECT_TRUE(io.toPeer.empty());  // no permission yet
  EXPECT_TRUE(fromPeer(peer, hello).empty());
  ASSERT_EQ(codeOf(permit(peer)), 0);
  sendIndication(peer, hello);
  ASSERT_EQ(io.toPeer.size(), 1u);
  EXPECT_EQ(io.toPeer[0].peer, peer);
  EXPECT_EQ(io.toPeer[0].bytes, hello);
  // A peer with the same IP but another port is covered (permissions ignore ports).
  Address samePeerOtherPort = peer;
  samePeerOtherPort.port = 9;
  auto data = fromPeer(samePeerOtherPort, hello);
  auto m = StunMessage::parse(data);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type(), messageType(Method::Data, MessageClass::Indication));
  EXPECT_EQ(*m->xorPeerAddress(), samePeerOtherPort);
  ASSERT_TRUE(m->data());
  EXPECT_TRUE(std::equal(hello.begin(), hello.end(), m->data()->begin(), m->data()->end()));

  advance(std::chrono::seconds(299));
  sendIndication(peer, hello);
  EXPECT_EQ(io.toPeer.size(), 2u);
  advance(std::chrono::seconds(2));
  sendIndication(peer, hello);
  EXPECT_EQ(io.toPeer.size(), 2u);  // expired at 300 s
  EXPECT_TRUE(fromPeer(peer, hello).empty());
}

TEST_F(TurnServerTest, PeerPolicyRefusesLoopbackAndPrivateUnlessAllowed) {
  ASSERT_EQ(codeOf(allocate()), 0);
  EXPECT_EQ(codeOf(permit(Address::v4({127, 0, 0, 1}, 3480))), 403);
  EXPECT_EQ(codeOf(permit(Address::v4({10, 1, 2, 3}, 3480))), 403);
  EXPECT_EQ(codeOf(bind(0x4001, Address::v4({192, 168, 1, 1}, 3480))), 403);
  EXPECT_EQ(stats.peerRefused.value(), 3u);
  policy.setAllowLoopback(true);
  EXPECT_EQ(codeOf(permit(Address::v4({127, 0, 0, 1}, 3480))), 0);
}

TEST_F(TurnServerTest, ChannelBindRelaysBothWaysAndExpiresAfterTenMinutes) {
  ASSERT_EQ(codeOf(allocate()), 0);
  ASSERT_EQ(codeOf(bind(0x4000, peer)), 0);  // also installs the permission
  channelData(0x4000, hello);
  ASSERT_EQ(io.toPeer.size(), 1u);
  EXPECT_EQ(io.toPeer[0].bytes, hello);
  auto framed = fromPeer(peer, hello);
  auto cd = parseChannelData(framed);
  ASSERT_TRUE(cd);
  EXPECT_EQ(cd->channel, 0x4000);
  EXPECT_EQ(framed.size(), 4u + hello.size());  // no padding over UDP
  // Keep the permission alive by refreshing it; the channel itself is not refreshed.
  advance(std::chrono::seconds(240));
  ASSERT_EQ(codeOf(permit(peer)), 0);
  advance(std::chrono::seconds(240));
  ASSERT_EQ(codeOf(permit(peer)), 0);
  advance(std::chrono::seconds(121));  // 601 s after the bind
  channelData(0x4000, hello);
  EXPECT_EQ(io.toPeer.size(), 1u);  // unbound: dropped
  auto data = fromPeer(peer, hello);  // now a Data indication
  auto m = StunMessage::parse(data);
  ASSERT_TRUE(m);
  EXPECT_EQ(methodOf(m->type()), Method::Data);
  // RFC 8656 §12: the number cannot go to another peer during the cooldown, but may be re-bound
  // to the same peer.
  Address other = Address::v4({198, 51, 100, 21}, 3480);
  EXPECT_EQ(codeOf(bind(0x4000, other)), 400);
  EXPECT_EQ(codeOf(bind(0x4000, peer)), 0);
}

TEST_F(TurnServerTest, ChannelRules) {
  ASSERT_EQ(codeOf(allocate()), 0);
  EXPECT_EQ(codeOf(bind(0x3FFF, peer)), 400);
  EXPECT_EQ(codeOf(bind(0x8000, peer)), 400);
  EXPECT_EQ(codeOf(bind(0x7FFF, Address::v4({198, 51, 100, 30}, 1))), 0);  // RFC 5766 range, as coturn
  ASSERT_EQ(codeOf(bind(0x4000, peer)), 0);
  EXPECT_EQ(codeOf(bind(0x4001, peer)), 400);  // peer already on another channel
  EXPECT_EQ(codeOf(bind(0x4000, peer)), 0);    // refresh
}

TEST_F(TurnServerTest, ChannelDataOverTcpIsPadded) {
  ClientKey tcp{ClientTransport::Tcp, 7, Address::v4({198, 51, 100, 7}, 40001)};
  client = tcp;
  ASSERT_EQ(codeOf(allocate()), 0);
  ASSERT_EQ(codeOf(bind(0x4005, peer)), 0);
  auto framed = fromPeer(peer, hello);
  EXPECT_EQ(framed.size(), 12u);  // 4 + 5 padded to 8
  auto cd = parseChannelData(framed);
  ASSERT_TRUE(cd);
  EXPECT_EQ(cd->payload.size(), hello.size());
  server->clientClosed(tcp);
  EXPECT_EQ(server->allocationCount(), 0u);
  EXPECT_EQ(io.closed.size(), 1u);
}

TEST_F(TurnServerTest, RefreshExtendsAndZeroDeletes) {
  ASSERT_EQ(codeOf(allocate()), 0);
  auto reply = request(Method::Refresh, [](StunBuilder& b) { b.addLifetime(100000); });
  auto m = StunMessage::parse(reply);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->lifetime(), 3600u);  // capped
  advance(std::chrono::seconds(3000));
  server->expire(now);
  EXPECT_EQ(server->allocationCount(), 1u);
  EXPECT_EQ(codeOf(request(Method::Refresh, [](StunBuilder& b) { b.addLifetime(0); })), 0);
  EXPECT_EQ(server->allocationCount(), 0u);
  EXPECT_EQ(io.closed, std::vector<uint32_t>{1});
  EXPECT_EQ(budget.total(), 0u);
}

TEST_F(TurnServerTest, AllocationsExpire) {
  ASSERT_EQ(codeOf(allocate([](StunBuilder& b) { b.addLifetime(30); })), 0);  // raised to 600
  advance(std::chrono::seconds(599));
  server->expire(now);
  EXPECT_EQ(server->allocationCount(), 1u);
  advance(std::chrono::seconds(1));
  server->expire(now);
  EXPECT_EQ(server->allocationCount(), 0u);
  EXPECT_EQ(stats.allocationsDeleted.value(), 1u);
  EXPECT_EQ(stats.activeAllocations.load(), 0u);
}

TEST_F(TurnServerTest, PerUserQuotaIs486AndTotalCapacity508) {
  options.maxAllocationsPerUser = 2;
  options.maxAllocationsTotal = 3;
  rebuild();
  auto from = [](uint16_t port) { return ClientKey{ClientTransport::Udp, 0, Address::v4({198, 51, 100, 7}, port)}; };
  ClientKey a = from(1), b = from(2), c = from(3), d = from(4);
  EXPECT_EQ(codeOf(allocate(nullptr, &a)), 0);
  EXPECT_EQ(codeOf(allocate(nullptr, &b)), 0);
  EXPECT_EQ(codeOf(allocate(nullptr, &c)), 486);
  // Fresh credentials for the same user do not reset the quota.
  TurnCredential later = makeTurnCredential(kSecret, "alice", kWall + 10, 3600);
  EXPECT_EQ(codeOf(allocate(nullptr, &c, &later)), 486);
  TurnCredential bob = makeTurnCredential(kSecret, "bob", kWall, 3600);
  EXPECT_EQ(codeOf(allocate(nullptr, &c, &bob)), 0);
  EXPECT_EQ(codeOf(allocate(nullptr, &d, &bob)), 508);
}

TEST_F(TurnServerTest, RelayPortExhaustionIs508) {
  for (uint16_t i = 0; i < 10; ++i) {
    ClientKey k{ClientTransport::Udp, 0, Address::v4({198, 51, 100, static_cast<uint8_t>(i)}, 1)};
    TurnCredential c = makeTurnCredential(kSecret, "u" + std::to_string(i), kWall, 3600);
    ASSERT_EQ(codeOf(allocate(nullptr, &k, &c)), 0);
  }
  ClientKey k{ClientTransport::Udp, 0, Address::v4({198, 51, 100, 99}, 1)};
  TurnCredential c = makeTurnCredential(kSecret, "x", kWall, 3600);
  EXPECT_EQ(codeOf(allocate(nullptr, &k, &c)), 508);
  EXPECT_EQ(budget.total(), 10u);
}

TEST_F(TurnServerTest, UnauthorizedFloodIsRateLimited) {
  size_t answered = 0;
  for (int i = 0; i < 200; ++i) {
    if (!request(Method::Allocate, [](StunBuilder& b) { b.addRequestedTransport(TransportUdp); }, false).empty()) {
      ++answered;
    }
  }
  EXPECT_EQ(answered, 2u * options.unauthorizedPerSecond);
  EXPECT_EQ(stats.unauthorizedDropped.value(), 200u - answered);
  advance(std::chrono::seconds(1));
  EXPECT_FALSE(request(Method::Allocate, nullptr, false).empty());
  // Another source address has its own budget.
  ClientKey other{ClientTransport::Udp, 0, Address::v4({198, 51, 100, 99}, 1)};
  EXPECT_FALSE(request(Method::Allocate, nullptr, false, &other).empty());
}

TEST_F(TurnServerTest, BandwidthLimitDropsExcess) {
  options.bandwidthBytesPerSecond = 1000;
  rebuild();
  ASSERT_EQ(codeOf(allocate()), 0);
  ASSERT_EQ(codeOf(bind(0x4000, peer)), 0);
  std::vector<uint8_t> big(400, 1);
  for (int i = 0; i < 5; ++i) channelData(0x4000, big);
  EXPECT_EQ(io.toPeer.size(), 2u);
  EXPECT_EQ(stats.droppedBandwidth.value(), 3u);
  advance(std::chrono::milliseconds(500));
  channelData(0x4000, big);
  EXPECT_EQ(io.toPeer.size(), 3u);
}

TEST_F(TurnServerTest, GarbageIsIgnored) {
  const uint8_t junk[] = {0x00, 0x01, 0x00, 0x08, 1, 2, 3};
  server->handleClientPacket(client, junk, now, wall);
  const uint8_t cd[] = {0x40, 0x00, 0x00, 0x10, 1};
  server->handleClientPacket(client, cd, now, wall);
  const uint8_t other[] = {0x80, 0x00};
  server->handleClientPacket(client, other, now, wall);
  EXPECT_TRUE(io.toClient.empty());
  EXPECT_EQ(stats.malformed.value(), 3u);
  std::array<uint8_t, 80> buf{};
  server->handlePeerPacket(42, peer, buf, TurnServer::PeerHeadroom, 4, now);  // unknown relay
  server->handlePeerPacket(1, peer, buf, 10, 4, now);                         // no headroom
  EXPECT_TRUE(io.toClient.empty());
}

}  // namespace
}  // namespace meeting::turn::test
