// Malformed and edge-case input: every failure is an Error naming the line and the problem.
#include <gtest/gtest.h>

#include <string>

#include "proto/sdp/Sdp.hpp"

namespace meeting::proto::sdp {
namespace {

// A minimal valid offer; tests replace or append lines.
const std::string Head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
const std::string Audio =
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=mid:0\r\n"
    "a=rtpmap:111 opus/48000/2\r\n";

// Expects a failure whose message starts with "line <n>: " and contains `what`.
void expectError(const std::string& sdp, size_t line, const std::string& what) {
  auto r = parse(sdp);
  ASSERT_FALSE(r.ok()) << "parsed unexpectedly: " << what;
  const std::string prefix = "line " + std::to_string(line) + ": ";
  EXPECT_EQ(r.error().message.rfind(prefix, 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
}

TEST(SdpParser, MinimalOfferParses) {
  auto r = parse(Head + Audio);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->media.size(), 1u);
  EXPECT_EQ(r->media[0].codecs.size(), 1u);
}

TEST(SdpParser, MissingVersion) {
  expectError("o=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", 1, "v=");
  expectError("", 1, "missing v= line");
  expectError("v=1\r\n", 1, "v= must be 0");
}

TEST(SdpParser, BadSessionLines) {
  expectError("v=0\r\ns=-\r\n", 2, "expected o=");
  expectError("v=0\r\no=- 1 1 IN IP4\r\ns=-\r\nt=0 0\r\n", 2, "o= must have 6 fields");
  expectError("v=0\r\no=- x1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n", 2, "session id");
  expectError("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=0 0\r\n", 3, "expected s=");
  expectError("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n" + Audio, 4, "missing t=");
  expectError(Head + "t=0\r\n", 5, "t= must be");
  expectError(Head + "x=unknown\r\n", 5, "unknown line type 'x='");
  expectError(Head + "c=IN IP4\r\n", 5, "c= must be");
  expectError(Head + "b=AS\r\n", 5, "b= must be");
  expectError(Head + "a=group\r\n", 5, "a=group needs a value");
}

TEST(SdpParser, BadMediaLine) {
  expectError(Head + "m=audio abc UDP/TLS/RTP/SAVPF 111\r\n", 5, "m= bad port 'abc'");
  expectError(Head + "m=audio 70000 UDP/TLS/RTP/SAVPF 111\r\n", 5, "m= bad port");
  expectError(Head + "m=audio 9 UDP/TLS/RTP/SAVPF 300\r\n", 5, "m= bad payload type '300'");
  expectError(Head + "m=audio 9 UDP/TLS/RTP/SAVPF\r\n", 5, "at least one format");
  expectError(Head + "m=audio\r\n", 5, "m=");
  expectError(Head + "m=audio 9/0 RTP/AVP 0\r\n", 5, "port count");
  expectError(Head + Audio + "t=0 0\r\n", 9, "not allowed in a media section");
}

TEST(SdpParser, BadRtpmapPayloadType) {
  expectError(Head + Audio + "a=rtpmap:300 opus/48000/2\r\n", 9, "a=rtpmap: bad payload type '300'");
  expectError(Head + Audio + "a=rtpmap:x opus/48000/2\r\n", 9, "a=rtpmap: bad payload type");
  expectError(Head + Audio + "a=rtpmap:96 VP8\r\n", 9, "a=rtpmap: bad clock rate");
  expectError(Head + Audio + "a=rtpmap:96 VP8/90000/x\r\n", 9, "channel count");
  expectError(Head + Audio + "a=fmtp:128 apt=96\r\n", 9, "a=fmtp: bad payload type");
  expectError(Head + Audio + "a=rtcp-fb:96\r\n", 9, "a=rtcp-fb: bad feedback type");
}

TEST(SdpParser, BadCandidate) {
  const std::string good = "a=candidate:1 1 udp 2130706431 203.0.113.1 5000 typ host\r\n";
  ASSERT_TRUE(parse(Head + Audio + good).ok());
  expectError(Head + Audio + "a=candidate:1 1 udp 2130706431 203.0.113.1 70000 typ host\r\n", 9,
              "a=candidate: bad port '70000'");
  expectError(Head + Audio + "a=candidate:1 1 udp 2130706431 203.0.113.1 port typ host\r\n", 9, "bad port");
  expectError(Head + Audio + "a=candidate:1 1 udp 2130706431 203.0.113.1 5000 host\r\n", 9, "expected 'typ'");
  expectError(Head + Audio + "a=candidate:1 0 udp 1 203.0.113.1 5000 typ host\r\n", 9, "bad component");
  expectError(Head + Audio + "a=candidate:1 1 udp 99999999999 203.0.113.1 5000 typ host\r\n", 9, "bad priority");
  expectError(Head + Audio + "a=candidate:1 1 udp 1 203.0.113.1 5000 typ srflx raddr\r\n", 9, "has no value");
  expectError(Head + Audio + "a=candidate:1 1 tcp 1 203.0.113.1 5000 typ host tcptype up\r\n", 9, "bad tcptype");
  expectError(Head + Audio + "a=candidate:1 1 udp 1 203.0.113.1 5000 typ host rport x\r\n", 9, "bad rport");
}

TEST(SdpParser, UnsupportedCandidateIsKeptNotFatal) {
  // RFC 8839 §5.1: candidates with an unknown transport or type are ignored.
  auto r = parse(Head + Audio + "a=candidate:1 1 sctp 1 203.0.113.1 5000 typ host\r\n" +
                 "a=candidate:2 1 udp 1 203.0.113.1 5000 typ weird\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->media[0].candidates.empty());
  ASSERT_EQ(r->media[0].otherAttributes.size(), 2u);
  EXPECT_EQ(r->media[0].otherAttributes[0].name, "candidate");
  auto again = parse(serialize(*r));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *r);
}

TEST(SdpParser, BadAttributes) {
  expectError(Head + Audio + "a=extmap:0 urn:x\r\n", 9, "a=extmap: bad id");
  expectError(Head + Audio + "a=extmap:1/sideways urn:x\r\n", 9, "a=extmap: bad direction");
  expectError(Head + Audio + "a=extmap:1\r\n", 9, "missing URI");
  expectError(Head + Audio + "a=ssrc:abc cname:x\r\n", 9, "a=ssrc: bad SSRC");
  expectError(Head + Audio + "a=ssrc:4294967296 cname:x\r\n", 9, "a=ssrc: bad SSRC");
  expectError(Head + Audio + "a=ssrc-group:FID\r\n", 9, "no SSRCs");
  expectError(Head + Audio + "a=rid:q both\r\n", 9, "a=rid: direction");
  expectError(Head + Audio + "a=rid:q! send\r\n", 9, "a=rid: bad id");
  expectError(Head + Audio + "a=rid:q send pt=999\r\n", 9, "bad payload type");
  expectError(Head + Audio + "a=simulcast:send\r\n", 9, "no stream list");
  expectError(Head + Audio + "a=simulcast:up q\r\n", 9, "expected send or recv");
  expectError(Head + Audio + "a=simulcast:send q;;f\r\n", 9, "bad rid");
  expectError(Head + Audio + "a=simulcast:send q send h\r\n", 9, "repeated");
  expectError(Head + Audio + "a=fingerprint:sha-256 XY:00\r\n", 9, "a=fingerprint: bad hex");
  expectError(Head + Audio + "a=fingerprint:sha-256\r\n", 9, "a=fingerprint");
  expectError(Head + Audio + "a=setup:sometimes\r\n", 9, "a=setup: bad role");
  expectError(Head + Audio + "a=ice-ufrag:ab\r\n", 9, "a=ice-ufrag");
  expectError(Head + Audio + "a=ice-pwd:short\r\n", 9, "a=ice-pwd");
  expectError(Head + Audio + "a=ice-ufrag:ab:cd\r\n", 9, "a=ice-ufrag");
  expectError(Head + Audio + "a=sctp-port:99999\r\n", 9, "a=sctp-port");
  expectError(Head + Audio + "a=max-message-size:-1\r\n", 9, "a=max-message-size");
  expectError(Head + Audio + "a=msid:a b c\r\n", 9, "a=msid");
  expectError(Head + Audio + "a=mid\r\n", 9, "a=mid needs a value");
}

TEST(SdpParser, DuplicateMid) {
  expectError(Head + Audio + Audio, 12, "duplicate mid '0'");
}

TEST(SdpParser, NulByteAndControlCharacters) {
  std::string withNul = Head + Audio;
  withNul.insert(withNul.find("s=-") + 2, 1, '\0');
  expectError(withNul, 3, "NUL byte");
  expectError(Head + "a=x\x01y\r\n", 5, "control character");
  expectError(Head + "a=x\ry\r\n", 5, "control character");  // a bare CR inside a line
}

TEST(SdpParser, SizeLimits) {
  std::string huge = Head + Audio;
  while (huge.size() <= MaxSdpBytes) huge += "a=x-filler:0123456789012345678901234567890123456789\r\n";
  auto r = parse(huge);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorTooLarge);
  EXPECT_EQ(r.error().message.rfind("line ", 0), 0u) << r.error().message;

  std::string longLine = Head + Audio + "a=x-long:" + std::string(5000, 'a') + "\r\n";
  expectError(longLine, 9, "more than 4096");

  std::string manyLines = Head + Audio;
  for (int i = 0; i < 2000; ++i) manyLines += "a=x\r\n";
  expectError(manyLines, 2001, "more than 2000 lines");

  std::string manySections = Head;
  for (int i = 0; i < 65; ++i) manySections += "m=audio 9 RTP/AVP 0\r\n";
  expectError(manySections, 5 + 64, "more than 64 media sections");

  std::string manyFormats = Head + "m=application 9 UDP/DTLS/SCTP";
  for (int i = 0; i < 257; ++i) manyFormats += " f" + std::to_string(i);
  expectError(manyFormats + "\r\n", 5, "more than 256 formats");
}

TEST(SdpParser, LenientWhitespaceAndBlankLines) {
  auto r = parse("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0  \n\na=msid-semantic: WMS  s1 \n" + Audio + "\n\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->msidSemantic);
  EXPECT_EQ(r->msidSemantic->ids, (std::vector<std::string>{"s1"}));
}

TEST(SdpParser, UnknownAttributesAreKeptInOrder) {
  auto r = parse(Head + "a=x-session:1\r\na=x-flag\r\n" + Audio + "a=x-b:2\r\na=ptime:20\r\na=x-a\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->otherAttributes, (std::vector<Attribute>{{"x-session", "1"}, {"x-flag", std::nullopt}}));
  EXPECT_EQ(r->media[0].otherAttributes,
            (std::vector<Attribute>{{"x-b", "2"}, {"ptime", "20"}, {"x-a", std::nullopt}}));
  std::string text = serialize(*r);
  EXPECT_NE(text.find("a=x-b:2\r\na=ptime:20\r\na=x-a\r\n"), std::string::npos);
}

TEST(SdpParser, OtherLinesAndSessionLevelValues) {
  auto r = parse("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=Talk\r\ni=info\r\nc=IN IP6 ::1\r\nt=0 0\r\nr=7d 1h 0 25h\r\n"
                 "k=prompt\r\nu=http://x\r\na=ice-lite\r\na=setup:actpass\r\na=inactive\r\n"
                 "m=video 0/2 RTP/AVPF 096\r\ni=cam\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sessionName, "Talk");
  EXPECT_EQ(r->connection->addrType, "IP6");
  EXPECT_TRUE(r->iceLite);
  EXPECT_EQ(r->direction, Direction::Inactive);
  EXPECT_EQ(r->effectiveSetup(r->media[0]), Setup::ActPass);
  // i= and u= are sorted ahead of r= and k=, as the writer emits them.
  ASSERT_EQ(r->otherLines.size(), 4u);
  EXPECT_EQ(r->otherLines[0].type, 'i');
  EXPECT_EQ(r->otherLines[1].type, 'u');
  EXPECT_EQ(r->otherLines[2].type, 'r');
  EXPECT_EQ(r->otherLines[3].type, 'k');
  EXPECT_EQ(r->media[0].port, 0);
  EXPECT_EQ(r->media[0].portCount, 2);
  EXPECT_EQ(r->media[0].formats, (std::vector<std::string>{"96"}));
  auto again = parse(serialize(*r));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, *r);
}

TEST(SdpParser, LegacySsrcSimulcastGroups) {
  auto r = parse(Head +
                 "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:v\r\n"
                 "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
                 "a=ssrc-group:SIM 1 2 3\r\na=ssrc-group:FID 1 11\r\na=ssrc-group:FID 2 12\r\n"
                 "a=ssrc-group:FID 3 13\r\n"
                 "a=ssrc:1 cname:c\r\na=ssrc:11 cname:c\r\na=ssrc:2 cname:c\r\na=ssrc:12 cname:c\r\n"
                 "a=ssrc:3 cname:c\r\na=ssrc:13 cname:c\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const MediaSection& v = r->media[0];
  EXPECT_EQ(v.simulcastSsrcGroups(), (std::vector<std::vector<uint32_t>>{{1, 2, 3}}));
  auto streams = v.ssrcStreams();
  ASSERT_EQ(streams.size(), 3u);
  EXPECT_EQ(streams[0], (SsrcStream{1, 11, std::nullopt, "c", ""}));
  EXPECT_EQ(streams[2], (SsrcStream{3, 13, std::nullopt, "c", ""}));
  EXPECT_EQ(r->findMedia("v"), &r->media[0]);
  EXPECT_EQ(r->findMedia("x"), nullptr);
}

TEST(SdpParser, RtcpFbWildcardAndNonRtpFormats) {
  auto r = parse(Head + Audio + "a=rtcp-fb:* nack\r\na=rtcp-fb:111 nack pli\r\n" +
                 "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:d\r\n"
                 "a=fmtp:webrtc-datachannel max-message-size=100\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->media[0].feedbackAll, (std::vector<RtcpFeedback>{{"nack", ""}}));
  EXPECT_EQ(r->media[0].codecs[0].feedback, (std::vector<RtcpFeedback>{{"nack", "pli"}}));
  ASSERT_EQ(r->media[1].otherAttributes.size(), 1u);
  EXPECT_EQ(r->media[1].otherAttributes[0].name, "fmtp");
}

}  // namespace
}  // namespace meeting::proto::sdp
