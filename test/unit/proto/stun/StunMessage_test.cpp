// Parser and integrity checks against the RFC 5769 vectors, and rejection of malformed input.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proto/stun/Stun.hpp"
#include "unit/proto/stun/StunTestVectors.hpp"

namespace meeting::proto::stun {
namespace {

using namespace meeting::proto::stun::testing;

std::optional<StunMessage> parseVec(const std::vector<uint8_t>& v) { return StunMessage::parse(v); }
std::optional<StunMessage> parseVec(std::vector<uint8_t>&&) = delete;  // the view would dangle
bool parses(const std::vector<uint8_t>& v) { return StunMessage::parse(v).has_value(); }

void setU16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
  v[at] = static_cast<uint8_t>(x >> 8);
  v[at + 1] = static_cast<uint8_t>(x);
}

// A header plus raw attribute bytes, with the length field set from the body.
std::vector<uint8_t> message(uint16_t type, std::vector<uint8_t> body) {
  std::vector<uint8_t> m = {0, 0, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  setU16(m, 0, type);
  setU16(m, 2, static_cast<uint16_t>(body.size()));
  m.insert(m.end(), body.begin(), body.end());
  return m;
}

std::vector<uint8_t> attribute(uint16_t type, std::vector<uint8_t> value) {
  std::vector<uint8_t> a = {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type),
                            static_cast<uint8_t>(value.size() >> 8), static_cast<uint8_t>(value.size())};
  a.insert(a.end(), value.begin(), value.end());
  while (a.size() % 4 != 0) a.push_back(0);
  return a;
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(StunMessageType, EncodesMethodAndClassBits) {
  EXPECT_EQ(messageType(Method::Binding, MessageClass::Request), 0x0001);
  EXPECT_EQ(messageType(Method::Binding, MessageClass::Indication), 0x0011);
  EXPECT_EQ(messageType(Method::Binding, MessageClass::SuccessResponse), 0x0101);
  EXPECT_EQ(messageType(Method::Binding, MessageClass::ErrorResponse), 0x0111);
  EXPECT_EQ(messageType(Method::Allocate, MessageClass::Request), 0x0003);
  EXPECT_EQ(messageType(Method::Send, MessageClass::Indication), 0x0016);
  EXPECT_EQ(messageType(Method::Data, MessageClass::Indication), 0x0017);
  EXPECT_EQ(messageType(Method::ChannelBind, MessageClass::ErrorResponse), 0x0119);
  EXPECT_EQ(messageType(Method::ConnectionAttempt, MessageClass::Indication), 0x001c);
  for (uint16_t m = 0; m < 0x1000; ++m) {
    for (uint8_t c = 0; c < 4; ++c) {
      const uint16_t t = messageType(static_cast<Method>(m), static_cast<MessageClass>(c));
      ASSERT_EQ(t & 0xC000, 0);
      ASSERT_EQ(static_cast<uint16_t>(methodOf(t)), m);
      ASSERT_EQ(static_cast<uint8_t>(classOf(t)), c);
    }
  }
}

TEST(StunRfc5769, SampleRequest) {
  auto msg = parseVec(SampleRequest);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->method(), Method::Binding);
  EXPECT_EQ(msg->messageClass(), MessageClass::Request);
  const std::vector<uint8_t> tid(msg->transactionId().begin(), msg->transactionId().end());
  EXPECT_EQ(tid, std::vector<uint8_t>(SampleRequest.begin() + 8, SampleRequest.begin() + 20));
  EXPECT_EQ(msg->software(), "STUN test client");
  EXPECT_EQ(msg->username(), "evtj:h6vY");
  EXPECT_EQ(msg->priority(), 0x6e0001ffu);
  EXPECT_EQ(msg->iceControlled(), 0x932ff9b151263b36ull);
  EXPECT_FALSE(msg->iceControlling());
  EXPECT_FALSE(msg->useCandidate());
  EXPECT_FALSE(msg->hasUnknownRequiredAttributes());
  EXPECT_TRUE(verifyMessageIntegrity(*msg, shortTermKey(ShortTermPassword)));
  EXPECT_FALSE(verifyMessageIntegrity(*msg, shortTermKey("VOkJxbRl1RmTxUk/WvJxBu")));
  EXPECT_FALSE(verifyMessageIntegritySha256(*msg, shortTermKey(ShortTermPassword)));
  EXPECT_TRUE(verifyFingerprint(*msg));
  EXPECT_EQ(msg->fingerprint(), 0xe57a3bcfu);
}

TEST(StunRfc5769, SampleIPv4Response) {
  auto msg = parseVec(SampleIPv4Response);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->type(), 0x0101);
  EXPECT_EQ(msg->software(), "test vector");
  EXPECT_EQ(msg->xorMappedAddress(), Address::v4({192, 0, 2, 1}, 32853));
  EXPECT_FALSE(msg->mappedAddress());
  EXPECT_TRUE(verifyMessageIntegrity(*msg, shortTermKey(ShortTermPassword)));
  EXPECT_TRUE(verifyFingerprint(*msg));
}

