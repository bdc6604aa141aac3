// Builder: byte-exact RFC 5769 rebuild, round trips of every attribute, limits and order rules.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <vector>

#include "proto/stun/Stun.hpp"
#include "unit/proto/stun/StunTestVectors.hpp"

namespace meeting::proto::stun {
namespace {

using namespace meeting::proto::stun::testing;

constexpr TransactionId Tid = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

TEST(StunBuilder, RebuildsRfc5769LongTermRequestByteForByte) {
  std::array<uint8_t, 256> buf{};
  ByteWriter w(buf);
  const TransactionId tid = {0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e};
  StunBuilder b(w, Method::Binding, MessageClass::Request, tid);
  const Md5Key key = longTermKeyMd5(LongTermUsername, LongTermRealm, LongTermPassword);
  EXPECT_TRUE(b.addUsername(LongTermUsername));
  EXPECT_TRUE(b.addNonce(LongTermNonce));
  EXPECT_TRUE(b.addRealm(LongTermRealm));
  EXPECT_TRUE(b.addMessageIntegrity(key));
  ASSERT_TRUE(b.ok());
  const auto m = b.message();
  EXPECT_EQ(std::vector<uint8_t>(m.begin(), m.end()), SampleLongTermRequest);
}

TEST(StunBuilder, Rfc8489AppendixB1Sha256Request) {
  // RFC 8489 Appendix B.1 as corrected by its verified erratum (the printed vector omits
  // PASSWORD-ALGORITHM; with it the length is 0x90). Key = SHA-256 long-term key.
  std::array<uint8_t, 256> buf{};
  ByteWriter w(buf);
  const TransactionId tid = {0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e};
  StunBuilder b(w, Method::Binding, MessageClass::Request, tid);
  const Sha256Key uh = userhash(LongTermUsername, LongTermRealm);
  const Sha256Key key = longTermKeySha256(LongTermUsername, LongTermRealm, LongTermPassword);
  b.addUserhash(uh);
  b.addNonce("obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA");
  b.addRealm(LongTermRealm);
  b.addPasswordAlgorithm({static_cast<uint16_t>(PasswordAlgorithmId::Sha256), {}});
  b.addMessageIntegritySha256(key);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b.size(), 20u + 0x90);
  EXPECT_EQ(b.message()[3], 0x90);
  const std::vector<uint8_t> expected = {
      0xb5, 0xc7, 0xbf, 0x00, 0x5b, 0x6c, 0x52, 0xa2, 0x1c, 0x51, 0xc5, 0xe8, 0x92, 0xf8, 0x19, 0x24,
      0x13, 0x62, 0x96, 0xcb, 0x92, 0x7c, 0x43, 0x14, 0x93, 0x09, 0x27, 0x8c, 0xc6, 0x51, 0x8e, 0x65};
  auto m = StunMessage::parse(b.message());
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->messageIntegritySha256());
  EXPECT_EQ(std::vector<uint8_t>(m->messageIntegritySha256()->begin(), m->messageIntegritySha256()->end()),
            expected);
  EXPECT_TRUE(verifyMessageIntegritySha256(*m, key));
  EXPECT_EQ(m->passwordAlgorithm()->algorithm, 2);
}

TEST(StunBuilder, RebuildsRfc5769ResponsesModuloPadding) {
  // The RFC pads SOFTWARE with spaces; with zero padding the address must still match and the
  // integrity/fingerprint must verify.
  std::array<uint8_t, 256> buf{};
  for (bool v6 : {false, true}) {
    ByteWriter w(buf);
    StunBuilder b(w, Method::Binding, MessageClass::SuccessResponse, Tid);
    const Address a = v6 ? Address::v6({0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0x00, 0x11,
                                        0x22, 0x33, 0x44, 0x55, 0x66, 0x77}, 32853)
                         : Address::v4({192, 0, 2, 1}, 32853);
    b.addSoftware("test vector");
    b.addXorMappedAddress(a);
    b.addMessageIntegrity(shortTermKey(ShortTermPassword));
    b.addFingerprint();
    ASSERT_TRUE(b.ok());
    const auto& ref = v6 ? SampleIPv6Response : SampleIPv4Response;
    ASSERT_EQ(b.size(), ref.size());
    // XOR-MAPPED-ADDRESS bytes (after the 36-byte header+SOFTWARE) are identical.
    const size_t addrBytes = v6 ? 24 : 12;
    EXPECT_TRUE(std::equal(ref.begin() + 36, ref.begin() + 36 + addrBytes, b.message().begin() + 36));
    auto msg = StunMessage::parse(b.message());
    ASSERT_TRUE(msg);
    EXPECT_EQ(msg->xorMappedAddress(), a);
    EXPECT_TRUE(verifyMessageIntegrity(*msg, shortTermKey(ShortTermPassword)));
    EXPECT_TRUE(verifyFingerprint(*msg));
  }
}

