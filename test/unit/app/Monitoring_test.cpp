// The monitoring report, /metrics and the admin console against the real binary: `meeting all`
// on free ports, a peer joined over the room signaling WebSocket (the join alone creates the room
// and the participant on the sfuserver), then /monitoring/<password>, `meeting ctl stats` in a
// tmux pane, `meeting ctl rooms` and `meeting ctl kick`.
#include <gtest/gtest.h>

#include "ChildProcess.hpp"
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <set>
#include <sstream>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "app/Ctl.hpp"
#include "net/HttpClient.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
namespace http = meeting::net::http;

namespace {

using meeting::test::freeTcpPort;
using meeting::test::shell;
using meeting::test::spawnLogged;

std::string quote(const std::string& s) { return "'" + s + "'"; }

// A participant: the room signaling WebSocket (plain ws:// in this test), kept open.
class Participant {
 public:
  explicit Participant(const std::string& wsUrl, const std::string& token) : ws_(io_) {
    std::smatch m;
    std::regex re(R"(ws://([^:/]+):(\d+)(/.*))");
    if (!std::regex_match(wsUrl, m, re)) throw std::runtime_error("unexpected ws_url " + wsUrl);
    boost::asio::ip::tcp::resolver resolver(io_);
    boost::asio::connect(ws_.next_layer(), resolver.resolve(m[1].str(), m[2].str()));
    ws_.handshake(m[1].str() + ":" + m[2].str(), m[3].str() + "?token=" + token);
  }
  ~Participant() {
    boost::system::error_code ec;
    ws_.next_layer().close(ec);
  }
  /// Reads messages until the server closes the connection (true) or `limit` passes.
  bool waitClosed(std::chrono::seconds limit) {
    ws_.next_layer().non_blocking(false);
    auto deadline = std::chrono::steady_clock::now() + limit;
    timeval tv{static_cast<time_t>(limit.count()), 0};
    setsockopt(ws_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (std::chrono::steady_clock::now() < deadline) {
      boost::beast::flat_buffer buffer;
      boost::system::error_code ec;
      ws_.read(buffer, ec);
      if (ec == boost::beast::websocket::error::closed || ec == boost::asio::error::eof ||
          ec == boost::asio::error::connection_reset) {
        return true;
      }
      if (ec) return false;
    }
    return false;
  }

 private:
  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
};

class MonitoringBinary : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(testing::TempDir()) / ("monitoring-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    port_ = freeTcpPort();
    base_ = "http://127.0.0.1:" + std::to_string(port_);
    pid_ = spawnLogged({MEETING_BINARY, "all", "--data", (dir_ / "data").string(), "--listen", "127.0.0.1:" + std::to_string(port_),
                        "--http", "--report-password", "reppass", "--media-port", "0", "--media-workers", "2", "--port",
                        std::to_string(freeTcpPort()), "--tls-port", std::to_string(freeTcpPort())},
                       (dir_ / "log").string());
    ASSERT_GT(pid_, 0);
    bool up = false;
    for (int i = 0; i < 150 && !up; ++i) {
      auto r = request(http::verb::get, "/ping");
      up = r.first == 200;
      if (!up) std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(up) << "meeting all did not start; log:\n" << log();
    std::ifstream in(dir_ / "data" / "api-key");
    std::getline(in, key_);
    ASSERT_FALSE(key_.empty());
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 200 && waitpid(pid_, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(50ms);
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, WNOHANG);
    }
    shell("tmux -L " + tmuxSocket() + " kill-server");
  }

