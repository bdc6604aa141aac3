#include "api/auth/WaitingRoom.hpp"

#include <algorithm>

#include "api/db/Secrets.hpp"

namespace meeting::api::auth {

const char* stateName(WaitingRoom::State state) {
  switch (state) {
    case WaitingRoom::State::Waiting: return "waiting";
    case WaitingRoom::State::Admitted: return "admitted";
    case WaitingRoom::State::Denied: return "denied";
  }
  return "waiting";
}

void WaitingRoom::expire(int64_t nowMs) {
  std::erase_if(tickets_, [&](const auto& entry) { return entry.second.lastPollMs + idleTimeoutMs_ <= nowMs; });
}

std::optional<WaitingRoom::Ticket> WaitingRoom::add(const std::string& room, const std::string& displayName,
                                                    const std::string& identity, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  expire(nowMs);
  if (tickets_.size() >= maxTickets_) return std::nullopt;
  Ticket t;
  // The ticket is the guest's only credential while waiting: unguessable like a token.
  t.id = db::secrets::randomString(32, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
  t.room = room;
  t.displayName = displayName;
  t.identity = identity;
  t.sinceMs = t.lastPollMs = nowMs;
  tickets_[t.id] = t;
  return t;
}

std::optional<WaitingRoom::Ticket> WaitingRoom::poll(const std::string& ticket, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  expire(nowMs);
  auto it = tickets_.find(ticket);
  if (it == tickets_.end()) return std::nullopt;
  it->second.lastPollMs = nowMs;
  return it->second;
}

std::vector<WaitingRoom::Ticket> WaitingRoom::waiting(const std::string& room, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  expire(nowMs);
  std::vector<Ticket> out;
  for (const auto& [id, t] : tickets_) {
    if (t.room == room && t.state == State::Waiting) out.push_back(t);
  }
  std::sort(out.begin(), out.end(), [](const Ticket& a, const Ticket& b) {
    return a.sinceMs != b.sinceMs ? a.sinceMs < b.sinceMs : a.id < b.id;
  });
  return out;
}

std::optional<WaitingRoom::Ticket> WaitingRoom::find(const std::string& room, const std::string& ticket, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  expire(nowMs);
  auto it = tickets_.find(ticket);
  if (it == tickets_.end() || it->second.room != room) return std::nullopt;
  return it->second;
}

bool WaitingRoom::decide(const std::string& ticket, bool admit, nlohmann::json admission) {
  std::lock_guard lock(mutex_);
  auto it = tickets_.find(ticket);
  if (it == tickets_.end() || it->second.state != State::Waiting) return false;
  it->second.state = admit ? State::Admitted : State::Denied;
  it->second.admission = std::move(admission);
  return true;
}

void WaitingRoom::dropRoom(const std::string& room) {
  std::lock_guard lock(mutex_);
  std::erase_if(tickets_, [&](const auto& entry) { return entry.second.room == room; });
}

}  // namespace meeting::api::auth
