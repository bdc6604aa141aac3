#include "api/control/NodeRegistry.hpp"


namespace meeting::api::control {

NodeRegistry::NodeRegistry(const Clock& clock, Duration downAfter) : clock_(clock), downAfter_(downAfter) {}

void NodeRegistry::upsert(const NodeInfo& info) {
  std::lock_guard lock(mutex_);
  NodeState& n = nodes_[info.id];
  n.info = info;
  n.connected = true;
  n.lastSeen = clock_.now();
}

void NodeRegistry::report(const std::string& id, const LoadReport& load) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return;
  it->second.load = load;
  it->second.lastSeen = clock_.now();
}

void NodeRegistry::disconnected(const std::string& id) {
  std::lock_guard lock(mutex_);
  if (auto it = nodes_.find(id); it != nodes_.end()) it->second.connected = false;
}

NodeState NodeRegistry::snapshot(const NodeState& n) const {
  NodeState copy = n;
  copy.alive = n.connected && clock_.now() - n.lastSeen < downAfter_;
  return copy;
}

std::optional<NodeState> NodeRegistry::get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return std::nullopt;
  return snapshot(it->second);
}

std::optional<NodeState> NodeRegistry::find(const std::string& idOrAddress) const {
  if (idOrAddress.empty()) return std::nullopt;
  std::lock_guard lock(mutex_);
  if (auto it = nodes_.find(idOrAddress); it != nodes_.end()) return snapshot(it->second);
  // Prefer an alive node when several registered the same address over time.
  std::optional<NodeState> found;
  for (const auto& [id, n] : nodes_) {
    if (n.info.address != idOrAddress) continue;
    auto s = snapshot(n);
    if (!found || (s.alive && !found->alive)) found = s;
  }
  return found;
}

std::vector<NodeState> NodeRegistry::list(const std::string& role) const {
  std::lock_guard lock(mutex_);
  std::vector<NodeState> out;
  for (const auto& [id, n] : nodes_) {
    if (role.empty() || n.info.role == role) out.push_back(snapshot(n));
  }
  return out;
}

std::optional<NodeState> NodeRegistry::pickLeastLoaded(const std::string& role) const {
  std::lock_guard lock(mutex_);
  std::optional<NodeState> best;
  // Load as a fraction of capacity; a node without a declared capacity counts as capacity 1.
  auto fraction = [](const NodeState& n) {
    return static_cast<double>(n.load.load) / static_cast<double>(n.info.capacity > 0 ? n.info.capacity : 1);
  };
  for (const auto& [id, n] : nodes_) {
    if (n.info.role != role) continue;
    auto s = snapshot(n);
    if (!s.alive) continue;
    if (s.info.capacity > 0 && s.load.load >= s.info.capacity) continue;  // full
    if (!best) {
      best = s;
      continue;
    }
    double mine = fraction(s), theirs = fraction(*best);
    if (mine < theirs || (mine == theirs && s.load.rooms < best->load.rooms)) best = s;
  }
  return best;
}

std::vector<std::string> NodeRegistry::sweep() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> down;
  for (const auto& [id, n] : nodes_) {
    bool alive = snapshot(n).alive;
    bool& was = wasAlive_[id];
    if (was && !alive) down.push_back(id);
    was = alive;
  }
  return down;
}

}  // namespace meeting::api::control
