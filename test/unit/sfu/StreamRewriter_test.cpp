// StreamRewriter: one continuous output stream across source switches, pauses and wraparound,
// with gaps and reordering inside a source passed through untouched. Time is driven by hand.
#include "sfu/StreamRewriter.hpp"

#include <gtest/gtest.h>

namespace meeting::sfu {
namespace {
using namespace std::chrono_literals;
using Rewritten = StreamRewriter::Rewritten;

constexpr uint32_t SsrcA = 0x1111;
constexpr uint32_t SsrcB = 0x2222;
constexpr uint32_t VideoRate = 90000;

TimePoint at(Duration d) { return TimePoint{} + std::chrono::seconds(100) + d; }

TEST(StreamRewriter, FirstSourcePassesThroughUnchanged) {
  StreamRewriter rw(VideoRate);
  EXPECT_FALSE(rw.started());
  auto out = rw.rewrite(SsrcA, 1000, 5000, at(0ms));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, (Rewritten{1000, 5000}));
  EXPECT_EQ(*rw.rewrite(SsrcA, 1001, 8000, at(33ms)), (Rewritten{1001, 8000}));
  EXPECT_TRUE(rw.started());
  EXPECT_EQ(rw.source(), SsrcA);
  EXPECT_EQ(rw.lastSequence(), 1001);
  EXPECT_EQ(rw.lastTimestamp(), 8000u);
  EXPECT_EQ(rw.translateTimestamp(123456), 123456u);
}

TEST(StreamRewriter, WrapsSequenceAndTimestamp) {
  StreamRewriter rw(VideoRate);
  const uint32_t ts = 0xFFFFF000u;
  ASSERT_TRUE(rw.rewrite(SsrcA, 65534, ts, at(0ms)));
  EXPECT_EQ(*rw.rewrite(SsrcA, 65535, ts + 3000, at(33ms)), (Rewritten{65535, ts + 3000}));
  // Both wrap: 16-bit sequence to 0, 32-bit timestamp past 2^32.
  EXPECT_EQ(*rw.rewrite(SsrcA, 0, ts + 6000, at(66ms)), (Rewritten{0, static_cast<uint32_t>(ts + 6000)}));
  EXPECT_EQ(rw.rewrite(SsrcA, 1, 2904, at(99ms))->timestamp, 2904u);
  EXPECT_EQ(rw.lastSequence(), 1);
  // A packet from before the wrap arriving late is still of this source and newer than its first.
  EXPECT_EQ(*rw.rewrite(SsrcA, 65535, ts + 3000, at(100ms)), (Rewritten{65535, ts + 3000}));
  EXPECT_EQ(rw.lastSequence(), 1);
}

TEST(StreamRewriter, SwitchAcrossOutputWrap) {
  StreamRewriter rw(VideoRate);
  ASSERT_TRUE(rw.rewrite(SsrcA, 65535, 0xFFFFFFF0u, at(0ms)));
  // New source: output continues at 65535 + 1 = 0, timestamp 0xFFFFFFF0 + 90 (1 ms) wraps.
  auto out = rw.rewrite(SsrcB, 300, 1000, at(1ms));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, (Rewritten{0, 0x4Au}));
  EXPECT_EQ(*rw.rewrite(SsrcB, 301, 4000, at(34ms)), (Rewritten{1, 0x4Au + 3000}));
}

TEST(StreamRewriter, KeepsLossGapsAndReordering) {
  StreamRewriter rw(VideoRate);
  ASSERT_TRUE(rw.rewrite(SsrcA, 10, 0, at(0ms)));
  ASSERT_TRUE(rw.rewrite(SsrcA, 11, 3000, at(33ms)));
  // 12 and 13 lost: the output has the same gap, so the subscriber NACKs them.
  EXPECT_EQ(rw.rewrite(SsrcA, 14, 9000, at(99ms))->sequence, 14);
  // Reordered: 16 before 15; both keep their numbers, the highest stays 16.
  EXPECT_EQ(rw.rewrite(SsrcA, 16, 12000, at(132ms))->sequence, 16);
  EXPECT_EQ(rw.rewrite(SsrcA, 15, 12000, at(133ms))->sequence, 15);
  EXPECT_EQ(rw.lastSequence(), 16);
  // A retransmission of 12 arrives late: forwarded with its own number.
  EXPECT_EQ(*rw.rewrite(SsrcA, 12, 6000, at(200ms)), (Rewritten{12, 6000}));
  EXPECT_EQ(rw.lastSequence(), 16);
  EXPECT_EQ(rw.counters().forwarded, 6u);
}

