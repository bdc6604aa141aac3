#include "api/ApiKeys.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <ostream>

#include "common/Clock.hpp"

namespace meeting::api {
namespace {

std::string urlEncode(const std::string& value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

Result<void> writePrivateFile(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream file(tmp, std::ios::trunc);
    if (!file) return makeError("io", "cannot write " + tmp);
    ::chmod(tmp.c_str(), 0600);
    file << content << "\n";
    if (!file.flush()) return makeError("io", "cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return makeError("io", "cannot rename " + tmp + ": " + ec.message());
  return {};
}

}  // namespace

std::string storageUrl(const Config& config) {
  if (config.mysqlAddress.empty()) return "sqlite:" + (std::filesystem::path(config.dataDir) / "meeting.db").string();
  std::string auth = urlEncode(config.mysqlUser);
  if (!config.mysqlPassword.empty()) auth += ":" + urlEncode(config.mysqlPassword);
  return "mysql://" + (auth.empty() ? "" : auth + "@") + config.mysqlAddress + "/" + urlEncode(config.mysqlDatabase);
}

Result<void> ensureDefaultApiKey(db::ApiKeyStore& keys, const std::string& dataDir, std::ostream& out) {
  auto path = (std::filesystem::path(dataDir) / DefaultKeyFile).string();
  auto list = keys.listApiKeys();
  if (!list) return list.error();
  for (const auto& key : *list) {
    if (key.revokedAt == 0) {
      std::error_code ec;
      if (std::filesystem::exists(path, ec)) out << "  REST API key: in " << path << "\n";
      return {};
    }
  }
  auto created = keys.createApiKey("default");
  if (!created) return created.error();
  if (auto r = writePrivateFile(path, created->secret); !r) return r;
  out << "\n  REST API key (also saved in " << path << "):\n    " << created->secret
      << "\n  Use it as: Authorization: Bearer <key>\n\n";
  out.flush();
  return {};
}

int runApiKeyCommand(const std::vector<std::string>& args, const Config& config, std::ostream& out, std::ostream& err) {
  if (args.empty() || (args[0] != "create" && args[0] != "list" && args[0] != "revoke")) {
    err << "usage: meeting ctl apikey create NAME | list | revoke ID  [--data DIR | --mysqlAddress ...]\n";
    return 2;
  }
  if ((args[0] != "list" && args.size() != 2) || (args[0] == "list" && args.size() != 1)) {
    err << "meeting ctl apikey " << args[0] << ": wrong number of arguments\n";
    return 2;
  }
  auto storage = db::openStorage(db::StorageConfig{storageUrl(config), 1}, SystemClock::instance());
  if (!storage) {
    err << "meeting ctl apikey: cannot open the database: " << storage.error().message << "\n";
    return 1;
  }
  db::Storage& s = **storage;
  if (args[0] == "create") {
    if (args[1].empty() || args[1].size() > 255) {
      err << "meeting ctl apikey create: NAME must be 1 to 255 bytes\n";
      return 2;
    }
    auto key = s.createApiKey(args[1]);
    if (!key) {
      err << "meeting ctl apikey create: " << key.error().message << "\n";
      return 1;
    }
    out << "id " << key->key.id << " name " << key->key.name << "\n" << key->secret << "\n";
    return 0;
  }
  if (args[0] == "list") {
    auto keys = s.listApiKeys();
    if (!keys) {
      err << "meeting ctl apikey list: " << keys.error().message << "\n";
      return 1;
    }
    out << "ID\tNAME\tPREFIX\tCREATED_MS\tSTATUS\n";
    for (const auto& k : *keys) {
      out << k.id << "\t" << k.name << "\t" << k.prefix << "\t" << k.createdAt << "\t"
          << (k.revokedAt == 0 ? "active" : "revoked") << "\n";
    }
    return 0;
  }
  int64_t id = 0;
  try {
    size_t used = 0;
    id = std::stoll(args[1], &used);
    if (used != args[1].size() || id <= 0) throw std::invalid_argument("id");
  } catch (const std::exception&) {
    err << "meeting ctl apikey revoke: ID must be a positive integer\n";
    return 2;
  }
  if (auto r = s.revokeApiKey(id); !r) {
    err << "meeting ctl apikey revoke: " << r.error().message << "\n";
    return 1;
  }
  out << "revoked " << id << "\n";
  return 0;
}

int runFilesCommand(const std::string& room, const Config& config, std::ostream& out, std::ostream& err) {
  if (room.empty() || room.size() > 128) {
    err << "meeting ctl files: ROOM must be 1 to 128 bytes\n";
    return 2;
  }
  auto storage = db::openStorage(db::StorageConfig{storageUrl(config), 1}, SystemClock::instance());
  if (!storage) {
    err << "meeting ctl files: cannot open the database: " << storage.error().message << "\n";
    return 1;
  }
  out << "ID\tNAME\tTYPE\tSIZE\tSHA256\tUPLOADER\tCREATED_MS\n";
  db::PageQuery page;
  page.limit = db::MaxPageLimit;
  do {
    auto files = (*storage)->listFiles(room, page);
    if (!files) {
      err << "meeting ctl files: " << files.error().message << "\n";
      return 1;
    }
    for (const auto& f : files->items) {
      out << f.id << "\t" << f.name << "\t" << f.contentType << "\t" << f.size << "\t" << f.sha256 << "\t"
          << f.uploader << "\t" << f.createdAt << "\n";
    }
    page.after = files->next;
  } while (!page.after.empty());
  return 0;
}

}  // namespace meeting::api
