// SfuMonitor: per-second rates from counter deltas, CPU share, rooms coming and going, and the
// Prometheus counters fed from the same deltas.
#include "sfu/SfuMonitor.hpp"

#include <gtest/gtest.h>

namespace meeting::sfu {
namespace {

using namespace std::chrono_literals;

WorkerSample::RoomSample room(const std::string& name, int64_t createdAt, uint64_t packetsIn, uint64_t bytesIn,
                              uint64_t packetsOut, uint64_t bytesOut, size_t peers = 2) {
  RoomStats s;
  s.createdAt = createdAt;
  s.peers = peers;
  s.tracks = 1;
  s.consumers = 1;
  s.packetsIn = packetsIn;
  s.bytesIn = bytesIn;
  s.packetsOut = packetsOut;
  s.bytesOut = bytesOut;
  s.nacksReceived = packetsIn / 100;
  s.retransmissions = packetsIn / 200;
  s.keyframeRequests = 1;
  return {name, s};
}

TEST(SfuMonitor, RatesAreDeltasPerSecondAndFeedTheCounters) {
  MetricsRegistry metrics;
  SfuMonitor monitor("sfu-1", "td1", &metrics);
  TimePoint t0{Duration{10'000'000}};
  int64_t wall0 = 1'700'000'000'000;

  WorkerSample w;
  w.index = 0;
  w.cpuNanos = 1'000'000'000;
  w.loopLag = 250us;
  w.transports = 4;
  w.rooms = {room("standup", wall0 - 1000, 100, 100'000, 100, 100'000)};
  auto first = monitor.update({w}, t0, wall0);
  EXPECT_EQ(first["node"], "sfu-1");
  EXPECT_EQ(first["role"], "sfu");
  ASSERT_EQ(first["workers"].size(), 1u);
  EXPECT_EQ(first["workers"][0]["cpu"], 0.0);  // needs two rounds
  EXPECT_EQ(first["workers"][0]["loop_lag_ms"], 0.25);
  EXPECT_EQ(first["workers"][0]["transports"], 4);
  // First round: the room's counters since its creation one second ago.
  ASSERT_EQ(first["rooms"].size(), 1u);
  EXPECT_EQ(first["rooms"][0]["id"], "standup");
  EXPECT_EQ(first["rooms"][0]["domain"], "td1");
  EXPECT_EQ(first["rooms"][0]["bitrate_in_bps"], 800'000.0);
  EXPECT_EQ(first["rooms"][0]["age_s"], 1);

  // One second later: 50 more packets in, 20 KB; the worker used 0.25 s of CPU.
  w.cpuNanos += 250'000'000;
  w.rooms = {room("standup", wall0 - 1000, 150, 120'000, 250, 250'000)};
  auto second = monitor.update({w}, t0 + 1s, wall0 + 1000);
  const auto& worker = second["workers"][0];
  EXPECT_EQ(worker["cpu"], 0.25);
  EXPECT_EQ(worker["packets_in_per_s"], 50.0);
  EXPECT_EQ(worker["bytes_in_per_s"], 20'000.0);
  EXPECT_EQ(worker["packets_out_per_s"], 150.0);
  EXPECT_EQ(worker["producers"], 1);
  EXPECT_EQ(worker["packet_cache_bytes_max"], SfuMonitor::CacheBytesPerConsumer);
  EXPECT_EQ(second["rooms"][0]["bitrate_in_bps"], 160'000.0);
  EXPECT_EQ(second["totals"]["peers"], 2);
  EXPECT_EQ(second["totals"]["rooms"], 1);

  auto text = metrics.render();
  EXPECT_NE(text.find("meeting_sfu_rtp_packets_total{direction=\"in\"} 150"), std::string::npos) << text;
  EXPECT_NE(text.find("meeting_sfu_rtp_bytes_total{direction=\"out\"} 250000"), std::string::npos) << text;
  EXPECT_NE(text.find("meeting_sfu_keyframe_requests_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("meeting_sfu_worker_cpu_ratio{worker=\"0\"} 0.25"), std::string::npos) << text;
}

TEST(SfuMonitor, RoomsComeAndGoAndARecreatedRoomStartsAtZero) {
  MetricsRegistry metrics;
  SfuMonitor monitor("sfu-1", "", &metrics);
  TimePoint t0{Duration{10'000'000}};
  int64_t wall0 = 1'700'000'000'000;
  WorkerSample a;
  a.index = 0;
  a.rooms = {room("r1", wall0, 10, 1000, 0, 0)};
  WorkerSample b;
  b.index = 1;
  b.rooms = {room("r2", wall0, 20, 2000, 0, 0)};
  monitor.update({a, b}, t0, wall0 + 1000);
  // r1 ended; r2 lives on; r1 is created again (new createdAt) with small counters.
  a.rooms = {room("r1", wall0 + 1500, 5, 500, 0, 0)};
  b.rooms = {room("r2", wall0, 30, 3000, 0, 0)};
  auto report = monitor.update({a, b}, t0 + 1s, wall0 + 2000);
  EXPECT_EQ(report["workers"][0]["packets_in_per_s"], 5.0);
  EXPECT_EQ(report["workers"][1]["packets_in_per_s"], 10.0);
  EXPECT_NE(metrics.render().find("meeting_sfu_rtp_packets_total{direction=\"in\"} 45"), std::string::npos);
  // Everything gone: no rooms, rates zero.
  a.rooms.clear();
  b.rooms.clear();
  report = monitor.update({a, b}, t0 + 2s, wall0 + 3000);
  EXPECT_TRUE(report["rooms"].empty());
  EXPECT_EQ(report["totals"]["packets_in_per_s"], 0.0);
  EXPECT_NE(SfuMonitor::summary(report).find("2 workers, 0 rooms"), std::string::npos) << SfuMonitor::summary(report);
}

TEST(SfuMonitor, ReportListsAtMostMaxRooms) {
  SfuMonitor monitor("sfu-1", "", nullptr);
  WorkerSample w;
  for (size_t i = 0; i < SfuMonitor::MaxRooms + 5; ++i) w.rooms.push_back(room("r" + std::to_string(i), 0, 1, 1, 1, 1, 1));
  auto report = monitor.update({w}, TimePoint{Duration{1}}, 1000);
  EXPECT_EQ(report["rooms"].size(), SfuMonitor::MaxRooms);
  EXPECT_EQ(report["rooms_omitted"], 5);
  EXPECT_EQ(report["totals"]["peers"], SfuMonitor::MaxRooms + 5);  // totals count every room
  EXPECT_LT(report.dump().size(), 1024u * 1024u);                  // fits one control message
}

}  // namespace
}  // namespace meeting::sfu
