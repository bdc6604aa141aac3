// Single-attribute parsers and writers: trickled candidates, rid, simulcast.
#include <gtest/gtest.h>

#include "proto/sdp/Sdp.hpp"

namespace meeting::proto::sdp {
namespace {

TEST(SdpAttributes, TrickledChromiumCandidate) {
  // RTCIceCandidate.candidate as Chromium sends it over signaling.
  const std::string text =
      "candidate:842163049 1 udp 1677729535 198.51.100.9 46154 typ srflx raddr 203.0.113.2 rport 46154 "
      "generation 0 ufrag EEtu network-id 3 network-cost 10";
  auto c = parseCandidate(text);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->foundation, "842163049");
  EXPECT_EQ(c->type, CandidateType::Srflx);
  EXPECT_EQ(c->relatedAddress, "203.0.113.2");
  EXPECT_EQ(c->relatedPort, 46154);
  EXPECT_EQ(c->extensions, (std::vector<Param>{{"generation", "0"}, {"ufrag", "EEtu"},
                                               {"network-id", "3"}, {"network-cost", "10"}}));
  EXPECT_EQ(formatCandidate(*c), text);
  auto withPrefix = parseCandidate("a=" + text);
  ASSERT_TRUE(withPrefix.ok());
  EXPECT_EQ(*withPrefix, *c);
}

TEST(SdpAttributes, CandidateVariants) {
  auto relay = parseCandidate("3 1 UDP 41885695 203.0.113.1 61000 typ relay raddr 198.51.100.9 rport 5000");
  ASSERT_TRUE(relay.ok()) << relay.error().message;
  EXPECT_EQ(relay->type, CandidateType::Relay);
  EXPECT_EQ(relay->transport, CandidateTransport::Udp);
  auto prflx = parseCandidate("1 2 udp 1 2001:db8::1 9 typ prflx");
  ASSERT_TRUE(prflx.ok());
  EXPECT_EQ(prflx->component, 2u);
  EXPECT_EQ(prflx->address, "2001:db8::1");
  auto so = parseCandidate("1 1 TCP 1 203.0.113.1 9 typ host tcptype so");
  ASSERT_TRUE(so.ok());
  EXPECT_EQ(so->tcpType, "so");
  EXPECT_EQ(formatCandidate(*so), "candidate:1 1 tcp 1 203.0.113.1 9 typ host tcptype so");

  EXPECT_EQ(parseCandidate("1 1 ssltcp 1 203.0.113.1 9 typ host").error().code, ErrorUnsupportedCandidate);
  EXPECT_EQ(parseCandidate("1 1 udp 1 203.0.113.1 9 typ other").error().code, ErrorUnsupportedCandidate);
  EXPECT_EQ(parseCandidate("").error().code, ErrorInvalid);
  EXPECT_FALSE(parseCandidate("f:o 1 udp 1 203.0.113.1 9 typ host").ok());  // ':' is not an ice-char
  EXPECT_FALSE(parseCandidate("1 257 udp 1 203.0.113.1 9 typ host").ok());
  EXPECT_FALSE(parseCandidate("1 1 udp 1 203.0.113.1 -9 typ host").ok());
  EXPECT_FALSE(parseCandidate("1 1 udp 1 203.0.113.1 65536 typ host").ok());
  EXPECT_FALSE(parseCandidate("1 1 udp 1 203.0.113.1 9 typ host generation").ok());
}

TEST(SdpAttributes, RidWithRestrictions) {
  auto rid = parseRid("f send pt=96,97;max-width=1280;max-height=720;max-fps=30");
  ASSERT_TRUE(rid.ok()) << rid.error().message;
  EXPECT_EQ(rid->id, "f");
  EXPECT_EQ(rid->direction, RidDirection::Send);
  EXPECT_EQ(rid->payloadTypes, (std::vector<uint8_t>{96, 97}));
  EXPECT_EQ(rid->restrictions,
            (std::vector<Param>{{"max-width", "1280"}, {"max-height", "720"}, {"max-fps", "30"}}));
  EXPECT_EQ(formatRid(*rid), "f send pt=96,97;max-width=1280;max-height=720;max-fps=30");
  Rid recv{"hi_res-1", RidDirection::Recv, {}, {{"max-br", "2500000"}}};
  EXPECT_EQ(formatRid(recv), "hi_res-1 recv max-br=2500000");
  auto back = parseRid(formatRid(recv));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, recv);
  EXPECT_FALSE(parseRid("q").ok());
  EXPECT_FALSE(parseRid("q send pt=96,,97").ok());
  EXPECT_FALSE(parseRid("q send max width=3").ok());
}

