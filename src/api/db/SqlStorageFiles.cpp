// SqlStorage: file metadata and the node registry.
#include "api/db/Secrets.hpp"
#include "api/db/SqlStorage.hpp"

namespace meeting::api::db {

using namespace sqlutil;

namespace {

constexpr const char* FileColumns =
    "SELECT id, room_id, name, content_type, size, sha256, uploader, fs_node, created_at, deleted_at "
    "FROM files ";

FileEntry fileFromRow(const SqlRow& r) {
  FileEntry f;
  f.id = r.text(0);
  f.roomId = r.text(1);
  f.name = r.text(2);
  f.contentType = r.text(3);
  f.size = r.integer(4);
  f.sha256 = r.text(5);
  f.uploader = r.text(6);
  f.fsNode = r.text(7);
  f.createdAt = r.integer(8);
  f.deletedAt = r.integer(9);
  return f;
}

Result<FileEntry> oneFile(Result<SqlResult> r) {
  if (!r.ok()) return r.error();
  if (r->rows.empty()) return notFound("file");
  return fileFromRow(r->rows[0]);
}

constexpr const char* NodeColumns = "SELECT id, role, address, capacity, last_seen FROM nodes ";

}  // namespace

// ---- files --------------------------------------------------------------------------------------

Result<FileEntry> SqlStorage::addFile(FileEntry file) {
  if (file.id.empty()) file.id = secrets::uuid4();
  if (auto v = checkSizes({{"id", file.id, KeyMax},
                           {"room_id", file.roomId, KeyMax},
                           {"name", file.name, TextMax},
                           {"content_type", file.contentType, KeyMax},
                           {"sha256", file.sha256, KeyMax},
                           {"uploader", file.uploader, KeyMax},
                           {"fs_node", file.fsNode, KeyMax}});
      !v.ok()) {
    return v.error();
  }
  if (file.size < 0) return makeError(errc::InvalidField, "size: must not be negative");
  file.createdAt = now();
  file.deletedAt = 0;
  return run([&](SqlConnection& c) -> Result<FileEntry> {
    auto r = c.query(
        "INSERT INTO files (id, room_id, name, content_type, size, sha256, uploader, fs_node, "
        "created_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
        {file.id, file.roomId, file.name, file.contentType, file.size, file.sha256, file.uploader,
         file.fsNode, file.createdAt});
    if (!r.ok()) return r.error();
    return file;
  });
}

Result<FileEntry> SqlStorage::getFile(const std::string& id) {
  return run([&](SqlConnection& c) {
    return oneFile(c.query(std::string(FileColumns) + "WHERE id = ?", {id}));
  });
}

Result<Page<FileEntry>> SqlStorage::listFiles(const std::string& roomId, const PageQuery& page) {
  const uint32_t limit = clampLimit(page.limit);
  return run([&](SqlConnection& c) -> Result<Page<FileEntry>> {
    auto r = c.query(std::string(FileColumns) +
                         "WHERE room_id = ? AND deleted_at = 0 AND id > ? ORDER BY id LIMIT ?",
                     {roomId, page.after, int64_t{limit} + 1});
    if (!r.ok()) return r.error();
    std::vector<FileEntry> items;
    for (const auto& row : r->rows) items.push_back(fileFromRow(row));
    return makePage(std::move(items), limit, [](const FileEntry& f) { return f.id; });
  });
}

Result<FileEntry> SqlStorage::markFileDeleted(const std::string& id) {
  const Millis at = now();
  return transact([&](SqlConnection& c) -> Result<FileEntry> {
    auto r = c.query(
        "UPDATE files SET deleted_at = CASE WHEN deleted_at = 0 THEN ? ELSE deleted_at END WHERE id = ?",
        {at, id});
    if (!r.ok()) return r.error();
    if (r->affected == 0) return notFound("file");
    return oneFile(c.query(std::string(FileColumns) + "WHERE id = ?", {id}));
  });
}

// ---- nodes --------------------------------------------------------------------------------------

Result<Node> SqlStorage::upsertNode(Node node) {
  if (node.id.empty()) return makeError(errc::InvalidField, "id: must not be empty");
  if (auto v = checkSizes({{"id", node.id, KeyMax}, {"role", node.role, KeyMax}, {"address", node.address, TextMax}});
      !v.ok()) {
    return v.error();
  }
  node.lastSeen = now();
  // The one statement whose syntax differs between the dialects.
  const char* sql =
      dialect_ == Dialect::Sqlite
          ? "INSERT INTO nodes (id, role, address, capacity, last_seen) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET role = excluded.role, address = excluded.address, "
            "capacity = excluded.capacity, last_seen = excluded.last_seen"
          : "INSERT INTO nodes (id, role, address, capacity, last_seen) VALUES (?, ?, ?, ?, ?) "
            "ON DUPLICATE KEY UPDATE role = VALUES(role), address = VALUES(address), "
            "capacity = VALUES(capacity), last_seen = VALUES(last_seen)";
  return run([&](SqlConnection& c) -> Result<Node> {
    auto r = c.query(sql, {node.id, node.role, node.address, node.capacity, node.lastSeen});
    if (!r.ok()) return r.error();
    return node;
  });
}

Result<std::vector<Node>> SqlStorage::listNodes(const std::string& role) {
  return run([&](SqlConnection& c) -> Result<std::vector<Node>> {
    auto r = role.empty()
                 ? c.query(std::string(NodeColumns) + "ORDER BY id", std::span<const SqlValue>{})
                 : c.query(std::string(NodeColumns) + "WHERE role = ? ORDER BY id", {role});
    if (!r.ok()) return r.error();
    std::vector<Node> out;
    for (const auto& row : r->rows) {
      out.push_back(Node{row.text(0), row.text(1), row.text(2), row.integer(3), row.integer(4)});
    }
    return out;
  });
}

}  // namespace meeting::api::db
