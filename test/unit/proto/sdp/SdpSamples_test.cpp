// Parses the browser sample SDPs in test/data/sdp and checks the fields the SFU relies on,
// then checks that parse -> serialize -> parse gives the same model.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "proto/sdp/Sdp.hpp"

namespace meeting::proto::sdp {
namespace {

std::string readSample(const std::string& name) {
  std::ifstream in(std::string(MEETING_TEST_DATA) + "/sdp/" + name, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

SessionDescription parseSample(const std::string& name) {
  std::string text = readSample(name);
  EXPECT_FALSE(text.empty()) << name;
  auto sd = parse(text);
  EXPECT_TRUE(sd.ok()) << name << ": " << (sd.ok() ? "" : sd.error().message);
  return sd.ok() ? std::move(*sd) : SessionDescription{};
}

constexpr std::string_view Stream = "4b2e6c1f-9a0d-4c47-8f3e-2d1b7a5c9e10";
constexpr std::string_view AudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
constexpr std::string_view MidUri = "urn:ietf:params:rtp-hdrext:sdes:mid";
constexpr std::string_view RidUri = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
constexpr std::string_view TwccUri = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

TEST(SdpSamples, ChromePublishOfferSession) {
  SessionDescription sd = parseSample("chrome_publish_offer.sdp");
  EXPECT_EQ(sd.version, 0u);
  EXPECT_EQ(sd.origin.username, "-");
  EXPECT_EQ(sd.origin.sessionId, "4611731400430051336");
  EXPECT_EQ(sd.origin.sessionVersion, 2u);
  EXPECT_EQ(sd.origin.address, "127.0.0.1");
  EXPECT_EQ(sd.sessionName, "-");
  ASSERT_EQ(sd.timings.size(), 1u);
  EXPECT_EQ(sd.timings[0], (Timing{0, 0}));
  const Group* bundle = sd.findGroup("BUNDLE");
  ASSERT_NE(bundle, nullptr);
  EXPECT_EQ(bundle->mids, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_TRUE(sd.extmapAllowMixed);
  EXPECT_FALSE(sd.iceLite);
  ASSERT_TRUE(sd.msidSemantic);
  EXPECT_EQ(sd.msidSemantic->semantic, "WMS");
  EXPECT_EQ(sd.msidSemantic->ids, (std::vector<std::string>{std::string(Stream)}));
  ASSERT_EQ(sd.media.size(), 3u);
  for (const MediaSection& m : sd.media) {
    auto ice = sd.effectiveIce(m);
    ASSERT_TRUE(ice);
    EXPECT_EQ(ice->ufrag, "Xq0F");
    EXPECT_EQ(ice->pwd, "k9Rr3ZaYb7Wm2VfT1nHq8sLe");
    EXPECT_EQ(ice->options, (std::vector<std::string>{"trickle"}));
    ASSERT_EQ(sd.effectiveFingerprints(m).size(), 1u);
    EXPECT_EQ(sd.effectiveFingerprints(m)[0].hashFunc, "sha-256");
    EXPECT_EQ(sd.effectiveSetup(m), Setup::ActPass);
  }
}

TEST(SdpSamples, ChromePublishOfferAudio) {
  SessionDescription sd = parseSample("chrome_publish_offer.sdp");
  ASSERT_EQ(sd.media.size(), 3u);
  const MediaSection& a = sd.media[0];
  EXPECT_EQ(a.kind, MediaKind::Audio);
  EXPECT_EQ(a.port, 53421);
  EXPECT_EQ(a.protocol, "UDP/TLS/RTP/SAVPF");
  EXPECT_EQ(a.formats, (std::vector<std::string>{"111", "63", "9", "0", "8", "13", "110", "126"}));
  ASSERT_TRUE(a.connection);
  EXPECT_EQ(a.connection->address, "203.0.113.24");
  EXPECT_EQ(a.mid, "0");
  EXPECT_EQ(a.direction, Direction::SendOnly);
  EXPECT_TRUE(a.rtcpMux);
  EXPECT_TRUE(a.rtcpRsize);
  ASSERT_EQ(a.codecs.size(), 8u);
  const Codec* opus = a.findCodec("OPUS", 48000);
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->payloadType, 111);
  EXPECT_EQ(opus->channels, 2u);
  EXPECT_EQ(opus->fmtp, (std::vector<Param>{{"minptime", "10"}, {"useinbandfec", "1"}}));
  EXPECT_EQ(opus->feedback, (std::vector<RtcpFeedback>{{"transport-cc", ""}}));
  const Codec* red = a.findCodec("red");
  ASSERT_NE(red, nullptr);
  EXPECT_EQ(red->payloadType, 63);
  EXPECT_EQ(red->fmtp, (std::vector<Param>{{"111/111", ""}}));
  EXPECT_EQ(a.findCodec("telephone-event", 8000)->payloadType, 126);
  EXPECT_EQ(a.findExtmapId(AudioLevelUri), 1);
  EXPECT_EQ(a.findExtmapId(MidUri), 4);
  EXPECT_FALSE(a.findExtmapId("urn:nope"));
  ASSERT_EQ(a.msids.size(), 1u);
  EXPECT_EQ(a.msids[0].streamId, Stream);
  const Attribute* rtcp = a.findAttribute("rtcp");
  ASSERT_NE(rtcp, nullptr);
  EXPECT_EQ(rtcp->value, "9 IN IP4 0.0.0.0");

  ASSERT_EQ(a.candidates.size(), 3u);
  const Candidate& host = a.candidates[0];
  EXPECT_EQ(host.foundation, "1467250027");
  EXPECT_EQ(host.component, 1u);
  EXPECT_EQ(host.transport, CandidateTransport::Udp);
  EXPECT_EQ(host.priority, 2122260223u);
  EXPECT_EQ(host.address, "3c9a2b1e-6f4d-4a8e-b2c7-1d0e9f8a7b6c.local");
  EXPECT_EQ(host.port, 53421);
  EXPECT_EQ(host.type, CandidateType::Host);
  EXPECT_EQ(host.extensions,
            (std::vector<Param>{{"generation", "0"}, {"network-id", "1"}, {"network-cost", "10"}}));
  const Candidate& srflx = a.candidates[1];
  EXPECT_EQ(srflx.type, CandidateType::Srflx);
  EXPECT_EQ(srflx.relatedAddress, "0.0.0.0");
  EXPECT_EQ(srflx.relatedPort, 0);
  const Candidate& tcp = a.candidates[2];
  EXPECT_EQ(tcp.transport, CandidateTransport::Tcp);
  EXPECT_EQ(tcp.tcpType, "active");
  EXPECT_EQ(tcp.port, 9);

  auto streams = a.ssrcStreams();
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0].ssrc, 3735928559u);
  EXPECT_FALSE(streams[0].rtxSsrc);
  EXPECT_EQ(streams[0].cname, "Wg3mBf0Ls6TqKp9X");
}

TEST(SdpSamples, ChromePublishOfferVideoAndData) {
  SessionDescription sd = parseSample("chrome_publish_offer.sdp");
  ASSERT_EQ(sd.media.size(), 3u);
  const MediaSection& v = sd.media[1];
  EXPECT_EQ(v.kind, MediaKind::Video);
  EXPECT_EQ(v.mid, "1");
  EXPECT_EQ(v.codecs.size(), 25u);
  EXPECT_EQ(v.formats.size(), 25u);
  // Codecs follow the m= line order.
  for (size_t i = 0; i < v.codecs.size(); ++i) EXPECT_EQ(std::to_string(v.codecs[i].payloadType), v.formats[i]);
  const Codec* vp8 = v.findCodec("vp8");
  ASSERT_NE(vp8, nullptr);
  EXPECT_EQ(vp8->payloadType, 96);
  EXPECT_EQ(vp8->clockRate, 90000u);
  EXPECT_EQ(vp8->feedback.size(), 5u);
  EXPECT_EQ(vp8->feedback[4], (RtcpFeedback{"nack", "pli"}));
  EXPECT_EQ(vp8->feedback[2], (RtcpFeedback{"ccm", "fir"}));
  ASSERT_NE(v.findRtxFor(96), nullptr);
  EXPECT_EQ(v.findRtxFor(96)->payloadType, 97);
  EXPECT_EQ(v.findCodec(97)->associatedPayloadType(), 96);
  const Codec* h264 = v.findCodec("H264");
  ASSERT_NE(h264, nullptr);
  EXPECT_EQ(h264->payloadType, 102);
  EXPECT_EQ(h264->fmtpValue("profile-level-id"), "42001f");
  EXPECT_EQ(h264->fmtpValue("packetization-mode"), "1");
  EXPECT_EQ(h264->fmtpValue("level-asymmetry-allowed"), "1");
  const Codec* av1 = v.findCodec("AV1");
  ASSERT_NE(av1, nullptr);
  EXPECT_EQ(av1->payloadType, 45);
  EXPECT_EQ(av1->fmtpValue("level-idx"), "5");
  EXPECT_EQ(v.findCodec("VP9")->fmtpValue("profile-id"), "0");
  EXPECT_EQ(v.findCodec("red")->payloadType, 116);
  EXPECT_EQ(v.findCodec("ulpfec")->payloadType, 118);
  EXPECT_EQ(v.findRtxFor(116)->payloadType, 117);
  EXPECT_EQ(v.findExtmapId(RidUri), 10);
  EXPECT_EQ(v.findExtmapId(TwccUri), 3);
  EXPECT_EQ(v.extmaps.size(), 11u);
  EXPECT_TRUE(v.candidates.empty());

  ASSERT_EQ(v.ssrcGroups.size(), 1u);
  EXPECT_EQ(v.ssrcGroups[0], (SsrcGroup{"FID", {1111111111u, 2222222222u}}));
  auto streams = v.ssrcStreams();
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0].ssrc, 1111111111u);
  EXPECT_EQ(streams[0].rtxSsrc, 2222222222u);
  EXPECT_EQ(streams[0].cname, "Wg3mBf0Ls6TqKp9X");
  EXPECT_EQ(streams[0].msid, std::string(Stream) + " e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9");
  EXPECT_TRUE(v.simulcastRids(RidDirection::Send).empty());

