// The whole per-packet cost of forwarding on the media path as built (design.md §2 budgets about
// 6 µs, of which a loopback UDP send alone is 3.7 µs): SRTP unprotect of the publisher's packet,
// in-place RTP parse, copy and SSRC rewrite for the subscriber, packet-cache store, SRTP protect
// with the subscriber's context, and the send on the worker's UDP socket (UdpMediaSocket,
// sendmmsg) to a real loopback receiver drained by another thread. CPU time is the forwarding
// thread's only; sends leave in sendmmsg batches of 32 as on the worker. Packets are encrypted
// by the "browser" in batches outside the timed region.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "net/EventLoop.hpp"
#include "proto/rtp/RtpPacket.hpp"
#include "sfu/PacketCache.hpp"
#include "sfu/SrtpSession.hpp"
#include "sfu/UdpMediaSocket.hpp"

namespace {
using namespace meeting;
using sfu::SrtpProfile;
using sfu::SrtpSession;

constexpr size_t PacketSize = 1200;
constexpr size_t Batch = 256;

std::vector<uint8_t> key(SrtpProfile p, uint8_t salt) {
  std::vector<uint8_t> k(sfu::srtpKeyingLength(p));
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i * 7 + salt);
  return k;
}

void forward(benchmark::State& state, SrtpProfile profile, bool send) {
  auto browserOut = SrtpSession::create(SrtpSession::Direction::Outbound, profile, key(profile, 1));
  auto serverIn = SrtpSession::create(SrtpSession::Direction::Inbound, profile, key(profile, 1));
  auto serverOut = SrtpSession::create(SrtpSession::Direction::Outbound, profile, key(profile, 2));
  if (!browserOut || !serverIn || !serverOut) return state.SkipWithError("srtp setup failed");

  int receiver = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(receiver, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(receiver, reinterpret_cast<sockaddr*>(&address), &length);
  int size = 8 << 20;
  ::setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  timeval timeout{0, 100000};
  ::setsockopt(receiver, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> received{0};
  std::thread drain([&] {
    std::array<uint8_t, 2048> buffer{};
    while (!stop) {
      if (::recv(receiver, buffer.data(), buffer.size(), 0) > 0) ++received;
    }
  });

  net::EventLoop loop("bench");
  auto socket = sfu::UdpMediaSocket::open(loop, "127.0.0.1", 0);
  if (!socket) return state.SkipWithError(socket.error().message.c_str());
  auto to = proto::stun::Address::v4({127, 0, 0, 1}, ntohs(address.sin_port));

  sfu::PacketCache cache(512);
  std::vector<std::array<uint8_t, 1500>> wire(Batch);
  std::vector<size_t> wireLength(Batch);
  std::array<uint8_t, 1500> out{};
  uint16_t sequence = 0;
  size_t forwarded = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t i = 0; i < Batch; ++i) {  // the browser's side: not ours to count
      auto& p = wire[i];
      std::fill(p.begin(), p.begin() + PacketSize, uint8_t{0x5A});
      p[0] = 0x90;  // V=2, X=1: one-byte extensions like Chromium's
      p[1] = 96;
      p[2] = static_cast<uint8_t>(sequence >> 8);
      p[3] = static_cast<uint8_t>(sequence);
      p[8] = 0x11, p[9] = 0x22, p[10] = 0x33, p[11] = 0x44;
      p[12] = 0xBE, p[13] = 0xDE, p[14] = 0, p[15] = 2;  // 2 words of extensions
      p[16] = 0x12, p[17] = 0x01, p[18] = 0x02, p[19] = 0x03;  // id 1 (abs-send-time), 3 bytes
      p[20] = 0x40, p[21] = '1', p[22] = 0, p[23] = 0;         // id 4 (mid) "1"
      ++sequence;
      wireLength[i] = PacketSize;
      (*browserOut)->protectRtp(p.data(), wireLength[i], p.size());
    }
    state.ResumeTiming();
    // As on the worker: sends made while a receive batch (32 datagrams) is handled leave together.
    std::optional<sfu::UdpMediaSocket::SendBatch> sendBatch;
    for (size_t i = 0; i < Batch; ++i) {
      if (i % sfu::UdpMediaSocket::BatchSize == 0) sendBatch.emplace(**socket);
      size_t len = wireLength[i];
      if ((*serverIn)->unprotectRtp(wire[i].data(), len) != sfu::SrtpStatus::Ok) return state.SkipWithError("unprotect");
      auto packet = proto::rtp::RtpPacket::parse(std::span<uint8_t>(wire[i].data(), len));
      if (!packet) return state.SkipWithError("parse");
      std::copy(packet->data().begin(), packet->data().end(), out.begin());
      auto copy = proto::rtp::RtpPacket::parse(std::span<uint8_t>(out), packet->size());
      copy->setSsrc(0xCAFEBABE);
      cache.store(copy->sequenceNumber(), copy->data());
      size_t outLength = copy->size();
      (*serverOut)->protectRtp(out.data(), outLength, out.size());
      if (send) (*socket)->send(std::span<const uint8_t>(out.data(), outLength), to);
      benchmark::DoNotOptimize(out.data());
    }
    sendBatch.reset();
    forwarded += Batch;
  }
  stop = true;
  drain.join();
  ::close(receiver);
  state.SetItemsProcessed(static_cast<int64_t>(forwarded));
  state.counters["sendDrops"] = static_cast<double>((*socket)->stats().sendDrops);
  state.counters["received%"] = send && forwarded ? 100.0 * static_cast<double>(received) / static_cast<double>(forwarded) : 0;
}

void BM_ForwardGcm(benchmark::State& s) { forward(s, SrtpProfile::AeadAes128Gcm, true); }
void BM_ForwardCmHmac(benchmark::State& s) { forward(s, SrtpProfile::AesCm128HmacSha1_80, true); }
void BM_ForwardGcmNoSend(benchmark::State& s) { forward(s, SrtpProfile::AeadAes128Gcm, false); }

}  // namespace

BENCHMARK(BM_ForwardGcm)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ForwardCmHmac)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ForwardGcmNoSend)->Unit(benchmark::kMicrosecond);
