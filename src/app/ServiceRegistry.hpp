#pragma once
// Which services a role runs. `meeting all` runs every role's service in one process; a role
// subcommand runs its own. Each module that provides a role adds itself in ServiceRegistry.cpp,
// guarded by MEETING_HAS_<MODULE> (set by src/app/CMakeLists.txt when the module is built).
#include <memory>
#include <string>
#include <vector>

#include "app/Service.hpp"
#include "common/Config.hpp"

namespace meeting::app {

/// The services of `role` ("all", "apiserver", "sfuserver", ...) in start order.
std::vector<std::unique_ptr<Service>> makeServices(const std::string& role, const Config& config);

}  // namespace meeting::app