  const MediaSection& d = sd.media[2];
  EXPECT_EQ(d.kind, MediaKind::Application);
  EXPECT_TRUE(d.isDataChannel());
  EXPECT_EQ(d.protocol, "UDP/DTLS/SCTP");
  EXPECT_EQ(d.formats, (std::vector<std::string>{"webrtc-datachannel"}));
  EXPECT_EQ(d.sctpPort, 5000);
  EXPECT_EQ(d.maxMessageSize, 262144u);
  EXPECT_TRUE(d.codecs.empty());
  EXPECT_FALSE(d.direction);
  EXPECT_EQ(d.effectiveDirection(), Direction::SendRecv);
}

TEST(SdpSamples, ChromeSimulcastOffer) {
  SessionDescription sd = parseSample("chrome_simulcast_offer.sdp");
  ASSERT_EQ(sd.media.size(), 2u);
  const MediaSection& v = sd.media[1];
  ASSERT_EQ(v.rids.size(), 3u);
  EXPECT_EQ(v.rids[0], (Rid{"q", RidDirection::Send, {}, {}}));
  EXPECT_EQ(v.rids[2].id, "f");
  ASSERT_TRUE(v.simulcast);
  EXPECT_TRUE(v.simulcast->recv.empty());
  ASSERT_EQ(v.simulcast->send.size(), 3u);
  EXPECT_EQ(v.simulcast->send[1], (std::vector<SimulcastId>{{"h", false}}));
  auto rids = v.simulcastRids(RidDirection::Send);
  ASSERT_EQ(rids.size(), 3u);
  EXPECT_EQ(rids[0].rid, "q");
  EXPECT_EQ(rids[1].rid, "h");
  EXPECT_EQ(rids[2].rid, "f");
  EXPECT_TRUE(v.simulcastRids(RidDirection::Recv).empty());
  EXPECT_TRUE(v.ssrcs.empty());
  EXPECT_TRUE(v.ssrcStreams().empty());
  EXPECT_EQ(v.findExtmapId("urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"), 11);
}