TEST(StunBuilder, RoundTripsEveryAttribute) {
  std::array<uint8_t, 1024> buf{};
  ByteWriter w(buf);
  StunBuilder b(w, Method::Allocate, MessageClass::ErrorResponse, Tid);
  const Address v4 = Address::v4({203, 0, 113, 7}, 40000);
  const Address v6 = Address::v6({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}, 3478);
  const std::array<uint8_t, 32> uh = userhash("bob", "example.org");
  const std::array<uint16_t, 3> unknownTypes = {0x0003, 0x0004, 0x7001};
  const std::array<uint8_t, 3> payload = {9, 8, 7};
  const std::array<uint8_t, 4> params = {1, 2, 3, 4};
  const std::array<PasswordAlgorithmValue, 2> algs = {
      PasswordAlgorithmValue{static_cast<uint16_t>(PasswordAlgorithmId::Sha256), {}},
      PasswordAlgorithmValue{static_cast<uint16_t>(PasswordAlgorithmId::Md5), std::span(params).first(3)}};

  EXPECT_TRUE(b.addMappedAddress(v4));
  EXPECT_TRUE(b.addXorMappedAddress(v6));
  EXPECT_TRUE(b.addAlternateServer(v6));
  EXPECT_TRUE(b.addXorPeerAddress(v4));
  EXPECT_TRUE(b.addXorPeerAddress(v6));
  EXPECT_TRUE(b.addXorRelayedAddress(v4));
  EXPECT_TRUE(b.addXorRelayedAddress(v6));
  EXPECT_TRUE(b.addUsername("alice:bob"));
  EXPECT_TRUE(b.addUserhash(uh));
  EXPECT_TRUE(b.addRealm("example.org"));
  EXPECT_TRUE(b.addNonce("obMatJos2AAACnonce"));
  EXPECT_TRUE(b.addSoftware("meeting 0.1"));
  EXPECT_TRUE(b.addAlternateDomain("turn.example.org"));
  EXPECT_TRUE(b.addErrorCode(438, "Stale Nonce"));
  EXPECT_TRUE(b.addAddressErrorCode(0x02, 440, "Address Family not Supported"));
  EXPECT_TRUE(b.addUnknownAttributes(unknownTypes));
  EXPECT_TRUE(b.addPasswordAlgorithms(algs));
  EXPECT_TRUE(b.addPasswordAlgorithm(algs[0]));
  EXPECT_TRUE(b.addPriority(0x6e0001ff));
  EXPECT_TRUE(b.addUseCandidate());
  EXPECT_TRUE(b.addIceControlled(0x1122334455667788ull));
  EXPECT_TRUE(b.addIceControlling(0x8877665544332211ull));
  EXPECT_TRUE(b.addChannelNumber(0x4001));
  EXPECT_TRUE(b.addLifetime(600));
  EXPECT_TRUE(b.addData(payload));
  EXPECT_TRUE(b.addRequestedAddressFamily(0x02));
  EXPECT_TRUE(b.addAdditionalAddressFamily(0x02));
  EXPECT_TRUE(b.addEvenPort(true));
  EXPECT_TRUE(b.addRequestedTransport(TransportUdp));
  EXPECT_TRUE(b.addDontFragment());
  EXPECT_TRUE(b.addReservationToken(0x0102030405060708ull));
  EXPECT_TRUE(b.addIcmp(3, 4, 1400));
  EXPECT_TRUE(b.addConnectionId(0xdeadbeef));
  EXPECT_TRUE(b.addMessageIntegrity(shortTermKey("pw")));
  EXPECT_TRUE(b.addMessageIntegritySha256(shortTermKey("pw")));
  EXPECT_TRUE(b.addFingerprint());
  ASSERT_TRUE(b.ok());

  auto m = StunMessage::parse(b.message());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->method(), Method::Allocate);
  EXPECT_EQ(m->messageClass(), MessageClass::ErrorResponse);
  EXPECT_FALSE(m->hasUnknownRequiredAttributes());
  EXPECT_EQ(m->mappedAddress(), v4);
  EXPECT_EQ(m->xorMappedAddress(), v6);
  EXPECT_EQ(m->alternateServer(), v6);
  std::array<Address, 4> peers{};
  EXPECT_EQ(m->xorPeerAddresses(peers), 2u);
  EXPECT_EQ(peers[0], v4);
  EXPECT_EQ(peers[1], v6);
  EXPECT_EQ(m->xorPeerAddress(), v4);
  std::array<Address, 1> relayed{};
  EXPECT_EQ(m->xorRelayedAddresses(relayed), 2u);
  EXPECT_EQ(relayed[0], v4);
  EXPECT_EQ(m->xorRelayedAddress(), v4);
  EXPECT_EQ(m->username(), "alice:bob");
  ASSERT_TRUE(m->userhash());
  EXPECT_TRUE(std::equal(uh.begin(), uh.end(), m->userhash()->begin()));
  EXPECT_EQ(m->realm(), "example.org");
  EXPECT_EQ(m->nonce(), "obMatJos2AAACnonce");
  EXPECT_EQ(m->software(), "meeting 0.1");
  EXPECT_EQ(m->alternateDomain(), "turn.example.org");
  ASSERT_TRUE(m->errorCode());
  EXPECT_EQ(m->errorCode()->code, 438);
  EXPECT_EQ(m->errorCode()->reason, "Stale Nonce");
  ASSERT_TRUE(m->addressErrorCode());
  EXPECT_EQ(m->addressErrorCode()->code, 440);
  EXPECT_EQ(m->addressErrorCode()->family, 0x02);
  EXPECT_EQ(m->addressErrorCode()->reason, "Address Family not Supported");
  std::array<uint16_t, 8> types{};
  ASSERT_EQ(m->unknownAttributes(types), 3u);
  EXPECT_EQ(types[2], 0x7001);
  std::array<PasswordAlgorithmValue, 4> gotAlgs{};
  ASSERT_EQ(m->passwordAlgorithms(gotAlgs), 2u);
  EXPECT_EQ(gotAlgs[0].algorithm, 2);
  EXPECT_TRUE(gotAlgs[0].parameters.empty());
  EXPECT_EQ(gotAlgs[1].algorithm, 1);
  ASSERT_EQ(gotAlgs[1].parameters.size(), 3u);
  EXPECT_EQ(gotAlgs[1].parameters[2], 3);
  ASSERT_TRUE(m->passwordAlgorithm());
  EXPECT_EQ(m->passwordAlgorithm()->algorithm, 2);
  EXPECT_EQ(m->priority(), 0x6e0001ffu);
  EXPECT_TRUE(m->useCandidate());
  EXPECT_EQ(m->iceControlled(), 0x1122334455667788ull);
  EXPECT_EQ(m->iceControlling(), 0x8877665544332211ull);
  EXPECT_EQ(m->channelNumber(), 0x4001);
  EXPECT_EQ(m->lifetime(), 600u);
  ASSERT_TRUE(m->data());
  EXPECT_EQ(std::vector<uint8_t>(m->data()->begin(), m->data()->end()), std::vector<uint8_t>({9, 8, 7}));
  EXPECT_EQ(m->requestedAddressFamily(), 0x02);
  EXPECT_EQ(m->additionalAddressFamily(), 0x02);
  EXPECT_EQ(m->evenPort(), true);
  EXPECT_EQ(m->requestedTransport(), TransportUdp);
  EXPECT_TRUE(m->dontFragment());
  EXPECT_EQ(m->reservationToken(), 0x0102030405060708ull);
  ASSERT_TRUE(m->icmp());
  EXPECT_EQ(m->icmp()->type, 3);
  EXPECT_EQ(m->icmp()->code, 4);
  EXPECT_EQ(m->icmp()->errorData, 1400u);
  EXPECT_EQ(m->connectionId(), 0xdeadbeefu);
  EXPECT_TRUE(verifyMessageIntegrity(*m, shortTermKey("pw")));
  EXPECT_TRUE(verifyMessageIntegritySha256(*m, shortTermKey("pw")));
  EXPECT_FALSE(verifyMessageIntegritySha256(*m, shortTermKey("pW")));
  EXPECT_TRUE(verifyFingerprint(*m));

  // Every attribute is visited by forEachAttribute, including the trailing three.
  size_t count = 0;
  m->forEachAttribute([&count](const StunAttribute&) { ++count; });
  EXPECT_EQ(count, 36u);
}

