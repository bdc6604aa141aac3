#pragma once
// The sfuserver's monitoring report (docs/operations.md "Monitoring"). Once a second the service
// asks every worker for a WorkerSample on the worker's own loop (no locks, nothing on the packet
// path: the rooms' counters are plain integers read there), then folds the samples here on the
// control loop: per-second rates are deltas of the counters, CPU share is the delta of the
// worker thread's CPU clock, and the same deltas feed the Prometheus counters on /metrics.
#include <cstdint>
#include <map>
#include <tuple>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/Clock.hpp"
#include "common/Metrics.hpp"
#include "sfu/room/Room.hpp"

namespace meeting::sfu {

/// One worker's numbers, taken on its loop.
struct WorkerSample {
  struct RoomSample {
    std::string name;
    RoomStats stats;
  };
  size_t index = 0;
  int64_t cpuNanos = 0;      ///< CPU time of the worker thread so far (CLOCK_THREAD_CPUTIME_ID)
  Duration loopLag{0};       ///< from posting the sample request to the worker running it
  size_t transports = 0;
  uint64_t iceFailures = 0;  ///< the worker's totals (MediaWorker::Counters)
  uint64_t dtlsFailures = 0;
  std::vector<RoomSample> rooms;
};

class SfuMonitor {
 public:
  /// `metrics` (may be null) receives the sfu counter families; `domain` is reported for rooms
  /// (rooms carry no domain of their own yet: the server's default_domain).
  SfuMonitor(std::string nodeId, std::string domain, MetricsRegistry* metrics);

  /// Folds one round of samples (one per worker) taken at `now` (monotonic) / `wallMs` (Unix
  /// ms) and returns the report object. Rates of the first round are over the time since each
  /// room was created; CPU share needs two rounds (0 before).
  nlohmann::json update(const std::vector<WorkerSample>& samples, TimePoint now, int64_t wallMs);

  /// One short line for the log ("2 workers, 3 rooms, 7 peers, ...").
  static std::string summary(const nlohmann::json& report);

  /// Rooms listed in one report (the rest are counted in `rooms_omitted`), so a report stays
  /// well inside one control-link message (api/control MaxReportRooms).
  static constexpr size_t MaxRooms = 2000;
  /// Upper bound of one consumer's packet cache (the video size; audio caches are smaller).
  static constexpr size_t CacheBytesPerConsumer = 512 * (PacketCache::MaxPacketSize + 4);

 private:
  struct WorkerState {
    int64_t cpuNanos = 0;
    TimePoint at{};
    uint64_t iceFailures = 0;
    uint64_t dtlsFailures = 0;
  };
  struct Counters {
    Counter* packetsIn = nullptr;
    Counter* packetsOut = nullptr;
    Counter* bytesIn = nullptr;
    Counter* bytesOut = nullptr;
    Counter* nacksReceived = nullptr;
    Counter* nacksSent = nullptr;
    Counter* retransmissions = nullptr;
    Counter* keyframeRequests = nullptr;
    Counter* iceFailures = nullptr;
    Counter* dtlsFailures = nullptr;
  };
  void registerMetrics(MetricsRegistry& metrics);
  void countDelta(const RoomStats& delta);

  std::string nodeId_;
  std::string domain_;
  MetricsRegistry* metrics_;
  Counters counters_;
  int64_t lastWallMs_ = 0;
  std::map<size_t, WorkerState> workers_;
  // Last counters of each room, by worker, name and creation time (a room re-created under the
  // same name starts from zero again).
  std::map<std::tuple<size_t, std::string, int64_t>, RoomStats> rooms_;
};

}  // namespace meeting::sfu
