#include "api/PendingUploads.hpp"

#include <algorithm>

namespace meeting::api {

void PendingUploads::expire(int64_t nowSeconds) {
  std::erase_if(entries_, [nowSeconds](const auto& e) { return e.second.keepUntil <= nowSeconds; });
}

void PendingUploads::add(const std::string& id, PendingUpload upload, int64_t nowSeconds) {
  std::lock_guard lock(mutex_);
  expire(nowSeconds);
  if (entries_.size() >= MaxEntries && !entries_.count(id)) {
    // Bounded memory whatever callers do: forget the entry that would expire first.
    auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
      return a.second.keepUntil < b.second.keepUntil;
    });
    entries_.erase(oldest);
  }
  entries_[id] = std::move(upload);
}

std::optional<PendingUpload> PendingUploads::find(const std::string& id, int64_t nowSeconds) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.keepUntil <= nowSeconds) return std::nullopt;
  return it->second;
}

void PendingUploads::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  entries_.erase(id);
}

size_t PendingUploads::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace meeting::api
