// `meeting`: subcommand dispatch only.
#include <iostream>

#include "app/CommandLine.hpp"
#include "app/Ctl.hpp"
#include "app/Server.hpp"
#include "app/Version.hpp"

int main(int argc, char** argv) {
  auto command = meeting::app::parseCommandLine(argc, argv);
  if (command.exitCode >= 0) return command.exitCode;
  if (command.role == "version") {
    std::cout << "meeting " << meeting::app::kVersion << " (" << meeting::app::kGitCommit << ")\n";
    return 0;
  }
  if (command.role == "ctl") return meeting::app::runCtl(command.ctlArgs);
  return meeting::app::runServer(command.role, std::move(command.config));
}
