#pragma once
// Starting the real `meeting` binary from a test: a free loopback port, and a child whose
// stdout and stderr go to a log file.
#include <fcntl.h>
#include <spawn.h>

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
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

}  // namespace meeting::test
