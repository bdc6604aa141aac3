#pragma once
// Uploads the apiserver has signed but whose bytes it has not yet seen stored: what
// `POST /api/v1/files/{id}/complete` needs to know (room, name, declared type and size, the
// fsserver holding the bytes). Kept in memory only: an upload URL lives 10 minutes, and an
// apiserver restart in between costs the client one new upload URL. Bounded; thread-safe.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace meeting::api {

struct PendingUpload {
  std::string roomId;
  std::string name;
  std::string contentType;  ///< as declared by the client (the fsserver's answer wins)
  uint64_t maxBytes = 0;
  std::string uploader;
  std::string fsBase;       ///< e.g. "https://fs1.example.com:443" (no trailing slash)
  int64_t keepUntil = 0;    ///< Unix seconds after which the entry is forgotten
};

class PendingUploads {
 public:
  /// More pending uploads than this and the oldest-expiring ones are dropped first.
  static constexpr size_t MaxEntries = 10'000;

  /// Adds (or replaces) `id`; drops entries past their keepUntil at `nowSeconds`.
  void add(const std::string& id, PendingUpload upload, int64_t nowSeconds);
  std::optional<PendingUpload> find(const std::string& id, int64_t nowSeconds) const;
  void remove(const std::string& id);
  size_t size() const;

 private:
  void expire(int64_t nowSeconds);

  mutable std::mutex mutex_;
  std::map<std::string, PendingUpload> entries_;
};

}  // namespace meeting::api
