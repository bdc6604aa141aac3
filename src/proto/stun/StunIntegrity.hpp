#pragma once
// STUN message integrity and fingerprint (RFC 8489 §9, §14.5-§14.7). HMAC, MD5 and SHA come
// from OpenSSL; FINGERPRINT uses a table-driven CRC-32 (ISO-HDLC, as RFC 1952).
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "proto/stun/StunMessage.hpp"

namespace meeting::proto::stun {

/// Long-term key with MD5 (RFC 8489 §9.2.2).
using Md5Key = std::array<uint8_t, 16>;
/// Long-term key with SHA-256 (RFC 8489 §9.2.2).
using Sha256Key = std::array<uint8_t, 32>;

/// Short-term credential key (RFC 8489 §9.1.1): the password bytes as they are (after
/// OpaqueString preparation, which is the caller's job). A view, no copy.
inline std::span<const uint8_t> shortTermKey(std::string_view password) {
  return {reinterpret_cast<const uint8_t*>(password.data()), password.size()};
}

/// Long-term key = MD5(username ":" realm ":" password) (RFC 8489 §9.2.2). Inputs must already
/// be prepared (SASLprep/OpaqueString); this codec does not normalise Unicode.
Md5Key longTermKeyMd5(std::string_view username, std::string_view realm, std::string_view password);
/// Long-term key = SHA-256(username ":" realm ":" password) (RFC 8489 §9.2.2).
Sha256Key longTermKeySha256(std::string_view username, std::string_view realm,
                            std::string_view password);
/// USERHASH = SHA-256(username ":" realm) (RFC 8489 §14.4).
Sha256Key userhash(std::string_view username, std::string_view realm);

/// CRC-32 (the one of RFC 1952, ISO-HDLC) of `data`, continuing from `crc` (0 to start).
uint32_t crc32(std::span<const uint8_t> data, uint32_t crc = 0);
/// FINGERPRINT value of the bytes it covers: CRC-32 xor 0x5354554E (RFC 8489 §14.7).
inline uint32_t fingerprintOf(std::span<const uint8_t> covered) { return crc32(covered) ^ FingerprintXor; }

/// HMAC-SHA1 over the concatenation of `parts`. Returns false if OpenSSL fails.
bool hmacSha1(std::span<const uint8_t> key, std::span<const std::span<const uint8_t>> parts,
              std::span<uint8_t, 20> out);
/// HMAC-SHA256 over the concatenation of `parts`. Returns false if OpenSSL fails.
bool hmacSha256(std::span<const uint8_t> key, std::span<const std::span<const uint8_t>> parts,
                std::span<uint8_t, 32> out);

/// Verifies MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 over the message up to the attribute,
/// with the header length adjusted to end right after it. False if absent or wrong.
bool verifyMessageIntegrity(const StunMessage& msg, std::span<const uint8_t> key);
/// Verifies MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6), truncated values included.
bool verifyMessageIntegritySha256(const StunMessage& msg, std::span<const uint8_t> key);
/// Verifies FINGERPRINT (RFC 8489 §14.7). False if absent or wrong.
bool verifyFingerprint(const StunMessage& msg);

/// Fills a transaction id from OpenSSL's CSPRNG (RFC 8489 §5: uniformly random). False on error.
bool randomTransactionId(TransactionId& out);

}  // namespace meeting::proto::stun
