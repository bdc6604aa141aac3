#include "net/Tls.hpp"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/Log.hpp"

namespace meeting::net {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;

Error tlsError(const std::string& what) { return makeError("tls", what); }

Result<std::string> readFile(const std::string& path, const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return tlsError(field + ": cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

X509Ptr parseCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr parseKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::string fingerprintOf(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  std::string out;
  char hex[4];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof hex, i ? ":%02X" : "%02X", md[i]);
    out += hex;
  }
  return out;
}

bool isIpAddress(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// True when the certificate names every host and stays valid for `days` more days.
bool covers(X509* cert, const std::vector<std::string>& hosts, int days) {
  time_t horizon = std::time(nullptr) + static_cast<time_t>(days) * 86400;
  if (X509_cmp_time(X509_get0_notAfter(cert), &horizon) <= 0) return false;
  for (const auto& host : hosts) {
    int ok = isIpAddress(host) ? X509_check_ip_asc(cert, host.c_str(), 0)
                               : X509_check_host(cert, host.c_str(), host.size(), 0, nullptr);
    if (ok != 1) return false;
  }
  return true;
}

std::string hostOf(const std::string& hostPort) {
  if (hostPort.empty()) return {};
  if (hostPort.front() == '[') {
    auto end = hostPort.find(']');
    return end == std::string::npos ? std::string{} : hostPort.substr(1, end - 1);
  }
  auto colon = hostPort.find(':');
  return colon == std::string::npos ? hostPort : hostPort.substr(0, colon);
}

Result<void> writePrivateFile(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return tlsError("cannot write " + tmp);
    out << content;
    if (!out.flush()) return tlsError("cannot write " + tmp);
  }
  ::chmod(tmp.c_str(), mode);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return tlsError("cannot rename " + tmp + ": " + ec.message());
  return {};
}

}  // namespace

Result<std::string> certificateFingerprint(const std::string& certPem) {
  auto cert = parseCert(certPem);
  if (!cert) return tlsError("not a PEM certificate");
  return fingerprintOf(cert.get());
}

Result<TlsIdentity> loadTlsIdentity(const std::string& certPath, const std::string& keyPath) {
  auto certPem = readFile(certPath, "--cert");
  if (!certPem) return certPem.error();
  auto keyPem = readFile(keyPath, "--certkey");
  if (!keyPem) return keyPem.error();
  auto cert = parseCert(*certPem);
  if (!cert) return tlsError("--cert: " + certPath + " holds no PEM certificate");
  auto key = parseKey(*keyPem);
  if (!key) return tlsError("--certkey: " + keyPath + " holds no PEM private key");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return tlsError("--certkey: " + keyPath + " does not belong to the certificate in " + certPath);
  }
  return TlsIdentity{*certPem, *keyPem, fingerprintOf(cert.get()), certPath};
}

Result<TlsIdentity> generateSelfSigned(const std::vector<std::string>& hosts, int validDays) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return tlsError("cannot generate an ECDSA P-256 key");
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(validDays) * 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = hosts.empty() ? "meeting" : hosts.front();
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Meeting (self-signed)"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);

  std::string san;
  for (const auto& host : hosts) {
    if (!san.empty()) san += ",";
    san += (isIpAddress(host) ? "IP:" : "DNS:") + host;
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san}, std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
                            std::pair{NID_key_usage, std::string("critical,digitalSignature")},
                            std::pair{NID_ext_key_usage, std::string("serverAuth")}}) {
    if (value.empty()) continue;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) return tlsError("cannot build certificate extension " + value);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return tlsError("cannot sign the certificate");

  BioPtr certBio(BIO_new(BIO_s_mem())), keyBio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(certBio.get(), cert.get());
  PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  auto text = [](BIO* bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<size_t>(len));
  };
  return TlsIdentity{text(certBio.get()), text(keyBio.get()), fingerprintOf(cert.get()), "self-signed"};
}

Result<TlsIdentity> loadOrCreateSelfSigned(const std::string& dir, const std::vector<std::string>& hosts) {
  const std::string certPath = dir + "/cert.pem", keyPath = dir + "/key.pem";
  std::error_code ec;
  if (std::filesystem::exists(certPath, ec) && std::filesystem::exists(keyPath, ec)) {
    auto existing = loadTlsIdentity(certPath, keyPath);
    if (existing) {
      auto cert = parseCert(existing->certChainPem);
      if (covers(cert.get(), hosts, 7)) {
        existing->source = "self-signed " + certPath + " (reused)";
        return existing;
      }
      MLOG_INFO("self-signed certificate {} does not cover the current names or expires soon; generating a new one", certPath);
    } else {
      MLOG_WARN("self-signed certificate in {} is unreadable ({}); generating a new one", dir, existing.error().message);
    }
  }
  std::filesystem::create_directories(dir, ec);
  if (ec) return tlsError("cannot create " + dir + ": " + ec.message());
  auto fresh = generateSelfSigned(hosts, 397);
  if (!fresh) return fresh;
  if (auto r = writePrivateFile(keyPath, fresh->keyPem, 0600); !r) return r.error();
  if (auto r = writePrivateFile(certPath, fresh->certChainPem, 0644); !r) return r.error();
  fresh->source = "self-signed " + certPath + " (new)";
  return fresh;
}

Result<TlsIdentity> resolveTlsIdentity(const Config& config) {
  if (!config.cert.empty() || !config.certKey.empty()) {
    if (config.cert.empty()) return tlsError("--cert: required when --certkey is given");
    if (config.certKey.empty()) return tlsError("--certkey: required when --cert is given");
    return loadTlsIdentity(config.cert, config.certKey);
  }
  if (!config.certDir.empty()) {
    std::string dir = resolvePathAlias(config.certDir, config.dataDir);
    auto identity = loadTlsIdentity(dir + "/fullchain.pem", dir + "/privkey.pem");
    if (!identity) return tlsError("certdir: " + identity.error().message);
    return identity;
  }
  std::vector<std::string> hosts = {"localhost", "127.0.0.1", "::1"};
  for (const auto& extra : {hostOf(config.domainAddress), config.certDomain}) {
    if (!extra.empty() && std::find(hosts.begin(), hosts.end(), extra) == hosts.end()) hosts.push_back(extra);
  }
  return loadOrCreateSelfSigned(config.dataDir + "/tls", hosts);
}

Result<std::shared_ptr<boost::asio::ssl::context>> makeServerContext(const TlsIdentity& identity) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                       ssl::context::single_dh_use,
                   ec);
  ctx->use_certificate_chain(boost::asio::buffer(identity.certChainPem), ec);
  if (ec) return tlsError("certificate chain rejected: " + ec.message());
  ctx->use_private_key(boost::asio::buffer(identity.keyPem), ssl::context::pem, ec);
  if (ec) return tlsError("private key rejected: " + ec.message());
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  return ctx;
}

}  // namespace meeting::net
