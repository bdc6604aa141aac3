#include "fs/FileStore.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/Log.hpp"
#include "common/SignedUrl.hpp"

namespace meeting::fs {

namespace stdfs = std::filesystem;

namespace {

constexpr std::array<std::string_view, 20> AllowedTypes = {
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp",
    "application/pdf",
    "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation", "application/rtf",
    "text/plain", "text/markdown", "text/csv"};

Error ioError(const std::string& what) {
  return makeError(errc::Io, what + ": " + std::strerror(errno));
}

std::string hex(const unsigned char* data, size_t n) {
  static constexpr char Digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(Digits[data[i] >> 4]);
    out.push_back(Digits[data[i] & 15]);
  }
  return out;
}

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Magic numbers of the binary formats whose first bytes are fixed; a PNG that is not a PNG is
// refused so that the declared type we serve is not a lie a browser could be tricked by.
constexpr size_t MagicBytes = 12;
bool headMatchesType(std::string_view type, std::string_view head) {
  if (type == "image/png") return startsWith(head, "\x89PNG\r\n\x1a\n");
  if (type == "image/jpeg") return startsWith(head, "\xff\xd8\xff");
  if (type == "image/gif") return startsWith(head, "GIF87a") || startsWith(head, "GIF89a");
  if (type == "image/webp") return startsWith(head, "RIFF") && head.size() >= 12 && head.substr(8, 4) == "WEBP";
  if (type == "application/pdf") return startsWith(head, "%PDF-");
  return true;
}

nlohmann::json toJson(const FileMeta& m) {
  nlohmann::json j = {{"id", m.id},           {"room", m.room}, {"name", m.name},     {"content_type", m.contentType},
                      {"uploader", m.uploader}, {"sha256", m.sha256}, {"size", m.size}, {"created_at", m.createdAt}};
  if (m.confirmBy != 0) j["confirm_by"] = m.confirmBy;
  return j;
}

std::optional<FileMeta> fromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  FileMeta m;
  try {
    m.id = j.at("id").get<std::string>();
    m.room = j.at("room").get<std::string>();
    m.name = j.value("name", "");
    m.contentType = j.at("content_type").get<std::string>();
    m.uploader = j.value("uploader", "");
    m.sha256 = j.at("sha256").get<std::string>();
    m.size = j.at("size").get<uint64_t>();
    m.createdAt = j.value("created_at", int64_t{0});
    m.confirmBy = j.value("confirm_by", int64_t{0});
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a damaged sidecar: the file is treated as absent
  }
  return m;
}

}  // namespace

