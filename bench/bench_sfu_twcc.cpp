// Per-packet cost of transport-wide congestion control on the media path:
// - receive side: TransportCcFeedback::onPacket for every packet plus a feedback flush every
//   100 packets (100 ms at 1,000 packets/s), reported per packet;
// - send side: writing our transport-wide sequence into a forwarded packet (in place, and by
//   adding the element) and CongestionMonitor::onSend;
// - reading a subscriber's feedback packet covering 100 packets.
// Compare with bench_sfu_forward (about 6 µs per forwarded packet).
#include <benchmark/benchmark.h>

#include <array>
#include <vector>

#include "common/ByteReader.hpp"
#include "proto/rtcp/Rtcp.hpp"
#include "sfu/CongestionMonitor.hpp"
#include "sfu/TransportCcFeedback.hpp"

namespace {
using namespace meeting;
using sfu::CongestionMonitor;
using sfu::TransportCcFeedback;

void BM_TwccRecordAndFeedback(benchmark::State& state) {
  TransportCcFeedback feedback(1);
  TimePoint now{std::chrono::seconds(100)};
  uint16_t sequence = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    // Every 50th packet lost, every 20th pair swapped: the realistic, not the easiest, path.
    uint16_t s = sequence++;
    if (s % 20 == 5) s = static_cast<uint16_t>(s + 1);
    else if (s % 20 == 6) s = static_cast<uint16_t>(s - 1);
    if (s % 50 != 7) feedback.onPacket(s, 0x1234, now);
    now += std::chrono::microseconds(1000);
    if (sequence % 100 == 0) {
      feedback.flush(now, [&](std::span<uint8_t>, size_t length) { bytes += length; });
    }
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TwccRecordAndFeedback);

std::vector<uint8_t> rtpWithExtension() {
  std::vector<uint8_t> p = {0x90, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0xBE, 0xDE, 0, 2,
                            0x22, 1, 2, 3, 0x31, 0, 0, 0};  // abs-send-time (2), transport-cc (3)
  p.resize(1200, 0x55);
  return p;
}

void BM_TwccNumberInPlace(benchmark::State& state) {
  auto packet = rtpWithExtension();
  const size_t length = packet.size();
  packet.resize(length + 32);
  CongestionMonitor monitor;
  TimePoint now{std::chrono::seconds(100)};
  for (auto _ : state) {
    const size_t n = sfu::writeTransportSequence(packet, length, 3, monitor.nextSequence(), 16);
    monitor.onSend(n, now);
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TwccNumberInPlace);

void BM_TwccNumberByInsertion(benchmark::State& state) {
  auto original = rtpWithExtension();
  original[20] = 0x41;  // transport-cc at id 4 instead: id 3 must be added (payload moves 4 bytes)
  const size_t length = original.size();
  original.resize(length + 32);
  auto packet = original;
  CongestionMonitor monitor;
  TimePoint now{std::chrono::seconds(100)};
  for (auto _ : state) {
    std::copy(original.begin(), original.begin() + static_cast<ptrdiff_t>(length), packet.begin());
    const size_t n = sfu::writeTransportSequence(packet, length, 3, monitor.nextSequence(), 16);
    monitor.onSend(n, now);
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TwccNumberByInsertion);

void BM_TwccReadFeedback100(benchmark::State& state) {
  CongestionMonitor monitor;
  TimePoint now{std::chrono::seconds(100)};
  for (int i = 0; i < 100; ++i) monitor.onSend(1200, now);
  std::array<proto::rtcp::TwccArrival, 100> arrivals{};
  size_t n = 0;
  for (uint16_t s = 1; s <= 100; ++s) {
    if (s % 30 != 0) arrivals[n++] = {s, 1'000'000 + s * 1000};
  }
  std::vector<uint8_t> compound(1500);
  ByteWriter w(compound);
  proto::rtcp::TransportFeedback::build(w, 1, 2, 0, std::span(arrivals).first(n));
  compound.resize(w.size());
  for (auto _ : state) {
    monitor.onRtcp(compound, now);
    now += std::chrono::milliseconds(100);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TwccReadFeedback100);

}  // namespace


