// TCP/TLS clients that hold no allocation: closed after the idle timeout, refused beyond the cap;
// a client with an allocation stays connected.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <thread>

#include "common/TurnCredentials.hpp"
#include "proto/stun/Stun.hpp"
#include "turn/TurnService.hpp"

namespace meeting::turn {
namespace {

using namespace std::chrono_literals;
using namespace proto::stun;

constexpr const char* kSecret = "streams-secret";

int connectTo(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// True when the server closed the connection within `limit` (EOF or reset).
bool closedWithin(int fd, std::chrono::milliseconds limit) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(limit.count())) <= 0) return false;
  uint8_t b[256];
  return recv(fd, b, sizeof b, 0) <= 0;
}

// Reads one STUN message (blocking, 2 s at most).
std::vector<uint8_t> readStun(int fd) {
  std::vector<uint8_t> out(20);
  auto readN = [&](uint8_t* p, size_t n) {
    size_t got = 0;
    while (got < n) {
      pollfd pf{fd, POLLIN, 0};
      if (poll(&pf, 1, 2000) <= 0) return false;
      ssize_t r = recv(fd, p + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    return true;
  };
  if (!readN(out.data(), 20)) return {};
  size_t body = (size_t{out[2]} << 8) | out[3];
  out.resize(20 + body);
  if (!readN(out.data() + 20, body)) return {};
  return out;
}

TransactionId tid(uint8_t n) {
  TransactionId t{};
  t.fill(n);
  return t;
}

// Allocate over the stream with REST credentials (401 first for the nonce); true on success.
bool allocateOver(int fd) {
  std::array<uint8_t, 512> buf{};
  {
    ByteWriter w(buf);
    StunBuilder b(w, Method::Allocate, MessageClass::Request, tid(1));
    b.addRequestedTransport(TransportUdp);
    b.addFingerprint();
    if (send(fd, b.message().data(), b.message().size(), 0) < 0) return false;
  }
  auto challenge = readStun(fd);
  auto parsed = StunMessage::parse(challenge);
  if (!parsed || !parsed->nonce()) return false;
  const std::string nonce(*parsed->nonce());
  auto cred = makeTurnCredential(kSecret, "stream-user", std::time(nullptr), 3600);
  ByteWriter w(buf);
  StunBuilder b(w, Method::Allocate, MessageClass::Request, tid(2));
  b.addRequestedTransport(TransportUdp);
  b.addUsername(cred.username);
  b.addRealm("meeting");
  b.addNonce(nonce);
  b.addMessageIntegrity(turnLongTermKey(cred.username, "meeting", cred.password));
  b.addFingerprint();
  if (send(fd, b.message().data(), b.message().size(), 0) < 0) return false;
  const auto bytes = readStun(fd);  // the parsed message views these bytes
  auto answer = StunMessage::parse(bytes);
  return answer && classOf(answer->type()) == MessageClass::SuccessResponse;
}

class TurnStreamsTest : public ::testing::Test {
 protected:
  void start(Duration idleTimeout, size_t cap) {
    Config config;
    config.secret = kSecret;
    config.ip = "127.0.0.1";
    config.turnIface = "127.0.0.1";
    config.turnWorkers = 1;
    config.turnRelayPortMin = 63100;
    config.turnRelayPortMax = 63199;
    auto options = runtimeOptionsFromConfig(config);
    ASSERT_TRUE(options) << options.error().message;
    options->port = 0;
    options->streamIdleTimeout = idleTimeout;
    options->maxIdleStreams = cap;
    auto r = runtime_.start(*options);
    ASSERT_TRUE(r) << r.error().message;
  }
  uint64_t idleClosed() const {
    uint64_t n = 0;
    for (const auto& s : runtime_.stats()) n += s->streamsIdleClosed.value();
    return n;
  }
  uint64_t refused() const {
    uint64_t n = 0;
    for (const auto& s : runtime_.stats()) n += s->streamsRefused.value();
    return n;
  }
  TurnRuntime runtime_;
};

TEST_F(TurnStreamsTest, ConnectionWithoutAllocationIsClosedAfterTheIdleTimeout) {
  start(1s, 16);
  int fd = connectTo(runtime_.port());
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(closedWithin(fd, 300ms));  // not at once
  // The check runs every second: closed between 1 and 2 s after connecting.
  EXPECT_TRUE(closedWithin(fd, 3s));
  EXPECT_EQ(idleClosed(), 1u);
  close(fd);
}

TEST_F(TurnStreamsTest, ConnectionWithAnAllocationStays) {
  start(1s, 16);
  int fd = connectTo(runtime_.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(allocateOver(fd));
  EXPECT_FALSE(closedWithin(fd, 2500ms));
  EXPECT_EQ(idleClosed(), 0u);
  EXPECT_EQ(runtime_.load().allocations, 1u);
  close(fd);
}

TEST_F(TurnStreamsTest, ConnectionsBeyondTheCapAreRefused) {
  start(30s, 2);
  int a = connectTo(runtime_.port());
  int b = connectTo(runtime_.port());
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  std::this_thread::sleep_for(200ms);  // both accepted
  int c = connectTo(runtime_.port());
  ASSERT_GE(c, 0);
  EXPECT_TRUE(closedWithin(c, 2s));
  EXPECT_FALSE(closedWithin(a, 100ms));
  EXPECT_EQ(refused(), 1u);
  // One of them allocating frees a place under the cap.
  ASSERT_TRUE(allocateOver(a));
  int d = connectTo(runtime_.port());
  ASSERT_GE(d, 0);
  EXPECT_FALSE(closedWithin(d, 300ms));
  for (int fd : {a, b, c, d}) close(fd);
}

}  // namespace
}  // namespace meeting::turn
