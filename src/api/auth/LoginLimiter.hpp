#pragma once
// Throttles password guessing: at most `maxFailures` failed logins per e-mail address and per
// client address within `window`; further attempts are refused (429) until the oldest failure
// leaves the window. In memory (a restart forgets), thread-safe (handlers run on a pool).
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace meeting::api::auth {

class LoginLimiter {
 public:
  struct Options {
    size_t maxFailures = 10;
    std::chrono::milliseconds window{15 * 60 * 1000};
    size_t maxKeys = 100'000;  ///< bounds memory under a spray of addresses
  };
  LoginLimiter() : LoginLimiter(Options{}) {}
  explicit LoginLimiter(Options options) : options_(options) {}

  /// 0 when a login for `email` from `address` may be tried at `nowMs`; otherwise the seconds
  /// until it may (>= 1).
  int64_t retryAfter(const std::string& email, const std::string& address, int64_t nowMs);
  void recordFailure(const std::string& email, const std::string& address, int64_t nowMs);
  /// A successful login clears the e-mail's failures (the address keeps its own).
  void recordSuccess(const std::string& email);

 private:
  int64_t waitFor(const std::string& key, int64_t nowMs);
  void prune(int64_t nowMs);

  Options options_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<int64_t>> failures_;  ///< key → failure times (ms), oldest first
};

}  // namespace meeting::api::auth
