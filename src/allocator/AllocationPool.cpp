#include "allocator/AllocationPool.hpp"

#include <algorithm>
#include <fstream>

namespace meeting::allocator {

using nlohmann::json;

namespace {

Result<std::vector<PoolServer>> parseServers(const json& j, const char* key) {
  std::vector<PoolServer> out;
  auto it = j.find(key);
  if (it == j.end()) return out;
  if (!it->is_array()) return makeError("invalid_field", std::string(key) + ": must be an array");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& s = (*it)[i];
    std::string where = std::string(key) + "[" + std::to_string(i) + "]";
    PoolServer server;
    if (s.is_string()) {
      server.address = s.get<std::string>();
    } else if (s.is_object() && s.contains("address") && s["address"].is_string()) {
      server.address = s["address"].get<std::string>();
      if (s.contains("capacity")) {
        if (!s["capacity"].is_number_integer() || s["capacity"].get<int64_t>() < 1) {
          return makeError("invalid_field", where + ".capacity: must be a positive integer");
        }
        server.capacity = s["capacity"].get<int64_t>();
      }
    } else {
      return makeError("invalid_field", where + ": must be \"host:port\" or {\"address\": ..., \"capacity\": n}");
    }
    if (server.address.empty() || server.address.size() > 255) {
      return makeError("invalid_field", where + ".address: 1 to 255 characters");
    }
    out.push_back(server);
  }
  return out;
}

}  // namespace

Result<PoolConfig> parsePoolConfig(const json& j) {
  if (!j.is_object()) return makeError("invalid_field", "the allocator config must be a JSON object");
  PoolConfig c;
  if (auto p = j.find("path"); p != j.end()) {
    if (!p->is_string() || p->get<std::string>().empty() || p->get<std::string>()[0] != '/') {
      return makeError("invalid_field", "path: must start with '/'");
    }
    c.path = p->get<std::string>();
  }
  if (auto s = j.find("strategy"); s != j.end()) {
    if (*s == "round_robin") c.strategy = Strategy::RoundRobin;
    else if (*s == "least_loaded") c.strategy = Strategy::LeastLoaded;
    else return makeError("invalid_field", "strategy: must be \"round_robin\" or \"least_loaded\"");
  }
  if (auto h = j.find("instant_hold_seconds"); h != j.end()) {
    if (!h->is_number_integer() || h->get<int64_t>() < 0) return makeError("invalid_field", "instant_hold_seconds: must be >= 0");
    c.instantHoldSeconds = h->get<int64_t>();
  }
  for (auto [key, member] : {std::pair{"sfu", &PoolConfig::sfu}, {"turn", &PoolConfig::turn}, {"fs", &PoolConfig::fs}}) {
    auto servers = parseServers(j, key);
    if (!servers) return servers.error();
    c.*member = std::move(*servers);
  }
  if (c.sfu.empty()) return makeError("invalid_field", "sfu: at least one server is required");
  return c;
}

Result<PoolConfig> loadPoolConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return makeError("not_found", path + ": cannot read the allocator config");
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return makeError("invalid_field", path + ": not valid JSON");
  auto c = parsePoolConfig(j);
  if (!c) return makeError(c.error().code, path + ": " + c.error().message);
  return c;
}

AllocationPool::AllocationPool(PoolConfig config) : config_(std::move(config)) {}

void AllocationPool::expire(int64_t now) {
  std::erase_if(assignments_, [now](const Assignment& a) { return a.until <= now; });
}

int64_t AllocationPool::activeOn(const std::string& address, int64_t now) {
  std::lock_guard lock(mutex_);
  expire(now);
  return std::count_if(assignments_.begin(), assignments_.end(), [&](const Assignment& a) { return a.address == address; });
}

std::optional<std::string> AllocationPool::pick(const std::vector<PoolServer>& servers, size_t& cursor, int64_t now,
                                                bool enforceCapacity) {
  if (servers.empty()) return std::nullopt;
  expire(now);
  auto load = [&](const PoolServer& s) {
    return std::count_if(assignments_.begin(), assignments_.end(), [&](const Assignment& a) { return a.address == s.address; });
  };
  if (config_.strategy == Strategy::RoundRobin) {
    // Next server in turn that still has room.
    for (size_t i = 0; i < servers.size(); ++i) {
      const PoolServer& s = servers[(cursor + i) % servers.size()];
      if (!enforceCapacity || load(s) < s.capacity) {
        cursor = (cursor + i + 1) % servers.size();
        return s.address;
      }
    }
    return std::nullopt;
  }
  const PoolServer* best = nullptr;
  double bestFraction = 0;
  for (const auto& s : servers) {
    auto l = load(s);
    if (enforceCapacity && l >= s.capacity) continue;
    double fraction = static_cast<double>(l) / static_cast<double>(s.capacity);
    if (!best || fraction < bestFraction) {
      best = &s;
      bestFraction = fraction;
    }
  }
  if (!best) return std::nullopt;
  return best->address;
}

std::optional<std::pair<std::string, std::string>> AllocationPool::allocateMedia(int64_t now, int64_t beginAt,
                                                                                  int64_t endAt) {
  std::lock_guard lock(mutex_);
  auto sfu = pick(config_.sfu, sfuCursor_, now, true);
  if (!sfu) return std::nullopt;
  // A scheduled meeting holds its server until it ends; an instant one for the hold time.
  bool instant = beginAt == 0 && endAt == 0;
  int64_t until = instant ? now + config_.instantHoldSeconds : std::max(endAt, now);
  assignments_.push_back({*sfu, until});
  std::string turn = pick(config_.turn, turnCursor_, now, false).value_or("");
  return std::make_pair(*sfu, turn);
}

std::optional<std::string> AllocationPool::allocateFs(int64_t now) {
  std::lock_guard lock(mutex_);
  return pick(config_.fs, fsCursor_, now, false);
}

}  // namespace meeting::allocator
