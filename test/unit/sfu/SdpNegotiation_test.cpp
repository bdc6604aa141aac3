// The SFU's SDP against descriptions captured from Chromium 156 (test/data/sdp/captured).
#include "sfu/SdpNegotiation.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "proto/sdp/SdpParser.hpp"
#include "proto/sdp/SdpWriter.hpp"

namespace meeting::sfu {
namespace {
namespace sdp = proto::sdp;

std::string readData(const std::string& name) {
  std::ifstream in(std::string(MEETING_TEST_DATA) + "/sdp/" + name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

constexpr std::string_view TransportCcUri = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

bool hasFeedback(const sdp::Codec& codec, std::string_view type) {
  for (const auto& fb : codec.feedback) {
    if (fb.type == type && fb.param.empty()) return true;
  }
  return false;
}

LocalTransportDescription local() {
  LocalTransportDescription l;
  l.ice = IceCredentials{"ufragufragufrag1", "passwordpasswordpasswordpassword"};
  l.fingerprint = "sha-256 38:FA:79:DC:50:CF:1C:A7:AA:7B:33:FE:23:AA:BA:1C:64:CC:66:D7:CA:DA:ED:FA:52:5C:D4:9C:49:F9:A2:31";
  sdp::Candidate udp;
  udp.foundation = "udp0";
  udp.priority = 2130706431;
  udp.address = "127.0.0.1";
  udp.port = 40000;
  l.candidates.push_back(udp);
  return l;
}

TEST(SdpNegotiation, AnswersChromiumPublishOffer) {
  auto offer = sdp::parse(readData("captured/chromium156_publishOffer.sdp"));
  ASSERT_TRUE(offer) << offer.error().message;
  auto result = answerPublishOffer(*offer, local(), AnswerOptions{});
  ASSERT_TRUE(result) << result.error().message;
  const auto& answer = result->answer;
  EXPECT_TRUE(answer.iceLite);
  ASSERT_EQ(answer.media.size(), 3u);
  ASSERT_NE(answer.findGroup("BUNDLE"), nullptr);
  EXPECT_EQ(answer.findGroup("BUNDLE")->mids, (std::vector<std::string>{"0", "1", "2"}));

  const auto& audio = answer.media[0];
  EXPECT_EQ(audio.direction, sdp::Direction::RecvOnly);
  ASSERT_EQ(audio.codecs.size(), 1u);
  EXPECT_EQ(audio.codecs[0].name, "opus");
  EXPECT_EQ(audio.setup, sdp::Setup::Passive);
  EXPECT_EQ(audio.iceUfrag, "ufragufragufrag1");

  const auto& video = answer.media[1];
  ASSERT_EQ(video.codecs.size(), 2u);
  EXPECT_EQ(video.codecs[0].name, "VP8");
  EXPECT_EQ(video.codecs[1].name, "rtx");
  EXPECT_EQ(video.codecs[1].associatedPayloadType(), video.codecs[0].payloadType);
  // transport-cc is accepted (the transport sends transport-wide feedback), audio and video,
  // with the id the browser offered; the transport learns that id from the remote parameters.
  EXPECT_EQ(video.findExtmapId(TransportCcUri), 3);
  EXPECT_EQ(audio.findExtmapId(TransportCcUri), 3);
  EXPECT_TRUE(video.findExtmapId("urn:ietf:params:rtp-hdrext:sdes:mid"));
  EXPECT_TRUE(hasFeedback(video.codecs[0], "transport-cc"));
  EXPECT_TRUE(hasFeedback(audio.codecs[0], "transport-cc"));
  EXPECT_TRUE(hasFeedback(video.codecs[0], "nack"));
  EXPECT_FALSE(hasFeedback(audio.codecs[0], "nack"));
  EXPECT_FALSE(hasFeedback(video.codecs[0], "goog-remb"));  // we send no REMB to publishers
  EXPECT_TRUE(video.codecs[1].feedback.empty());             // rtx
  EXPECT_EQ(result->remote.transportCcId, 3);

  const auto& data = answer.media[2];
  EXPECT_TRUE(data.isDataChannel());
  EXPECT_EQ(data.sctpPort, 5000);

  // What the browser sends: audio and video with SSRCs from a=ssrc, msid, and a data channel.
  ASSERT_EQ(result->media.size(), 2u);
  EXPECT_FALSE(result->media[1].ssrcs.empty());
  ASSERT_TRUE(result->media[1].ssrcs[0].rtxSsrc);
  EXPECT_TRUE(result->remote.dataChannels);
  EXPECT_EQ(result->remote.dtlsRole, DtlsRole::Server);
  EXPECT_EQ(result->remote.maxMessageSize, 262144u);

  // The answer survives our own serializer and parser unchanged.
  auto reparsed = sdp::parse(sdp::serialize(answer));
  ASSERT_TRUE(reparsed) << reparsed.error().message;
  EXPECT_EQ(*reparsed, answer);
}

TEST(SdpNegotiation, ForcedCodecAndUnavailableCodec) {
  auto offer = sdp::parse(readData("captured/chromium156_publishOffer.sdp"));
  ASSERT_TRUE(offer);
  auto h264 = answerPublishOffer(*offer, local(), AnswerOptions{VideoCodec::H264});
  ASSERT_TRUE(h264);
  const auto& codec = h264->answer.media[1].codecs[0];
  EXPECT_EQ(codec.name, "H264");
  EXPECT_EQ(codec.fmtpValue("packetization-mode"), "1");
  EXPECT_EQ(std::string(codec.fmtpValue("profile-level-id").value_or("")).substr(0, 4), "42e0");

  // Without the forced codec the video section is rejected (port 0), audio still flows.
  auto offerNoAv1 = *offer;
  auto& video = offerNoAv1.media[1];
  std::erase_if(video.codecs, [](const sdp::Codec& c) { return c.name == "AV1"; });
  auto av1 = answerPublishOffer(offerNoAv1, local(), AnswerOptions{VideoCodec::Av1});
  ASSERT_TRUE(av1);
  EXPECT_EQ(av1->answer.media[1].port, 0);
  EXPECT_EQ(av1->media.size(), 1u);
  EXPECT_EQ(av1->answer.findGroup("BUNDLE")->mids, (std::vector<std::string>{"0", "2"}));
}

TEST(SdpNegotiation, SimulcastOfferGetsRecvRids) {
  auto offer = sdp::parse(readData("chrome_simulcast_offer.sdp"));
  ASSERT_TRUE(offer) << offer.error().message;
  auto result = answerPublishOffer(*offer, local(), AnswerOptions{});
  ASSERT_TRUE(result) << result.error().message;
  const sdp::MediaSection* video = nullptr;
  for (const auto& m : result->answer.media) {
    if (m.kind == sdp::MediaKind::Video && m.port != 0) video = &m;
  }
  ASSERT_NE(video, nullptr);
  ASSERT_FALSE(video->rids.empty());
  for (const auto& rid : video->rids) EXPECT_EQ(rid.direction, sdp::RidDirection::Recv);
  ASSERT_TRUE(video->simulcast);
  EXPECT_FALSE(video->simulcast->recv.empty());
  EXPECT_TRUE(video->simulcast->send.empty());
}

TEST(SdpNegotiation, RejectsOffersWithoutTransportOrUsableSections) {
  auto offer = sdp::parse(readData("captured/chromium156_publishOffer.sdp"));
  ASSERT_TRUE(offer);
  auto noIce = *offer;
  noIce.iceUfrag.reset();
  for (auto& m : noIce.media) m.iceUfrag.reset();
  EXPECT_FALSE(answerPublishOffer(noIce, local(), {}));
  auto noFingerprint = *offer;
  noFingerprint.fingerprints.clear();
  for (auto& m : noFingerprint.media) m.fingerprints.clear();
  EXPECT_FALSE(answerPublishOffer(noFingerprint, local(), {}));
  auto nothing = *offer;
  for (auto& m : nothing.media) m.port = 0;
  EXPECT_FALSE(answerPublishOffer(nothing, local(), {}));
}

TEST(SdpNegotiation, SubscribeOfferIsAcceptedShapeAndChromiumAnswerIsRead) {
  SentMedia video;
  video.mid = "0";
  video.kind = sdp::MediaKind::Video;
  video.codec = sdp::Codec{96, "VP8", 90000, 0, {}, {{"nack", ""}, {"nack", "pli"}}};
  video.rtx = sdp::Codec{97, "rtx", 90000, 0, {{"apt", "96"}}, {}};
  video.ssrc = 1111;
  video.rtxSsrc = 2222;
  video.cname = "c";
  video.streamId = "s";
  video.trackId = "t";
  auto offer = makeSubscribeOffer(local(), {video}, true, 3);
  EXPECT_EQ(offer.origin.sessionVersion, 3u);
  ASSERT_EQ(offer.media.size(), 2u);
  EXPECT_EQ(offer.media[0].direction, sdp::Direction::SendOnly);
  EXPECT_EQ(offer.media[0].setup, sdp::Setup::ActPass);
  ASSERT_EQ(offer.media[0].ssrcGroups.size(), 1u);
  EXPECT_EQ(offer.media[0].ssrcGroups[0].ssrcs, (std::vector<uint32_t>{1111, 2222}));
  EXPECT_TRUE(offer.media[1].isDataChannel());
  auto reparsed = sdp::parse(sdp::serialize(offer));
  ASSERT_TRUE(reparsed);
  // Congestion feedback offered: transport-cc (extension and rtcp-fb) and goog-remb.
  EXPECT_EQ(offer.media[0].findExtmapId(TransportCcUri), 1);  // the lowest free id
  EXPECT_TRUE(hasFeedback(offer.media[0].codecs[0], "transport-cc"));
  EXPECT_TRUE(hasFeedback(offer.media[0].codecs[0], "goog-remb"));
  EXPECT_TRUE(hasFeedback(offer.media[0].codecs[0], "nack"));
  EXPECT_TRUE(offer.media[0].codecs[1].feedback.empty());
  EXPECT_NE(sdp::serialize(offer).find("a=rtcp-fb:96 transport-cc"), std::string::npos);

  auto answer = sdp::parse(readData("captured/chromium156_subscribeAnswer.sdp"));
  ASSERT_TRUE(answer) << answer.error().message;
  auto remote = remoteTransportParameters(*answer, true);
  ASSERT_TRUE(remote) << remote.error().message;
  EXPECT_EQ(remote->dtlsRole, DtlsRole::Server);  // Chromium answers a=setup:active
  EXPECT_FALSE(remote->iceUfrag.empty());
  EXPECT_EQ(remote->fingerprint.substr(0, 8), "sha-256 ");
  EXPECT_EQ(remote->transportCcId, 0);  // captured before transport-cc was offered

  auto passive = *answer;
  for (auto& m : passive.media) m.setup = sdp::Setup::Passive;
  EXPECT_EQ(remoteTransportParameters(passive, true)->dtlsRole, DtlsRole::Client);
  auto actpass = *answer;
  for (auto& m : actpass.media) m.setup = sdp::Setup::ActPass;
  EXPECT_FALSE(remoteTransportParameters(actpass, true));
}

TEST(SdpNegotiation, SubscribeOfferUsesOneTransportCcIdForTheTransport) {
  // What Room/EchoSession pass: each section with its publisher's extmaps.
  auto section = [](std::string mid, sdp::MediaKind kind, std::vector<sdp::Extmap> extmaps) {
    SentMedia m;
    m.mid = std::move(mid);
    m.kind = kind;
    m.codec = kind == sdp::MediaKind::Audio ? sdp::Codec{111, "opus", 48000, 2, {}, {}}
                                            : sdp::Codec{96, "VP8", 90000, 0, {}, {{"transport-cc", ""}}};
    m.extmaps = std::move(extmaps);
    m.ssrc = 1000 + static_cast<uint32_t>(m.mid.size());
    m.cname = m.streamId = m.trackId = "x";
    return m;
  };
  const std::string abs = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
  std::vector<SentMedia> media;
  media.push_back(section("0", sdp::MediaKind::Audio, {{1, {}, "urn:ietf:params:rtp-hdrext:ssrc-audio-level", {}},
                                                       {3, {}, std::string(TransportCcUri), {}}}));
  // Another publisher: transport-cc at 5 and abs-send-time on 3.
  media.push_back(section("1", sdp::MediaKind::Video, {{3, {}, abs, {}}, {5, {}, std::string(TransportCcUri), {}}}));
  media.push_back(section("2", sdp::MediaKind::Video, {}));
  auto offer = makeSubscribeOffer(local(), media, false, 1);
  ASSERT_EQ(offer.media.size(), 3u);
  for (const auto& m : offer.media) {
    EXPECT_EQ(m.findExtmapId(TransportCcUri), 3) << *m.mid;
    size_t onThree = 0;
    for (const auto& e : m.extmaps) onThree += e.id == 3 ? 1 : 0;
    EXPECT_EQ(onThree, 1u) << *m.mid;  // abs-send-time gave way
    EXPECT_TRUE(hasFeedback(m.codecs[0], "transport-cc"));
    EXPECT_EQ(hasFeedback(m.codecs[0], "goog-remb"), m.kind == sdp::MediaKind::Video);
    size_t transportCc = 0;
    for (const auto& fb : m.codecs[0].feedback) transportCc += fb.type == "transport-cc" ? 1 : 0;
    EXPECT_EQ(transportCc, 1u);  // not doubled
  }
  EXPECT_EQ(offer.media[0].findExtmapId("urn:ietf:params:rtp-hdrext:ssrc-audio-level"), 1);

  // The browser's answer echoes the id: the subscribe transport numbers with it.
  auto answerText = sdp::serialize(offer);
  auto reparsed = sdp::parse(answerText);
  ASSERT_TRUE(reparsed);
  for (auto& m : reparsed->media) m.setup = sdp::Setup::Active;
  auto remote = remoteTransportParameters(*reparsed, true);
  ASSERT_TRUE(remote) << remote.error().message;
  EXPECT_EQ(remote->transportCcId, 3);
}

TEST(SdpNegotiation, VideoCodecNames) {
  EXPECT_EQ(parseVideoCodec("VP8"), VideoCodec::Vp8);
  EXPECT_EQ(parseVideoCodec("h264"), VideoCodec::H264);
  EXPECT_EQ(parseVideoCodec("av1"), VideoCodec::Av1);
  EXPECT_EQ(parseVideoCodec("vp9"), VideoCodec::Vp9);
  EXPECT_FALSE(parseVideoCodec("theora"));
}

}  // namespace
}  // namespace meeting::sfu
