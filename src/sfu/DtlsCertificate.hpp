#pragma once
// The worker's DTLS identity: an ECDSA P-256 key and a self-signed X.509 certificate, plus the
// SSL_CTX every DtlsSession of the worker is created from. WebRTC peers authenticate each other
// by the certificate fingerprint carried in SDP (RFC 8122 §5), not by a CA chain.
#include <openssl/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/Result.hpp"

namespace meeting::sfu {

/// A parsed SDP `a=fingerprint` value: hash name in lower case and the raw digest bytes.
struct DtlsFingerprint {
  std::string algorithm;        ///< "sha-256", "sha-1", "sha-384" or "sha-512"
  std::vector<uint8_t> digest;  ///< raw bytes of the hash

  /// Parses "sha-256 AB:CD:..." (RFC 8122 §5); fails on unknown hashes or malformed hex.
  static Result<DtlsFingerprint> parse(std::string_view sdpValue);
  /// "sha-256 AB:CD:..." with upper-case hex, as SDP carries it.
  std::string toSdp() const;
};

/// Checks a peer certificate during the handshake; DtlsSession implements it and registers
/// itself as the SSL object's app data, so the shared context can reach the right session.
class DtlsPeerVerifier {
 public:
  virtual ~DtlsPeerVerifier() = default;
  /// True when `peerCertificate` is acceptable (its fingerprint matches the remote SDP).
  virtual bool verifyPeerCertificate(X509* peerCertificate) = 0;
};

/// Owns one key pair, one certificate and a configured SSL_CTX. Not thread-safe: one per worker,
/// used only on that worker's loop (SSL objects created from it reference-count the context).
class DtlsCertificate {
 public:
  /// Generates a fresh P-256 key and a self-signed certificate valid for `validDays`.
  static Result<std::unique_ptr<DtlsCertificate>> generate(int validDays = 30);
  ~DtlsCertificate();
  DtlsCertificate(const DtlsCertificate&) = delete;
  DtlsCertificate& operator=(const DtlsCertificate&) = delete;

  /// SHA-256 fingerprint in SDP form: "sha-256 AB:CD:...".
  const std::string& fingerprintSdp() const { return fingerprint_; }
  /// The SSL_CTX (DTLS 1.2, this certificate, peer certificate required) for DtlsSession.
  SSL_CTX* sslContext() const { return ctx_; }
  X509* x509() const { return cert_; }

  /// Digest of `cert` with the SDP-named hash; empty when the name is unknown.
  static std::vector<uint8_t> digest(X509* cert, std::string_view algorithm);

 private:
  DtlsCertificate() = default;
  Result<void> createContext();

  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  SSL_CTX* ctx_ = nullptr;
  std::string fingerprint_;
};

}  // namespace meeting::sfu
