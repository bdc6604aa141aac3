#include "app/CommandLine.hpp"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>
#include <iostream>
#include <optional>
#include <string_view>

#include "common/Log.hpp"

namespace meeting::app {
namespace {

using Override = std::function<Result<void>(Config&)>;

// Flags of seed 001 and which roles take them.
enum RoleMask : unsigned {
  All = 1, Api = 2, Sfu = 4, Turn = 8, Fs = 16, Alloc = 32,
  Servers = All | Api | Sfu | Turn | Fs | Alloc,
};

// Reads a flag's value from its environment variable (used when the flag is not on the command line).
template <typename T>
Result<T> fromEnvironment(const std::string& flag, const std::string& raw) {
  if constexpr (std::is_same_v<T, std::string>) {
    return raw;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (raw == "1" || raw == "true" || raw == "yes" || raw == "on") return true;
    if (raw == "0" || raw == "false" || raw == "no" || raw == "off" || raw.empty()) return false;
    return makeError("invalid_flag", environmentName(flag) + ": '" + raw + "' is not true or false");
  } else {
    T value{};
    auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
    if (ec != std::errc() || ptr != raw.data() + raw.size()) {
      return makeError("invalid_flag", environmentName(flag) + ": '" + raw + "' is not a number");
    }
    return value;
  }
}

// A flag given on the command line overrides; one not given may come from the environment.
struct FlagSource {
  CLI::App* subcommand;
  CLI::Option* option;
  std::string flag;
  std::function<Result<void>(Config&, const std::string& raw)> applyEnvironment;
};

struct Builder {
  CLI::App* app;
  unsigned role;
  std::vector<Override>* overrides;
  std::vector<FlagSource>* sources;

  template <typename T>
  CLI::Option* option(unsigned roles, const std::string& flag, const std::string& help,
                      std::function<Result<void>(Config&, const T&)> apply) {
    if (!(roles & role)) return nullptr;
    auto* list = overrides;
    auto* opt = app->add_option_function<T>(
        "--" + flag, [list, apply](const T& value) { list->push_back([apply, value](Config& c) { return apply(c, value); }); },
        help + " [env " + environmentName(flag) + "]");
    sources->push_back(FlagSource{app, opt, flag, [flag, apply](Config& c, const std::string& raw) -> Result<void> {
                                    auto value = fromEnvironment<T>(flag, raw);
                                    if (!value) return value.error();
                                    return apply(c, *value);
                                  }});
    return opt;
  }

  CLI::Option* text(unsigned roles, const std::string& flag, const std::string& help, std::string Config::*member,
                    std::function<std::string(const std::string&)> check = nullptr) {
    return option<std::string>(roles, flag, help, [member, check, flag](Config& c, const std::string& v) -> Result<void> {
      if (check) {
        if (auto problem = check(v); !problem.empty()) return makeError("invalid_flag", "--" + flag + ": " + problem);
      }
      c.*member = v;
      return {};
    });
  }
};

std::string checkHostPort(const std::string& v) {
  return isHostPort(v) ? "" : "'" + v + "' is not host:port with a port from 1 to 65535";
}

std::string checkIp(const std::string& v) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, v.c_str(), buf) == 1 || inet_pton(AF_INET6, v.c_str(), buf) == 1) return "";
  return "'" + v + "' is not an IPv4 or IPv6 address";
}

std::string checkUrl(const std::string& v) {
  if (v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0) {
    auto rest = v.substr(v.find("//") + 2);
    if (!rest.empty() && rest.front() != '/') return "";
  }
  return "'" + v + "' is not an http:// or https:// URL";
}

std::string checkServerAddress(const std::string& v) {
  std::string hostPort = v;
  for (const char* scheme : {"https://", "http://", "wss://", "ws://"}) {
    if (hostPort.rfind(scheme, 0) == 0) hostPort = hostPort.substr(std::string(scheme).size());
  }
  hostPort = hostPort.substr(0, hostPort.find('/'));
  return isHostPort(hostPort) ? "" : "'" + v + "' is not host:port (optionally with https://)";
}

std::string checkNonEmpty(const std::string& v) { return v.empty() ? "must not be empty" : ""; }

