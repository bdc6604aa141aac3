// Receive-side transport-wide feedback with time driven by hand: what TransportCcFeedback
// writes is decoded with proto::rtcp::TransportFeedback::parse and compared with what arrived.
#include "sfu/TransportCcFeedback.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace meeting::sfu {
namespace {
namespace rtcp = proto::rtcp;
using namespace std::chrono_literals;

struct Decoded {
  std::vector<rtcp::TransportFeedback> packets;
  std::vector<std::vector<uint8_t>> bytes;  // the parsed views point here
  std::map<uint16_t, int64_t> received;     // sequence -> receive time (µs, reference-based)
  std::vector<uint16_t> lost;
  std::vector<uint8_t> counts;
};

class TransportCcFeedbackTest : public ::testing::Test {
 protected:
  TimePoint at(int64_t ms) const { return start_ + std::chrono::milliseconds(ms); }

  Decoded flush(TransportCcFeedback& fb, TimePoint now) {
    Decoded out;
    fb.flush(now, [&](std::span<uint8_t> buffer, size_t length) {
      EXPECT_GE(buffer.size(), length + TransportCcFeedback::Headroom);
      out.bytes.emplace_back(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(length));
    });
    for (const auto& bytes : out.bytes) {
      rtcp::CompoundReader reader(bytes);
      rtcp::RtcpPacketView view;
      EXPECT_TRUE(reader.next(view));
      auto parsed = rtcp::TransportFeedback::parse(view);
      EXPECT_TRUE(parsed);
      if (!parsed) continue;
      EXPECT_EQ(parsed->senderSsrc(), 1u);
      EXPECT_EQ(parsed->mediaSsrc(), 0xABCDu);
      out.counts.push_back(parsed->feedbackCount());
      parsed->forEachPacket([&](const rtcp::TwccPacketResult& r) {
        if (r.received()) {
          out.received[r.sequence] = r.receiveTimeUs;
        } else {
          out.lost.push_back(r.sequence);
        }
      });
      out.packets.push_back(*parsed);
    }
    return out;
  }

