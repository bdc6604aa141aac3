#pragma once
// Front door of the turnserver role (namespace meeting::turn): TurnService runs the TURN relay
// inside `meeting turnserver` and `meeting all`, configured from Config; TurnRuntime is the same
// relay for embedding (tests, benchmarks); TurnServer is the pure protocol core.
#include <memory>

#include "app/Service.hpp"
#include "turn/TurnRuntime.hpp"

namespace meeting::turn {

/// Builds the runtime options from the configuration (ports, addresses, TLS, policy, quotas).
Result<TurnRuntimeOptions> runtimeOptionsFromConfig(const Config& config);

class TurnService final : public app::Service {
 public:
  std::string name() const override { return "turnserver"; }
  Result<void> start(app::ServiceContext& context) override;
  void stop() override;

  /// Start without the app (tests): same as start() minus the HTTP routes.
  Result<void> startWith(const Config& config);

  /// Load snapshot for the apiserver's control link (registration and load reports are wired
  /// there; this is the seam), and for /metrics.
  TurnLoad loadSnapshot() const { return runtime_.load(); }
  uint16_t port() const { return runtime_.port(); }
  uint16_t tlsPort() const { return runtime_.tlsPort(); }

 private:
  TurnRuntime runtime_;
};

/// Adds the turn counters of `runtime` to /metrics (MetricsRegistry::global()); the families are
/// registered once per process and sum every live runtime.
void exportMetrics(const TurnRuntime& runtime);

}  // namespace meeting::turn
