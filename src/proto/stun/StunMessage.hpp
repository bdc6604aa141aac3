#pragma once
// Zero-copy, bounded STUN message parser (RFC 8489 §5, §14). The view borrows the caller's
// bytes; it is valid only as long as they are.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "proto/stun/StunTypes.hpp"

namespace meeting::proto::stun {

/// One attribute as found on the wire: type and unpadded value.
struct StunAttribute {
  uint16_t type = 0;
  std::span<const uint8_t> value;
};

/// ERROR-CODE (RFC 8489 §14.8) or ADDRESS-ERROR-CODE (RFC 8656 §18.12) contents.
struct ErrorCodeValue {
  uint16_t code = 0;         ///< class * 100 + number, 300..699
  std::string_view reason;   ///< UTF-8 reason phrase (not validated)
  uint8_t family = 0;        ///< ADDRESS-ERROR-CODE only: the address family it refers to
};

/// One PASSWORD-ALGORITHMS entry or the PASSWORD-ALGORITHM attribute (RFC 8489 §14.11/14.12).
struct PasswordAlgorithmValue {
  uint16_t algorithm = 0;  ///< see PasswordAlgorithmId
  std::span<const uint8_t> parameters;
};

/// ICMP attribute contents (RFC 8656 §18.13).
struct IcmpValue {
  uint8_t type = 0;
  uint8_t code = 0;
  uint32_t errorData = 0;
};

/// A parsed STUN message: a validated view over a whole datagram or stream frame.
///
/// parse() checks the header (two zero bits, length multiple of 4 and equal to the input,
/// magic cookie), walks every attribute within bounds, and rejects: truncated attributes,
/// more than MaxAttributes attributes, anything after FINGERPRINT, a second MESSAGE-INTEGRITY
/// or MESSAGE-INTEGRITY-SHA256, MESSAGE-INTEGRITY after MESSAGE-INTEGRITY-SHA256, and integrity
/// or fingerprint attributes of the wrong size. Padding bytes are ignored (RFC 8489 §14: "may
/// be any value"). Lookups ignore attributes that follow the integrity attributes, as
/// RFC 8489 §14.5/§14.6 require, except MESSAGE-INTEGRITY-SHA256 and FINGERPRINT themselves.
///
/// Typed getters return nullopt when the attribute is absent or its value is malformed.
class StunMessage {
 public:
  /// Upper bound on attributes per message; keeps every lookup walk short.
  static constexpr size_t MaxAttributes = 128;

  /// Parses `data` (exactly one message); nullopt if malformed. Never throws, never allocates.
  static std::optional<StunMessage> parse(std::span<const uint8_t> data);

  /// Raw 14-bit message type.
  uint16_t type() const { return type_; }
  /// Method bits of the type (may be a method this codec has no name for).
  Method method() const { return methodOf(type_); }
  /// Request, indication, success or error response.
  MessageClass messageClass() const { return classOf(type_); }
  /// The 96-bit transaction id (bytes 8..19).
  std::span<const uint8_t, TransactionIdSize> transactionId() const {
    return data_.subspan<8, TransactionIdSize>();
  }
  /// The whole message.
  std::span<const uint8_t> bytes() const { return data_; }

  /// First attribute of `type` (in the region not ignored by integrity rules).
  std::optional<StunAttribute> find(uint16_t type) const;
  /// True when the attribute is present.
  bool has(uint16_t type) const { return find(type).has_value(); }
  /// Calls `fn(const StunAttribute&)` for every attribute on the wire, in order (including
  /// those ignored by lookups).
  template <typename Fn>
  void forEachAttribute(Fn&& fn) const {
    for (size_t pos = HeaderSize; pos < data_.size();) {
      const StunAttribute a = attributeAt(pos);
      fn(a);
      pos += AttributeHeaderSize + ((a.value.size() + 3) & ~size_t{3});
    }
  }
  /// Up to `out.size()` values of every `type` attribute; returns how many exist in total.
  size_t findAll(uint16_t type, std::span<StunAttribute> out) const;

  /// True when a comprehension-required attribute unknown to this codec is present.
  bool hasUnknownRequiredAttributes() const { return unknownRequired_; }
  /// Collects unknown comprehension-required attribute types (for a 420 answer's
  /// UNKNOWN-ATTRIBUTES); returns how many there are in total.
  size_t unknownRequiredAttributes(std::span<uint16_t> out) const;

  /// Offsets of the integrity attributes' headers (0 when absent).
  size_t messageIntegrityOffset() const { return miOffset_; }
  size_t messageIntegritySha256Offset() const { return mi256Offset_; }
  size_t fingerprintOffset() const { return fpOffset_; }

  // RFC 8489 addresses (XOR ones are decoded with the cookie and transaction id).
  std::optional<Address> mappedAddress() const { return plainAddress(attr::MappedAddress); }
  std::optional<Address> xorMappedAddress() const { return xorAddress(attr::XorMappedAddress); }
  std::optional<Address> alternateServer() const { return plainAddress(attr::AlternateServer); }
  /// First XOR-RELAYED-ADDRESS (RFC 8656 allows two: one per family).
  std::optional<Address> xorRelayedAddress() const { return xorAddress(attr::XorRelayedAddress); }
  /// First XOR-PEER-ADDRESS.
  std::optional<Address> xorPeerAddress() const { return xorAddress(attr::XorPeerAddress); }
  /// Every XOR-PEER-ADDRESS (it may repeat, RFC 8656 §9.1); returns the total present, or
  /// nullopt if any of them is malformed.
  std::optional<size_t> xorPeerAddresses(std::span<Address> out) const {
    return xorAddresses(attr::XorPeerAddress, out);
  }
  /// Every XOR-RELAYED-ADDRESS; as xorPeerAddresses().
  std::optional<size_t> xorRelayedAddresses(std::span<Address> out) const {
    return xorAddresses(attr::XorRelayedAddress, out);
  }
  /// Decodes the first address attribute of `type` in plain (MAPPED-ADDRESS) form.
  std::optional<Address> plainAddress(uint16_t type) const;
  /// Decodes the first address attribute of `type` in XOR (XOR-MAPPED-ADDRESS) form.
  std::optional<Address> xorAddress(uint16_t type) const;