TEST(StunBuilder, TruncatedSha256IntegrityAndLongTermSha256Key) {
  std::array<uint8_t, 128> buf{};
  const Sha256Key key = longTermKeySha256("bob", "example.org", "secret");
  for (size_t size : {16u, 20u, 24u, 28u, 32u}) {
    ByteWriter w(buf);
    StunBuilder b(w, Method::Refresh, MessageClass::Request, Tid);
    b.addLifetime(0);
    EXPECT_TRUE(b.addMessageIntegritySha256(key, size));
    auto m = StunMessage::parse(b.message());
    ASSERT_TRUE(m);
    EXPECT_EQ(m->messageIntegritySha256()->size(), size);
    EXPECT_TRUE(verifyMessageIntegritySha256(*m, key));
    EXPECT_FALSE(verifyMessageIntegrity(*m, key));
  }
  ByteWriter w(buf);
  StunBuilder b(w, Method::Refresh, MessageClass::Request, Tid);
  EXPECT_FALSE(b.addMessageIntegritySha256(key, 18));
  EXPECT_FALSE(b.ok());
}

TEST(StunBuilder, HonoursOrderRules) {
  std::array<uint8_t, 256> buf{};
  {
    ByteWriter w(buf);
    StunBuilder b(w, Method::Binding, MessageClass::Request, Tid);
    EXPECT_TRUE(b.addMessageIntegrity(shortTermKey("k")));
    EXPECT_FALSE(b.addUsername("late"));
    EXPECT_FALSE(b.ok());
    EXPECT_TRUE(b.message().empty());
  }
  {
    ByteWriter w(buf);
    StunBuilder b(w, Method::Binding, MessageClass::Request, Tid);
    EXPECT_TRUE(b.addMessageIntegritySha256(shortTermKey("k")));
    EXPECT_FALSE(b.addMessageIntegrity(shortTermKey("k")));
  }
  {
    ByteWriter w(buf);
    StunBuilder b(w, Method::Binding, MessageClass::Request, Tid);
    EXPECT_TRUE(b.addFingerprint());
    EXPECT_FALSE(b.addFingerprint());
  }
  {
    ByteWriter w(buf);
    StunBuilder b(w, Method::Binding, MessageClass::Request, Tid);
    EXPECT_FALSE(b.addErrorCode(700, "bad"));
    EXPECT_FALSE(b.addErrorCode(299, "bad"));
  }
  {
    ByteWriter w(buf);
    StunBuilder b(w, 0x4001, Tid);  // type with a top bit set
    EXPECT_FALSE(b.ok());
  }
}

