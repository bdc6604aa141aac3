#include "proto/rtp/RtpPacket.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "proto/rtp/RtpExtensions.hpp"

namespace meeting::proto::rtp {
namespace {

// A VP8 packet in the shape Chromium sends: one-byte extensions abs-send-time (id 2),
// transport-wide-cc (id 3) and sdes:mid (id 4), then padding to 32 bits, then payload.
std::vector<uint8_t> chromiumVideo() {
  return {0x90, 0xE0, 0x12, 0x34,  // V=2 X=1, M=1 PT=96, seq 0x1234
          0x00, 0x01, 0x02, 0x03,  // timestamp
          0xDE, 0xAD, 0xBE, 0xEF,  // SSRC
          0xBE, 0xDE, 0x00, 0x03,  // one-byte profile, 3 words
          0x22, 0x12, 0x34, 0x56,  // id 2 len 3: abs-send-time
          0x31, 0x00, 0x2A,        // id 3 len 2: twcc seq 42
          0x40, '0',               // id 4 len 1: mid "0"
          0x00, 0x00, 0x00,        // padding
          0x90, 0xE0, 0x3B, 0x10, 0x00};  // VP8 payload
}

TEST(RtpPacket, ParsesChromiumVideoPacket) {
  auto bytes = chromiumVideo();
  auto p = RtpPacket::parse(bytes);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->version(), 2);
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->payloadType(), 96);
  EXPECT_EQ(p->sequenceNumber(), 0x1234);
  EXPECT_EQ(p->timestamp(), 0x00010203u);
  EXPECT_EQ(p->ssrc(), 0xDEADBEEFu);
  EXPECT_EQ(p->csrcCount(), 0);
  EXPECT_TRUE(p->hasOneByteExtensions());
  EXPECT_EQ(p->headerSize(), 28u);
  EXPECT_EQ(p->payloadSize(), 5u);
  EXPECT_EQ(p->paddingSize(), 0u);
  EXPECT_EQ(p->payload()[0], 0x90);
  EXPECT_EQ(readAbsSendTime(*p, 2), 0x123456u);
  EXPECT_EQ(readTransportSequence(*p, 3), 42);
  EXPECT_EQ(readMid(*p, 4), "0");
  EXPECT_FALSE(p->hasExtensionId(5));
  EXPECT_TRUE(p->extension(5).empty());
  EXPECT_FALSE(readAbsSendTime(*p, 0));  // id 0: not negotiated
  int n = 0;
  p->forEachExtension([&](uint8_t id, std::span<const uint8_t> v) {
    ++n;
    EXPECT_EQ(v.size(), id == 2 ? 3u : id == 3 ? 2u : 1u);
  });
  EXPECT_EQ(n, 3);
}

TEST(RtpPacket, RewritesHeaderInPlace) {
  auto bytes = chromiumVideo();
  auto p = RtpPacket::parse(bytes);
  ASSERT_TRUE(p);
  p->setSsrc(0x01020304);
  p->setSequenceNumber(0xFFFF);
  p->setTimestamp(0xA0B0C0D0);
  p->setPayloadType(100);
  p->setMarker(false);
  EXPECT_TRUE(writeTransportSequence(*p, 3, 7));
  EXPECT_TRUE(writeAbsSendTime(*p, 2, 0xABCDEF));
  auto again = RtpPacket::parse(bytes);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->ssrc(), 0x01020304u);
  EXPECT_EQ(again->sequenceNumber(), 0xFFFF);
  EXPECT_EQ(again->timestamp(), 0xA0B0C0D0u);
  EXPECT_EQ(again->payloadType(), 100);
  EXPECT_FALSE(again->marker());
  EXPECT_EQ(readTransportSequence(*again, 3), 7);
  EXPECT_EQ(readAbsSendTime(*again, 2), 0xABCDEFu);
  EXPECT_EQ(bytes[0], 0x90);  // V/X untouched
}

