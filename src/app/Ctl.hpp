#pragma once
#include <string>
#include <vector>

namespace meeting::app {

/// `meeting ctl ...`: the admin console (seed 002's connect.js). Returns the exit code.
int runCtl(const std::vector<std::string>& args);

}  // namespace meeting::app
