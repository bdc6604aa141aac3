// The worker's sockets and demultiplexer over real loopback sockets: ICE checks reach the right
// transport by ufrag over UDP and over ICE-TCP (RFC 4571 framing), unknown traffic is dropped.
#include "sfu/MediaWorker.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

#include "common/ByteReader.hpp"
#include "proto/stun/Stun.hpp"
#include "sfu/PacketCache.hpp"

namespace meeting::sfu {
namespace {
namespace stun = proto::stun;

template <typename F>
auto onLoop(MediaWorker& worker, F&& f) {
  std::promise<decltype(f())> result;
  auto future = result.get_future();
  worker.loop().post([&] { result.set_value(f()); });
  return future.get();
}

std::vector<uint8_t> bindingRequest(const IceCredentials& server, bool nominate) {
  std::vector<uint8_t> buffer(256);
  ByteWriter writer(buffer);
  stun::TransactionId id{};
  stun::randomTransactionId(id);
  stun::StunBuilder builder(writer, stun::Method::Binding, stun::MessageClass::Request, id);
  builder.addUsername(server.ufrag + ":client");
  builder.addIceControlling(1);
  if (nominate) builder.addUseCandidate();
  builder.addMessageIntegrity(stun::shortTermKey(server.pwd));
  builder.addFingerprint();
  buffer.resize(builder.size());
  return buffer;
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// Reads up to `size` bytes within 2 s; returns how many.
ssize_t readWithTimeout(int fd, uint8_t* data, size_t size) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 2000) != 1) return -1;
  return ::recv(fd, data, size, 0);
}

class MediaWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto worker = MediaWorker::create(MediaWorkerOptions{0, "127.0.0.1", 0, {}});
    ASSERT_TRUE(worker) << worker.error().message;
    worker_ = std::move(*worker);
    std::tie(transportId_, credentials_) = onLoop(*worker_, [this] {
      auto& transport = worker_->createTransport({});
      return std::make_pair(transport.id(), transport.localIce());
    });
  }
  void TearDown() override { worker_.reset(); }

  std::unique_ptr<MediaWorker> worker_;
  uint64_t transportId_ = 0;
  IceCredentials credentials_;
};

TEST_F(MediaWorkerTest, CandidatesNameTheBoundPortsForUdpAndTcp) {
  auto candidates = onLoop(*worker_, [this] { return worker_->localCandidates(); });
  ASSERT_EQ(candidates.size(), 2u);
  EXPECT_EQ(candidates[0].transport, proto::sdp::CandidateTransport::Udp);
  EXPECT_EQ(candidates[0].address, "127.0.0.1");
  EXPECT_EQ(candidates[0].port, worker_->udpPort());
  EXPECT_EQ(candidates[1].transport, proto::sdp::CandidateTransport::Tcp);
  EXPECT_EQ(candidates[1].tcpType, "passive");
  EXPECT_EQ(candidates[1].port, worker_->tcpPort());
  EXPECT_GT(candidates[0].priority, candidates[1].priority);
  EXPECT_EQ(worker_->udpPort(), worker_->tcpPort());  // one number for the firewall
}

TEST_F(MediaWorkerTest, UdpCheckIsAnsweredAndBindsThePath) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  auto server = loopback(worker_->udpPort());
  auto request = bindingRequest(credentials_, true);
  ASSERT_EQ(::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&server), sizeof(server)),
            static_cast<ssize_t>(request.size()));
  std::array<uint8_t, 512> reply{};
  auto n = readWithTimeout(fd, reply.data(), reply.size());
  ASSERT_GT(n, 0);
  auto response = stun::StunMessage::parse(std::span<const uint8_t>(reply.data(), static_cast<size_t>(n)));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->messageClass(), stun::MessageClass::SuccessResponse);
  EXPECT_TRUE(stun::verifyMessageIntegrity(*response, stun::shortTermKey(credentials_.pwd)));
  sockaddr_in mine{};
  socklen_t length = sizeof(mine);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&mine), &length);
  EXPECT_EQ(response->xorMappedAddress()->port, ntohs(mine.sin_port));
  auto state = onLoop(*worker_, [this] { return worker_->findTransport(transportId_)->ice().state(); });
  EXPECT_EQ(state, IceState::Connected);
  ::close(fd);
}

