#include "support/MariaDbServer.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <mysql.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace meeting::testsupport {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto StartLimit = std::chrono::seconds(30);
constexpr auto StopLimit = std::chrono::seconds(20);

std::string findBinary(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    for (std::string d; std::getline(ss, d, ':');) dirs.push_back(d);
  }
  // Debian puts the server in /usr/sbin, which is not on every user's PATH.
  for (const char* d : {"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"}) dirs.emplace_back(d);
  for (const auto& d : dirs) {
    std::string candidate = d + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

Result<unsigned> freeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return makeError("internal", "socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  unsigned port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  if (port == 0) return makeError("internal", "no free loopback port");
  return port;
}

/// fork + exec with stdout/stderr appended to `logPath`. The child gets SIGKILL if the test
/// process dies first (PR_SET_PDEATHSIG), so a crashed test leaves no server running. Not SIGTERM:
/// mariadbd blocks it until its signal thread runs, late in start-up, and a server orphaned while
/// starting was seen to hang there; the data is throw-away anyway.
Result<pid_t> spawn(const std::vector<std::string>& args, const std::string& logPath) {
  // Everything the child needs is prepared before fork(): between fork and exec only
  // async-signal-safe calls are allowed in a multi-threaded process.
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return makeError("unavailable", std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    int log = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log < 0 || null < 0) ::_exit(127);
    ::dup2(null, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

/// Waits for `pid` up to `limit`; returns its wait status, or -1 on timeout.
int waitFor(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return 0;  // already reaped
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool runningAsRoot() { return ::geteuid() == 0; }

}  // namespace

std::string MariaDbServer::findServerBinary() {
  // MEETING_MARIADBD points at a server built elsewhere (or at nothing, to test the failure path).
  if (const char* forced = std::getenv("MEETING_MARIADBD"); forced != nullptr && *forced != '\0') {
    return ::access(forced, X_OK) == 0 ? std::string(forced) : std::string();
  }
  std::string bin = findBinary("mariadbd");
  return bin.empty() ? findBinary("mysqld") : bin;
}

Result<std::unique_ptr<MariaDbServer>> MariaDbServer::create() {
  std::unique_ptr<MariaDbServer> s(new MariaDbServer());
  s->serverBin_ = findServerBinary();
  if (s->serverBin_.empty()) {
    return makeError("unavailable",
                     "mariadbd not found (nor $MEETING_MARIADBD): install Debian's mariadb-server package, or set "
                     "MEETING_SKIP_MARIADB=1 to skip the MariaDB tests");
  }
  // tmpfs when there is one: InnoDB's file creation and fsyncs make each test's CREATE TABLEs
  // ten times slower on disk, and nothing here needs to survive the test binary.
  std::error_code ec;
  const bool shm = std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0;
  const std::filesystem::path base = shm ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
  std::string tmpl = (base / "meeting-mariadb-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return makeError("internal", "mkdtemp failed");
  s->dir_ = tmpl;
  s->dataDir_ = s->dir_ + "/data";
  s->socket_ = s->dir_ + "/sock";
  s->log_ = s->dir_ + "/server.log";
  // mariadb-install-db bootstraps a server; on a loaded machine that bootstrap has been seen to
  // crash now and then (a segfault in mariadbd --bootstrap), so a failed install is retried on a
  // clean data folder.
  for (int attempt = 1;; ++attempt) {
    auto installed = s->install();
    if (installed.ok()) break;
    if (attempt == 3) return installed.error();
    std::filesystem::remove_all(s->dataDir_, ec);
  }
  // A free port can be taken by another test process between the check and mariadbd's bind
  // (ctest runs test processes in parallel): then pick another.
  for (int attempt = 1;; ++attempt) {
    auto port = freeLoopbackPort();
    if (!port.ok()) return port.error();
    s->port_ = *port;
    auto started = s->start();
    if (started.ok()) break;
    const bool portProblem = started.error().code == "port_taken" ||
                             started.error().message.find("Bind on TCP/IP port") != std::string::npos ||
                             started.error().message.find("Address already in use") != std::string::npos;
    if (!portProblem || attempt == 5) return started.error();
  }
  if (auto r = s->createDatabase(); !r.ok()) return r.error();
  return s;
}

MariaDbServer::~MariaDbServer() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

Result<void> MariaDbServer::install() {
  std::string installer = findBinary("mariadb-install-db");
  if (installer.empty()) installer = findBinary("mysql_install_db");
  if (installer.empty()) return makeError("unavailable", "mariadb-install-db not found");
  std::vector<std::string> args{installer, "--no-defaults", "--datadir=" + dataDir_,
                                "--auth-root-authentication-method=normal", "--skip-test-db"};
  if (runningAsRoot()) args.emplace_back("--user=root");
  auto pid = spawn(args, log_);
  if (!pid.ok()) return pid.error();
  int status = waitFor(*pid, std::chrono::seconds(60));
  if (status < 0) {
    ::kill(*pid, SIGKILL);
    waitFor(*pid, std::chrono::seconds(5));
    return makeError("unavailable", "mariadb-install-db timed out\n" + logTail());
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return makeError("unavailable", "mariadb-install-db failed\n" + logTail());
  }
  return {};
}

Result<void> MariaDbServer::start() {
  if (running()) return {};
  std::vector<std::string> args{serverBin_,
                                "--no-defaults",
                                "--datadir=" + dataDir_,
                                "--socket=" + socket_,
                                "--port=" + std::to_string(port_),
                                "--bind-address=127.0.0.1",
                                "--skip-networking=0",
                                "--skip-name-resolve",
                                "--pid-file=" + dir_ + "/mariadbd.pid",
                                "--innodb-buffer-pool-size=16M",
                                // A throw-away test server: durability is not wanted, speed is.
                                "--innodb-flush-log-at-trx-commit=0",
                                "--innodb-flush-method=nosync",
                                "--innodb-doublewrite=0",
                                "--performance-schema=OFF",
                                "--max-connections=64"};
  if (runningAsRoot()) args.emplace_back("--user=root");
  auto pid = spawn(args, log_);
  if (!pid.ok()) return pid.error();
  pid_ = *pid;
  if (auto r = waitReady(); !r.ok()) {
    stop();
    return r.error();
  }
  return {};
}

Result<void> MariaDbServer::waitReady() {
  // The port is bound a moment after the socket; wait until a TCP login works, as clients use it.
  const auto deadline = Clock::now() + StartLimit;
  for (;;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return makeError("unavailable", "mariadbd exited during start-up\n" + logTail());
    }
    MYSQL* m = mysql_init(nullptr);
    unsigned timeout = 2;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    bool ok = mysql_real_connect(m, "127.0.0.1", "root", "", nullptr, port_, nullptr, 0) != nullptr;
    std::string datadir;
    if (ok && mysql_query(m, "SELECT @@datadir") == 0) {
      if (MYSQL_RES* result = mysql_store_result(m)) {
        if (MYSQL_ROW row = mysql_fetch_row(result); row && row[0]) datadir = row[0];
        mysql_free_result(result);
      }
    }
    mysql_close(m);
    if (ok) {
      // The server on this port must be ours, not another test process's that took the port.
      auto normalize = [](std::string path) {
        while (path.size() > 1 && path.back() == '/') path.pop_back();
        return path;
      };
      if (normalize(datadir) == normalize(dataDir_)) return {};
      stop();
      return makeError("port_taken", "port " + std::to_string(port_) + " belongs to another server (" + datadir + ")");
    }
    if (Clock::now() >= deadline) {
      return makeError("unavailable", "mariadbd did not accept connections within 30 s\n" + logTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Result<void> MariaDbServer::runAsRoot(const std::vector<std::string>& statements) {
  MYSQL* m = mysql_init(nullptr);
  if (mysql_real_connect(m, nullptr, "root", "", nullptr, 0, socket_.c_str(), 0) == nullptr) {
    Error e = makeError("unavailable", std::string("root login failed: ") + mysql_error(m));
    mysql_close(m);
    return e;
  }
  for (const auto& sql : statements) {
    if (mysql_real_query(m, sql.data(), sql.size()) != 0) {
      Error e = makeError("internal", sql + ": " + mysql_error(m));
      mysql_close(m);
      return e;
    }
  }
  mysql_close(m);
  return {};
}

Result<void> MariaDbServer::createDatabase() {
  // Constants only (no outside input): plain SQL text is fine here.
  return runAsRoot({
      "CREATE DATABASE " + database_ + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
      "CREATE USER '" + user_ + "'@'127.0.0.1' IDENTIFIED BY '" + password_ + "'",
      "CREATE USER '" + user_ + "'@'localhost' IDENTIFIED BY '" + password_ + "'",
      "GRANT ALL ON " + database_ + ".* TO '" + user_ + "'@'127.0.0.1'",
      "GRANT ALL ON " + database_ + ".* TO '" + user_ + "'@'localhost'",
  });
}

Result<void> MariaDbServer::resetDatabase() {
  return runAsRoot({"DROP DATABASE IF EXISTS " + database_,
                    "CREATE DATABASE " + database_ + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"});
}

void MariaDbServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  if (waitFor(pid_, StopLimit) < 0) {
    ::kill(pid_, SIGKILL);
    waitFor(pid_, std::chrono::seconds(5));
  }
  pid_ = -1;
}

std::string MariaDbServer::url() const {
  return "mysql://" + user_ + ":" + password_ + "@127.0.0.1:" + std::to_string(port_) + "/" + database_;
}

std::string MariaDbServer::logTail() const {
  std::ifstream in(log_);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  constexpr size_t Tail = 2000;
  return "--- " + log_ + " (tail) ---\n" + (all.size() > Tail ? all.substr(all.size() - Tail) : all);
}

}  // namespace meeting::testsupport
