// libFuzzer target for the STUN/TURN codec: parse, every getter, integrity and fingerprint
// checks, re-build of the parsed attributes (which must parse and verify again), ChannelData,
// stream framing and RFC 7983 classification. Any crash or trap is a bug.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "proto/Demux.hpp"
#include "proto/stun/Stun.hpp"

using namespace meeting;
using namespace meeting::proto::stun;

namespace {

void touchGetters(const StunMessage& m) {
  std::array<Address, 4> addrs{};
  std::array<uint16_t, 8> types{};
  std::array<PasswordAlgorithmValue, 4> algs{};
  (void)m.mappedAddress(); (void)m.xorMappedAddress(); (void)m.alternateServer();
  (void)m.xorRelayedAddress(); (void)m.xorPeerAddress(); (void)m.xorPeerAddresses(addrs);
  (void)m.xorRelayedAddresses(addrs); (void)m.username(); (void)m.userhash(); (void)m.realm();
  (void)m.nonce(); (void)m.software(); (void)m.alternateDomain(); (void)m.messageIntegrity();
  (void)m.messageIntegritySha256(); (void)m.fingerprint(); (void)m.errorCode();
  (void)m.passwordAlgorithms(algs); (void)m.passwordAlgorithm(); (void)m.unknownAttributes(types);
  (void)m.priority(); (void)m.useCandidate(); (void)m.iceControlled(); (void)m.iceControlling();
  (void)m.channelNumber(); (void)m.lifetime(); (void)m.data(); (void)m.requestedAddressFamily();
  (void)m.additionalAddressFamily(); (void)m.addressErrorCode(); (void)m.evenPort();
  (void)m.requestedTransport(); (void)m.dontFragment(); (void)m.reservationToken(); (void)m.icmp();
  (void)m.connectionId(); (void)m.unknownRequiredAttributes(types);
}

bool isIntegrityOrFingerprint(uint16_t t) {
  return t == attr::MessageIntegrity || t == attr::MessageIntegritySha256 || t == attr::Fingerprint;
}

// Copies the attributes into a new message with fresh integrity and fingerprint; it must
// parse back with the same content and verify.
void rebuild(const StunMessage& m) {
  static std::array<uint8_t, 70000> buf;
  const std::array<uint8_t, 4> key = {'k', 'e', 'y', '!'};
  ByteWriter w(buf);
  StunBuilder b(w, m.type(), m.transactionId());
  // Only the attributes before the first integrity/fingerprint one are visible to lookups.
  size_t copied = 0;
  bool stop = false;
  m.forEachAttribute([&](const StunAttribute& a) {
    stop = stop || isIntegrityOrFingerprint(a.type);
    if (stop) return;
    b.addAttribute(a.type, a.value);
    ++copied;
  });
  b.addMessageIntegrity(key);
  b.addMessageIntegritySha256(key, 20);
  b.addFingerprint();
  if (!b.ok() || copied + 3 > StunMessage::MaxAttributes) return;  // too big to re-frame
  auto again = StunMessage::parse(b.message());
  if (!again) __builtin_trap();
  if (!verifyMessageIntegrity(*again, key) || !verifyMessageIntegritySha256(*again, key) ||
      !verifyFingerprint(*again))
    __builtin_trap();
  if (again->type() != m.type() || again->username() != m.username() ||
      again->xorMappedAddress() != m.xorMappedAddress() || again->priority() != m.priority())
    __builtin_trap();
  touchGetters(*again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  (void)proto::classifyPacket(in);

  if (auto m = StunMessage::parse(in)) {
    touchGetters(*m);
    const std::array<uint8_t, 4> key = {'k', 'e', 'y', '!'};
    (void)verifyMessageIntegrity(*m, key);
    (void)verifyMessageIntegritySha256(*m, key);
    (void)verifyFingerprint(*m);
    rebuild(*m);
  }

  if (auto cd = parseChannelData(in)) {
    static std::array<uint8_t, 70000> out;
    ByteWriter w(out);
    if (!writeChannelData(w, cd->channel, cd->payload, true)) __builtin_trap();
    auto again = parseChannelData(w.written());
    if (!again || again->channel != cd->channel || again->payload.size() != cd->payload.size())
      __builtin_trap();
  }

  // Walk the input as a stream of frames.
  std::span<const uint8_t> rest = in;
  for (int i = 0; i < 64 && !rest.empty(); ++i) {
    const StreamFrame f = findStreamFrame(rest);
    if (f.kind == FrameKind::NeedMore || f.kind == FrameKind::Invalid || f.size > rest.size()) break;
    if (f.size == 0) __builtin_trap();
    if (f.kind == FrameKind::Stun) (void)StunMessage::parse(rest.first(f.size));
    if (f.kind == FrameKind::ChannelData && !parseChannelData(rest.first(f.size))) __builtin_trap();
    rest = rest.subspan(f.size);
  }
  return 0;
}