std::string normalizeContentType(std::string_view header) {
  auto semi = header.find(';');
  std::string_view base = header.substr(0, semi);
  while (!base.empty() && (base.front() == ' ' || base.front() == '\t')) base.remove_prefix(1);
  while (!base.empty() && (base.back() == ' ' || base.back() == '\t')) base.remove_suffix(1);
  if (base.empty() || base.size() > 127 || base.find('/') == std::string_view::npos) return {};
  std::string out;
  for (char c : base) {
    if (c <= ' ' || c >= 127) return {};
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

bool isAllowedContentType(std::string_view type) {
  return std::find(AllowedTypes.begin(), AllowedTypes.end(), type) != AllowedTypes.end();
}

void syncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

Result<void> writeFileAtomically(const std::string& tmpDir, const std::string& path, std::string_view data) {
  static std::atomic<uint64_t> counter{0};
  std::string tmp = tmpDir + "/w." + std::to_string(::getpid()) + "." + std::to_string(++counter);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return ioError("create " + tmp);
  bool ok = writeAll(fd, data) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = ioError("write " + path);
    ::unlink(tmp.c_str());
    return err;
  }
  syncDirectory(stdfs::path(path).parent_path().string());
  return {};
}

// --------------------------------------------------------------------------------------------
FileStore::FileStore(std::string directory, StoreLimits limits, const Clock& clock)
    : directory_(std::move(directory)), limits_(limits), clock_(clock) {}

Result<std::shared_ptr<FileStore>> FileStore::open(const std::string& directory, StoreLimits limits,
                                                   const Clock& clock) {
  if (directory.empty()) return makeError("invalid_config", "--directory: must name the storage directory");
  auto store = std::make_shared<FileStore>(stdfs::absolute(directory).lexically_normal().string(), limits, clock);
  auto loaded = store->load();
  if (!loaded) return loaded.error();
  return store;
}

Result<void> FileStore::load() {
  std::error_code ec;
  for (const char* sub : {"files", "tmp", "minutes"}) {
    stdfs::create_directories(stdfs::path(directory_) / sub, ec);
    if (ec) return makeError("invalid_config", "--directory: cannot create " + directory_ + "/" + sub + ": " + ec.message());
  }
  // Uploads cut by a crash or a dropped connection leave only temporaries: they go now.
  size_t cleaned = 0;
  for (const auto& entry : stdfs::directory_iterator(stdfs::path(directory_) / "tmp", ec)) {
    std::error_code rmEc;
    stdfs::remove_all(entry.path(), rmEc);
    ++cleaned;
  }
  if (cleaned) MLOG_INFO("fs: removed {} interrupted upload(s) from {}/tmp", cleaned, directory_);
  std::set<std::string> dataIds;
  std::vector<FileMeta> metas;
  for (const auto& entry : stdfs::directory_iterator(stdfs::path(directory_) / "files", ec)) {
    std::string name = entry.path().filename().string();
    if (signedurl::isValidFileId(name)) {
      dataIds.insert(name);
      continue;
    }
    if (name.size() == signedurl::FileIdLength + 5 && name.substr(signedurl::FileIdLength) == ".json" &&
        signedurl::isValidFileId(name.substr(0, signedurl::FileIdLength))) {
      std::string text;
      if (auto f = std::unique_ptr<FILE, int (*)(FILE*)>(std::fopen(entry.path().c_str(), "rb"), &std::fclose)) {
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0 && text.size() < 65536) text.append(buf, n);
      }
      auto meta = fromJson(text);
      if (meta && meta->id == name.substr(0, signedurl::FileIdLength)) metas.push_back(std::move(*meta));
      else stdfs::remove(entry.path(), ec);
    }
  }
  std::lock_guard lock(mutex_);
  for (auto& m : metas) {
    std::error_code sizeEc;
    auto size = stdfs::file_size(dataPath(m.id), sizeEc);
    if (sizeEc || size != m.size) {
      MLOG_WARN("fs: dropping {}: sidecar without matching bytes", m.id);
      stdfs::remove(stdfs::path(directory_) / "files" / (m.id + ".json"), sizeEc);
      continue;
    }
    dataIds.erase(m.id);
    roomBytes_[m.room] += m.size;
    totalBytes_ += m.size;
    files_[m.id] = std::move(m);
  }
  // Bytes renamed into place whose sidecar never made it (crash between the two renames).
  for (const auto& id : dataIds) stdfs::remove(dataPath(id), ec);
  MLOG_INFO("fs: {} file(s), {} bytes in {}", files_.size(), totalBytes_, directory_);
  return {};
}

std::string FileStore::dataPath(const std::string& id) const { return directory_ + "/files/" + id; }

Result<void> FileStore::reserve(const std::string& room, uint64_t bytes) {
  // Caller holds mutex_.
  if (limits_.roomQuotaBytes && roomBytes_[room] + bytes > limits_.roomQuotaBytes) {
    return makeError(errc::Quota, "the room's storage quota is used up");
  }
  if (limits_.totalQuotaBytes && totalBytes_ + bytes > limits_.totalQuotaBytes) {
    return makeError(errc::Quota, "the server's storage quota is used up");
  }
  roomBytes_[room] += bytes;
  totalBytes_ += bytes;
  return {};
}

void FileStore::unreserve(const std::string& room, uint64_t bytes) {
  auto& r = roomBytes_[room];
  r -= std::min(r, bytes);
  totalBytes_ -= std::min(totalBytes_, bytes);
}

