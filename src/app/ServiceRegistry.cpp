#include "app/ServiceRegistry.hpp"

// One include and one block per role module; keep the blocks in start order (the apiserver
// first so that media servers in the same process can register with it).

namespace meeting::app {

std::vector<std::unique_ptr<Service>> makeServices(const std::string& role, const Config& config) {
  std::vector<std::unique_ptr<Service>> services;
  [[maybe_unused]] auto runs = [&role](const char* name) { return role == "all" || role == name; };
  [[maybe_unused]] const Config& cfg = config;
  return services;
}

}  // namespace meeting::app
