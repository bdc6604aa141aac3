#pragma once
// Relay ports for allocations, from a configured range, shared by every worker loop (taken only on
// Allocate/deletion, so a mutex is fine there). Supports EVEN-PORT with the R bit: the next port
// is held under a RESERVATION-TOKEN for 30 seconds (RFC 8656 §7.2, §18.7, §18.10).
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/Clock.hpp"

namespace meeting::turn {

class RelayPortPool {
 public:
  /// RFC 8656 §7.2: "the server SHOULD reserve the port for about 30 seconds".
  static constexpr Duration ReservationLifetime = std::chrono::seconds(30);

  /// Ports first..last inclusive (1..65535, first <= last).
  RelayPortPool(uint16_t first, uint16_t last);

  struct Grant {
    uint16_t port = 0;
    std::optional<uint64_t> reservationToken;  ///< set when the next port was reserved
  };

  /// A free port; `even` asks for an even one, `reserveNext` (implies even) also holds port+1
  /// under a fresh random token. nullopt when the range is exhausted.
  std::optional<Grant> acquire(bool even, bool reserveNext, TimePoint now);
  /// The port held under `token` if it is still valid (the token is used up).
  std::optional<uint16_t> acquireReserved(uint64_t token, TimePoint now);
  /// Returns a port (acquired or reserved) to the pool.
  void release(uint16_t port);
  /// Marks a port the socket layer could not bind (another process has it) as taken for a while.
  void markUnusable(uint16_t port, TimePoint now);

  size_t freeCount() const;
  size_t capacity() const { return state_.size(); }

 private:
  enum class State : uint8_t { Free, Used, Reserved, Unusable };
  struct Reservation {
    uint16_t port;
    TimePoint expires;
  };
  void expireLocked(TimePoint now);
  bool isFreeLocked(uint16_t port) const;
  size_t indexOf(uint16_t port) const { return static_cast<size_t>(port - first_); }

  mutable std::mutex mutex_;
  uint16_t first_;
  std::vector<State> state_;
  std::vector<TimePoint> unusableUntil_;
  std::unordered_map<uint64_t, Reservation> reservations_;
  size_t cursor_ = 0;  // round robin, so a just-freed port is not handed out again at once
  size_t used_ = 0;
};

}  // namespace meeting::turn
