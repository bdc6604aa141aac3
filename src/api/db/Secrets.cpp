#include "api/db/Secrets.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace meeting::api::db::secrets {
namespace {

void randomBytes(unsigned char* out, size_t n) {
  // RAND_bytes only fails when the CSPRNG cannot be seeded; continuing would hand out guessable
  // secrets, so stop the process instead.
  if (RAND_bytes(out, static_cast<int>(n)) != 1) std::abort();
}

std::string hex(const unsigned char* data, size_t n) {
  static constexpr char Digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = Digits[data[i] >> 4];
    out[2 * i + 1] = Digits[data[i] & 0x0f];
  }
  return out;
}

}  // namespace

std::string uuid4() {
  std::array<unsigned char, 16> b{};
  randomBytes(b.data(), b.size());
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // variant 10
  std::string h = hex(b.data(), b.size());
  return h.substr(0, 8) + '-' + h.substr(8, 4) + '-' + h.substr(12, 4) + '-' + h.substr(16, 4) +
         '-' + h.substr(20);
}

std::string randomString(size_t length, std::string_view alphabet) {
  std::string out;
  out.reserve(length);
  // Rejection sampling keeps the distribution uniform for alphabets that do not divide 256.
  const unsigned limit = 256 - (256 % static_cast<unsigned>(alphabet.size()));
  std::array<unsigned char, 64> buf{};
  while (out.size() < length) {
    randomBytes(buf.data(), buf.size());
    for (unsigned char c : buf) {
      if (c >= limit) continue;
      out.push_back(alphabet[c % alphabet.size()]);
      if (out.size() == length) break;
    }
  }
  return out;
}

std::string sha256Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) std::abort();
  return hex(md.data(), len);
}

}  // namespace meeting::api::db::secrets
