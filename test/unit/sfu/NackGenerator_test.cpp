// NackGenerator: when each missing packet is asked for, how often, when it is forgotten, and
// the RTCP generic NACK it turns into. Time is driven by hand.
#include "sfu/NackGenerator.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "proto/rtcp/Nack.hpp"
#include "proto/rtcp/RtcpPacket.hpp"

namespace meeting::sfu {
namespace {
using namespace std::chrono_literals;

constexpr auto Rtt = 50ms;

struct Harness {
  NackGenerator nack;
  TimePoint now = TimePoint{} + std::chrono::seconds(10);

  void receive(uint16_t first, uint16_t last) {
    for (uint16_t s = first;; ++s) {
      nack.onPacket(s, now);
      if (s == last) break;
    }
  }
  std::vector<uint16_t> collect(std::chrono::milliseconds rtt = Rtt) {
    std::array<uint16_t, 1024> buffer{};
    const size_t n = nack.collect(now, rtt, buffer);
    return {buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n)};
  }
  void advance(Duration d) { now += d; }
};

using Seqs = std::vector<uint16_t>;

TEST(NackGenerator, NothingWithoutLoss) {
  Harness h;
  h.receive(100, 200);
  h.advance(100ms);
  EXPECT_TRUE(h.collect().empty());
  EXPECT_EQ(h.nack.missingCount(), 0u);
}

TEST(NackGenerator, SingleLossAfterReorderWait) {
  Harness h;
  h.receive(1, 10);
  h.receive(12, 12);
  EXPECT_EQ(h.nack.missingCount(), 1u);
  EXPECT_TRUE(h.collect().empty());  // still within the reorder wait
  h.advance(NackGenerator::ReorderWait - 1ms);
  EXPECT_TRUE(h.collect().empty());
  h.advance(1ms);
  EXPECT_EQ(h.collect(), Seqs{11});
  EXPECT_TRUE(h.collect().empty());  // not again right away
  EXPECT_EQ(h.nack.counters().requested, 1u);
}

TEST(NackGenerator, BurstLoss) {
  Harness h;
  h.receive(1, 1);
  h.receive(8, 8);
  h.receive(9, 9);
  h.receive(12, 12);
  h.advance(10ms);
  EXPECT_EQ(h.collect(), (Seqs{2, 3, 4, 5, 6, 7, 10, 11}));
  EXPECT_EQ(h.nack.missingCount(), 8u);
}

TEST(NackGenerator, ReorderWithinWaitIsNotNacked) {
  Harness h;
  h.receive(1, 5);
  h.receive(7, 7);
  h.advance(3ms);
  h.nack.onPacket(6, h.now);  // reordered, arrives within the wait
  h.advance(20ms);
  EXPECT_TRUE(h.collect().empty());
  EXPECT_EQ(h.nack.missingCount(), 0u);
  EXPECT_EQ(h.nack.counters().recovered, 0u);  // never asked for, so not "recovered"
}

TEST(NackGenerator, RetriesSpacedByRttAndRecovered) {
  Harness h;
  h.receive(1, 1);
  h.receive(3, 3);
  h.advance(10ms);
  EXPECT_EQ(h.collect(), Seqs{2});
  h.advance(Rtt - 1ms);
  EXPECT_TRUE(h.collect().empty());
  h.advance(1ms);
  EXPECT_EQ(h.collect(), Seqs{2});
  // A small RTT is floored at MinRetryInterval.
  h.advance(10ms);
  EXPECT_TRUE(h.collect(5ms).empty());
  h.advance(10ms);
  EXPECT_EQ(h.collect(5ms), Seqs{2});
  h.nack.onPacket(2, h.now);  // the retransmission
  EXPECT_EQ(h.nack.counters().recovered, 1u);
  EXPECT_EQ(h.nack.counters().requested, 3u);
  h.advance(100ms);
  EXPECT_TRUE(h.collect().empty());
  h.nack.onPacket(2, h.now);  // a duplicate retransmission counts once
  EXPECT_EQ(h.nack.counters().recovered, 1u);
}

TEST(NackGenerator, GivesUpAfterMaxTries) {
  Harness h;
  h.receive(1, 1);
  h.receive(3, 3);
  h.advance(10ms);
  int tries = 0;
  for (int i = 0; i < 20; ++i) {
    if (!h.collect(20ms).empty()) ++tries;
    h.advance(20ms);
  }
  EXPECT_EQ(tries, int{NackGenerator::MaxTries});
  EXPECT_EQ(h.nack.missingCount(), 0u);
  EXPECT_EQ(h.nack.counters().givenUp, 1u);
  EXPECT_EQ(h.nack.counters().requested, uint64_t{NackGenerator::MaxTries});
}

TEST(NackGenerator, GivesUpAfterMaxAge) {
  Harness h;
  h.receive(1, 1);
  h.receive(3, 3);
  h.advance(10ms);
  EXPECT_EQ(h.collect(400ms), Seqs{2});
  h.advance(400ms);
  EXPECT_EQ(h.collect(400ms), Seqs{2});
  h.advance(590ms);  // 1000 ms since it went missing
  EXPECT_TRUE(h.collect(400ms).empty());
  EXPECT_EQ(h.nack.missingCount(), 0u);
  EXPECT_EQ(h.nack.counters().givenUp, 1u);
  h.nack.onPacket(2, h.now);  // too late to count
  EXPECT_EQ(h.nack.counters().recovered, 0u);
}

TEST(NackGenerator, WrapsAround) {
  Harness h;
  h.receive(65530, 65533);
  h.receive(1, 2);  // 65534, 65535 and 0 missing
  h.advance(10ms);
  EXPECT_EQ(h.collect(), (Seqs{65534, 65535, 0}));
  h.nack.onPacket(65535, h.now);
  h.advance(Rtt);
  EXPECT_EQ(h.collect(), (Seqs{65534, 0}));
  EXPECT_EQ(h.nack.counters().recovered, 1u);
  // Old packets from before the wrap are neither new losses nor a jump.
  h.nack.onPacket(65531, h.now);
  EXPECT_EQ(h.nack.missingCount(), 2u);
  EXPECT_FALSE(h.nack.keyframeNeeded());
}

TEST(NackGenerator, DuplicatesAndOldPacketsIgnored) {
  Harness h;
  h.receive(100, 110);
  h.nack.onPacket(110, h.now);
  h.nack.onPacket(105, h.now);
  h.nack.onPacket(50, h.now);
  h.advance(50ms);
  EXPECT_TRUE(h.collect().empty());
  EXPECT_EQ(h.nack.missingCount(), 0u);
}

TEST(NackGenerator, OverflowNeedsKeyframe) {
  Harness h;
  h.receive(1, 1);
  // 400 lost, then another 200: more than Capacity missing at once.
  h.receive(402, 402);
  EXPECT_EQ(h.nack.missingCount(), 400u);
  EXPECT_FALSE(h.nack.keyframeNeeded());
  h.receive(603, 603);
  EXPECT_EQ(h.nack.missingCount(), 0u);
  EXPECT_TRUE(h.nack.keyframeNeeded());
  EXPECT_EQ(h.nack.counters().resets, 1u);
  EXPECT_EQ(h.nack.counters().givenUp, 400u);
  // Numbering continues from the packet that caused the reset.
  h.receive(605, 605);
  h.advance(10ms);
  EXPECT_EQ(h.collect(), Seqs{604});
  EXPECT_TRUE(h.nack.consumeKeyframeNeeded());
  EXPECT_FALSE(h.nack.keyframeNeeded());
  EXPECT_FALSE(h.nack.consumeKeyframeNeeded());
}

TEST(NackGenerator, HugeJumpNeedsKeyframe) {
  Harness h;
  h.receive(1, 10);
  h.receive(10 + NackGenerator::MaxJump, 10 + NackGenerator::MaxJump);  // 999 missing: over Capacity
  EXPECT_TRUE(h.nack.consumeKeyframeNeeded());
  Harness j;
  j.receive(1, 10);
  j.receive(20000, 20000);
  EXPECT_EQ(j.nack.missingCount(), 0u);
  EXPECT_TRUE(j.nack.keyframeNeeded());
  j.receive(20001, 20001);
  j.receive(20003, 20003);
  j.advance(10ms);
  EXPECT_EQ(j.collect(), Seqs{20002});
}

TEST(NackGenerator, TombstonesDoNotCauseOverflow) {
  Harness h;
  uint16_t seq = 0;
  // Many rounds of one loss each, recovered: the ring must keep reusing its slots.
  for (int round = 0; round < 2000; ++round) {
    h.receive(seq, seq);
    h.receive(static_cast<uint16_t>(seq + 2), static_cast<uint16_t>(seq + 2));
    h.nack.onPacket(static_cast<uint16_t>(seq + 1), h.now);
    seq = static_cast<uint16_t>(seq + 3);
    h.advance(1ms);
  }
  EXPECT_FALSE(h.nack.keyframeNeeded());
  EXPECT_EQ(h.nack.missingCount(), 0u);
  // Interleaved: keep every other loss outstanding while recovering the rest; the recovered ones
  // leave holes in the ring that must be compacted away once it is full (700 slots > Capacity).
  Harness k;
  k.receive(0, 0);
  for (uint16_t i = 0; i < 700; ++i) {
    k.receive(static_cast<uint16_t>(2 * i + 2), static_cast<uint16_t>(2 * i + 2));
    if (i % 2) k.nack.onPacket(static_cast<uint16_t>(2 * i + 1), k.now);
  }
  EXPECT_EQ(k.nack.missingCount(), 350u);
  EXPECT_FALSE(k.nack.keyframeNeeded());
  k.advance(10ms);
  const auto asked = k.collect();
  ASSERT_EQ(asked.size(), 350u);
  for (size_t i = 0; i < asked.size(); ++i) EXPECT_EQ(asked[i], 4 * i + 1);
}

TEST(NackGenerator, CollectRespectsOutputSizeAndKeepsRest) {
  Harness h;
  h.receive(1, 1);
  h.receive(12, 12);  // 2..11 missing
  h.advance(10ms);
  std::array<uint16_t, 4> small{};
  ASSERT_EQ(h.nack.collect(h.now, Rtt, small), 4u);
  EXPECT_EQ(small, (std::array<uint16_t, 4>{2, 3, 4, 5}));
  EXPECT_EQ(h.collect(), (Seqs{6, 7, 8, 9, 10, 11}));
}

TEST(NackGenerator, KeyframeDropsOlderMissing) {
  Harness h;
  h.receive(1, 1);
  h.receive(5, 5);  // 2, 3, 4 missing
  h.receive(7, 7);  // 6 missing
  h.nack.onKeyframe(5);
  h.advance(10ms);
  EXPECT_EQ(h.collect(), Seqs{6});
  EXPECT_EQ(h.nack.counters().givenUp, 3u);
}

TEST(NackGenerator, SequenceRestartAfterTwoStrays) {
  Harness h;
  h.receive(30000, 30010);
  h.nack.onPacket(5, h.now);  // one stray far behind: ignored
  EXPECT_FALSE(h.nack.keyframeNeeded());
  h.receive(30011, 30011);
  h.nack.onPacket(100, h.now);
  h.nack.onPacket(101, h.now);  // two in a row: the sender restarted
  EXPECT_TRUE(h.nack.consumeKeyframeNeeded());
  h.receive(103, 103);
  h.advance(10ms);
  EXPECT_EQ(h.collect(), Seqs{102});
}

TEST(NackGenerator, WritesGenericNack) {
  const std::array<uint16_t, 6> lost{65534, 65535, 0, 14, 40, 41};
  std::array<uint8_t, 64> buffer{};
  const size_t n = writeNackPacket(buffer, 0xAABBCCDD, 0x11223344, lost);
  // Header 12 bytes + 2 entries: {65534, blp 0b11 ... 14 is 16 after 65534} and {40, blp 1}.
  ASSERT_EQ(n, 12u + 4 * 2);
  proto::rtcp::CompoundReader reader(std::span<const uint8_t>(buffer.data(), n));
  proto::rtcp::RtcpPacketView view;
  ASSERT_TRUE(reader.next(view));
  auto nack = proto::rtcp::Nack::parse(view);
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->senderSsrc(), 0xAABBCCDDu);
  EXPECT_EQ(nack->mediaSsrc(), 0x11223344u);
  ASSERT_EQ(nack->itemCount(), 2u);
  EXPECT_EQ(nack->item(0), (proto::rtcp::NackItem{65534, 0x8003}));
  EXPECT_EQ(nack->item(1), (proto::rtcp::NackItem{40, 0x0001}));
  std::array<uint16_t, 16> back{};
  const size_t count = nack->lostSequences(back);
  EXPECT_EQ(std::vector<uint16_t>(back.begin(), back.begin() + static_cast<std::ptrdiff_t>(count)),
            std::vector<uint16_t>(lost.begin(), lost.end()));
  EXPECT_FALSE(reader.next(view));
}

