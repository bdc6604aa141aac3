#include "sfu/DtlsCertificate.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cctype>

namespace meeting::sfu {
namespace {

const EVP_MD* digestByName(std::string_view name) {
  // RFC 8122 §5 hash names; sha-256 is what browsers send, the others are accepted.
  if (name == "sha-256") return EVP_sha256();
  if (name == "sha-1") return EVP_sha1();
  if (name == "sha-384") return EVP_sha384();
  if (name == "sha-512") return EVP_sha512();
  return nullptr;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Replaces OpenSSL's chain verification: WebRTC certificates are self-signed and trusted only
// through the SDP fingerprint, which the session owning the SSL object checks.
int verifyByFingerprint(X509_STORE_CTX* store, void*);

}  // namespace

Result<DtlsFingerprint> DtlsFingerprint::parse(std::string_view value) {
  const size_t space = value.find(' ');
  if (space == std::string_view::npos) return makeError("invalid_fingerprint", "missing hash name");
  DtlsFingerprint fp;
  for (char c : value.substr(0, space)) fp.algorithm.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  const EVP_MD* md = digestByName(fp.algorithm);
  if (!md) return makeError("invalid_fingerprint", "unsupported hash " + fp.algorithm);
  std::string_view hex = value.substr(space + 1);
  while (!hex.empty() && hex.front() == ' ') hex.remove_prefix(1);
  while (!hex.empty() && (hex.back() == ' ' || hex.back() == '\r' || hex.back() == '\n')) hex.remove_suffix(1);
  const size_t want = static_cast<size_t>(EVP_MD_get_size(md));
  // "AB:CD:...": 3 characters per byte but the last.
  if (hex.size() != want * 3 - 1) return makeError("invalid_fingerprint", "wrong digest length");
  for (size_t i = 0; i < want; ++i) {
    const int hi = hexValue(hex[i * 3]), lo = hexValue(hex[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i + 1 < want && hex[i * 3 + 2] != ':'))
      return makeError("invalid_fingerprint", "malformed hex");
    fp.digest.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return fp;
}

std::string DtlsFingerprint::toSdp() const {
  static constexpr char Hex[] = "0123456789ABCDEF";
  std::string out = algorithm + ' ';
  for (size_t i = 0; i < digest.size(); ++i) {
    if (i) out.push_back(':');
    out.push_back(Hex[digest[i] >> 4]);
    out.push_back(Hex[digest[i] & 0xf]);
  }
  return out;
}

std::vector<uint8_t> DtlsCertificate::digest(X509* cert, std::string_view algorithm) {
  const EVP_MD* md = digestByName(algorithm);
  if (!md || !cert) return {};
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, md, buf, &len) != 1) return {};
  return {buf, buf + len};
}

Result<std::unique_ptr<DtlsCertificate>> DtlsCertificate::generate(int validDays) {
  std::unique_ptr<DtlsCertificate> self(new DtlsCertificate());
  self->key_ = EVP_EC_gen("P-256");
  if (!self->key_) return makeError("dtls_certificate", "EC key generation failed");
  self->cert_ = X509_new();
  if (!self->cert_) return makeError("dtls_certificate", "X509_new failed");
  X509* c = self->cert_;
  X509_set_version(c, 2);  // v3
  // A random positive serial so two workers' certificates never collide.
  uint8_t serial[8];
  if (RAND_bytes(serial, sizeof serial) != 1) return makeError("dtls_certificate", "RAND_bytes failed");
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c))) {
    BN_free(bn);
    return makeError("dtls_certificate", "serial failed");
  }
  BN_free(bn);
  // Start a day back to tolerate peers whose clock is behind.
  X509_gmtime_adj(X509_getm_notBefore(c), -86400L);
  X509_gmtime_adj(X509_getm_notAfter(c), 86400L * validDays);
  X509_NAME* name = X509_get_subject_name(c);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("meeting"), -1, -1, 0);
  X509_set_issuer_name(c, name);
  if (X509_set_pubkey(c, self->key_) != 1 || X509_sign(c, self->key_, EVP_sha256()) == 0)
    return makeError("dtls_certificate", "signing failed");
  DtlsFingerprint fp{"sha-256", digest(c, "sha-256")};
  if (fp.digest.empty()) return makeError("dtls_certificate", "fingerprint failed");
  self->fingerprint_ = fp.toSdp();
  if (auto r = self->createContext(); !r) return r.error();
  return self;
}

Result<void> DtlsCertificate::createContext() {
  ctx_ = SSL_CTX_new(DTLS_method());
  if (!ctx_) return makeError("dtls_certificate", "SSL_CTX_new failed");
  // RFC 8827 §6.5: DTLS 1.2 or later; DTLS 1.0 is not offered.
  SSL_CTX_set_min_proto_version(ctx_, DTLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx_, DTLS1_2_VERSION);
  if (SSL_CTX_use_certificate(ctx_, cert_) != 1 || SSL_CTX_use_PrivateKey(ctx_, key_) != 1 ||
      SSL_CTX_check_private_key(ctx_) != 1)
    return makeError("dtls_certificate", "loading key into SSL_CTX failed");
  // ECDSA suites for our own certificate; the RSA ones only matter in the client role.
  if (SSL_CTX_set_cipher_list(ctx_,
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"
                              "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384:"
                              "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA") != 1)
    return makeError("dtls_certificate", "cipher list rejected");
  SSL_CTX_set1_groups_list(ctx_, "X25519:P-256:P-384");
  // Both roles require the peer's certificate (RFC 8827 §6.5); the chain itself is not checked
  // against any CA, DtlsSession compares the fingerprint instead.
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx_, verifyByFingerprint, nullptr);
  // No renegotiation: SRTP keys are exported once at connect; WebRTC sets up a new DTLS
  // association instead (RFC 8842).
  SSL_CTX_set_options(ctx_, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_read_ahead(ctx_, 1);
  return {};
}

namespace {
int verifyByFingerprint(X509_STORE_CTX* store, void*) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  auto* verifier = ssl ? static_cast<DtlsPeerVerifier*>(SSL_get_app_data(ssl)) : nullptr;
  if (!verifier || !leaf) return 0;
  if (verifier->verifyPeerCertificate(leaf)) return 1;
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  return 0;
}
}  // namespace

DtlsCertificate::~DtlsCertificate() {
  SSL_CTX_free(ctx_);
  X509_free(cert_);
  EVP_PKEY_free(key_);
}

}  // namespace meeting::sfu
