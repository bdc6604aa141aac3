#pragma once
// Where a meeting's media runs. With --allocateserver the apiserver asks it exactly as seed 001
// says (RemoteAllocator); without, BuiltInAllocator picks among the servers registered on the
// control link. Calls block (HTTP with a timeout): run them on the worker pool, never on a loop.
#include <chrono>
#include <memory>
#include <string>

#include "api/control/NodeRegistry.hpp"
#include "common/Result.hpp"

namespace meeting::api {

/// Error code of a failed allocation: the client is told 503 + Retry-After.
inline constexpr const char* AllocationUnavailable = "unavailable";

struct MediaRequest {
  std::string email;    ///< meeting owner (or requester)
  int64_t beginAt = 0;  ///< Unix seconds; 0 and 0 for an instant meeting (seed 001)
  int64_t endAt = 0;
};

struct MediaAllocation {
  std::string sfu;   ///< host:port (seed 001 "sfu"), or a registered node id with the built-in allocator
  std::string turn;  ///< host:port, "" when no TURN server is known
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  /// Kind=SFUTURN.
  virtual Result<MediaAllocation> allocateMedia(const MediaRequest& request) = 0;
  /// Kind=FS: the fsserver's host:port.
  virtual Result<std::string> allocateFs(const std::string& email) = 0;
  /// True for an external allocate server (its answers are addresses, not node ids).
  virtual bool external() const = 0;
};

/// The seed 001 query strings (exposed for tests and the reference allocate server).
std::string mediaQuery(const MediaRequest& request);
std::string fsQuery(const std::string& email);

/// Asks an allocate server: GET <url>?Kind=SFUTURN&Email=..&BeginAt=..&EndAt=.. / ?Kind=FS&Email=..
std::unique_ptr<Allocator> makeRemoteAllocator(std::string url, std::chrono::milliseconds timeout);
/// Least-loaded alive node of each role from the registry.
std::unique_ptr<Allocator> makeBuiltInAllocator(control::NodeRegistry& registry);

}  // namespace meeting::api
