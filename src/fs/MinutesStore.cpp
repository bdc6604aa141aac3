#include "fs/MinutesStore.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/SignedUrl.hpp"
#include "fs/FileStore.hpp"

namespace meeting::fs {

namespace stdfs = std::filesystem;

namespace {

std::string sha256Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> d{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr);
  static constexpr char Hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(Hex[d[i] >> 4]);
    out.push_back(Hex[d[i] & 15]);
  }
  return out;
}

std::optional<std::string> readSmallFile(const std::string& path, size_t limit) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return std::nullopt;
  std::string out;
  char buf[16384];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
    out.append(buf, n);
    if (out.size() > limit) return std::nullopt;
  }
  return out;
}

std::string versionName(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%010llu", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

bool isTextUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

MinutesStore::MinutesStore(std::string directory, const Clock& clock) : directory_(std::move(directory)), clock_(clock) {}

std::string MinutesStore::roomDir(const std::string& room) const { return directory_ + "/minutes/" + room; }

uint64_t MinutesStore::latestLocked(const std::string& room) {
  auto it = latest_.find(room);
  if (it != latest_.end()) return it->second;
  uint64_t latest = 0;
  std::error_code ec;
  for (const auto& entry : stdfs::directory_iterator(roomDir(room), ec)) {
    auto name = entry.path().filename().string();
    if (name.size() == 15 && name.substr(10) == ".json") {
      latest = std::max<uint64_t>(latest, std::strtoull(name.substr(0, 10).c_str(), nullptr, 10));
    }
  }
  latest_[room] = latest;
  return latest;
}

uint64_t MinutesStore::latest(const std::string& room) {
  if (!signedurl::isValidRoom(room)) return 0;
  std::lock_guard lock(mutex_);
  return latestLocked(room);
}

std::optional<MinutesVersion> MinutesStore::record(const std::string& room, uint64_t version) const {
  auto text = readSmallFile(roomDir(room) + "/" + versionName(version) + ".json", 65536);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  MinutesVersion v;
  v.version = version;
  v.base = j.value("base", uint64_t{0});
  v.author = j.value("author", "");
  v.sha256 = j.value("sha256", "");
  v.size = j.value("size", uint64_t{0});
  v.savedAt = j.value("saved_at", int64_t{0});
  return v;
}

Result<MinutesVersion> MinutesStore::save(const std::string& room, uint64_t base, std::string_view text,
                                          const std::string& author) {
  if (!signedurl::isValidRoom(room)) return makeError(fs::errc::Invalid, "invalid room");
  if (text.size() > MaxMinutesBytes) return makeError(fs::errc::TooLarge, "minutes are limited to 1 MiB");
  if (!isTextUtf8(text)) return makeError(errc::NotText, "minutes must be UTF-8 text");
  // One lock for check-and-write: two saves on the same base cannot both pass the check.
  std::lock_guard lock(mutex_);
  uint64_t latest = latestLocked(room);
  if (base != latest) {
    return makeError(errc::Conflict, "the minutes changed: latest version is " + std::to_string(latest) +
                                         ", this save was based on " + std::to_string(base));
  }
  std::error_code ec;
  stdfs::create_directories(roomDir(room), ec);
  if (ec) return makeError(fs::errc::Io, "cannot create the minutes folder: " + ec.message());
  MinutesVersion v;
  v.version = latest + 1;
  v.base = base;
  v.author = author;
  v.sha256 = sha256Hex(text);
  v.size = text.size();
  v.savedAt = clock_.wallMicros() / 1'000'000;
  const std::string stem = roomDir(room) + "/" + versionName(v.version);
  // The text first, then the record that makes the version exist (as with files' sidecars).
  auto wrote = writeFileAtomically(directory_ + "/tmp", stem + ".md", text);
  if (!wrote) return wrote.error();
  nlohmann::json rec = {{"version", v.version}, {"base", v.base}, {"author", v.author},
                        {"sha256", v.sha256},   {"size", v.size}, {"saved_at", v.savedAt}};
  wrote = writeFileAtomically(directory_ + "/tmp", stem + ".json", rec.dump());
  if (!wrote) return wrote.error();
  latest_[room] = v.version;
  return v;
}

Result<std::pair<MinutesVersion, std::string>> MinutesStore::read(const std::string& room,
                                                                   std::optional<uint64_t> version) {
  if (!signedurl::isValidRoom(room)) return makeError(fs::errc::Invalid, "invalid room");
  uint64_t v;
  {
    std::lock_guard lock(mutex_);
    v = version.value_or(latestLocked(room));
  }
  if (v == 0) return makeError(fs::errc::NotFound, "this room has no minutes yet");
  auto rec = record(room, v);
  if (!rec) return makeError(fs::errc::NotFound, "no such version");
  auto text = readSmallFile(roomDir(room) + "/" + versionName(v) + ".md", MaxMinutesBytes);
  if (!text) return makeError(fs::errc::Io, "cannot read the minutes");
  return std::make_pair(std::move(*rec), std::move(*text));
}

std::vector<MinutesVersion> MinutesStore::versions(const std::string& room) {
  std::vector<MinutesVersion> out;
  uint64_t latest = this->latest(room);
  for (uint64_t v = 1; v <= latest; ++v) {
    if (auto rec = record(room, v)) out.push_back(std::move(*rec));
  }
  return out;
}

}  // namespace meeting::fs
