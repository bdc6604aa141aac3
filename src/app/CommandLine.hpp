#pragma once
// The `meeting` command line (CLI11): the roles of seed 001 as subcommands, each with the flags
// seed 001 gives it, plus --config (seed 000 role JSON), --data, --listen, --log-level.
// Precedence: flag > environment (MEETING_*) > --config file > default.
#include <string>
#include <vector>

#include "common/Config.hpp"

namespace meeting::app {

struct Command {
  std::string role;          // all, apiserver, sfuserver, turnserver, fsserver, allocateserver, ctl, version
  Config config;
  std::vector<std::string> ctlArgs;  // for `ctl`: the sub-command and its arguments
  int exitCode = -1;         // >= 0: exit now with this code (after --help, or an error)
};

/// Parses argv. On a bad flag or value prints one line naming it to stderr and sets exitCode 2;
/// on --help prints the help and sets exitCode 0. Environment variables are read from `environ`.
Command parseCommandLine(int argc, const char* const* argv);

/// "mysqlAddress" -> "MEETING_MYSQL_ADDRESS", the environment variable of a flag.
std::string environmentName(const std::string& flag);

}  // namespace meeting::app
