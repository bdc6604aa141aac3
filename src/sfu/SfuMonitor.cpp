#include "sfu/SfuMonitor.hpp"

#include <algorithm>
#include <cstdio>


namespace meeting::sfu {
namespace {

using nlohmann::json;

uint64_t delta(uint64_t now, uint64_t before) { return now >= before ? now - before : now; }

RoomStats deltaOf(const RoomStats& now, const RoomStats& before) {
  RoomStats d = now;
  d.packetsIn = delta(now.packetsIn, before.packetsIn);
  d.bytesIn = delta(now.bytesIn, before.bytesIn);
  d.packetsOut = delta(now.packetsOut, before.packetsOut);
  d.bytesOut = delta(now.bytesOut, before.bytesOut);
  d.nacksReceived = delta(now.nacksReceived, before.nacksReceived);
  d.retransmissions = delta(now.retransmissions, before.retransmissions);
  d.nacksSent = delta(now.nacksSent, before.nacksSent);
  d.keyframeRequests = delta(now.keyframeRequests, before.keyframeRequests);
  return d;
}

// Rates are rounded to what an operator reads (two decimals) so reports stay short.
double rate(uint64_t count, double seconds) {
  double r = seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
  return static_cast<double>(static_cast<int64_t>(r * 100 + 0.5)) / 100;
}

}  // namespace

SfuMonitor::SfuMonitor(std::string nodeId, std::string domain, MetricsRegistry* metrics)
    : nodeId_(std::move(nodeId)), domain_(std::move(domain)), metrics_(metrics) {
  if (metrics_) registerMetrics(*metrics_);
}

void SfuMonitor::registerMetrics(MetricsRegistry& m) {
  const char* packets = "RTP packets through the sfuserver's rooms (out: forwarded, retransmissions not included)";
  const char* bytes = "RTP bytes through the sfuserver's rooms";
  counters_.packetsIn = &m.counter("meeting_sfu_rtp_packets_total", packets, {{"direction", "in"}});
  counters_.packetsOut = &m.counter("meeting_sfu_rtp_packets_total", packets, {{"direction", "out"}});
  counters_.bytesIn = &m.counter("meeting_sfu_rtp_bytes_total", bytes, {{"direction", "in"}});
  counters_.bytesOut = &m.counter("meeting_sfu_rtp_bytes_total", bytes, {{"direction", "out"}});
  const char* nacks = "Lost packets named in NACKs (received: from subscribers; sent: to publishers)";
  counters_.nacksReceived = &m.counter("meeting_sfu_nacks_total", nacks, {{"direction", "received"}});
  counters_.nacksSent = &m.counter("meeting_sfu_nacks_total", nacks, {{"direction", "sent"}});
  counters_.retransmissions = &m.counter("meeting_sfu_retransmissions_total", "NACKed packets resent from a packet cache (RTX)");
  counters_.keyframeRequests = &m.counter("meeting_sfu_keyframe_requests_total", "PLIs sent to publishers (after merging)");
  const char* failures = "Transports that failed, by the phase they failed in";
  counters_.iceFailures = &m.counter("meeting_sfu_transport_failures_total", failures, {{"phase", "ice"}});
  counters_.dtlsFailures = &m.counter("meeting_sfu_transport_failures_total", failures, {{"phase", "dtls"}});
}

void SfuMonitor::countDelta(const RoomStats& d) {
  if (!metrics_) return;
  counters_.packetsIn->inc(d.packetsIn);
  counters_.packetsOut->inc(d.packetsOut);
  counters_.bytesIn->inc(d.bytesIn);
  counters_.bytesOut->inc(d.bytesOut);
  counters_.nacksReceived->inc(d.nacksReceived);
  counters_.nacksSent->inc(d.nacksSent);
  counters_.retransmissions->inc(d.retransmissions);
  counters_.keyframeRequests->inc(d.keyframeRequests);
}

json SfuMonitor::update(const std::vector<WorkerSample>& samples, TimePoint now, int64_t wallMs) {
  json workers = json::array();
  json rooms = json::array();
  size_t omitted = 0;
  json totals = {{"rooms", 0}, {"peers", 0}, {"tracks", 0}, {"consumers", 0}, {"transports", 0},
                 {"packets_in_per_s", 0.0}, {"packets_out_per_s", 0.0}, {"bitrate_in_bps", 0.0}, {"bitrate_out_bps", 0.0}};
  std::map<std::tuple<size_t, std::string, int64_t>, RoomStats> seen;
  for (const auto& s : samples) {
    WorkerState& state = workers_[s.index];
    double cpu = 0;
    if (state.at != TimePoint{} && now > state.at) {
      auto wallNanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now - state.at).count();
      cpu = static_cast<double>(s.cpuNanos - state.cpuNanos) / static_cast<double>(wallNanos);
      cpu = std::clamp(static_cast<double>(static_cast<int64_t>(cpu * 1000 + 0.5)) / 1000, 0.0, 1.0);
    }
    if (metrics_) {
      counters_.iceFailures->inc(delta(s.iceFailures, state.iceFailures));
      counters_.dtlsFailures->inc(delta(s.dtlsFailures, state.dtlsFailures));
      Labels worker{{"worker", std::to_string(s.index)}};
      metrics_->gauge("meeting_sfu_worker_cpu_ratio", "Share of one core the media worker thread used in the last second", worker).set(cpu);
      metrics_->gauge("meeting_sfu_worker_loop_lag_seconds", "Delay before a task posted to the media worker's loop ran", worker)
          .set(std::chrono::duration<double>(s.loopLag).count());
    }
    state = WorkerState{s.cpuNanos, now, s.iceFailures, s.dtlsFailures};

    size_t peers = 0, tracks = 0, consumers = 0;
    uint64_t packetsIn = 0, packetsOut = 0, bytesIn = 0, bytesOut = 0;
    double seconds = lastWallMs_ > 0 ? static_cast<double>(wallMs - lastWallMs_) / 1000 : 1.0;
    for (const auto& r : s.rooms) {
      auto key = std::make_tuple(s.index, r.name, r.stats.createdAt);
      auto previous = rooms_.find(key);
      RoomStats d = deltaOf(r.stats, previous != rooms_.end() ? previous->second : RoomStats{});
      seen.emplace(key, r.stats);
      countDelta(d);
      peers += r.stats.peers;
      tracks += r.stats.tracks;
      consumers += r.stats.consumers;
      packetsIn += d.packetsIn;
      packetsOut += d.packetsOut;
      bytesIn += d.bytesIn;
      bytesOut += d.bytesOut;
      if (rooms.size() >= MaxRooms) {
        ++omitted;
        continue;
      }
      // A room new since the last round: its counters started at its creation.
      int64_t since = std::max(lastWallMs_, r.stats.createdAt);
      double roomSeconds = std::max(0.001, static_cast<double>(wallMs - since) / 1000);
      rooms.push_back({{"id", r.name},
                       {"domain", domain_},
                       {"worker", s.index},
                       {"peers", r.stats.peers},
                       {"tracks", r.stats.tracks},
                       {"consumers", r.stats.consumers},
                       {"bitrate_in_bps", rate(d.bytesIn * 8, roomSeconds)},
                       {"bitrate_out_bps", rate(d.bytesOut * 8, roomSeconds)},
                       {"packets_in_per_s", rate(d.packetsIn, roomSeconds)},
                       {"packets_out_per_s", rate(d.packetsOut, roomSeconds)},
                       {"nacks_received", r.stats.nacksReceived},
                       {"retransmissions", r.stats.retransmissions},
                       {"nacks_sent", r.stats.nacksSent},
                       {"keyframe_requests", r.stats.keyframeRequests},
                       {"created_at", r.stats.createdAt},
                       {"age_s", std::max<int64_t>(0, (wallMs - r.stats.createdAt) / 1000)}});
    }
    seconds = std::max(seconds, 0.001);
    json worker = {{"id", s.index},
                   {"cpu", cpu},
                   {"rooms", s.rooms.size()},
                   {"transports", s.transports},
                   {"producers", tracks},
                   {"consumers", consumers},
                   {"peers", peers},
                   {"packets_in_per_s", rate(packetsIn, seconds)},
                   {"packets_out_per_s", rate(packetsOut, seconds)},
                   {"bytes_in_per_s", rate(bytesIn, seconds)},
                   {"bytes_out_per_s", rate(bytesOut, seconds)},
                   {"packet_cache_bytes_max", consumers * CacheBytesPerConsumer},
                   {"loop_lag_ms", std::chrono::duration<double, std::milli>(s.loopLag).count()},
                   {"ice_failures", s.iceFailures},
                   {"dtls_failures", s.dtlsFailures}};
    totals["rooms"] = totals["rooms"].get<size_t>() + s.rooms.size();
    totals["peers"] = totals["peers"].get<size_t>() + peers;
    totals["tracks"] = totals["tracks"].get<size_t>() + tracks;
    totals["consumers"] = totals["consumers"].get<size_t>() + consumers;
    totals["transports"] = totals["transports"].get<size_t>() + s.transports;
    totals["packets_in_per_s"] = totals["packets_in_per_s"].get<double>() + worker["packets_in_per_s"].get<double>();
    totals["packets_out_per_s"] = totals["packets_out_per_s"].get<double>() + worker["packets_out_per_s"].get<double>();
    totals["bitrate_in_bps"] = totals["bitrate_in_bps"].get<double>() + worker["bytes_in_per_s"].get<double>() * 8;
    totals["bitrate_out_bps"] = totals["bitrate_out_bps"].get<double>() + worker["bytes_out_per_s"].get<double>() * 8;
    workers.push_back(std::move(worker));
  }
  rooms_ = std::move(seen);  // rooms gone since the last round are forgotten
  lastWallMs_ = wallMs;
  return {{"node", nodeId_}, {"role", "sfu"},       {"time", wallMs},       {"workers", std::move(workers)},
          {"rooms", std::move(rooms)}, {"rooms_omitted", omitted}, {"totals", std::move(totals)}};
}

std::string SfuMonitor::summary(const json& report) {
  const json& t = report.at("totals");
  double cpuMax = 0, lagMax = 0;
  for (const auto& w : report.at("workers")) {
    cpuMax = std::max(cpuMax, w.value("cpu", 0.0));
    lagMax = std::max(lagMax, w.value("loop_lag_ms", 0.0));
  }
  char line[256];
  std::snprintf(line, sizeof line,
                "%zu workers, %lld rooms, %lld peers, %lld tracks, in %.2f Mbit/s %.0f pkt/s, out %.2f Mbit/s %.0f pkt/s, "
                "busiest worker %.0f%% CPU, max loop lag %.2f ms",
                report.at("workers").size(), t.value("rooms", 0LL), t.value("peers", 0LL), t.value("tracks", 0LL),
                t.value("bitrate_in_bps", 0.0) / 1e6, t.value("packets_in_per_s", 0.0), t.value("bitrate_out_bps", 0.0) / 1e6,
                t.value("packets_out_per_s", 0.0), cpuMax * 100, lagMax);
  return line;
}

}  // namespace meeting::sfu
