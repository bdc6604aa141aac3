// SRTP protect/unprotect cost per 1,200-byte RTP packet for the two negotiated profiles, and the
// cost of a whole in-process DTLS handshake (design.md §2 budgets ~6 µs per forwarded packet).
#include <benchmark/benchmark.h>

#include <array>
#include <deque>
#include <vector>

#include "sfu/DtlsSession.hpp"
#include "sfu/SrtpSession.hpp"

namespace {

using meeting::sfu::DtlsCertificate;
using meeting::sfu::DtlsRole;
using meeting::sfu::DtlsSession;
using meeting::sfu::SrtpProfile;
using meeting::sfu::SrtpSession;
using meeting::sfu::SrtpStatus;

constexpr size_t PacketSize = 1200;

std::vector<uint8_t> testKey(SrtpProfile p) {
  std::vector<uint8_t> k(meeting::sfu::srtpKeyingLength(p));
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i * 13 + 1);
  return k;
}

void writeRtp(uint8_t* buf, uint16_t seq) {
  buf[0] = 0x80;
  buf[1] = 96;
  buf[2] = static_cast<uint8_t>(seq >> 8);
  buf[3] = static_cast<uint8_t>(seq);
  buf[4] = buf[5] = buf[6] = buf[7] = 0;
  buf[8] = 0x12;
  buf[9] = 0x34;
  buf[10] = 0x56;
  buf[11] = 0x78;
}

void protectOnly(benchmark::State& state, SrtpProfile profile) {
  auto out = SrtpSession::create(SrtpSession::Direction::Outbound, profile, testKey(profile));
  if (!out.ok()) {
    state.SkipWithError(out.error().message.c_str());
    return;
  }
  std::array<uint8_t, 1500> buf{};
  uint16_t seq = 0;
  for (auto _ : state) {
    writeRtp(buf.data(), seq++);
    size_t len = PacketSize;
    if ((*out)->protectRtp(buf.data(), len, buf.size()) != SrtpStatus::Ok) state.SkipWithError("protect failed");
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * PacketSize));
}

void protectUnprotect(benchmark::State& state, SrtpProfile profile) {
  const auto key = testKey(profile);
  auto out = SrtpSession::create(SrtpSession::Direction::Outbound, profile, key);
  auto in = SrtpSession::create(SrtpSession::Direction::Inbound, profile, key);
  if (!out.ok() || !in.ok()) {
    state.SkipWithError("srtp session");
    return;
  }
  std::array<uint8_t, 1500> buf{};
  uint16_t seq = 0;
  for (auto _ : state) {
    writeRtp(buf.data(), seq++);
    size_t len = PacketSize;
    if ((*out)->protectRtp(buf.data(), len, buf.size()) != SrtpStatus::Ok ||
        (*in)->unprotectRtp(buf.data(), len) != SrtpStatus::Ok)
      state.SkipWithError("round trip failed");
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_SrtpProtect_AeadAes128Gcm(benchmark::State& s) { protectOnly(s, SrtpProfile::AeadAes128Gcm); }
void BM_SrtpProtect_AesCm128HmacSha1_80(benchmark::State& s) { protectOnly(s, SrtpProfile::AesCm128HmacSha1_80); }
void BM_SrtpProtectUnprotect_AeadAes128Gcm(benchmark::State& s) { protectUnprotect(s, SrtpProfile::AeadAes128Gcm); }
void BM_SrtpProtectUnprotect_AesCm128HmacSha1_80(benchmark::State& s) {
  protectUnprotect(s, SrtpProfile::AesCm128HmacSha1_80);
}
BENCHMARK(BM_SrtpProtect_AeadAes128Gcm);
BENCHMARK(BM_SrtpProtect_AesCm128HmacSha1_80);
BENCHMARK(BM_SrtpProtectUnprotect_AeadAes128Gcm);
BENCHMARK(BM_SrtpProtectUnprotect_AesCm128HmacSha1_80);

// Client and server DtlsSession in one process: ECDHE + ECDSA on both sides, 4 flights.
void BM_DtlsHandshake(benchmark::State& state) {
  auto clientCert = DtlsCertificate::generate();
  auto serverCert = DtlsCertificate::generate();
  if (!clientCert.ok() || !serverCert.ok()) {
    state.SkipWithError("certificate");
    return;
  }
  const meeting::TimePoint now{};
  for (auto _ : state) {
    std::deque<std::vector<uint8_t>> toServer, toClient;
    bool clientUp = false, serverUp = false;
    auto make = [&](const DtlsCertificate& cert, DtlsRole role, std::deque<std::vector<uint8_t>>& outbox, bool& up) {
      meeting::sfu::DtlsConfig config;
      config.role = role;
      meeting::sfu::DtlsCallbacks cb;
      cb.onSend = [&outbox](std::span<const uint8_t> d) { outbox.emplace_back(d.begin(), d.end()); };
      cb.onConnected = [&up](SrtpProfile, std::span<const uint8_t>, std::span<const uint8_t>) { up = true; };
      return DtlsSession::create(cert, config, std::move(cb)).value();
    };
    auto client = make(**clientCert, DtlsRole::Client, toServer, clientUp);
    auto server = make(**serverCert, DtlsRole::Server, toClient, serverUp);
    (void)client->setRemoteFingerprint((*serverCert)->fingerprintSdp());
    (void)server->setRemoteFingerprint((*clientCert)->fingerprintSdp());
    client->start(now);
    while (!toServer.empty() || !toClient.empty()) {
      while (!toServer.empty()) {
        auto d = std::move(toServer.front());
        toServer.pop_front();
        server->receive(d, now);
      }
      while (!toClient.empty()) {
        auto d = std::move(toClient.front());
        toClient.pop_front();
        client->receive(d, now);
      }
    }
    if (!clientUp || !serverUp) state.SkipWithError("handshake failed");
  }
}
BENCHMARK(BM_DtlsHandshake)->Unit(benchmark::kMicrosecond);

}  // namespace
