#pragma once
// The fsserver's HTTP endpoints under /fs/v1, every one authorized by a signed URL
// (common/SignedUrl.hpp) and nothing else:
//
//   PUT    /fs/v1/files/{id}?<upload grant>[&name=]      streamed upload -> 201 {id, sha256, size, ...}
//   GET    /fs/v1/files/{id}?<download grant>             download (HEAD, ETag/304, Range/206/416)
//   DELETE /fs/v1/files/{id}?<delete grant>               -> 204
//   POST   /fs/v1/files/{id}/confirm?<confirm grant>      the apiserver recorded it -> 200 {id, sha256, size, ...}
//   GET    /fs/v1/rooms/{room}/minutes?<minutes-read>[&version=N]
//   GET    /fs/v1/rooms/{room}/minutes/versions?<minutes-read>
//   PUT    /fs/v1/rooms/{room}/minutes?<minutes-write>&base=N   -> 201, or 409 on conflict
//
// The uploader of a file and the author of a minutes version are the grant's signed subject.
//
// Uploads stream to the store through a 64 KiB buffer; fsync and rename run on a small worker
// pool, never on the HTTP loop. Downloads stream from the file in 64 KiB pieces.
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "common/Clock.hpp"
#include "common/Metrics.hpp"
#include "common/Result.hpp"
#include "common/SignedUrl.hpp"
#include "fs/FileStore.hpp"
#include "fs/MinutesStore.hpp"
#include "net/HttpRouter.hpp"

namespace meeting::fs {

inline constexpr const char* FsPrefix = "/fs/v1";

struct FileServerOptions {
  std::string secret;     ///< the cluster --secret that signs URLs
  std::string directory;  ///< --directory
  StoreLimits limits;
  size_t commitThreads = 2;
  /// An upload the apiserver has not confirmed this long after its upload URL expired is removed
  /// (bytes stored, but the client never called complete). The apiserver accepts complete until
  /// one hour after the expiry, so this must stay above 3600.
  int64_t confirmGraceSeconds = 7200;
};

/// What the fsserver reports on the control link every second (FsService turns the byte counts
/// into rates). Byte counts are process-wide (the /metrics counters).
struct FsLoad {
  uint64_t uploadsInProgress = 0;
  uint64_t downloadsInProgress = 0;  ///< responses with a file body not yet finished
  uint64_t bytesIn = 0;              ///< upload bytes received so far
  uint64_t bytesOut = 0;             ///< download body bytes of finished responses so far
  uint64_t storedFiles = 0;
  uint64_t storedBytes = 0;
};

class FileServer {
 public:
  static Result<std::unique_ptr<FileServer>> create(FileServerOptions options, const Clock& clock);
  ~FileServer();
  void registerRoutes(net::HttpRouter& router);
  /// Removes unconfirmed uploads past their bound, on the worker pool (call it periodically;
  /// FsService does every minute). Also done once at create().
  void sweepUnconfirmed();
  /// How often FsService calls sweepUnconfirmed().
  static constexpr std::chrono::seconds SweepPeriod{60};

  FileStore& store() { return *store_; }
  /// Any thread.
  FsLoad load() const;
  MinutesStore& minutes() { return minutes_; }

  FileServer(FileServerOptions options, std::shared_ptr<FileStore> store, const Clock& clock);  // use create()

 private:
  class UploadSink;
  using StreamVerdict = std::variant<std::unique_ptr<net::HttpBodySink>, net::HttpResponse>;

  /// Checks the signed query of `ctx` for `op` on `id`; a 403 response when it does not hold.
  std::optional<net::HttpResponse> authorize(const net::HttpRequestContext& ctx, signedurl::Operation op,
                                             const std::string& id, signedurl::Grant& grant);
  StreamVerdict upload(net::HttpRequestContext& ctx);
  void download(net::HttpRequestContext& ctx, net::HttpResponder respond);
  net::HttpResponse remove(net::HttpRequestContext& ctx);
  void confirm(net::HttpRequestContext& ctx, net::HttpResponder respond);
  net::HttpResponse readMinutes(net::HttpRequestContext& ctx);
  net::HttpResponse listMinutes(net::HttpRequestContext& ctx);
  void saveMinutes(net::HttpRequestContext& ctx, net::HttpResponder respond);

  FileServerOptions options_;
  std::shared_ptr<FileStore> store_;
  MinutesStore minutes_;
  const Clock& clock_;
  boost::asio::thread_pool pool_;
  Counter& uploadsOk_;
  Counter& uploadsFailed_;
  Counter& bytesIn_;
  Counter& downloads_;
  Counter& denied_;
  Counter& swept_;
  Gauge& storedBytes_;
  Counter& bytesOut_;
  // Shared with the download bodies, which may outlive the server in a connection's last write.
  std::shared_ptr<std::atomic<uint64_t>> downloadsActive_ = std::make_shared<std::atomic<uint64_t>>(0);
  /// A file body that counts itself in downloadsActive_ until the response is done, then adds its
  /// size to bytesOut_.
  std::shared_ptr<net::FileBody> trackedBody();
};

/// The HTTP status for a store error code.
unsigned statusForError(const std::string& code);

}  // namespace meeting::fs
