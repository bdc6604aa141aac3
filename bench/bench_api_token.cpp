// Control-plane costs the apiserver and sfuserver pay per join and per control message:
// peer token sign/verify (HS256), control message parse/serialize, least-loaded placement.
#include <benchmark/benchmark.h>

#include "api/control/ControlMessages.hpp"
#include "api/control/NodeRegistry.hpp"
#include "common/AccessToken.hpp"

namespace {

using namespace meeting;

token::AccessClaims claims() {
  token::AccessClaims c;
  c.room = "6f1c2a9e-1d3b-4c55-9a0e-7b2f3c4d5e6f";
  c.identity = "0b7e4f4a-8c1d-4e2f-9a3b-5c6d7e8f9a0b";
  c.displayName = "Ada Lovelace";
  c.issuedAt = 1'700'000'000;
  c.expiresAt = 1'700'021'600;
  return c;
}

void BM_TokenSign(benchmark::State& state) {
  auto c = claims();
  for (auto _ : state) benchmark::DoNotOptimize(token::signAccessToken(c, "cluster-secret-of-reasonable-length"));
}
BENCHMARK(BM_TokenSign);

void BM_TokenVerify(benchmark::State& state) {
  auto jwt = *token::signAccessToken(claims(), "cluster-secret-of-reasonable-length");
  for (auto _ : state) benchmark::DoNotOptimize(token::verifyAccessToken(jwt, "cluster-secret-of-reasonable-length", 1'700'000'100));
}
BENCHMARK(BM_TokenVerify);

void BM_TokenRejectBadSignature(benchmark::State& state) {
  auto jwt = *token::signAccessToken(claims(), "another-secret");
  for (auto _ : state) benchmark::DoNotOptimize(token::verifyAccessToken(jwt, "cluster-secret-of-reasonable-length", 1'700'000'100));
}
BENCHMARK(BM_TokenRejectBadSignature);

const char* kEvent =
    R"({"type":"event","event":"track_published","room":"6f1c2a9e-1d3b-4c55-9a0e-7b2f3c4d5e6f","peer":"0b7e4f4a",)"
    R"("track":{"id":"TR_VCam1","kind":"video","source":"camera"}})";

void BM_ControlParseEvent(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(api::control::parseControlMessage(kEvent));
}
BENCHMARK(BM_ControlParseEvent);

void BM_ControlSerializeLoad(benchmark::State& state) {
  api::control::ControlMessage m;
  m.type = api::control::ControlMessage::Type::Load;
  m.load = {123, 4, 120};
  for (auto _ : state) benchmark::DoNotOptimize(api::control::serializeControlMessage(m));
}
BENCHMARK(BM_ControlSerializeLoad);

void BM_PlacementLeastLoaded(benchmark::State& state) {
  ManualClock clock;
  api::control::NodeRegistry registry(clock, std::chrono::seconds(5));
  for (int i = 0; i < state.range(0); ++i) {
    std::string id = "sfu-" + std::to_string(i);
    registry.upsert({id, "sfu", id + ".example.com:443", "wss://" + id + ".example.com/rtc", 1000});
    registry.report(id, {(i * 37) % 1000, 1, 1});
  }
  for (auto _ : state) benchmark::DoNotOptimize(registry.pickLeastLoaded("sfu"));
}
BENCHMARK(BM_PlacementLeastLoaded)->Arg(10)->Arg(100);

}  // namespace
