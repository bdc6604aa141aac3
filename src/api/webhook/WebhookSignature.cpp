#include "api/webhook/WebhookSignature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <charconv>

namespace meeting::api::webhook {
namespace {

constexpr size_t MacBytes = 32;
constexpr size_t MaxHeaderBytes = 1024;
using Mac = std::array<unsigned char, MacBytes>;

// HMAC-SHA256 (RFC 2104) of `prefix` followed by `body`, through OpenSSL's EVP_MAC-backed HMAC.
Mac hmac(std::string_view key, std::string_view prefix, std::string_view body) {
  Mac out{};
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
  size_t len = 0;
  bool ok = ctx && EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) == 1 &&
            EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size()) == 1 &&
            EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(body.data()), body.size()) == 1 &&
            EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1 && len == MacBytes;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  if (!ok) out.fill(0);  // never matches a real signature; OpenSSL failing here means no HMAC at all
  return out;
}

std::string hex(const Mac& mac) {
  static constexpr char Digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(mac.size() * 2);
  for (unsigned char b : mac) {
    out.push_back(Digits[b >> 4]);
    out.push_back(Digits[b & 15]);
  }
  return out;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parseHexMac(std::string_view text, Mac& out) {
  if (text.size() != MacBytes * 2) return false;
  for (size_t i = 0; i < MacBytes; ++i) {
    int hi = hexValue(text[2 * i]);
    int lo = hexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return true;
}

std::string timestampPrefix(int64_t t) { return std::to_string(t) + "."; }

}  // namespace

std::string deriveWebhookKey(std::string_view clusterSecret) { return hex(hmac(clusterSecret, KeyLabel, {})); }

std::string signatureHeader(std::string_view key, int64_t unixSeconds, std::string_view body) {
  return "t=" + std::to_string(unixSeconds) + ",v1=" + hex(hmac(key, timestampPrefix(unixSeconds), body));
}

bool verifySignatureHeader(std::string_view key, std::string_view header, std::string_view body, int64_t nowSeconds,
                           int64_t toleranceSeconds) {
  if (header.size() > MaxHeaderBytes) return false;
  bool haveTime = false;
  int64_t t = 0;
  std::array<Mac, 4> candidates{};
  size_t count = 0;
  // "t=...,v1=...[,v1=...]": several v1 entries let a sender overlap two keys during rotation.
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    if (item.rfind("t=", 0) == 0) {
      auto digits = item.substr(2);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), t);
      if (ec != std::errc{} || end != digits.data() + digits.size() || t < 0) return false;
      haveTime = true;
    } else if (item.rfind("v1=", 0) == 0 && count < candidates.size()) {
      if (parseHexMac(item.substr(3), candidates[count])) ++count;
    }
  }
  if (!haveTime || count == 0) return false;
  if (t > nowSeconds + toleranceSeconds || t < nowSeconds - toleranceSeconds) return false;
  const Mac want = hmac(key, timestampPrefix(t), body);
  bool match = false;
  for (size_t i = 0; i < count; ++i) {
    // Constant time, so the comparison leaks nothing about how much of a forgery was right.
    match |= CRYPTO_memcmp(want.data(), candidates[i].data(), MacBytes) == 0;
  }
  return match;
}

}  // namespace meeting::api::webhook