  std::string log() const {
    std::ifstream in(dir_ / "log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string tmuxSocket() const { return "meeting-test-" + std::to_string(getpid()); }

  std::pair<int, std::string> request(http::verb method, const std::string& path, const json& body = nullptr) {
    meeting::net::HttpClientOptions options;
    options.timeout = 5s;
    if (!key_.empty()) options.headers["Authorization"] = "Bearer " + key_;
    if (!body.is_null()) options.headers["Content-Type"] = "application/json";
    auto r = meeting::net::httpRequest(method, base_ + path, body.is_null() ? "" : body.dump(), options);
    if (!r) return {0, r.error().message};
    return {r->result_int(), r->body()};
  }

  json monitoring() {
    auto r = request(http::verb::get, "/monitoring/reppass");
    EXPECT_EQ(r.first, 200) << r.second;
    return json::parse(r.second, nullptr, false);
  }

  // The sfu server's report once `pred` holds for it (bounded: ~10 s).
  json waitForSfuReport(const std::function<bool(const json&)>& pred) {
    json last;
    for (int i = 0; i < 100; ++i) {
      last = monitoring();
      for (const auto& s : last["servers"]) {
        if (s["role"] == "sfu" && s["report"].is_object() && pred(s["report"])) return s["report"];
      }
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "condition not reached; last report: " << last.dump(2);
    return nullptr;
  }

  std::string ctl(const std::string& args) {
    return std::string(MEETING_BINARY) + " ctl --server " + base_ + " --key " + key_ + " " + args;
  }

  std::filesystem::path dir_;
  uint16_t port_ = 0;
  std::string base_;
  std::string key_;
  pid_t pid_ = 0;
};

// Prometheus text format 0.0.4: every sample line is `name{labels} value`, every family has
// HELP and TYPE before its samples. Returns sample name+labels -> value.
std::map<std::string, double> parsePrometheus(const std::string& text, std::string& problem) {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
  std::istringstream in(text);
  std::string line;
  std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (\S+)$)");
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      auto rest = line.substr(7);
      types[rest.substr(0, rest.find(' '))] = rest.substr(rest.find(' ') + 1);
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    std::smatch m;
    if (!std::regex_match(line, m, sample)) {
      problem = "bad sample line: " + line;
      return samples;
    }
    std::string name = m[1].str();
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (!types.contains(family) && family.size() > std::strlen(suffix) &&
          family.compare(family.size() - std::strlen(suffix), std::string::npos, suffix) == 0) {
        family = family.substr(0, family.size() - std::strlen(suffix));
      }
    }
    if (!types.contains(family)) {
      problem = "sample without # TYPE: " + line;
      return samples;
    }
    const std::string value = m[m.size() - 1].str();
    samples[name + m[2].str()] = value == "+Inf" ? INFINITY : std::stod(value);
  }
  return samples;
}

TEST_F(MonitoringBinary, ReportFollowsPeersCtlStatsShowsTheRoomAndKickRemovesThePeer) {
  // Wrong or missing passwords: the same 404 as an unknown path.
  EXPECT_EQ(request(http::verb::get, "/monitoring/wrong").first, 404);
  EXPECT_EQ(request(http::verb::get, "/monitoring/reppas").first, 404);
  EXPECT_EQ(request(http::verb::get, "/monitoring/reppassx").first, 404);
  EXPECT_EQ(request(http::verb::get, "/monitoring/").first, 404);
  EXPECT_EQ(request(http::verb::get, "/monitoring").first, 404);

  // Before anyone joins: the sfu server is registered, reports its workers and no rooms.
  auto idle = waitForSfuReport([](const json& r) { return r["workers"].size() == 2; });
  ASSERT_TRUE(idle.is_object());
  for (const char* field : {"node", "role", "time", "workers", "rooms", "rooms_omitted", "totals"}) {
    EXPECT_TRUE(idle.contains(field)) << field;
  }
  EXPECT_TRUE(idle["rooms"].empty());
  for (const auto& w : idle["workers"]) {
    for (const char* field : {"id", "cpu", "rooms", "transports", "producers", "consumers", "peers", "packets_in_per_s",
                              "packets_out_per_s", "bytes_in_per_s", "bytes_out_per_s", "packet_cache_bytes_max",
                              "loop_lag_ms", "ice_failures", "dtls_failures"}) {
      EXPECT_TRUE(w.contains(field)) << field;
    }
    EXPECT_GE(w["loop_lag_ms"].get<double>(), 0.0);
  }
  auto cluster = monitoring();
  for (const char* field : {"time", "servers", "totals"}) EXPECT_TRUE(cluster.contains(field)) << field;
  std::set<std::string> roles;
  for (const auto& s : cluster["servers"]) {
    roles.insert(s["role"].get<std::string>());
    for (const char* field : {"id", "role", "address", "status", "last_seen_ms_ago", "capacity", "load", "rooms", "peers", "report"}) {
      EXPECT_TRUE(s.contains(field)) << field;
    }
    EXPECT_EQ(s["status"], "up");
  }
  EXPECT_TRUE(roles.contains("sfu"));
  EXPECT_TRUE(roles.contains("turn"));
  EXPECT_TRUE(roles.contains("fs"));

  // A peer joins room "standup" over the signaling WebSocket.
  ASSERT_EQ(request(http::verb::post, "/api/v1/rooms", {{"room_id", "standup"}}).first, 201);
  auto added = request(http::verb::post, "/api/v1/rooms/standup/peers", {{"type", "webrtc"}, {"display_name", "Ada"}});
  ASSERT_EQ(added.first, 201) << added.second;
  auto peer = json::parse(added.second);
  std::string peerId = peer["peer"]["id"];
  auto participant = std::make_unique<Participant>(peer["ws_url"].get<std::string>(), peer["token"].get<std::string>());

  auto joined = waitForSfuReport([](const json& r) { return !r["rooms"].empty() && r["rooms"][0]["peers"] == 1; });
  ASSERT_TRUE(joined.is_object());
  const auto& room = joined["rooms"][0];
  EXPECT_EQ(room["id"], "standup");
  for (const char* field : {"id", "domain", "worker", "peers", "tracks", "consumers", "bitrate_in_bps", "bitrate_out_bps",
                            "packets_in_per_s", "packets_out_per_s", "nacks_received", "retransmissions", "nacks_sent",
                            "keyframe_requests", "created_at", "age_s"}) {
    EXPECT_TRUE(room.contains(field)) << field;
  }
  EXPECT_EQ(joined["totals"]["rooms"], 1);
  EXPECT_EQ(joined["totals"]["peers"], 1);
  // Each participant has a publish and a subscribe transport on the room's worker.
  EXPECT_EQ(joined["workers"][room["worker"].get<size_t>()]["transports"], 2);

  // The same report for an API key (what `meeting ctl` reads); none without one.
  auto viaApi = request(http::verb::get, "/api/v1/monitoring");
  EXPECT_EQ(viaApi.first, 200);
  EXPECT_TRUE(json::parse(viaApi.second)["servers"].is_array());

  // /metrics: valid text format with the sfu, HTTP and database families.
  auto metrics = request(http::verb::get, "/metrics");
  ASSERT_EQ(metrics.first, 200);
  std::string problem;
  auto samples = parsePrometheus(metrics.second, problem);
  EXPECT_TRUE(problem.empty()) << problem;
  for (const char* name : {"meeting_sfu_rtp_packets_total{direction=\"in\"}", "meeting_sfu_rtp_bytes_total{direction=\"out\"}",
                           "meeting_sfu_nacks_total{direction=\"received\"}", "meeting_sfu_retransmissions_total",
                           "meeting_sfu_keyframe_requests_total", "meeting_sfu_transport_failures_total{phase=\"ice\"}",
                           "meeting_sfu_transport_failures_total{phase=\"dtls\"}", "meeting_sfu_rooms", "meeting_sfu_peers",
                           "meeting_sfu_worker_loop_lag_seconds{worker=\"0\"}", "meeting_db_operation_duration_seconds_count",
                           "meeting_db_operation_duration_seconds_bucket{le=\"+Inf\"}",
                           "meeting_http_requests_total{method=\"POST\",route=\"/api/v1/rooms\",status=\"201\"}",
                           "meeting_http_requests_total{method=\"GET\",route=\"/monitoring/{password}\",status=\"404\"}"}) {
    EXPECT_TRUE(samples.contains(name)) << name;
  }
  EXPECT_GT(samples["meeting_db_operation_duration_seconds_count"], 0);
  EXPECT_EQ(samples["meeting_sfu_rooms"], 1);
  EXPECT_EQ(metrics.second.find("reppass"), std::string::npos) << "the password must not become a label";

  // `meeting ctl stats` in a terminal (tmux) shows the room; q quits it.
  auto tmux = "tmux -L " + tmuxSocket();
  auto started = shell(tmux + " new-session -d -x 160 -y 50 -s stats " + quote(ctl("stats")));
  ASSERT_EQ(started.first, 0) << started.second;
  std::string screen;
  for (int i = 0; i < 100 && screen.find("standup") == std::string::npos; ++i) {
    std::this_thread::sleep_for(100ms);
    screen = shell(tmux + " capture-pane -p -t stats").second;
  }
  EXPECT_NE(screen.find("standup"), std::string::npos) << screen;
  EXPECT_NE(screen.find("WORKERS"), std::string::npos) << screen;
  shell(tmux + " send-keys -t stats q");
  bool ended = false;
  for (int i = 0; i < 50 && !ended; ++i) {
    std::this_thread::sleep_for(100ms);
    ended = shell(tmux + " has-session -t stats").first != 0;
  }
  EXPECT_TRUE(ended) << "ctl stats did not quit on q";

  auto once = shell(ctl("stats --once"));
  EXPECT_EQ(once.first, 0);
  EXPECT_NE(once.second.find("standup"), std::string::npos) << once.second;

  auto rooms = shell(ctl("rooms"));
  EXPECT_EQ(rooms.first, 0) << rooms.second;
  EXPECT_NE(rooms.second.find("standup"), std::string::npos) << rooms.second;
  EXPECT_NE(rooms.second.find(peerId), std::string::npos) << rooms.second;

  // `meeting ctl kick` removes the peer: its signaling connection is closed, the room empties.
  auto kicked = shell(ctl("kick standup " + peerId));
  EXPECT_EQ(kicked.first, 0) << kicked.second;
  EXPECT_TRUE(participant->waitClosed(5s)) << "the sfuserver did not close the kicked peer's connection";
  auto gone = waitForSfuReport([](const json& r) { return r["rooms"].empty(); });
  EXPECT_TRUE(gone.is_object());
  EXPECT_NE(shell(ctl("kick standup " + peerId)).first, 0) << "a second kick finds no peer";
  EXPECT_EQ(shell(std::string(MEETING_BINARY) + " ctl --server " + base_ + " --key wrong stats --once").first, 1);
}

}  // namespace

