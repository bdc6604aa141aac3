#include "turn/AllocationBudget.hpp"

namespace meeting::turn {

std::string_view AllocationBudget::userOf(std::string_view username) {
  auto colon = username.find(':');
  if (colon == std::string_view::npos) return username;
  return username.substr(colon + 1);
}

AllocationBudget::Verdict AllocationBudget::tryAcquire(std::string_view user, size_t perUserMax, size_t totalMax) {
  std::lock_guard lock(mutex_);
  if (total_ >= totalMax) return Verdict::Capacity;
  auto& n = perUser_[std::string(user)];
  if (n >= perUserMax) {
    if (n == 0) perUser_.erase(std::string(user));
    return Verdict::UserQuota;
  }
  ++n;
  ++total_;
  return Verdict::Ok;
}

void AllocationBudget::release(std::string_view user) {
  std::lock_guard lock(mutex_);
  auto it = perUser_.find(std::string(user));
  if (it == perUser_.end()) return;
  if (--it->second == 0) perUser_.erase(it);
  if (total_ > 0) --total_;
}

size_t AllocationBudget::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace meeting::turn