// Repeatable mail flags line up by position: server i uses port/username/from/tls/domains i, or
// the only one given.
struct MailFlags {
  std::vector<std::string> servers, usernames, froms, tls, domains;
  std::vector<int> ports;
};

// Options without a typed Config member live in the role file's `ext` object (seed 000: "extra
// options"); a flag writes the same place, so flag and file mean the same thing. `ext` given as a
// list in the role file cannot hold them.
Result<nlohmann::json*> extSection(Config& c, const std::string& flag, const char* section) {
  if (c.ext.is_null()) c.ext = nlohmann::json::object();
  if (!c.ext.is_object()) return makeError("invalid_flag", "--" + flag + ": the role file's ext is a list, not an object");
  auto& s = c.ext[section];
  if (!s.is_object()) s = nlohmann::json::object();
  return &s;
}

// "a.com, B.com" -> ["a.com", "b.com"]; empty when an entry is not a plain domain name.
std::optional<std::vector<std::string>> parseDomainList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    auto end = std::min(text.find(',', start), text.size());
    std::string d;
    for (char ch : text.substr(start, end - start)) {
      if (ch != ' ') d += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    bool ok = !d.empty() && d.size() <= 253 && d.front() != '.' && d.back() != '.';
    for (char ch : d) ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.');
    if (!ok) return std::nullopt;
    out.push_back(d);
    start = end + 1;
  }
  return out;
}

// --mailTls / --mailDomains of server i go to ext.mail.tls / ext.mail.domains keyed by its host
// (api/mail/MailDispatcher.hpp reads them), replacing what the role file says for that host.
Result<void> applyMailTlsAndDomains(const MailFlags& m, Config& c) {
  if (m.tls.empty() && m.domains.empty()) return {};
  auto mail = extSection(c, m.tls.empty() ? "mailDomains" : "mailTls", "mail");
  if (!mail) return mail.error();
  auto& tls = (**mail)["tls"];
  auto& domains = (**mail)["domains"];
  if (!tls.is_object()) tls = nlohmann::json::object();
  if (!domains.is_object()) domains = nlohmann::json::object();
  for (size_t i = 0; i < m.servers.size(); ++i) {
    const auto& host = m.servers[i];
    if (!m.tls.empty()) {
      const auto& mode = m.tls[m.tls.size() == 1 ? 0 : i];
      if (mode != "required" && mode != "opportunistic" && mode != "none") {
        return makeError("invalid_flag", "--mailTls: '" + mode + "' is not required, opportunistic or none");
      }
      tls[host] = mode;
    }
    if (!m.domains.empty()) {
      const auto& list = m.domains[m.domains.size() == 1 ? 0 : i];
      auto parsed = parseDomainList(list);
      if (!parsed) return makeError("invalid_flag", "--mailDomains: '" + list + "' is not a comma-separated list of domains");
      domains[host] = *parsed;
    }
  }
  return {};
}

Result<void> buildMailServers(const MailFlags& m, Config& c) {
  if (m.servers.empty()) {
    if (!m.ports.empty() || !m.usernames.empty() || !m.froms.empty() || !m.tls.empty() || !m.domains.empty()) {
      return makeError("invalid_flag",
                       "--mailServer: required when --mailPort, --mailUsername, --mailFrom, --mailTls or --mailDomains is given");
    }
    return {};
  }
  auto fits = [&](size_t n) { return n == 0 || n == 1 || n == m.servers.size(); };
  if (!fits(m.ports.size())) return makeError("invalid_flag", "--mailPort: give one, or one per --mailServer");
  if (!fits(m.usernames.size())) return makeError("invalid_flag", "--mailUsername: give one, or one per --mailServer");
  if (!fits(m.froms.size())) return makeError("invalid_flag", "--mailFrom: give one, or one per --mailServer");
  if (!fits(m.tls.size())) return makeError("invalid_flag", "--mailTls: give one, or one per --mailServer");
  if (!fits(m.domains.size())) return makeError("invalid_flag", "--mailDomains: give one, or one per --mailServer");
  if (m.froms.empty()) return makeError("invalid_flag", "--mailFrom: required with --mailServer");
  c.mailServers.clear();
  for (size_t i = 0; i < m.servers.size(); ++i) {
    auto pick = [i](const auto& list, auto fallback) { return list.empty() ? fallback : list[list.size() == 1 ? 0 : i]; };
    MailServer s;
    s.host = m.servers[i];
    s.port = pick(m.ports, 587);
    s.username = pick(m.usernames, std::string{});
    s.from = pick(m.froms, std::string{});
    if (s.from.find('@') == std::string::npos) return makeError("invalid_flag", "--mailFrom: '" + s.from + "' is not an e-mail address");
    c.mailServers.push_back(s);
  }
  return applyMailTlsAndDomains(m, c);
}

