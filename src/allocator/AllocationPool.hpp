#pragma once
// The reference allocate server's brain (seed 001): a static pool of sfu, turn and fs servers
// read from a small JSON file, and a strategy that picks one per request. Thread-safe.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/Result.hpp"

namespace meeting::allocator {

enum class Strategy { RoundRobin, LeastLoaded };

struct PoolServer {
  std::string address;   ///< what the apiserver is told, e.g. "1.sfuserver.com:443"
  int64_t capacity = 1;  ///< meetings at once (least-loaded strategy)
};

struct PoolConfig {
  std::string path = "/allocate";  ///< the one contract path; use an unpredictable one
  Strategy strategy = Strategy::LeastLoaded;
  std::vector<PoolServer> sfu, turn, fs;
  int64_t instantHoldSeconds = 3 * 3600;  ///< seed 001: instant meetings keep their server ~3 h
};

/// Parses the JSON config; errors name the offending field.
Result<PoolConfig> parsePoolConfig(const nlohmann::json& json);
Result<PoolConfig> loadPoolConfig(const std::string& path);

class AllocationPool {
 public:
  explicit AllocationPool(PoolConfig config);

  /// Kind=SFUTURN: an sfu (and a turn if any). `beginAt`/`endAt` are Unix seconds, 0/0 for an
  /// instant meeting. nullopt when every sfu is full (the contract's non-200: "wait a moment").
  std::optional<std::pair<std::string, std::string>> allocateMedia(int64_t nowSeconds, int64_t beginAt, int64_t endAt);
  /// Kind=FS.
  std::optional<std::string> allocateFs(int64_t nowSeconds);

  const PoolConfig& config() const { return config_; }
  /// Active assignments of a server (for tests and logs).
  int64_t activeOn(const std::string& address, int64_t nowSeconds);

 private:
  struct Assignment {
    std::string address;
    int64_t until = 0;  // Unix seconds
  };
  std::optional<std::string> pick(const std::vector<PoolServer>& servers, size_t& cursor, int64_t nowSeconds,
                                  bool enforceCapacity);
  void expire(int64_t nowSeconds);

  PoolConfig config_;
  std::mutex mutex_;
  size_t sfuCursor_ = 0, turnCursor_ = 0, fsCursor_ = 0;
  std::vector<Assignment> assignments_;
};

}  // namespace meeting::allocator
