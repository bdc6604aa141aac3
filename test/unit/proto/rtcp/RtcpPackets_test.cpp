// Build -> parse -> serialize round trips for each packet type, and malformed count fields.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "proto/rtcp/Rtcp.hpp"
#include "unit/proto/rtcp/RtcpTestUtil.hpp"

namespace meeting::proto::rtcp {
namespace {

using testing::onlyPacket;

struct Buf {
  std::array<uint8_t, 1500> bytes{};
  ByteWriter w{bytes};
  std::span<const uint8_t> data() const { return w.written(); }
};

std::vector<uint8_t> copy(std::span<const uint8_t> s) { return {s.begin(), s.end()}; }

// Serializing a parsed packet reproduces what the builder wrote.
template <typename T>
void expectReserializes(const T& parsed, std::span<const uint8_t> original) {
  Buf out;
  ASSERT_TRUE(parsed.serialize(out.w));
  EXPECT_EQ(copy(out.data()), copy(original));
}

ReportBlock block(uint32_t ssrc) {
  return ReportBlock{ssrc, 25, -3, 70'000, 12, 0x12345678, 9000};
}

TEST(RtcpPackets, SenderReportRoundTrip) {
  Buf b;
  const SenderInfo info{7, 0x0102030405060708ull, 9, 10, 11};
  const ReportBlock blocks[] = {block(1), block(2)};
  ASSERT_TRUE(SenderReport::build(b.w, info, blocks));
  EXPECT_EQ(b.w.size(), 4u + 24 + 48);
  auto sr = SenderReport::parse(onlyPacket(b.data()));
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->info(), info);
  ASSERT_EQ(sr->reportCount(), 2u);
  EXPECT_EQ(sr->reportBlock(0), blocks[0]);
  EXPECT_EQ(sr->reportBlock(1), blocks[1]);
  expectReserializes(*sr, b.data());
}

TEST(RtcpPackets, ReportBlockLossClampsAndSignExtends) {
  Buf b;
  ReportBlock big = block(1);
  big.cumulativeLost = 50'000'000;
  ASSERT_TRUE(ReceiverReport::build(b.w, 3, {&big, 1}));
  auto rr = ReceiverReport::parse(onlyPacket(b.data()));
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->reportBlock(0).cumulativeLost, 0x7FFFFF);
  EXPECT_EQ(block(1).cumulativeLost, -3);
}

TEST(RtcpPackets, ReceiverReportRoundTripAndLimits) {
  Buf b;
  ASSERT_TRUE(ReceiverReport::build(b.w, 42, {}));
  auto rr = ReceiverReport::parse(onlyPacket(b.data()));
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->ssrc(), 42u);
  EXPECT_EQ(rr->reportCount(), 0u);
  expectReserializes(*rr, b.data());
  std::vector<ReportBlock> many(32, block(1));
  Buf c;
  EXPECT_FALSE(ReceiverReport::build(c.w, 1, many));
  EXPECT_FALSE(SenderReport::build(c.w, SenderInfo{}, many));
  std::array<uint8_t, 20> tiny{};
  ByteWriter small(tiny);
  const ReportBlock one[] = {block(1)};
  EXPECT_FALSE(ReceiverReport::build(small, 1, one));
  EXPECT_EQ(small.size(), 0u);  // nothing half-written
}

TEST(RtcpPackets, ReportCountLargerThanData) {
  Buf b;
  const ReportBlock blocks[] = {block(1)};
  ASSERT_TRUE(SenderReport::build(b.w, SenderInfo{}, blocks));
  auto bytes = copy(b.data());
  bytes[0] = 0x82;  // RC=2, one block present
  EXPECT_FALSE(SenderReport::parse(onlyPacket(bytes)));
  Buf r;
  ASSERT_TRUE(ReceiverReport::build(r.w, 1, blocks));
  bytes = copy(r.data());
  bytes[0] = 0x9F;  // RC=31
  EXPECT_FALSE(ReceiverReport::parse(onlyPacket(bytes)));
}

TEST(RtcpPackets, SdesRoundTripAndMalformed) {
  const SdesItem items1[] = {{1, "alice@host"}, {6, "meeting"}};
  const SdesItem items2[] = {{1, "b"}};
  const SdesChunk chunks[] = {{10, items1}, {11, items2}, {12, {}}};
  Buf b;
  ASSERT_TRUE(Sdes::build(b.w, chunks));
  auto sdes = Sdes::parse(onlyPacket(b.data()));
  ASSERT_TRUE(sdes);
  EXPECT_EQ(sdes->chunkCount(), 3u);
  EXPECT_EQ(sdes->cname(), "alice@host");
  std::vector<std::pair<uint32_t, std::string>> seen;
  sdes->forEachItem([&](uint32_t ssrc, uint8_t, std::string_view v) { seen.emplace_back(ssrc, std::string(v)); });
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1], (std::pair<uint32_t, std::string>{10, "meeting"}));
  EXPECT_EQ(seen[2], (std::pair<uint32_t, std::string>{11, "b"}));
  expectReserializes(*sdes, b.data());

  auto bytes = copy(b.data());
  bytes[0] = 0x84;  // SC=4, three chunks present
  EXPECT_FALSE(Sdes::parse(onlyPacket(bytes)));
  // Item length running past the packet.
  std::vector<uint8_t> bad = {0x81, 0xCA, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x10, 'a', 'b'};
  EXPECT_FALSE(Sdes::parse(onlyPacket(bad)));
  // No terminating null item.
  std::vector<uint8_t> unterminated = {0x81, 0xCA, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x02, 'a', 'b'};
  EXPECT_FALSE(Sdes::parse(onlyPacket(unterminated)));
  const SdesItem endItem[] = {{0, "x"}};
  const SdesChunk badChunk[] = {{1, endItem}};
  Buf c;
  EXPECT_FALSE(Sdes::build(c.w, badChunk));
}

