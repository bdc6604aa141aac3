#include "turn/TurnAuth.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>

#include "proto/stun/StunIntegrity.hpp"
#include "turn/Allocation.hpp"

namespace meeting::turn {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool parseHex32(std::string_view s, uint32_t& out) {
  out = 0;
  for (char c : s) {
    uint32_t v;
    if (c >= '0' && c <= '9') v = static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') v = static_cast<uint32_t>(c - 'a' + 10);
    else return false;
    out = out << 4 | v;
  }
  return true;
}

uint32_t seconds(TimePoint t) {
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

}  // namespace

NonceService::Key NonceService::randomKey() {
  Key k{};
  if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1) k.fill(0);
  return k;
}

void NonceService::mac(uint32_t expiry, const Address& clientIp, char out[16]) const {
  uint8_t head[5] = {static_cast<uint8_t>(expiry >> 24), static_cast<uint8_t>(expiry >> 16),
                     static_cast<uint8_t>(expiry >> 8), static_cast<uint8_t>(expiry),
                     static_cast<uint8_t>(clientIp.family)};
  const std::span<const uint8_t> parts[] = {head, std::span<const uint8_t>(clientIp.ip.data(), clientIp.ipSize())};
  std::array<uint8_t, 20> digest{};
  (void)proto::stun::hmacSha1(key_, parts, digest);
  for (size_t i = 0; i < 8; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
}

std::string NonceService::make(const Address& clientIp, TimePoint now) const {
  const uint32_t expiry =
      seconds(now) + static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(lifetime_).count());
  std::string nonce(NonceSize, '0');
  for (int i = 0; i < 8; ++i) nonce[static_cast<size_t>(i)] = kHex[(expiry >> (28 - 4 * i)) & 15];
  mac(expiry, clientIp, nonce.data() + 8);
  return nonce;
}

NonceService::Check NonceService::check(std::string_view nonce, const Address& clientIp, TimePoint now) const {
  if (nonce.size() != NonceSize) return Check::Invalid;
  uint32_t expiry = 0;
  if (!parseHex32(nonce.substr(0, 8), expiry)) return Check::Invalid;
  char expected[16];
  mac(expiry, clientIp, expected);
  if (CRYPTO_memcmp(expected, nonce.data() + 8, 16) != 0) return Check::Invalid;
  return seconds(now) < expiry ? Check::Valid : Check::Stale;
}

bool UnauthorizedLimiter::admit(const Address& clientIp, TimePoint now) {
  if (rate_ == 0) return true;
  size_t h = 2166136261u;
  for (size_t i = 0; i < clientIp.ipSize(); ++i) h = (h ^ clientIp.ip[i]) * 16777619u;
  Slot& s = slots_[h % Slots];
  const double burst = 2.0 * rate_;
  if (!s.used || !sameIp(s.ip, clientIp)) {
    s = Slot{clientIp, burst, now, true};
  } else {
    const double elapsed = std::chrono::duration<double>(now - s.last).count();
    if (elapsed > 0) s.tokens = std::min(burst, s.tokens + elapsed * rate_);
    s.last = now;
  }
  if (s.tokens < 1) return false;
  s.tokens -= 1;
  return true;
}

}  // namespace meeting::turn
