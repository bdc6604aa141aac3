#include "sfu/DtlsSession.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "sfu/SrtpSession.hpp"
#include "unit/sfu/DtlsPair.hpp"

namespace meeting::sfu {
namespace {

using test::DtlsPair;
using namespace std::chrono_literals;

const TimePoint T0{Duration{1'000'000}};

TEST(DtlsCertificate, FingerprintIsSha256InSdpForm) {
  const auto& cert = DtlsPair::certificate(0);
  const std::string& fp = cert.fingerprintSdp();
  ASSERT_EQ(fp.rfind("sha-256 ", 0), 0u);
  EXPECT_EQ(fp.size(), 8 + 32 * 3 - 1);
  auto parsed = DtlsFingerprint::parse(fp);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->toSdp(), fp);
  EXPECT_NE(fp, DtlsPair::certificate(1).fingerprintSdp());
}

TEST(DtlsFingerprint, ParsesAndRejects) {
  EXPECT_TRUE(DtlsFingerprint::parse("SHA-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33").ok());
  EXPECT_FALSE(DtlsFingerprint::parse("md5 00:11").ok());
  EXPECT_FALSE(DtlsFingerprint::parse("sha-256 00:11").ok());
  EXPECT_FALSE(DtlsFingerprint::parse("sha-256").ok());
  EXPECT_FALSE(DtlsFingerprint::parse("sha-1 0G:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33").ok());
}

class DtlsHandshake : public ::testing::TestWithParam<SrtpProfile> {};

TEST_P(DtlsHandshake, CompletesAndAgreesOnKeys) {
  DtlsConfig clientConfig;
  clientConfig.srtpProfiles = {GetParam()};  // offer only one to force it
  DtlsPair pair(clientConfig);
  pair.client.session->start(T0);
  pair.server.session->start(T0);
  pair.pump(T0);
  ASSERT_TRUE(pair.client.connected) << pair.client.failure;
  ASSERT_TRUE(pair.server.connected) << pair.server.failure;
  EXPECT_EQ(pair.client.profile, GetParam());
  EXPECT_EQ(pair.server.profile, GetParam());
  EXPECT_EQ(pair.client.session->state(), DtlsState::Connected);
  EXPECT_EQ(pair.client.localKey.size(), srtpKeyingLength(GetParam()));
  // RFC 5764 §4.2: what one side sends with, the other receives with.
  EXPECT_EQ(pair.client.localKey, pair.server.remoteKey);
  EXPECT_EQ(pair.client.remoteKey, pair.server.localKey);
  EXPECT_NE(pair.client.localKey, pair.client.remoteKey);
  EXPECT_LE(pair.client.largestDatagram, 1200u);
  EXPECT_LE(pair.server.largestDatagram, 1200u);

  // The exported keys drive SRTP end to end.
  auto out = SrtpSession::create(SrtpSession::Direction::Outbound, GetParam(), pair.client.localKey);
  auto in = SrtpSession::create(SrtpSession::Direction::Inbound, GetParam(), pair.server.remoteKey);
  ASSERT_TRUE(out.ok() && in.ok());
  std::array<uint8_t, 256> pkt{0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7};
  size_t len = 100;
  ASSERT_EQ((*out)->protectRtp(pkt.data(), len, pkt.size()), SrtpStatus::Ok);
  EXPECT_EQ((*in)->unprotectRtp(pkt.data(), len), SrtpStatus::Ok);
}

INSTANTIATE_TEST_SUITE_P(Profiles, DtlsHandshake,
                         ::testing::Values(SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80),
                         [](const ::testing::TestParamInfo<SrtpProfile>& p) {
                           return p.param == SrtpProfile::AeadAes128Gcm ? std::string("Gcm")
                                                                        : std::string("CmSha1_80");
                         });

TEST(DtlsSession, ServerPrefersGcmWhenBothOffered) {
  DtlsConfig clientConfig;
  clientConfig.srtpProfiles = {SrtpProfile::AesCm128HmacSha1_80, SrtpProfile::AeadAes128Gcm};
  DtlsPair pair(clientConfig);
  pair.client.session->start(T0);
  pair.pump(T0);
  ASSERT_TRUE(pair.server.connected);
  EXPECT_EQ(pair.server.profile, SrtpProfile::AeadAes128Gcm);
}

TEST(DtlsSession, FingerprintMismatchFails) {
  DtlsPair pair({}, {}, false);
  // The server expects some other certificate than the client's.
  ASSERT_TRUE(pair.server.session->setRemoteFingerprint(DtlsPair::certificate(1).fingerprintSdp()).ok());
  ASSERT_TRUE(pair.client.session->setRemoteFingerprint(DtlsPair::certificate(1).fingerprintSdp()).ok());
  pair.client.session->start(T0);
  pair.pump(T0);
  EXPECT_FALSE(pair.server.connected);
  EXPECT_FALSE(pair.client.connected);
  EXPECT_EQ(pair.server.session->state(), DtlsState::Failed);
  EXPECT_NE(pair.server.failure.find("fingerprint"), std::string::npos) << pair.server.failure;
  EXPECT_EQ(pair.client.session->state(), DtlsState::Failed);  // got the alert
}

TEST(DtlsSession, ClientRejectsWrongServerFingerprint) {
  DtlsPair pair({}, {}, false);
  ASSERT_TRUE(pair.server.session->setRemoteFingerprint(DtlsPair::certificate(0).fingerprintSdp()).ok());
  ASSERT_TRUE(pair.client.session->setRemoteFingerprint(DtlsPair::certificate(0).fingerprintSdp()).ok());
  pair.client.session->start(T0);
  pair.pump(T0);
  EXPECT_EQ(pair.client.session->state(), DtlsState::Failed);
  EXPECT_NE(pair.client.failure.find("fingerprint"), std::string::npos) << pair.client.failure;
  EXPECT_FALSE(pair.server.connected);
}

TEST(DtlsSession, FingerprintArrivingAfterHandshakeIsChecked) {
  DtlsPair pair({}, {}, false);
  ASSERT_TRUE(pair.client.session->setRemoteFingerprint(DtlsPair::certificate(1).fingerprintSdp()).ok());
  pair.client.session->start(T0);
  pair.pump(T0);
  EXPECT_FALSE(pair.server.connected);  // waits for the remote SDP
  EXPECT_EQ(pair.server.session->state(), DtlsState::Connecting);
  ASSERT_TRUE(pair.server.session->setRemoteFingerprint(DtlsPair::certificate(0).fingerprintSdp()).ok());
  EXPECT_TRUE(pair.server.connected);
}

TEST(DtlsSession, LateWrongFingerprintFails) {
  DtlsPair pair({}, {}, false);
  ASSERT_TRUE(pair.client.session->setRemoteFingerprint(DtlsPair::certificate(1).fingerprintSdp()).ok());
  pair.client.session->start(T0);
  pair.pump(T0);
  ASSERT_TRUE(pair.server.session->setRemoteFingerprint(DtlsPair::certificate(1).fingerprintSdp()).ok());
  EXPECT_FALSE(pair.server.connected);
  EXPECT_EQ(pair.server.session->state(), DtlsState::Failed);
}

TEST(DtlsSession, RetransmitsAfterDroppedFlight) {
  DtlsConfig clientConfig, serverConfig;
  // OpenSSL 3.0 times DTLS retransmissions on the wall clock, so the test waits a little.
  clientConfig.initialRetransmitTimeout = 50ms;
  serverConfig.initialRetransmitTimeout = 50ms;
  DtlsPair pair(clientConfig, serverConfig);
  pair.client.session->start(T0);
  auto deadline = pair.client.session->nextTimeout(T0);
  ASSERT_TRUE(deadline.has_value());
  EXPECT_GT(*deadline, T0);
  EXPECT_LE(*deadline, T0 + 50ms);
  // Drop the client's whole first flight.
  pair.pump(T0, [](bool fromClient, size_t) { return fromClient; });
  pair.clientIndex = 0;
  EXPECT_FALSE(pair.server.connected);
  const size_t sentBefore = pair.client.sentDatagrams;
  std::this_thread::sleep_for(60ms);
  const TimePoint later = T0 + 60ms;
  pair.client.session->onTimeout(later);
  EXPECT_GT(pair.client.sentDatagrams, sentBefore);  // ClientHello again
  pair.pump(later);
  EXPECT_TRUE(pair.client.connected) << pair.client.failure;
  EXPECT_TRUE(pair.server.connected) << pair.server.failure;
}

TEST(DtlsSession, RetransmitsAfterDroppedServerFlight) {
  DtlsConfig clientConfig, serverConfig;
  clientConfig.initialRetransmitTimeout = 50ms;
  serverConfig.initialRetransmitTimeout = 50ms;
  DtlsPair pair(clientConfig, serverConfig);
  pair.client.session->start(T0);
  // Drop everything the server sends the first time (its ServerHello...ServerHelloDone flight).
  bool dropServer = true;
  pair.pump(T0, [&](bool fromClient, size_t) { return !fromClient && dropServer; });
  dropServer = false;
  EXPECT_FALSE(pair.client.connected);
  std::this_thread::sleep_for(60ms);
  pair.client.session->onTimeout(T0 + 60ms);  // client retransmits, server answers again
  pair.server.session->onTimeout(T0 + 60ms);
  pair.pump(T0 + 60ms);
  EXPECT_TRUE(pair.client.connected) << pair.client.failure;
  EXPECT_TRUE(pair.server.connected) << pair.server.failure;
}

TEST(DtlsSession, NoTimeoutBeforeStartOrAfterConnect) {
  DtlsPair pair;
  EXPECT_FALSE(pair.server.session->nextTimeout(T0).has_value());
  pair.client.session->start(T0);
  pair.pump(T0);
  ASSERT_TRUE(pair.client.connected);
  EXPECT_FALSE(pair.client.session->nextTimeout(T0).has_value());
}

TEST(DtlsSession, ApplicationDataBothWays) {
  DtlsPair pair;
  pair.client.session->start(T0);
  pair.pump(T0);
  ASSERT_TRUE(pair.client.connected && pair.server.connected);
  const std::vector<uint8_t> hello{'h', 'e', 'l', 'l', 'o'};
  std::vector<uint8_t> big(1100, 0xab);
  EXPECT_TRUE(pair.client.session->send(hello));
  EXPECT_TRUE(pair.server.session->send(big));
  pair.pump(T0);
  ASSERT_EQ(pair.server.received.size(), 1u);
  EXPECT_EQ(pair.server.received[0], hello);
  ASSERT_EQ(pair.client.received.size(), 1u);
  EXPECT_EQ(pair.client.received[0], big);
  EXPECT_GE(pair.client.session->maxApplicationDataSize(), 1100u);
  EXPECT_LT(pair.client.session->maxApplicationDataSize(), 1200u);
}

TEST(DtlsSession, CloseNotifyIsObserved) {
  DtlsPair pair;
  pair.client.session->start(T0);
  pair.pump(T0);
  ASSERT_TRUE(pair.server.connected);
  pair.server.session->close();
  EXPECT_EQ(pair.server.session->state(), DtlsState::Closed);
  EXPECT_FALSE(pair.server.session->send(std::vector<uint8_t>{1}));
  pair.pump(T0);
  EXPECT_TRUE(pair.client.closed);
  EXPECT_EQ(pair.client.session->state(), DtlsState::Closed);
  EXPECT_TRUE(pair.client.failure.empty());
}

TEST(DtlsSession, GarbageAndOversizedInputAreHarmless) {
  DtlsPair pair;
  pair.server.session->start(T0);
  std::vector<uint8_t> huge(DtlsSession::MaxDatagramSize + 1, 22);
  pair.server.session->receive(huge, T0);
  EXPECT_EQ(pair.server.session->droppedDatagrams(), 1u);
  // A record whose length overruns the datagram and a truncated header are discarded. (A
  // well-formed but unexpected record does abort OpenSSL's handshake; ICE authenticates the path.)
  std::vector<uint8_t> junk{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200, 1, 2, 3};
  pair.server.session->receive(junk, T0);
  pair.server.session->receive(std::vector<uint8_t>{22, 0xfe}, T0);
  EXPECT_EQ(pair.server.session->state(), DtlsState::Connecting) << pair.server.failure;
  // A real handshake still works afterwards.
  pair.client.session->start(T0);
  pair.pump(T0);
  EXPECT_TRUE(pair.server.connected) << pair.server.failure << " / " << pair.client.failure;
}

TEST(DtlsSession, LooksLikeDtls) {
  EXPECT_TRUE(DtlsSession::looksLikeDtls(std::vector<uint8_t>{22}));
  EXPECT_FALSE(DtlsSession::looksLikeDtls(std::vector<uint8_t>{0x80}));
  EXPECT_FALSE(DtlsSession::looksLikeDtls(std::vector<uint8_t>{0}));
  EXPECT_FALSE(DtlsSession::looksLikeDtls({}));
}

}  // namespace
}  // namespace meeting::sfu
