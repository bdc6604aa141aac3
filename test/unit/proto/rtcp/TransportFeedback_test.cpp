#include "proto/rtcp/TransportFeedback.hpp"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <vector>

#include "unit/proto/rtcp/RtcpTestUtil.hpp"

namespace meeting::proto::rtcp {
namespace {

using testing::onlyPacket;

int64_t floorTicks(int64_t us) { return (us >= 0 ? us / 250 : (us - 249) / 250) * 250; }

// Builds feedback for `arrivals` and checks every packet decodes back to its quantized time.
void expectRoundTrip(const std::vector<TwccArrival>& arrivals) {
  std::vector<uint8_t> buf(70'000);
  ByteWriter w(buf);
  ASSERT_EQ(TransportFeedback::build(w, 1, 2, 3, arrivals), arrivals.size());
  EXPECT_EQ(w.size() % 4, 0u);
  auto fb = TransportFeedback::parse(onlyPacket(w.written()));
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->baseSequence(), arrivals.front().sequence);
  EXPECT_EQ(fb->statusCount(), static_cast<uint16_t>(arrivals.back().sequence - arrivals.front().sequence + 1));
  EXPECT_EQ(fb->receivedCount(), arrivals.size());
  EXPECT_EQ(fb->feedbackCount(), 3);
  size_t next = 0;
  int64_t firstTime = 0;
  fb->forEachPacket([&](const TwccPacketResult& r) {
    ASSERT_LT(next, arrivals.size());
    if (r.sequence != arrivals[next].sequence) {
      EXPECT_FALSE(r.received());
      return;
    }
    ASSERT_TRUE(r.received()) << r.sequence;
    if (next == 0) firstTime = r.receiveTimeUs - floorTicks(arrivals[0].arrivalUs);
    // Times come back relative to the 24-bit reference; the offset is the same for all.
    EXPECT_EQ(r.receiveTimeUs - firstTime, floorTicks(arrivals[next].arrivalUs)) << r.sequence;
    ++next;
  });
  EXPECT_EQ(next, arrivals.size());
  // Re-serializing gives the same bytes.
  std::vector<uint8_t> again(70'000);
  ByteWriter w2(again);
  ASSERT_TRUE(fb->serialize(w2));
  EXPECT_EQ(std::vector<uint8_t>(w2.written().begin(), w2.written().end()),
            std::vector<uint8_t>(w.written().begin(), w.written().end()));
}

TEST(TransportFeedback, HundredPacketsWithLossAndJitter) {
  std::vector<TwccArrival> arrivals;
  int64_t t = 5'000'123;
  for (uint16_t seq = 1000; seq < 1110; ++seq) {
    if (seq % 9 == 0 || (seq > 1050 && seq < 1058)) continue;  // losses, one burst
    t += (seq % 5 == 0) ? 70'000 : 1'300;                        // some gaps > 63.75 ms
    if (seq % 13 == 0) t -= 3'000;                               // reordering on arrival
    arrivals.push_back({seq, t});
  }
  expectRoundTrip(arrivals);
}

TEST(TransportFeedback, AllSmallDeltasUseCompactChunks) {
  std::vector<TwccArrival> arrivals;
  for (uint16_t i = 0; i < 100; ++i) arrivals.push_back({static_cast<uint16_t>(i), 1'000'000 + i * 1'000});
  std::array<uint8_t, 1500> buf{};
  ByteWriter w(buf);
  ASSERT_EQ(TransportFeedback::build(w, 1, 2, 0, arrivals), 100u);
  // 20 fixed + one run-length chunk (100 x small) + 100 one-byte deltas, padded to 124.
  EXPECT_EQ(w.size(), 124u);
  expectRoundTrip(arrivals);
}

TEST(TransportFeedback, SequenceWrapAndLongGap) {
  std::vector<TwccArrival> arrivals = {{65530, 0}, {65535, 1'000}, {3, 2'000}, {20'000, 3'000}, {20'001, 3'250}};
  expectRoundTrip(arrivals);
  std::array<uint8_t, 1500> buf{};
  ByteWriter w(buf);
  ASSERT_EQ(TransportFeedback::build(w, 1, 2, 0, arrivals), arrivals.size());
  EXPECT_LT(w.size(), 40u);  // the 20k gap costs a few run-length chunks, not 20k statuses
}

TEST(TransportFeedback, NegativeArrivalTimes) {
  expectRoundTrip({{1, -1'000'000}, {2, -999'000}, {3, -1'100'000}});
}

TEST(TransportFeedback, RandomPatternsRoundTrip) {
  std::mt19937 rng(1234);
  for (int iter = 0; iter < 200; ++iter) {
    std::vector<TwccArrival> arrivals;
    uint16_t seq = static_cast<uint16_t>(rng());
    int64_t t = static_cast<int64_t>(rng() % 100'000'000);
    const int n = 1 + static_cast<int>(rng() % 300);
    for (int i = 0; i < n; ++i) {
      arrivals.push_back({seq, t});
      seq = static_cast<uint16_t>(seq + 1 + (rng() % 4 == 0 ? rng() % 20 : 0));
      t += static_cast<int64_t>(rng() % 3 == 0 ? rng() % 200'000 : rng() % 2'000) - 500;
    }
    expectRoundTrip(arrivals);
  }
}

TEST(TransportFeedback, BuilderStopsWhereAPacketMustEnd) {
  // A delta beyond 16 bits of 250 us (8.19 s) cannot be encoded: the rest goes in a new packet.
  std::vector<TwccArrival> arrivals = {{1, 0}, {2, 1'000}, {3, 10'000'000}, {4, 10'001'000}};
  std::array<uint8_t, 1500> buf{};
  ByteWriter w(buf);
  EXPECT_EQ(TransportFeedback::build(w, 1, 2, 0, arrivals), 2u);
  ByteWriter w2(buf);
  EXPECT_EQ(TransportFeedback::build(w2, 1, 2, 1, std::span(arrivals).subspan(2)), 2u);
  // Out-of-order or duplicate sequence numbers end the packet too.
  std::vector<TwccArrival> unordered = {{10, 0}, {11, 100}, {11, 200}, {12, 300}};
  ByteWriter w3(buf);
  EXPECT_EQ(TransportFeedback::build(w3, 1, 2, 0, unordered), 2u);
  ByteWriter w4(buf);
  EXPECT_EQ(TransportFeedback::build(w4, 1, 2, 0, {}), 0u);
}

TEST(TransportFeedback, BuilderRespectsTheBufferSize) {
  std::vector<TwccArrival> arrivals;
  for (uint16_t i = 0; i < 500; ++i) arrivals.push_back({i, i * 100'000});  // all large deltas
  std::array<uint8_t, 200> buf{};
  ByteWriter w(buf);
  const size_t n = TransportFeedback::build(w, 1, 2, 0, arrivals);
  ASSERT_GT(n, 10u);
  ASSERT_LT(n, 500u);
  EXPECT_LE(w.size(), buf.size());
  auto fb = TransportFeedback::parse(onlyPacket(w.written()));
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->receivedCount(), n);
  std::array<uint8_t, 20> tiny{};
  ByteWriter t(tiny);
  EXPECT_EQ(TransportFeedback::build(t, 1, 2, 0, arrivals), 0u);
}

std::vector<uint8_t> feedback(uint16_t count, std::vector<uint8_t> chunksAndDeltas) {
  std::vector<uint8_t> b = {0x8F, 0xCD, 0x00, 0x00, 0, 0, 0, 1, 0, 0, 0, 2,
                            0x00, 0x10, static_cast<uint8_t>(count >> 8), static_cast<uint8_t>(count),
                            0x00, 0x00, 0x01, 0x00};
  b.insert(b.end(), chunksAndDeltas.begin(), chunksAndDeltas.end());
  while (b.size() % 4 != 0) b.push_back(0);
  b[3] = static_cast<uint8_t>(b.size() / 4 - 1);
  return b;
}

TEST(TransportFeedback, RejectsMalformed) {
  // Well-formed baseline: run of 3 small deltas.
  EXPECT_TRUE(TransportFeedback::parse(onlyPacket(feedback(3, {0x20, 0x03, 1, 2, 3}))));
  // Status count 0.
  EXPECT_FALSE(TransportFeedback::parse(onlyPacket(feedback(0, {0x20, 0x03, 1, 2, 3}))));
  // Deltas missing.
  EXPECT_FALSE(TransportFeedback::parse(onlyPacket(feedback(3, {0x20, 0x03, 1}))));
  // Run length 0 and reserved status 3.
  EXPECT_FALSE(TransportFeedback::parse(onlyPacket(feedback(3, {0x20, 0x00, 1, 2, 3}))));
  EXPECT_FALSE(TransportFeedback::parse(onlyPacket(feedback(3, {0x60, 0x03}))));
  // Two-bit vector with a reserved symbol.
  EXPECT_FALSE(TransportFeedback::parse(onlyPacket(feedback(2, {0xF0, 0x00}))));
  // Huge status count with one chunk: the chunks run out.
  EXPECT_FALSE(TransportFeedback::parse(onlyPacket(feedback(65535, {0x20, 0x03, 1, 2, 3}))));
  // Garbage after the deltas beyond 32-bit padding.
  EXPECT_FALSE(TransportFeedback::parse(onlyPacket(feedback(1, {0x20, 0x01, 1, 0, 0, 0, 0, 9}))));
  // Too short for the fixed fields.
  std::vector<uint8_t> tiny = {0x8F, 0xCD, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 1};
  EXPECT_FALSE(TransportFeedback::parse(onlyPacket(tiny)));
}

TEST(TransportFeedback, HugeStatusCountOfLostPacketsIsBounded) {
  // 65535 statuses, all "not received": 8 runs of 8191 and one of 7. Valid, and the walk is
  // bounded by the 16-bit count.
  std::vector<uint8_t> chunks;
  for (int i = 0; i < 8; ++i) {
    chunks.push_back(0x1F);
    chunks.push_back(0xFF);
  }
  chunks.push_back(0x00);
  chunks.push_back(0x07);
  auto fb = TransportFeedback::parse(onlyPacket(feedback(65535, chunks)));
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->receivedCount(), 0u);
  size_t n = 0;
  fb->forEachPacket([&](const TwccPacketResult& r) {
    EXPECT_FALSE(r.received());
    ++n;
  });
  EXPECT_EQ(n, 65535u);
  std::array<TwccPacketResult, 16> out{};
  EXPECT_EQ(fb->packets(out), 16u);
}

TEST(TransportFeedback, OneBitVectorDecodes) {
  // 1-bit vector: received, lost, received (rest ignored past the count); deltas 4 and 8.
  auto fb = TransportFeedback::parse(onlyPacket(feedback(3, {0xA8, 0x00, 4, 8})));
  ASSERT_TRUE(fb);
  std::array<TwccPacketResult, 3> r{};
  ASSERT_EQ(fb->packets(r), 3u);
  EXPECT_TRUE(r[0].received());
  EXPECT_FALSE(r[1].received());
  EXPECT_TRUE(r[2].received());
  EXPECT_EQ(r[2].receiveTimeUs - r[0].receiveTimeUs, 2'000);
}

}  // namespace
}  // namespace meeting::proto::rtcp
