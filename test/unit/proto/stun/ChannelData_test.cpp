// TURN ChannelData framing (RFC 8656 §12.4/§12.5) and stream frame boundaries.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "proto/stun/Stun.hpp"
#include "unit/proto/stun/StunTestVectors.hpp"

namespace meeting::proto::stun {
namespace {

TEST(ChannelData, ParsesUnpaddedAndPaddedForms) {
  const std::vector<uint8_t> unpadded = {0x40, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5};
  auto cd = parseChannelData(unpadded);
  ASSERT_TRUE(cd);
  EXPECT_EQ(cd->channel, 0x4001);
  EXPECT_EQ(cd->payload.size(), 5u);
  EXPECT_EQ(cd->payload[4], 5);

  auto padded = unpadded;
  padded.insert(padded.end(), {0, 0, 0});
  cd = parseChannelData(padded);
  ASSERT_TRUE(cd);
  EXPECT_EQ(cd->payload.size(), 5u);

  const std::vector<uint8_t> empty = {0x4F, 0xFF, 0x00, 0x00};
  cd = parseChannelData(empty);
  ASSERT_TRUE(cd);
  EXPECT_EQ(cd->channel, 0x4FFF);
  EXPECT_TRUE(cd->payload.empty());
}

TEST(ChannelData, RejectsMalformed) {
  EXPECT_FALSE(parseChannelData(std::vector<uint8_t>{0x40, 0x01, 0x00}));
  EXPECT_FALSE(parseChannelData(std::vector<uint8_t>{0x40, 0x01, 0x00, 0x05, 1, 2, 3, 4}));  // short
  EXPECT_FALSE(parseChannelData(std::vector<uint8_t>{0x40, 0x01, 0x00, 0x01, 1, 0, 0, 0, 0}));  // extra
  EXPECT_FALSE(parseChannelData(std::vector<uint8_t>{0x3F, 0xFF, 0x00, 0x00}));  // channel too low
  EXPECT_FALSE(parseChannelData(std::vector<uint8_t>{0x50, 0x00, 0x00, 0x00}));  // channel too high
  EXPECT_FALSE(parseChannelData(std::vector<uint8_t>{0x7F, 0xFF, 0x00, 0x00}));
}

TEST(ChannelData, BuildsAndRoundTrips) {
  const std::array<uint8_t, 6> payload = {1, 2, 3, 4, 5, 6};
  std::array<uint8_t, 16> buf{};
  for (bool pad : {false, true}) {
    ByteWriter w(buf);
    ASSERT_TRUE(writeChannelData(w, 0x4abc, payload, pad));
    EXPECT_EQ(w.size(), pad ? 12u : 10u);
    auto cd = parseChannelData(w.written());
    ASSERT_TRUE(cd);
    EXPECT_EQ(cd->channel, 0x4abc);
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), cd->payload.begin(), cd->payload.end()));
  }
  ByteWriter w(buf);
  EXPECT_FALSE(writeChannelData(w, 0x3fff, payload, false));
  EXPECT_FALSE(writeChannelData(w, 0x5000, payload, false));
  std::array<uint8_t, 11> small{};
  ByteWriter ws(small);
  EXPECT_FALSE(writeChannelData(ws, 0x4000, payload, true));
  ByteWriter wh(buf);
  EXPECT_TRUE(writeChannelDataHeader(wh, 0x4000, 1200));
  EXPECT_FALSE(writeChannelDataHeader(wh, 0x4000, 70000));
}

TEST(StreamFrame, FindsStunAndChannelDataBoundaries) {
  using testing::SampleRequest;
  EXPECT_EQ(findStreamFrame({}).kind, FrameKind::NeedMore);
  EXPECT_EQ(findStreamFrame(std::span(SampleRequest).first(7)).kind, FrameKind::NeedMore);
  auto f = findStreamFrame(std::span(SampleRequest).first(8));
  EXPECT_EQ(f.kind, FrameKind::Stun);
  EXPECT_EQ(f.size, SampleRequest.size());

  // A stream holding a ChannelData (padded), then a STUN message.
  std::vector<uint8_t> stream = {0x40, 0x00, 0x00, 0x03, 7, 7, 7, 0};
  stream.insert(stream.end(), SampleRequest.begin(), SampleRequest.end());
  f = findStreamFrame(stream);
  EXPECT_EQ(f.kind, FrameKind::ChannelData);
  EXPECT_EQ(f.size, 8u);
  EXPECT_TRUE(parseChannelData(std::span(stream).first(f.size)));
  auto rest = std::span(stream).subspan(f.size);
  f = findStreamFrame(rest);
  EXPECT_EQ(f.kind, FrameKind::Stun);
  ASSERT_LE(f.size, rest.size());
  EXPECT_TRUE(StunMessage::parse(rest.first(f.size)));
  EXPECT_EQ(findStreamFrame(std::span(stream).first(3)).kind, FrameKind::NeedMore);

  EXPECT_EQ(findStreamFrame(std::vector<uint8_t>{0x16, 0xfe, 0xfd}).kind, FrameKind::Invalid);  // DTLS
  EXPECT_EQ(findStreamFrame(std::vector<uint8_t>{0x80}).kind, FrameKind::Invalid);              // RTP
  EXPECT_EQ(findStreamFrame(std::vector<uint8_t>{0x00, 0x01, 0x00, 0x02, 0x21, 0x12, 0xa4, 0x42}).kind,
            FrameKind::Invalid);  // length not a multiple of 4
  EXPECT_EQ(findStreamFrame(std::vector<uint8_t>{0x00, 0x01, 0x00, 0x04, 0x21, 0x12, 0xa4, 0x43}).kind,
            FrameKind::Invalid);  // bad cookie
}

}  // namespace
}  // namespace meeting::proto::stun
