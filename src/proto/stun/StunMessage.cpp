#include "proto/stun/StunMessage.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "common/ByteReader.hpp"

namespace meeting::proto::stun {
namespace {

constexpr size_t padded(size_t n) { return (n + 3) & ~size_t{3}; }

uint16_t loadU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t loadU32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// RFC 8489 §14: sizes the integrity attributes must have.
bool integritySizeOk(uint16_t type, size_t len) {
  if (type == attr::MessageIntegrity) return len == 20;
  if (type == attr::MessageIntegritySha256) return len >= 16 && len <= 32 && len % 4 == 0;
  if (type == attr::Fingerprint) return len == 4;
  return true;
}

// Per-attribute ordering rules while walking (RFC 8489 §14.5-§14.7).
struct WalkState {
  size_t mi = 0, mi256 = 0, fp = 0, lookupEnd = 0;
  bool unknownRequired = false;

  bool accept(uint16_t type, size_t pos) {
    if (fp != 0) return false;  // FINGERPRINT must be the last attribute
    const bool afterIntegrity = mi != 0 || mi256 != 0;
    switch (type) {
      case attr::MessageIntegrity:
        if (mi != 0 || mi256 != 0) return false;  // duplicate, or after the SHA-256 one
        mi = pos;
        break;
      case attr::MessageIntegritySha256:
        if (mi256 != 0) return false;
        mi256 = pos;
        break;
      case attr::Fingerprint:
        fp = pos;
        break;
      default:
        // Attributes after MESSAGE-INTEGRITY(-SHA256) are ignored, so they cannot trigger 420.
        if (!afterIntegrity && isComprehensionRequired(type) && !isKnownRequiredAttribute(type))
          unknownRequired = true;
        return true;
    }
    if (lookupEnd == 0) lookupEnd = pos;
    return true;
  }
};

}  // namespace

std::optional<StunMessage> StunMessage::parse(std::span<const uint8_t> data) {
  if (data.size() < HeaderSize) return std::nullopt;
  const uint8_t* p = data.data();
  if ((p[0] & 0xC0) != 0) return std::nullopt;  // RFC 8489 §5: two leading zero bits
  const size_t length = loadU16(p + 2);
  if (length % 4 != 0 || HeaderSize + length != data.size()) return std::nullopt;
  if (loadU32(p + 4) != MagicCookie) return std::nullopt;

  WalkState walk;
  size_t count = 0;
  for (size_t pos = HeaderSize; pos < data.size();) {
    if (data.size() - pos < AttributeHeaderSize) return std::nullopt;
    if (++count > MaxAttributes) return std::nullopt;
    const uint16_t type = loadU16(p + pos);
    const size_t len = loadU16(p + pos + 2);
    if (padded(len) > data.size() - pos - AttributeHeaderSize) return std::nullopt;
    if (!integritySizeOk(type, len) || !walk.accept(type, pos)) return std::nullopt;
    pos += AttributeHeaderSize + padded(len);
  }

  StunMessage msg(data);
  msg.type_ = loadU16(p);
  msg.miOffset_ = walk.mi;
  msg.mi256Offset_ = walk.mi256;
  msg.fpOffset_ = walk.fp;
  msg.lookupEnd_ = walk.lookupEnd != 0 ? walk.lookupEnd : data.size();
  msg.unknownRequired_ = walk.unknownRequired;
  return msg;
}

StunAttribute StunMessage::attributeAt(size_t pos) const {
  // Only called on offsets validated by parse().
  const uint8_t* p = data_.data() + pos;
  return StunAttribute{loadU16(p), data_.subspan(pos + AttributeHeaderSize, loadU16(p + 2))};
}

std::optional<StunAttribute> StunMessage::find(uint16_t type) const {
  if (type == attr::MessageIntegrity)
    return miOffset_ != 0 ? std::optional(attributeAt(miOffset_)) : std::nullopt;
  if (type == attr::MessageIntegritySha256)
    return mi256Offset_ != 0 ? std::optional(attributeAt(mi256Offset_)) : std::nullopt;
  if (type == attr::Fingerprint)
    return fpOffset_ != 0 ? std::optional(attributeAt(fpOffset_)) : std::nullopt;
  for (size_t pos = HeaderSize; pos < lookupEnd_;) {
    const StunAttribute a = attributeAt(pos);
    if (a.type == type) return a;
    pos += AttributeHeaderSize + padded(a.value.size());
  }
  return std::nullopt;
}

size_t StunMessage::findAll(uint16_t type, std::span<StunAttribute> out) const {
  size_t n = 0;
  for (size_t pos = HeaderSize; pos < lookupEnd_;) {
    const StunAttribute a = attributeAt(pos);
    if (a.type == type) {
      if (n < out.size()) out[n] = a;
      ++n;
    }
    pos += AttributeHeaderSize + padded(a.value.size());
  }
  return n;
}

size_t StunMessage::unknownRequiredAttributes(std::span<uint16_t> out) const {
  size_t n = 0;
  for (size_t pos = HeaderSize; pos < lookupEnd_;) {
    const StunAttribute a = attributeAt(pos);
    if (isComprehensionRequired(a.type) && !isKnownRequiredAttribute(a.type)) {
      if (n < out.size()) out[n] = a.type;
      ++n;
    }
    pos += AttributeHeaderSize + padded(a.value.size());
  }
  return n;
}

// RFC 8489 §14.1 / §14.2: reserved byte, family, port, address (4 or 16 bytes).
std::optional<Address> StunMessage::decodeAddress(std::span<const uint8_t> v, bool xored) const {
  if (v.size() < 4) return std::nullopt;
  Address a;
  if (v[1] == static_cast<uint8_t>(AddressFamily::IPv4) && v.size() == 8) {
    a.family = AddressFamily::IPv4;
  } else if (v[1] == static_cast<uint8_t>(AddressFamily::IPv6) && v.size() == 20) {
    a.family = AddressFamily::IPv6;
  } else {
    return std::nullopt;
  }
  a.port = loadU16(v.data() + 2);
  std::memcpy(a.ip.data(), v.data() + 4, a.ipSize());
  if (xored) {
    // X-Port: port xor the cookie's top 16 bits; X-Address: xor cookie || transaction id.
    a.port ^= static_cast<uint16_t>(MagicCookie >> 16);
    for (size_t i = 0; i < a.ipSize(); ++i) a.ip[i] ^= data_[4 + i];
  }
  return a;
}

std::optional<Address> StunMessage::plainAddress(uint16_t type) const {
  auto a = find(type);
  return a ? decodeAddress(a->value, false) : std::nullopt;
}

std::optional<Address> StunMessage::xorAddress(uint16_t type) const {
  auto a = find(type);
  return a ? decodeAddress(a->value, true) : std::nullopt;
}

std::optional<size_t> StunMessage::xorAddresses(uint16_t type, std::span<Address> out) const {
  size_t n = 0;
  for (size_t pos = HeaderSize; pos < lookupEnd_;) {
    const StunAttribute a = attributeAt(pos);
    pos += AttributeHeaderSize + padded(a.value.size());
    if (a.type != type) continue;
    auto addr = decodeAddress(a.value, true);
    if (!addr) return std::nullopt;
    if (n < out.size()) out[n] = *addr;
    ++n;
  }
  return n;
}

std::optional<std::string_view> StunMessage::text(uint16_t type, size_t maxBytes) const {
  auto a = find(type);
  if (!a || a->value.size() > maxBytes) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(a->value.data()), a->value.size());
}

