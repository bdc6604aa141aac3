// Files shared in a room (issue 8, docs/fs.md): the apiserver hands out URLs on an fsserver,
// signed with the cluster --secret (common/SignedUrl.hpp), and keeps the metadata rows.
//
//   POST /rooms/{room}/files        -> {file_id, upload_url, expires_at}   (PUT the bytes there)
//   POST /files/{id}/complete       the apiserver checks the fsserver and writes the files row
//   GET  /rooms/{room}/files        the room's files (rows)
//   GET  /files/{id}                the row plus a signed download URL
//   DELETE /files/{id}              deletes on the fsserver (signed delete), then tombstones the row
//   POST /rooms/{room}/minutes      signed URLs to read, list and save the room's minutes
//
// Why a `complete` call and not a `file_stored` event from the fsserver: the client knows when
// its PUT returned, and the apiserver trusts nothing it says: size, type and SHA-256 come from the
// fsserver itself (a signed confirm, which also tells the fsserver to keep the bytes). That works
// the same with an allocated, a registered or the in-process fsserver, and a row exists only for
// bytes that are really stored. Bytes never confirmed (no complete call) are removed by the
// fsserver some time after the upload URL expired; bytes confirmed whose row then could not be
// written are deleted on the fsserver at once (docs/fs.md "Consistency").
//
// Who uploaded is the caller the apiserver authenticated (token identity or API key name): it is
// the signed subject of the upload URL, so the fsserver records it from the signature too.

#include "api/ApiJson.hpp"
#include "api/RestApi.hpp"
#include "common/Log.hpp"
#include "net/HttpClient.hpp"

namespace meeting::api {

using nlohmann::json;
namespace su = signedurl;

namespace {

constexpr int64_t UploadUrlTtl = 600;     // seconds (issue 8: 10 minutes)
constexpr int64_t DownloadUrlTtl = 600;
constexpr int64_t CompleteGrace = 3600;   // an upload started before expiry may finish later
constexpr int64_t ProbeUrlTtl = 60;
constexpr int64_t MinutesUrlTtl = 3600;  // an editing session; saves are checked by version anyway
constexpr size_t MaxNameBytes = 255;
constexpr size_t MaxTypeBytes = 127;

// RFC 3986 §2.3: only unreserved characters go unescaped in a query value.
std::string queryEncode(const std::string& value) {
  static constexpr char Hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += Hex[c >> 4];
      out += Hex[c & 15];
    }
  }
  return out;
}

// An allocate server or a registered node names an fsserver by host:port (seed 001); a scheme
// given explicitly (plain http behind a proxy, tests) is kept.
std::string baseUrlFor(std::string address) {
  if (address.rfind("http://", 0) != 0 && address.rfind("https://", 0) != 0) address = "https://" + address;
  while (!address.empty() && address.back() == '/') address.pop_back();
  return address;
}

// A media type as in RFC 9110 §8.3.1: token "/" token, parameters allowed; the fsserver judges
// whether the type is allowed and whether the bytes match it.
bool isPlausibleMediaType(const std::string& type) {
  if (type.empty() || type.size() > MaxTypeBytes) return false;
  auto slash = type.find('/');
  if (slash == 0 || slash == std::string::npos || slash + 1 >= type.size()) return false;
  for (unsigned char c : type) {
    if (c < 0x20 || c == 0x7f || c >= 0x80) return false;
  }
  return true;
}

json fileJson(const db::FileEntry& f) {
  return {{"id", f.id},     {"room_id", f.roomId}, {"name", f.name},         {"content_type", f.contentType},
          {"size", f.size}, {"sha256", f.sha256},  {"uploader", f.uploader}, {"created_at", f.createdAt}};
}

net::HttpResponse forbidden(const std::string& message) {
  return errorResponse(http::status::forbidden, "forbidden", message);
}

// A peer token opens exactly one room (design.md §6); an API key opens all.
std::optional<net::HttpResponse> checkRoom(const Caller& caller, const std::string& roomId) {
  if (caller.apiKey || caller.room == roomId) return std::nullopt;
  return forbidden("the token is for another room");
}

net::HttpResponse fsUnavailable(const std::string& message) {
  return errorResponse(http::status::service_unavailable, "unavailable", message);
}

// Who a caller is in file records: the token's identity, or the API key's name.
std::string callerName(const Caller& caller) { return caller.apiKey ? "api-key:" + caller.keyName : caller.identity; }

// What the fsserver says about a stored file.
struct Stored {
  int64_t size = 0;
  std::string sha256;
  std::string contentType;
};

