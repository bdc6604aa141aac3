// Per-packet cost of active-speaker metering on the forwarding path: reading the RFC 6464 audio
// level header extension of a publisher's audio packet (Chrome's layout: audio level, transport-cc
// and mid in one-byte elements) and adding it to the track's AudioLevelMeter. Time advances by
// hand, 20 ms per packet (Opus' frame); items processed = packets, so ns/packet = time/item.
// Also the per-track cost of the 300 ms evaluation.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>

#include "proto/rtp/RtpExtensions.hpp"
#include "proto/rtp/RtpPacket.hpp"
#include "sfu/room/AudioLevelMeter.hpp"

namespace {
using namespace meeting;
using namespace std::chrono_literals;

// RTP header (PT 111, extension bit set), RFC 8285 one-byte extension block: id 1 audio level
// (V=1, -40 dBov), id 3 transport-cc (2 bytes), id 4 mid "0", one byte of padding; 60 bytes of
// Opus payload.
std::array<uint8_t, 92> opusPacket() {
  std::array<uint8_t, 92> p{};
  const uint8_t header[] = {0x90, 111, 0x12, 0x34, 0, 0, 0x10, 0, 0x11, 0x22, 0x33, 0x44,
                            0xBE, 0xDE, 0x00, 0x02, 0x10, 0xA8, 0x31, 0x00, 0x05, 0x40, '0', 0x00};
  std::copy(std::begin(header), std::end(header), p.begin());
  return p;
}

void audioLevelPerPacket(benchmark::State& state) {
  auto buffer = opusPacket();
  auto packet = proto::rtp::RtpPacket::parse(std::span<uint8_t>(buffer));
  if (!packet) return state.SkipWithError("packet did not parse");
  sfu::AudioLevelMeter meter;
  TimePoint now{std::chrono::seconds(1)};
  for (auto _ : state) {
    if (auto level = proto::rtp::readAudioLevel(*packet, 1)) meter.onLevel(level->level, level->voiceActivity, now);
    now += 20ms;
  }
  benchmark::DoNotOptimize(meter.evaluate(now));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(audioLevelPerPacket);

// The meter alone (the level already read).
void meterOnly(benchmark::State& state) {
  sfu::AudioLevelMeter meter;
  TimePoint now{std::chrono::seconds(1)};
  uint8_t level = 30;
  for (auto _ : state) {
    meter.onLevel(level, true, now);
    level = static_cast<uint8_t>((level + 7) & 0x7F);
    now += 20ms;
  }
  benchmark::DoNotOptimize(meter.evaluate(now));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(meterOnly);

// Every 300 ms per microphone track.
void evaluatePerTrack(benchmark::State& state) {
  sfu::AudioLevelMeter meter;
  TimePoint now{std::chrono::seconds(1)};
  for (int i = 0; i < 25; ++i, now += 20ms) meter.onLevel(35, true, now);
  bool speaking = false;
  for (auto _ : state) {
    speaking = meter.evaluate(now) != speaking;
    benchmark::DoNotOptimize(speaking);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(evaluatePerTrack);

}  // namespace
