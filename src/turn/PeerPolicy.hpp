#pragma once
// Which peer addresses a TURN allocation may talk to. An open relay into the server's own network
// is the classic TURN vulnerability (e.g. reaching 169.254.169.254 or an intranet admin page), so
// by default loopback, RFC 1918, fc00::/7, link-local, multicast, 0.0.0.0/8 and the server's own
// addresses are refused; operators widen this with an allow-list (RFC 8656 §21.3, "Firewall
// Considerations" and §21.4.2).
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "proto/stun/StunTypes.hpp"

namespace meeting::turn {

using proto::stun::Address;

/// An address prefix such as 10.0.0.0/8 or fc00::/7.
struct IpRange {
  Address base;        ///< family and network bytes; port unused
  uint8_t prefix = 0;  ///< prefix length in bits

  /// Parses "a.b.c.d/n", "v6::/n" or a single address (full-length prefix); nullopt if invalid.
  static std::optional<IpRange> parse(std::string_view text);
  /// True when `a` (same family) lies within the range; the port is ignored.
  bool contains(const Address& a) const;
};

class PeerPolicy {
 public:
  /// Loopback peers (127.0.0.0/8, ::1) are allowed; for tests and local benchmarks only.
  void setAllowLoopback(bool allow) { allowLoopback_ = allow; }
  /// Ranges allowed even when a default rule would refuse them (e.g. an intranet deployment).
  void addAllowed(const IpRange& range) { allowed_.push_back(range); }
  /// Ranges always refused, before any allow rule.
  void addDenied(const IpRange& range) { denied_.push_back(range); }
  /// The server's own addresses (listening and announced); refused unless allow-listed.
  void addOwnAddress(const Address& a) { own_.push_back(a); }

  /// Decision for a peer address. Order: deny-list, allow-list, loopback switch, own addresses,
  /// built-in special-purpose ranges, then allowed.
  bool isAllowed(const Address& peer) const;

  /// True for the built-in refused ranges (without allow-list or loopback switch).
  static bool isSpecialPurpose(const Address& a);

 private:
  bool allowLoopback_ = false;
  std::vector<IpRange> allowed_;
  std::vector<IpRange> denied_;
  std::vector<Address> own_;
};

/// Unwraps an IPv4-mapped IPv6 address (::ffff:a.b.c.d) to IPv4 so rules for IPv4 apply to it.
Address unmapV4(const Address& a);
/// True for 127.0.0.0/8 and ::1 (after unmapping).
bool isLoopback(const Address& a);

}  // namespace meeting::turn
