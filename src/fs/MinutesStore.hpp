#pragma once
// A room's meeting minutes: one text/Markdown document with versions. Every save is a new
// version written atomically next to the older ones (minutes/<room>/<version>.md and .json);
// a save names the version it was based on, and if another save got in first it is refused as a
// conflict instead of overwriting (optimistic concurrency, like HTTP If-Match, RFC 9110 §13.1.1).
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/Clock.hpp"
#include "common/Result.hpp"

namespace meeting::fs {

struct MinutesVersion {
  uint64_t version = 0;   ///< 1, 2, ...
  uint64_t base = 0;      ///< the version this one was edited from (0: the first)
  std::string author;
  std::string sha256;
  uint64_t size = 0;
  int64_t savedAt = 0;    ///< Unix seconds
};

namespace errc {
inline constexpr const char* Conflict = "conflict";
inline constexpr const char* NotText = "not_text";
}  // namespace errc

inline constexpr uint64_t MaxMinutesBytes = 1 << 20;

class MinutesStore {
 public:
  /// `directory` is the fsserver's storage directory (minutes live in its minutes/ folder).
  MinutesStore(std::string directory, const Clock& clock);

  /// Saves `text` as the next version if `base` is the latest (0 when there is none yet).
  /// Error code errc::Conflict (message names the latest version) otherwise.
  Result<MinutesVersion> save(const std::string& room, uint64_t base, std::string_view text, const std::string& author);
  /// The text of `version` (latest when empty) and its record.
  Result<std::pair<MinutesVersion, std::string>> read(const std::string& room, std::optional<uint64_t> version);
  /// Every version, oldest first.
  std::vector<MinutesVersion> versions(const std::string& room);
  uint64_t latest(const std::string& room);

 private:
  std::string roomDir(const std::string& room) const;
  uint64_t latestLocked(const std::string& room);
  std::optional<MinutesVersion> record(const std::string& room, uint64_t version) const;

  std::string directory_;
  const Clock& clock_;
  std::mutex mutex_;
  std::map<std::string, uint64_t> latest_;  // cache of the highest version per room
};

/// True for valid UTF-8 without NUL (what a text document may contain).
bool isTextUtf8(std::string_view text);

}  // namespace meeting::fs
