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
#include <thread>

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

int connectTo(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = loopback(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// A listening TCP "peer" on 127.0.0.1.
struct PeerListener {
  PeerListener() {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(0);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd, 8);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
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
  auto attempt = StunMessage::parse(readStun(control));
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

}  // namespace
}  // namespace meeting::turn