TEST(SdpAttributes, SimulcastAlternativesAndPaused) {
  auto sc = parseSimulcast("recv 1;~2,3 send a");
  ASSERT_TRUE(sc.ok()) << sc.error().message;
  ASSERT_EQ(sc->recv.size(), 2u);
  EXPECT_EQ(sc->recv[0], (std::vector<SimulcastId>{{"1", false}}));
  EXPECT_EQ(sc->recv[1], (std::vector<SimulcastId>{{"2", true}, {"3", false}}));
  EXPECT_EQ(sc->send, (std::vector<std::vector<SimulcastId>>{{{"a", false}}}));
  EXPECT_EQ(formatSimulcast(*sc), "send a recv 1;~2,3");
  EXPECT_EQ(formatSimulcast(sc->reversed()), "send 1;~2,3 recv a");

  MediaSection m;
  m.simulcast = *sc;
  auto rids = m.simulcastRids(RidDirection::Recv);
  ASSERT_EQ(rids.size(), 2u);
  EXPECT_EQ(rids[1], (SimulcastId{"2", true}));  // first alternative of each stream

  EXPECT_FALSE(parseSimulcast("").ok());
  EXPECT_FALSE(parseSimulcast("send ~").ok());
  EXPECT_FALSE(parseSimulcast("send a,").ok());
  EXPECT_FALSE(parseSimulcast("send a recv").ok());
}

TEST(SdpAttributes, SmallValueParsers) {
  auto ext = parseExtmap("12/sendonly urn:example:ext attr1 attr2");
  ASSERT_TRUE(ext.ok());
  EXPECT_EQ(ext->id, 12);
  EXPECT_EQ(ext->direction, Direction::SendOnly);
  EXPECT_EQ(ext->attributes, "attr1 attr2");
  EXPECT_TRUE(parseExtmap("4096 urn:x").ok());  // RFC 8285 §5 negotiation range
  EXPECT_FALSE(parseExtmap("256 urn:x").ok());

  auto fmtp = parseFmtp("111 minptime=10; useinbandfec=1;;stereo");
  ASSERT_TRUE(fmtp.ok());
  EXPECT_EQ(fmtp->first, 111);
  EXPECT_EQ(fmtp->second, (std::vector<Param>{{"minptime", "10"}, {"useinbandfec", "1"}, {"stereo", ""}}));
  EXPECT_FALSE(parseFmtp("111 =5").ok());

  auto fb = parseRtcpFeedback("* ccm fir");
  ASSERT_TRUE(fb.ok());
  EXPECT_FALSE(fb->first);
  EXPECT_EQ(fb->second, (RtcpFeedback{"ccm", "fir"}));

  auto map = parseRtpmap("0 PCMU/8000");
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(map->channels, 0u);
  EXPECT_FALSE(parseRtpmap("96 /90000").ok());
  EXPECT_FALSE(parseRtpmap("96 VP8/90000 extra").ok());

  EXPECT_EQ(parseSetup("holdconn"), Setup::HoldConn);
  EXPECT_FALSE(parseSetup("ACTPASS"));
  auto sctpmap = parseSctpmap("5000 webrtc-datachannel 1024");
  ASSERT_TRUE(sctpmap.ok());
  EXPECT_EQ(sctpmap->streams, 1024u);
  auto fp = parseFingerprint("sha-1 4a:ad:b9:b1:3f:82:18:3b:54:02:12:df:3e:5d:49:6b:19:e5:7c:ab");
  ASSERT_TRUE(fp.ok());
  EXPECT_EQ(fp->hashFunc, "sha-1");
}

TEST(SdpAttributes, EmptyFmtpDoesNotInventACodec) {
  auto r = parse(
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
      "a=fmtp:97\r\na=rtpmap:96 VP8/90000\r\na=fmtp:96 x=1\r\na=fmtp:96\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->media[0].codecs.size(), 1u);
  EXPECT_TRUE(r->media[0].codecs[0].fmtp.empty());
}

}  // namespace
}  // namespace meeting::proto::sdp