TEST_F(MediaWorkerTest, UnknownUfragAndNoiseAreDropped) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  auto server = loopback(worker_->udpPort());
  auto request = bindingRequest(IceCredentials{"nobodyhasthisufrag", credentials_.pwd}, false);
  ::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&server), sizeof(server));
  const uint8_t noise[] = {0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xAA};  // RTP from an unknown address
  ::sendto(fd, noise, sizeof(noise), 0, reinterpret_cast<sockaddr*>(&server), sizeof(server));
  std::array<uint8_t, 512> reply{};
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 300), 0);  // no answer to strangers
  auto unrouted = onLoop(*worker_, [this] { return worker_->counters().unroutedPackets; });
  EXPECT_EQ(unrouted, 2u);
  ::close(fd);
  (void)reply;
}

TEST_F(MediaWorkerTest, TcpFramedCheckIsAnsweredOnTheConnection) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto server = loopback(worker_->tcpPort());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof(server)), 0);
  auto request = bindingRequest(credentials_, true);
  // RFC 4571 framing, written in two pieces to exercise reassembly.
  std::vector<uint8_t> framed{static_cast<uint8_t>(request.size() >> 8), static_cast<uint8_t>(request.size())};
  framed.insert(framed.end(), request.begin(), request.end());
  ASSERT_EQ(::send(fd, framed.data(), 5, 0), 5);
  usleep(20000);
  ASSERT_EQ(::send(fd, framed.data() + 5, framed.size() - 5, 0), static_cast<ssize_t>(framed.size() - 5));
  std::array<uint8_t, 512> reply{};
  size_t got = 0;
  while (got < 2 || got < 2 + ((size_t{reply[0]} << 8) | reply[1])) {
    auto n = readWithTimeout(fd, reply.data() + got, reply.size() - got);
    ASSERT_GT(n, 0);
    got += static_cast<size_t>(n);
  }
  size_t length = (size_t{reply[0]} << 8) | reply[1];
  auto response = stun::StunMessage::parse(std::span<const uint8_t>(reply.data() + 2, length));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->messageClass(), stun::MessageClass::SuccessResponse);
  auto path = onLoop(*worker_, [this] {
    auto* selected = worker_->findTransport(transportId_)->ice().selectedPath();
    return selected ? selected->protocol : IceProtocol::Udp;
  });
  EXPECT_EQ(path, IceProtocol::Tcp);
  // Closing the connection takes the path away from the transport.
  ::close(fd);
  for (int i = 0; i < 100; ++i) {
    auto gone = onLoop(*worker_, [this] { return worker_->findTransport(transportId_)->ice().selectedPath() == nullptr; });
    if (gone) return;
    usleep(10000);
  }
  FAIL() << "the closed TCP path is still selected";
}

TEST_F(MediaWorkerTest, DestroyedTransportNoLongerAnswers) {
  onLoop(*worker_, [this] {
    worker_->destroyTransport(transportId_);
    return worker_->transportCount();
  });
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  auto server = loopback(worker_->udpPort());
  auto request = bindingRequest(credentials_, true);
  ::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&server), sizeof(server));
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 300), 0);
  ::close(fd);
}

TEST(PacketCache, StoresFindsAndOverwritesBySequence) {
  PacketCache cache(4);
  std::vector<uint8_t> a(100, 1), b(200, 2), c(1501, 3);
  cache.store(10, a);
  EXPECT_EQ(cache.find(10).size(), 100u);
  EXPECT_TRUE(cache.find(11).empty());
  cache.store(14, b);  // same slot as 10
  EXPECT_TRUE(cache.find(10).empty());
  EXPECT_EQ(cache.find(14)[0], 2);
  cache.store(15, c);  // too large: ignored
  EXPECT_TRUE(cache.find(15).empty());
  cache.store(65535, a);
  EXPECT_EQ(cache.find(65535).size(), 100u);
  cache.clear();
  EXPECT_TRUE(cache.find(14).empty());
}

}  // namespace
}  // namespace meeting::sfu