TEST(SdpSamples, FirefoxOffer) {
  SessionDescription sd = parseSample("firefox_offer.sdp");
  EXPECT_EQ(sd.origin.username, "mozilla...THIS_IS_SDPARTA-99.0");
  EXPECT_EQ(sd.origin.sessionId, "5925264567467385734");
  EXPECT_EQ(sd.origin.address, "0.0.0.0");
  ASSERT_EQ(sd.fingerprints.size(), 1u);  // session level in Firefox
  EXPECT_EQ(sd.iceOptions, (std::vector<std::string>{"trickle"}));
  ASSERT_TRUE(sd.msidSemantic);
  EXPECT_EQ(sd.msidSemantic->ids, (std::vector<std::string>{"*"}));
  ASSERT_EQ(sd.media.size(), 3u);

  const MediaSection& a = sd.media[0];
  EXPECT_TRUE(a.fingerprints.empty());
  EXPECT_EQ(sd.effectiveFingerprints(a), sd.fingerprints);
  auto ice = sd.effectiveIce(a);
  ASSERT_TRUE(ice);
  EXPECT_EQ(ice->ufrag, "b7f03e2a");
  EXPECT_EQ(ice->pwd, "4c1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f");
  EXPECT_EQ(ice->options, (std::vector<std::string>{"trickle"}));  // from the session level
  EXPECT_EQ(a.direction, Direction::SendRecv);
  ASSERT_EQ(a.candidates.size(), 3u);
  EXPECT_EQ(a.candidates[0].transport, CandidateTransport::Udp);  // written "UDP"
  EXPECT_EQ(a.candidates[1].transport, CandidateTransport::Tcp);
  EXPECT_EQ(a.candidates[1].tcpType, "active");
  EXPECT_EQ(a.candidates[2].relatedPort, 51423);
  EXPECT_TRUE(a.endOfCandidates);
  ASSERT_EQ(a.extmaps.size(), 3u);
  EXPECT_EQ(a.extmaps[1].direction, Direction::RecvOnly);
  EXPECT_FALSE(a.extmaps[0].direction);
  // fmtp comes before rtpmap in Firefox; codecs still end up in m= order with both parts.
  ASSERT_EQ(a.codecs.size(), 5u);
  EXPECT_EQ(a.codecs[0].name, "opus");
  EXPECT_EQ(a.codecs[0].fmtpValue("stereo"), "1");
  EXPECT_EQ(a.codecs[1].name, "G722");
  EXPECT_EQ(a.codecs[1].channels, 1u);
  EXPECT_EQ(a.codecs[4].name, "telephone-event");
  EXPECT_EQ(a.codecs[4].fmtp, (std::vector<Param>{{"0-15", ""}}));
  ASSERT_EQ(a.msids.size(), 1u);
  EXPECT_EQ(a.msids[0].streamId, "{5e3c9a1b-7d2f-4e8a-b6c4-9f1e0d2a3b4c}");

  const MediaSection& v = sd.media[1];
  ASSERT_EQ(v.codecs.size(), 13u);
  EXPECT_EQ(v.codecs[0].name, "VP8");
  EXPECT_EQ(v.codecs[0].feedback.size(), 5u);
  EXPECT_EQ(v.codecs[0].fmtpValue("max-fs"), "12288");
  EXPECT_EQ(v.findRtxFor(120)->payloadType, 124);
  EXPECT_EQ(v.findRtxFor(122)->payloadType, 119);
  EXPECT_EQ(v.findCodec(126)->fmtpValue("packetization-mode"), "1");
  EXPECT_EQ(v.extmaps[3].direction, Direction::RecvOnly);
  auto streams = v.ssrcStreams();
  ASSERT_EQ(streams.size(), 1u);  // the RTX SSRC is folded into its primary
  EXPECT_EQ(streams[0].ssrc, 2741690237u);
  EXPECT_EQ(streams[0].rtxSsrc, 1874322411u);
  EXPECT_EQ(streams[0].cname, "{c0ffee00-1234-4abc-9def-0123456789ab}");

  const MediaSection& d = sd.media[2];
  EXPECT_TRUE(d.isDataChannel());
  EXPECT_EQ(d.maxMessageSize, 1073741823u);
  EXPECT_EQ(d.direction, Direction::SendRecv);
}