// RFC 8489 §14.3: fewer than 509 bytes; §14.9/§14.10/§14.14/§14.16: at most 763 bytes.
std::optional<std::string_view> StunMessage::username() const { return text(attr::Username, 508); }
std::optional<std::string_view> StunMessage::realm() const { return text(attr::Realm, 763); }
std::optional<std::string_view> StunMessage::nonce() const { return text(attr::Nonce, 763); }
std::optional<std::string_view> StunMessage::software() const { return text(attr::Software, 763); }
std::optional<std::string_view> StunMessage::alternateDomain() const {
  return text(attr::AlternateDomain, 254);  // §14.16: fewer than 255 bytes
}

std::optional<std::span<const uint8_t>> StunMessage::userhash() const {
  auto a = find(attr::Userhash);
  if (!a || a->value.size() != 32) return std::nullopt;
  return a->value;
}

std::optional<std::span<const uint8_t>> StunMessage::messageIntegrity() const {
  auto a = find(attr::MessageIntegrity);
  return a ? std::optional(a->value) : std::nullopt;
}

std::optional<std::span<const uint8_t>> StunMessage::messageIntegritySha256() const {
  auto a = find(attr::MessageIntegritySha256);
  return a ? std::optional(a->value) : std::nullopt;
}

std::optional<uint32_t> StunMessage::fingerprint() const {
  auto a = find(attr::Fingerprint);
  return a ? std::optional(loadU32(a->value.data())) : std::nullopt;
}

