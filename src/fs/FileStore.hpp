#pragma once
// Files on the fsserver's disk. Layout under the storage directory:
//
//   files/<id>        the bytes, visible only once complete (fsynced, then renamed here)
//   files/<id>.json   the metadata sidecar (name, type, size, SHA-256, room, uploader, time),
//                     written the same way after the bytes; a file exists iff its sidecar does
//   tmp/              uploads in progress; emptied at every start
//
// Ids are 128-bit random hex strings chosen by the apiserver (signedurl::newFileId) and checked
// here, so no client input ever becomes a path. A crash at any point leaves either no file or a
// complete one: at start, temporaries are removed and bytes without a sidecar (or a sidecar without
// its bytes) are dropped. Thread-safe; uploads write on the HTTP loop and commit on a worker.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/Clock.hpp"
#include "common/Result.hpp"

namespace meeting::fs {

struct FileMeta {
  std::string id;
  std::string room;
  std::string name;         ///< the uploader's file name (display only; sanitized when served)
  std::string contentType;  ///< an allow-listed media type, lowercase, without parameters
  std::string uploader;     ///< who uploaded: the upload grant's signed subject
  std::string sha256;       ///< lowercase hex of the bytes, computed while writing
  uint64_t size = 0;
  int64_t createdAt = 0;    ///< Unix seconds
  /// Non-zero while the apiserver has not confirmed the upload (it recorded no row yet): the file
  /// is removed from this Unix second on (sweepUnconfirmed). 0: confirmed, or stored before
  /// confirmations existed.
  int64_t confirmBy = 0;
};

struct StoreLimits {
  uint64_t maxFileBytes = 2ull << 30;     ///< no single file above this, whatever a URL allows
  uint64_t roomQuotaBytes = 10ull << 30;  ///< per room; 0: unlimited
  uint64_t totalQuotaBytes = 0;           ///< whole store; 0: unlimited
};

/// Stable error codes of FileStore results.
namespace errc {
inline constexpr const char* TooLarge = "too_large";
inline constexpr const char* Quota = "quota_exceeded";
inline constexpr const char* Exists = "already_exists";
inline constexpr const char* NotFound = "not_found";
inline constexpr const char* Io = "io_error";
inline constexpr const char* BadType = "unsupported_type";
inline constexpr const char* ContentMismatch = "content_mismatch";  ///< bytes do not look like the type
inline constexpr const char* Invalid = "invalid";
}  // namespace errc

/// The media types a file may have (images, PDF, office documents, text). SVG and HTML are left
/// out on purpose: a browser would run their scripts on the fsserver's origin.
bool isAllowedContentType(std::string_view type);
/// "Image/PNG; charset=x" -> "image/png" (empty when malformed).
std::string normalizeContentType(std::string_view header);

class FileStore : public std::enable_shared_from_this<FileStore> {
 public:
  /// Creates the layout if needed, removes leftovers of interrupted uploads and loads the index.
  static Result<std::shared_ptr<FileStore>> open(const std::string& directory, StoreLimits limits, const Clock& clock);

  /// One upload in progress. Destroyed without a successful commit(), it removes its temporary
  /// file and gives its quota reservation back.
  class Upload {
   public:
    ~Upload();
    Upload(const Upload&) = delete;
    Upload& operator=(const Upload&) = delete;
    /// Appends bytes (hashing them). Fails on the size limit, a quota, a write error, or a first
    /// few bytes that do not match the declared type.
    Result<void> write(std::string_view bytes);
    /// fsync, rename into place, write the sidecar. May block on the disk: call off the loop.
    Result<FileMeta> commit();
    uint64_t written() const { return written_; }

   private:
    friend class FileStore;
    Upload(std::shared_ptr<FileStore> store, FileMeta meta, uint64_t limit, std::string tempPath, int fd);
    void release();
    std::shared_ptr<FileStore> store_;
    FileMeta meta_;
    uint64_t limit_;
    std::string tempPath_;
    int fd_;
    void* sha_ = nullptr;  // EVP_MD_CTX
    uint64_t written_ = 0;
    uint64_t reserved_ = 0;  // quota held for this upload (>= written_)
    std::string head_;     // the first bytes, for the type check
    bool headChecked_ = false;
    bool done_ = false;
  };

  /// Starts an upload of `draft` (id, room, name, contentType, uploader set by the caller) of at
  /// most `maxBytes`; `declaredSize` (Content-Length) lets quotas refuse before any byte is read.
  Result<std::unique_ptr<Upload>> beginUpload(FileMeta draft, uint64_t maxBytes, std::optional<uint64_t> declaredSize);

  std::optional<FileMeta> find(const std::string& id) const;
  /// Marks an upload as recorded by the apiserver (rewrites the sidecar; may block on the disk).
  /// NotFound when there is no such file or its confirmBy has passed (it is being swept).
  Result<FileMeta> confirm(const std::string& id, int64_t nowSeconds);
  /// Removes the files whose confirmBy has come (bytes uploaded but never recorded by the
  /// apiserver), giving their quota back. Returns how many. May block on the disk.
  size_t sweepUnconfirmed(int64_t nowSeconds);
  /// Removes the sidecar first (the file disappears at once), then the bytes.
  Result<void> remove(const std::string& id);
  std::vector<FileMeta> list(const std::string& room) const;
  uint64_t roomUsage(const std::string& room) const;
  uint64_t totalUsage() const;
  /// For the load report: committed files, bytes stored (and reserved), uploads in progress.
  struct Usage {
    uint64_t files = 0;
    uint64_t bytes = 0;
    uint64_t uploadsInProgress = 0;
  };
  Usage usage() const;
  /// Path of a stored file's bytes (the id must be valid).
  std::string dataPath(const std::string& id) const;
  const std::string& directory() const { return directory_; }
  const StoreLimits& limits() const { return limits_; }

  FileStore(std::string directory, StoreLimits limits, const Clock& clock);  // use open()

 private:
  Result<void> load();
  Result<void> reserve(const std::string& room, uint64_t bytes);
  void unreserve(const std::string& room, uint64_t bytes);
  Result<void> writeSidecar(const FileMeta& meta);
  /// Removes `id` if it exists and `condition` (when given) holds for it, atomically with the check.
  Result<FileMeta> removeWhere(const std::string& id, const std::function<bool(const FileMeta&)>& condition);

  std::string directory_;
  StoreLimits limits_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::map<std::string, FileMeta> files_;
  std::set<std::string> pending_;               // ids with an upload in progress
  std::map<std::string, uint64_t> roomBytes_;   // committed + reserved
  uint64_t totalBytes_ = 0;                     // committed + reserved
  uint64_t tempCounter_ = 0;
};

/// Writes `data` to `path` atomically (temp file in `tmpDir`, fsync, rename, fsync of the
/// directory).
Result<void> writeFileAtomically(const std::string& tmpDir, const std::string& path, std::string_view data);
/// fsync of a directory so a rename in it survives a crash.
void syncDirectory(const std::string& dir);

}  // namespace meeting::fs
