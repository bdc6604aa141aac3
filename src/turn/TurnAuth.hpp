#pragma once
// Nonces and the 401 rate limit of the long-term credential mechanism (RFC 8489 §9.2).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/Clock.hpp"
#include "turn/TurnTypes.hpp"

namespace meeting::turn {

/// Stateless nonces: "<expiry seconds, 8 hex><HMAC-SHA1(key, expiry | client IP), 16 hex>". Any
/// loop holding the same key can check any nonce, and nothing is stored per client.
class NonceService {
 public:
  static constexpr size_t NonceSize = 24;
  using Key = std::array<uint8_t, 20>;

  NonceService(const Key& key, Duration lifetime) : key_(key), lifetime_(lifetime) {}
  /// A random key from OpenSSL's CSPRNG (all-zero if it fails, which only weakens nonces).
  static Key randomKey();

  /// A nonce for `clientIp` valid for the lifetime from `now`; writes NonceSize characters.
  std::string make(const Address& clientIp, TimePoint now) const;
  enum class Check : uint8_t { Valid, Stale, Invalid };
  Check check(std::string_view nonce, const Address& clientIp, TimePoint now) const;

 private:
  void mac(uint32_t expiry, const Address& clientIp, char out[16]) const;
  Key key_;
  Duration lifetime_;
};

/// Token bucket per client IP for 401 answers, in a fixed table (a flood of source addresses
/// evicts entries instead of growing memory). A client over its budget gets no answer at all.
class UnauthorizedLimiter {
 public:
  explicit UnauthorizedLimiter(uint32_t perSecond) : rate_(perSecond) {}
  bool admit(const Address& clientIp, TimePoint now);

 private:
  struct Slot {
    Address ip;
    double tokens = 0;
    TimePoint last{};
    bool used = false;
  };
  static constexpr size_t Slots = 1024;
  uint32_t rate_;
  std::array<Slot, Slots> slots_{};
};

}  // namespace meeting::turn