TEST(RtpPacket, SetExtensionOnlySameLength) {
  auto bytes = chromiumVideo();
  auto p = RtpPacket::parse(bytes);
  ASSERT_TRUE(p);
  const uint8_t mid[] = {'7'};
  const uint8_t tooLong[] = {'1', '2'};
  EXPECT_TRUE(p->setExtension(4, mid));
  EXPECT_EQ(readMid(*p, 4), "7");
  EXPECT_FALSE(p->setExtension(4, tooLong));
  EXPECT_FALSE(p->setExtension(9, mid));
  EXPECT_EQ(readMid(*p, 4), "7");
}

TEST(RtpPacket, RemapsExtensionIds) {
  auto bytes = chromiumVideo();
  auto p = RtpPacket::parse(bytes);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->remapExtensionId(3, 2));   // target in use
  EXPECT_FALSE(p->remapExtensionId(3, 15));  // not a one-byte id
  EXPECT_FALSE(p->remapExtensionId(9, 5));   // absent
  EXPECT_TRUE(p->remapExtensionId(3, 5));
  EXPECT_EQ(readTransportSequence(*p, 5), 42);
  EXPECT_FALSE(p->hasExtensionId(3));
  auto again = RtpPacket::parse(bytes);
  ASSERT_TRUE(again);
  EXPECT_EQ(readTransportSequence(*again, 5), 42);
  EXPECT_EQ(readAbsSendTime(*again, 2), 0x123456u);
}

TEST(RtpPacket, ParsesCsrcsAndPadding) {
  std::vector<uint8_t> b = {0xA2, 0x08, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 2,  // P=1 CC=2
                            0, 0, 0, 10, 0, 0, 0, 11,                        // CSRCs
                            0xAA, 0xBB, 0x00, 0x00, 0x03};                   // payload + 3 padding
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->csrcCount(), 2);
  EXPECT_EQ(p->csrc(0), 10u);
  EXPECT_EQ(p->csrc(1), 11u);
  EXPECT_TRUE(p->hasPadding());
  EXPECT_EQ(p->paddingSize(), 3u);
  EXPECT_EQ(p->payloadSize(), 2u);
  EXPECT_FALSE(p->hasExtension());
  EXPECT_TRUE(p->extensionBlock().empty());
}

TEST(RtpPacket, PaddingOnlyPacket) {
  // Chromium's bandwidth probes: header + padding, empty payload.
  std::vector<uint8_t> b(12 + 8, 0);
  b[0] = 0xA0;
  b[1] = 96;
  b.back() = 8;
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payloadSize(), 0u);
  EXPECT_EQ(p->paddingSize(), 8u);
}

TEST(RtpPacket, RejectsMalformed) {
  // Version 1.
  auto b = chromiumVideo();
  b[0] = 0x50;
  EXPECT_FALSE(RtpPacket::parse(b));
  // Too short.
  std::vector<uint8_t> tiny = {0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(RtpPacket::parse(tiny));
  // CSRC count larger than the data.
  std::vector<uint8_t> csrc = {0x8F, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5};
  EXPECT_FALSE(RtpPacket::parse(csrc));
  // Extension length larger than the data.
  b = chromiumVideo();
  b[15] = 0x09;
  EXPECT_FALSE(RtpPacket::parse(b));
  // Extension header cut.
  std::vector<uint8_t> cut = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE};
  EXPECT_FALSE(RtpPacket::parse(cut));
  // Padding count 0 and padding longer than the payload.
  std::vector<uint8_t> pad = {0xA0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xAA, 0x00};
  EXPECT_FALSE(RtpPacket::parse(pad));
  pad.back() = 3;
  EXPECT_FALSE(RtpPacket::parse(pad));
  pad.back() = 2;
  EXPECT_TRUE(RtpPacket::parse(pad));
  // Length beyond the buffer.
  b = chromiumVideo();
  EXPECT_FALSE(RtpPacket::parse(std::span<uint8_t>(b), b.size() + 1));
}

