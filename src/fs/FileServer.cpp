#include "fs/FileServer.hpp"

#include <boost/asio/post.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "common/Log.hpp"
#include "fs/HttpRanges.hpp"

namespace meeting::fs {

namespace http = net::http;
using signedurl::Operation;

namespace {

constexpr size_t MaxDisplayBytes = 255;

net::HttpResponse errorResponse(const Error& e) {
  return net::jsonError(static_cast<http::status>(statusForError(e.code)), e.code, e.message);
}

nlohmann::json metaJson(const FileMeta& m) {
  return {{"id", m.id},     {"room", m.room},     {"name", m.name},     {"content_type", m.contentType},
          {"size", m.size}, {"sha256", m.sha256}, {"uploader", m.uploader}, {"created_at", m.createdAt}};
}

nlohmann::json versionJson(const MinutesVersion& v) {
  return {{"version", v.version}, {"base", v.base}, {"author", v.author},
          {"sha256", v.sha256},   {"size", v.size}, {"saved_at", v.savedAt}};
}

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

std::optional<uint64_t> strictNumber(const std::string& s) {
  if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Headers every served file carries: the bytes are user content on our origin, so the browser
// must neither sniff another type nor run anything in it.
void setSafetyHeaders(net::HttpResponse& res) {
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Content-Security-Policy", "default-src 'none'; sandbox");
  res.set(http::field::cache_control, "private, no-cache");
}

std::string boundaryFor(const FileMeta& m) { return "meeting-" + m.sha256.substr(0, 24); }

}  // namespace

unsigned statusForError(const std::string& code) {
  if (code == errc::TooLarge) return 413;
  if (code == errc::Quota) return 507;  // RFC 4918 §11.5 Insufficient Storage
  if (code == errc::Exists || code == errc::Conflict) return 409;
  if (code == errc::NotFound) return 404;
  if (code == errc::BadType || code == errc::ContentMismatch || code == errc::NotText) return 415;
  if (code == errc::Invalid) return 400;
  return 500;
}

// --------------------------------------------------------------------------------------------
class FileServer::UploadSink final : public net::HttpBodySink {
 public:
  UploadSink(FileServer& server, std::unique_ptr<FileStore::Upload> upload)
      : server_(server), upload_(std::move(upload)) {}

  std::optional<net::HttpResponse> onData(std::string_view chunk) override {
    auto wrote = upload_->write(chunk);
    if (!wrote) {
      server_.uploadsFailed_.inc();
      return errorResponse(wrote.error());
    }
    server_.bytesIn_.inc(chunk.size());
    return std::nullopt;
  }

  void onEnd(net::HttpResponder respond) override {
    // fsync and the renames can take a while on a real disk: not on the HTTP loop.
    std::shared_ptr<FileStore::Upload> upload = std::move(upload_);
    FileServer* server = &server_;
    boost::asio::post(server_.pool_, [server, upload, respond] {
      auto meta = upload->commit();
      if (!meta) {
        server->uploadsFailed_.inc();
        MLOG_WARN("fs: commit failed: {}", meta.error().message);
        return respond(errorResponse(meta.error()));
      }
      server->uploadsOk_.inc();
      server->storedBytes_.set(static_cast<double>(server->store_->totalUsage()));
      MLOG_INFO("fs: stored {} ({} bytes, room {})", meta->id, meta->size, meta->room);
      respond(net::jsonResponse(http::status::created, dump(metaJson(*meta))));
    });
  }

