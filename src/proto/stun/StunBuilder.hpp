#pragma once
// Writes STUN messages into a caller-owned buffer (no heap allocation). The header length is
// kept up to date after every attribute, so written() is always a complete message.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/ByteReader.hpp"
#include "proto/stun/StunMessage.hpp"

namespace meeting::proto::stun {

/// Builds one STUN message at the writer's current position.
///
/// Every add*() returns false and leaves the builder failed (all later calls fail too) when the
/// buffer is full, a value is out of range, or the order rules of RFC 8489 §14.5-§14.7 would be
/// broken: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT may follow,
/// after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT, after FINGERPRINT nothing.
class StunBuilder {
 public:
  /// Writes the header (length 0) for `type` (see messageType()) and `transactionId`.
  StunBuilder(ByteWriter& writer, uint16_t type, std::span<const uint8_t, TransactionIdSize> transactionId);
  StunBuilder(ByteWriter& writer, Method method, MessageClass cls,
              std::span<const uint8_t, TransactionIdSize> transactionId)
      : StunBuilder(writer, messageType(method, cls), transactionId) {}

  /// False once any step failed.
  bool ok() const { return ok_; }
  /// The message written so far (empty if failed).
  std::span<const uint8_t> message() const;
  /// Size of the message written so far.
  size_t size() const { return ok_ ? writer_.size() - start_ : 0; }

  /// Any attribute: header, value, zero padding to 4 bytes.
  bool addAttribute(uint16_t type, std::span<const uint8_t> value);
  bool addString(uint16_t type, std::string_view value);
  bool addU32(uint16_t type, uint32_t value);
  bool addU64(uint16_t type, uint64_t value);
  /// An attribute with an empty value (USE-CANDIDATE, DONT-FRAGMENT).
  bool addEmpty(uint16_t type) { return addAttribute(type, {}); }
  /// MAPPED-ADDRESS style (RFC 8489 §14.1).
  bool addAddress(uint16_t type, const Address& address);
  /// XOR-MAPPED-ADDRESS style (RFC 8489 §14.2): xor with the cookie and transaction id.
  bool addXorAddress(uint16_t type, const Address& address);
  /// ERROR-CODE with class/number from `code` (300..699) and a reason phrase (RFC 8489 §14.8).
  bool addErrorCode(uint16_t code, std::string_view reason);
  /// ADDRESS-ERROR-CODE (RFC 8656 §18.12).
  bool addAddressErrorCode(uint8_t family, uint16_t code, std::string_view reason);
  /// UNKNOWN-ATTRIBUTES (RFC 8489 §14.13).
  bool addUnknownAttributes(std::span<const uint16_t> types);
  /// PASSWORD-ALGORITHMS (RFC 8489 §14.11).
  bool addPasswordAlgorithms(std::span<const PasswordAlgorithmValue> algorithms);
  /// PASSWORD-ALGORITHM (RFC 8489 §14.12).
  bool addPasswordAlgorithm(const PasswordAlgorithmValue& algorithm);

  // Named helpers for every attribute the parser knows.
  bool addMappedAddress(const Address& a) { return addAddress(attr::MappedAddress, a); }
  bool addXorMappedAddress(const Address& a) { return addXorAddress(attr::XorMappedAddress, a); }
  bool addXorPeerAddress(const Address& a) { return addXorAddress(attr::XorPeerAddress, a); }
  bool addXorRelayedAddress(const Address& a) { return addXorAddress(attr::XorRelayedAddress, a); }
  bool addAlternateServer(const Address& a) { return addAddress(attr::AlternateServer, a); }
  bool addUsername(std::string_view v) { return addString(attr::Username, v); }
  bool addUserhash(std::span<const uint8_t, 32> v) { return addAttribute(attr::Userhash, v); }
  bool addRealm(std::string_view v) { return addString(attr::Realm, v); }
  bool addNonce(std::string_view v) { return addString(attr::Nonce, v); }
  bool addSoftware(std::string_view v) { return addString(attr::Software, v); }
  bool addAlternateDomain(std::string_view v) { return addString(attr::AlternateDomain, v); }
  bool addPriority(uint32_t v) { return addU32(attr::Priority, v); }
  bool addUseCandidate() { return addEmpty(attr::UseCandidate); }
  bool addIceControlled(uint64_t tieBreaker) { return addU64(attr::IceControlled, tieBreaker); }
  bool addIceControlling(uint64_t tieBreaker) { return addU64(attr::IceControlling, tieBreaker); }
  /// CHANNEL-NUMBER: number + 16 RFFU bits (RFC 8656 §18.1).
  bool addChannelNumber(uint16_t channel) { return addU32(attr::ChannelNumber, uint32_t{channel} << 16); }
  bool addLifetime(uint32_t seconds) { return addU32(attr::Lifetime, seconds); }
  bool addData(std::span<const uint8_t> v) { return addAttribute(attr::Data, v); }
  /// REQUESTED-ADDRESS-FAMILY: family + 24 RFFU bits (RFC 8656 §18.6).
  bool addRequestedAddressFamily(uint8_t family) {
    return addU32(attr::RequestedAddressFamily, uint32_t{family} << 24);
  }
  bool addAdditionalAddressFamily(uint8_t family) {
    return addU32(attr::AdditionalAddressFamily, uint32_t{family} << 24);
  }
  /// EVEN-PORT: one byte, R bit first (RFC 8656 §18.7).
  bool addEvenPort(bool reserveNext);
  /// REQUESTED-TRANSPORT: protocol + 24 RFFU bits (RFC 8656 §18.8).
  bool addRequestedTransport(uint8_t protocol) {
    return addU32(attr::RequestedTransport, uint32_t{protocol} << 24);
  }
  bool addDontFragment() { return addEmpty(attr::DontFragment); }
  bool addReservationToken(uint64_t token) { return addU64(attr::ReservationToken, token); }
  /// ICMP (RFC 8656 §18.13).
  bool addIcmp(uint8_t type, uint8_t code, uint32_t errorData);
  bool addConnectionId(uint32_t id) { return addU32(attr::ConnectionId, id); }

  /// Appends MESSAGE-INTEGRITY: HMAC-SHA1 over everything so far, with the length field
  /// already counting this attribute (RFC 8489 §14.5).
  bool addMessageIntegrity(std::span<const uint8_t> key);
  /// Appends MESSAGE-INTEGRITY-SHA256, optionally truncated to `size` bytes (16..32, multiple
  /// of 4) (RFC 8489 §14.6).
  bool addMessageIntegritySha256(std::span<const uint8_t> key, size_t size = 32);
  /// Appends FINGERPRINT: CRC-32 of everything so far xor 0x5354554E (RFC 8489 §14.7).
  bool addFingerprint();

 private:
  bool fail() { return ok_ = false; }
  bool beginAttribute(uint16_t type, size_t valueSize);
  bool finishAttribute(size_t valueSize);
  bool setLength(size_t bodySize);
  bool orderAllows(uint16_t type) const;
  bool writeErrorCode(uint16_t type, uint8_t family, uint16_t code, std::string_view reason);

  ByteWriter& writer_;
  size_t start_ = 0;
  bool ok_ = true;
  bool hasIntegrity_ = false;
  bool hasIntegritySha256_ = false;
  bool hasFingerprint_ = false;
};

}  // namespace meeting::proto::stun