Result<std::unique_ptr<FileStore::Upload>> FileStore::beginUpload(FileMeta draft, uint64_t maxBytes,
                                                                  std::optional<uint64_t> declaredSize) {
  if (!signedurl::isValidFileId(draft.id) || !signedurl::isValidRoom(draft.room)) {
    return makeError(errc::Invalid, "invalid file id or room");
  }
  if (!isAllowedContentType(draft.contentType)) {
    return makeError(errc::BadType, "content type '" + draft.contentType + "' is not allowed");
  }
  uint64_t limit = std::min(maxBytes, limits_.maxFileBytes);
  if (declaredSize && *declaredSize > limit) {
    return makeError(errc::TooLarge, "the file exceeds " + std::to_string(limit) + " bytes");
  }
  std::string temp;
  {
    std::lock_guard lock(mutex_);
    if (files_.count(draft.id) || pending_.count(draft.id)) return makeError(errc::Exists, "the file id is taken");
    auto reserved = reserve(draft.room, declaredSize.value_or(0));
    if (!reserved) return reserved.error();
    pending_.insert(draft.id);
    temp = directory_ + "/tmp/" + draft.id + "." + std::to_string(++tempCounter_);
  }
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) {
    auto err = ioError("create temporary file");
    std::lock_guard lock(mutex_);
    pending_.erase(draft.id);
    unreserve(draft.room, declaredSize.value_or(0));
    return err;
  }
  draft.createdAt = clock_.wallMicros() / 1'000'000;
  std::unique_ptr<Upload> up(new Upload(shared_from_this(), std::move(draft), limit, std::move(temp), fd));
  up->reserved_ = declaredSize.value_or(0);
  return up;
}

std::optional<FileMeta> FileStore::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = files_.find(id);
  if (it == files_.end()) return std::nullopt;
  return it->second;
}

Result<void> FileStore::remove(const std::string& id) {
  auto removed = removeWhere(id, nullptr);
  if (!removed) return removed.error();
  return {};
}

Result<FileMeta> FileStore::removeWhere(const std::string& id, const std::function<bool(const FileMeta&)>& condition) {
  FileMeta meta;
  {
    std::lock_guard lock(mutex_);
    auto it = files_.find(id);
    if (it == files_.end() || (condition && !condition(it->second))) return makeError(errc::NotFound, "no such file");
    meta = std::move(it->second);
    files_.erase(it);
    unreserve(meta.room, meta.size);
  }
  // Sidecar first: from this instant a restart would not bring the file back.
  ::unlink((dataPath(id) + ".json").c_str());
  ::unlink(dataPath(id).c_str());
  syncDirectory(directory_ + "/files");
  return meta;
}

Result<FileMeta> FileStore::confirm(const std::string& id, int64_t nowSeconds) {
  FileMeta meta;
  {
    std::lock_guard lock(mutex_);
    auto it = files_.find(id);
    if (it == files_.end()) return makeError(errc::NotFound, "no such file");
    if (it->second.confirmBy == 0) return it->second;  // a retried confirmation
    if (it->second.confirmBy <= nowSeconds) return makeError(errc::NotFound, "the upload was not confirmed in time");
    meta = it->second;
  }
  meta.confirmBy = 0;
  // The sidecar is rewritten atomically outside the lock (it fsyncs). A remove or a sweep in
  // between wins: the new sidecar is taken away again and the confirmation fails.
  if (auto written = writeSidecar(meta); !written) return written.error();
  std::lock_guard lock(mutex_);
  auto it = files_.find(id);
  if (it == files_.end()) {
    ::unlink((dataPath(id) + ".json").c_str());
    return makeError(errc::NotFound, "the file was removed meanwhile");
  }
  it->second.confirmBy = 0;
  return it->second;
}

size_t FileStore::sweepUnconfirmed(int64_t nowSeconds) {
  std::vector<std::string> due;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, m] : files_) {
      if (m.confirmBy != 0 && m.confirmBy <= nowSeconds) due.push_back(id);
    }
  }
  size_t removed = 0;
  for (const auto& id : due) {
    // Checked again under the lock: a confirmation that landed meanwhile keeps the file.
    auto gone = removeWhere(id, [nowSeconds](const FileMeta& m) { return m.confirmBy != 0 && m.confirmBy <= nowSeconds; });
    if (gone) {
      ++removed;
      MLOG_INFO("fs: removed {} ({} bytes, room {}): uploaded but never confirmed by the apiserver", id, gone->size,
                gone->room);
    }
  }
  return removed;
}