bool isSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<std::string> RestApi::pickFsServer() {
  auto fs = deps_.allocator.allocateFs("");
  if (fs) return baseUrlFor(*fs);
  // `meeting all`: the fsserver in this process, unless an allocate server decides.
  if (!deps_.allocator.external() && !options_.localFsUrl.empty()) return baseUrlFor(options_.localFsUrl);
  return fs.error();
}

std::optional<net::HttpResponse> RestApi::chooseFsServer(const std::string& roomId, std::string& fsBase) {
  auto room = deps_.storage.getRoom(roomId);
  if (!room) return storageError(room.error());
  auto picked = pickFsServer();
  if (!picked) {
    if (picked.error().code == AllocationUnavailable) return fsUnavailable(picked.error().message);
    return storageError(picked.error());
  }
  fsBase = std::move(*picked);
  return std::nullopt;
}

Result<std::string> RestApi::fsFileUrl(const std::string& fsBase, const su::Grant& grant,
                                       const std::string& action) const {
  auto query = su::sign(grant, options_.secret);
  if (!query) return query.error();
  return fsBase + "/fs/v1/files/" + grant.id + action + "?" + *query;
}

Result<net::HttpResponse> RestApi::callFs(http::verb method, const std::string& fsBase, su::Operation op,
                                          const std::string& id, const std::string& room, const std::string& action) {
  auto url = fsFileUrl(fsBase, su::Grant{op, id, room, 0, nowSeconds() + ProbeUrlTtl, {}}, action);
  if (!url) {
    MLOG_ERROR("cannot sign an fs URL: {}", url.error().message);
    return url.error();
  }
  net::HttpClientOptions options;
  options.timeout = options_.fsTimeout;
  options.verifyTls = options_.verifyFsTls;
  auto answer = net::httpRequest(method, *url, {}, options);
  if (!answer) MLOG_WARN("fs: cannot reach {}: {}", fsBase, answer.error().message);
  return answer;
}

// The fsserver kept the bytes (confirm) but the row could not be written: the bytes go too, so no
// file exists that no row owns. The client uploads again; if even the delete fails, the file is
// logged for the operator (it is unreachable: no row, so no download URL is ever signed for it).
net::HttpResponse RestApi::abandonUpload(const std::string& id, const PendingUpload& pending, const Error& cause) {
  MLOG_WARN("files: no row for upload {} ({}): deleting its bytes on {}", id, cause.message, pending.fsBase);
  pendingUploads_.remove(id);
  auto answer = callFs(http::verb::delete_, pending.fsBase, su::Operation::Delete, id, pending.roomId);
  if (!answer || (answer->result_int() != 204 && answer->result_int() != 404)) {
    MLOG_ERROR("files: upload {} on {} has no row and could not be deleted: remove it by hand", id, pending.fsBase);
  }
  return errorResponse(http::status::service_unavailable, "unavailable",
                       "the upload could not be recorded and was discarded: upload the file again");
}

net::HttpResponse RestApi::createUpload(const ApiRequest& r) {
  const std::string& roomId = r.params.at("room_id");
  if (!isValidId(roomId) || !su::isValidRoom(roomId)) return fieldError("room_id", "not a valid id");
  if (auto refusal = checkRoom(r.caller, roomId)) return *refusal;
  net::HttpResponse error;
  auto body = BodyReader::parse(r.body, {"name", "content_type", "size"}, error);
  if (!body) return error;
  std::optional<std::string> name, type;
  std::optional<int64_t> size;
  if (!body->string("name", name, MaxNameBytes) || !body->string("content_type", type, MaxTypeBytes) ||
      !body->integer("size", size, 1, static_cast<int64_t>(options_.maxUploadBytes))) {
    return body->error();
  }
  if (!name || name->empty()) return fieldError("name", "required: the file's name");
  if (!type || !isPlausibleMediaType(*type)) return fieldError("content_type", "required: a media type like image/png");
  if (!size) return fieldError("size", "required: the file's size in bytes");

  std::string fsBase;
  if (auto refusal = chooseFsServer(roomId, fsBase)) return *refusal;
  const int64_t now = nowSeconds();
  const std::string id = su::newFileId();
  const std::string uploader = callerName(r.caller);
  auto url = fsFileUrl(fsBase, su::Grant{su::Operation::Upload, id, roomId, static_cast<uint64_t>(*size),
                                          now + UploadUrlTtl, uploader});
  if (!url) {
    MLOG_ERROR("cannot sign an upload URL: {}", url.error().message);
    return errorResponse(http::status::internal_server_error, "internal", "cannot sign URLs");
  }
  // The name is display information for the fsserver's own record (not signed, docs/fs.md); the
  // row's name is the one kept here.
  *url += "&name=" + queryEncode(*name);
  pendingUploads_.add(id,
                      PendingUpload{roomId, *name, *type, static_cast<uint64_t>(*size), uploader, fsBase,
                                    now + UploadUrlTtl + CompleteGrace},
                      now);
  return jsonOk(http::status::created, {{"file_id", id},
                                        {"upload_url", *url},
                                        {"method", "PUT"},
                                        {"headers", {{"Content-Type", *type}}},
                                        {"expires_at", (now + UploadUrlTtl) * 1000}});
}