namespace {
// RFC 8489 §14.8: 21 reserved bits, class (3 bits, 3..6), number (0..99), reason phrase.
std::optional<ErrorCodeValue> decodeErrorCode(std::span<const uint8_t> v) {
  if (v.size() < 4 || v.size() > 4 + 763) return std::nullopt;
  const unsigned cls = v[2] & 0x07;
  const unsigned number = v[3];
  if (cls < 3 || cls > 6 || number > 99) return std::nullopt;
  ErrorCodeValue e;
  e.code = static_cast<uint16_t>(cls * 100 + number);
  e.reason = std::string_view(reinterpret_cast<const char*>(v.data() + 4), v.size() - 4);
  return e;
}

// RFC 8489 §14.11: algorithm (16 bits), parameters length (16 bits), parameters (padded).
bool readAlgorithm(ByteReader& r, PasswordAlgorithmValue& out) {
  uint16_t algorithm = 0, length = 0;
  std::span<const uint8_t> params;
  if (!r.readU16(algorithm) || !r.readU16(length) || !r.readBytes(length, params)) return false;
  // The last entry's padding may be left to the attribute's own padding.
  const size_t pad = padded(length) - length;
  if (!r.skip(pad < r.remaining() ? pad : r.remaining())) return false;
  out = PasswordAlgorithmValue{algorithm, params};
  return true;
}
}  // namespace

std::optional<ErrorCodeValue> StunMessage::errorCode() const {
  auto a = find(attr::ErrorCode);
  return a ? decodeErrorCode(a->value) : std::nullopt;
}

// RFC 8656 §18.12: family (8 bits), reserved, class, number, reason; same shape as ERROR-CODE.
std::optional<ErrorCodeValue> StunMessage::addressErrorCode() const {
  auto a = find(attr::AddressErrorCode);
  if (!a) return std::nullopt;
  auto e = decodeErrorCode(a->value);
  if (e) e->family = a->value[0];
  return e;
}

std::optional<size_t> StunMessage::passwordAlgorithms(std::span<PasswordAlgorithmValue> out) const {
  auto a = find(attr::PasswordAlgorithms);
  if (!a) return std::nullopt;
  ByteReader r(a->value);
  size_t n = 0;
  while (!r.empty()) {
    PasswordAlgorithmValue v;
    if (!readAlgorithm(r, v)) return std::nullopt;
    if (n < out.size()) out[n] = v;
    ++n;
  }
  return n;
}

std::optional<PasswordAlgorithmValue> StunMessage::passwordAlgorithm() const {
  auto a = find(attr::PasswordAlgorithm);
  if (!a) return std::nullopt;
  ByteReader r(a->value);
  PasswordAlgorithmValue v;
  if (!readAlgorithm(r, v) || !r.empty()) return std::nullopt;
  return v;
}