TEST(CtlStats, RendersServersWorkersAndRooms) {
  json report = json::parse(R"({"time": 1700000000000,
    "servers": [{"id": "sfu-1", "role": "sfu", "status": "up", "rooms": 1, "peers": 2, "load": 2, "capacity": 200,
                 "report": {"workers": [{"id": 0, "cpu": 0.25, "rooms": 1, "transports": 4, "producers": 2, "consumers": 2,
                                         "packets_in_per_s": 100, "bytes_in_per_s": 125000, "packets_out_per_s": 100,
                                         "bytes_out_per_s": 125000, "loop_lag_ms": 0.5}],
                            "rooms": [{"id": "standup", "worker": 0, "peers": 2, "tracks": 2, "bitrate_in_bps": 1000000,
                                       "bitrate_out_bps": 1000000, "age_s": 75}]}},
                {"id": "turn-1", "role": "turn", "status": "down", "report": null}],
    "totals": {"servers": 2, "servers_up": 1, "rooms": 1, "peers": 2}})");
  auto screen = meeting::app::renderStats(report);
  EXPECT_NE(screen.find("2023-11-14 22:13:20 UTC"), std::string::npos) << screen;
  EXPECT_NE(screen.find("servers 1/2 up"), std::string::npos) << screen;
  EXPECT_NE(screen.find("turn-1"), std::string::npos) << screen;
  EXPECT_NE(screen.find("down"), std::string::npos) << screen;
  EXPECT_NE(screen.find("standup"), std::string::npos) << screen;
  EXPECT_NE(screen.find("25.0"), std::string::npos) << screen;  // CPU %
  EXPECT_NE(screen.find("1.00"), std::string::npos) << screen;  // Mbit/s
  EXPECT_NE(screen.find("75s"), std::string::npos) << screen;
  // Garbage in, no crash, zeros out.
  EXPECT_NE(meeting::app::renderStats(json::parse(R"({"servers": [{"report": {"workers": [1], "rooms": "x"}}]})")).find("(no rooms)"),
            std::string::npos);
}
