// RFC 7983 first-byte demultiplexing and RFC 5761 RTP/RTCP split.
#include "proto/Demux.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace meeting::proto {
namespace {

static_assert(classifyFirstByte(0) == PacketKind::Stun);
static_assert(classifyFirstByte(3) == PacketKind::Stun);
static_assert(classifyFirstByte(4) == PacketKind::Unknown);
static_assert(classifyFirstByte(16) == PacketKind::Zrtp);
static_assert(classifyFirstByte(20) == PacketKind::Dtls);
static_assert(classifyFirstByte(63) == PacketKind::Dtls);
static_assert(classifyFirstByte(64) == PacketKind::TurnChannel);
static_assert(classifyFirstByte(79) == PacketKind::TurnChannel);
static_assert(classifyFirstByte(128) == PacketKind::Rtp);
static_assert(classifyFirstByte(191) == PacketKind::Rtp);
static_assert(isRtcpSecondByte(200) && !isRtcpSecondByte(96) && !isRtcpSecondByte(224));

TEST(Demux, FirstByteRanges) {
  for (int b = 0; b < 256; ++b) {
    const auto k = classifyFirstByte(static_cast<uint8_t>(b));
    PacketKind expected = PacketKind::Unknown;
    if (b <= 3) expected = PacketKind::Stun;
    else if (b >= 16 && b <= 19) expected = PacketKind::Zrtp;
    else if (b >= 20 && b <= 63) expected = PacketKind::Dtls;
    else if (b >= 64 && b <= 79) expected = PacketKind::TurnChannel;
    else if (b >= 128 && b <= 191) expected = PacketKind::Rtp;
    EXPECT_EQ(k, expected) << b;
  }
}

TEST(Demux, ClassifiesWholePackets) {
  std::vector<uint8_t> stun = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  EXPECT_EQ(classifyPacket(stun), PacketKind::Stun);
  stun[7] = 0x43;
  EXPECT_EQ(classifyPacket(stun), PacketKind::Unknown);  // no magic cookie
  EXPECT_EQ(classifyPacket(std::span(stun).first(19)), PacketKind::Unknown);

  std::vector<uint8_t> rtp(12, 0);
  rtp[0] = 0x80;
  rtp[1] = 111;  // Opus
  EXPECT_EQ(classifyPacket(rtp), PacketKind::Rtp);
  rtp[1] = 0x80 | 96;  // marker + VP8
  EXPECT_EQ(classifyPacket(rtp), PacketKind::Rtp);
  EXPECT_EQ(classifyPacket(std::span(rtp).first(11)), PacketKind::Unknown);

  std::vector<uint8_t> rtcp = {0x81, 201, 0x00, 0x01, 0, 0, 0, 1};  // RR
  EXPECT_EQ(classifyPacket(rtcp), PacketKind::Rtcp);
  rtcp[1] = 205;  // RTPFB
  EXPECT_EQ(classifyPacket(rtcp), PacketKind::Rtcp);
  EXPECT_EQ(classifyPacket(std::span(rtcp).first(7)), PacketKind::Unknown);

  std::vector<uint8_t> dtls(13, 0);
  dtls[0] = 22;  // handshake
  EXPECT_EQ(classifyPacket(dtls), PacketKind::Dtls);
  std::vector<uint8_t> channel = {0x40, 0x00, 0x00, 0x00};
  EXPECT_EQ(classifyPacket(channel), PacketKind::TurnChannel);
  EXPECT_EQ(classifyPacket({}), PacketKind::Unknown);
  EXPECT_EQ(classifyPacket(std::vector<uint8_t>(20, 0xff)), PacketKind::Unknown);
}

}  // namespace
}  // namespace meeting::proto
