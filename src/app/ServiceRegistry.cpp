#include "app/ServiceRegistry.hpp"

#if MEETING_HAS_API
#include "api/ApiService.hpp"
#endif

#if MEETING_HAS_SFU
#include "sfu/SfuService.hpp"
#endif
#if MEETING_HAS_TURN
#include "turn/TurnService.hpp"
#endif
#if MEETING_HAS_ALLOCATOR
#include "allocator/AllocateService.hpp"
#endif
#if MEETING_HAS_FS
#include "fs/FsService.hpp"
#endif

// One include and one block per role module; keep the blocks in start order (the apiserver
// first so that media servers in the same process can register with it).

namespace meeting::app {

std::vector<std::unique_ptr<Service>> makeServices(const std::string& role, const Config& config) {
  std::vector<std::unique_ptr<Service>> services;
  [[maybe_unused]] auto runs = [&role](const char* name) { return role == "all" || role == name; };
  [[maybe_unused]] const Config& cfg = config;
#if MEETING_HAS_API
  if (runs("apiserver")) {
    api::ApiServiceOptions options;
    options.bootstrapApiKey = role == "all";
#if MEETING_HAS_FS
    options.localFsServer = role == "all";
#endif
    services.push_back(api::makeApiService(cfg, options));
  }
#endif
#if MEETING_HAS_SFU
  if (runs("sfuserver")) services.push_back(std::make_unique<sfu::SfuService>());
#endif
#if MEETING_HAS_ALLOCATOR
  // Not part of `meeting all`, which places rooms with the apiserver's built-in allocator.
  if (role == "allocateserver") services.push_back(allocator::makeAllocateService(cfg));
#endif
#if MEETING_HAS_TURN
  if (runs("turnserver")) services.push_back(std::make_unique<turn::TurnService>());
#endif
#if MEETING_HAS_FS
  if (runs("fsserver")) services.push_back(std::make_unique<fs::FsService>());
#endif
  return services;
}

}  // namespace meeting::app
