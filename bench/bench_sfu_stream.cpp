// Per-packet cost of the per-stream media pieces on the forwarding path: StreamRewriter::rewrite()
// (every forwarded packet, per consumer), NackGenerator::onPacket() + collect() (every received
// video packet, per publisher stream) and keyframe detection. Time advances by hand, 1 ms per
// packet (a 1000 packet/s video stream); items processed = packets, so ns/packet = time/item.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <vector>

#include "sfu/KeyframeDetector.hpp"
#include "sfu/NackGenerator.hpp"
#include "sfu/SdpNegotiation.hpp"
#include "sfu/StreamRewriter.hpp"

namespace {
using namespace meeting;
using namespace std::chrono_literals;

// Steady stream from one source; a switch of source every `switchEvery` packets (0: never).
void rewrite(benchmark::State& state) {
  const auto switchEvery = static_cast<uint32_t>(state.range(0));
  sfu::StreamRewriter rewriter(90000);
  TimePoint now{std::chrono::seconds(1)};
  uint32_t i = 0;
  uint32_t ssrc = 1;
  uint16_t seq = 0;
  uint32_t ts = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    if (switchEvery && ++i % switchEvery == 0) ssrc ^= 3;
    auto out = rewriter.rewrite(ssrc, seq++, ts, now);
    ts += 90;
    now += 1ms;
    sum += out ? out->sequence : 0;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(rewrite)->Arg(0)->Arg(100);

// Receives a stream with `lossPerMille` packets in 1000 lost (never recovered, so entries live
// through their retries until given up), collecting every `collectEvery` packets (1 = per packet).
void nack(benchmark::State& state) {
  const auto lossPerMille = static_cast<uint32_t>(state.range(0));
  const auto collectEvery = static_cast<uint32_t>(state.range(1));
  sfu::NackGenerator generator;
  std::array<uint16_t, 256> out{};
  TimePoint now{std::chrono::seconds(1)};
  uint16_t seq = 0;
  uint32_t i = 0;
  uint32_t rng = 12345;
  size_t asked = 0;
  for (auto _ : state) {
    rng = rng * 1664525u + 1013904223u;  // LCG: the loss pattern, identical run to run
    if ((rng >> 8) % 1000 >= lossPerMille) generator.onPacket(seq, now);
    ++seq;
    if (++i % collectEvery == 0) asked += generator.collect(now, 50ms, out);
    now += 1ms;
  }
  benchmark::DoNotOptimize(asked);
  state.counters["nacked/pkt"] = benchmark::Counter(static_cast<double>(asked) / static_cast<double>(state.iterations()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(nack)->Args({0, 1})->Args({10, 1})->Args({50, 1})->Args({10, 10})->Args({50, 10});

void keyframe(benchmark::State& state, sfu::VideoCodec codec, std::vector<uint8_t> payload) {
  payload.resize(1100, 0x55);
  bool any = false;
  for (auto _ : state) {
    benchmark::DoNotOptimize(payload.data());
    any ^= sfu::isKeyframe(codec, payload);
  }
  benchmark::DoNotOptimize(any);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK_CAPTURE(keyframe, vp8, sfu::VideoCodec::Vp8,
                  std::vector<uint8_t>{0x90, 0xE0, 0x92, 0x34, 0x05, 0x40, 0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a});
BENCHMARK_CAPTURE(keyframe, vp9, sfu::VideoCodec::Vp9,
                  std::vector<uint8_t>{0xAA, 0x81, 0x23, 0x00, 0x07, 0x18, 0x02, 0x80, 0x01, 0xE0, 0x01, 0x04,
                                       0x01, 0x82, 0x49, 0x83, 0x42});
BENCHMARK_CAPTURE(keyframe, h264_stapa, sfu::VideoCodec::H264,
                  std::vector<uint8_t>{0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x68, 0xCE, 0x00, 0x03, 0x65,
                                       0x88, 0x84});
// A delta frame's OBUs: the walk goes through every element.
BENCHMARK_CAPTURE(keyframe, av1_delta, sfu::VideoCodec::Av1,
                  std::vector<uint8_t>{0x00, 0x01, 0x10, 0x03, 0x18, 0x00, 0x00, 0x82, 0x08, 0x32});

}  // namespace