TEST(RtcpPackets, ByeRoundTripAndMalformed) {
  const uint32_t ssrcs[] = {5, 6};
  Buf b;
  ASSERT_TRUE(Bye::build(b.w, ssrcs, "left the room"));
  auto bye = Bye::parse(onlyPacket(b.data()));
  ASSERT_TRUE(bye);
  ASSERT_EQ(bye->ssrcCount(), 2u);
  EXPECT_EQ(bye->ssrc(1), 6u);
  EXPECT_EQ(bye->reason(), "left the room");
  expectReserializes(*bye, b.data());
  auto bytes = copy(b.data());
  bytes[0] = 0x88;  // SC=8
  EXPECT_FALSE(Bye::parse(onlyPacket(bytes)));
  bytes = copy(b.data());
  bytes[12] = 200;  // reason length past the end
  EXPECT_FALSE(Bye::parse(onlyPacket(bytes)));
}

TEST(RtcpPackets, AppRoundTrip) {
  const uint8_t data[] = {1, 2, 3, 4, 5};
  Buf b;
  ASSERT_TRUE(App::build(b.w, 3, 77, {'T', 'E', 'S', 'T'}, data));
  EXPECT_EQ(b.w.size(), 4u + 8 + 8);
  auto app = App::parse(onlyPacket(b.data()));
  ASSERT_TRUE(app);
  EXPECT_EQ(app->subtype(), 3);
  EXPECT_EQ(app->ssrc(), 77u);
  EXPECT_EQ(std::string(app->name().data(), 4), "TEST");
  EXPECT_EQ(app->data().size(), 8u);  // zero-padded
  expectReserializes(*app, b.data());
}

