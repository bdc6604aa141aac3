// RFC 6062 end to end on loopback: a TurnRuntime with two workers (so a data connection may land
// on another worker than its allocation), a real TCP peer, a client control connection and data
// connections speaking STUN over plain sockets.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <thread>

#include "common/Clock.hpp"
#include "common/TurnCredentials.hpp"
#include "proto/stun/Stun.hpp"
#include "turn/TurnService.hpp"

namespace meeting::turn {
namespace {

using namespace std::chrono_literals;
using namespace proto::stun;

constexpr const char* kSecret = "tcp-relay-secret";

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

sockaddr_in6 loopback6(uint16_t port) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  a.sin6_addr = in6addr_loopback;
  return a;
}

int connectTo(uint16_t port, bool v6 = false) {
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = loopback(port);
  sockaddr_in6 a6 = loopback6(port);
  int r = v6 ? connect(fd, reinterpret_cast<sockaddr*>(&a6), sizeof a6) : connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  if (r != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t localPort(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port)
                                 : ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

// A listening TCP "peer" on 127.0.0.1 (or ::1).
struct PeerListener {
  explicit PeerListener(bool v6 = false) {
    fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(0);
    sockaddr_in6 a6 = loopback6(0);
    if (v6) bind(fd, reinterpret_cast<sockaddr*>(&a6), sizeof a6);
    else bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd, 8);
    port = localPort(fd);
  }
  ~PeerListener() { close(fd); }
  int accept(std::chrono::milliseconds limit) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(limit.count())) <= 0) return -1;
    return ::accept(fd, nullptr, nullptr);
  }
  int fd = -1;
  uint16_t port = 0;
};