TEST(StunRfc5769, SampleIPv6Response) {
  auto msg = parseVec(SampleIPv6Response);
  ASSERT_TRUE(msg);
  const auto expected = Address::v6({0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0x00, 0x11,
                                     0x22, 0x33, 0x44, 0x55, 0x66, 0x77}, 32853);
  EXPECT_EQ(msg->xorMappedAddress(), expected);
  EXPECT_TRUE(verifyMessageIntegrity(*msg, shortTermKey(ShortTermPassword)));
  EXPECT_TRUE(verifyFingerprint(*msg));
}

TEST(StunRfc5769, SampleLongTermRequest) {
  auto msg = parseVec(SampleLongTermRequest);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->username(), LongTermUsername);
  EXPECT_EQ(msg->nonce(), LongTermNonce);
  EXPECT_EQ(msg->realm(), LongTermRealm);
  const Md5Key key = longTermKeyMd5(LongTermUsername, LongTermRealm, LongTermPassword);
  EXPECT_TRUE(verifyMessageIntegrity(*msg, key));
  const Md5Key wrong = longTermKeyMd5(LongTermUsername, LongTermRealm, "TheMatrix");
  EXPECT_FALSE(verifyMessageIntegrity(*msg, wrong));
  EXPECT_FALSE(verifyFingerprint(*msg));  // the vector has none
  EXPECT_FALSE(msg->fingerprint());
}

TEST(StunKeys, LongTermKeysAndUserhash) {
  auto hex = [](auto bytes) {
    std::string out;
    for (uint8_t b : bytes) out += "0123456789abcdef"[b >> 4], out += "0123456789abcdef"[b & 15];
    return out;
  };
  // Reference values from coreutils md5sum/sha256sum of "user:realm:pass".
  EXPECT_EQ(hex(longTermKeyMd5("user", "realm", "pass")), "8493fbc53ba582fb4c044c456bdc40eb");
  EXPECT_EQ(hex(longTermKeySha256("user", "realm", "pass")),
            "07e934117abd40836e7c6329b54731b2b2d2a5f9a71f544922d75e0730d8251b");
  // RFC 8489 Appendix B.1: USERHASH of the RFC 5769 user in realm "example.org".
  EXPECT_EQ(hex(userhash(LongTermUsername, LongTermRealm)),
            "4a3cf38fef6992bda952c6780417da0f24819415569e60b205c46e41407f1704");
}

TEST(StunCrc, Crc32KnownValue) {
  const std::string s = "123456789";
  EXPECT_EQ(crc32({reinterpret_cast<const uint8_t*>(s.data()), s.size()}), 0xCBF43926u);
  EXPECT_EQ(crc32({}), 0u);
  // Every length and alignment against a bit-at-a-time reference.
  std::vector<uint8_t> data(100);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 37 + 11);
  for (size_t off = 0; off < 8; ++off) {
    for (size_t len = 0; off + len <= data.size(); ++len) {
      uint32_t ref = 0xFFFFFFFFu;
      for (size_t i = off; i < off + len; ++i) {
        ref ^= data[i];
        for (int k = 0; k < 8; ++k) ref = (ref & 1) ? 0xEDB88320u ^ (ref >> 1) : ref >> 1;
      }
      ASSERT_EQ(crc32(std::span(data).subspan(off, len)), ~ref) << off << " " << len;
    }
  }
  // Continuing a CRC over two pieces equals one pass.
  EXPECT_EQ(crc32(std::span(data).subspan(13), crc32(std::span(data).first(13))), crc32(data));
}

