#pragma once
// The apiserver's monitoring endpoint (seed 000 `monitoring_enabled`, `report_password`): the
// latest report of every server registered on the control link, as one JSON document at
// /monitoring/<report_password> (docs/operations.md "Monitoring" lists every field). sfuservers
// send their report with each `load` message (docs/control.md), and so do turn and fs servers
// (a smaller report of their own: allocations and relay rates; transfers and stored bytes).
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/control/NodeRegistry.hpp"
#include "common/Clock.hpp"
#include "net/HttpRouter.hpp"

namespace meeting::api {

/// The cluster report now: every registered server (up or down), its load and its last report.
nlohmann::json clusterReport(const control::NodeRegistry& registry, const Clock& clock);

/// Compares a password in time independent of where (and whether) it differs, including the
/// length: both sides are hashed first (SHA-256) and the digests compared with CRYPTO_memcmp.
bool passwordMatches(std::string_view given, std::string_view expected);

/// Adds GET /monitoring/{password}. Any other password gets the same 404 as an unknown path.
/// Does nothing when `password` is empty (monitoring needs one).
void addMonitoringRoute(net::HttpRouter& router, const control::NodeRegistry& registry, const Clock& clock,
                        std::string password);

}  // namespace meeting::api
