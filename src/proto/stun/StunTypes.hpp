#pragma once
// STUN wire constants shared by the parser and the builder: message type encoding, attribute
// type codes (RFC 8489, RFC 8445, RFC 8656, RFC 6156, RFC 6062) and the transport address value.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

struct sockaddr;
struct sockaddr_storage;

namespace meeting::proto::stun {

/// RFC 8489 §5: fixed value in bytes 4..7 of every STUN message.
constexpr uint32_t MagicCookie = 0x2112A442;
/// Size of the STUN header (type, length, cookie, transaction id).
constexpr size_t HeaderSize = 20;
/// Size of the transaction id (RFC 8489 §5: 96 bits).
constexpr size_t TransactionIdSize = 12;
/// Size of an attribute header (type + length).
constexpr size_t AttributeHeaderSize = 4;
/// XOR constant of the FINGERPRINT attribute (RFC 8489 §14.7: "STUN" in ASCII).
constexpr uint32_t FingerprintXor = 0x5354554E;

using TransactionId = std::array<uint8_t, TransactionIdSize>;

/// STUN methods (RFC 8489 §18.2, RFC 8656 §17, RFC 6062 §6.1). Unknown values may be held too.
enum class Method : uint16_t {
  Binding = 0x001,
  Allocate = 0x003,
  Refresh = 0x004,
  Send = 0x006,
  Data = 0x007,
  CreatePermission = 0x008,
  ChannelBind = 0x009,
  Connect = 0x00A,
  ConnectionBind = 0x00B,
  ConnectionAttempt = 0x00C,
};

/// The two class bits of the message type (RFC 8489 §5).
enum class MessageClass : uint8_t {
  Request = 0,
  Indication = 1,
  SuccessResponse = 2,
  ErrorResponse = 3,
};

/// Encodes method and class into the 14-bit message type (RFC 8489 §5, figure 3: the class bits
/// C0 and C1 sit at bits 4 and 8, the 12 method bits fill the rest).
constexpr uint16_t messageType(Method method, MessageClass cls) {
  const auto m = static_cast<uint16_t>(method);
  const auto c = static_cast<uint16_t>(cls);
  return static_cast<uint16_t>((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) |
                               ((c & 0x1) << 4) | ((c & 0x2) << 7));
}
/// The method bits of a message type.
constexpr Method methodOf(uint16_t type) {
  return static_cast<Method>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
}
/// The class bits of a message type.
constexpr MessageClass classOf(uint16_t type) {
  return static_cast<MessageClass>(((type >> 4) & 0x1) | ((type >> 7) & 0x2));
}

/// Attribute type codes. Values below 0x8000 are comprehension-required (RFC 8489 §14).
namespace attr {
constexpr uint16_t MappedAddress = 0x0001;           // RFC 8489 §14.1
constexpr uint16_t Username = 0x0006;                // RFC 8489 §14.3
constexpr uint16_t MessageIntegrity = 0x0008;        // RFC 8489 §14.5
constexpr uint16_t ErrorCode = 0x0009;               // RFC 8489 §14.8
constexpr uint16_t UnknownAttributes = 0x000A;       // RFC 8489 §14.13
constexpr uint16_t ChannelNumber = 0x000C;           // RFC 8656 §18.1
constexpr uint16_t Lifetime = 0x000D;                // RFC 8656 §18.2
constexpr uint16_t XorPeerAddress = 0x0012;          // RFC 8656 §18.3
constexpr uint16_t Data = 0x0013;                    // RFC 8656 §18.4
constexpr uint16_t Realm = 0x0014;                   // RFC 8489 §14.9
constexpr uint16_t Nonce = 0x0015;                   // RFC 8489 §14.10
constexpr uint16_t XorRelayedAddress = 0x0016;       // RFC 8656 §18.5
constexpr uint16_t RequestedAddressFamily = 0x0017;  // RFC 8656 §18.6 (RFC 6156)
constexpr uint16_t EvenPort = 0x0018;                // RFC 8656 §18.7
constexpr uint16_t RequestedTransport = 0x0019;      // RFC 8656 §18.8
constexpr uint16_t DontFragment = 0x001A;            // RFC 8656 §18.9
constexpr uint16_t MessageIntegritySha256 = 0x001C;  // RFC 8489 §14.6
constexpr uint16_t PasswordAlgorithm = 0x001D;       // RFC 8489 §14.12
constexpr uint16_t Userhash = 0x001E;                // RFC 8489 §14.4
constexpr uint16_t XorMappedAddress = 0x0020;        // RFC 8489 §14.2
constexpr uint16_t ReservationToken = 0x0022;        // RFC 8656 §18.10
constexpr uint16_t Priority = 0x0024;                // RFC 8445 §16.1
constexpr uint16_t UseCandidate = 0x0025;            // RFC 8445 §16.1
constexpr uint16_t ConnectionId = 0x002A;            // RFC 6062 §6.2.1
constexpr uint16_t AdditionalAddressFamily = 0x8000; // RFC 8656 §18.11
constexpr uint16_t AddressErrorCode = 0x8001;        // RFC 8656 §18.12
constexpr uint16_t PasswordAlgorithms = 0x8002;      // RFC 8489 §14.11
constexpr uint16_t AlternateDomain = 0x8003;         // RFC 8489 §14.16
constexpr uint16_t Icmp = 0x8004;                    // RFC 8656 §18.13
constexpr uint16_t Software = 0x8022;                // RFC 8489 §14.14
constexpr uint16_t AlternateServer = 0x8023;         // RFC 8489 §14.15
constexpr uint16_t Fingerprint = 0x8028;             // RFC 8489 §14.7
constexpr uint16_t IceControlled = 0x8029;           // RFC 8445 §16.1
constexpr uint16_t IceControlling = 0x802A;          // RFC 8445 §16.1
}  // namespace attr

/// True for types in the comprehension-required range (RFC 8489 §14: 0x0000-0x7FFF).
constexpr bool isComprehensionRequired(uint16_t type) { return type < 0x8000; }

/// True when this codec understands a comprehension-required attribute. Anything else in the
/// required range must be answered with 420 (Unknown Attribute), RFC 8489 §6.3.1.1.
constexpr bool isKnownRequiredAttribute(uint16_t type) {
  switch (type) {
    case attr::MappedAddress: case attr::Username: case attr::MessageIntegrity:
    case attr::ErrorCode: case attr::UnknownAttributes: case attr::ChannelNumber:
    case attr::Lifetime: case attr::XorPeerAddress: case attr::Data: case attr::Realm:
    case attr::Nonce: case attr::XorRelayedAddress: case attr::RequestedAddressFamily:
    case attr::EvenPort: case attr::RequestedTransport: case attr::DontFragment:
    case attr::MessageIntegritySha256: case attr::PasswordAlgorithm: case attr::Userhash:
    case attr::XorMappedAddress: case attr::ReservationToken: case attr::Priority:
    case attr::UseCandidate: case attr::ConnectionId:
      return true;
    default:
      return false;
  }
}

/// PASSWORD-ALGORITHM values (RFC 8489 §18.5).
enum class PasswordAlgorithmId : uint16_t { Md5 = 0x0001, Sha256 = 0x0002 };

/// Address family byte of address attributes (RFC 8489 §14.1) and of
/// REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.6).
enum class AddressFamily : uint8_t { IPv4 = 0x01, IPv6 = 0x02 };

/// REQUESTED-TRANSPORT protocol numbers (IANA protocol numbers, RFC 8656 §18.8, RFC 6062).
constexpr uint8_t TransportUdp = 17;
constexpr uint8_t TransportTcp = 6;

/// A transport address as carried by STUN address attributes: family, port, and the IP in
/// network byte order (IPv4 uses the first 4 bytes of `ip`).
struct Address {
  AddressFamily family = AddressFamily::IPv4;
  uint16_t port = 0;
  std::array<uint8_t, 16> ip{};