net::HttpResponse RestApi::listRoomFiles(const ApiRequest& r) {
  const std::string& roomId = r.params.at("room_id");
  if (!isValidId(roomId)) return fieldError("room_id", "not a valid id");
  if (auto refusal = checkRoom(r.caller, roomId)) return *refusal;
  db::PageQuery page;
  net::HttpResponse error;
  if (!readPage(r, page, error)) return error;
  auto files = deps_.storage.listFiles(roomId, page);
  if (!files) return storageError(files.error());
  json items = json::array();
  for (const auto& f : files->items) items.push_back(fileJson(f));
  return jsonOk(http::status::ok, {{"files", items}, {"next", files->next.empty() ? json(nullptr) : json(files->next)}});
}

net::HttpResponse RestApi::completeUpload(const ApiRequest& r) {
  const std::string& id = r.params.at("file_id");
  if (!su::isValidFileId(id)) return fieldError("file_id", "not a file id");
  // Completing twice (a retry after a lost answer) returns the row.
  if (auto existing = deps_.storage.getFile(id); existing && existing->deletedAt == 0) {
    if (auto refusal = checkRoom(r.caller, existing->roomId)) return *refusal;
    return jsonOk(http::status::ok, {{"file", fileJson(*existing)}});
  } else if (!existing && existing.error().code != db::errc::NotFound) {
    return storageError(existing.error());
  }
  const int64_t now = nowSeconds();
  auto pending = pendingUploads_.find(id, now);
  if (!pending) return errorResponse(http::status::not_found, "not_found", "no upload in progress with this id");
  if (auto refusal = checkRoom(r.caller, pending->roomId)) return *refusal;

  // The fsserver confirms the upload (so it keeps the bytes) and answers with what it stored:
  // size, SHA-256 and type come from the bytes, not from the client.
  auto answer = callFs(http::verb::post, pending->fsBase, su::Operation::Confirm, id, pending->roomId, "/confirm");
  if (!answer) return fsUnavailable("the file server does not answer, retry shortly");
  const int status = answer->result_int();
  if (status == 404) {
    return errorResponse(http::status::conflict, "upload_incomplete", "the file server has no bytes for this id yet");
  }
  if (status != 200) {
    MLOG_WARN("fs: {} answered {} to a signed confirm of {}", pending->fsBase, status, id);
    return errorResponse(http::status::bad_gateway, "fs_error", "the file server refused the check");
  }
  Stored stored;
  auto meta = json::parse(answer->body(), nullptr, false);
  auto text = [&meta](const char* key) {
    auto it = meta.find(key);
    return it != meta.end() && it->is_string() ? it->get<std::string>() : std::string{};
  };
  auto size = meta.is_object() ? meta.find("size") : meta.end();
  const bool usable = meta.is_object() && text("id") == id && text("room") == pending->roomId && size != meta.end() &&
                      size->is_number_unsigned() && size->get<uint64_t>() <= pending->maxBytes &&
                      isSha256Hex(text("sha256"));
  if (!usable) return errorResponse(http::status::bad_gateway, "fs_error", "the file server's answer is not usable");
  stored.size = static_cast<int64_t>(size->get<uint64_t>());
  stored.sha256 = text("sha256");
  stored.contentType = text("content_type");
  if (stored.contentType.empty() || stored.contentType.size() > MaxTypeBytes) stored.contentType = pending->contentType;

  db::FileEntry entry;
  entry.id = id;
  entry.roomId = pending->roomId;
  entry.name = pending->name;
  entry.contentType = stored.contentType;
  entry.size = stored.size;
  entry.sha256 = stored.sha256;
  entry.uploader = pending->uploader;
  entry.fsNode = pending->fsBase;
  auto added = deps_.storage.addFile(entry);
  if (!added && added.error().code == db::errc::Conflict) {
    // A concurrent complete won the race: answer with its row.
    auto row = deps_.storage.getFile(id);
    if (!row) return storageError(row.error());
    return jsonOk(http::status::ok, {{"file", fileJson(*row)}});
  }
  if (!added) return abandonUpload(id, *pending, added.error());
  pendingUploads_.remove(id);
  return jsonOk(http::status::created, {{"file", fileJson(*added)}});
}