TEST(RtcpPackets, NackBuildGroupsAndWraps) {
  const uint16_t lost[] = {65530, 65531, 65535, 0, 9, 10, 30, 30};
  Buf b;
  ASSERT_TRUE(Nack::build(b.w, 1, 2, lost));
  auto nack = Nack::parse(onlyPacket(b.data()));
  ASSERT_TRUE(nack);
  ASSERT_EQ(nack->itemCount(), 2u);  // 65530 (+ up to 16 after it: ..10), then 30
  std::vector<uint16_t> got;
  nack->forEachLost([&](uint16_t s) { got.push_back(s); });
  EXPECT_EQ(got, (std::vector<uint16_t>{65530, 65531, 65535, 0, 9, 10, 30}));
  expectReserializes(*nack, b.data());
  Buf c;
  EXPECT_FALSE(Nack::build(c.w, 1, 2, std::span<const uint16_t>{}));
  const NackItem items[] = {{1, 0xFFFF}};
  ASSERT_TRUE(Nack::build(c.w, 1, 2, items));
  uint16_t out[4];
  EXPECT_EQ(Nack::parse(onlyPacket(c.data()))->lostSequences(out), 4u);  // stops at capacity
  // NACK without any FCI entry.
  std::vector<uint8_t> empty = {0x81, 0xCD, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
  EXPECT_FALSE(Nack::parse(onlyPacket(empty)));
}

TEST(RtcpPackets, PliAndFir) {
  Buf b;
  ASSERT_TRUE(Pli::build(b.w, 1, 0xCAFE));
  auto pli = Pli::parse(onlyPacket(b.data()));
  ASSERT_TRUE(pli);
  EXPECT_EQ(pli->mediaSsrc(), 0xCAFEu);
  expectReserializes(*pli, b.data());
  std::vector<uint8_t> shortPli = {0x81, 0xCE, 0x00, 0x01, 0, 0, 0, 1};
  EXPECT_FALSE(Pli::parse(onlyPacket(shortPli)));

  const FirEntry entries[] = {{0xCAFE, 3}, {0xBEEF, 200}};
  Buf f;
  ASSERT_TRUE(Fir::build(f.w, 1, entries));
  auto fir = Fir::parse(onlyPacket(f.data()));
  ASSERT_TRUE(fir);
  EXPECT_EQ(fir->mediaSsrc(), 0u);
  ASSERT_EQ(fir->entryCount(), 2u);
  EXPECT_EQ(fir->entry(1), entries[1]);
  expectReserializes(*fir, f.data());
  EXPECT_FALSE(Fir::parse(onlyPacket(shortPli)));
}

TEST(RtcpPackets, RembRoundTripAndMalformed) {
  const uint32_t ssrcs[] = {1, 2, 3};
  for (uint64_t bitrate : {uint64_t{0}, uint64_t{30'000}, uint64_t{262'143}, uint64_t{2'500'000}, uint64_t{1} << 40}) {
    Buf b;
    ASSERT_TRUE(Remb::build(b.w, 9, bitrate, ssrcs));
    auto remb = Remb::parse(onlyPacket(b.data()));
    ASSERT_TRUE(remb);
    EXPECT_LE(remb->bitrate(), bitrate);
    EXPECT_GE(remb->bitrate(), bitrate - bitrate / 0x20000);  // 18 significant bits
    ASSERT_EQ(remb->ssrcCount(), 3u);
    EXPECT_EQ(remb->ssrc(2), 3u);
    expectReserializes(*remb, b.data());
  }
  Buf b;
  ASSERT_TRUE(Remb::build(b.w, 9, 1000, ssrcs));
  auto bytes = copy(b.data());
  bytes[16] = 5;  // claims 5 SSRCs, 3 present
  EXPECT_FALSE(Remb::parse(onlyPacket(bytes)));
  bytes = copy(b.data());
  bytes[12] = 'X';  // not REMB
  EXPECT_FALSE(Remb::parse(onlyPacket(bytes)));
  bytes = copy(b.data());
  bytes[17] = 0xFF;  // exponent 63, mantissa with high bits: overflows 64 bits
  EXPECT_FALSE(Remb::parse(onlyPacket(bytes)));
}

TEST(RtcpPackets, XrRoundTripAndUnknownBlocks) {
  const DlrrItem dlrr[] = {{1, 2, 3}, {4, 5, 6}};
  Buf b;
  ASSERT_TRUE(Xr::build(b.w, 99, 0x1122334455667788ull, dlrr));
  auto xr = Xr::parse(onlyPacket(b.data()));
  ASSERT_TRUE(xr);
  EXPECT_EQ(xr->ssrc(), 99u);
  EXPECT_EQ(xr->rrtr(), 0x1122334455667788ull);
  std::vector<DlrrItem> got;
  xr->forEachDlrr([&](const DlrrItem& d) { got.push_back(d); });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], dlrr[1]);
  expectReserializes(*xr, b.data());

  // An unknown block (type 42, 1 word) before an RRTR is skipped.
  std::vector<uint8_t> mixed = {0x80, 0xCF, 0x00, 0x06, 0, 0, 0, 7,
                                42, 0, 0x00, 0x01, 0xAA, 0xBB, 0xCC, 0xDD,
                                4, 0, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
  auto xr2 = Xr::parse(onlyPacket(mixed));
  ASSERT_TRUE(xr2);
  EXPECT_EQ(xr2->rrtr(), 0x0000000100000002ull);
  int blocks = 0;
  xr2->forEachBlock([&](uint8_t, uint8_t, std::span<const uint8_t>) { ++blocks; });
  EXPECT_EQ(blocks, 2);
  // Lying block length.
  auto bad = mixed;
  bad[11] = 0x09;
  EXPECT_FALSE(Xr::parse(onlyPacket(bad)));
  // RRTR with the wrong length.
  std::vector<uint8_t> rrtrShort = {0x80, 0xCF, 0x00, 0x03, 0, 0, 0, 7, 4, 0, 0x00, 0x01, 0, 0, 0, 1};
  EXPECT_FALSE(Xr::parse(onlyPacket(rrtrShort)));
  // DLRR that is not a multiple of 3 words.
  std::vector<uint8_t> dlrrBad = {0x80, 0xCF, 0x00, 0x03, 0, 0, 0, 7, 5, 0, 0x00, 0x01, 0, 0, 0, 1};
  EXPECT_FALSE(Xr::parse(onlyPacket(dlrrBad)));
}

TEST(RtcpPackets, WrongTypeIsRejectedByEveryParser) {
  Buf b;
  ASSERT_TRUE(Pli::build(b.w, 1, 2));
  auto view = onlyPacket(b.data());
  EXPECT_FALSE(SenderReport::parse(view));
  EXPECT_FALSE(ReceiverReport::parse(view));
  EXPECT_FALSE(Sdes::parse(view));
  EXPECT_FALSE(Bye::parse(view));
  EXPECT_FALSE(App::parse(view));
  EXPECT_FALSE(Nack::parse(view));
  EXPECT_FALSE(Fir::parse(view));
  EXPECT_FALSE(Remb::parse(view));
  EXPECT_FALSE(TransportFeedback::parse(view));
  EXPECT_FALSE(Xr::parse(view));
}

}  // namespace
}  // namespace meeting::proto::rtcp
