#include "proto/rtp/Rtx.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "proto/rtp/RtpExtensions.hpp"

namespace meeting::proto::rtp {
namespace {

std::vector<uint8_t> original() {
  return {0xB0, 0xE0, 0x12, 0x34, 0x00, 0x01, 0x02, 0x03, 0xDE, 0xAD, 0xBE, 0xEF,  // P=1 X=1 M=1
          0xBE, 0xDE, 0x00, 0x01, 0x31, 0x00, 0x2A, 0x00,                          // twcc 42
          0x01, 0x02, 0x03, 0x04, 0x05,                                            // payload
          0x00, 0x00, 0x03};                                                       // padding
}

TEST(Rtx, BuildsAndRecovers) {
  auto bytes = original();
  auto orig = RtpPacket::parse(bytes);
  ASSERT_TRUE(orig);
  std::array<uint8_t, 1500> buf{};
  auto rtx = buildRtx(*orig, RtxParams{97, 0x0A0B0C0D, 500}, buf);
  ASSERT_TRUE(rtx);
  EXPECT_EQ(rtx->size(), 20u + 2 + 5);
  EXPECT_EQ(rtx->payloadType(), 97);
  EXPECT_EQ(rtx->ssrc(), 0x0A0B0C0Du);
  EXPECT_EQ(rtx->sequenceNumber(), 500);
  EXPECT_EQ(rtx->timestamp(), 0x00010203u);
  EXPECT_TRUE(rtx->marker());
  EXPECT_FALSE(rtx->hasPadding());
  EXPECT_EQ(readTransportSequence(*rtx, 3), 42);
  ASSERT_EQ(rtx->payloadSize(), 7u);
  EXPECT_EQ(rtx->payload()[0], 0x12);  // OSN
  EXPECT_EQ(rtx->payload()[1], 0x34);
  EXPECT_EQ(rtx->payload()[2], 0x01);

  std::array<uint8_t, 1500> out{};
  auto rec = recoverFromRtx(*rtx, 96, 0xDEADBEEF, out);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->sequenceNumber(), 0x1234);
  EXPECT_EQ(rec->payloadType(), 96);
  EXPECT_EQ(rec->ssrc(), 0xDEADBEEFu);
  EXPECT_TRUE(rec->marker());
  ASSERT_EQ(rec->payloadSize(), 5u);
  EXPECT_EQ(rec->payload()[4], 0x05);
  EXPECT_EQ(readTransportSequence(*rec, 3), 42);
}

TEST(Rtx, RecoversInPlace) {
  auto bytes = original();
  auto orig = RtpPacket::parse(bytes);
  ASSERT_TRUE(orig);
  std::array<uint8_t, 64> buf{};
  auto rtx = buildRtx(*orig, RtxParams{97, 1, 2}, buf);
  ASSERT_TRUE(rtx);
  auto rec = recoverFromRtx(*rtx, 96, 0xDEADBEEF, buf);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->data().data(), buf.data());
  EXPECT_EQ(rec->sequenceNumber(), 0x1234);
  ASSERT_EQ(rec->payloadSize(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(rec->payload()[i], i + 1);
}

TEST(Rtx, RejectsShortBuffersAndPaddingOnlyRtx) {
  auto bytes = original();
  auto orig = RtpPacket::parse(bytes);
  ASSERT_TRUE(orig);
  std::array<uint8_t, 26> small{};
  EXPECT_FALSE(buildRtx(*orig, RtxParams{97, 1, 2}, small));
  std::array<uint8_t, 27> exact{};
  EXPECT_TRUE(buildRtx(*orig, RtxParams{97, 1, 2}, exact));

  // An RTX padding-only probe carries no OSN.
  std::vector<uint8_t> probe(12 + 4, 0);
  probe[0] = 0xA0;
  probe[1] = 97;
  probe.back() = 4;
  auto p = RtpPacket::parse(probe);
  ASSERT_TRUE(p);
  std::array<uint8_t, 64> out{};
  EXPECT_FALSE(recoverFromRtx(*p, 96, 1, out));
  EXPECT_FALSE(recoverFromRtx(RtpPacket{}, 96, 1, out));
}

}  // namespace
}  // namespace meeting::proto::rtp
