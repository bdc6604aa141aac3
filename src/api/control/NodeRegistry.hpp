#pragma once
// The servers registered on the control link and their last load. Thread-safe (control plane:
// one mutex). A node is alive while connected and heard from within `downAfter`; a silent node
// is down and gets no new rooms, without any timer: liveness is computed from the clock.
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/control/ControlMessages.hpp"
#include "common/Clock.hpp"

namespace meeting::api::control {

struct NodeState {
  NodeInfo info;
  LoadReport load;
  TimePoint lastSeen{};
  bool connected = false;
  bool alive = false;  ///< filled by the registry at read time
};

class NodeRegistry {
 public:
  NodeRegistry(const Clock& clock, Duration downAfter);

  /// (Re-)registers a node; it counts as heard from now.
  void upsert(const NodeInfo& info);
  /// Records a load report (and that the node is alive).
  void report(const std::string& id, const LoadReport& load);
  /// The link closed: the node is down at once.
  void disconnected(const std::string& id);

  std::optional<NodeState> get(const std::string& id) const;
  /// Finds by id or, failing that, by public address (allocate servers answer with addresses).
  std::optional<NodeState> find(const std::string& idOrAddress) const;
  /// Every node of `role` ("" = all), alive or not, ordered by id.
  std::vector<NodeState> list(const std::string& role) const;
  /// The alive node of `role` with the lowest load/capacity (ties: fewer rooms, then id);
  /// nullopt when none is alive.
  std::optional<NodeState> pickLeastLoaded(const std::string& role) const;
  /// Ids that were alive at the previous sweep and are down now (for logs and metrics).
  std::vector<std::string> sweep();

  Duration downAfter() const { return downAfter_; }

 private:
  NodeState snapshot(const NodeState& n) const;

  const Clock& clock_;
  const Duration downAfter_;
  mutable std::mutex mutex_;
  std::map<std::string, NodeState> nodes_;
  std::map<std::string, bool> wasAlive_;
};

}  // namespace meeting::api::control
