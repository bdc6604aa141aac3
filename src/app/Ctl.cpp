#include "app/Ctl.hpp"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "net/HttpClient.hpp"
#if MEETING_HAS_API
#include "api/ApiKeys.hpp"
#endif

namespace meeting::app {
namespace {

using nlohmann::json;

// What every REST call of the console needs.
struct Remote {
  std::string server;
  std::string key;
  bool insecure = false;
};

struct Reply {
  int status = 0;
  std::string body;
};

Result<Reply> call(const Remote& remote, net::http::verb method, const std::string& path) {
  net::HttpClientOptions options;
  options.verifyTls = !remote.insecure;
  options.timeout = std::chrono::seconds(5);
  if (!remote.key.empty()) options.headers["Authorization"] = "Bearer " + remote.key;
  auto response = net::httpRequest(method, remote.server + path, {}, options);
  if (!response) {
    auto error = response.error();
    if (error.code == "tls" && !remote.insecure) error.message += " (use --insecure for a self-signed certificate)";
    return error;
  }
  return Reply{static_cast<int>(response->result_int()), response->body()};
}

// The error message of a REST error body ({"error": {"code", "message"}}), or the raw body.
std::string errorText(const Reply& reply) {
  auto body = json::parse(reply.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    return body["error"].value("message", std::string{}) + " (" + body["error"].value("code", std::string{}) + ")";
  }
  return "HTTP " + std::to_string(reply.status) + ": " + reply.body.substr(0, 200);
}

Result<json> getJson(const Remote& remote, const std::string& path) {
  auto reply = call(remote, net::http::verb::get, path);
  if (!reply) return reply.error();
  if (reply->status != 200) return makeError("http", errorText(*reply));
  auto body = json::parse(reply->body, nullptr, false);
  if (body.is_discarded()) return makeError("http", "the server's answer is not JSON");
  return body;
}

std::string clip(std::string text, size_t width) {
  if (text.size() > width) text = text.substr(0, width - 1) + "~";
  return text;
}

// printf into a string; the attribute lets the compiler check each call's arguments.
__attribute__((format(printf, 1, 2))) std::string format(const char* pattern, ...) {
  char line[512];
  va_list args;
  va_start(args, pattern);
  std::vsnprintf(line, sizeof line, pattern, args);
  va_end(args);
  return line;
}

double number(const json& object, const char* key) {
  if (!object.is_object()) return 0.0;
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::string text(const json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

// A member that is an object or array as expected, else an empty one of that kind.
const json& member(const json& object, const char* key, bool array) {
  static const json emptyObject = json::object();
  static const json emptyArray = json::array();
  if (object.is_object()) {
    auto it = object.find(key);
    if (it != object.end() && (array ? it->is_array() : it->is_object())) return *it;
  }
  return array ? emptyArray : emptyObject;
}

std::string age(double seconds) {
  auto s = static_cast<long long>(seconds);
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  return std::to_string(s / 3600) + "h" + std::to_string(s / 60 % 60) + "m";
}

// --- the terminal, for `stats` -----------------------------------------------------------

volatile std::sig_atomic_t interrupted = 0;

// Keys without Enter and without echo while `stats` runs; Ctrl-C still raises SIGINT (ISIG is
// kept), which ends the loop so the terminal is restored on the way out.
class RawTerminal {
 public:
  RawTerminal() {
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

  /// Waits up to `ms` for a key; true when it was q/Q (or stdin closed).
  bool quitPressed(int ms) const {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return false;
    char c = 0;
    auto n = read(STDIN_FILENO, &c, 1);
    if (n == 0 && !active_) return false;  // stdin is not a terminal and at its end: keep going
    return n == 1 && (c == 'q' || c == 'Q');
  }

 private:
  termios saved_{};
  bool active_ = false;
};

int runStats(const Remote& remote, bool once) {
  if (once) {
    auto report = getJson(remote, "/api/v1/monitoring");
    if (!report) {
      std::cerr << "meeting ctl stats: " << report.error().message << "\n";
      return 1;
    }
    std::cout << renderStats(*report);
    return 0;
  }
  std::signal(SIGINT, [](int) { interrupted = 1; });
  std::signal(SIGTERM, [](int) { interrupted = 1; });
  RawTerminal terminal;
  while (!interrupted) {
    auto report = getJson(remote, "/api/v1/monitoring");
    std::string screen = "\x1b[H\x1b[2J";  // cursor home, clear screen
    screen += report ? renderStats(*report) : "meeting ctl stats: " + report.error().message + "\n";
    screen += "\n(q or Ctrl-C to quit; refreshes every second)\n";
    std::cout << screen << std::flush;
    if (terminal.quitPressed(1000)) break;
  }
  std::cout << "\n";
  return 0;
}

int runRooms(const Remote& remote) {
  std::string after;
  size_t rooms = 0;
  std::cout << format("%-36s %-12s %s\n", "ROOM", "PEERS", "PEER ID / STATUS / NAME");
  for (int page = 0; page < 100; ++page) {  // at most 100 pages of the API's page size
    auto body = getJson(remote, "/api/v1/rooms?limit=100" + (after.empty() ? "" : "&after=" + after));
    if (!body) {
      std::cerr << "meeting ctl rooms: " << body.error().message << "\n";
      return 1;
    }
    for (const auto& room : member(*body, "rooms", true)) {
      ++rooms;
      const auto& peers = member(room, "peers", true);
      std::cout << format("%-36s %-12zu\n", clip(text(room, "id"), 36).c_str(), peers.size());
      for (const auto& p : peers) {
        std::cout << format("%-36s %-12s %s  %s  %s\n", "", "", text(p, "id").c_str(), text(p, "status").c_str(),
                            text(p, "display_name").c_str());
      }
    }
    auto next = text(*body, "next");
    if (next.empty()) break;
    after = next;
  }
  if (rooms == 0) std::cout << "(no rooms)\n";
  return 0;
}

int runKick(const Remote& remote, const std::string& room, const std::string& peer) {
  auto reply = call(remote, net::http::verb::delete_, "/api/v1/rooms/" + room + "/peers/" + peer);
  if (!reply) {
    std::cerr << "meeting ctl kick: " << reply.error().message << "\n";
    return 1;
  }
  if (reply->status != 204 && reply->status != 200) {
    std::cerr << "meeting ctl kick: " << errorText(*reply) << "\n";
    return 1;
  }
  std::cout << "removed peer " << peer << " from room " << room << "\n";
  return 0;
}

// The turn and fs servers' own reports (docs/operations.md "Monitoring"), one line each; the
// tables are left out when no such server is registered.
void renderRelaysAndFileServers(std::ostringstream& out, const json& servers) {
  auto withRole = [&](const char* role) {
    std::vector<const json*> found;
    for (const auto& s : servers) {
      if (text(s, "role") == role) found.push_back(&s);
    }
    return found;
  };
  if (auto turns = withRole("turn"); !turns.empty()) {
    out << format("\n%-24s %6s %6s %6s %9s %9s %9s %9s %9s\n", "TURN", "ALLOCS", "PERMS", "CHANS", "IN pkt/s", "IN Mb/s",
                  "OUT pkt/s", "OUT Mb/s", "AUTHFAIL");
    for (const json* s : turns) {
      const json& r = member(*s, "report", false);
      out << format("%-24s %6.0f %6.0f %6.0f %9.0f %9.2f %9.0f %9.2f %9.0f\n", clip(text(*s, "id"), 24).c_str(),
                    number(r, "allocations"), number(r, "permissions"), number(r, "channels"), number(r, "packets_in_per_s"),
                    number(r, "bytes_in_per_s") * 8 / 1e6, number(r, "packets_out_per_s"), number(r, "bytes_out_per_s") * 8 / 1e6,
                    number(r, "auth_failures"));
    }
  }
  if (auto fss = withRole("fs"); !fss.empty()) {
    out << format("\n%-24s %5s %5s %9s %9s %8s %12s\n", "FS", "UP", "DOWN", "IN Mb/s", "OUT Mb/s", "FILES", "STORED MB");
    for (const json* s : fss) {
      const json& r = member(*s, "report", false);
      out << format("%-24s %5.0f %5.0f %9.2f %9.2f %8.0f %12.1f\n", clip(text(*s, "id"), 24).c_str(),
                    number(r, "uploads_in_progress"), number(r, "downloads_in_progress"), number(r, "bytes_in_per_s") * 8 / 1e6,
                    number(r, "bytes_out_per_s") * 8 / 1e6, number(r, "stored_files"), number(r, "stored_bytes") / 1e6);
    }
  }
}

}  // namespace

std::string renderStats(const nlohmann::json& report) {
  std::ostringstream out;
  const json& totals = member(report, "totals", false);
  std::time_t seconds = static_cast<std::time_t>(number(report, "time") / 1000);
  char when[32] = "?";
  std::tm tm{};
  if (gmtime_r(&seconds, &tm)) std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
  out << format("Meeting cluster  %s   servers %.0f/%.0f up   rooms %.0f   peers %.0f\n\n", when,
                number(totals, "servers_up"), number(totals, "servers"), number(totals, "rooms"), number(totals, "peers"));
  const json& servers = member(report, "servers", true);
  out << format("%-24s %-5s %-6s %6s %6s %10s\n", "SERVER", "ROLE", "STATUS", "ROOMS", "PEERS", "LOAD/CAP");
  for (const auto& s : servers) {
    out << format("%-24s %-5s %-6s %6.0f %6.0f %5.0f/%-4.0f\n", clip(text(s, "id"), 24).c_str(), text(s, "role").c_str(),
                  text(s, "status").c_str(), number(s, "rooms"), number(s, "peers"), number(s, "load"), number(s, "capacity"));
  }
  out << format("\n%-24s %3s %6s %5s %6s %5s %5s %9s %9s %9s %9s %8s\n", "WORKERS", "ID", "CPU%", "ROOMS", "TRANSP",
                "PROD", "CONS", "IN pkt/s", "IN Mb/s", "OUT pkt/s", "OUT Mb/s", "LAG ms");
  for (const auto& s : servers) {
    for (const auto& w : member(member(s, "report", false), "workers", true)) {
      out << format("%-24s %3.0f %6.1f %5.0f %6.0f %5.0f %5.0f %9.0f %9.2f %9.0f %9.2f %8.2f\n", clip(text(s, "id"), 24).c_str(),
                    number(w, "id"), number(w, "cpu") * 100, number(w, "rooms"), number(w, "transports"),
                    number(w, "producers"), number(w, "consumers"), number(w, "packets_in_per_s"),
                    number(w, "bytes_in_per_s") * 8 / 1e6, number(w, "packets_out_per_s"),
                    number(w, "bytes_out_per_s") * 8 / 1e6, number(w, "loop_lag_ms"));
    }
  }
  out << format("\n%-32s %-24s %3s %6s %6s %9s %9s %7s\n", "ROOM", "SERVER", "W", "PEERS", "TRACKS", "IN Mb/s", "OUT Mb/s", "AGE");
  size_t rooms = 0;
  for (const auto& s : servers) {
    for (const auto& r : member(member(s, "report", false), "rooms", true)) {
      if (!r.is_object()) continue;
      ++rooms;
      out << format("%-32s %-24s %3.0f %6.0f %6.0f %9.2f %9.2f %7s\n", clip(text(r, "id"), 32).c_str(),
                    clip(text(s, "id"), 24).c_str(), number(r, "worker"), number(r, "peers"), number(r, "tracks"),
                    number(r, "bitrate_in_bps") / 1e6, number(r, "bitrate_out_bps") / 1e6, age(number(r, "age_s")).c_str());
    }
  }
  if (rooms == 0) out << "(no rooms)\n";
  renderRelaysAndFileServers(out, servers);
  return out.str();
}

int runCtl(const std::vector<std::string>& args) {
  CLI::App app{"Admin console: talks to a running Meeting server over HTTPS.", "meeting ctl"};
  Remote remote;
  remote.server = "https://127.0.0.1:8443";
  app.add_option("--server", remote.server, "Base URL of the server")->envname("MEETING_SERVER")->capture_default_str();
  app.add_flag("--insecure,-k", remote.insecure, "Accept a self-signed certificate (the all-in-one default)");
  app.add_option("--key", remote.key, "REST API key (stats, rooms, kick); default: the all-in-one's key in --data")
      ->envname("MEETING_API_KEY");
  std::string keyDir = "meeting-data";
  app.add_option("--key-data", keyDir, "Data folder whose api-key file is used when --key is not given")
      ->capture_default_str();
  app.require_subcommand(1);
  auto* ping = app.add_subcommand("ping", "Check that the server answers");
  auto* metrics = app.add_subcommand("metrics", "Print the server's Prometheus metrics");
  auto* version = app.add_subcommand("version", "Print the server's version");
  bool once = false;
  auto* stats = app.add_subcommand("stats", "Live monitoring report of every server, workers and rooms (q or Ctrl-C quits)");
  stats->add_flag("--once", once, "Print the report once and exit");
  auto* rooms = app.add_subcommand("rooms", "List rooms with their peers");
  std::string kickRoom, kickPeer;
  auto* kick = app.add_subcommand("kick", "Remove a peer from a room (its connection is closed): ROOM PEER");
  kick->add_option("room", kickRoom, "Room id")->required();
  kick->add_option("peer", kickPeer, "Peer id")->required();
#if MEETING_HAS_API
  // API keys live in the database, so this talks to it directly (same flags as the apiserver).
  Config database;
  std::vector<std::string> keyArgs;
  auto* apikey = app.add_subcommand("apikey", "Manage REST API keys in the database: create NAME | list | revoke ID");
  apikey->add_option("args", keyArgs, "create NAME | list | revoke ID")->required();
  apikey->add_option("--data", database.dataDir, "Data folder holding the SQLite database")->envname("MEETING_DATA")->capture_default_str();
  apikey->add_option("--mysqlAddress", database.mysqlAddress, "MySQL/MariaDB host:port")->envname("MEETING_MYSQL_ADDRESS");
  apikey->add_option("--mysqlUser", database.mysqlUser, "MySQL/MariaDB user")->envname("MEETING_MYSQL_USER");
  apikey->add_option("--mysqlPassword", database.mysqlPassword, "MySQL/MariaDB password")->envname("MEETING_MYSQL_PASSWORD");
  apikey->add_option("--mysqlDatabase", database.mysqlDatabase, "MySQL/MariaDB database")->envname("MEETING_MYSQL_DATABASE");
  // A room's files (rows of the files collection), read from the database like `apikey`.
  std::string filesRoom;
  auto* files = app.add_subcommand("files", "List a room's files from the database: ROOM");
  files->add_option("room", filesRoom, "Room id")->required();
  files->add_option("--data", database.dataDir, "Data folder holding the SQLite database")->envname("MEETING_DATA")->capture_default_str();
  files->add_option("--mysqlAddress", database.mysqlAddress, "MySQL/MariaDB host:port")->envname("MEETING_MYSQL_ADDRESS");
  files->add_option("--mysqlUser", database.mysqlUser, "MySQL/MariaDB user")->envname("MEETING_MYSQL_USER");
  files->add_option("--mysqlPassword", database.mysqlPassword, "MySQL/MariaDB password")->envname("MEETING_MYSQL_PASSWORD");
  files->add_option("--mysqlDatabase", database.mysqlDatabase, "MySQL/MariaDB database")->envname("MEETING_MYSQL_DATABASE");
#endif

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      std::cout << app.help();
      return 0;
    }
    std::cerr << "meeting ctl: error: " << e.what() << "\n";
    return 2;
  }
#if MEETING_HAS_API
  if (apikey->parsed()) return api::runApiKeyCommand(keyArgs, database, std::cout, std::cerr);
  if (files->parsed()) return api::runFilesCommand(filesRoom, database, std::cout, std::cerr);
#endif
  while (!remote.server.empty() && remote.server.back() == '/') remote.server.pop_back();
  if (stats->parsed() || rooms->parsed() || kick->parsed()) {
    if (remote.key.empty()) {
      // The all-in-one keeps its first key in its data folder (api/ApiKeys.hpp DefaultKeyFile).
      std::ifstream in(keyDir + "/api-key");
      std::getline(in, remote.key);
    }
    if (remote.key.empty()) {
      std::cerr << "meeting ctl: an API key is needed: --key KEY, MEETING_API_KEY, or --key-data DIR holding api-key\n";
      return 2;
    }
    if (stats->parsed()) return runStats(remote, once);
    if (rooms->parsed()) return runRooms(remote);
    return runKick(remote, kickRoom, kickPeer);
  }
  std::string path = ping->parsed() ? "/ping" : metrics->parsed() ? "/metrics" : "/version";
  (void)version;
  auto response = call(Remote{remote.server, {}, remote.insecure}, net::http::verb::get, path);
  if (!response) {
    std::cerr << "meeting ctl: " << response.error().message << "\n";
    return 1;
  }
  std::cout << response->body;
  if (!response->body.empty() && response->body.back() != '\n') std::cout << "\n";
  return response->status == 200 ? 0 : 1;
}

}  // namespace meeting::app
