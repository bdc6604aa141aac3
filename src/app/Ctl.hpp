#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace meeting::app {

/// `meeting ctl ...`: the admin console (seed 002's connect.js). Returns the exit code.
int runCtl(const std::vector<std::string>& args);

/// The screen `meeting ctl stats` prints for a cluster report (GET /api/v1/monitoring): a line of
/// totals, then tables of servers, media workers and rooms. Missing fields print as 0.
std::string renderStats(const nlohmann::json& report);

}  // namespace meeting::app
