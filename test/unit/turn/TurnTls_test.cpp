// TURN over TLS with a client that reads the TLS stream as the byte stream it is (RFC 8656 §12.5
// framing, not one message per SSL_read as turnutils_uclient assumes): every ChannelData sent
// through the relay to a UDP echo peer comes back, in order, under a load where the server's
// writes coalesce. The client and server legs are TLS (reliable: any loss would be ours); the
// loopback UDP leg is kept within its socket buffers by a bounded window.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <functional>
#include <thread>

#include "common/TurnCredentials.hpp"
#include "net/Tls.hpp"
#include "proto/stun/Stun.hpp"
#include "turn/TurnService.hpp"

namespace meeting::turn {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace proto::stun;

constexpr const char* kSecret = "tls-secret";

// A UDP echo peer on 127.0.0.1 (its own thread).
struct EchoPeer {
  EchoPeer() {
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    thread = std::thread([this] {
      uint8_t b[2048];
      while (!stop) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        sockaddr_storage from{};
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, b, sizeof b, 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (n > 0) sendto(fd, b, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), fl);
      }
    });
  }
  ~EchoPeer() {
    stop = true;
    thread.join();
    close(fd);
  }
  int fd = -1;
  uint16_t port = 0;
  std::atomic<bool> stop{false};
  std::thread thread;
};

class TurnTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Config config;
    config.secret = kSecret;
    config.ip = "127.0.0.1";
    config.turnIface = "127.0.0.1";
    config.turnAllowLoopbackPeers = true;
    config.turnWorkers = 2;
    config.turnRelayPortMin = 63500;
    config.turnRelayPortMax = 63599;
    auto options = runtimeOptionsFromConfig(config);
    ASSERT_TRUE(options) << options.error().message;
    options->port = 0;
    auto identity = net::generateSelfSigned({"localhost", "127.0.0.1"}, 2);
    ASSERT_TRUE(identity) << identity.error().message;
    auto tls = net::makeServerContext(*identity);
    ASSERT_TRUE(tls);
    options->tls = *tls;
    options->tlsPort = 0;
    ASSERT_TRUE(runtime_.start(*options));
    cred_ = makeTurnCredential(kSecret, "tls-user", std::time(nullptr), 3600);
    stream_.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), runtime_.tlsPort()));
    stream_.next_layer().set_option(tcp::no_delay(true));
    boost::system::error_code ec;
    stream_.handshake(asio::ssl::stream_base::client, ec);
    ASSERT_FALSE(ec) << ec.message();
  }

  // Reads one frame (STUN or ChannelData with its padding, RFC 8656 §12.5) from the stream.
  std::vector<uint8_t> readFrame() {
    std::vector<uint8_t> f(4);
    boost::system::error_code ec;
    asio::read(stream_, asio::buffer(f), ec);
    if (ec) return {};
    const size_t length = (size_t{f[2]} << 8) | f[3];
    const bool channel = (f[0] & 0xC0) == 0x40;
    const size_t rest = channel ? (length + 3) / 4 * 4 : 16 + length;
    f.resize(4 + rest);
    asio::read(stream_, asio::buffer(f.data() + 4, rest), ec);
    if (ec) return {};
    if (channel) f.resize(4 + length);
    return f;
  }

  std::optional<StunMessage> call(Method method, const std::function<void(StunBuilder&)>& attrs) {
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
      boost::system::error_code ec;
      asio::write(stream_, asio::buffer(b.message().data(), b.message().size()), ec);
      if (ec) return std::nullopt;
      last_ = readFrame();
      auto m = StunMessage::parse(last_);
      if (!m) return std::nullopt;
      if (classOf(m->type()) == MessageClass::ErrorResponse && m->errorCode() && m->errorCode()->code == 401 &&
          m->nonce() && attempt == 0) {
        nonce_ = std::string(*m->nonce());
        continue;
      }
      return m;
    }
    return std::nullopt;
  }

  TurnRuntime runtime_;
  asio::io_context io_;
  asio::ssl::context context_{asio::ssl::context::tls_client};
  asio::ssl::stream<tcp::socket> stream_{io_, context_};
  TurnCredential cred_;
  std::string nonce_;
  std::vector<uint8_t> last_;
  int tid_ = 0;
};

TEST_F(TurnTlsTest, EveryChannelDataComesBackInOrderUnderLoad) {
  EchoPeer peer;
  auto a = call(Method::Allocate, [](StunBuilder& b) { b.addRequestedTransport(TransportUdp); });
  ASSERT_TRUE(a && classOf(a->type()) == MessageClass::SuccessResponse);
  constexpr uint16_t Channel = 0x4001;
  auto cb = call(Method::ChannelBind, [&](StunBuilder& b) {
    b.addChannelNumber(Channel);
    b.addXorPeerAddress(Address::v4({127, 0, 0, 1}, peer.port));
  });
  ASSERT_TRUE(cb && classOf(cb->type()) == MessageClass::SuccessResponse);

  // 4000 frames of 201 bytes (odd: padded on the stream) in windows of 64 written back to back,
  // so several answers queue behind a write in flight and leave together.
  constexpr uint32_t Total = 4000, Window = 64, Size = 201;
  // Bounded: a lost frame would block the reads; the watchdog ends them after 60 s.
  std::atomic<bool> done{false};
  const int fd = stream_.next_layer().native_handle();
  std::thread watchdog([&] {
    for (int i = 0; i < 600 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!done) ::shutdown(fd, SHUT_RDWR);
  });
  struct Join {
    std::atomic<bool>& done;
    std::thread& t;
    ~Join() {
      done = true;
      t.join();
    }
  } join{done, watchdog};
  std::vector<uint8_t> burst;
  uint32_t next = 0, expected = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (expected < Total && std::chrono::steady_clock::now() < deadline) {
    burst.clear();
    for (uint32_t k = 0; k < Window && next < Total; ++k, ++next) {
      const size_t at = burst.size();
      burst.resize(at + 4 + (Size + 3) / 4 * 4, 0);
      burst[at] = Channel >> 8;
      burst[at + 1] = Channel & 0xFF;
      burst[at + 2] = 0;
      burst[at + 3] = Size;
      for (int i = 0; i < 4; ++i) burst[at + 4 + static_cast<size_t>(i)] = static_cast<uint8_t>(next >> (8 * i));
    }
    boost::system::error_code ec;
    asio::write(stream_, asio::buffer(burst), ec);
    ASSERT_FALSE(ec) << ec.message();
    while (expected < next) {
      auto f = readFrame();
      ASSERT_EQ(f.size(), 4u + Size) << "frame " << expected;
      EXPECT_EQ((uint16_t{f[0]} << 8) | f[1], Channel);
      uint32_t n = 0;
      for (int i = 0; i < 4; ++i) n |= uint32_t{f[4 + static_cast<size_t>(i)]} << (8 * i);
      ASSERT_EQ(n, expected) << "lost or reordered";
      ++expected;
    }
  }
  EXPECT_EQ(expected, Total);
}

}  // namespace
}  // namespace meeting::turn
