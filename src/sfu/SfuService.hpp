#pragma once
// The sfuserver role inside the process: the media workers (one per core), and the endpoints
// served on the HTTPS listener: /echo (diagnostic page) and /echo/ws (its signaling).
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <atomic>
#include <mutex>
#include <set>

#include "app/Service.hpp"
#include "common/Metrics.hpp"
#include "sfu/MediaWorker.hpp"
#include "sfu/SfuMonitor.hpp"
#include "sfu/room/Room.hpp"

#if MEETING_SFU_CONTROL
#include "api/control/ControlClient.hpp"
#endif

namespace meeting::sfu {

class EchoSession;
class Room;

class SfuService final : public app::Service {
 public:
  SfuService();
  ~SfuService() override;
  std::string name() const override { return "sfuserver"; }
  Result<void> start(app::ServiceContext& context) override;
  void stop() override;

  size_t workerCount() const { return workers_.size(); }
  MediaWorker& worker(size_t i) { return *workers_[i]->worker; }
  /// The latest monitoring report (null before the first round or with monitoring off).
  /// Control loop only.
  std::shared_ptr<const nlohmann::json> latestReport() const { return latestReport_; }

 private:
  struct WorkerSlot {
    std::unique_ptr<MediaWorker> worker;
    // Echo sessions by id; touched only on the worker's loop.
    std::unordered_map<uint64_t, std::unique_ptr<EchoSession>> echoSessions;
    // Rooms hosted by this worker, by name; touched only on the worker's loop.
    std::unordered_map<std::string, std::unique_ptr<Room>> rooms;
    // Settings the apiserver sent with add_peer, for rooms created later (seed 004 names).
    std::unordered_map<std::string, RoomSettings> roomSettings;
    // Signaling connections of this worker's rooms, to close them on a kick or a room deletion.
    std::unordered_map<uint64_t, std::weak_ptr<net::WebSocketConnection>> connections;
  };
  void startControlLink(app::ServiceContext& context);
  // Monitoring (SfuService.cpp): every second a sample of each worker, taken on its loop.
  struct SampleRound;
  void startSampling(app::ServiceContext& context);
  void sampleWorkers();
  void finishRound(SampleRound& round);
  void reportEvent(RoomEvent event);
  Room& roomFor(WorkerSlot& slot, const std::string& name);
  void addEchoRoutes(net::HttpRouter& router);
  void addRoomRoutes(net::HttpRouter& router, const Config& config);
  WorkerSlot& workerForRoom(const std::string& room);
  WorkerSlot& pickWorker();

  /// The echo endpoint needs no token, so it is capped: each session holds two transports.
  static constexpr size_t MaxEchoSessions = 64;

  std::vector<std::unique_ptr<WorkerSlot>> workers_;
  size_t nextWorker_ = 0;
  size_t echoSessions_ = 0;  // control loop only
  uint64_t nextSessionId_ = 1;
  uint64_t nextConnectionId_ = 1;
  std::string secret_;
  // Rooms start from these (the test loss hook); the apiserver's room options come on top.
  RoomSettings defaultSettings_;
  // Peers removed by the apiserver: their tokens stay refused (control loop only).
  std::set<std::pair<std::string, std::string>> kicked_;
  std::atomic<int64_t> peers_{0};
  std::atomic<int64_t> rooms_{0};
  // Prometheus gauges (/metrics), updated on room events, never per packet.
  Gauge* roomsGauge_ = nullptr;
  Gauge* peersGauge_ = nullptr;
  Gauge* tracksGauge_ = nullptr;
  // Monitoring (control loop only).
  net::EventLoop* controlLoop_ = nullptr;
  net::TimerId sampleTimer_ = 0;
  std::unique_ptr<SfuMonitor> monitor_;
  bool monitoringEnabled_ = true;
  bool roundPending_ = false;
  TimePoint roundStarted_{};
  TimePoint lastSummary_{};
  std::string lastSummaryCounts_;
  std::string nodeId_ = "sfu";
  std::shared_ptr<const nlohmann::json> latestReport_;
#if MEETING_SFU_CONTROL
  std::unique_ptr<api::control::ControlClient> control_;
#endif
  std::shared_ptr<bool> running_ = std::make_shared<bool>(false);
};

}  // namespace meeting::sfu
