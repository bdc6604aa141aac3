#pragma once
// One TURN allocation (RFC 8656 §2.2): the relayed transport address, its permissions and channel
// bindings, lifetime, credentials and bandwidth budget. Owned by TurnServer, one loop only.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/Clock.hpp"
#include "turn/TurnTypes.hpp"

namespace meeting::turn {

/// Equality of the IP only: permissions ignore the peer's port (RFC 8656 §9).
inline bool sameIp(const Address& a, const Address& b) {
  if (a.family != b.family) return false;
  for (size_t i = 0; i < a.ipSize(); ++i)
    if (a.ip[i] != b.ip[i]) return false;
  return true;
}

class Allocation {
 public:
  struct Permission {
    Address ip;  // port unused
    TimePoint expires;
  };
  struct Channel {
    uint16_t number = 0;
    Address peer;
    TimePoint expires;  // usable before; kept until expires + cooldown to block rebinding
  };

  Allocation(const ClientKey& client, const RelayEndpoint& relay, std::string username,
             const std::array<uint8_t, 16>& key, TimePoint expires)
      : client_(client), relay_(relay), username_(std::move(username)), key_(key), expires_(expires) {}

  const ClientKey& client() const { return client_; }
  const RelayEndpoint& relay() const { return relay_; }
  const std::string& username() const { return username_; }
  const std::array<uint8_t, 16>& key() const { return key_; }
  TimePoint expires() const { return expires_; }
  void setExpires(TimePoint t) { expires_ = t; }

  /// The Allocate transaction that created it, to answer a retransmission (RFC 8656 §7.2).
  std::array<uint8_t, 12> createdBy{};
  /// RFC 6062 peer data connections of this (TCP) allocation: connecting, unbound or bound.
  size_t tcpConnections = 0;

  bool hasPermission(const Address& peer, TimePoint now) const {
    for (const auto& p : permissions_)
      if (sameIp(p.ip, peer) && now < p.expires) return true;
    return false;
  }
  /// Installs or refreshes; false when the per-allocation limit is reached.
  bool installPermission(const Address& peer, TimePoint expires, size_t limit);
  size_t permissionCount() const { return permissions_.size(); }
  bool wouldFitPermissions(std::span<const Address> peers, size_t limit) const;

  /// Active binding of `number`, or nullptr.
  const Channel* channelByNumber(uint16_t number, TimePoint now) const {
    for (const auto& c : channels_)
      if (c.number == number) return now < c.expires ? &c : nullptr;
    return nullptr;
  }
  /// Active binding to `peer` (IP and port), or nullptr.
  const Channel* channelByPeer(const Address& peer, TimePoint now) const {
    for (const auto& c : channels_)
      if (c.peer == peer && now < c.expires) return &c;
    return nullptr;
  }
  enum class BindResult : uint8_t { Ok, Conflict, Full };
  /// RFC 8656 §12.2: a number stays with its peer (and a peer with its number) while bound or
  /// cooling down; rebinding the same pair refreshes it.
  BindResult bindChannel(uint16_t number, const Address& peer, TimePoint expires, size_t limit,
                         TimePoint now, Duration cooldown);
  size_t channelCount() const { return channels_.size(); }

  /// Drops expired permissions and channels past their cooldown.
  void expire(TimePoint now, Duration cooldown);

  /// Token bucket over relayed bytes (both directions); true if `bytes` may pass now.
  bool admitBytes(size_t bytes, uint64_t bytesPerSecond, TimePoint now);

 private:
  ClientKey client_;
  RelayEndpoint relay_;
  std::string username_;
  std::array<uint8_t, 16> key_;
  TimePoint expires_;
  std::vector<Permission> permissions_;
  std::vector<Channel> channels_;
  double tokens_ = -1;  // < 0: bucket not started
  TimePoint lastRefill_{};
};

}  // namespace meeting::turn
