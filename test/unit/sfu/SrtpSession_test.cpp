#include "sfu/SrtpSession.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

namespace meeting::sfu {
namespace {

std::vector<uint8_t> keyFor(SrtpProfile p, uint8_t seed) {
  std::vector<uint8_t> key(srtpKeyingLength(p));
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(seed + i * 7);
  return key;
}

// A minimal RTP packet: V=2, PT 96, the given sequence number, SSRC 0x11223344, payload pattern.
size_t makeRtp(uint8_t* buf, uint16_t seq, size_t payload) {
  const uint8_t header[12] = {0x80, 96, uint8_t(seq >> 8), uint8_t(seq), 0, 0, 0x10, 0x00, 0x11, 0x22, 0x33, 0x44};
  std::copy(std::begin(header), std::end(header), buf);
  for (size_t i = 0; i < payload; ++i) buf[12 + i] = static_cast<uint8_t>(i * 31 + seq);
  return 12 + payload;
}

// An RTCP receiver report with no report blocks (RFC 3550 §6.4.2).
size_t makeRtcp(uint8_t* buf) {
  const uint8_t rr[8] = {0x80, 201, 0, 1, 0x55, 0x66, 0x77, 0x88};
  std::copy(std::begin(rr), std::end(rr), buf);
  return sizeof rr;
}

class SrtpRoundTrip : public ::testing::TestWithParam<SrtpProfile> {
 protected:
  void SetUp() override {
    const auto key = keyFor(GetParam(), 3);
    auto out = SrtpSession::create(SrtpSession::Direction::Outbound, GetParam(), key);
    auto in = SrtpSession::create(SrtpSession::Direction::Inbound, GetParam(), key);
    ASSERT_TRUE(out.ok()) << out.error().message;
    ASSERT_TRUE(in.ok()) << in.error().message;
    sender = std::move(*out);
    receiver = std::move(*in);
  }
  std::unique_ptr<SrtpSession> sender, receiver;
};

TEST_P(SrtpRoundTrip, RtpProtectUnprotectRestoresPacket) {
  std::array<uint8_t, 1500> buf{}, original{};
  for (uint16_t seq = 1000; seq < 1010; ++seq) {
    size_t len = makeRtp(buf.data(), seq, 1200 - 12);
    makeRtp(original.data(), seq, 1200 - 12);
    ASSERT_EQ(sender->protectRtp(buf.data(), len, buf.size()), SrtpStatus::Ok);
    EXPECT_EQ(len, 1200 + sender->rtpOverhead());
    EXPECT_NE(0, std::memcmp(buf.data() + 12, original.data() + 12, 100));  // payload encrypted
    ASSERT_EQ(receiver->unprotectRtp(buf.data(), len), SrtpStatus::Ok);
    ASSERT_EQ(len, 1200u);
    EXPECT_EQ(0, std::memcmp(buf.data(), original.data(), len));
  }
}

TEST_P(SrtpRoundTrip, TamperedByteFailsAuthentication) {
  std::array<uint8_t, 1500> buf{};
  size_t len = makeRtp(buf.data(), 7, 200);
  ASSERT_EQ(sender->protectRtp(buf.data(), len, buf.size()), SrtpStatus::Ok);
  buf[40] ^= 0x01;
  EXPECT_EQ(receiver->unprotectRtp(buf.data(), len), SrtpStatus::AuthFail);
}

TEST_P(SrtpRoundTrip, ReplayedPacketIsRejected) {
  std::array<uint8_t, 1500> buf{}, copy{};
  size_t len = makeRtp(buf.data(), 42, 200);
  ASSERT_EQ(sender->protectRtp(buf.data(), len, buf.size()), SrtpStatus::Ok);
  copy = buf;
  size_t copyLen = len;
  ASSERT_EQ(receiver->unprotectRtp(buf.data(), len), SrtpStatus::Ok);
  EXPECT_EQ(receiver->unprotectRtp(copy.data(), copyLen), SrtpStatus::ReplayFail);
}

TEST_P(SrtpRoundTrip, RepeatedTransmissionIsAllowedOnSend) {
  // allow_repeat_tx: a NACKed packet protected again with the same sequence number.
  std::array<uint8_t, 1500> buf{};
  size_t len = makeRtp(buf.data(), 9, 100);
  ASSERT_EQ(sender->protectRtp(buf.data(), len, buf.size()), SrtpStatus::Ok);
  len = makeRtp(buf.data(), 9, 100);
  EXPECT_EQ(sender->protectRtp(buf.data(), len, buf.size()), SrtpStatus::Ok);
}

TEST_P(SrtpRoundTrip, RtcpRoundTripTamperAndReplay) {
  std::array<uint8_t, 256> buf{}, original{}, copy{};
  size_t len = makeRtcp(buf.data());
  makeRtcp(original.data());
  ASSERT_EQ(sender->protectRtcp(buf.data(), len, buf.size()), SrtpStatus::Ok);
  EXPECT_EQ(len, 8 + sender->rtcpOverhead());
  copy = buf;
  size_t copyLen = len;
  ASSERT_EQ(receiver->unprotectRtcp(buf.data(), len), SrtpStatus::Ok);
  ASSERT_EQ(len, 8u);
  EXPECT_EQ(0, std::memcmp(buf.data(), original.data(), 8));
  EXPECT_EQ(receiver->unprotectRtcp(copy.data(), copyLen), SrtpStatus::ReplayFail);

  len = makeRtcp(buf.data());
  ASSERT_EQ(sender->protectRtcp(buf.data(), len, buf.size()), SrtpStatus::Ok);
  buf[5] ^= 0x80;
  EXPECT_EQ(receiver->unprotectRtcp(buf.data(), len), SrtpStatus::AuthFail);
}

TEST_P(SrtpRoundTrip, BoundsAndDirectionAreChecked) {
  std::array<uint8_t, 1500> buf{};
  size_t len = makeRtp(buf.data(), 1, 100);
  EXPECT_EQ(sender->protectRtp(buf.data(), len, len + 2), SrtpStatus::BufferTooSmall);
  size_t tiny = 5;
  EXPECT_EQ(sender->protectRtp(buf.data(), tiny, buf.size()), SrtpStatus::BadPacket);
  EXPECT_EQ(receiver->unprotectRtp(buf.data(), tiny), SrtpStatus::BadPacket);
  EXPECT_EQ(receiver->protectRtp(buf.data(), len, buf.size()), SrtpStatus::WrongDirection);
  EXPECT_EQ(sender->unprotectRtp(buf.data(), len), SrtpStatus::WrongDirection);
}

TEST_P(SrtpRoundTrip, WrongKeyFailsAuthentication) {
  auto other = SrtpSession::create(SrtpSession::Direction::Inbound, GetParam(), keyFor(GetParam(), 99));
  ASSERT_TRUE(other.ok());
  std::array<uint8_t, 1500> buf{};
  size_t len = makeRtp(buf.data(), 5, 300);
  ASSERT_EQ(sender->protectRtp(buf.data(), len, buf.size()), SrtpStatus::Ok);
  EXPECT_EQ((*other)->unprotectRtp(buf.data(), len), SrtpStatus::AuthFail);
}

INSTANTIATE_TEST_SUITE_P(Profiles, SrtpRoundTrip,
                         ::testing::Values(SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80),
                         [](const ::testing::TestParamInfo<SrtpProfile>& p) {
                           return p.param == SrtpProfile::AeadAes128Gcm ? std::string("Gcm")
                                                                        : std::string("CmSha1_80");
                         });

TEST(SrtpSession, RejectsWrongKeyLength) {
  std::vector<uint8_t> key(10);
  EXPECT_FALSE(SrtpSession::create(SrtpSession::Direction::Inbound, SrtpProfile::AeadAes128Gcm, key).ok());
  EXPECT_FALSE(SrtpSession::create(SrtpSession::Direction::Inbound, SrtpProfile::None, key).ok());
}

}  // namespace
}  // namespace meeting::sfu