  TimePoint start_ = TimePoint{std::chrono::seconds(1000)};
  TransportCcFeedback fb_{1};
};

TEST_F(TransportCcFeedbackTest, InOrderPacketsGiveOneFeedbackWithTheirDeltas) {
  for (int i = 0; i < 10; ++i) fb_.onPacket(static_cast<uint16_t>(100 + i), 0xABCD, at(i * 5));
  EXPECT_EQ(fb_.pending(), 10u);
  EXPECT_TRUE(fb_.due(at(45)));  // never sent: due at once
  auto d = flush(fb_, at(45));
  ASSERT_EQ(d.packets.size(), 1u);
  EXPECT_EQ(d.packets[0].baseSequence(), 100);
  EXPECT_EQ(d.packets[0].statusCount(), 10);
  ASSERT_EQ(d.received.size(), 10u);
  EXPECT_TRUE(d.lost.empty());
  // Deltas are exact to 250 µs: 5 ms apart.
  for (uint16_t s = 101; s < 110; ++s) EXPECT_EQ(d.received[s] - d.received[static_cast<uint16_t>(s - 1)], 5000);
  EXPECT_EQ(fb_.pending(), 0u);
  EXPECT_FALSE(fb_.due(at(100)));  // nothing pending
  EXPECT_EQ(fb_.stats().feedbackPackets, 1u);
}

TEST_F(TransportCcFeedbackTest, IntervalAndEarlyFeedback) {
  fb_.onPacket(1, 0xABCD, at(0));
  flush(fb_, at(0));
  fb_.onPacket(2, 0xABCD, at(10));
  EXPECT_FALSE(fb_.due(at(60)));
  EXPECT_FALSE(fb_.due(at(99)));
  EXPECT_TRUE(fb_.due(at(100)));  // Interval
  // Many pending packets: after MinInterval already.
  for (uint16_t s = 3; s < 3 + TransportCcFeedback::EarlyPackets; ++s) fb_.onPacket(s, 0xABCD, at(20));
  EXPECT_FALSE(fb_.due(at(49)));
  EXPECT_TRUE(fb_.due(at(50)));
}

TEST_F(TransportCcFeedbackTest, LostPacketsAreReportedNotReceived) {
  for (uint16_t s : {10, 11, 13, 14, 17}) fb_.onPacket(s, 0xABCD, at(s));
  auto d = flush(fb_, at(100));
  ASSERT_EQ(d.packets.size(), 1u);
  EXPECT_EQ(d.packets[0].baseSequence(), 10);
  EXPECT_EQ(d.packets[0].statusCount(), 8);
  EXPECT_EQ(d.lost, (std::vector<uint16_t>{12, 15, 16}));
  EXPECT_EQ(d.received.size(), 5u);
}

TEST_F(TransportCcFeedbackTest, ReorderedPacketsFillTheirSlotWithTheirOwnTime) {
  fb_.onPacket(20, 0xABCD, at(0));
  fb_.onPacket(22, 0xABCD, at(2));
  fb_.onPacket(21, 0xABCD, at(4));  // late by one
  fb_.onPacket(23, 0xABCD, at(6));
  auto d = flush(fb_, at(50));
  ASSERT_EQ(d.received.size(), 4u);
  EXPECT_TRUE(d.lost.empty());
  // Negative delta: 21 arrived after 22 (a large/negative delta in the wire format).
  EXPECT_EQ(d.received[21] - d.received[22], 2000);
  EXPECT_EQ(d.received[23] - d.received[21], 2000);
}

TEST_F(TransportCcFeedbackTest, LateArrivalAfterBeingReportedLostIsReportedAgain) {
  fb_.onPacket(30, 0xABCD, at(0));
  fb_.onPacket(32, 0xABCD, at(1));
  auto first = flush(fb_, at(100));
  EXPECT_EQ(first.lost, (std::vector<uint16_t>{31}));
  fb_.onPacket(31, 0xABCD, at(120));
  fb_.onPacket(33, 0xABCD, at(121));
  EXPECT_EQ(fb_.stats().lateRecovered, 1u);
  auto second = flush(fb_, at(200));
  ASSERT_EQ(second.packets.size(), 1u);
  EXPECT_EQ(second.packets[0].baseSequence(), 31);
  EXPECT_TRUE(second.received.contains(31));
  EXPECT_TRUE(second.received.contains(32));  // re-reported, as libwebrtc's receiver does
  EXPECT_TRUE(second.received.contains(33));
  // Feedback count increments per packet sent.
  EXPECT_EQ(second.counts[0], static_cast<uint8_t>(first.counts[0] + 1));
}

TEST_F(TransportCcFeedbackTest, DuplicatesAreIgnored) {
  fb_.onPacket(40, 0xABCD, at(0));
  fb_.onPacket(41, 0xABCD, at(1));
  fb_.onPacket(41, 0xABCD, at(30));
  fb_.onPacket(40, 0xABCD, at(31));
  EXPECT_EQ(fb_.stats().duplicates, 2u);
  auto d = flush(fb_, at(100));
  ASSERT_EQ(d.received.size(), 2u);
  EXPECT_EQ(d.received[41] - d.received[40], 1000);  // the first arrival counts
  // A duplicate of an already reported packet does not rewind the window.
  fb_.onPacket(41, 0xABCD, at(110));
  EXPECT_EQ(fb_.pending(), 0u);
  EXPECT_TRUE(flush(fb_, at(200)).packets.empty());
}

TEST_F(TransportCcFeedbackTest, SequenceWrapsFrom65535ToZero) {
  for (uint16_t s : {65533, 65534, 65535, 0, 2}) fb_.onPacket(s, 0xABCD, at(s == 0 ? 10 : s == 2 ? 12 : (s - 65530)));
  auto d = flush(fb_, at(100));
  ASSERT_EQ(d.packets.size(), 1u);
  EXPECT_EQ(d.packets[0].baseSequence(), 65533);
  EXPECT_EQ(d.packets[0].statusCount(), 6);
  EXPECT_EQ(d.lost, (std::vector<uint16_t>{1}));
  EXPECT_EQ(d.received.size(), 5u);
  EXPECT_EQ(d.received[0] - d.received[65535], 5000);
  // And on across the wrap in the next feedback.
  fb_.onPacket(3, 0xABCD, at(110));
  auto next = flush(fb_, at(200));
  ASSERT_EQ(next.packets.size(), 1u);
  EXPECT_EQ(next.packets[0].baseSequence(), 3);
}

TEST_F(TransportCcFeedbackTest, LargeGapStartsOverWithoutReportingThousandsLost) {
  fb_.onPacket(100, 0xABCD, at(0));
  fb_.onPacket(101, 0xABCD, at(1));
  fb_.onPacket(static_cast<uint16_t>(101 + 5000), 0xABCD, at(2));  // a sender restart
  EXPECT_EQ(fb_.stats().resets, 1u);
  auto d = flush(fb_, at(100));
  ASSERT_EQ(d.packets.size(), 1u);
  EXPECT_EQ(d.packets[0].baseSequence(), 5101);
  EXPECT_EQ(d.packets[0].statusCount(), 1);
  // A gap inside the ring is reported as lost, in full.
  fb_.onPacket(5101 + 500, 0xABCD, at(110));
  auto g = flush(fb_, at(200));
  EXPECT_EQ(g.received.size(), 1u);  // base is the first received after the last feedback
  // Something older than the ring is ignored.
  fb_.onPacket(5101 - 2000, 0xABCD, at(210));
  EXPECT_EQ(fb_.stats().tooOld, 1u);
}

TEST_F(TransportCcFeedbackTest, PendingWindowLargerThanTheRingKeepsTheNewest) {
  fb_.onPacket(0, 0xABCD, at(0));
  fb_.onPacket(600, 0xABCD, at(1));
  fb_.onPacket(1100, 0xABCD, at(2));  // 0..1100 does not fit 1024 slots: 0 is dropped
  EXPECT_EQ(fb_.stats().resets, 1u);
  auto d = flush(fb_, at(100));
  ASSERT_EQ(d.received.size(), 2u);
  EXPECT_TRUE(d.received.contains(600));
  EXPECT_TRUE(d.received.contains(1100));
  EXPECT_EQ(d.lost.size(), 499u);
}

TEST_F(TransportCcFeedbackTest, SeveralPacketsWhenOneDoesNotFit) {
  TransportCcFeedback small(1, 200);  // room for ~80 statuses with large deltas
  std::vector<uint16_t> sent;
  int64_t t = 0;
  for (uint16_t s = 0; s < 600; ++s) {
    if (s % 7 == 3) continue;  // some loss
    t += (s % 2 == 0) ? 70 : 1;  // 70 ms deltas need 2 bytes each
    small.onPacket(s, 0xABCD, at(t));
    sent.push_back(s);
  }
  auto d = flush(small, at(t + 100));
  ASSERT_GT(d.packets.size(), 2u);
  for (const auto& bytes : d.bytes) EXPECT_LE(bytes.size(), 200u);
  EXPECT_EQ(d.received.size(), sent.size());
  for (size_t i = 1; i < d.counts.size(); ++i) EXPECT_EQ(d.counts[i], static_cast<uint8_t>(d.counts[i - 1] + 1));
  // Each packet starts where the previous stopped; the losses inside each are reported.
  for (size_t i = 1; i < d.packets.size(); ++i) {
    const auto& prev = d.packets[i - 1];
    EXPECT_GT(d.packets[i].baseSequence(), static_cast<uint16_t>(prev.baseSequence() + prev.statusCount() - 1));
  }
  EXPECT_FALSE(d.lost.empty());
  // Receive times survive the split (each packet has its own reference time).
  for (size_t i = 1; i < sent.size(); ++i) {
    const int64_t expected = (sent[i] % 2 == 0) ? 70'000 : 1'000;
    EXPECT_EQ(d.received[sent[i]] - d.received[sent[i - 1]], expected) << sent[i];
  }
}

}  // namespace
}  // namespace meeting::sfu
