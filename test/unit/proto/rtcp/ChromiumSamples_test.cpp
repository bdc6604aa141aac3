// RTCP as Chromium (libwebrtc) puts it on the wire, written out byte by byte.
#include <gtest/gtest.h>

#include <vector>

#include "proto/rtcp/Rtcp.hpp"
#include "unit/proto/rtcp/RtcpTestUtil.hpp"

namespace meeting::proto::rtcp {
namespace {

using testing::allPackets;
using testing::onlyPacket;

// Compound SR (one report block) + SDES CNAME, as a sending Chromium emits every ~1 s.
const std::vector<uint8_t> SrSdes = {
    0x81, 0xC8, 0x00, 0x0C,                          // V=2 RC=1 PT=SR len=12
    0x11, 0x22, 0x33, 0x44,                          // sender SSRC
    0xE8, 0x1D, 0x4C, 0x2A, 0x8F, 0x5C, 0x28, 0xF6,  // NTP
    0x00, 0x0F, 0x42, 0x40,                          // RTP timestamp
    0x00, 0x00, 0x01, 0x2C,                          // packets 300
    0x00, 0x04, 0x93, 0xE0,                          // octets 300000
    0x55, 0x66, 0x77, 0x88,                          // report block: SSRC
    0x0A, 0x00, 0x00, 0x05,                          // fraction 10/256, lost 5
    0x00, 0x01, 0x10, 0x00,                          // ext highest seq
    0x00, 0x00, 0x00, 0x20,                          // jitter
    0x4C, 0x2A, 0x8F, 0x5C,                          // LSR
    0x00, 0x01, 0x00, 0x00,                          // DLSR 1 s
    0x81, 0xCA, 0x00, 0x06,                          // V=2 SC=1 PT=SDES len=6
    0x11, 0x22, 0x33, 0x44,                          // SSRC
    0x01, 0x10,                                      // CNAME, 16 bytes
    'q', 'S', '2', 'b', 'X', 'z', 'G', 'z', '9', 'm', 'F', '2', 'y', 'V', 'Q', 'h',
    0x00, 0x00};                                     // end + pad

// RR + REMB from a Chromium receiver using REMB (goog-remb).
const std::vector<uint8_t> RrRemb = {
    0x81, 0xC9, 0x00, 0x07,                          // RR RC=1 len=7
    0x00, 0x00, 0x00, 0x01,                          // receiver SSRC
    0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x00, 0x00, 0x00,  // block SSRC, no loss
    0x00, 0x00, 0x30, 0x39, 0x00, 0x00, 0x00, 0x0A,  // highest 12345, jitter 10
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // no SR seen yet
    0x8F, 0xCE, 0x00, 0x05,                          // PSFB FMT=15 len=5
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,  // sender, media 0
    'R', 'E', 'M', 'B', 0x01, 0x0B, 0xD0, 0x90,      // 1 SSRC, exp 2 mantissa 250000
    0xDE, 0xAD, 0xBE, 0xEF};

// Transport-wide feedback, alone (rtcp-rsize), padded with the P bit as libwebrtc does.
const std::vector<uint8_t> Twcc = {
    0xAF, 0xCD, 0x00, 0x06,                          // P=1 FMT=15 RTPFB len=6
    0x00, 0x00, 0x00, 0x01, 0xDE, 0xAD, 0xBE, 0xEF,  // sender, media
    0x00, 0x64, 0x00, 0x05,                          // base 100, 5 statuses
    0x00, 0x01, 0x02, 0x07,                          // reference 258 (x64 ms), fb count 7
    0xD4, 0x90,                                      // 2-bit vector: S S N L S (N N)
    0x04, 0x08, 0xFF, 0xFC, 0x14,                    // deltas 1 ms, 2 ms, -1 ms, 5 ms
    0x01};                                           // padding count

// Generic NACK: 1000 lost, BLP bits 0 and 2 -> 1001 and 1003.
const std::vector<uint8_t> NackBlp = {
    0x81, 0xCD, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0xDE, 0xAD, 0xBE, 0xEF, 0x03, 0xE8, 0x00, 0x05};

TEST(ChromiumRtcp, SenderReportPlusSdes) {
  bool ok = false;
  auto packets = allPackets(SrSdes, ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(packets.size(), 2u);
  auto sr = SenderReport::parse(packets[0]);
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->ssrc(), 0x11223344u);
  EXPECT_EQ(sr->info().ntpTimestamp, 0xE81D4C2A8F5C28F6ull);
  EXPECT_EQ(sr->info().rtpTimestamp, 1'000'000u);
  EXPECT_EQ(sr->info().packetCount, 300u);
  EXPECT_EQ(sr->info().octetCount, 300'000u);
  ASSERT_EQ(sr->reportCount(), 1u);
  auto block = sr->reportBlock(0);
  EXPECT_EQ(block.ssrc, 0x55667788u);
  EXPECT_EQ(block.fractionLost, 10);
  EXPECT_EQ(block.cumulativeLost, 5);
  EXPECT_EQ(block.extendedHighestSequence, 0x11000u);
  EXPECT_EQ(block.jitter, 32u);
  EXPECT_EQ(block.lastSr, SenderReport::compactNtp(0xE81D4C2A8F5C28F6ull));
  EXPECT_EQ(block.delaySinceLastSr, 65536u);
  EXPECT_TRUE(sr->profileExtension().empty());

  auto sdes = Sdes::parse(packets[1]);
  ASSERT_TRUE(sdes);
  EXPECT_EQ(sdes->chunkCount(), 1u);
  EXPECT_EQ(sdes->cname(), "qS2bXzGz9mF2yVQh");
  EXPECT_FALSE(SenderReport::parse(packets[1]));

  // Re-serializing both gives back the same bytes.
  std::vector<uint8_t> out(200);
  ByteWriter w(out);
  ASSERT_TRUE(sr->serialize(w));
  ASSERT_TRUE(sdes->serialize(w));
  EXPECT_EQ(std::vector<uint8_t>(w.written().begin(), w.written().end()), SrSdes);
}

TEST(ChromiumRtcp, ReceiverReportPlusRemb) {
  bool ok = false;
  auto packets = allPackets(RrRemb, ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(packets.size(), 2u);
  auto rr = ReceiverReport::parse(packets[0]);
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->ssrc(), 1u);
  ASSERT_EQ(rr->reportCount(), 1u);
  EXPECT_EQ(rr->reportBlock(0).extendedHighestSequence, 12345u);
  auto remb = Remb::parse(packets[1]);
  ASSERT_TRUE(remb);
  EXPECT_EQ(remb->senderSsrc(), 1u);
  EXPECT_EQ(remb->bitrate(), 1'000'000u);
  ASSERT_EQ(remb->ssrcCount(), 1u);
  EXPECT_EQ(remb->ssrc(0), 0xDEADBEEFu);
  EXPECT_FALSE(Pli::parse(packets[1]));

  std::vector<uint8_t> out(200);
  ByteWriter w(out);
  ASSERT_TRUE(rr->serialize(w));
  ASSERT_TRUE(remb->serialize(w));
  EXPECT_EQ(std::vector<uint8_t>(w.written().begin(), w.written().end()), RrRemb);
}

TEST(ChromiumRtcp, TransportFeedback) {
  auto view = onlyPacket(Twcc);
  EXPECT_TRUE(view.padding);
  auto fb = TransportFeedback::parse(view);
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->senderSsrc(), 1u);
  EXPECT_EQ(fb->mediaSsrc(), 0xDEADBEEFu);
  EXPECT_EQ(fb->baseSequence(), 100);
  EXPECT_EQ(fb->statusCount(), 5);
  EXPECT_EQ(fb->referenceTime(), 258u);
  EXPECT_EQ(fb->feedbackCount(), 7);
  EXPECT_EQ(fb->receivedCount(), 4u);
  TwccPacketResult r[8];
  ASSERT_EQ(fb->packets(r), 5u);
  const int64_t ref = 258 * 64'000;
  EXPECT_EQ(r[0].sequence, 100);
  EXPECT_EQ(r[0].status, TwccStatus::SmallDelta);
  EXPECT_EQ(r[0].receiveTimeUs, ref + 1'000);
  EXPECT_EQ(r[1].receiveTimeUs, ref + 3'000);
  EXPECT_FALSE(r[2].received());
  EXPECT_EQ(r[2].sequence, 102);
  EXPECT_EQ(r[3].status, TwccStatus::LargeDelta);
  EXPECT_EQ(r[3].deltaTicks, -4);
  EXPECT_EQ(r[3].receiveTimeUs, ref + 2'000);
  EXPECT_EQ(r[4].sequence, 104);
  EXPECT_EQ(r[4].receiveTimeUs, ref + 7'000);

  // Our serialization pads with zeros instead of the P bit; it must parse the same.
  std::vector<uint8_t> out(64);
  ByteWriter w(out);
  ASSERT_TRUE(fb->serialize(w));
  EXPECT_EQ(w.size(), Twcc.size());
  auto again = TransportFeedback::parse(onlyPacket(w.written()));
  ASSERT_TRUE(again);
  TwccPacketResult r2[8];
  ASSERT_EQ(again->packets(r2), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(r2[i].sequence, r[i].sequence);
    EXPECT_EQ(r2[i].receiveTimeUs, r[i].receiveTimeUs);
  }
}

TEST(ChromiumRtcp, NackWithBlp) {
  auto nack = Nack::parse(onlyPacket(NackBlp));
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->senderSsrc(), 1u);
  EXPECT_EQ(nack->mediaSsrc(), 0xDEADBEEFu);
  ASSERT_EQ(nack->itemCount(), 1u);
  EXPECT_EQ(nack->item(0), (NackItem{1000, 0x0005}));
  uint16_t lost[20];
  ASSERT_EQ(nack->lostSequences(lost), 3u);
  EXPECT_EQ(lost[0], 1000);
  EXPECT_EQ(lost[1], 1001);
  EXPECT_EQ(lost[2], 1003);

  // Building from the lost list gives Chromium's bytes back.
  std::vector<uint8_t> out(64);
  ByteWriter w(out);
  const uint16_t seqs[] = {1000, 1001, 1003};
  ASSERT_TRUE(Nack::build(w, 1, 0xDEADBEEF, seqs));
  EXPECT_EQ(std::vector<uint8_t>(w.written().begin(), w.written().end()), NackBlp);
}

}  // namespace
}  // namespace meeting::proto::rtcp
