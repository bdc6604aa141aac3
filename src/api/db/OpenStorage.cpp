// openStorage(): picks the back end from the configured URL.
#include <charconv>

#include "api/db/MysqlStorage.hpp"
#include "api/db/SqliteStorage.hpp"

namespace meeting::api::db {
namespace {

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 §2.1 percent-decoding, so passwords may contain ':', '@' or '/'.
Result<std::string> percentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) {
      return makeError(errc::InvalidField, "database url: bad percent escape");
    }
    int hi = hexDigit(s[i + 1]);
    int lo = hexDigit(s[i + 2]);
    if (hi < 0 || lo < 0) return makeError(errc::InvalidField, "database url: bad percent escape");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// mysql://user:password@host:port/database[?socket=/path]
Result<MysqlOptions> parseMysqlUrl(std::string_view rest, int poolSize) {
  MysqlOptions o;
  o.poolSize = poolSize;
  auto bad = [](const char* what) { return makeError(errc::InvalidField, std::string("database url: ") + what); };
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    if (query.rfind("socket=", 0) != 0) return bad("only the 'socket' parameter is known");
    auto socket = percentDecode(query.substr(7));
    if (!socket.ok()) return socket.error();
    o.unixSocket = *socket;
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 >= rest.size()) return bad("missing /database");
  auto db = percentDecode(rest.substr(slash + 1));
  if (!db.ok()) return db.error();
  o.database = *db;
  std::string_view authority = rest.substr(0, slash);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    auto user = percentDecode(userinfo.substr(0, colon));
    if (!user.ok()) return user.error();
    o.user = *user;
    if (colon != std::string_view::npos) {
      auto pw = percentDecode(userinfo.substr(colon + 1));
      if (!pw.ok()) return pw.error();
      o.password = *pw;
    }
  }
  if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    unsigned p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc{} || end != port.data() + port.size() || p == 0 || p > 65535) return bad("bad port");
    o.port = p;
    authority = authority.substr(0, colon);
  }
  if (!authority.empty()) o.host = std::string(authority);
  return o;
}

}  // namespace

Result<std::unique_ptr<Storage>> openStorage(const StorageConfig& config, const Clock& clock) {
  std::string_view url = config.url;
  for (std::string_view scheme : {"mysql://", "mariadb://"}) {
    if (url.rfind(scheme, 0) == 0) {
      auto options = parseMysqlUrl(url.substr(scheme.size()), config.poolSize);
      if (!options.ok()) return options.error();
      auto s = MysqlStorage::open(*options, clock);
      if (!s.ok()) return s.error();
      return std::unique_ptr<Storage>(std::move(s).value());
    }
  }
  if (url.rfind("sqlite:", 0) == 0) url.remove_prefix(7);
  SqliteOptions options;
  options.path = std::string(url);
  options.poolSize = config.poolSize;
  auto s = SqliteStorage::open(options, clock);
  if (!s.ok()) return s.error();
  return std::unique_ptr<Storage>(std::move(s).value());
}

}  // namespace meeting::api::db
