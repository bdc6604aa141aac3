#pragma once
// The waiting rooms of meetings: one ticket per guest waiting to be let in. A ticket is waiting,
// then admitted (holding the join answer the guest collects on its next poll) or denied. Tickets
// not polled for `idleTimeout` disappear. In memory and thread-safe (handlers run on a pool).
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace meeting::api::auth {

class WaitingRoom {
 public:
  enum class State { Waiting, Admitted, Denied };
  struct Ticket {
    std::string id;
    std::string room;
    std::string displayName;
    std::string identity;    ///< the identity the guest gets when admitted
    int64_t sinceMs = 0;     ///< when it started waiting
    int64_t lastPollMs = 0;
    State state = State::Waiting;
    nlohmann::json admission;  ///< the join answer once admitted
  };

  explicit WaitingRoom(std::chrono::milliseconds idleTimeout = std::chrono::minutes(10),
                       size_t maxTickets = 10'000)
      : idleTimeoutMs_(idleTimeout.count()), maxTickets_(maxTickets) {}

  /// A new waiting ticket; nullopt when too many guests wait server-wide.
  std::optional<Ticket> add(const std::string& room, const std::string& displayName, const std::string& identity,
                            int64_t nowMs);
  /// The ticket (its poll time refreshed to `nowMs`); nullopt when unknown or expired.
  std::optional<Ticket> poll(const std::string& ticket, int64_t nowMs);
  /// Waiting tickets of `room`, oldest first.
  std::vector<Ticket> waiting(const std::string& room, int64_t nowMs);
  /// The ticket of `room` as it is (no poll refresh); nullopt when unknown, expired or another room's.
  std::optional<Ticket> find(const std::string& room, const std::string& ticket, int64_t nowMs);
  /// Marks a waiting ticket admitted with `admission` or denied; false when it is not waiting.
  bool decide(const std::string& ticket, bool admit, nlohmann::json admission);
  /// Drops every ticket of a room (the room ended): their next poll is 404.
  void dropRoom(const std::string& room);

 private:
  void expire(int64_t nowMs);

  const int64_t idleTimeoutMs_;
  const size_t maxTickets_;
  std::mutex mutex_;
  std::unordered_map<std::string, Ticket> tickets_;
};

const char* stateName(WaitingRoom::State state);

}  // namespace meeting::api::auth