 private:
  FileServer& server_;
  std::unique_ptr<FileStore::Upload> upload_;  // destroyed uncommitted: temp removed
};

// --------------------------------------------------------------------------------------------
Result<std::unique_ptr<FileServer>> FileServer::create(FileServerOptions options, const Clock& clock) {
  if (options.secret.empty()) return makeError("invalid_config", "--secret: the fsserver needs the cluster secret");
  auto store = FileStore::open(options.directory, options.limits, clock);
  if (!store) return store.error();
  // Uploads whose confirmation time passed while the server was down go before serving.
  (*store)->sweepUnconfirmed(clock.wallMicros() / 1'000'000);
  return std::make_unique<FileServer>(std::move(options), std::move(*store), clock);
}

void FileServer::sweepUnconfirmed() {
  // Removing unlinks and fsyncs the directory: not on the caller's (HTTP) loop.
  boost::asio::post(pool_, [this] {
    size_t removed = store_->sweepUnconfirmed(clock_.wallMicros() / 1'000'000);
    if (removed == 0) return;
    swept_.inc(removed);
    storedBytes_.set(static_cast<double>(store_->totalUsage()));
  });
}

FileServer::FileServer(FileServerOptions options, std::shared_ptr<FileStore> store, const Clock& clock)
    : options_(std::move(options)),
      store_(std::move(store)),
      minutes_(store_->directory(), clock),
      clock_(clock),
      pool_(std::max<size_t>(1, options_.commitThreads)),
      uploadsOk_(MetricsRegistry::global().counter("meeting_fs_uploads_total", "Uploads by result", {{"result", "ok"}})),
      uploadsFailed_(
          MetricsRegistry::global().counter("meeting_fs_uploads_total", "Uploads by result", {{"result", "failed"}})),
      bytesIn_(MetricsRegistry::global().counter("meeting_fs_received_bytes_total", "Upload bytes received")),
      downloads_(MetricsRegistry::global().counter("meeting_fs_downloads_total", "Downloads started")),
      denied_(MetricsRegistry::global().counter("meeting_fs_denied_total", "Requests refused for their signature")),
      swept_(MetricsRegistry::global().counter("meeting_fs_unconfirmed_removed_total",
                                               "Uploads removed because the apiserver never confirmed them")),
      storedBytes_(MetricsRegistry::global().gauge("meeting_fs_stored_bytes", "Bytes stored (and reserved)")),
      bytesOut_(MetricsRegistry::global().counter("meeting_fs_sent_bytes_total", "Download body bytes sent (finished responses)")) {
  storedBytes_.set(static_cast<double>(store_->totalUsage()));
}

FileServer::~FileServer() { pool_.join(); }

void FileServer::registerRoutes(net::HttpRouter& router) {
  const std::string p = FsPrefix;
  router.addStreaming(http::verb::put, p + "/files/{id}", [this](net::HttpRequestContext& ctx) { return upload(ctx); },
                      net::RouteOptions{options_.limits.maxFileBytes});
  router.add(http::verb::get, p + "/files/{id}",
             [this](net::HttpRequestContext& ctx, net::HttpResponder r) { download(ctx, std::move(r)); });
  router.addSync(http::verb::delete_, p + "/files/{id}", [this](net::HttpRequestContext& ctx) { return remove(ctx); });
  router.add(http::verb::post, p + "/files/{id}/confirm",
             [this](net::HttpRequestContext& ctx, net::HttpResponder r) { confirm(ctx, std::move(r)); });
  router.addSync(http::verb::get, p + "/rooms/{room}/minutes",
                 [this](net::HttpRequestContext& ctx) { return readMinutes(ctx); });
  router.addSync(http::verb::get, p + "/rooms/{room}/minutes/versions",
                 [this](net::HttpRequestContext& ctx) { return listMinutes(ctx); });
  router.add(http::verb::put, p + "/rooms/{room}/minutes",
             [this](net::HttpRequestContext& ctx, net::HttpResponder r) { saveMinutes(ctx, std::move(r)); },
             net::RouteOptions{MaxMinutesBytes});
}

std::optional<net::HttpResponse> FileServer::authorize(const net::HttpRequestContext& ctx, Operation op,
                                                       const std::string& id, signedurl::Grant& grant) {
  signedurl::Fields fields;
  bool repeated = false;
  auto take = [&](const char* key, std::optional<std::string>& slot) {
    auto [lo, hi] = ctx.query.equal_range(key);
    if (lo == hi) return;
    if (std::next(lo) != hi) repeated = true;
    slot = lo->second;
  };
  take("op", fields.op);
  take("id", fields.id);
  take("room", fields.room);
  take("max", fields.max);
  take("exp", fields.exp);
  take("sig", fields.sig);
  take("sub", fields.sub);
  auto verified = repeated ? Result<signedurl::Grant>(makeError(signedurl::errc::Malformed, "a signed field is repeated"))
                           : signedurl::verify(fields, op, id, options_.secret, clock_.wallMicros() / 1'000'000);
  if (verified) {
    grant = std::move(*verified);
    return std::nullopt;
  }
  denied_.inc();
  MLOG_DEBUG("fs: {} {} refused: {}", signedurl::operationName(op), ctx.path, verified.error().message);
  return net::jsonError(http::status::forbidden, verified.error().code, verified.error().message);
}

FileServer::StreamVerdict FileServer::upload(net::HttpRequestContext& ctx) {
  const std::string id = ctx.params["id"];
  signedurl::Grant grant;
  if (auto refusal = authorize(ctx, Operation::Upload, id, grant)) return std::move(*refusal);
  FileMeta draft;
  draft.id = id;
  draft.room = grant.room;
  // Who uploads is what the apiserver signed, never a parameter the client could change: an
  // unsigned `by` beside it is an attempt to pass as someone else.
  if (ctx.query.count("by")) {
    denied_.inc();
    return net::jsonError(http::status::forbidden, signedurl::errc::BadSignature,
                          "the uploader is the URL's signed subject; an unsigned 'by' is refused");
  }
  draft.name = ctx.queryValue("name").substr(0, MaxDisplayBytes);
  draft.uploader = grant.subject;
  draft.contentType = normalizeContentType(std::string_view(ctx.request[http::field::content_type]));
  // Until the apiserver confirms it (after the client's complete call), the file is on probation.
  draft.confirmBy = grant.expiresAt + options_.confirmGraceSeconds;
  std::optional<uint64_t> declared;
  if (ctx.request.find(http::field::content_length) != ctx.request.end()) {
    declared = strictNumber(std::string(ctx.request[http::field::content_length]));
  }
  auto up = store_->beginUpload(std::move(draft), grant.maxBytes, declared);
  if (!up) {
    uploadsFailed_.inc();
    return errorResponse(up.error());
  }
  return std::make_unique<UploadSink>(*this, std::move(*up));
}

void FileServer::download(net::HttpRequestContext& ctx, net::HttpResponder respond) {
  const std::string id = ctx.params["id"];
  signedurl::Grant grant;
  if (auto refusal = authorize(ctx, Operation::Download, id, grant)) return respond(std::move(*refusal));
  auto meta = store_->find(id);
  if (!meta) return respond(net::jsonError(http::status::not_found, errc::NotFound, "no such file"));
  if (meta->room != grant.room) {
    denied_.inc();
    return respond(net::jsonError(http::status::forbidden, signedurl::errc::WrongResource, "the URL names another room"));
  }
  const std::string etag = "\"" + meta->sha256 + "\"";  // strong: the hash is of these exact bytes
  auto base = [&](http::status status) {
    net::HttpResponse res{status, 11};
    res.set(http::field::etag, etag);
    res.set(http::field::accept_ranges, "bytes");
    setSafetyHeaders(res);
    return res;
  };
  // RFC 9110 §13.1.2: a matching If-None-Match on GET/HEAD is answered 304 without a body.
  auto inm = ctx.request.find(http::field::if_none_match);
  if (inm != ctx.request.end() && ifNoneMatchMatches(std::string_view(inm->value()), etag)) {
    return respond(base(http::status::not_modified));
  }
  auto body = trackedBody();
  body->fd = ::open(store_->dataPath(id).c_str(), O_RDONLY | O_CLOEXEC);
  if (body->fd < 0) return respond(net::jsonError(http::status::not_found, errc::NotFound, "no such file"));
  downloads_.inc();
  const uint64_t size = meta->size;
  RangeRequest range;
  auto rangeHeader = ctx.request.find(http::field::range);
  auto ifRange = ctx.request.find(http::field::if_range);
  // RFC 9110 §13.1.5: a Range with an If-Range that no longer matches gets the whole file.
  if (rangeHeader != ctx.request.end() && (ifRange == ctx.request.end() || std::string_view(ifRange->value()) == etag)) {
    range = parseRange(std::string_view(rangeHeader->value()), size);
  }
  if (range.kind == RangeRequest::Kind::Unsatisfiable) {
    auto res = base(http::status::range_not_satisfiable);
    res.set(http::field::content_range, "bytes */" + std::to_string(size));
    return respond(std::move(res));
  }
  if (range.kind == RangeRequest::Kind::Satisfiable && range.ranges.size() == 1) {
    const auto& r = range.ranges.front();
    auto res = base(http::status::partial_content);
    res.set(http::field::content_type, meta->contentType);
    res.set(http::field::content_range,
            "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" + std::to_string(size));
    body->pieces.push_back({{}, r.first, r.length()});
    return respond.sendFile(std::move(res), std::move(body));
  }
  if (range.kind == RangeRequest::Kind::Satisfiable) {
    // RFC 9110 §14.6: multipart/byteranges, each part with its own Content-Type and Content-Range.
    const std::string boundary = boundaryFor(*meta);
    auto res = base(http::status::partial_content);
    res.set(http::field::content_type, "multipart/byteranges; boundary=" + boundary);
    bool first = true;
    for (const auto& r : range.ranges) {
      std::string head = (first ? "--" : "\r\n--") + boundary + "\r\nContent-Type: " + meta->contentType +
                         "\r\nContent-Range: bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" +
                         std::to_string(size) + "\r\n\r\n";
      first = false;
      body->pieces.push_back({std::move(head), 0, 0});
      body->pieces.push_back({{}, r.first, r.length()});
    }
    body->pieces.push_back({"\r\n--" + boundary + "--\r\n", 0, 0});
    return respond.sendFile(std::move(res), std::move(body));
  }
  auto res = base(http::status::ok);
  res.set(http::field::content_type, meta->contentType);
  bool inlineOk = meta->contentType.rfind("image/", 0) == 0 || meta->contentType == "application/pdf";
  res.set(http::field::content_disposition, contentDisposition(meta->name, inlineOk && ctx.queryValue("inline") == "1"));
  if (size > 0) body->pieces.push_back({{}, 0, size});
  respond.sendFile(std::move(res), std::move(body));
}

std::shared_ptr<net::FileBody> FileServer::trackedBody() {
  auto active = downloadsActive_;
  Counter* sent = &bytesOut_;  // a process-wide registry counter: outlives every server
  active->fetch_add(1, std::memory_order_relaxed);
  return std::shared_ptr<net::FileBody>(new net::FileBody, [active, sent](net::FileBody* body) {
    sent->inc(body->size());
    active->fetch_sub(1, std::memory_order_relaxed);
    delete body;
  });
}

FsLoad FileServer::load() const {
  const auto usage = store_->usage();
  FsLoad l;
  l.uploadsInProgress = usage.uploadsInProgress;
  l.downloadsInProgress = downloadsActive_->load(std::memory_order_relaxed);
  l.bytesIn = bytesIn_.value();
  l.bytesOut = bytesOut_.value();
  l.storedFiles = usage.files;
  l.storedBytes = usage.bytes;
  return l;
}

net::HttpResponse FileServer::remove(net::HttpRequestContext& ctx) {
  const std::string id = ctx.params["id"];
  signedurl::Grant grant;
  if (auto refusal = authorize(ctx, Operation::Delete, id, grant)) return std::move(*refusal);
  auto meta = store_->find(id);
  if (!meta) return net::jsonError(http::status::not_found, errc::NotFound, "no such file");
  if (meta->room != grant.room) {
    denied_.inc();
    return net::jsonError(http::status::forbidden, signedurl::errc::WrongResource, "the URL names another room");
  }
  auto removed = store_->remove(id);
  if (!removed) return errorResponse(removed.error());
  storedBytes_.set(static_cast<double>(store_->totalUsage()));
  MLOG_INFO("fs: deleted {} (room {})", id, meta->room);
  return net::HttpResponse{http::status::no_content, 11};
}

// The apiserver calls this when it records the upload's row (POST /api/v1/files/{id}/complete):
// the answer gives it the size, hash and type from the stored bytes, and the file is kept for good.
void FileServer::confirm(net::HttpRequestContext& ctx, net::HttpResponder respond) {
  const std::string id = ctx.params["id"];
  signedurl::Grant grant;
  if (auto refusal = authorize(ctx, Operation::Confirm, id, grant)) return respond(std::move(*refusal));
  auto meta = store_->find(id);
  if (!meta) return respond(net::jsonError(http::status::not_found, errc::NotFound, "no such file"));
  if (meta->room != grant.room) {
    denied_.inc();
    return respond(net::jsonError(http::status::forbidden, signedurl::errc::WrongResource, "the URL names another room"));
  }
  boost::asio::post(pool_, [this, id, respond] {  // the sidecar rewrite fsyncs
    auto confirmed = store_->confirm(id, clock_.wallMicros() / 1'000'000);
    if (!confirmed) return respond(errorResponse(confirmed.error()));
    respond(net::jsonResponse(http::status::ok, dump(metaJson(*confirmed))));
  });
}

net::HttpResponse FileServer::readMinutes(net::HttpRequestContext& ctx) {
  const std::string room = ctx.params["room"];
  signedurl::Grant grant;
  if (auto refusal = authorize(ctx, Operation::MinutesRead, std::string(signedurl::MinutesId), grant)) {
    return std::move(*refusal);
  }
  if (grant.room != room) {
    return net::jsonError(http::status::forbidden, signedurl::errc::WrongResource, "the URL names another room");
  }
  std::optional<uint64_t> version;
  if (auto v = ctx.queryValue("version"); !v.empty()) {
    version = strictNumber(v);
    if (!version || *version == 0) return net::jsonError(http::status::bad_request, "invalid_field", "version: not a positive integer");
  }
  auto doc = minutes_.read(room, version);
  if (!doc) return errorResponse(doc.error());
  auto res = net::textResponse(http::status::ok, std::move(doc->second), "text/markdown; charset=utf-8");
  res.set(http::field::etag, "\"v" + std::to_string(doc->first.version) + "\"");
  res.set("X-Minutes-Version", std::to_string(doc->first.version));
  setSafetyHeaders(res);
  return res;
}

net::HttpResponse FileServer::listMinutes(net::HttpRequestContext& ctx) {
  const std::string room = ctx.params["room"];
  signedurl::Grant grant;
  if (auto refusal = authorize(ctx, Operation::MinutesRead, std::string(signedurl::MinutesId), grant)) {
    return std::move(*refusal);
  }
  if (grant.room != room) {
    return net::jsonError(http::status::forbidden, signedurl::errc::WrongResource, "the URL names another room");
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto& v : minutes_.versions(room)) list.push_back(versionJson(v));
  return net::jsonResponse(http::status::ok, dump({{"room", room}, {"latest", minutes_.latest(room)}, {"versions", list}}));
}

void FileServer::saveMinutes(net::HttpRequestContext& ctx, net::HttpResponder respond) {
  const std::string room = ctx.params["room"];
  signedurl::Grant grant;
  if (auto refusal = authorize(ctx, Operation::MinutesWrite, std::string(signedurl::MinutesId), grant)) {
    return respond(std::move(*refusal));
  }
  if (grant.room != room) {
    return respond(net::jsonError(http::status::forbidden, signedurl::errc::WrongResource, "the URL names another room"));
  }
  // The author, like an uploader, comes from the signature only.
  if (ctx.query.count("by")) {
    denied_.inc();
    return respond(net::jsonError(http::status::forbidden, signedurl::errc::BadSignature,
                                  "the author is the URL's signed subject; an unsigned 'by' is refused"));
  }
  auto base = strictNumber(ctx.queryValue("base"));
  if (!base) {
    return respond(net::jsonError(http::status::bad_request, "invalid_field",
                                  "base: the version this text was edited from (0 for the first) is required"));
  }
  if (grant.maxBytes && ctx.request.body().size() > grant.maxBytes) {
    return respond(net::jsonError(http::status::payload_too_large, errc::TooLarge, "the text exceeds the URL's limit"));
  }
  // The write fsyncs: off the HTTP loop.
  boost::asio::post(pool_, [this, room, base = *base, text = ctx.request.body(),
                            author = grant.subject, respond] {
    auto saved = minutes_.save(room, base, text, author);
    if (!saved) {
      if (saved.error().code == errc::Conflict) {
        nlohmann::json body = {{"error", {{"code", saved.error().code}, {"message", saved.error().message}}},
                               {"latest", minutes_.latest(room)}};
        return respond(net::jsonResponse(http::status::conflict, dump(body)));
      }
      return respond(errorResponse(saved.error()));
    }
    respond(net::jsonResponse(http::status::created, dump(versionJson(*saved))));
  });
}

}  // namespace meeting::fs
