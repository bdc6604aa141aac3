#include "common/TurnCredentials.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

namespace meeting {

std::string turnRestPassword(std::string_view secret, std::string_view username) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int macLen = 0;
  if (!HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(username.data()), username.size(), mac, &macLen)) {
    return {};
  }
  // EVP_EncodeBlock writes 4 output bytes per 3 input bytes plus a NUL.
  unsigned char text[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  int n = EVP_EncodeBlock(text, mac, static_cast<int>(macLen));
  if (n < 0) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(n));
}

TurnCredential makeTurnCredential(std::string_view secret, std::string_view user, int64_t nowUnix,
                                  int64_t ttlSeconds) {
  TurnCredential c;
  c.expiresAt = nowUnix + ttlSeconds;
  c.username = std::to_string(c.expiresAt);
  if (!user.empty()) {
    c.username += ':';
    c.username += user;
  }
  c.password = turnRestPassword(secret, c.username);
  return c;
}

std::optional<int64_t> turnRestExpiry(std::string_view username) {
  size_t end = username.find(':');
  std::string_view digits = username.substr(0, end);
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || value < 0) return std::nullopt;
  return value;
}

std::optional<std::string> verifyTurnRestUsername(std::string_view secret, std::string_view username,
                                                  int64_t nowUnix) {
  auto expiry = turnRestExpiry(username);
  if (!expiry || *expiry < nowUnix) return std::nullopt;
  std::string password = turnRestPassword(secret, username);
  if (password.empty()) return std::nullopt;
  return password;
}

std::array<uint8_t, 16> turnLongTermKey(std::string_view username, std::string_view realm,
                                        std::string_view password) {
  std::array<uint8_t, 16> key{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return key;
  unsigned int len = 0;
  const bool ok = EVP_DigestInit_ex(ctx, EVP_md5(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, username.data(), username.size()) == 1 &&
                  EVP_DigestUpdate(ctx, ":", 1) == 1 && EVP_DigestUpdate(ctx, realm.data(), realm.size()) == 1 &&
                  EVP_DigestUpdate(ctx, ":", 1) == 1 &&
                  EVP_DigestUpdate(ctx, password.data(), password.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, key.data(), &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) key.fill(0);
  return key;
}

}  // namespace meeting
