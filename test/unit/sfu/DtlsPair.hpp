#pragma once
// Test helper: a DTLS client and server in one process, their datagrams queued (never delivered
// re-entrantly) and delivered by pump(), optionally through a drop filter.
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sfu/DtlsSession.hpp"

namespace meeting::sfu::test {

struct DtlsEndpoint {
  std::unique_ptr<DtlsSession> session;
  bool connected = false;
  bool closed = false;
  std::string failure;
  SrtpProfile profile = SrtpProfile::None;
  std::vector<uint8_t> localKey, remoteKey;
  std::vector<std::vector<uint8_t>> received;               // application data
  std::function<void(std::span<const uint8_t>)> onData;    // overrides `received` when set
  std::deque<std::vector<uint8_t>> outbox;                  // datagrams to the other side
  size_t sentDatagrams = 0;
  size_t largestDatagram = 0;
};

class DtlsPair {
 public:
  static const DtlsCertificate& certificate(int which) {
    static auto a = DtlsCertificate::generate();
    static auto b = DtlsCertificate::generate();
    return which == 0 ? **a : **b;
  }

  DtlsPair(DtlsConfig clientConfig = {}, DtlsConfig serverConfig = {}, bool setFingerprints = true) {
    clientConfig.role = DtlsRole::Client;
    serverConfig.role = DtlsRole::Server;
    make(client, certificate(0), std::move(clientConfig));
    make(server, certificate(1), std::move(serverConfig));
    if (setFingerprints) {
      (void)client.session->setRemoteFingerprint(certificate(1).fingerprintSdp());
      (void)server.session->setRemoteFingerprint(certificate(0).fingerprintSdp());
    }
  }

  /// Delivers queued datagrams both ways until none are left; `drop` may discard some.
  /// Returns the number delivered.
  size_t pump(TimePoint now, const std::function<bool(bool fromClient, size_t index)>& drop = {}) {
    size_t delivered = 0;
    while (!client.outbox.empty() || !server.outbox.empty()) {
      delivered += deliver(client, server, true, now, drop);
      delivered += deliver(server, client, false, now, drop);
    }
    return delivered;
  }

  DtlsEndpoint client, server;
  size_t clientIndex = 0, serverIndex = 0;

 private:
  static void make(DtlsEndpoint& e, const DtlsCertificate& cert, DtlsConfig config) {
    DtlsCallbacks cb;
    cb.onSend = [&e](std::span<const uint8_t> d) {
      e.outbox.emplace_back(d.begin(), d.end());
      ++e.sentDatagrams;
      e.largestDatagram = std::max(e.largestDatagram, d.size());
    };
    cb.onConnected = [&e](SrtpProfile p, std::span<const uint8_t> local, std::span<const uint8_t> remote) {
      e.connected = true;
      e.profile = p;
      e.localKey.assign(local.begin(), local.end());
      e.remoteKey.assign(remote.begin(), remote.end());
    };
    cb.onApplicationData = [&e](std::span<const uint8_t> d) {
      if (e.onData)
        e.onData(d);
      else
        e.received.emplace_back(d.begin(), d.end());
    };
    cb.onClosed = [&e] { e.closed = true; };
    cb.onFailed = [&e](std::string_view reason) { e.failure = std::string(reason); };
    auto s = DtlsSession::create(cert, std::move(config), std::move(cb));
    if (s.ok()) e.session = std::move(*s);
  }

  size_t deliver(DtlsEndpoint& from, DtlsEndpoint& to, bool fromClient, TimePoint now,
                 const std::function<bool(bool, size_t)>& drop) {
    size_t n = 0;
    while (!from.outbox.empty()) {
      std::vector<uint8_t> d = std::move(from.outbox.front());
      from.outbox.pop_front();
      size_t& index = fromClient ? clientIndex : serverIndex;
      if (drop && drop(fromClient, index++)) continue;
      to.session->receive(d, now);
      ++n;
    }
    return n;
  }
};

}  // namespace meeting::sfu::test
