#include "turn/PeerPolicy.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <string>

namespace meeting::turn {
namespace {

using proto::stun::AddressFamily;

bool prefixMatches(const Address& a, const Address& base, unsigned prefix) {
  if (a.family != base.family) return false;
  const unsigned bits = static_cast<unsigned>(a.ipSize()) * 8;
  if (prefix > bits) return false;
  unsigned full = prefix / 8;
  for (unsigned i = 0; i < full; ++i)
    if (a.ip[i] != base.ip[i]) return false;
  if (unsigned rest = prefix % 8; rest != 0) {
    auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
    if ((a.ip[full] & mask) != (base.ip[full] & mask)) return false;
  }
  return true;
}

struct Builtin {
  Address base;
  uint8_t prefix;
};

constexpr Address v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return Address::v4({a, b, c, d}, 0); }
constexpr Address v6(uint8_t b0, uint8_t b1) {
  std::array<uint8_t, 16> ip{};
  ip[0] = b0;
  ip[1] = b1;
  return Address::v6(ip, 0);
}

// Special-purpose ranges never relayed to by default (RFC 6890 registry entries that are not
// globally reachable unicast, plus the private ranges the issue names).
constexpr Builtin kBuiltins[] = {
    {v4(0, 0, 0, 0), 8},        // "this network" (RFC 1122)
    {v4(10, 0, 0, 0), 8},       // RFC 1918
    {v4(100, 64, 0, 0), 10},    // shared address space, carrier NAT (RFC 6598)
    {v4(127, 0, 0, 0), 8},      // loopback
    {v4(169, 254, 0, 0), 16},   // link-local (cloud metadata lives here)
    {v4(172, 16, 0, 0), 12},    // RFC 1918
    {v4(192, 0, 0, 0), 24},     // IETF protocol assignments
    {v4(192, 168, 0, 0), 16},   // RFC 1918
    {v4(198, 18, 0, 0), 15},    // benchmarking (RFC 2544)
    {v4(224, 0, 0, 0), 4},      // multicast
    {v4(240, 0, 0, 0), 4},      // reserved and limited broadcast
    {v6(0, 0), 128},            // unspecified ::
    {v6(0xfc, 0), 7},           // unique local (RFC 4193)
    {v6(0xfe, 0x80), 10},       // link-local
    {v6(0xff, 0), 8},           // multicast
};

bool isV6Loopback(const Address& a) {
  if (a.family != AddressFamily::IPv6) return false;
  for (size_t i = 0; i < 15; ++i)
    if (a.ip[i] != 0) return false;
  return a.ip[15] == 1;
}

}  // namespace

std::optional<IpRange> IpRange::parse(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string addressPart(text.substr(0, text.find('/')));
  IpRange r;
  unsigned char buf[16];
  if (inet_pton(AF_INET, addressPart.c_str(), buf) == 1) {
    r.base = Address::v4({buf[0], buf[1], buf[2], buf[3]}, 0);
  } else if (inet_pton(AF_INET6, addressPart.c_str(), buf) == 1) {
    std::array<uint8_t, 16> ip{};
    for (size_t i = 0; i < 16; ++i) ip[i] = buf[i];
    r.base = Address::v6(ip, 0);
  } else {
    return std::nullopt;
  }
  const unsigned maxBits = static_cast<unsigned>(r.base.ipSize()) * 8;
  unsigned prefix = maxBits;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || prefix > maxBits) {
      return std::nullopt;
    }
  }
  r.prefix = static_cast<uint8_t>(prefix);
  return r;
}

bool IpRange::contains(const Address& a) const { return prefixMatches(unmapV4(a), base, prefix); }

Address unmapV4(const Address& a) {
  if (a.family != AddressFamily::IPv6) return a;
  for (size_t i = 0; i < 10; ++i)
    if (a.ip[i] != 0) return a;
  if (a.ip[10] != 0xFF || a.ip[11] != 0xFF) return a;
  return Address::v4({a.ip[12], a.ip[13], a.ip[14], a.ip[15]}, a.port);
}

bool isLoopback(const Address& a) {
  Address u = unmapV4(a);
  if (u.family == AddressFamily::IPv4) return u.ip[0] == 127;
  return isV6Loopback(u);
}

bool PeerPolicy::isSpecialPurpose(const Address& peer) {
  const Address a = unmapV4(peer);
  if (isV6Loopback(a)) return true;
  for (const auto& b : kBuiltins)
    if (prefixMatches(a, b.base, b.prefix)) return true;
  return false;
}

bool PeerPolicy::isAllowed(const Address& peer) const {
  const Address a = unmapV4(peer);
  for (const auto& r : denied_)
    if (r.contains(a)) return false;
  for (const auto& r : allowed_)
    if (r.contains(a)) return true;
  if (allowLoopback_ && isLoopback(a)) return true;
  for (const auto& own : own_) {
    Address o = unmapV4(own);
    o.port = a.port;  // the whole host is refused, not only the listening port
    if (o == a) return false;
  }
  return !isSpecialPurpose(a);
}

}  // namespace meeting::turn
