#pragma once
// Runs one role (or `all`) until SIGINT/SIGTERM: TLS, the HTTPS listener with the common
// endpoints (/ping, /metrics, /version), the role's services, and a graceful stop.
#include <string>

#include "common/Config.hpp"

namespace meeting::app {

/// Returns the process exit code: 0 after a clean stop, 1 when start-up failed.
int runServer(const std::string& role, Config config);

}  // namespace meeting::app