TEST(StunParse, EveryTruncationIsRejected) {
  for (const auto* v : {&SampleRequest, &SampleIPv4Response, &SampleIPv6Response, &SampleLongTermRequest}) {
    for (size_t n = 0; n < v->size(); ++n) {
      EXPECT_FALSE(StunMessage::parse(std::span(v->data(), n))) << n;
    }
    auto longer = *v;
    longer.insert(longer.end(), {0, 0, 0, 0});
    EXPECT_FALSE(parseVec(longer));
  }
}

TEST(StunParse, LyingLengthsAreRejected) {
  auto v = SampleRequest;
  setU16(v, 2, 0x5c);  // longer than the datagram
  EXPECT_FALSE(parseVec(v));
  setU16(v, 2, 0x54);  // shorter than the datagram
  EXPECT_FALSE(parseVec(v));
  setU16(v, 2, 0x57);  // not a multiple of 4
  EXPECT_FALSE(parseVec(v));

  // An attribute length running past the end of the message.
  v = SampleRequest;
  setU16(v, 22, 0x0100);  // SOFTWARE claims 256 bytes
  EXPECT_FALSE(parseVec(v));
  // An attribute length that skips into the middle of the next attribute header.
  v = SampleRequest;
  setU16(v, 22, 0x0012);
  EXPECT_FALSE(parseVec(v));
}

TEST(StunParse, BadHeaderIsRejected) {
  auto v = SampleRequest;
  v[0] |= 0x80;  // top bits must be zero
  EXPECT_FALSE(parseVec(v));
  v = SampleRequest;
  v[0] |= 0x40;
  EXPECT_FALSE(parseVec(v));
  v = SampleRequest;
  v[5] ^= 0x01;  // magic cookie
  EXPECT_FALSE(parseVec(v));
}

