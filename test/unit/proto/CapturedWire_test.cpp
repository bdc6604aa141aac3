// Packets captured on the loopback interface during the echo end-to-end test with Chromium 156
// (test/data/wire/chromium156): Chromium's ICE checks and our answers, and SRTP packets (the RTP
// header and extensions travel in clear) for Opus (111), VP8 (96) and RTX (97).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "proto/Demux.hpp"
#include "proto/rtp/RtpPacket.hpp"
#include "proto/stun/Stun.hpp"

namespace meeting::proto {
namespace {

std::vector<std::vector<uint8_t>> captured(const std::string& prefix) {
  std::vector<std::vector<uint8_t>> out;
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(MEETING_TEST_DATA) + "/wire/chromium156")) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

TEST(CapturedWire, ChromiumIceChecksParseWithTheirAttributes) {
  auto requests = captured("stun_0001_");
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& bytes : requests) {
    EXPECT_EQ(classifyPacket(bytes), PacketKind::Stun);
    auto message = stun::StunMessage::parse(bytes);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->method(), stun::Method::Binding);
    EXPECT_EQ(message->messageClass(), stun::MessageClass::Request);
    ASSERT_TRUE(message->username());
    EXPECT_NE(message->username()->find(':'), std::string_view::npos);
    EXPECT_TRUE(message->iceControlling());  // the browser is the controlling (full) agent
    EXPECT_TRUE(message->priority());
    EXPECT_NE(message->messageIntegrityOffset(), 0u);
    EXPECT_TRUE(stun::verifyFingerprint(*message));
    EXPECT_FALSE(message->hasUnknownRequiredAttributes());  // GOOG-NETWORK-INFO is optional-range
  }
}

TEST(CapturedWire, OurIceAnswersAreWellFormed) {
  auto responses = captured("stun_0101_");
  ASSERT_EQ(responses.size(), 3u);
  for (const auto& bytes : responses) {
    auto message = stun::StunMessage::parse(bytes);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->messageClass(), stun::MessageClass::SuccessResponse);
    EXPECT_TRUE(message->xorMappedAddress());
    EXPECT_TRUE(stun::verifyFingerprint(*message));
  }
}

TEST(CapturedWire, SrtpHeadersParseAsRtpWithExtensions) {
  for (auto [prefix, payloadType] : {std::pair{"srtp_pt111_", 111}, {"srtp_pt96_", 96}, {"srtp_pt97_", 97}}) {
    auto packets = captured(prefix);
    ASSERT_EQ(packets.size(), 3u) << prefix;
    for (auto& bytes : packets) {
      EXPECT_EQ(classifyPacket(bytes), PacketKind::Rtp);
      auto packet = rtp::RtpPacket::parse(std::span<uint8_t>(bytes));
      ASSERT_TRUE(packet) << prefix;
      EXPECT_EQ(packet->version(), 2);
      EXPECT_EQ(packet->payloadType(), payloadType);
      EXPECT_TRUE(packet->hasOneByteExtensions()) << prefix;
      size_t extensions = 0;
      packet->forEachExtension([&extensions](uint8_t, std::span<const uint8_t>) { ++extensions; });
      EXPECT_GT(extensions, 0u);
    }
  }
}

}  // namespace
}  // namespace meeting::proto