TEST(RtpPacket, EveryTruncationIsSafe) {
  auto full = chromiumVideo();
  for (size_t len = 0; len < full.size(); ++len) {
    std::vector<uint8_t> b(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
    auto p = RtpPacket::parse(b);
    if (len < 28) {
      EXPECT_FALSE(p) << len;
    } else {
      ASSERT_TRUE(p) << len;
      EXPECT_EQ(p->payloadSize(), len - 28);
    }
  }
}

TEST(RtpPacket, OneByteIdFifteenStopsTheWalk) {
  std::vector<uint8_t> b = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE, 0x00, 0x02,
                            0x10, 0x55,        // id 1 len 1
                            0xF0, 0x20, 0x66,  // id 15: stop here (the "id 2" after is ignored)
                            0x00, 0x00, 0x00};
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extension(1).size(), 1u);
  EXPECT_FALSE(p->hasExtensionId(2));
  EXPECT_FALSE(p->hasExtensionId(15));
}

TEST(RtpPacket, MalformedElementKeepsEarlierOnes) {
  std::vector<uint8_t> b = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE, 0x00, 0x01,
                            0x10, 0x55,   // id 1 len 1
                            0x2F, 0x00};  // id 2 claims 16 bytes, only 1 left
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->hasExtensionId(1));
  EXPECT_FALSE(p->hasExtensionId(2));
}

TEST(RtpPacket, TwoByteExtensions) {
  std::vector<uint8_t> b = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x10, 0x00, 0x00, 0x03,
                            0x01, 0x00,              // id 1, empty value
                            0x00,                    // padding
                            0x20, 0x03, 'a', 'b', 'c',  // id 32 len 3 (beyond one-byte ids)
                            0x05, 0x01, 0x7F,        // id 5 len 1
                            0x00};
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->hasTwoByteExtensions());
  EXPECT_TRUE(p->hasExtensionId(1));
  EXPECT_TRUE(p->extension(1).empty());
  EXPECT_EQ(readRid(*p, 32), "abc");
  auto level = readAudioLevel(*p, 5);
  ASSERT_TRUE(level);
  EXPECT_FALSE(level->voiceActivity);
  EXPECT_EQ(level->level, 127);
  EXPECT_TRUE(p->remapExtensionId(32, 200));
  EXPECT_EQ(readRid(*p, 200), "abc");
}

TEST(RtpPacket, ManyExtensionsBeyondTheCache) {
  // 20 two-byte elements with ids 1..20: lookups past the cache walk the block.
  std::vector<uint8_t> b = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x10, 0x00, 0x00, 0x0F};
  for (uint8_t id = 1; id <= 20; ++id) {
    b.push_back(id);
    b.push_back(1);
    b.push_back(static_cast<uint8_t>(id * 3));
  }
  b.resize(16 + 60, 0);
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  for (uint8_t id = 1; id <= 20; ++id) {
    auto v = p->extension(id);
    ASSERT_EQ(v.size(), 1u) << int{id};
    EXPECT_EQ(v[0], id * 3);
  }
  const uint8_t nv[] = {9};
  EXPECT_TRUE(p->setExtension(19, nv));
  EXPECT_EQ(p->extension(19)[0], 9);
}

TEST(RtpPacket, UnknownProfileHasNoElements) {
  std::vector<uint8_t> b = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xAB, 0xCD, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44};
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extensionProfile(), 0xABCD);
  EXPECT_EQ(p->extensionBlock().size(), 4u);
  EXPECT_FALSE(p->hasExtensionId(1));
}

TEST(RtpPacket, DemuxesRtpFromRtcp) {
  auto b = chromiumVideo();
  EXPECT_TRUE(RtpPacket::looksLikeRtp(b));
  b[1] = 200;  // SR
  EXPECT_FALSE(RtpPacket::looksLikeRtp(b));
  b[1] = 0x80 | 96;
  EXPECT_TRUE(RtpPacket::looksLikeRtp(b));
}

}  // namespace
}  // namespace meeting::proto::rtp
