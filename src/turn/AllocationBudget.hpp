#pragma once
// Allocation quotas shared by every worker loop: per user (486 Allocation Quota Reached) and in
// total (508 Insufficient Capacity), RFC 8656 §7.2. Touched only on Allocate and deletion.
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace meeting::turn {

class AllocationBudget {
 public:
  enum class Verdict : uint8_t { Ok, UserQuota, Capacity };
  Verdict tryAcquire(std::string_view user, size_t perUserMax, size_t totalMax);
  void release(std::string_view user);
  size_t total() const;

  /// The quota identity of a REST API username "expiry:user" is "user" (so that fresh credentials
  /// do not reset the count); other usernames count as they are.
  static std::string_view userOf(std::string_view username);

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, size_t> perUser_;
  size_t total_ = 0;
};

}  // namespace meeting::turn
