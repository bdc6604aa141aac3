// Interop with coturn's own clients (Debian's coturn package): turnutils_stunclient,
// turnutils_uclient over UDP, TCP and TLS with TURN REST API credentials, turnutils_peer as the
// echo peer, all on loopback against our TurnRuntime in this process.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "net/Tls.hpp"
#include "turn/TurnService.hpp"

namespace meeting::turn {
namespace {

constexpr const char* kUclient = "/usr/bin/turnutils_uclient";
constexpr const char* kPeer = "/usr/bin/turnutils_peer";
constexpr const char* kStunclient = "/usr/bin/turnutils_stunclient";
constexpr const char* kSecret = "interop-secret";

bool executable(const char* path) { return access(path, X_OK) == 0; }

// A child process with its output in a file; killed by pid (and by the kernel if we die).
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    char name[] = "/tmp/turn-interop-XXXXXX";
    int fd = mkstemp(name);
    outPath_ = name;
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fd);
  }
  ~Child() {
    kill();
    unlink(outPath_.c_str());
  }
  /// Waits up to `timeout`; returns the exit status, or -1 if it had to be killed.
  int wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill();
    return -1;
  }
  void kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  std::string output() const {
    std::ifstream in(outPath_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  pid_t pid_ = -1;
  std::string outPath_;
};

uint16_t freeUdpPort() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

struct UclientResult {
  int exitCode = 0;
  std::string output;
  long sent = -1, received = -1, lost = -1;
};

class TurnInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!executable(kUclient) || !executable(kPeer) || !executable(kStunclient)) {
      GTEST_SKIP() << "coturn's turnutils_* tools are not installed (Debian package coturn)";
    }
  }

  void startServer(bool allowLoopback) {
    Config config;
    config.secret = kSecret;
    config.ip = "127.0.0.1";
    config.turnIface = "127.0.0.1";
    config.turnAllowLoopbackPeers = allowLoopback;
    config.turnWorkers = 2;
    config.turnRelayPortMin = 62000;
    config.turnRelayPortMax = 62999;
    config.turnMaxAllocationsPerUser = 100;  // uclient runs all its clients as one user
    auto options = runtimeOptionsFromConfig(config);
    ASSERT_TRUE(options) << options.error().message;
    options->port = 0;
    auto identity = net::generateSelfSigned({"localhost", "127.0.0.1"}, 2);
    ASSERT_TRUE(identity) << identity.error().message;
    auto tls = net::makeServerContext(*identity);
    ASSERT_TRUE(tls);
    options->tls = *tls;
    options->tlsPort = 0;
    auto r = runtime_.start(*options);
    ASSERT_TRUE(r) << r.error().message;
  }

  void startPeer() {
    peerPort_ = freeUdpPort();
    peer_ = std::make_unique<Child>(std::vector<std::string>{kPeer, "-L", "127.0.0.1", "-p", std::to_string(peerPort_)});
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  UclientResult runUclient(std::vector<std::string> extra, const std::string& secret = kSecret, bool tls = false) {
    std::vector<std::string> args = {kUclient, "-e", "127.0.0.1", "-r", std::to_string(peerPort_),
                                     "-p", std::to_string(tls ? runtime_.tlsPort() : runtime_.port()),
                                     "-W", secret, "-u", "interop", "-n", "50", "-m", "4", "-l", "200", "-z", "5"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("127.0.0.1");
    Child c(args);
    UclientResult r;
    r.exitCode = c.wait(std::chrono::seconds(60));
    r.output = c.output();
    // The totals are on the last "start_mclient: tot_send_msgs=N, tot_recv_msgs=M" line.
    std::regex totals(R"(start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+))");
    for (std::sregex_iterator it(r.output.begin(), r.output.end(), totals), end; it != end; ++it) {
      r.sent = std::stol((*it)[1]);
      r.received = std::stol((*it)[2]);
    }
    std::smatch m;
    if (std::regex_search(r.output, m, std::regex(R"(Total lost packets (\d+))"))) r.lost = std::stol(m[1]);
    return r;
  }

  void expectZeroLoss(const UclientResult& r, bool checkExit = true) {
    if (checkExit) {
      EXPECT_EQ(r.exitCode, 0) << r.output;
    }
    EXPECT_EQ(r.lost, 0) << r.output;
    EXPECT_GT(r.received, 0) << r.output;
    EXPECT_EQ(r.sent, r.received) << r.output;
  }

  TurnRuntime runtime_;
  std::unique_ptr<Child> peer_;
  uint16_t peerPort_ = 0;
};

TEST_F(TurnInteropTest, StunclientGetsItsMappedAddress) {
  startServer(true);
  Child c({kStunclient, "-p", std::to_string(runtime_.port()), "127.0.0.1"});
  EXPECT_EQ(c.wait(std::chrono::seconds(20)), 0) << c.output();
  EXPECT_NE(c.output().find("127.0.0.1"), std::string::npos) << c.output();
}

TEST_F(TurnInteropTest, UdpRelayWithRestCredentialsHasNoLoss) {
  startServer(true);
  startPeer();
  expectZeroLoss(runUclient({}));
  EXPECT_GT(runtime_.load().allocationsCreated, 0u);
}

TEST_F(TurnInteropTest, UdpRelayWithSendIndicationsHasNoLoss) {
  startServer(true);
  startPeer();
  expectZeroLoss(runUclient({"-s"}));
}

TEST_F(TurnInteropTest, TcpRelayWithRestCredentialsHasNoLoss) {
  startServer(true);
  startPeer();
  expectZeroLoss(runUclient({"-t"}));
}

TEST_F(TurnInteropTest, TlsRelayWithRestCredentialsHasNoLoss) {
  startServer(true);
  startPeer();
  // Zero loss, as over TCP: TLS is a reliable stream, and the peer leg is loopback UDP with room
  // to spare. uclient takes each SSL_read as one TURN message, so the server writes one TLS
  // record per frame (StreamConnection); frames coalesced into one record (a write in flight
  // while more relayed data queued, i.e. under load) used to be dropped by uclient as "wrong
  // length". Bounded: runUclient waits 60 s at most.
  auto r = runUclient({"-t", "-S"}, kSecret, true);
  expectZeroLoss(r);
  EXPECT_EQ(r.output.find("wrong length"), std::string::npos) << r.output;
}

// Not repeated over TLS: uclient itself loses TLS packets under this load, whatever the server
// (coturn 4.6.1 on the same machine: 28-36% lost over TLS, 0% over TCP); TurnTls_test checks our
// TLS path under load with a client that reads the stream properly.
TEST_F(TurnInteropTest, TcpRelayUnderLoadHasNoLoss) {
  startServer(true);
  startPeer();
  auto r = runUclient({"-t", "-m", "10", "-n", "300", "-z", "1"});
  expectZeroLoss(r);
}

TEST_F(TurnInteropTest, Rfc6062TcpRelayClientToClient) {
  // uclient -T (RFC 6062): pairs of clients with TCP relays; each Connects to the other's relayed
  // address, which then gets a ConnectionAttempt; both bind data connections and echo.
  startServer(true);
  auto r = runUclient({"-T"});
  expectZeroLoss(r);
  uint64_t bound = 0;
  for (const auto& s : runtime_.stats()) bound += s->tcpBound.value();
  EXPECT_GT(bound, 0u) << r.output;
}

TEST_F(TurnInteropTest, WrongSecretIsRefused) {
  startServer(true);
  startPeer();
  auto r = runUclient({"-n", "5"}, "not-the-secret");
  EXPECT_LE(r.received, 0) << r.output;
  EXPECT_EQ(runtime_.load().allocationsCreated, 0u);
  EXPECT_GT(runtime_.load().authFailures, 0u);
}

TEST_F(TurnInteropTest, LoopbackPeerIsRefusedByDefault) {
  startServer(false);
  startPeer();
  auto r = runUclient({"-n", "5"});
  EXPECT_LE(r.received, 0) << r.output;
  uint64_t refused = 0;
  for (const auto& s : runtime_.stats()) refused += s->peerRefused.value();
  EXPECT_GT(refused, 0u);
  EXPECT_EQ(runtime_.load().packetsRelayed, 0u);
}

}  // namespace
}  // namespace meeting::turn
