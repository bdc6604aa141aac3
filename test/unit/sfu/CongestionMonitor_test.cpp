// Send-side bookkeeping: transport-wide numbering of what we send and the reading of the
// subscriber's TWCC feedback and REMB, fed with packets built by proto's builders; and the
// in-place / inserting writer of the transport-wide sequence element.
#include "sfu/CongestionMonitor.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "common/ByteReader.hpp"
#include "proto/rtp/RtpExtensions.hpp"
#include "proto/rtp/RtpPacket.hpp"

namespace meeting::sfu {
namespace {
namespace rtcp = proto::rtcp;
namespace rtp = proto::rtp;
using namespace std::chrono_literals;

TimePoint at(int64_t ms) { return TimePoint{std::chrono::seconds(500)} + std::chrono::milliseconds(ms); }

// A compound with one TWCC feedback for `arrivals` (received ones; gaps are "not received").
std::vector<uint8_t> feedback(std::span<const rtcp::TwccArrival> arrivals, uint8_t count = 0) {
  std::vector<uint8_t> out(1500);
  ByteWriter w(out);
  EXPECT_EQ(rtcp::TransportFeedback::build(w, 0x1234, 0x5678, count, arrivals), arrivals.size());
  out.resize(w.size());
  return out;
}

TEST(CongestionMonitor, NumbersPacketsAndReadsFeedback) {
  CongestionMonitor m;
  EXPECT_EQ(m.stats(at(0)).feedbackRttUs, -1);
  // 20 packets of 1,000 bytes, one every 5 ms.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(m.onSend(1000, at(i * 5)), static_cast<uint16_t>(1 + i));
  EXPECT_EQ(m.nextSequence(), 21);
  // The receiver got 1..10 except 4 and 7.
  std::vector<rtcp::TwccArrival> first;
  for (uint16_t s = 1; s <= 10; ++s) {
    if (s != 4 && s != 7) first.push_back({s, 10'000 + s * 5'000});
  }
  m.onRtcp(feedback(first), at(100));
  auto st = m.stats(at(100));
  EXPECT_EQ(st.feedbackPackets, 1u);
  EXPECT_EQ(st.packetsReportedReceived, 8u);
  EXPECT_EQ(st.packetsReportedLost, 2u);
  EXPECT_DOUBLE_EQ(st.lossFraction, 0.2);
  EXPECT_EQ(st.ackedBitrateBps, 0u);  // one feedback: no interval yet
  // RTT: feedback at 100 ms, newest reported packet (10) sent at 45 ms.
  EXPECT_EQ(st.feedbackRttUs, 55'000);

  // Second feedback 100 ms later: 11..20 all received, and 7 arrived late.
  std::vector<rtcp::TwccArrival> second;
  second.push_back({7, 200'000});
  for (uint16_t s = 11; s <= 20; ++s) second.push_back({s, 200'000 + s * 1000});
  m.onRtcp(feedback(second, 1), at(200));
  st = m.stats(at(200));
  EXPECT_EQ(st.packetsReportedReceived, 19u);
  EXPECT_EQ(st.packetsReportedLost, 1u);  // 7 moved from lost to received; 8..10 re-reported once
  EXPECT_NEAR(st.lossFraction, 1.0 / 20.0, 1e-9);
  // Acked: 11 packets (7, 11..20) of 1,000 bytes in 100 ms = 880 kbit/s.
  EXPECT_EQ(st.ackedBitrateBps, 880'000u);
  EXPECT_EQ(st.feedbackRttUs, 55'000);  // min over the window: second is 200 - 95 = 105 ms

  // A second later the window is empty again.
  st = m.stats(at(1300));
  EXPECT_EQ(st.lossFraction, 0.0);
  EXPECT_EQ(st.ackedBitrateBps, 0u);
  EXPECT_EQ(st.feedbackRttUs, -1);
  EXPECT_EQ(st.packetsReportedReceived, 19u);  // totals stay
}

TEST(CongestionMonitor, UnknownSequencesAndRemb) {
  CongestionMonitor m;
  m.onSend(100, at(0));
  std::vector<rtcp::TwccArrival> arrivals{{1, 0}, {500, 1000}};  // 500 was never sent
  m.onRtcp(feedback(arrivals), at(10));
  auto st = m.stats(at(10));
  EXPECT_EQ(st.packetsReportedReceived, 1u);
  EXPECT_GE(st.unknownReported, 1u);  // 500, and the 498 "not received" in between

  std::vector<uint8_t> remb(64);
  ByteWriter w(remb);
  const uint32_t ssrcs[] = {42};
  ASSERT_TRUE(rtcp::Remb::build(w, 7, 1'500'000, ssrcs));
  remb.resize(w.size());
  m.onRtcp(remb, at(20));
  st = m.stats(at(20));
  EXPECT_EQ(st.rembBitrateBps, 1'500'000u);
  EXPECT_EQ(st.rembPackets, 1u);
  EXPECT_EQ(st.rembAt, at(20));

  // Garbage and truncated compounds change nothing.
  const uint8_t junk[] = {0x8F, 205, 0, 9, 1, 2, 3};
  m.onRtcp(junk, at(30));
  EXPECT_EQ(m.stats(at(30)).feedbackPackets, 1u);
}

TEST(CongestionMonitor, SequenceWrapsAndOldRecordsAreUnknown) {
  CongestionMonitor m;
  for (int i = 0; i < 70'000; ++i) m.onSend(10, at(0));
  // 70,000 sends: the sequence wrapped once; only the last Capacity are remembered.
  const auto last = static_cast<uint16_t>(m.nextSequence() - 1);
  std::vector<rtcp::TwccArrival> arrivals{{last, 0}};
  m.onRtcp(feedback(arrivals), at(1));
  EXPECT_EQ(m.stats(at(1)).packetsReportedReceived, 1u);
  std::vector<rtcp::TwccArrival> old{{static_cast<uint16_t>(last - CongestionMonitor::Capacity), 0}};
  m.onRtcp(feedback(old), at(2));
  EXPECT_EQ(m.stats(at(2)).unknownReported, 1u);
}

// --- writeTransportSequence ---

std::vector<uint8_t> rtpPacket(std::vector<uint8_t> extension, uint16_t profile, size_t payload, size_t spare) {
  std::vector<uint8_t> p = {0x80, 96, 0x12, 0x34, 0, 0, 0, 1, 0xCA, 0xFE, 0xBA, 0xBE};
  if (!extension.empty() || profile != 0) {
    p[0] |= 0x10;
    p.push_back(static_cast<uint8_t>(profile >> 8));
    p.push_back(static_cast<uint8_t>(profile));
    p.push_back(0);
    p.push_back(static_cast<uint8_t>(extension.size() / 4));
    p.insert(p.end(), extension.begin(), extension.end());
  }
  for (size_t i = 0; i < payload; ++i) p.push_back(static_cast<uint8_t>(i));
  p.resize(p.size() + spare, 0xEE);
  return p;
}

void expectPayloadIntact(const rtp::RtpPacket& packet, size_t payload) {
  ASSERT_EQ(packet.payloadSize(), payload);
  for (size_t i = 0; i < payload; ++i) ASSERT_EQ(packet.payload()[i], static_cast<uint8_t>(i));
}

TEST(WriteTransportSequence, InPlaceWhenPresent) {
  // one-byte: id 3 (transport-cc, 2 bytes), id 1 (audio level, 1 byte), padding
  auto buf = rtpPacket({0x31, 0, 0, 0x10, 0x7F, 0, 0, 0}, 0xBEDE, 20, 32);
  const size_t length = buf.size() - 32;
  EXPECT_EQ(writeTransportSequence(buf, length, 3, 0xBEEF, 16), length);
  auto p = rtp::RtpPacket::parse(buf, length);
  ASSERT_TRUE(p);
  EXPECT_EQ(rtp::readTransportSequence(*p, 3), 0xBEEF);
  EXPECT_EQ(rtp::readAudioLevel(*p, 1)->level, 0x7F);
  // An element of another size on the id is somebody else's: left alone.
  EXPECT_EQ(writeTransportSequence(buf, length, 1, 7, 16), 0u);
}

TEST(WriteTransportSequence, AddsAnExtensionHeaderWhenThereIsNone) {
  auto buf = rtpPacket({}, 0, 100, 32);
  const size_t length = buf.size() - 32;
  const size_t grown = writeTransportSequence(buf, length, 5, 0x0102, 16);
  EXPECT_EQ(grown, length + 8);
  auto p = rtp::RtpPacket::parse(buf, grown);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->hasOneByteExtensions());
  EXPECT_EQ(rtp::readTransportSequence(*p, 5), 0x0102);
  expectPayloadIntact(*p, 100);
  // Two-byte form for an id above 14.
  auto buf2 = rtpPacket({}, 0, 10, 32);
  const size_t grown2 = writeTransportSequence(buf2, buf2.size() - 32, 20, 9, 16);
  auto p2 = rtp::RtpPacket::parse(buf2, grown2);
  ASSERT_TRUE(p2);
  EXPECT_TRUE(p2->hasTwoByteExtensions());
  EXPECT_EQ(rtp::readTransportSequence(*p2, 20), 9);
  expectPayloadIntact(*p2, 10);
  // Not enough room behind the packet for the element and the SRTP tag.
  auto tight = rtpPacket({}, 0, 10, 20);
  EXPECT_EQ(writeTransportSequence(tight, tight.size() - 20, 5, 1, 16), 0u);
}

TEST(WriteTransportSequence, UsesPaddingOrGrowsTheBlock) {
  // id 2 abs-send-time (3 bytes) + 0 padding: 4 bytes, no room for a 3-byte element -> +4.
  auto buf = rtpPacket({0x22, 1, 2, 3}, 0xBEDE, 30, 32);
  size_t length = buf.size() - 32;
  size_t grown = writeTransportSequence(buf, length, 3, 77, 16);
  EXPECT_EQ(grown, length + 4);
  auto p = rtp::RtpPacket::parse(buf, grown);
  ASSERT_TRUE(p);
  EXPECT_EQ(rtp::readTransportSequence(*p, 3), 77);
  EXPECT_EQ(rtp::readAbsSendTime(*p, 2), 0x010203u);
  expectPayloadIntact(*p, 30);
  // id 1 audio level (1 byte) + 2 bytes padding... plus a full padding word: fits in place.
  auto padded = rtpPacket({0x10, 0x55, 0, 0, 0, 0, 0, 0}, 0xBEDE, 30, 32);
  length = padded.size() - 32;
  EXPECT_EQ(writeTransportSequence(padded, length, 3, 78, 16), length);
  p = rtp::RtpPacket::parse(padded, length);
  EXPECT_EQ(rtp::readTransportSequence(*p, 3), 78);
  expectPayloadIntact(*p, 30);
  // Two-byte profile with one element: +4.
  auto two = rtpPacket({0x01, 0x01, 0xAA, 0x00}, 0x1000, 30, 32);
  length = two.size() - 32;
  grown = writeTransportSequence(two, length, 3, 79, 16);
  EXPECT_EQ(grown, length + 4);
  p = rtp::RtpPacket::parse(two, grown);
  ASSERT_TRUE(p);
  EXPECT_EQ(rtp::readTransportSequence(*p, 3), 79);
  expectPayloadIntact(*p, 30);
  // One-byte profile cannot carry id 15+; an unknown profile is left alone.
  auto other = rtpPacket({1, 2, 3, 4}, 0x4321, 10, 32);
  EXPECT_EQ(writeTransportSequence(other, other.size() - 32, 3, 1, 16), 0u);
  EXPECT_EQ(writeTransportSequence(buf, grown, 20, 1, 16), 0u);
  // Not RTP at all / id 0.
  std::vector<uint8_t> junk(40, 0xFF);
  EXPECT_EQ(writeTransportSequence(junk, 8, 3, 1, 16), 0u);
  EXPECT_EQ(writeTransportSequence(buf, grown, 0, 1, 16), 0u);
}

}  // namespace
}  // namespace meeting::sfu
