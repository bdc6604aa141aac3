#pragma once
// Front door of the turnserver role (namespace meeting::turn): TurnService runs the TURN relay
// inside `meeting turnserver` and `meeting all`, configured from Config; TurnRuntime is the same
// relay for embedding (tests, benchmarks); TurnServer is the pure protocol core.
#include <memory>

#include <nlohmann/json.hpp>

#include "app/Service.hpp"
#if MEETING_TURN_CONTROL
#include "api/control/ControlClient.hpp"
#endif
#include "turn/TurnRuntime.hpp"

namespace meeting::turn {

/// Builds the runtime options from the configuration (ports, addresses, TLS, policy, quotas).
Result<TurnRuntimeOptions> runtimeOptionsFromConfig(const Config& config);

class TurnService final : public app::Service {
 public:
  ~TurnService() override;
  std::string name() const override { return "turnserver"; }
  /// Starts the relay, then registers on the control link: in memory when the apiserver runs in
  /// this process (`context.controlHub`), else over a WebSocket when --apiserver is given.
  Result<void> start(app::ServiceContext& context) override;
  void stop() override;

  /// Start without the app (tests): same as start() minus the HTTP routes and the control link.
  Result<void> startWith(const Config& config);
#if MEETING_TURN_CONTROL
  /// `loop`'s thread only, after startWith(): registers this turnserver with the apiserver (role
  /// "turn", capacity = total allocation quota) and reports its load every second (load = peers =
  /// active allocations). `hub` non-null: in memory; else --apiserver; neither: nothing to do.
  void startControl(const Config& config, net::EventLoop& loop, api::control::ControlHub* hub);
  /// `loop`'s thread only: closes the control link (stop() does it too, on the control loop).
  void stopControl();

  /// What is registered on the control link (also for tests).
  api::control::NodeInfo nodeInfo(const Config& config) const;
  /// The load report sent every second (control loop only: it keeps the previous counters),
  /// with the monitoring report of monitoringReport() attached.
  api::control::LoadReport loadReport();
#endif
  /// The turnserver's monitoring report (docs/operations.md "Monitoring", role "turn"): active
  /// allocations, permissions, channels and RFC 6062 connections; relayed packets and bytes per
  /// second in (client -> peer) and out (peer -> client) since the previous call; auth failures.
  /// Not thread-safe: one caller (the control loop).
  nlohmann::json monitoringReport(TimePoint now);
  TurnLoad loadSnapshot() const { return runtime_.load(); }
  uint16_t port() const { return runtime_.port(); }
  uint16_t tlsPort() const { return runtime_.tlsPort(); }

 private:
  TurnRuntime runtime_;
#if MEETING_TURN_CONTROL
  std::unique_ptr<api::control::ControlClient> control_;
#endif
  size_t capacity_ = 0;
  std::string announced_;  // ip:port registered as the node's public address
  TurnLoad lastReported_;   // counters at the previous monitoring report
  TimePoint lastReportAt_{};
};

/// Adds the turn counters of `runtime` to /metrics (MetricsRegistry::global()); the families are
/// registered once per process and sum every live runtime.
void exportMetrics(const TurnRuntime& runtime);

}  // namespace meeting::turn
