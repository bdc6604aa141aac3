#include "turn/TurnRuntime.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <future>

namespace meeting::turn {

TurnRuntime::~TurnRuntime() { stop(); }

Result<void> TurnRuntime::start(TurnRuntimeOptions o) {
  if (running_) return makeError("turn_start", "already running");
  if (o.relayPortMin == 0 || o.relayPortMin > o.relayPortMax) {
    return makeError("turn_start", "relay port range must be MIN-MAX with 1 <= MIN <= MAX <= 65535");
  }
  shared_ = std::make_unique<TurnShared>();
  shared_->options = o.turn;
  shared_->options.ipv6Relay = o.announcedV6.has_value();
  shared_->policy = o.policy;
  shared_->nonceKey = NonceService::randomKey();
  shared_->ports = std::make_unique<RelayPortPool>(o.relayPortMin, o.relayPortMax);
  shared_->relayBind = o.listenIp;
  shared_->announcedV4 = o.announcedV4;
  shared_->announcedV6 = o.announcedV6;
  shared_->tls = o.tls;
  shared_->streamIdleTimeout = o.streamIdleTimeout;
  shared_->maxIdleStreams = o.maxIdleStreams;
  shared_->tcpRelayIdleTimeout = o.tcpRelayIdleTimeout;
  const char* gso = std::getenv("MEETING_TURN_GSO");
  shared_->udpGso = o.udpGso && !(gso && std::string_view(gso) == "0");

  size_t n = o.workers ? o.workers : std::max(1u, std::thread::hardware_concurrency());
  stats_.clear();
  workers_.clear();
  for (size_t i = 0; i < n; ++i) {
    stats_.push_back(std::make_shared<TurnStats>());
    Worker w;
    w.loop = std::make_unique<net::EventLoop>("turn-" + std::to_string(i), o.clock ? *o.clock : SystemClock::instance());
    w.worker = std::make_unique<TurnWorker>(*w.loop, *shared_, *stats_.back(), static_cast<uint32_t>(i));
    workers_.push_back(std::move(w));
  }
  // The first worker settles the ports (a free one when 0 was asked), the others share them.
  uint16_t port = o.port;
  std::optional<uint16_t> tlsPort = o.tls ? o.tlsPort : std::nullopt;
  for (size_t i = 0; i < n; ++i) {
    auto r = workers_[i].worker->bind(o.listenIp, port, tlsPort);
    // With port 0 the UDP port is the kernel's pick, and the same number may already be taken
    // for TCP (e.g. by an outgoing connection): pick again with a fresh worker.
    for (int attempt = 1; !r && i == 0 && o.port == 0 && attempt < 10; ++attempt) {
      workers_[0].worker = std::make_unique<TurnWorker>(*workers_[0].loop, *shared_, *stats_[0], 0u);
      r = workers_[0].worker->bind(o.listenIp, port, tlsPort);
    }
    if (!r) {
      workers_.clear();
      return r;
    }
    if (i == 0) {
      port = workers_[0].worker->udpPort();
      if (tlsPort) tlsPort = workers_[0].worker->tlsPort();
    }
  }
  port_ = port;
  tlsPort_ = tlsPort.value_or(0);
  shared_->workers.clear();
  for (auto& w : workers_) shared_->workers.push_back(w.worker.get());
  for (auto& w : workers_) {
    TurnWorker* worker = w.worker.get();
    net::EventLoop* loop = w.loop.get();
    w.thread = std::thread([loop] { loop->run(); });
    loop->post([worker] { worker->start(); });
  }
  running_ = true;
  return {};
}

void TurnRuntime::stop() {
  if (!running_) return;
  running_ = false;
  for (auto& w : workers_) {
    std::promise<void> done;
    auto finished = done.get_future();
    TurnWorker* worker = w.worker.get();
    w.loop->post([worker, &done] {
      worker->stop();
      done.set_value();
    });
    finished.wait();
    w.loop->stop();
    if (w.thread.joinable()) w.thread.join();
  }
  // Sockets go before their io_context; handlers never run again.
  for (auto& w : workers_) w.worker.reset();
  workers_.clear();
}

void TurnRuntime::runDueTimers() {
  if (!running_) return;
  for (auto& w : workers_) {
    std::promise<void> done;
    auto finished = done.get_future();
    net::EventLoop* loop = w.loop.get();
    loop->post([loop, &done] {
      loop->runDueTimers();
      done.set_value();
    });
    finished.wait();
  }
}

TurnLoad TurnRuntime::load() const {
  TurnLoad l;
  l.workers = stats_.size();
  for (const auto& s : stats_) {
    l.allocations += s->activeAllocations.load(std::memory_order_relaxed);
    l.allocationsCreated += s->allocationsCreated.value();
    l.packetsRelayed += s->packetsToPeer.value() + s->packetsToClient.value();
    l.bytesRelayed += s->bytesToPeer.value() + s->bytesToClient.value() + s->splicedBytesToPeer.value() +
                      s->splicedBytesToClient.value();
    l.tcpConnections += static_cast<uint64_t>(std::max<int64_t>(0, s->activeTcpConnections.load(std::memory_order_relaxed)));
    l.authFailures += s->authFailures.value();
    l.packetsToPeer += s->packetsToPeer.value();
    l.packetsToClient += s->packetsToClient.value();
    l.bytesToPeer += s->bytesToPeer.value() + s->splicedBytesToPeer.value();
    l.bytesToClient += s->bytesToClient.value() + s->splicedBytesToClient.value();
    l.permissions += s->activePermissions.load(std::memory_order_relaxed);
    l.channels += s->activeChannels.load(std::memory_order_relaxed);
  }
  if (shared_ && shared_->ports) {
    l.relayPortsFree = shared_->ports->freeCount();
    l.relayPortsTotal = shared_->ports->capacity();
  }
  return l;
}

}  // namespace meeting::turn
