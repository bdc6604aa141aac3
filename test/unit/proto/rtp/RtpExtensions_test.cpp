#include "proto/rtp/RtpExtensions.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace meeting::proto::rtp {
namespace {

// An Opus packet as Chromium sends it: ssrc-audio-level (id 1), abs-send-time (id 2),
// transport-wide-cc (id 3), mid (id 4).
std::vector<uint8_t> chromiumAudio() {
  return {0x90, 0x6F, 0x00, 0x07, 0x00, 0x00, 0x03, 0xC0, 0x11, 0x22, 0x33, 0x44,
          0xBE, 0xDE, 0x00, 0x03,
          0x10, 0x9E,              // id 1 len 1: V=1, level 30
          0x22, 0x40, 0x00, 0x00,  // id 2: abs-send-time 0x400000 = 16 s
          0x31, 0x01, 0x00,        // id 3: twcc 256
          0x40, 'a',               // id 4: mid "a"
          0x00,
          0xF8, 0xFF, 0xFE};
}

TEST(RtpExtensions, ReadsChromiumAudioExtensions) {
  auto b = chromiumAudio();
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  auto level = readAudioLevel(*p, 1);
  ASSERT_TRUE(level);
  EXPECT_TRUE(level->voiceActivity);
  EXPECT_EQ(level->level, 30);
  auto ast = readAbsSendTime(*p, 2);
  ASSERT_TRUE(ast);
  EXPECT_EQ(absSendTimeToMicros(*ast), 16'000'000);
  EXPECT_EQ(readTransportSequence(*p, 3), 256);
  EXPECT_EQ(readMid(*p, 4), "a");
  EXPECT_FALSE(readVideoOrientation(*p, 13));
}

TEST(RtpExtensions, ReadsVideoIdsAndOrientation) {
  std::vector<uint8_t> b = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE, 0x00, 0x03,
                            0xA0, 'h',          // id 10 rid "h"
                            0xB0, 'l',          // id 11 repaired rid "l"
                            0xD0, 0x0B,         // id 13 CVO: C=1 F=0 R=3 (270 degrees)
                            0xC2, 0x80, 0x01, 0x02,  // id 12: dependency descriptor (3 bytes)
                            0x00, 0x00};
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(readRid(*p, 10), "h");
  EXPECT_EQ(readRepairedRid(*p, 11), "l");
  auto cvo = readVideoOrientation(*p, 13);
  ASSERT_TRUE(cvo);
  EXPECT_TRUE(cvo->backCamera);
  EXPECT_FALSE(cvo->horizontalFlip);
  EXPECT_EQ(cvo->rotationDegrees, 270);
  auto dd = readDependencyDescriptor(*p, 12);
  ASSERT_EQ(dd.size(), 3u);
  EXPECT_EQ(dd[0], 0x80);
}

TEST(RtpExtensions, WrongSizesReadAsAbsent) {
  std::vector<uint8_t> b = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE, 0x00, 0x01,
                            0x21, 0x01, 0x02,  // id 2 with 2 bytes: not abs-send-time sized
                            0x00};
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_FALSE(readAbsSendTime(*p, 2));
  EXPECT_FALSE(writeAbsSendTime(*p, 2, 1));
  EXPECT_EQ(readTransportSequence(*p, 2), 0x0102);
  EXPECT_FALSE(writeTransportSequence(*p, 0, 1));
}

TEST(RtpExtensions, AbsSendTimeConversions) {
  EXPECT_EQ(absSendTimeFromMicros(16'000'000), 0x400000u);
  EXPECT_EQ(absSendTimeFromMicros(64'000'000), 0u);  // wraps every 64 s
  EXPECT_EQ(absSendTimeFromMicros(65'000'000), absSendTimeFromMicros(1'000'000));
  EXPECT_EQ(absSendTimeToMicros(absSendTimeFromMicros(1'500'000)), 1'500'000);
  EXPECT_NEAR(absSendTimeToMicros(absSendTimeFromMicros(1'234'567)), 1'234'567, 4);  // 2^-18 s resolution
}

}  // namespace
}  // namespace meeting::proto::rtp
