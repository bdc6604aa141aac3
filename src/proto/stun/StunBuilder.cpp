#include "proto/stun/StunBuilder.hpp"

#include "proto/stun/StunIntegrity.hpp"

namespace meeting::proto::stun {
namespace {
constexpr size_t padded(size_t n) { return (n + 3) & ~size_t{3}; }
constexpr size_t MaxBody = 0xFFFC;  // largest multiple of 4 the 16-bit length field can hold
}  // namespace

StunBuilder::StunBuilder(ByteWriter& writer, uint16_t type,
                         std::span<const uint8_t, TransactionIdSize> transactionId)
    : writer_(writer), start_(writer.size()) {
  // RFC 8489 §5: the two most significant bits of the type are zero.
  if ((type & 0xC000) != 0 || writer_.remaining() < HeaderSize) {
    ok_ = false;
    return;
  }
  ok_ = writer_.writeU16(type) && writer_.writeU16(0) && writer_.writeU32(MagicCookie) &&
        writer_.writeBytes(transactionId);
}

std::span<const uint8_t> StunBuilder::message() const {
  if (!ok_) return {};
  return std::span<const uint8_t>(writer_.data() + start_, writer_.size() - start_);
}

bool StunBuilder::orderAllows(uint16_t type) const {
  if (hasFingerprint_) return false;
  switch (type) {
    case attr::MessageIntegrity: return !hasIntegrity_ && !hasIntegritySha256_;
    case attr::MessageIntegritySha256: return !hasIntegritySha256_;
    case attr::Fingerprint: return true;
    default: return !hasIntegrity_ && !hasIntegritySha256_;
  }
}

bool StunBuilder::setLength(size_t bodySize) {
  return writer_.patchU16(start_ + 2, static_cast<uint16_t>(bodySize));
}

bool StunBuilder::beginAttribute(uint16_t type, size_t valueSize) {
  if (!ok_ || !orderAllows(type) || valueSize > 0xFFFF) return fail();
  const size_t body = writer_.size() - start_ - HeaderSize;
  const size_t total = AttributeHeaderSize + padded(valueSize);
  if (body + total > MaxBody || writer_.remaining() < total) return fail();
  return writer_.writeU16(type) && writer_.writeU16(static_cast<uint16_t>(valueSize));
}

bool StunBuilder::finishAttribute(size_t valueSize) {
  if (!writer_.writeZeros(padded(valueSize) - valueSize)) return fail();
  if (!setLength(writer_.size() - start_ - HeaderSize)) return fail();
  return true;
}

bool StunBuilder::addAttribute(uint16_t type, std::span<const uint8_t> value) {
  if (!beginAttribute(type, value.size())) return false;
  if (!writer_.writeBytes(value)) return fail();
  return finishAttribute(value.size());
}

bool StunBuilder::addString(uint16_t type, std::string_view value) {
  return addAttribute(type, {reinterpret_cast<const uint8_t*>(value.data()), value.size()});
}

bool StunBuilder::addU32(uint16_t type, uint32_t value) {
  if (!beginAttribute(type, 4)) return false;
  if (!writer_.writeU32(value)) return fail();
  return finishAttribute(4);
}

bool StunBuilder::addU64(uint16_t type, uint64_t value) {
  if (!beginAttribute(type, 8)) return false;
  if (!writer_.writeU64(value)) return fail();
  return finishAttribute(8);
}

bool StunBuilder::addAddress(uint16_t type, const Address& a) {
  const size_t size = 4 + a.ipSize();
  if (!beginAttribute(type, size)) return false;
  if (!writer_.writeU8(0) || !writer_.writeU8(static_cast<uint8_t>(a.family)) ||
      !writer_.writeU16(a.port) || !writer_.writeBytes(std::span(a.ip).first(a.ipSize())))
    return fail();
  return finishAttribute(size);
}

bool StunBuilder::addXorAddress(uint16_t type, const Address& a) {
  const size_t size = 4 + a.ipSize();
  if (!beginAttribute(type, size)) return false;
  // RFC 8489 §14.2: the port is xor'ed with the cookie's top half, the address with the
  // cookie (IPv4) or cookie || transaction id (IPv6): exactly header bytes 4..19.
  const uint8_t* key = writer_.data() + start_ + 4;
  if (!writer_.writeU8(0) || !writer_.writeU8(static_cast<uint8_t>(a.family)) ||
      !writer_.writeU16(static_cast<uint16_t>(a.port ^ (MagicCookie >> 16))))
    return fail();
  for (size_t i = 0; i < a.ipSize(); ++i)
    if (!writer_.writeU8(static_cast<uint8_t>(a.ip[i] ^ key[i]))) return fail();
  return finishAttribute(size);
}

bool StunBuilder::writeErrorCode(uint16_t type, uint8_t family, uint16_t code,
                                 std::string_view reason) {
  // RFC 8489 §14.8: class 3..6, number 0..99; reason phrase fewer than 128 characters.
  if (code < 300 || code > 699 || reason.size() > 763) return fail();
  const size_t size = 4 + reason.size();
  if (!beginAttribute(type, size)) return false;
  if (!writer_.writeU8(family) || !writer_.writeU8(0) ||
      !writer_.writeU8(static_cast<uint8_t>(code / 100)) ||
      !writer_.writeU8(static_cast<uint8_t>(code % 100)) ||
      !writer_.writeBytes({reinterpret_cast<const uint8_t*>(reason.data()), reason.size()}))
    return fail();
  return finishAttribute(size);
}

bool StunBuilder::addErrorCode(uint16_t code, std::string_view reason) {
  return writeErrorCode(attr::ErrorCode, 0, code, reason);
}

// RFC 8656 §18.12: the same layout with the address family in the first byte.
bool StunBuilder::addAddressErrorCode(uint8_t family, uint16_t code, std::string_view reason) {
  return writeErrorCode(attr::AddressErrorCode, family, code, reason);
}

bool StunBuilder::addUnknownAttributes(std::span<const uint16_t> types) {
  const size_t size = types.size() * 2;
  if (!beginAttribute(attr::UnknownAttributes, size)) return false;
  for (uint16_t t : types)
    if (!writer_.writeU16(t)) return fail();
  return finishAttribute(size);
}

bool StunBuilder::addPasswordAlgorithms(std::span<const PasswordAlgorithmValue> algorithms) {
  size_t size = 0;
  for (const auto& a : algorithms) {
    if (a.parameters.size() > 0xFFFF) return fail();
    size += 4 + padded(a.parameters.size());
  }
  if (!beginAttribute(attr::PasswordAlgorithms, size)) return false;
  for (const auto& a : algorithms) {
    const size_t n = a.parameters.size();
    if (!writer_.writeU16(a.algorithm) || !writer_.writeU16(static_cast<uint16_t>(n)) ||
        !writer_.writeBytes(a.parameters) || !writer_.writeZeros(padded(n) - n))
      return fail();
  }
  return finishAttribute(size);
}

bool StunBuilder::addPasswordAlgorithm(const PasswordAlgorithmValue& a) {
  // The parameters end the value, so the attribute's own padding aligns them.
  const size_t n = a.parameters.size();
  if (n > 0xFFF0) return fail();
  if (!beginAttribute(attr::PasswordAlgorithm, 4 + n)) return false;
  if (!writer_.writeU16(a.algorithm) || !writer_.writeU16(static_cast<uint16_t>(n)) ||
      !writer_.writeBytes(a.parameters))
    return fail();
  return finishAttribute(4 + n);
}

bool StunBuilder::addEvenPort(bool reserveNext) {
  const uint8_t v = reserveNext ? 0x80 : 0x00;
  return addAttribute(attr::EvenPort, std::span(&v, 1));
}

bool StunBuilder::addIcmp(uint8_t type, uint8_t code, uint32_t errorData) {
  if (!beginAttribute(attr::Icmp, 8)) return false;
  if (!writer_.writeU16(0) || !writer_.writeU8(type) || !writer_.writeU8(code) ||
      !writer_.writeU32(errorData))
    return fail();
  return finishAttribute(8);
}

bool StunBuilder::addMessageIntegrity(std::span<const uint8_t> key) {
  if (!beginAttribute(attr::MessageIntegrity, 20)) return false;
  // The length field must already count this attribute (RFC 8489 §14.5); the HMAC covers
  // everything before the attribute header just written.
  const size_t covered = writer_.size() - start_ - AttributeHeaderSize;
  if (!setLength(covered - HeaderSize + AttributeHeaderSize + 20)) return fail();
  const std::span<const uint8_t> parts[] = {{writer_.data() + start_, covered}};
  std::array<uint8_t, 20> mac{};
  if (!hmacSha1(key, parts, mac) || !writer_.writeBytes(mac)) return fail();
  hasIntegrity_ = true;
  return finishAttribute(20);
}

bool StunBuilder::addMessageIntegritySha256(std::span<const uint8_t> key, size_t size) {
  if (size < 16 || size > 32 || size % 4 != 0) return fail();
  if (!beginAttribute(attr::MessageIntegritySha256, size)) return false;
  const size_t covered = writer_.size() - start_ - AttributeHeaderSize;
  if (!setLength(covered - HeaderSize + AttributeHeaderSize + size)) return fail();
  const std::span<const uint8_t> parts[] = {{writer_.data() + start_, covered}};
  std::array<uint8_t, 32> mac{};
  if (!hmacSha256(key, parts, mac) || !writer_.writeBytes(std::span(mac).first(size))) return fail();
  hasIntegritySha256_ = true;
  return finishAttribute(size);
}

bool StunBuilder::addFingerprint() {
  if (!beginAttribute(attr::Fingerprint, 4)) return false;
  const size_t covered = writer_.size() - start_ - AttributeHeaderSize;
  if (!setLength(covered - HeaderSize + AttributeHeaderSize + 4)) return fail();
  const uint32_t fp = fingerprintOf({writer_.data() + start_, covered});
  if (!writer_.writeU32(fp)) return fail();
  hasFingerprint_ = true;
  return finishAttribute(4);
}

}  // namespace meeting::proto::stun
