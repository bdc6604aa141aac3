#include "turn/RelayPortPool.hpp"

#include <openssl/rand.h>

#include <algorithm>

namespace meeting::turn {

RelayPortPool::RelayPortPool(uint16_t first, uint16_t last)
    : first_(std::min(first, last)),
      state_(static_cast<size_t>(std::max(first, last) - std::min(first, last)) + 1, State::Free),
      unusableUntil_(state_.size()) {}

void RelayPortPool::expireLocked(TimePoint now) {
  for (auto it = reservations_.begin(); it != reservations_.end();) {
    if (it->second.expires <= now) {
      if (state_[indexOf(it->second.port)] == State::Reserved) {
        state_[indexOf(it->second.port)] = State::Free;
        --used_;
      }
      it = reservations_.erase(it);
    } else {
      ++it;
    }
  }
}

bool RelayPortPool::isFreeLocked(uint16_t port) const {
  if (port < first_ || indexOf(port) >= state_.size()) return false;
  return state_[indexOf(port)] == State::Free;
}

std::optional<RelayPortPool::Grant> RelayPortPool::acquire(bool even, bool reserveNext, TimePoint now) {
  std::lock_guard lock(mutex_);
  expireLocked(now);
  if (reserveNext) even = true;
  const size_t n = state_.size();
  for (size_t step = 0; step < n; ++step) {
    size_t i = (cursor_ + step) % n;
    auto port = static_cast<uint16_t>(first_ + i);
    if (state_[i] == State::Unusable && unusableUntil_[i] <= now) {
      state_[i] = State::Free;
      --used_;
    }
    if (state_[i] != State::Free) continue;
    if (even && port % 2 != 0) continue;
    if (reserveNext && (port == 65535 || !isFreeLocked(static_cast<uint16_t>(port + 1)))) continue;
    Grant g;
    g.port = port;
    state_[i] = State::Used;
    ++used_;
    if (reserveNext) {
      uint64_t token = 0;
      do {
        if (RAND_bytes(reinterpret_cast<unsigned char*>(&token), sizeof token) != 1) {
          state_[i] = State::Free;
          --used_;
          return std::nullopt;
        }
      } while (token == 0 || reservations_.count(token));
      state_[i + 1] = State::Reserved;
      ++used_;
      reservations_[token] = Reservation{static_cast<uint16_t>(port + 1), now + ReservationLifetime};
      g.reservationToken = token;
    }
    cursor_ = (i + 1) % n;
    return g;
  }
  return std::nullopt;
}

std::optional<uint16_t> RelayPortPool::acquireReserved(uint64_t token, TimePoint now) {
  std::lock_guard lock(mutex_);
  expireLocked(now);
  auto it = reservations_.find(token);
  if (it == reservations_.end()) return std::nullopt;
  uint16_t port = it->second.port;
  reservations_.erase(it);
  state_[indexOf(port)] = State::Used;
  return port;
}

void RelayPortPool::release(uint16_t port) {
  std::lock_guard lock(mutex_);
  if (port < first_ || indexOf(port) >= state_.size()) return;
  auto& s = state_[indexOf(port)];
  if (s == State::Free) return;
  if (s == State::Reserved) {
    for (auto it = reservations_.begin(); it != reservations_.end(); ++it) {
      if (it->second.port == port) {
        reservations_.erase(it);
        break;
      }
    }
  }
  s = State::Free;
  --used_;
}

void RelayPortPool::markUnusable(uint16_t port, TimePoint now) {
  std::lock_guard lock(mutex_);
  if (port < first_ || indexOf(port) >= state_.size()) return;
  auto& s = state_[indexOf(port)];
  if (s == State::Free) ++used_;
  s = State::Unusable;
  unusableUntil_[indexOf(port)] = now + std::chrono::seconds(60);
}

size_t RelayPortPool::freeCount() const {
  std::lock_guard lock(mutex_);
  return state_.size() - used_;
}

}  // namespace meeting::turn