// --test-packet-loss downlink:5[,uplink:2]: proves loss recovery in tests. A production binary
// must not drop media because of a stray flag, so release builds also need the environment to say so.
Result<void> parseTestPacketLoss(Config& c, const std::string& value) {
#ifdef NDEBUG
  const char* allowed = std::getenv("MEETING_TEST_HOOKS");
  if (!allowed || std::string_view(allowed) != "1") {
    return makeError("invalid_flag", "--test-packet-loss: a test hook; release builds need MEETING_TEST_HOOKS=1");
  }
#endif
  size_t start = 0;
  while (start <= value.size()) {
    auto end = value.find(',', start);
    auto item = value.substr(start, end == std::string::npos ? std::string::npos : end - start);
    auto colon = item.find(':');
    int percent = -1;
    if (colon != std::string::npos) {
      auto number = item.substr(colon + 1);
      if (!number.empty() && number.size() <= 2 && std::all_of(number.begin(), number.end(), ::isdigit)) percent = std::stoi(number);
    }
    auto direction = item.substr(0, colon);
    if (percent < 0 || percent > 50 || (direction != "downlink" && direction != "uplink")) {
      return makeError("invalid_flag", "--test-packet-loss: '" + item + "' is not downlink:N or uplink:N with N from 0 to 50");
    }
    (direction == "downlink" ? c.testLossDownlinkPercent : c.testLossUplinkPercent) = percent;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return {};
}

// "2G", "500M", "4096": a whole number with an optional binary unit K/M/G/T (also KB, KiB, ...,
// any case; 1K = 1024), or bytes alone. Empty when malformed or above 2^60.
std::optional<uint64_t> parseByteSize(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 19) return std::nullopt;
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, value);
  if (ec != std::errc() || ptr != text.data() + digits) return std::nullopt;
  std::string unit;
  for (char c : text.substr(digits)) unit += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = 0;
  if (!unit.empty() && unit != "B") {
    static constexpr std::string_view Units = "KMGT";
    auto pos = Units.find(unit[0]);
    std::string_view rest = std::string_view(unit).substr(1);
    if (pos == std::string_view::npos || !(rest.empty() || rest == "B" || rest == "IB")) return std::nullopt;
    shift = 10 * static_cast<int>(pos + 1);
  }
  constexpr uint64_t Max = 1ull << 60;
  if (value > (Max >> shift)) return std::nullopt;
  return value << shift;
}

// A size flag of the fsserver: `allowZero` means 0 is accepted (unlimited).
void sizeFlag(Builder& b, unsigned roles, const char* flag, const char* help, uint64_t Config::*member, bool allowZero) {
  b.option<std::string>(roles, flag, help, [flag, member, allowZero](Config& c, const std::string& v) -> Result<void> {
    auto size = parseByteSize(v);
    if (!size || (!allowZero && *size == 0)) {
      return makeError("invalid_flag", std::string("--") + flag + ": '" + v + "' is not a size like 500M or 2G" +
                                           (allowZero ? " (0: unlimited)" : ""));
    }
    c.*member = *size;
    return {};
  });
}