TEST(StunBuilder, FailsCleanlyWhenTheBufferIsFull) {
  for (size_t cap = 0; cap < 80; ++cap) {
    std::vector<uint8_t> buf(cap);
    ByteWriter w(buf);
    StunBuilder b(w, Method::Binding, MessageClass::SuccessResponse, Tid);
    b.addXorMappedAddress(Address::v4({10, 0, 0, 1}, 5000));
    b.addMessageIntegrity(shortTermKey("pw"));
    b.addFingerprint();
    EXPECT_EQ(b.ok(), cap >= 20 + 12 + 24 + 8) << cap;
    EXPECT_LE(w.size(), cap);
  }
}

TEST(StunBuilder, WritesAfterAPrefixInTheSameBuffer) {
  // E.g. an RFC 4571 length prefix written before the message on ICE-TCP.
  std::array<uint8_t, 128> buf{};
  ByteWriter w(buf);
  ASSERT_TRUE(w.writeU16(0));
  StunBuilder b(w, Method::Binding, MessageClass::SuccessResponse, Tid);
  b.addXorMappedAddress(Address::v4({10, 0, 0, 1}, 5000));
  b.addMessageIntegrity(shortTermKey("pw"));
  b.addFingerprint();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b.message().data(), buf.data() + 2);
  auto m = StunMessage::parse(std::span(buf).subspan(2, b.size()));
  ASSERT_TRUE(m);
  EXPECT_TRUE(verifyMessageIntegrity(*m, shortTermKey("pw")));
  EXPECT_TRUE(verifyFingerprint(*m));
}

TEST(StunBuilder, RejectsOversizedValues) {
  std::vector<uint8_t> buf(70000);
  ByteWriter w(buf);
  StunBuilder b(w, Method::Send, MessageClass::Indication, Tid);
  std::vector<uint8_t> big(65536);
  EXPECT_FALSE(b.addData(big));
  ByteWriter w2(buf);
  StunBuilder b2(w2, Method::Send, MessageClass::Indication, Tid);
  big.resize(65528);  // fits one attribute (65532 bytes of body)
  EXPECT_TRUE(b2.addData(big));
  EXPECT_FALSE(b2.addDontFragment());  // body would exceed the 16-bit length
}

TEST(StunTransactionId, RandomIdsDiffer) {
  TransactionId a{}, b{};
  ASSERT_TRUE(randomTransactionId(a));
  ASSERT_TRUE(randomTransactionId(b));
  EXPECT_NE(a, b);
}

TEST(StunAddress, SockaddrConversions) {
  sockaddr_storage ss{};
  const Address v4 = Address::v4({127, 0, 0, 1}, 3478);
  EXPECT_EQ(addressToSockaddr(v4, ss), sizeof(sockaddr_in));
  EXPECT_EQ(addressFromSockaddr(reinterpret_cast<const sockaddr*>(&ss)), v4);
  const Address v6 = Address::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 443);
  EXPECT_EQ(addressToSockaddr(v6, ss), sizeof(sockaddr_in6));
  EXPECT_EQ(addressFromSockaddr(reinterpret_cast<const sockaddr*>(&ss)), v6);
  EXPECT_FALSE(addressFromSockaddr(nullptr));
}

}  // namespace
}  // namespace meeting::proto::stun
