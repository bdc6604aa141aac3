#include <gtest/gtest.h>

#include <vector>

#include "proto/rtcp/Rtcp.hpp"
#include "unit/proto/rtcp/RtcpTestUtil.hpp"

namespace meeting::proto::rtcp {
namespace {

using testing::allPackets;

std::vector<uint8_t> pli() { return {0x81, 0xCE, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2}; }
std::vector<uint8_t> emptyRr() { return {0x80, 0xC9, 0x00, 0x01, 0, 0, 0, 9}; }

std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(CompoundReader, WalksPacketsAndStopsAtTheEnd) {
  auto bytes = concat(emptyRr(), pli());
  bool ok = false;
  auto packets = allPackets(bytes, ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0].packetType(), PacketType::ReceiverReport);
  EXPECT_EQ(packets[0].body.size(), 4u);
  EXPECT_TRUE(packets[1].is(PacketType::PayloadFeedback, psfb::Pli));
  EXPECT_TRUE(CompoundReader::validate(bytes));
  EXPECT_FALSE(CompoundReader::validate({}));
  EXPECT_TRUE(looksLikeRtcp(bytes));
}

TEST(CompoundReader, RejectsLyingLengths) {
  auto bytes = concat(emptyRr(), pli());
  bytes[3] = 0x05;  // RR claims 24 bytes; only 20 in total
  EXPECT_FALSE(CompoundReader::validate(bytes));
  bytes = concat(emptyRr(), pli());
  bytes[8 + 3] = 0x03;  // PLI claims 16 bytes, 12 present
  bool ok = true;
  auto packets = allPackets(bytes, ok);
  EXPECT_FALSE(ok);
  EXPECT_EQ(packets.size(), 1u);  // the RR before it was fine
  bytes = concat(emptyRr(), pli());
  bytes[2] = 0xFF;  // 64k words
  EXPECT_FALSE(CompoundReader::validate(bytes));
}

TEST(CompoundReader, RejectsTruncationsAndTrailingBytes) {
  auto full = concat(emptyRr(), pli());
  for (size_t len = 1; len < full.size(); ++len) {
    std::vector<uint8_t> b(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
    EXPECT_EQ(CompoundReader::validate(b), len == 8) << len;
  }
  auto extra = full;
  extra.push_back(0x80);
  EXPECT_FALSE(CompoundReader::validate(extra));
}

TEST(CompoundReader, RejectsBadVersion) {
  auto b = pli();
  b[0] = 0x41;
  EXPECT_FALSE(CompoundReader::validate(b));
}

TEST(CompoundReader, PaddingRules) {
  // RR + 4 bytes padding (count 4).
  std::vector<uint8_t> padded = {0xA0, 0xC9, 0x00, 0x02, 0, 0, 0, 9, 0, 0, 0, 4};
  bool ok = false;
  auto packets = allPackets(padded, ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0].body.size(), 4u);
  EXPECT_TRUE(ReceiverReport::parse(packets[0]));
  // Padding count 0.
  padded.back() = 0;
  EXPECT_FALSE(CompoundReader::validate(padded));
  // Padding count larger than the body.
  padded.back() = 9;
  EXPECT_FALSE(CompoundReader::validate(padded));
  // Padding eating the whole body is allowed by the walk but leaves no SSRC for the RR.
  padded.back() = 8;
  packets = allPackets(padded, ok);
  ASSERT_TRUE(ok);
  EXPECT_FALSE(ReceiverReport::parse(packets[0]));
  // A padded packet followed by another one (libwebrtc compounds padded feedback) is accepted.
  padded.back() = 4;
  EXPECT_TRUE(CompoundReader::validate(concat(padded, pli())));
}

}  // namespace
}  // namespace meeting::proto::rtcp