void addRoleFlags(Builder b, MailFlags& mail, std::string& configFile) {
  b.app->add_option("--config", configFile, "Role configuration file (seed 000 JSON)")
      ->envname("MEETING_CONFIG")
      ->check(CLI::ExistingFile);
  b.text(Servers, "data", "Data folder (database, certificates, files); default ./meeting-data", &Config::dataDir, checkNonEmpty);
  b.text(Servers, "listen", "HTTPS listener host:port (all-in-one default 127.0.0.1:8443)", &Config::listen, checkHostPort);
  b.text(Servers, "log-level", "Log level: 0-5 or off, error, warn, info, debug, trace", &Config::logLevel,
         [](const std::string& v) { auto r = log::parseLevel(v); return r ? std::string{} : r.error().message; });
  if (auto* http = b.option<bool>(Servers, "http", "Serve plain HTTP instead of HTTPS (behind a TLS-terminating proxy)",
                                  [](Config& c, const bool& v) -> Result<void> { c.plainHttp = v; return {}; })) {
    http->expected(0, 1)->default_str("true");  // a bare flag means true
  }

  b.text(Servers & ~Alloc, "secret", "Cluster secret: signs tokens, TURN credentials, file URLs, control link", &Config::secret, checkNonEmpty);
  b.text(All | Api, "mysqlAddress", "MySQL/MariaDB host:port (default: SQLite in the data folder)", &Config::mysqlAddress, checkHostPort);
  b.text(All | Api, "mysqlUser", "MySQL/MariaDB user", &Config::mysqlUser);
  b.text(All | Api, "mysqlPassword", "MySQL/MariaDB password", &Config::mysqlPassword);
  b.text(All | Api, "mysqlDatabase", "MySQL/MariaDB database name", &Config::mysqlDatabase, checkNonEmpty);
  b.text(All | Api | Sfu | Fs, "domainaddress", "Public host:port clients use to reach this role", &Config::domainAddress, checkHostPort);
  b.text(All | Api | Sfu | Fs | Alloc, "cert", "TLS certificate PEM (chain after the leaf)", &Config::cert, checkNonEmpty);
  b.text(All | Api | Sfu | Fs | Alloc, "certkey", "TLS private key PEM", &Config::certKey, checkNonEmpty);
  // Seed 000 monitoring_enabled / report_password: the report at /monitoring/<report_password>.
  b.text(All | Api, "report-password", "Password in the monitoring report's URL /monitoring/<password>",
         &Config::reportPassword, checkNonEmpty);
  if (auto* monitoring = b.option<bool>(All | Api | Sfu, "monitoring",
                                        "Build the per-second monitoring report (default true; --monitoring=false turns it off)",
                                        [](Config& c, const bool& v) -> Result<void> { c.monitoringEnabled = v; return {}; })) {
    monitoring->expected(0, 1)->default_str("true");
  }
  b.text(All | Api, "webhook-key", "HMAC key that signs webhooks (default: derived from --secret)", &Config::webhookKey,
         checkNonEmpty);
  if (auto* privateHooks = b.option<bool>(All | Api, "allow-private-webhooks",
                                          "Allow webhook URLs on loopback, private and link-local addresses",
                                          [](Config& c, const bool& v) -> Result<void> { c.allowPrivateWebhooks = v; return {}; })) {
    privateHooks->expected(0, 1)->default_str("true");  // a bare flag means true
  }
  b.option<std::string>(All | Api, "webhook-url",
                        "Default webhook URL: events of rooms without their own webhook_url (role file: ext.webhook.url)",
                        [](Config& c, const std::string& v) -> Result<void> {
                          if (auto problem = checkUrl(v); !problem.empty()) return makeError("invalid_flag", "--webhook-url: " + problem);
                          auto hook = extSection(c, "webhook-url", "webhook");
                          if (!hook) return hook.error();
                          (**hook)["url"] = v;
                          return {};
                        });
  b.text(All | Api, "allocateserver", "URL of the allocate server (seed 001 contract)", &Config::allocateServer, checkUrl);
  b.text(Sfu | Turn | Fs, "apiserver", "host:port of the apiserver to register with", &Config::apiServer, checkServerAddress);
  b.text(All | Turn | Sfu, "ip", "Public IP announced to clients (TURN relay address, media candidates)", &Config::ip, checkIp);
  b.text(All | Fs, "directory", "Directory where the fsserver stores files", &Config::directory, checkNonEmpty);
  sizeFlag(b, All | Api | Fs, "fs-max-file-size", "Largest file an upload may have, e.g. 500M or 2G (default 2G)",
           &Config::fsMaxFileBytes, false);
  sizeFlag(b, All | Fs, "fs-room-quota", "Bytes of files one room may store, e.g. 10G; 0: unlimited (default 10G)",
           &Config::fsRoomQuotaBytes, true);
  sizeFlag(b, All | Fs, "fs-total-quota", "Bytes of files the fsserver may store in all; 0: unlimited (default 0)",
           &Config::fsTotalQuotaBytes, true);
  if (auto* port = b.option<int>(All | Turn, "port", "TURN listening port (UDP and TCP), default 3478",
                                 [](Config& c, const int& v) -> Result<void> {
                                   if (v < 1 || v > 65535) return makeError("invalid_flag", "--port: " + std::to_string(v) + " is not from 1 to 65535");
                                   c.turnPort = v;
                                   return {};
                                 })) {
    port->check(CLI::Range(1, 65535));
  }

  b.option<int>(All | Sfu, "media-port", "First media port (UDP and TCP): worker i uses media-port + i; 0 picks free ports",
                [](Config& c, const int& v) -> Result<void> {
                  if (v < 0 || v > 65535) return makeError("invalid_flag", "--media-port: " + std::to_string(v) + " is not from 0 to 65535");
                  c.mediaPort = v;
                  return {};
                });
  b.option<int>(All | Sfu, "media-workers", "Media worker threads (default: one per core)",
                [](Config& c, const int& v) -> Result<void> {
                  if (v < 0 || v > 256) return makeError("invalid_flag", "--media-workers: " + std::to_string(v) + " is not from 0 to 256");
                  c.mediaWorkers = v;
                  return {};
                });

  b.option<std::string>(All | Sfu, "test-packet-loss",
                        "Test hook: drop PERCENT of RTP, DIRECTION downlink or uplink (DIRECTION:PERCENT[,...]); "
                        "release builds need MEETING_TEST_HOOKS=1",
                        [](Config& c, const std::string& v) -> Result<void> { return parseTestPacketLoss(c, v); });

  // TURN relay (turnserver; `meeting all` runs it too).
  if (auto* loopback = b.option<bool>(All | Turn, "allow-loopback-peers", "Let TURN relay to 127.0.0.0/8 and ::1 (tests only)",
                                      [](Config& c, const bool& v) -> Result<void> { c.turnAllowLoopbackPeers = v; return {}; })) {
    loopback->expected(0, 1)->default_str("true");  // a bare flag means true
  }
  b.option<std::string>(All | Turn, "relay-ports", "TURN relay port range MIN-MAX (default 49152-65535)",
                        [](Config& c, const std::string& v) -> Result<void> {
                          auto dash = v.find('-');
                          int lo = 0, hi = 0;
                          bool ok = dash != std::string::npos;
                          if (ok) {
                            auto [p1, e1] = std::from_chars(v.data(), v.data() + dash, lo);
                            auto [p2, e2] = std::from_chars(v.data() + dash + 1, v.data() + v.size(), hi);
                            ok = e1 == std::errc() && p1 == v.data() + dash && e2 == std::errc() &&
                                 p2 == v.data() + v.size() && lo >= 1 && lo <= hi && hi <= 65535;
                          }
                          if (!ok) return makeError("invalid_flag", "--relay-ports: '" + v + "' is not MIN-MAX within 1-65535");
                          c.turnRelayPortMin = lo;
                          c.turnRelayPortMax = hi;
                          return {};
                        });
  b.text(All | Turn, "allowed-peers", "Comma-separated CIDR ranges TURN may relay to despite the private-range defaults",
         &Config::turnAllowedPeers);
  b.text(All | Turn, "denied-peers", "Comma-separated CIDR ranges TURN never relays to", &Config::turnDeniedPeers);
  b.text(All | Turn, "realm", "TURN realm (default meeting)", &Config::turnRealm, checkNonEmpty);
  b.option<int>(All | Turn, "turn-workers", "TURN worker threads (default: one per core)",
                [](Config& c, const int& v) -> Result<void> {
                  if (v < 0 || v > 256) return makeError("invalid_flag", "--turn-workers: " + std::to_string(v) + " is not from 0 to 256");
                  c.turnWorkers = v;
                  return {};
                });
  b.option<int>(All | Turn, "tls-port", "TURN over TLS port (default 5349)",
                [](Config& c, const int& v) -> Result<void> {
                  if (v < 1 || v > 65535) return makeError("invalid_flag", "--tls-port: " + std::to_string(v) + " is not from 1 to 65535");
                  c.turnPortTls = v;
                  return {};
                });
  // TURN quotas (RFC 8656 §7.2: 486 per user, 508 in total; the lifetime cap of Allocate/Refresh).
  auto turnLimit = [&](const char* flag, const char* help, int lo, int hi, int Config::*member) {
    b.option<int>(All | Turn, flag, help, [flag, lo, hi, member](Config& c, const int& v) -> Result<void> {
      if (v < lo || v > hi)
        return makeError("invalid_flag", std::string("--") + flag + ": " + std::to_string(v) + " is not from " +
                                             std::to_string(lo) + " to " + std::to_string(hi));
      c.*member = v;
      return {};
    });
  };
  turnLimit("user-quota", "TURN allocations per user (default 10)", 1, 1000000, &Config::turnMaxAllocationsPerUser);
  turnLimit("total-quota", "TURN allocations in total (default 5000)", 1, 1000000, &Config::turnMaxAllocationsTotal);
  turnLimit("max-lifetime", "Longest TURN allocation lifetime in seconds (default 3600)", 60, 86400,
            &Config::turnMaxLifetime);

  if (b.role & (All | Api)) {
    auto addMail = [&](const std::string& flag, auto member, const std::string& help = "Repeatable; one per mail server",
                       char delimiter = ',') {
      using Elem = typename std::remove_reference_t<decltype(mail.*member)>::value_type;
      b.app->add_option_function<std::vector<Elem>>("--" + flag, [&mail, member](const std::vector<Elem>& v) {
            auto& target = mail.*member;
            target.insert(target.end(), v.begin(), v.end());
          }, help)
          ->envname(environmentName(flag))  // `delimiter`-separated in the environment
          ->delimiter(delimiter)
          ->allow_extra_args(false);
    };
    addMail("mailServer", &MailFlags::servers);
    addMail("mailPort", &MailFlags::ports);
    addMail("mailUsername", &MailFlags::usernames);
    addMail("mailFrom", &MailFlags::froms);
    addMail("mailTls", &MailFlags::tls,
            "required (STARTTLS or fail), opportunistic (STARTTLS when offered; default) or none; "
            "repeatable, one per mail server (port 465 is always TLS)");
    // One value is already a comma-separated list: servers are separated by ';' in the environment.
    addMail("mailDomains", &MailFlags::domains,
            "Recipient domains sent through this mail server besides its --mailFrom domain, e.g. a.com,b.com; "
            "repeatable, one per mail server",
            ';');
  }
}

}  // namespace

