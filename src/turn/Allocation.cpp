#include "turn/Allocation.hpp"

#include <algorithm>

namespace meeting::turn {

bool Allocation::installPermission(const Address& peer, TimePoint expires, size_t limit) {
  for (auto& p : permissions_) {
    if (sameIp(p.ip, peer)) {
      p.expires = expires;
      return true;
    }
  }
  if (permissions_.size() >= limit) return false;
  Address ip = peer;
  ip.port = 0;
  permissions_.push_back(Permission{ip, expires});
  return true;
}

bool Allocation::wouldFitPermissions(std::span<const Address> peers, size_t limit) const {
  size_t added = 0;
  for (size_t i = 0; i < peers.size(); ++i) {
    bool known = std::any_of(permissions_.begin(), permissions_.end(),
                             [&](const Permission& p) { return sameIp(p.ip, peers[i]); });
    for (size_t j = 0; j < i && !known; ++j) known = sameIp(peers[j], peers[i]);
    if (!known) ++added;
  }
  return permissions_.size() + added <= limit;
}

Allocation::BindResult Allocation::bindChannel(uint16_t number, const Address& peer, TimePoint expires,
                                               size_t limit, TimePoint now, Duration cooldown) {
  Channel* same = nullptr;
  for (auto& c : channels_) {
    const bool lingering = now < c.expires + cooldown;
    if (c.number == number && c.peer == peer) {
      same = &c;
    } else if (lingering && (c.number == number || c.peer == peer)) {
      return BindResult::Conflict;
    }
  }
  if (same) {
    same->expires = expires;
    return BindResult::Ok;
  }
  if (channels_.size() >= limit) return BindResult::Full;
  channels_.push_back(Channel{number, peer, expires});
  return BindResult::Ok;
}

void Allocation::expire(TimePoint now, Duration cooldown) {
  std::erase_if(permissions_, [now](const Permission& p) { return p.expires <= now; });
  std::erase_if(channels_, [now, cooldown](const Channel& c) { return c.expires + cooldown <= now; });
}

bool Allocation::admitBytes(size_t bytes, uint64_t bytesPerSecond, TimePoint now) {
  if (bytesPerSecond == 0) return true;
  const auto rate = static_cast<double>(bytesPerSecond);
  if (tokens_ < 0) {
    tokens_ = rate;  // burst of one second
    lastRefill_ = now;
  }
  const double elapsed = std::chrono::duration<double>(now - lastRefill_).count();
  if (elapsed > 0) {
    tokens_ = std::min(rate, tokens_ + elapsed * rate);
    lastRefill_ = now;
  }
  if (tokens_ < static_cast<double>(bytes)) return false;
  tokens_ -= static_cast<double>(bytes);
  return true;
}

}  // namespace meeting::turn
