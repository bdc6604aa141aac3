// The relay hot path per packet: the protocol core alone (ChannelData client -> peer, peer ->
// client framed in place), and the socket layer's batching (one datagram per sendmmsg versus a
// loop round's worth in one call) on loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "common/TurnCredentials.hpp"
#include "proto/stun/Stun.hpp"
#include "turn/TurnServer.hpp"
#include "turn/UdpBatch.hpp"

using namespace meeting;
using namespace meeting::turn;
using namespace meeting::proto::stun;

namespace {

constexpr const char* kSecret = "bench-secret";
constexpr int64_t kWall = 1'700'000'000;

class CountingIo final : public TurnIo {
 public:
  void sendToClient(const ClientKey&, std::span<const uint8_t> data) override {
    last.assign(data.begin(), data.end());
    ++toClient;
  }
  void sendToPeer(uint32_t, const Address&, std::span<const uint8_t> data) override { bytes += data.size(); }
  std::optional<RelayEndpoint> openRelay(const RelayRequest&, RelayError&) override {
    RelayEndpoint e;
    e.id = 1;
    e.address = Address::v4({203, 0, 113, 1}, 50000);
    return e;
  }
  void closeRelay(uint32_t) override {}
  std::vector<uint8_t> last;
  size_t toClient = 0, bytes = 0;
};

// A core with one allocation, a permission and channel 0x4000 bound to the peer.
struct Relay {
  TimePoint now{Duration{std::chrono::hours(1)}};
  TurnOptions options = [] {
    TurnOptions o;
    o.secret = kSecret;
    return o;
  }();
  PeerPolicy policy;
  CountingIo io;
  AllocationBudget budget;
  TurnStats stats;
  TurnServer server{options, policy, io, budget, NonceService::Key{7}, stats};
  ClientKey client{ClientTransport::Udp, 0, Address::v4({198, 51, 100, 7}, 40000)};
  Address peer = Address::v4({192, 0, 2, 9}, 5000);
  TurnCredential cred = makeTurnCredential(kSecret, "bench", kWall, 3600);
  std::string nonce;
  uint8_t tid = 1;

  Relay() {
    request(Method::Allocate, [](StunBuilder& b) { b.addRequestedTransport(TransportUdp); });
    request(Method::ChannelBind, [this](StunBuilder& b) {
      b.addChannelNumber(0x4000);
      b.addXorPeerAddress(peer);
    });
  }
  void request(Method m, const std::function<void(StunBuilder&)>& attrs) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::array<uint8_t, 512> buf{};
      ByteWriter w(buf);
      TransactionId t{};
      t.fill(tid++);
      StunBuilder b(w, m, MessageClass::Request, t);
      attrs(b);
      if (!nonce.empty()) {
        b.addUsername(cred.username);
        b.addRealm("meeting");
        b.addNonce(nonce);
        b.addMessageIntegrity(turnLongTermKey(cred.username, "meeting", cred.password));
      }
      b.addFingerprint();
      server.handleClientPacket(client, b.message(), now, kWall);
      auto reply = StunMessage::parse(io.last);
      if (reply && reply->nonce()) nonce = std::string(*reply->nonce());
      else return;
    }
  }
};