TEST(StunParse, BadPaddingIsRejectedButPaddingContentIsIgnored) {
  // Value of 5 bytes without its 3 padding bytes: the message length is then not a multiple
  // of 4 (and if it were padded elsewhere, the attribute would run into it).
  auto noPad = message(0x0001, {0x80, 0x22, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'});
  EXPECT_FALSE(parseVec(noPad));
  // Padding missing on the last attribute but the length still a multiple of 4.
  auto shortPad = message(0x0001, {0x80, 0x22, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0,
                                   0x80, 0x22, 0x00, 0x01, 'x'});
  shortPad.resize(shortPad.size());  // 17-byte body
  EXPECT_FALSE(parseVec(shortPad));
  // RFC 8489 §14: padding may be any value (RFC 5769 uses spaces).
  auto oddPad = message(0x0001, {0x80, 0x22, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0xff, 0xee, 0xdd});
  auto msg = parseVec(oddPad);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->software(), "hello");
}

TEST(StunParse, UnknownAttributesAreReported) {
  auto v = message(0x0001, concat({attribute(0x0003, {0, 0, 0, 4}),          // CHANGE-REQUEST
                                   attribute(0xC057, {0, 1, 0, 0}),          // optional: ignored
                                   attribute(attr::Priority, {0, 0, 0, 1}),
                                   attribute(0x7F00, {})}));
  auto msg = parseVec(v);
  ASSERT_TRUE(msg);
  EXPECT_TRUE(msg->hasUnknownRequiredAttributes());
  std::array<uint16_t, 4> unknown{};
  ASSERT_EQ(msg->unknownRequiredAttributes(unknown), 2u);
  EXPECT_EQ(unknown[0], 0x0003);
  EXPECT_EQ(unknown[1], 0x7F00);
  std::array<uint16_t, 1> small{};
  EXPECT_EQ(msg->unknownRequiredAttributes(small), 2u);
  EXPECT_EQ(small[0], 0x0003);
  EXPECT_EQ(msg->priority(), 1u);
  EXPECT_TRUE(msg->has(0xC057));

  auto optionalOnly = message(0x0001, attribute(0xC057, {0, 1, 0, 0}));
  msg = parseVec(optionalOnly);
  ASSERT_TRUE(msg);
  EXPECT_FALSE(msg->hasUnknownRequiredAttributes());
}

TEST(StunParse, OrderingRulesOfIntegrityAndFingerprint) {
  const auto mi = attribute(attr::MessageIntegrity, std::vector<uint8_t>(20, 1));
  const auto mi256 = attribute(attr::MessageIntegritySha256, std::vector<uint8_t>(32, 2));
  const auto fp = attribute(attr::Fingerprint, {1, 2, 3, 4});
  const auto user = attribute(attr::Username, {'a', ':', 'b'});

  EXPECT_TRUE(parses(message(1, concat({user, mi, mi256, fp}))));
  EXPECT_FALSE(parses(message(1, concat({user, fp, user}))));          // after FINGERPRINT
  EXPECT_FALSE(parses(message(1, concat({user, fp, fp}))));            // duplicate FINGERPRINT
  EXPECT_FALSE(parses(message(1, concat({user, mi, mi}))));            // duplicate integrity
  EXPECT_FALSE(parses(message(1, concat({user, mi256, mi256}))));
  EXPECT_FALSE(parses(message(1, concat({user, mi256, mi}))));         // SHA1 after SHA256
  EXPECT_FALSE(parses(message(1, attribute(attr::MessageIntegrity, std::vector<uint8_t>(16, 1)))));
  EXPECT_FALSE(parses(message(1, attribute(attr::MessageIntegritySha256, std::vector<uint8_t>(12, 1)))));
  EXPECT_FALSE(parses(message(1, attribute(attr::MessageIntegritySha256, std::vector<uint8_t>(18, 1)))));
  EXPECT_FALSE(parses(message(1, attribute(attr::MessageIntegritySha256, std::vector<uint8_t>(36, 1)))));
  EXPECT_FALSE(parses(message(1, attribute(attr::Fingerprint, {1, 2, 3}))));

  // RFC 8489 §14.5: attributes after MESSAGE-INTEGRITY are ignored (except the two above).
  // (The view borrows its bytes, so keep them in named buffers.)
  const auto ignored = message(1, concat({mi, user, fp}));
  auto msg = parseVec(ignored);
  ASSERT_TRUE(msg);
  EXPECT_FALSE(msg->username());
  EXPECT_TRUE(msg->messageIntegrity());
  EXPECT_TRUE(msg->fingerprint());
  // An unknown required attribute after integrity is ignored too.
  const auto ignoredUnknown = message(1, concat({mi, attribute(0x0003, {0, 0, 0, 0})}));
  msg = parseVec(ignoredUnknown);
  ASSERT_TRUE(msg);
  EXPECT_FALSE(msg->hasUnknownRequiredAttributes());
}

TEST(StunParse, TooManyAttributesAreRejected) {
  std::vector<uint8_t> body;
  for (size_t i = 0; i < StunMessage::MaxAttributes; ++i) {
    auto a = attribute(0x8050, {});
    body.insert(body.end(), a.begin(), a.end());
  }
  EXPECT_TRUE(parses(message(1, body)));
  auto a = attribute(0x8050, {});
  body.insert(body.end(), a.begin(), a.end());
  EXPECT_FALSE(parses(message(1, body)));
}

TEST(StunIntegrity, TamperingIsDetected) {
  for (size_t i = 0; i < SampleIPv4Response.size(); ++i) {
    auto v = SampleIPv4Response;
    v[i] ^= 0x01;
    auto msg = parseVec(v);
    if (!msg) continue;  // header/length damage is caught by the parser
    const bool mi = verifyMessageIntegrity(*msg, shortTermKey(ShortTermPassword));
    const bool fp = verifyFingerprint(*msg);
    // Padding bytes are covered by both (a flipped space still changes the HMAC and CRC).
    EXPECT_FALSE(mi && fp) << "byte " << i;
    if (i < 48) {
      EXPECT_FALSE(mi) << "byte " << i;
    }
  }
}

TEST(StunIntegrity, WrongKeyAndBadFingerprint) {
  auto msg = parseVec(SampleRequest);
  ASSERT_TRUE(msg);
  EXPECT_FALSE(verifyMessageIntegrity(*msg, shortTermKey("")));
  EXPECT_FALSE(verifyMessageIntegrity(*msg, shortTermKey("vOkJxbRl1RmTxUk/WvJxBt")));
  auto v = SampleRequest;
  v.back() ^= 0xff;
  msg = parseVec(v);
  ASSERT_TRUE(msg);
  EXPECT_FALSE(verifyFingerprint(*msg));
  EXPECT_TRUE(verifyMessageIntegrity(*msg, shortTermKey(ShortTermPassword)));  // FP not covered
  const auto plain = message(1, attribute(attr::Username, {'x'}));
  auto noIntegrity = parseVec(plain);
  ASSERT_TRUE(noIntegrity);
  EXPECT_FALSE(verifyMessageIntegrity(*noIntegrity, shortTermKey("x")));
  EXPECT_FALSE(verifyMessageIntegritySha256(*noIntegrity, shortTermKey("x")));
  EXPECT_FALSE(verifyFingerprint(*noIntegrity));
}

TEST(StunParse, MalformedTypedValuesGiveNothing) {
  const auto bytes = message(1, concat({
      attribute(attr::XorMappedAddress, {0, 1, 0, 1, 1, 2, 3}),     // IPv4 with 3 address bytes
      attribute(attr::MappedAddress, {0, 3, 0, 1, 1, 2, 3, 4}),     // family 3
      attribute(attr::Priority, {0, 0, 1}),                         // 3 bytes
      attribute(attr::IceControlling, {0, 0, 0, 0}),                // 4 bytes
      attribute(attr::ErrorCode, {0, 0, 7, 0}),                     // class 7
      attribute(attr::UnknownAttributes, {0, 1, 0}),                // odd size
      attribute(attr::Userhash, std::vector<uint8_t>(31, 0)),
      attribute(attr::Username, std::vector<uint8_t>(509, 'a')),    // too long
      attribute(attr::PasswordAlgorithms, {0, 1, 0, 8, 1}),         // params past the end
      attribute(attr::ChannelNumber, {0x40, 0x00}),
      attribute(attr::EvenPort, {0x80, 0}),
      attribute(attr::UseCandidate, {1}),
      attribute(attr::Icmp, {0, 0, 1}),
  }));
  auto msg = parseVec(bytes);
  ASSERT_TRUE(msg);
  EXPECT_FALSE(msg->xorMappedAddress());
  EXPECT_FALSE(msg->mappedAddress());
  EXPECT_FALSE(msg->priority());
  EXPECT_FALSE(msg->iceControlling());
  EXPECT_FALSE(msg->errorCode());
  std::array<uint16_t, 2> types{};
  EXPECT_FALSE(msg->unknownAttributes(types));
  EXPECT_FALSE(msg->userhash());
  EXPECT_FALSE(msg->username());
  std::array<PasswordAlgorithmValue, 2> algs{};
  EXPECT_FALSE(msg->passwordAlgorithms(algs));
  EXPECT_FALSE(msg->channelNumber());
  EXPECT_FALSE(msg->evenPort());
  EXPECT_FALSE(msg->useCandidate());
  EXPECT_FALSE(msg->icmp());
}

TEST(StunParse, RandomMutationsNeverCrash) {
  uint32_t seed = 12345;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u; };
  for (int round = 0; round < 20000; ++round) {
    auto v = (round % 2) ? SampleRequest : SampleIPv6Response;
    const int flips = 1 + static_cast<int>(next() % 4);
    for (int i = 0; i < flips; ++i) v[next() % v.size()] = static_cast<uint8_t>(next() >> 16);
    auto msg = parseVec(v);
    if (!msg) continue;
    (void)verifyMessageIntegrity(*msg, shortTermKey(ShortTermPassword));
    (void)verifyFingerprint(*msg);
    (void)msg->xorMappedAddress();
    (void)msg->username();
    (void)msg->errorCode();
  }
}

}  // namespace
}  // namespace meeting::proto::stun