std::string environmentName(const std::string& flag) {
  std::string out = "MEETING_";
  for (size_t i = 0; i < flag.size(); ++i) {
    char c = flag[i];
    if (c == '-') {
      out += '_';
    } else if (std::isupper(static_cast<unsigned char>(c))) {
      if (i > 0) out += '_';
      out += c;
    } else {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

Command parseCommandLine(int argc, const char* const* argv) {
  Command command;
  CLI::App app{"Meeting: self-hosted video conferencing in one binary.\n"
               "Without a subcommand every role runs in one process (same as `meeting all`).",
               "meeting"};
  app.require_subcommand(0, 1);
  app.set_help_all_flag("--help-all", "Help for every subcommand");

  struct RoleSpec {
    const char* name;
    unsigned mask;
    const char* help;
  };
  const RoleSpec roles[] = {
      {"all", All, "Every role in one process on embedded defaults (SQLite, self-signed TLS, ./meeting-data)"},
      {"apiserver", Api, "The hub: REST API, database, tokens, webhooks, mail, monitoring"},
      {"sfuserver", Sfu, "The media plane: WebRTC forwarding of audio, video, screen share and data"},
      {"turnserver", Turn, "STUN/TURN relay for users behind firewalls"},
      {"fsserver", Fs, "Stores meeting-minutes images and files"},
      {"allocateserver", Alloc, "Tells the apiserver which sfu/turn/fs servers serve a meeting (seed 001)"},
  };

  std::vector<Override> overrides;
  std::vector<FlagSource> sources;
  // One set of mail flags per subcommand: CLI11 reads an option's environment variable for each
  // subcommand that declares it, so a shared set would hold MEETING_MAIL_SERVER=a,b twice.
  std::map<const CLI::App*, MailFlags> mailBySubcommand;
  std::string configFile;
  std::string mailPassword;
  std::vector<CLI::App*> roleApps;
  for (const auto& spec : roles) {
    auto* sub = app.add_subcommand(spec.name, spec.help);
    roleApps.push_back(sub);
    addRoleFlags(Builder{sub, spec.mask, &overrides, &sources}, mailBySubcommand[sub], configFile);
  }
  // The SMTP password applies to every mail server (seed 001 has no per-server password flag).
  for (auto* sub : roleApps) {
    if (sub->get_name() == "all" || sub->get_name() == "apiserver") {
      sub->add_option("--mailPassword", mailPassword, "SMTP password (all mail servers)")->envname("MEETING_MAIL_PASSWORD");
    }
  }
  auto* ctl = app.add_subcommand("ctl", "Admin console: talk to a running apiserver (see `meeting ctl --help`)");
  ctl->allow_extras();
  ctl->prefix_command();
  app.add_subcommand("version", "Print the version and exit");

  std::vector<std::string> args;
  for (int i = argc - 1; i >= 1; --i) args.emplace_back(argv[i]);  // CLI11 wants them reversed
  // `meeting --data X` means `meeting all --data X`: the all-in-one is the default subcommand.
  if (argc > 1) {
    std::string first = argv[1];
    bool isHelp = first == "-h" || first == "--help" || first == "--help-all";
    if (!isHelp && first.rfind("--", 0) == 0) args.push_back("all");
  }
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    command.exitCode = 0;
    return command;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    command.exitCode = 0;
    return command;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      // --help on a subcommand
      for (auto* sub : app.get_subcommands()) std::cout << sub->help();
      if (app.get_subcommands().empty()) std::cout << app.help();
      command.exitCode = 0;
      return command;
    }
    std::cerr << "meeting: error: " << e.what() << "\n";
    command.exitCode = 2;
    return command;
  }

  auto chosen = app.get_subcommands();
  command.role = chosen.empty() ? "all" : chosen.front()->get_name();
  if (command.role == "ctl") {
    command.ctlArgs = ctl->remaining();
    return command;
  }
  if (command.role == "version") return command;

  Config& config = command.config;
  if (command.role == "all") config.listen = "127.0.0.1:8443";
  if (!configFile.empty()) {
    if (auto r = loadRoleFile(configFile, config); !r) {
      std::cerr << "meeting: error: " << r.error().message << "\n";
      command.exitCode = 2;
      return command;
    }
  }
  // Environment first (only for flags not on the command line), then the command line.
  std::vector<Override> ordered;
  for (auto& source : sources) {
    if (source.option->count() > 0 || !source.subcommand->parsed()) continue;
    if (const char* raw = std::getenv(environmentName(source.flag).c_str())) {
      std::string value = raw;
      auto apply = source.applyEnvironment;
      ordered.push_back([apply, value](Config& c) { return apply(c, value); });
    }
  }
  ordered.insert(ordered.end(), overrides.begin(), overrides.end());
  for (auto& apply : ordered) {
    if (auto r = apply(config); !r) {
      std::cerr << "meeting: error: " << r.error().message << "\n";
      command.exitCode = 2;
      return command;
    }
  }
  if (auto r = buildMailServers(mailBySubcommand[app.get_subcommand(command.role)], config); !r) {
    std::cerr << "meeting: error: " << r.error().message << "\n";
    command.exitCode = 2;
    return command;
  }
  for (auto& server : config.mailServers) server.password = mailPassword;
  return command;
}

}  // namespace meeting::app