TEST(StreamRewriter, DropsPacketsOlderThanFirstOfSource) {
  StreamRewriter rw(VideoRate);
  ASSERT_TRUE(rw.rewrite(SsrcA, 100, 0, at(0ms)));
  EXPECT_FALSE(rw.rewrite(SsrcA, 99, 0, at(1ms)));
  // Also across the wrap: 65530 is "before" 3 when 3 is the first.
  StreamRewriter wrapped(VideoRate);
  ASSERT_TRUE(wrapped.rewrite(SsrcA, 3, 0, at(0ms)));
  EXPECT_FALSE(wrapped.rewrite(SsrcA, 65530, 0, at(1ms)));
  EXPECT_EQ(wrapped.counters().droppedOld, 1u);
}

TEST(StreamRewriter, SourceSwitchIsContinuous) {
  StreamRewriter rw(VideoRate);
  ASSERT_TRUE(rw.rewrite(SsrcA, 500, 10000, at(0ms)));
  ASSERT_TRUE(rw.rewrite(SsrcA, 501, 13000, at(33ms)));
  // Switch to B 40 ms after A's last packet: B's numbering is unrelated.
  auto out = rw.rewrite(SsrcB, 40000, 777777, at(73ms));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->sequence, 502);
  EXPECT_EQ(out->timestamp, 13000u + 40 * 90);
  EXPECT_EQ(rw.source(), SsrcB);
  // Within B the offsets are constant: gaps and timestamps follow B.
  EXPECT_EQ(*rw.rewrite(SsrcB, 40002, 777777 + 6000, at(140ms)), (Rewritten{504, 13000 + 3600 + 6000}));
  EXPECT_EQ(rw.counters().sourceChanges, 1u);
}

TEST(StreamRewriter, TimestampAdvancesAtLeastOneTick) {
  StreamRewriter rw(VideoRate);
  ASSERT_TRUE(rw.rewrite(SsrcA, 1, 1000, at(0ms)));
  // Same instant: one tick, so the new frame never shares the last frame's timestamp.
  EXPECT_EQ(rw.rewrite(SsrcB, 9, 50, at(0ms))->timestamp, 1001u);
  // Arrival before the last one (clock oddity): still one tick.
  EXPECT_EQ(rw.rewrite(SsrcA, 70, 50, at(-5ms))->timestamp, 1002u);
}

TEST(StreamRewriter, SwitchBackToPreviousSource) {
  StreamRewriter rw(VideoRate);
  ASSERT_TRUE(rw.rewrite(SsrcA, 100, 0, at(0ms)));
  ASSERT_TRUE(rw.rewrite(SsrcA, 101, 3000, at(33ms)));
  ASSERT_TRUE(rw.rewrite(SsrcB, 7000, 500, at(66ms)));  // -> 102, ts 3000 + 2970
  ASSERT_TRUE(rw.rewrite(SsrcB, 7001, 3500, at(99ms)));  // -> 103, ts 8970
  // A comes back with packets newer than the ones we forwarded from it: a switch, continuous.
  auto out = rw.rewrite(SsrcA, 110, 30000, at(132ms));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, (Rewritten{104, 8970 + 2970}));
  EXPECT_EQ(*rw.rewrite(SsrcA, 111, 33000, at(165ms)), (Rewritten{105, 8970 + 2970 + 3000}));
  EXPECT_EQ(rw.counters().sourceChanges, 2u);
}

TEST(StreamRewriter, LatePacketOfOldSourceAfterSwitchIsDropped) {
  StreamRewriter rw(VideoRate);
  ASSERT_TRUE(rw.rewrite(SsrcA, 100, 0, at(0ms)));
  ASSERT_TRUE(rw.rewrite(SsrcA, 102, 6000, at(66ms)));
  ASSERT_TRUE(rw.rewrite(SsrcB, 5, 0, at(80ms)));  // -> 103
  // 101 of A was reordered behind the switch: its slot (101) would be fine, but the output has
  // moved to B; forwarding it would also reset the source. Dropped, and B continues.
  EXPECT_FALSE(rw.rewrite(SsrcA, 101, 3000, at(81ms)));
  EXPECT_FALSE(rw.rewrite(SsrcA, 102, 6000, at(82ms)));  // a duplicate of A's last
  EXPECT_EQ(rw.source(), SsrcB);
  EXPECT_EQ(rw.rewrite(SsrcB, 6, 3000, at(100ms))->sequence, 104);
  EXPECT_EQ(rw.counters().droppedOld, 2u);
  EXPECT_EQ(rw.counters().sourceChanges, 1u);
}

TEST(StreamRewriter, OldSsrcLongAfterSwitchIsANewSource) {
  StreamRewriter rw(VideoRate);
  ASSERT_TRUE(rw.rewrite(SsrcA, 100, 0, at(0ms)));
  ASSERT_TRUE(rw.rewrite(SsrcB, 5, 0, at(10ms)));
  // Past PreviousSourceMemory the old SSRC with any number is a (restarted) source.
  auto out = rw.rewrite(SsrcA, 50, 0, at(10ms + StreamRewriter::PreviousSourceMemory));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->sequence, 102);
}