TEST(NackGenerator, WriteNackFailsWhenEmptyOrNoRoom) {
  std::array<uint8_t, 64> buffer{};
  EXPECT_EQ(writeNackPacket(buffer, 1, 2, {}), 0u);
  const std::array<uint16_t, 2> lost{1, 100};
  std::array<uint8_t, 19> small{};
  EXPECT_EQ(writeNackPacket(small, 1, 2, lost), 0u);
}

TEST(NackGenerator, CollectedListEncodes) {
  Harness h;
  h.receive(65500, 65500);
  h.receive(20, 20);  // 65501..19 missing (55)
  h.advance(10ms);
  const auto asked = h.collect();
  ASSERT_EQ(asked.size(), 55u);
  std::array<uint8_t, 256> buffer{};
  const size_t n = writeNackPacket(buffer, 1, 2, asked);
  ASSERT_GT(n, 0u);
  proto::rtcp::CompoundReader reader(std::span<const uint8_t>(buffer.data(), n));
  proto::rtcp::RtcpPacketView view;
  ASSERT_TRUE(reader.next(view));
  auto nack = proto::rtcp::Nack::parse(view);
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->itemCount(), 4u);  // 55 consecutive: 17 + 17 + 17 + 4
  std::array<uint16_t, 128> back{};
  ASSERT_EQ(nack->lostSequences(back), 55u);
  for (size_t i = 0; i < 55; ++i) EXPECT_EQ(back[i], asked[i]);
}

}  // namespace
}  // namespace meeting::sfu
