#include "api/auth/LoginLimiter.hpp"

#include <algorithm>

namespace meeting::api::auth {

int64_t LoginLimiter::waitFor(const std::string& key, int64_t nowMs) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return 0;
  auto& times = it->second;
  const int64_t window = options_.window.count();
  while (!times.empty() && times.front() + window <= nowMs) times.pop_front();
  if (times.size() < options_.maxFailures) return 0;
  int64_t waitMs = times.front() + window - nowMs;
  return std::max<int64_t>(1, (waitMs + 999) / 1000);
}

int64_t LoginLimiter::retryAfter(const std::string& email, const std::string& address, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  return std::max(waitFor("e:" + email, nowMs), waitFor("a:" + address, nowMs));
}

void LoginLimiter::recordFailure(const std::string& email, const std::string& address, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  if (failures_.size() >= options_.maxKeys) prune(nowMs);
  for (const std::string& key : {"e:" + email, "a:" + address}) {
    if (failures_.size() >= options_.maxKeys && !failures_.contains(key)) continue;  // full: fail open for new keys
    auto& times = failures_[key];
    times.push_back(nowMs);
    while (times.size() > options_.maxFailures) times.pop_front();
  }
}

void LoginLimiter::recordSuccess(const std::string& email) {
  std::lock_guard lock(mutex_);
  failures_.erase("e:" + email);
}

void LoginLimiter::prune(int64_t nowMs) {
  const int64_t window = options_.window.count();
  std::erase_if(failures_, [&](const auto& entry) { return entry.second.empty() || entry.second.back() + window <= nowMs; });
}

}  // namespace meeting::api::auth
