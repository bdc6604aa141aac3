// SendQueue on loopback: UDP GSO merges same-destination, same-size datagrams of one socket into
// one message, and every datagram still arrives on its own, in order per destination.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "turn/UdpBatch.hpp"

namespace meeting::turn {
namespace {

using proto::stun::Address;

struct UdpSocket {
  UdpSocket() {
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    int size = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  ~UdpSocket() { close(fd); }
  Address address() const { return Address::v4({127, 0, 0, 1}, port); }
  // Every datagram waiting (each recv is one datagram: no UDP_GRO on this socket).
  std::vector<std::vector<uint8_t>> drain() const {
    std::vector<std::vector<uint8_t>> out;
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) return out;
      std::vector<uint8_t> b(2048);
      ssize_t n = recv(fd, b.data(), b.size(), MSG_DONTWAIT);
      if (n < 0) return out;
      b.resize(static_cast<size_t>(n));
      out.push_back(std::move(b));
    }
  }
  int fd = -1;
  uint16_t port = 0;
};

// Datagram i: `size` bytes, its index in the first byte.
std::vector<std::vector<uint8_t>> payloads(size_t count, size_t size, uint8_t tag) {
  std::vector<std::vector<uint8_t>> out;
  for (size_t i = 0; i < count; ++i) {
    std::vector<uint8_t> p(size, tag);
    p[0] = static_cast<uint8_t>(i);
    out.push_back(std::move(p));
  }
  return out;
}

void run(bool gso) {
  UdpSocket sender, a, b;
  SendQueue q;
  q.setGso(gso);
  auto toA = payloads(20, 204, 0xA);
  auto toB = payloads(6, 204, 0xB);
  toA.back().resize(100);  // a shorter last datagram ends a GSO message
  std::vector<uint8_t> big(1401, 0xC);  // above MaxSegmentSize: never merged
  // Interleaved: A A B A A B ...; the queue keeps each destination's order.
  size_t ia = 0, ib = 0;
  while (ia < toA.size() || ib < toB.size()) {
    for (int k = 0; k < 2 && ia < toA.size(); ++k) q.push(sender.fd, toA[ia++], a.address());
    if (ib < toB.size()) q.push(sender.fd, toB[ib++], b.address());
  }
  q.push(sender.fd, big, b.address());
  q.push(sender.fd, big, b.address());
  EXPECT_EQ(q.flush(), 0u);
  EXPECT_EQ(q.datagramsSent(), toA.size() + toB.size() + 2);
  if (gso) {
    // A: one message of 20 (the 100-byte one last); B: one of 6, then the two big ones alone.
    EXPECT_EQ(q.messagesSent(), 4u);
  } else {
    EXPECT_EQ(q.messagesSent(), q.datagramsSent());
  }
  auto gotA = a.drain();
  auto gotB = b.drain();
  EXPECT_EQ(gotA, toA);
  ASSERT_EQ(gotB.size(), toB.size() + 2);
  for (size_t i = 0; i < toB.size(); ++i) EXPECT_EQ(gotB[i], toB[i]);
  EXPECT_EQ(gotB[toB.size()], big);
}

TEST(SendQueueTest, GsoMergesSameDestinationDatagramsAndEachArrivesInOrder) { run(true); }

TEST(SendQueueTest, WithoutGsoEveryDatagramIsItsOwnMessage) { run(false); }

TEST(SendQueueTest, MaxSegmentsSplitsLongRuns) {
  UdpSocket sender, a;
  SendQueue q;
  auto toA = payloads(SendQueue::MaxSegments + 10, 120, 0x1);
  for (const auto& p : toA) q.push(sender.fd, p, a.address());
  EXPECT_EQ(q.flush(), 0u);
  EXPECT_EQ(q.messagesSent(), 2u);
  EXPECT_EQ(a.drain(), toA);
}

}  // namespace
}  // namespace meeting::turn
