// STUN codec micro-benchmarks: the three things an ICE-lite server does per connectivity check.
#include <benchmark/benchmark.h>

#include <array>
#include <string_view>

#include "proto/Demux.hpp"
#include "proto/stun/Stun.hpp"

using namespace meeting;
using namespace meeting::proto::stun;

namespace {

constexpr std::string_view Password = "Ra8vm0rX8H7n3ZbQyGm0JpZ4";  // 24 chars, like Chromium's
constexpr TransactionId Tid = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

// A Chromium-shaped binding request: USERNAME, GOOG-NETWORK-INFO, ICE-CONTROLLING,
// USE-CANDIDATE, PRIORITY, MESSAGE-INTEGRITY, FINGERPRINT (108 bytes).
struct Request {
  std::array<uint8_t, 256> buf{};
  size_t size = 0;
  Request() {
    ByteWriter w(buf);
    StunBuilder b(w, Method::Binding, MessageClass::Request, Tid);
    const std::array<uint8_t, 4> netInfo = {0x00, 0x01, 0x00, 0x0a};
    b.addUsername("f3Gh:Kx9q");
    b.addAttribute(0xC057, netInfo);
    b.addIceControlling(0x1234567890abcdefull);
    b.addUseCandidate();
    b.addPriority(0x6e7f1eff);
    b.addMessageIntegrity(shortTermKey(Password));
    b.addFingerprint();
    size = b.size();
  }
  std::span<const uint8_t> bytes() const { return std::span(buf).first(size); }
};

void BM_ParseBindingRequest(benchmark::State& state) {
  const Request req;
  for (auto _ : state) {
    auto m = StunMessage::parse(req.bytes());
    benchmark::DoNotOptimize(m);
    auto user = m->username();
    auto prio = m->priority();
    bool use = m->useCandidate();
    auto ctl = m->iceControlling();
    benchmark::DoNotOptimize(user);
    benchmark::DoNotOptimize(prio);
    benchmark::DoNotOptimize(use);
    benchmark::DoNotOptimize(ctl);
  }
  state.SetLabel(std::to_string(req.size) + " bytes, parse + 4 getters");
}
BENCHMARK(BM_ParseBindingRequest);

void BM_VerifyIntegrityAndFingerprint(benchmark::State& state) {
  const Request req;
  const auto m = StunMessage::parse(req.bytes());
  for (auto _ : state) {
    bool ok = verifyFingerprint(*m) && verifyMessageIntegrity(*m, shortTermKey(Password));
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_VerifyIntegrityAndFingerprint);

void BM_VerifyFingerprintOnly(benchmark::State& state) {
  const Request req;
  const auto m = StunMessage::parse(req.bytes());
  for (auto _ : state) {
    bool ok = verifyFingerprint(*m);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_VerifyFingerprintOnly);

void BM_BuildBindingSuccess(benchmark::State& state) {
  std::array<uint8_t, 256> buf{};
  const Address peer = Address::v4({192, 168, 1, 20}, 54321);
  size_t size = 0;
  for (auto _ : state) {
    ByteWriter w(buf);
    StunBuilder b(w, Method::Binding, MessageClass::SuccessResponse, Tid);
    b.addXorMappedAddress(peer);
    b.addMessageIntegrity(shortTermKey(Password));
    b.addFingerprint();
    size = b.size();
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetLabel(std::to_string(size) + " bytes");
}
BENCHMARK(BM_BuildBindingSuccess);

void BM_ClassifyAndParseChannelData(benchmark::State& state) {
  std::array<uint8_t, 1204> buf{};
  ByteWriter w(buf);
  std::array<uint8_t, 1200> payload{};
  writeChannelData(w, 0x4001, payload, false);
  for (auto _ : state) {
    auto kind = proto::classifyPacket(w.written());
    auto cd = parseChannelData(w.written());
    benchmark::DoNotOptimize(kind);
    benchmark::DoNotOptimize(cd);
  }
}
BENCHMARK(BM_ClassifyAndParseChannelData);

}  // namespace
