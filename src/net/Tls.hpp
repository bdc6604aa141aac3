#pragma once
// Server certificates: an operator's (--cert/--certkey or certdir/fullchain.pem + privkey.pem), or
// a self-signed ECDSA P-256 one generated once into the data folder and reused on later starts.
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <vector>

#include "common/Config.hpp"
#include "common/Result.hpp"

namespace meeting::net {

struct TlsIdentity {
  std::string certChainPem;  // leaf first, then the chain up to the CA (seed 000)
  std::string keyPem;
  std::string fingerprintSha256;  // of the leaf, "AB:CD:..."
  std::string source;             // file paths or "self-signed <path>", for the start-up log
};

/// Reads a PEM certificate chain and private key, checking that they belong together.
Result<TlsIdentity> loadTlsIdentity(const std::string& certPath, const std::string& keyPath);

/// Returns the self-signed identity under `dir` (cert.pem, key.pem) if it exists, covers every
/// name in `hosts` and is valid for at least a week; otherwise generates and stores a new one.
Result<TlsIdentity> loadOrCreateSelfSigned(const std::string& dir, const std::vector<std::string>& hosts);

/// Generates a self-signed ECDSA P-256 certificate whose SAN lists `hosts` (names or IPs).
Result<TlsIdentity> generateSelfSigned(const std::vector<std::string>& hosts, int validDays);

/// The identity a role uses, by the precedence of seed 000/001: --cert/--certkey, then certdir,
/// then a self-signed one in <data>/tls for localhost, 127.0.0.1 and the --domainaddress host.
Result<TlsIdentity> resolveTlsIdentity(const Config& config);

/// A TLS 1.2+ server context for the identity (modern ciphers, no compression or renegotiation).
Result<std::shared_ptr<boost::asio::ssl::context>> makeServerContext(const TlsIdentity& identity);

/// "AB:CD:..." SHA-256 fingerprint of the first certificate in a PEM text.
Result<std::string> certificateFingerprint(const std::string& certPem);

}  // namespace meeting::net