TEST(SdpSamples, ChromeSubscribeAnswer) {
  SessionDescription sd = parseSample("chrome_subscribe_answer.sdp");
  ASSERT_EQ(sd.media.size(), 2u);
  ASSERT_TRUE(sd.msidSemantic);
  EXPECT_TRUE(sd.msidSemantic->ids.empty());
  for (const MediaSection& m : sd.media) {
    EXPECT_EQ(m.setup, Setup::Active);
    EXPECT_EQ(m.direction, Direction::RecvOnly);
    EXPECT_EQ(sd.effectiveIce(m)->ufrag, "r8Kd");
  }
  EXPECT_EQ(sd.media[0].codecs.size(), 1u);
  EXPECT_EQ(sd.media[1].codecs.size(), 2u);
  EXPECT_EQ(sd.media[1].findRtxFor(96)->payloadType, 97);
}

class SdpRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(SdpRoundTrip, ParseSerializeParseIsEqual) {
  std::string text = readSample(GetParam());
  auto first = parse(text);
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::string written = serialize(*first);
  auto second = parse(written);
  ASSERT_TRUE(second.ok()) << second.error().message << "\n" << written;
  EXPECT_EQ(*first, *second) << written;
  EXPECT_EQ(serialize(*second), written);
  // Every line ends with CRLF and there is no bare LF.
  size_t lf = 0, crlf = 0;
  for (size_t i = 0; i < written.size(); ++i) {
    if (written[i] == '\n') {
      ++lf;
      if (i > 0 && written[i - 1] == '\r') ++crlf;
    }
  }
  EXPECT_EQ(lf, crlf);
}

TEST_P(SdpRoundTrip, LfLineEndingsGiveTheSameModel) {
  std::string text = readSample(GetParam());
  std::string lfOnly;
  for (char c : text) {
    if (c != '\r') lfOnly += c;
  }
  auto crlf = parse(text);
  auto lf = parse(lfOnly);
  ASSERT_TRUE(crlf.ok());
  ASSERT_TRUE(lf.ok()) << lf.error().message;
  EXPECT_EQ(*crlf, *lf);
}

INSTANTIATE_TEST_SUITE_P(Samples, SdpRoundTrip,
                         ::testing::Values("chrome_publish_offer.sdp", "chrome_simulcast_offer.sdp",
                                           "firefox_offer.sdp", "chrome_subscribe_answer.sdp"));

}  // namespace
}  // namespace meeting::proto::sdp