  // Credentials and text (lengths bounded as RFC 8489 §14 requires).
  std::optional<std::string_view> username() const;   ///< < 509 bytes
  std::optional<std::span<const uint8_t>> userhash() const;  ///< exactly 32 bytes
  std::optional<std::string_view> realm() const;      ///< <= 763 bytes
  std::optional<std::string_view> nonce() const;      ///< <= 763 bytes
  std::optional<std::string_view> software() const;   ///< <= 763 bytes
  std::optional<std::string_view> alternateDomain() const;
  /// MESSAGE-INTEGRITY value (20 bytes).
  std::optional<std::span<const uint8_t>> messageIntegrity() const;
  /// MESSAGE-INTEGRITY-SHA256 value (16..32 bytes, possibly truncated).
  std::optional<std::span<const uint8_t>> messageIntegritySha256() const;
  /// FINGERPRINT value as sent (already xor'ed with 0x5354554E).
  std::optional<uint32_t> fingerprint() const;
  /// ERROR-CODE; nullopt if the class is not 3..6 or the number above 99.
  std::optional<ErrorCodeValue> errorCode() const;
  /// Entries of PASSWORD-ALGORITHMS; returns the total, nullopt when absent or malformed.
  std::optional<size_t> passwordAlgorithms(std::span<PasswordAlgorithmValue> out) const;
  std::optional<PasswordAlgorithmValue> passwordAlgorithm() const;
  /// Types listed in UNKNOWN-ATTRIBUTES; returns the total, nullopt when absent or malformed.
  std::optional<size_t> unknownAttributes(std::span<uint16_t> out) const;

  // ICE (RFC 8445 §16.1).
  std::optional<uint32_t> priority() const { return u32(attr::Priority); }
  bool useCandidate() const { return emptyFlag(attr::UseCandidate); }
  std::optional<uint64_t> iceControlled() const { return u64(attr::IceControlled); }
  std::optional<uint64_t> iceControlling() const { return u64(attr::IceControlling); }

  // TURN (RFC 8656, RFC 6156, RFC 6062).
  /// Channel number (any value; check isValidChannelNumber()).
  std::optional<uint16_t> channelNumber() const;
  std::optional<uint32_t> lifetime() const { return u32(attr::Lifetime); }
  std::optional<std::span<const uint8_t>> data() const;
  /// Raw family byte of REQUESTED-ADDRESS-FAMILY (so callers can answer 440 for others).
  std::optional<uint8_t> requestedAddressFamily() const { return familyByte(attr::RequestedAddressFamily); }
  std::optional<uint8_t> additionalAddressFamily() const { return familyByte(attr::AdditionalAddressFamily); }
  std::optional<ErrorCodeValue> addressErrorCode() const;
  /// EVEN-PORT's R bit (reserve the next port too).
  std::optional<bool> evenPort() const;
  /// REQUESTED-TRANSPORT protocol number (17 = UDP, 6 = TCP).
  std::optional<uint8_t> requestedTransport() const;
  bool dontFragment() const { return emptyFlag(attr::DontFragment); }
  std::optional<uint64_t> reservationToken() const { return u64(attr::ReservationToken); }
  std::optional<IcmpValue> icmp() const;
  std::optional<uint32_t> connectionId() const { return u32(attr::ConnectionId); }

  /// Generic fixed-size readers, exposed for attributes not listed above.
  std::optional<uint32_t> u32(uint16_t type) const;
  std::optional<uint64_t> u64(uint16_t type) const;
  /// True when present with an empty value.
  bool emptyFlag(uint16_t type) const;

 private:
  explicit StunMessage(std::span<const uint8_t> data) : data_(data) {}
  StunAttribute attributeAt(size_t pos) const;
  std::optional<size_t> xorAddresses(uint16_t type, std::span<Address> out) const;
  std::optional<std::string_view> text(uint16_t type, size_t maxBytes) const;
  std::optional<uint8_t> familyByte(uint16_t type) const;
  std::optional<Address> decodeAddress(std::span<const uint8_t> v, bool xored) const;

  std::span<const uint8_t> data_;
  size_t lookupEnd_ = 0;    // lookups stop here: first integrity/fingerprint attribute or end
  size_t miOffset_ = 0;     // header offset of MESSAGE-INTEGRITY, 0 if absent
  size_t mi256Offset_ = 0;  // header offset of MESSAGE-INTEGRITY-SHA256, 0 if absent
  size_t fpOffset_ = 0;     // header offset of FINGERPRINT, 0 if absent
  uint16_t type_ = 0;
  bool unknownRequired_ = false;
};

/// RFC 8656 §12: channel numbers usable for ChannelData are 0x4000-0x4FFF.
constexpr bool isValidChannelNumber(uint16_t channel) { return channel >= 0x4000 && channel <= 0x4FFF; }

}  // namespace meeting::proto::stun