void BM_CoreClientToPeerChannelData(benchmark::State& state) {
  Relay r;
  std::array<uint8_t, 4 + 200> frame{0x40, 0x00, 0x00, 200};
  for (auto _ : state) r.server.handleClientPacket(r.client, frame, r.now, kWall);
  if (r.stats.packetsToPeer.value() == 0) state.SkipWithError("nothing relayed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CoreClientToPeerChannelData);

void BM_CorePeerToClientChannelData(benchmark::State& state) {
  Relay r;
  std::array<uint8_t, TurnServer::PeerHeadroom + 200 + TurnServer::PeerTailroom> slot{};
  for (auto _ : state) r.server.handlePeerPacket(1, r.peer, slot, TurnServer::PeerHeadroom, 200, r.now);
  if (r.stats.packetsToClient.value() == 0) state.SkipWithError("nothing relayed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CorePeerToClientChannelData);

struct LoopbackPair {
  LoopbackPair() {
    rx = socket(AF_INET, SOCK_DGRAM, 0);
    tx = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof a);
    getsockname(rx, reinterpret_cast<sockaddr*>(&a), &len);
    int big = 8 << 20;
    setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    to = Address::v4({127, 0, 0, 1}, ntohs(a.sin_port));
  }
  ~LoopbackPair() {
    close(rx);
    close(tx);
  }
  int rx = -1, tx = -1;
  Address to;
};

// `range(0)` datagrams of 200 bytes per flush to one loopback socket (drained between rounds,
// untimed); `range(1)` = 1: UDP GSO merges them into one message. The sender's CPU includes the
// loopback delivery into the receiver's socket (softirq in the sender's context).
void BM_SendQueueLoopback(benchmark::State& state) {
  LoopbackPair p;
  const auto perRound = static_cast<size_t>(state.range(0));
  std::array<uint8_t, 200> payload{};
  SendQueue queue;
  queue.setGso(state.range(1) != 0);
  auto drain = std::make_unique<RecvBatch>();  // about 1 MiB: not on the stack
  for (auto _ : state) {
    for (size_t i = 0; i < perRound; ++i) queue.push(p.tx, payload, p.to);
    benchmark::DoNotOptimize(queue.flush());
    state.PauseTiming();
    while (drain->receive(p.rx) > 0) drain->recycle(false);
    drain->recycle(false);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(perRound));
  state.counters["datagrams/msg"] = static_cast<double>(queue.datagramsSent()) / static_cast<double>(std::max<uint64_t>(1, queue.messagesSent()));
}
BENCHMARK(BM_SendQueueLoopback)->Args({1, 0})->Args({2, 0})->Args({8, 0})->Args({32, 0})->Args({2, 1})->Args({8, 1})->Args({32, 1});

// recvmmsg of `range(0)` waiting datagrams (sent untimed): the receive half of a relayed packet.
void BM_RecvBatchLoopback(benchmark::State& state) {
  LoopbackPair p;
  const auto perRound = static_cast<size_t>(state.range(0));
  std::array<uint8_t, 200> payload{};
  SendQueue queue;
  queue.setGso(false);
  auto batch = std::make_unique<RecvBatch>();
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t i = 0; i < perRound; ++i) queue.push(p.tx, payload, p.to);
    queue.flush();
    state.ResumeTiming();
    size_t got = 0;
    while (got < perRound) {
      got += batch->receive(p.rx);
      batch->recycle(false);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(perRound));
}
BENCHMARK(BM_RecvBatchLoopback)->Arg(1)->Arg(2)->Arg(8)->Arg(32);

// UDP_GRO on a loopback receiver: how many datagrams one receive returns when the sender sends 32
// plain datagrams (range(0) = 0, as uclient and turnutils_peer do) or one GSO message of 32
// (range(0) = 1). Loopback has no NIC GRO stage: only a GSO sender's message stays whole.
void BM_GroReceiveLoopback(benchmark::State& state) {
  LoopbackPair p;
  int on = 1;
  setsockopt(p.rx, SOL_UDP, UDP_GRO, &on, sizeof on);
  std::array<uint8_t, 200> payload{};
  SendQueue queue;
  queue.setGso(state.range(0) != 0);
  std::vector<uint8_t> buffer(65536);
  uint64_t datagrams = 0, receives = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int i = 0; i < 32; ++i) queue.push(p.tx, payload, p.to);
    queue.flush();
    state.ResumeTiming();
    size_t got = 0;
    while (got < 32) {
      alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(int))];
      iovec iov{buffer.data(), buffer.size()};
      msghdr m{};
      m.msg_iov = &iov;
      m.msg_iovlen = 1;
      m.msg_control = control;
      m.msg_controllen = sizeof control;
      ssize_t n = recvmsg(p.rx, &m, MSG_DONTWAIT);
      if (n <= 0) continue;
      size_t segment = static_cast<size_t>(n);
      for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        int size = 0;
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) std::memcpy(&size, CMSG_DATA(c), sizeof size);
        if (size > 0) segment = static_cast<size_t>(size);
      }
      got += (static_cast<size_t>(n) + segment - 1) / segment;
      ++receives;
    }
    datagrams += got;
  }
  state.SetItemsProcessed(static_cast<int64_t>(datagrams));
  state.counters["datagrams/recv"] = static_cast<double>(datagrams) / static_cast<double>(std::max<uint64_t>(1, receives));
}
BENCHMARK(BM_GroReceiveLoopback)->Arg(0)->Arg(1);

}  // namespace
