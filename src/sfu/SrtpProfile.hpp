#pragma once
// The DTLS-SRTP protection profiles the SFU negotiates (RFC 5764 §4.1.2, RFC 7714 §14.2) and the
// key sizes each needs; shared by DtlsSession (which negotiates) and SrtpSession (which uses).
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace meeting::sfu {

enum class SrtpProfile : uint8_t {
  None,
  AeadAes128Gcm,         ///< SRTP_AEAD_AES_128_GCM (0x0007), RFC 7714: preferred, ~5x cheaper here
  AesCm128HmacSha1_80,   ///< SRTP_AES128_CM_HMAC_SHA1_80 (0x0001), RFC 5764
};

/// Master key length in bytes (both profiles use AES-128).
constexpr size_t srtpMasterKeyLength(SrtpProfile) { return 16; }

/// Master salt length in bytes: 12 for AEAD (RFC 7714 §12), 14 for AES-CM (RFC 3711 §8.2).
constexpr size_t srtpMasterSaltLength(SrtpProfile p) {
  return p == SrtpProfile::AeadAes128Gcm ? 12 : p == SrtpProfile::AesCm128HmacSha1_80 ? 14 : 0;
}

/// Key plus salt, the layout libsrtp2 expects for one direction.
constexpr size_t srtpKeyingLength(SrtpProfile p) {
  return p == SrtpProfile::None ? 0 : srtpMasterKeyLength(p) + srtpMasterSaltLength(p);
}

/// Bytes srtp protect adds to an RTP packet: the GCM tag (16) or the truncated HMAC (10).
constexpr size_t srtpRtpOverhead(SrtpProfile p) {
  return p == SrtpProfile::AeadAes128Gcm ? 16 : 10;
}

/// Bytes added to an RTCP packet: the tag plus the 4-byte E flag and SRTCP index (RFC 3711 §3.4).
constexpr size_t srtpRtcpOverhead(SrtpProfile p) { return srtpRtpOverhead(p) + 4; }

/// The OpenSSL profile name, as given to SSL_set_tlsext_use_srtp().
constexpr std::string_view srtpProfileOpenSslName(SrtpProfile p) {
  switch (p) {
    case SrtpProfile::AeadAes128Gcm: return "SRTP_AEAD_AES_128_GCM";
    case SrtpProfile::AesCm128HmacSha1_80: return "SRTP_AES128_CM_SHA1_80";
    case SrtpProfile::None: break;
  }
  return {};
}

}  // namespace meeting::sfu