std::vector<FileMeta> FileStore::list(const std::string& room) const {
  std::lock_guard lock(mutex_);
  std::vector<FileMeta> out;
  for (const auto& [id, m] : files_) {
    if (m.room == room) out.push_back(m);
  }
  std::sort(out.begin(), out.end(), [](const FileMeta& a, const FileMeta& b) { return a.createdAt < b.createdAt; });
  return out;
}

uint64_t FileStore::roomUsage(const std::string& room) const {
  std::lock_guard lock(mutex_);
  auto it = roomBytes_.find(room);
  return it == roomBytes_.end() ? 0 : it->second;
}

uint64_t FileStore::totalUsage() const {
  std::lock_guard lock(mutex_);
  return totalBytes_;
}

FileStore::Usage FileStore::usage() const {
  std::lock_guard lock(mutex_);
  return Usage{files_.size(), totalBytes_, pending_.size()};
}

Result<void> FileStore::writeSidecar(const FileMeta& meta) {
  return writeFileAtomically(directory_ + "/tmp", dataPath(meta.id) + ".json", toJson(meta).dump());
}

// --------------------------------------------------------------------------------------------
FileStore::Upload::Upload(std::shared_ptr<FileStore> store, FileMeta meta, uint64_t limit, std::string tempPath, int fd)
    : store_(std::move(store)), meta_(std::move(meta)), limit_(limit), tempPath_(std::move(tempPath)), fd_(fd) {
  auto* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  sha_ = ctx;
}

FileStore::Upload::~Upload() {
  if (!done_) {
    ::unlink(tempPath_.c_str());
    release();
  }
  if (fd_ >= 0) ::close(fd_);
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(sha_));
}

void FileStore::Upload::release() {
  std::lock_guard lock(store_->mutex_);
  store_->pending_.erase(meta_.id);
  store_->unreserve(meta_.room, reserved_);
  reserved_ = 0;
}

Result<void> FileStore::Upload::write(std::string_view bytes) {
  if (done_) return makeError(errc::Invalid, "the upload is finished");
  if (bytes.size() > limit_ - written_) {
    return makeError(errc::TooLarge, "the file exceeds " + std::to_string(limit_) + " bytes");
  }
  if (written_ + bytes.size() > reserved_) {
    std::lock_guard lock(store_->mutex_);
    uint64_t more = written_ + bytes.size() - reserved_;
    auto ok = store_->reserve(meta_.room, more);
    if (!ok) return ok.error();
    reserved_ += more;
  }
  if (!headChecked_) {
    head_.append(bytes.substr(0, MagicBytes - head_.size()));
    if (head_.size() >= MagicBytes) {
      headChecked_ = true;
      if (!headMatchesType(meta_.contentType, head_)) {
        return makeError(errc::ContentMismatch, "the content is not " + meta_.contentType);
      }
    }
  }
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(sha_), bytes.data(), bytes.size());
  if (!writeAll(fd_, bytes)) return ioError("write");
  written_ += bytes.size();
  return {};
}

Result<FileMeta> FileStore::Upload::commit() {
  if (done_) return makeError(errc::Invalid, "the upload is finished");
  if (!headChecked_ && !headMatchesType(meta_.contentType, head_)) {
    return makeError(errc::ContentMismatch, "the content is not " + meta_.contentType);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(sha_), digest.data(), &len);
  meta_.sha256 = hex(digest.data(), len);
  meta_.size = written_;
  // The bytes reach the disk before the name does, and the name before the sidecar that makes
  // the file visible; each rename is atomic, so readers see nothing or everything.
  if (::fsync(fd_) != 0) return ioError("fsync");
  ::close(fd_);
  fd_ = -1;
  const std::string finalPath = store_->dataPath(meta_.id);
  if (::rename(tempPath_.c_str(), finalPath.c_str()) != 0) return ioError("rename");
  auto side = store_->writeSidecar(meta_);  // fsyncs the directory too
  if (!side) {
    ::unlink(finalPath.c_str());
    return side.error();
  }
  std::lock_guard lock(store_->mutex_);
  done_ = true;
  store_->pending_.erase(meta_.id);
  store_->unreserve(meta_.room, reserved_ - written_);  // keep exactly the file's size
  reserved_ = 0;
  store_->files_[meta_.id] = meta_;
  return meta_;
}

}  // namespace meeting::fs
