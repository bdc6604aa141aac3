#include "api/auth/SessionTokens.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "api/db/Secrets.hpp"

namespace meeting::api::auth {

std::string newToken() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // Never hand out a predictable token; a failing CSPRNG is fatal for this request.
    throw std::runtime_error("RAND_bytes failed");
  }
  std::array<unsigned char, 48> b64{};  // 4 * ceil(32 / 3) + NUL = 45
  int n = EVP_EncodeBlock(b64.data(), bytes.data(), static_cast<int>(bytes.size()));
  std::string out(reinterpret_cast<const char*>(b64.data()), static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::string tokenHash(std::string_view token) { return db::secrets::sha256Hex(token); }

bool looksLikeToken(std::string_view token) {
  if (token.size() != 43) return false;
  for (char c : token) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace meeting::api::auth
