#pragma once
// Starting the real `meeting` binary from a test: a free loopback port, a child whose stdout and
// stderr go to a log file, and a shell command run to completion.
#include <fcntl.h>
#include <spawn.h>

#include <sys/wait.h>

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <cstdio>
#include <utility>
#include <string>
#include <vector>

extern char** environ;

namespace meeting::test {

inline uint16_t freeTcpPort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

/// Starts args[0] with `args`, output to `logFile`; returns its pid (0 when it could not start).
inline pid_t spawnLogged(const std::vector<std::string>& args, const std::string& logFile) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid = 0;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

/// Runs `command` in a shell; returns its exit code (-1 when it did not exit) and its output
/// (stdout and stderr).
inline std::pair<int, std::string> shell(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return {-1, {}};
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace meeting::test