TEST(StreamRewriter, LateFirstPacketsOfNewSourceAreDropped) {
  StreamRewriter rw(VideoRate);
  ASSERT_TRUE(rw.rewrite(SsrcA, 100, 0, at(0ms)));
  ASSERT_TRUE(rw.rewrite(SsrcB, 21, 9000, at(40ms)));  // -> 101; B's 20 was reordered after 21
  // 20 would need output 100, which A already used.
  EXPECT_FALSE(rw.rewrite(SsrcB, 20, 9000, at(41ms)));
  EXPECT_EQ(rw.rewrite(SsrcB, 22, 9000, at(42ms))->sequence, 102);
}

TEST(StreamRewriter, PauseAndResumeAfterLongPause) {
  StreamRewriter rw(VideoRate);
  ASSERT_TRUE(rw.rewrite(SsrcA, 1000, 100000, at(0ms)));
  ASSERT_TRUE(rw.rewrite(SsrcA, 1001, 103000, at(33ms)));
  rw.pause();
  EXPECT_TRUE(rw.paused());
  // Everything while paused is dropped, and leaves no gap.
  for (uint16_t s = 1002; s < 1300; ++s) EXPECT_FALSE(rw.rewrite(SsrcA, s, 103000 + (s - 1001) * 3000u, at(40ms)));
  EXPECT_EQ(rw.counters().droppedPaused, 298u);
  rw.resume();
  EXPECT_FALSE(rw.paused());
  // Resumed 10 minutes later (the same SSRC): next number, timestamp advanced by 10 min of 90 kHz.
  const auto later = at(33ms + std::chrono::minutes(10));
  auto out = rw.rewrite(SsrcA, 30000, 7, later);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->sequence, 1002);
  EXPECT_EQ(out->timestamp, 103000u + 600u * 90000u);
  EXPECT_EQ(rw.rewrite(SsrcA, 30001, 3007, later + 33ms)->sequence, 1003);
  // A pre-pause packet showing up now is older than the resumed segment's first: dropped.
  EXPECT_FALSE(rw.rewrite(SsrcA, 1001, 103000, later + 34ms));
}

TEST(StreamRewriter, ResumeWithoutPauseChangesNothing) {
  StreamRewriter rw(VideoRate);
  ASSERT_TRUE(rw.rewrite(SsrcA, 1, 0, at(0ms)));
  rw.resume();
  EXPECT_EQ(*rw.rewrite(SsrcA, 5, 400, at(10ms)), (Rewritten{5, 400}));
  EXPECT_EQ(rw.counters().sourceChanges, 0u);
}

TEST(StreamRewriter, PausedBeforeFirstPacket) {
  StreamRewriter rw(48000);
  rw.pause();
  EXPECT_FALSE(rw.rewrite(SsrcA, 1, 0, at(0ms)));
  rw.resume();
  EXPECT_EQ(*rw.rewrite(SsrcA, 2, 960, at(20ms)), (Rewritten{2, 960}));
}

TEST(StreamRewriter, SequenceRestartWithinSsrcAfterProbation) {
  StreamRewriter rw(VideoRate);
  ASSERT_TRUE(rw.rewrite(SsrcA, 20000, 0, at(0ms)));
  ASSERT_TRUE(rw.rewrite(SsrcA, 20001, 3000, at(33ms)));
  // The sender restarts at 5 without a new SSRC: the first such packet is dropped as late, the
  // second in sequence proves a restart and continues the output.
  EXPECT_FALSE(rw.rewrite(SsrcA, 5, 0, at(66ms)));
  auto out = rw.rewrite(SsrcA, 6, 3000, at(99ms));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->sequence, 20002);
  EXPECT_EQ(out->timestamp, 3000u + 66 * 90);
  EXPECT_EQ(rw.rewrite(SsrcA, 7, 6000, at(132ms))->sequence, 20003);
}

TEST(StreamRewriter, TranslatesSenderReportTimestamp) {
  StreamRewriter rw(VideoRate);
  ASSERT_TRUE(rw.rewrite(SsrcA, 1, 1000, at(0ms)));
  ASSERT_TRUE(rw.rewrite(SsrcB, 1, 0xFFFFFF00u, at(10ms)));  // out ts 1000 + 900
  // The sender report of B says RTP time 0xFFFFFF00 + 9000 (wrapped): maps like its packets.
  EXPECT_EQ(rw.translateTimestamp(0xFFFFFF00u + 9000u), 1900u + 9000u);
  EXPECT_EQ(rw.translateTimestamp(0xFFFFFF00u), rw.lastTimestamp());
}

TEST(StreamRewriter, AudioClockRate) {
  StreamRewriter rw(48000);
  ASSERT_TRUE(rw.rewrite(SsrcA, 1, 0, at(0ms)));
  EXPECT_EQ(rw.rewrite(SsrcB, 1, 123, at(20ms))->timestamp, 960u);
}

}  // namespace
}  // namespace meeting::sfu