  /// IPv4 address from 4 bytes in network order.
  static constexpr Address v4(std::array<uint8_t, 4> bytes, uint16_t port) {
    Address a;
    a.family = AddressFamily::IPv4;
    a.port = port;
    for (size_t i = 0; i < 4; ++i) a.ip[i] = bytes[i];
    return a;
  }
  /// IPv6 address from 16 bytes in network order.
  static constexpr Address v6(std::array<uint8_t, 16> bytes, uint16_t port) {
    Address a;
    a.family = AddressFamily::IPv6;
    a.port = port;
    a.ip = bytes;
    return a;
  }
  /// Number of meaningful bytes in `ip` (4 or 16).
  constexpr size_t ipSize() const { return family == AddressFamily::IPv6 ? 16 : 4; }
  /// Equality over the meaningful bytes only.
  constexpr bool operator==(const Address& o) const {
    if (family != o.family || port != o.port) return false;
    for (size_t i = 0; i < ipSize(); ++i)
      if (ip[i] != o.ip[i]) return false;
    return true;
  }
};

/// Converts a sockaddr_in / sockaddr_in6 into an Address; nullopt for other families.
std::optional<Address> addressFromSockaddr(const sockaddr* sa);
/// Writes an Address into `out` as sockaddr_in or sockaddr_in6; returns the length to pass as
/// socklen_t.
size_t addressToSockaddr(const Address& a, sockaddr_storage& out);

}  // namespace meeting::proto::stun