net::HttpResponse RestApi::getFileInfo(const ApiRequest& r) {
  const std::string& id = r.params.at("file_id");
  if (!su::isValidFileId(id)) return fieldError("file_id", "not a file id");
  auto file = deps_.storage.getFile(id);
  if (!file) return storageError(file.error());
  if (file->deletedAt != 0) return errorResponse(http::status::not_found, "not_found", "the file was deleted");
  if (auto refusal = checkRoom(r.caller, file->roomId)) return *refusal;
  const int64_t expiresAt = nowSeconds() + DownloadUrlTtl;
  auto url = fsFileUrl(file->fsNode, su::Grant{su::Operation::Download, id, file->roomId, 0, expiresAt, {}});
  if (!url) return errorResponse(http::status::internal_server_error, "internal", "cannot sign URLs");
  return jsonOk(http::status::ok, {{"file", fileJson(*file)}, {"download_url", *url}, {"expires_at", expiresAt * 1000}});
}

net::HttpResponse RestApi::deleteFile(const ApiRequest& r) {
  const std::string& id = r.params.at("file_id");
  if (!su::isValidFileId(id)) return fieldError("file_id", "not a file id");
  auto file = deps_.storage.getFile(id);
  if (!file) return storageError(file.error());
  if (file->deletedAt != 0) return errorResponse(http::status::not_found, "not_found", "the file was deleted");
  if (auto refusal = checkRoom(r.caller, file->roomId)) return *refusal;
  if (!r.caller.apiKey && !r.caller.roomAdmin && r.caller.identity != file->uploader) {
    return forbidden("only the uploader or a room admin may delete a file");
  }
  // Bytes first, row second: a failure leaves the file fully there, and a retry finishes the job
  // (the fsserver's 404 then means "already gone").
  auto answer = callFs(http::verb::delete_, file->fsNode, su::Operation::Delete, id, file->roomId);
  if (!answer) return fsUnavailable("the file server does not answer, retry shortly");
  if (answer->result_int() != 204 && answer->result_int() != 404) {
    MLOG_WARN("fs: {} answered {} to a signed delete of {}", file->fsNode, answer->result_int(), id);
    return errorResponse(http::status::bad_gateway, "fs_error", "the file server refused the delete");
  }
  if (auto marked = deps_.storage.markFileDeleted(id); !marked) return storageError(marked.error());
  return net::HttpResponse{http::status::no_content, 11};
}

// The room's minutes (issue 8 §4) are versioned text on an fsserver, which does the versioning and
// the conflict check; the apiserver only hands out the URLs. The save URL is signed for the caller,
// so the fsserver records them as the version's author.
net::HttpResponse RestApi::minutesUrls(const ApiRequest& r) {
  const std::string& roomId = r.params.at("room_id");
  if (!isValidId(roomId) || !su::isValidRoom(roomId)) return fieldError("room_id", "not a valid id");
  if (auto refusal = checkRoom(r.caller, roomId)) return *refusal;
  std::string fsBase;
  if (auto refusal = chooseFsServer(roomId, fsBase)) return *refusal;
  const int64_t expiresAt = nowSeconds() + MinutesUrlTtl;
  const std::string author = callerName(r.caller);
  auto read = su::sign(su::Grant{su::Operation::MinutesRead, std::string(su::MinutesId), roomId, 0, expiresAt, {}},
                       options_.secret);
  auto write = su::sign(su::Grant{su::Operation::MinutesWrite, std::string(su::MinutesId), roomId, 0, expiresAt, author},
                        options_.secret);
  if (!read || !write) return errorResponse(http::status::internal_server_error, "internal", "cannot sign URLs");
  const std::string base = fsBase + "/fs/v1/rooms/" + roomId + "/minutes";
  return jsonOk(http::status::ok, {{"read_url", base + "?" + *read},
                                   {"versions_url", base + "/versions?" + *read},
                                   {"save_url", base + "?" + *write},
                                   {"expires_at", expiresAt * 1000}});
}

}  // namespace meeting::api