// RFC 8489 §14.13: a list of 16-bit types.
std::optional<size_t> StunMessage::unknownAttributes(std::span<uint16_t> out) const {
  auto a = find(attr::UnknownAttributes);
  if (!a || a->value.size() % 2 != 0) return std::nullopt;
  const size_t n = a->value.size() / 2;
  for (size_t i = 0; i < n && i < out.size(); ++i) out[i] = loadU16(a->value.data() + 2 * i);
  return n;
}

std::optional<uint32_t> StunMessage::u32(uint16_t type) const {
  auto a = find(type);
  if (!a || a->value.size() != 4) return std::nullopt;
  return loadU32(a->value.data());
}

std::optional<uint64_t> StunMessage::u64(uint16_t type) const {
  auto a = find(type);
  if (!a || a->value.size() != 8) return std::nullopt;
  return uint64_t{loadU32(a->value.data())} << 32 | loadU32(a->value.data() + 4);
}

bool StunMessage::emptyFlag(uint16_t type) const {
  auto a = find(type);
  return a && a->value.empty();
}

// RFC 8656 §18.1: channel number (16 bits) + RFFU (16 bits).
std::optional<uint16_t> StunMessage::channelNumber() const {
  auto a = find(attr::ChannelNumber);
  if (!a || a->value.size() != 4) return std::nullopt;
  return loadU16(a->value.data());
}

std::optional<std::span<const uint8_t>> StunMessage::data() const {
  auto a = find(attr::Data);
  return a ? std::optional(a->value) : std::nullopt;
}

// RFC 8656 §18.6 / §18.11: family (8 bits) + 24 reserved bits.
std::optional<uint8_t> StunMessage::familyByte(uint16_t type) const {
  auto a = find(type);
  if (!a || a->value.size() != 4) return std::nullopt;
  return a->value[0];
}

// RFC 8656 §18.7: one byte, R bit first.
std::optional<bool> StunMessage::evenPort() const {
  auto a = find(attr::EvenPort);
  if (!a || a->value.size() != 1) return std::nullopt;
  return (a->value[0] & 0x80) != 0;
}

// RFC 8656 §18.8: protocol (8 bits) + 24 RFFU bits.
std::optional<uint8_t> StunMessage::requestedTransport() const {
  auto a = find(attr::RequestedTransport);
  if (!a || a->value.size() != 4) return std::nullopt;
  return a->value[0];
}

// RFC 8656 §18.13: reserved (16 bits), type (8), code (8), error data (32).
std::optional<IcmpValue> StunMessage::icmp() const {
  auto a = find(attr::Icmp);
  if (!a || a->value.size() != 8) return std::nullopt;
  return IcmpValue{a->value[2], a->value[3], loadU32(a->value.data() + 4)};
}

std::optional<Address> addressFromSockaddr(const sockaddr* sa) {
  if (sa == nullptr) return std::nullopt;
  if (sa->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, sa, sizeof(in));
    std::array<uint8_t, 4> ip{};
    std::memcpy(ip.data(), &in.sin_addr, 4);
    return Address::v4(ip, ntohs(in.sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, sa, sizeof(in6));
    std::array<uint8_t, 16> ip{};
    std::memcpy(ip.data(), &in6.sin6_addr, 16);
    return Address::v6(ip, ntohs(in6.sin6_port));
  }
  return std::nullopt;
}

size_t addressToSockaddr(const Address& a, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof(out));
  if (a.family == AddressFamily::IPv4) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(a.port);
    std::memcpy(&in.sin_addr, a.ip.data(), 4);
    std::memcpy(&out, &in, sizeof(in));
    return sizeof(in);
  }
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(a.port);
  std::memcpy(&in6.sin6_addr, a.ip.data(), 16);
  std::memcpy(&out, &in6, sizeof(in6));
  return sizeof(in6);
}

}  // namespace meeting::proto::stun