bool readExact(int fd, uint8_t* p, size_t n, std::chrono::milliseconds limit = 5s) {
  size_t got = 0;
  while (got < n) {
    pollfd pf{fd, POLLIN, 0};
    if (poll(&pf, 1, static_cast<int>(limit.count())) <= 0) return false;
    ssize_t r = recv(fd, p + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

bool writeAll(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

std::vector<uint8_t> readStun(int fd) {
  std::vector<uint8_t> out(20);
  if (!readExact(fd, out.data(), 20)) return {};
  size_t body = (size_t{out[2]} << 8) | out[3];
  out.resize(20 + body);
  if (!readExact(fd, out.data() + 20, body)) return {};
  return out;
}

// True when the other side closed (EOF) within `limit`, after any bytes still in flight.
bool seesEof(int fd, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  uint8_t b[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t r = recv(fd, b, sizeof b, 0);
    if (r <= 0) return true;
  }
  return false;
}

class TurnTcpRelayTest : public ::testing::Test {
 protected:
  virtual void adjust(TurnRuntimeOptions&) {}

  void SetUp() override {
    Config config;
    config.secret = kSecret;
    config.ip = "127.0.0.1";
    config.turnIface = "127.0.0.1";
    config.turnAllowLoopbackPeers = true;
    config.turnWorkers = 2;
    config.turnRelayPortMin = 63300;
    config.turnRelayPortMax = 63399;
    auto options = runtimeOptionsFromConfig(config);
    ASSERT_TRUE(options) << options.error().message;
    options->port = 0;
    adjust(*options);
    auto r = runtime_.start(*options);
    ASSERT_TRUE(r) << r.error().message;
    cred_ = makeTurnCredential(kSecret, "tcp-user", std::time(nullptr), 3600);
  }

  // Sends a request on `fd` (signed once a nonce is known) and returns the answer to it, skipping
  // indications; `indications` receives those.
  std::optional<StunMessage> call(int fd, Method method, const std::function<void(StunBuilder&)>& attrs,
                                  std::vector<std::vector<uint8_t>>* indications = nullptr) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::array<uint8_t, 512> buf{};
      ByteWriter w(buf);
      TransactionId tid{};
      tid.fill(static_cast<uint8_t>(++tid_));
      StunBuilder b(w, method, MessageClass::Request, tid);
      if (attrs) attrs(b);
      if (!nonce_.empty()) {
        b.addUsername(cred_.username);
        b.addRealm("meeting");
        b.addNonce(nonce_);
        b.addMessageIntegrity(turnLongTermKey(cred_.username, "meeting", cred_.password));
      }
      b.addFingerprint();
      if (!writeAll(fd, b.message().data(), b.message().size())) return std::nullopt;
      for (;;) {
        last_ = readStun(fd);
        auto m = StunMessage::parse(last_);
        if (!m) return std::nullopt;
        if (classOf(m->type()) == MessageClass::Indication) {
          if (indications) indications->push_back(last_);
          continue;
        }
        if (classOf(m->type()) == MessageClass::ErrorResponse && m->errorCode() &&
            (m->errorCode()->code == 401 || m->errorCode()->code == 438) && m->nonce() && attempt == 0) {
          nonce_ = std::string(*m->nonce());
          break;  // again, signed
        }
        return m;
      }
    }
    return std::nullopt;
  }

  static bool success(const std::optional<StunMessage>& m) {
    return m && classOf(m->type()) == MessageClass::SuccessResponse;
  }

  // A control connection with a TCP allocation and a permission for 127.0.0.1; returns its fd.
  int controlWithAllocation(Address* relayed = nullptr) {
    int fd = connectTo(runtime_.port());
    EXPECT_GE(fd, 0);
    auto a = call(fd, Method::Allocate, [](StunBuilder& b) { b.addRequestedTransport(TransportTcp); });
    EXPECT_TRUE(success(a));
    if (a && relayed) *relayed = a->xorRelayedAddress().value_or(Address{});
    auto p = call(fd, Method::CreatePermission, [](StunBuilder& b) { b.addXorPeerAddress(Address::v4({127, 0, 0, 1}, 0)); });
    EXPECT_TRUE(success(p));
    return fd;
  }

  // A data connection bound to `id`; -1 if the bind failed.
  int bindData(uint32_t id, uint16_t* code = nullptr) {
    int fd = connectTo(runtime_.port());
    auto m = call(fd, Method::ConnectionBind, [id](StunBuilder& b) { b.addConnectionId(id); });
    if (code) *code = m && m->errorCode() ? m->errorCode()->code : 0;
    if (!success(m)) {
      close(fd);
      return -1;
    }
    return fd;
  }

  // 1 MiB each way at once; the receivers start late so both directions fill up (backpressure).
  static void exchange(int client, int peer) {
    constexpr size_t Size = 1 << 20;
    std::vector<uint8_t> up(Size), down(Size);
    for (size_t i = 0; i < Size; ++i) {
      up[i] = static_cast<uint8_t>(i * 7 + (i >> 12));
      down[i] = static_cast<uint8_t>(i * 13 + (i >> 10) + 1);
    }
    bool upSent = false, downSent = false;
    std::thread a([&] { upSent = writeAll(client, up.data(), up.size()); });
    std::thread b([&] { downSent = writeAll(peer, down.data(), down.size()); });
    std::this_thread::sleep_for(300ms);
    std::vector<uint8_t> gotUp(Size), gotDown(Size);
    bool upOk = false, downOk = false;
    std::thread c([&] { upOk = readExact(peer, gotUp.data(), Size, 10s); });
    std::thread d([&] { downOk = readExact(client, gotDown.data(), Size, 10s); });
    a.join();
    b.join();
    c.join();
    d.join();
    EXPECT_TRUE(upSent && downSent);
    EXPECT_TRUE(upOk && downOk);
    EXPECT_TRUE(gotUp == up);
    EXPECT_TRUE(gotDown == down);
  }

  uint64_t sum(const std::function<uint64_t(const TurnStats&)>& f) const {
    uint64_t n = 0;
    for (const auto& s : runtime_.stats()) n += f(*s);
    return n;
  }

  std::unique_ptr<ManualClock> manual_;  // before runtime_: outlives the workers using it
  TurnRuntime runtime_;
  TurnCredential cred_;
  std::string nonce_;
  std::vector<uint8_t> last_;
  int tid_ = 0;
};

TEST_F(TurnTcpRelayTest, ConnectThenBindRelaysBothWaysWithBackpressure) {
  PeerListener listener;
  int control = controlWithAllocation();
  auto c = call(control, Method::Connect, [&](StunBuilder& b) { b.addXorPeerAddress(Address::v4({127, 0, 0, 1}, listener.port)); });
  ASSERT_TRUE(success(c)) << (c && c->errorCode() ? c->errorCode()->code : 0);
  ASSERT_TRUE(c->connectionId());
  int peer = listener.accept(2s);
  ASSERT_GE(peer, 0);
  // Bytes the peer sends before the bind are delivered after it (RFC 6062 §5.4).
  const uint8_t early[] = "early bytes";
  ASSERT_TRUE(writeAll(peer, early, sizeof early));
  // Several data connections: with two workers some land on the other worker.
  int data = bindData(*c->connectionId());
  ASSERT_GE(data, 0);
  uint8_t got[sizeof early];
  ASSERT_TRUE(readExact(data, got, sizeof got));
  EXPECT_EQ(std::memcmp(got, early, sizeof early), 0);
  exchange(data, peer);
  EXPECT_GE(sum([](const TurnStats& s) { return s.splicedBytesToPeer.value(); }), 1u << 20);
  EXPECT_EQ(sum([](const TurnStats& s) { return s.tcpBound.value(); }), 1u);
  // A second bind of the same id is refused.
  uint16_t code = 0;
  EXPECT_LT(bindData(*c->connectionId(), &code), 0);
  EXPECT_EQ(code, 400);
  // Close propagation: the peer closes -> the client sees the end, and the other way.
  shutdown(peer, SHUT_WR);
  EXPECT_TRUE(seesEof(data, 3s));
  close(data);
  EXPECT_TRUE(seesEof(peer, 3s));
  close(peer);
  for (int i = 0; i < 50 && runtime_.load().tcpConnections != 0; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(runtime_.load().tcpConnections, 0u);
  close(control);
}

TEST_F(TurnTcpRelayTest, PeerInitiatedConnectionIsOfferedAndBound) {
  Address relayed;
  int control = controlWithAllocation(&relayed);
  ASSERT_NE(relayed.port, 0);
  // The peer connects to the relayed address; the client hears of it on the control connection.
  int peer = connectTo(relayed.port);
  ASSERT_GE(peer, 0);
  const auto attemptBytes = readStun(control);  // the parsed message views these bytes
  auto attempt = StunMessage::parse(attemptBytes);
  ASSERT_TRUE(attempt);
  EXPECT_EQ(methodOf(attempt->type()), Method::ConnectionAttempt);
  ASSERT_TRUE(attempt->connectionId());
  ASSERT_TRUE(attempt->xorPeerAddress());
  EXPECT_EQ(attempt->xorPeerAddress()->port, 0 + [&] {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(peer, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
  }());
  int data = bindData(*attempt->connectionId());
  ASSERT_GE(data, 0);
  exchange(data, peer);
  // Deleting the allocation (its control connection closes) closes its data connections.
  close(control);
  EXPECT_TRUE(seesEof(data, 3s));
  EXPECT_TRUE(seesEof(peer, 3s));
  close(data);
  close(peer);
}

TEST_F(TurnTcpRelayTest, ConnectToAClosedPortIs447AndLoopbackNeedsThePermissionToBeAccepted) {
  uint16_t closedPort = 0;
  {
    PeerListener gone;
    closedPort = gone.port;
  }
  int control = controlWithAllocation();
  auto c = call(control, Method::Connect, [&](StunBuilder& b) { b.addXorPeerAddress(Address::v4({127, 0, 0, 1}, closedPort)); });
  ASSERT_TRUE(c && c->errorCode());
  EXPECT_EQ(c->errorCode()->code, 447);
  // A bind to an id nobody handed out.
  uint16_t code = 0;
  EXPECT_LT(bindData(0x01ABCDEF, &code), 0);
  EXPECT_EQ(code, 400);
  close(control);
}

TEST_F(TurnTcpRelayTest, PeerWithoutPermissionIsClosed) {
  int control = connectTo(runtime_.port());
  auto a = call(control, Method::Allocate, [](StunBuilder& b) { b.addRequestedTransport(TransportTcp); });
  ASSERT_TRUE(success(a));
  int peer = connectTo(a->xorRelayedAddress()->port);
  ASSERT_GE(peer, 0);
  EXPECT_TRUE(seesEof(peer, 3s));
  EXPECT_EQ(sum([](const TurnStats& s) { return s.tcpPeerRefused.value(); }), 1u);
  close(peer);
  close(control);
}

// ---- ConnectionBind on another worker than the allocation's ----

// Opens TCP connections to the TURN port until the kernel hands one to a worker for which
// `wanted(worker)` holds (SO_REUSEPORT spreads them by 4-tuple hash); returns it, or -1.
int connectLandingOn(TurnRuntime& runtime, const std::function<bool(size_t)>& wanted) {
  const auto& stats = runtime.stats();
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::vector<uint64_t> before;
    for (const auto& s : stats) before.push_back(s->streamsAccepted.value());
    int fd = connectTo(runtime.port());
    if (fd < 0) return -1;
    std::optional<size_t> landed;
    for (int i = 0; i < 200 && !landed; ++i) {
      for (size_t w = 0; w < stats.size(); ++w) {
        if (stats[w]->streamsAccepted.value() != before[w]) landed = w;
      }
      if (!landed) std::this_thread::sleep_for(10ms);
    }
    if (landed && wanted(*landed)) return fd;
    close(fd);
  }
  return -1;
}

TEST_F(TurnTcpRelayTest, ConnectionBindOnAnotherWorkerIsHandedOverToTheOwner) {
  ASSERT_EQ(runtime_.stats().size(), 2u);
  PeerListener listener;
  int control = controlWithAllocation();
  auto c = call(control, Method::Connect, [&](StunBuilder& b) { b.addXorPeerAddress(Address::v4({127, 0, 0, 1}, listener.port)); });
  ASSERT_TRUE(success(c) && c->connectionId());
  const uint32_t id = *c->connectionId();
  const size_t owner = TurnServer::connectionWorker(id);  // the id's top byte names the worker
  ASSERT_LT(owner, 2u);
  int peer = listener.accept(2s);
  ASSERT_GE(peer, 0);
  // Forced: the data connection is one the kernel gave to the worker that does not hold it.
  int data = connectLandingOn(runtime_, [owner](size_t w) { return w != owner; });
  ASSERT_GE(data, 0) << "no connection landed on the other worker in 64 tries";
  auto bound = call(data, Method::ConnectionBind, [id](StunBuilder& b) { b.addConnectionId(id); });
  ASSERT_TRUE(success(bound));
  const auto& stats = runtime_.stats();
  EXPECT_EQ(stats[1 - owner]->tcpBindsHandedOver.value(), 1u);
  EXPECT_EQ(stats[owner]->tcpBindsHandedOver.value(), 0u);
  EXPECT_EQ(stats[owner]->tcpBound.value(), 1u);  // the owner's core marked it bound
  exchange(data, peer);
  EXPECT_GE(stats[1 - owner]->splicedBytesToPeer.value(), 1u << 20);  // spliced where it landed

  // The same on the owner itself: no hand-over.
  PeerListener listener2;
  auto c2 = call(control, Method::Connect, [&](StunBuilder& b) { b.addXorPeerAddress(Address::v4({127, 0, 0, 1}, listener2.port)); });
  ASSERT_TRUE(success(c2) && c2->connectionId());
  int peer2 = listener2.accept(2s);
  ASSERT_GE(peer2, 0);
  int data2 = connectLandingOn(runtime_, [owner](size_t w) { return w == owner; });
  ASSERT_GE(data2, 0);
  const uint32_t id2 = *c2->connectionId();
  ASSERT_TRUE(success(call(data2, Method::ConnectionBind, [id2](StunBuilder& b) { b.addConnectionId(id2); })));
  EXPECT_EQ(stats[owner]->tcpBindsHandedOver.value(), 0u);
  EXPECT_EQ(stats[1 - owner]->tcpBindsHandedOver.value(), 1u);
  exchange(data2, peer2);

  // Deleting the allocation closes the spliced connection on the other worker too.
  close(control);
  EXPECT_TRUE(seesEof(data, 3s));
  EXPECT_TRUE(seesEof(peer, 3s));
  EXPECT_TRUE(seesEof(data2, 3s));
  EXPECT_TRUE(seesEof(peer2, 3s));
  for (int fd : {data, peer, data2, peer2}) close(fd);
  for (int i = 0; i < 50 && runtime_.load().tcpConnections != 0; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(runtime_.load().tcpConnections, 0u);
}

// ---- timers with time driven by hand ----

class TurnTcpRelayTimersTest : public TurnTcpRelayTest {
 protected:
  static constexpr auto IdleTimeout = std::chrono::seconds(120);
  void adjust(TurnRuntimeOptions& o) override {
    // Wall time starts at the real time: the REST credentials and nonces check it.
    const int64_t wall = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
    manual_ = std::make_unique<ManualClock>(TimePoint{Duration{1'000'000}}, wall);
    o.clock = manual_.get();
    o.tcpRelayIdleTimeout = IdleTimeout;
  }
  void advance(Duration d) {
    manual_->advance(d);
    runtime_.runDueTimers();
  }
  // True when `fd` is still open: no EOF/reset within a short wait.
  static bool stillOpen(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 150) == 0) return true;
    uint8_t b;
    return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
  }
  // One byte each way through a bound relay (stamps its activity).
  static bool pingBothWays(int data, int peer) {
    uint8_t b = 0x5a, got = 0;
    return writeAll(data, &b, 1) && readExact(peer, &got, 1, 2s) && got == b && writeAll(peer, &b, 1) &&
           readExact(data, &got, 1, 2s) && got == b;
  }
};

TEST_F(TurnTcpRelayTimersTest, BoundConnectionIsClosedAfterTheIdleTimeoutAndKeptWhileUsed) {
  PeerListener listener;
  int control = controlWithAllocation();
  auto c = call(control, Method::Connect, [&](StunBuilder& b) { b.addXorPeerAddress(Address::v4({127, 0, 0, 1}, listener.port)); });
  ASSERT_TRUE(success(c) && c->connectionId());
  int peer = listener.accept(2s);
  ASSERT_GE(peer, 0);
  int data = bindData(*c->connectionId());
  ASSERT_GE(data, 0);
  ASSERT_TRUE(pingBothWays(data, peer));
  advance(IdleTimeout - 20s);  // 100 s idle
  ASSERT_TRUE(pingBothWays(data, peer));
  advance(IdleTimeout - 20s);  // 100 s since the last byte, 200 s since the bind
  ASSERT_TRUE(stillOpen(data) && stillOpen(peer));
  // Only client -> peer bytes count too.
  uint8_t b = 1;
  ASSERT_TRUE(writeAll(data, &b, 1) && readExact(peer, &b, 1, 2s));
  advance(IdleTimeout - 1s);
  EXPECT_TRUE(stillOpen(data) && stillOpen(peer));
  EXPECT_EQ(sum([](const TurnStats& s) { return s.tcpIdleClosed.value(); }), 0u);
  advance(2s);  // 121 s idle: both sides closed
  EXPECT_TRUE(seesEof(data, 3s));
  EXPECT_TRUE(seesEof(peer, 3s));
  EXPECT_EQ(sum([](const TurnStats& s) { return s.tcpIdleClosed.value(); }), 1u);
  for (int i = 0; i < 50 && runtime_.load().tcpConnections != 0; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(runtime_.load().tcpConnections, 0u);
  // The allocation (and its control connection) stays.
  EXPECT_EQ(runtime_.load().allocations, 1u);
  auto r = call(control, Method::Refresh, [](StunBuilder& bb) { bb.addLifetime(600); });
  EXPECT_TRUE(success(r));
  close(data);
  close(peer);
  close(control);
}

TEST_F(TurnTcpRelayTimersTest, UnboundConnectionsAreClosed30sAfterConnectOrConnectionAttempt) {
  // RFC 6062 §5.2/§5.4: after a successful Connect the client has 30 s to bind the connection.
  PeerListener listener;
  Address relayed;
  int control = controlWithAllocation(&relayed);
  auto c = call(control, Method::Connect, [&](StunBuilder& b) { b.addXorPeerAddress(Address::v4({127, 0, 0, 1}, listener.port)); });
  ASSERT_TRUE(success(c) && c->connectionId());
  int peer = listener.accept(2s);
  ASSERT_GE(peer, 0);
  // RFC 6062 §5.3: the same 30 s after a ConnectionAttempt for a peer that connected to the relay.
  int incoming = connectTo(relayed.port);
  ASSERT_GE(incoming, 0);
  const auto attemptBytes = readStun(control);  // the parsed message views these bytes
  auto attempt = StunMessage::parse(attemptBytes);
  ASSERT_TRUE(attempt && attempt->connectionId());
  EXPECT_EQ(methodOf(attempt->type()), Method::ConnectionAttempt);
  advance(29s);
  EXPECT_TRUE(stillOpen(peer));
  EXPECT_TRUE(stillOpen(incoming));
  EXPECT_EQ(sum([](const TurnStats& s) { return s.tcpBindTimeouts.value(); }), 0u);
  advance(2s);
  EXPECT_TRUE(seesEof(peer, 3s));
  EXPECT_TRUE(seesEof(incoming, 3s));
  EXPECT_EQ(sum([](const TurnStats& s) { return s.tcpBindTimeouts.value(); }), 2u);
  // Too late to bind either.
  uint16_t code = 0;
  EXPECT_LT(bindData(*c->connectionId(), &code), 0);
  EXPECT_EQ(code, 400);
  EXPECT_LT(bindData(*attempt->connectionId(), &code), 0);
  EXPECT_EQ(code, 400);
  EXPECT_EQ(runtime_.load().tcpConnections, 0u);
  close(peer);
  close(incoming);
  close(control);
}

// ---- IPv6 TCP relays (RFC 6156 REQUESTED-ADDRESS-FAMILY with RFC 6062) on ::1 ----

class TurnTcpRelayV6Test : public TurnTcpRelayTest {
 protected:
  static constexpr std::array<uint8_t, 16> Loopback6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  void adjust(TurnRuntimeOptions& o) override { o.announcedV6 = Address::v6(Loopback6, 0); }

  // A control connection (over IPv4) with an IPv6 TCP allocation and a permission for ::1.
  int controlWithV6Allocation(Address* relayed) {
    int fd = connectTo(runtime_.port());
    EXPECT_GE(fd, 0);
    auto a = call(fd, Method::Allocate, [](StunBuilder& b) {
      b.addRequestedTransport(TransportTcp);
      b.addRequestedAddressFamily(0x02);  // RFC 6156 §4.1.1: IPv6
    });
    EXPECT_TRUE(success(a)) << (a && a->errorCode() ? a->errorCode()->code : 0);
    if (a) *relayed = a->xorRelayedAddress().value_or(Address{});
    auto p = call(fd, Method::CreatePermission, [](StunBuilder& b) { b.addXorPeerAddress(Address::v6(Loopback6, 0)); });
    EXPECT_TRUE(success(p));
    return fd;
  }
};

TEST_F(TurnTcpRelayV6Test, ConnectAndConnectionAttemptOverIpv6Loopback) {
  Address relayed;
  int control = controlWithV6Allocation(&relayed);
  ASSERT_EQ(relayed.family, AddressFamily::IPv6);
  EXPECT_EQ(relayed.ip, Loopback6);
  ASSERT_NE(relayed.port, 0);

  // Client-initiated: Connect to [::1]:port; the peer sees the connection from the relayed port.
  PeerListener listener(true);
  auto c = call(control, Method::Connect, [&](StunBuilder& b) { b.addXorPeerAddress(Address::v6(Loopback6, listener.port)); });
  ASSERT_TRUE(success(c) && c->connectionId()) << (c && c->errorCode() ? c->errorCode()->code : 0);
  int peer = listener.accept(2s);
  ASSERT_GE(peer, 0);
  sockaddr_in6 from{};
  socklen_t len = sizeof from;
  getpeername(peer, reinterpret_cast<sockaddr*>(&from), &len);
  EXPECT_EQ(ntohs(from.sin6_port), relayed.port);  // RFC 6062 §5.2: from the relayed address
  int data = bindData(*c->connectionId());
  ASSERT_GE(data, 0);
  exchange(data, peer);

  // Peer-initiated: a peer connects to [::1]:relayed port -> ConnectionAttempt with its v6 address.
  int incoming = connectTo(relayed.port, true);
  ASSERT_GE(incoming, 0);
  const auto attemptBytes = readStun(control);  // the parsed message views these bytes
  auto attempt = StunMessage::parse(attemptBytes);
  ASSERT_TRUE(attempt && attempt->connectionId() && attempt->xorPeerAddress());
  EXPECT_EQ(methodOf(attempt->type()), Method::ConnectionAttempt);
  EXPECT_EQ(attempt->xorPeerAddress()->family, AddressFamily::IPv6);
  EXPECT_EQ(attempt->xorPeerAddress()->ip, Loopback6);
  EXPECT_EQ(attempt->xorPeerAddress()->port, localPort(incoming));
  int data2 = bindData(*attempt->connectionId());
  ASSERT_GE(data2, 0);
  exchange(data2, incoming);

  // An IPv4 peer on an IPv6 allocation: 443 (RFC 8656 §7.3 via RFC 6062 §5.2).
  PeerListener v4;
  auto wrong = call(control, Method::Connect, [&](StunBuilder& b) { b.addXorPeerAddress(Address::v4({127, 0, 0, 1}, v4.port)); });
  ASSERT_TRUE(wrong && wrong->errorCode());
  EXPECT_EQ(wrong->errorCode()->code, 443);

  close(control);
  EXPECT_TRUE(seesEof(data, 3s));
  EXPECT_TRUE(seesEof(incoming, 3s));
  for (int fd : {data, peer, data2, incoming}) close(fd);
}

}  // namespace
}  // namespace meeting::turn
