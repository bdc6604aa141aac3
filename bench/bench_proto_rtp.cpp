// Micro-benchmarks of the RTP/RTCP codecs on the SFU's per-packet paths.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <vector>

#include "proto/rtcp/Rtcp.hpp"
#include "proto/rtp/Rtp.hpp"

using namespace meeting;
using namespace meeting::proto;

namespace {

constexpr uint8_t AbsSendTimeId = 2, TwccId = 3, MidId = 4;

// 1,200 bytes: header, one-byte extensions abs-send-time, transport-cc, mid; VP8 payload.
std::vector<uint8_t> videoPacket() {
  const std::array<uint8_t, 28> header = {0x90, 0x60, 0x12, 0x34, 0, 1, 2, 3, 0xDE, 0xAD, 0xBE, 0xEF,
                                           0xBE, 0xDE, 0x00, 0x03, 0x22, 0x12, 0x34, 0x56, 0x31, 0x00, 0x2A,
                                           0x40, '0', 0x00, 0x00, 0x00};
  std::vector<uint8_t> b(1200, 0xAB);
  for (size_t i = 0; i < header.size(); ++i) b[i] = header[i];
  return b;
}

void BM_RtpParseAndReadExtensions(benchmark::State& state) {
  auto bytes = videoPacket();
  for (auto _ : state) {
    auto p = rtp::RtpPacket::parse(bytes);
    auto mid = rtp::readMid(*p, MidId);
    auto ast = rtp::readAbsSendTime(*p, AbsSendTimeId);
    auto seq = rtp::readTransportSequence(*p, TwccId);
    benchmark::DoNotOptimize(mid);
    benchmark::DoNotOptimize(ast);
    benchmark::DoNotOptimize(seq);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RtpParseAndReadExtensions);

void BM_RtpRewriteInPlace(benchmark::State& state) {
  auto bytes = videoPacket();
  auto p = rtp::RtpPacket::parse(bytes);
  uint16_t seq = 0;
  uint32_t ts = 0;
  for (auto _ : state) {
    p->setSsrc(0x01020304);
    p->setSequenceNumber(++seq);
    p->setTimestamp(ts += 3000);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RtpRewriteInPlace);

void BM_RtpParseRewriteForward(benchmark::State& state) {
  // What a consumer does per packet: parse, rewrite SSRC/seq/ts and the transport-wide seq.
  auto bytes = videoPacket();
  uint16_t seq = 0;
  for (auto _ : state) {
    auto p = rtp::RtpPacket::parse(bytes);
    p->setSsrc(0x01020304);
    p->setSequenceNumber(++seq);
    p->setTimestamp(p->timestamp() + 90);
    rtp::writeTransportSequence(*p, TwccId, seq);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RtpParseRewriteForward);

std::vector<uint8_t> compoundRtcp() {
  std::array<uint8_t, 1500> buf{};
  ByteWriter w(buf);
  const rtcp::ReportBlock blocks[] = {{1, 2, 3, 4, 5, 6, 7}, {8, 9, 10, 11, 12, 13, 14}};
  rtcp::SenderReport::build(w, rtcp::SenderInfo{7, 1, 2, 3, 4}, blocks);
  rtcp::Sdes::buildCname(w, 7, "qS2bXzGz9mF2yVQh");
  const uint32_t ssrcs[] = {1};
  rtcp::Remb::build(w, 7, 1'500'000, ssrcs);
  const uint16_t lost[] = {100, 101, 105, 200};
  rtcp::Nack::build(w, 7, 1, lost);
  rtcp::Pli::build(w, 7, 1);
  return {w.written().begin(), w.written().end()};
}

void BM_RtcpParseCompound(benchmark::State& state) {
  auto bytes = compoundRtcp();
  for (auto _ : state) {
    rtcp::CompoundReader reader(bytes);
    rtcp::RtcpPacketView view;
    uint64_t sum = 0;
    while (reader.next(view)) {
      switch (view.packetType()) {
        case rtcp::PacketType::SenderReport:
          if (auto sr = rtcp::SenderReport::parse(view)) {
            for (size_t i = 0; i < sr->reportCount(); ++i) sum += sr->reportBlock(i).jitter;
          }
          break;
        case rtcp::PacketType::Sdes:
          if (auto sdes = rtcp::Sdes::parse(view)) sum += sdes->cname().size();
          break;
        case rtcp::PacketType::RtpFeedback:
          if (auto nack = rtcp::Nack::parse(view)) nack->forEachLost([&](uint16_t s) { sum += s; });
          break;
        case rtcp::PacketType::PayloadFeedback:
          if (auto remb = rtcp::Remb::parse(view)) sum += remb->bitrate();
          if (auto pli = rtcp::Pli::parse(view)) sum += pli->mediaSsrc();
          break;
        default:
          break;
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RtcpParseCompound);

void BM_TwccBuild100(benchmark::State& state) {
  std::vector<rtcp::TwccArrival> arrivals;
  int64_t t = 10'000'000;
  for (uint16_t seq = 0; seq < 105; ++seq) {
    if (seq % 20 == 7) continue;  // a few losses
    t += seq % 10 == 0 ? 80'000 : 1'200;
    arrivals.push_back({seq, t});
  }
  arrivals.resize(100);
  std::array<uint8_t, 1500> buf{};
  for (auto _ : state) {
    ByteWriter w(buf);
    benchmark::DoNotOptimize(rtcp::TransportFeedback::build(w, 1, 2, 0, arrivals));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_TwccBuild100);

void BM_TwccParse100(benchmark::State& state) {
  std::vector<rtcp::TwccArrival> arrivals;
  for (uint16_t seq = 0; seq < 100; ++seq) arrivals.push_back({seq, 10'000'000 + seq * 1'500});
  std::array<uint8_t, 1500> buf{};
  ByteWriter w(buf);
  rtcp::TransportFeedback::build(w, 1, 2, 0, arrivals);
  const std::vector<uint8_t> bytes(w.written().begin(), w.written().end());
  std::array<rtcp::TwccPacketResult, 128> out{};
  for (auto _ : state) {
    rtcp::CompoundReader reader(bytes);
    rtcp::RtcpPacketView view;
    reader.next(view);
    auto fb = rtcp::TransportFeedback::parse(view);
    benchmark::DoNotOptimize(fb->packets(out));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_TwccParse100);

}  // namespace
