// Builds the answer an ICE-lite SFU sends to Chromium's simulcast publish offer and checks the
// exact text, line by line.
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

constexpr std::string_view ServerFingerprint =
    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";

std::vector<Candidate> serverCandidates() {
  Candidate udp;
  udp.foundation = "udp0";
  udp.transport = CandidateTransport::Udp;
  udp.priority = Candidate::computePriority(126, 65535, 1);
  udp.address = "127.0.0.1";
  udp.port = 40000;
  Candidate tcp = udp;
  tcp.foundation = "tcp0";
  tcp.transport = CandidateTransport::Tcp;
  tcp.priority = Candidate::computePriority(125, 65535, 1);
  tcp.tcpType = "passive";
  return {udp, tcp};
}

// What the SFU's negotiation does, reduced to the codec-level operations it needs.
SessionDescription buildAnswer(const SessionDescription& offer) {
  SessionDescription answer;
  answer.origin.sessionId = "1000";
  answer.origin.sessionVersion = 1;
  answer.iceLite = true;
  answer.extmapAllowMixed = offer.extmapAllowMixed;
  answer.msidSemantic = MsidSemantic{"WMS", {"*"}};
  Group bundle{"BUNDLE", {}};
  for (const MediaSection& o : offer.media) {
    MediaSection m;
    m.kind = o.kind;
    m.protocol = o.protocol;
    m.connection = Connection{};
    m.mid = o.mid;
    bundle.mids.push_back(*o.mid);
    m.iceUfrag = "sfuU";
    m.icePwd = "sfuPasswordSfuPassword12";
    m.fingerprints.push_back(Fingerprint{"sha-256", std::string(ServerFingerprint)});
    m.setup = Setup::Passive;  // RFC 8842 §5.3: an answerer to actpass picks; ICE-lite servers are passive
    m.direction = o.effectiveDirection() == Direction::SendOnly ? Direction::RecvOnly : Direction::Inactive;
    m.rtcpMux = o.rtcpMux;
    m.rtcpRsize = o.rtcpRsize;
    for (std::string_view uri : {"urn:ietf:params:rtp-hdrext:ssrc-audio-level",
                                 "urn:ietf:params:rtp-hdrext:sdes:mid",
                                 "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
                                 "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"}) {
      if (auto id = o.findExtmapId(uri)) m.extmaps.push_back(Extmap{*id, std::nullopt, std::string(uri), {}});
    }
    if (const Codec* opus = o.findCodec("opus", 48000)) m.addCodec(*opus);
    if (const Codec* vp8 = o.findCodec("VP8")) {
      m.addCodec(*vp8);
      if (const Codec* rtx = o.findRtxFor(vp8->payloadType)) m.addCodec(*rtx);
    }
    for (const Rid& r : o.rids) m.rids.push_back(Rid{r.id, RidDirection::Recv, {}, {}});
    if (o.simulcast) m.simulcast = o.simulcast->reversed();
    if (answer.media.empty()) {
      m.candidates = serverCandidates();
      m.endOfCandidates = true;
    }
    answer.media.push_back(std::move(m));
  }
  answer.groups.push_back(bundle);
  return answer;
}

constexpr std::string_view ExpectedAnswer =
    "v=0\r\n"
    "o=- 1000 1 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic:WMS *\r\n"
    "a=ice-lite\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:sfuU\r\n"
    "a=ice-pwd:sfuPasswordSfuPassword12\r\n"
    "a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\r\n"
    "a=setup:passive\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=candidate:udp0 1 udp 2130706431 127.0.0.1 40000 typ host\r\n"
    "a=candidate:tcp0 1 tcp 2113929215 127.0.0.1 40000 typ host tcptype passive\r\n"
    "a=end-of-candidates\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:sfuU\r\n"
    "a=ice-pwd:sfuPasswordSfuPassword12\r\n"
    "a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\r\n"
    "a=setup:passive\r\n"
    "a=mid:1\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rid:q recv\r\n"
    "a=rid:h recv\r\n"
    "a=rid:f recv\r\n"
    "a=simulcast:recv q;h;f\r\n";

TEST(SdpWriter, IceLiteSimulcastAnswerHasTheExactLines) {
  auto offer = parse(readSample("chrome_simulcast_offer.sdp"));
  ASSERT_TRUE(offer.ok()) << offer.error().message;
  SessionDescription answer = buildAnswer(*offer);
  std::string text = serialize(answer);
  EXPECT_EQ(text, ExpectedAnswer);
  // And the answer reads back to the same model.
  auto back = parse(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, answer);
  EXPECT_TRUE(back->iceLite);
  EXPECT_EQ(back->media[1].simulcastRids(RidDirection::Recv).size(), 3u);
}

TEST(SdpWriter, PriorityFormula) {
  // RFC 8445 §5.1.2.1 with type preference 126 (host) and the highest local preference.
  EXPECT_EQ(Candidate::computePriority(126, 65535, 1), 2130706431u);
  EXPECT_EQ(Candidate::computePriority(126, 65535, 2), 2130706430u);
  EXPECT_EQ(Candidate::computePriority(0, 0, 256), 0u);
  EXPECT_EQ(Candidate::computePriority(1000, 1u << 20, 0), Candidate::computePriority(126, 65535, 1));
}

TEST(SdpWriter, DataChannelSectionAndOptionalFields) {
  SessionDescription sd;
  sd.origin.sessionId = "42";
  sd.iceUfrag = "ufrag123";
  sd.icePwd = "0123456789abcdefghijklmn";
  sd.iceOptions = {"trickle", "renomination"};
  sd.bandwidths.push_back(Bandwidth{"AS", 3000});
  MediaSection d;
  d.kind = MediaKind::Application;
  d.protocol = "UDP/DTLS/SCTP";
  d.formats = {"webrtc-datachannel"};
  d.mid = "data";
  d.sctpPort = 5000;
  d.maxMessageSize = 262144;
  d.bandwidths.push_back(Bandwidth{"TIAS", 1500000});
  d.otherAttributes.push_back(Attribute{"x-custom", std::nullopt});
  d.otherAttributes.push_back(Attribute{"x-valued", "a b:c"});
  sd.media.push_back(d);
  MediaSection legacy;
  legacy.kind = MediaKind::Application;
  legacy.port = 5000;
  legacy.protocol = "DTLS/SCTP";
  legacy.formats = {"5000"};
  legacy.mid = "legacy";
  legacy.sctpmap = Sctpmap{5000, "webrtc-datachannel", 1024};
  sd.media.push_back(legacy);
  std::string text = serialize(sd);
  EXPECT_NE(text.find("b=AS:3000\r\nt=0 0\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=ice-options:trickle renomination\r\n"), std::string::npos);
  EXPECT_NE(text.find("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nb=TIAS:1500000\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=sctp-port:5000\r\na=max-message-size:262144\r\na=x-custom\r\na=x-valued:a b:c\r\n"),
            std::string::npos);
  EXPECT_NE(text.find("a=sctpmap:5000 webrtc-datachannel 1024\r\n"), std::string::npos);
  auto back = parse(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, sd);
  auto ice = back->effectiveIce(back->media[0]);
  ASSERT_TRUE(ice);
  EXPECT_EQ(ice->options, (std::vector<std::string>{"trickle", "renomination"}));
}

}  // namespace
}  // namespace meeting::proto::sdp
