#pragma once
// Test helpers for the TURN core: a fake TurnIo that records what goes out, and a client that
// writes requests with REST API credentials.
#include <functional>
#include <string>
#include <vector>

#include "common/TurnCredentials.hpp"
#include "proto/stun/Stun.hpp"
#include "turn/RelayPortPool.hpp"
#include "turn/TurnServer.hpp"

namespace meeting::turn::test {

using namespace proto::stun;

struct Sent {
  ClientKey client;
  std::vector<uint8_t> bytes;
};
struct ToPeer {
  uint32_t relay;
  Address peer;
  std::vector<uint8_t> bytes;
};

class FakeIo : public TurnIo {
 public:
  explicit FakeIo(TimePoint& now) : now_(now) {}
  void sendToClient(const ClientKey& c, std::span<const uint8_t> data) override {
    toClient.push_back({c, {data.begin(), data.end()}});
  }
  void sendToPeer(uint32_t relay, const Address& peer, std::span<const uint8_t> data) override {
    toPeer.push_back({relay, peer, {data.begin(), data.end()}});
  }
  std::optional<RelayEndpoint> openRelay(const RelayRequest& r, RelayError& error) override {
    if (r.family != AddressFamily::IPv4) {
      error = RelayError::FamilyUnsupported;
      return std::nullopt;
    }
    RelayEndpoint e;
    if (r.reservationToken) {
      auto port = pool.acquireReserved(*r.reservationToken, now_);
      if (!port) {
        error = RelayError::BadToken;
        return std::nullopt;
      }
      e.address = Address::v4({203, 0, 113, 5}, *port);
    } else {
      auto g = pool.acquire(r.evenPort, r.reserveNext, now_);
      if (!g) {
        error = RelayError::NoCapacity;
        return std::nullopt;
      }
      e.address = Address::v4({203, 0, 113, 5}, g->port);
      e.reservationToken = g->reservationToken;
    }
    e.id = nextId++;
    open.push_back(e.id);
    return e;
  }
  void closeRelay(uint32_t id) override {
    closed.push_back(id);
  }
  bool connectPeer(uint32_t relay, uint32_t id, const Address& peer) override {
    connects.push_back({relay, id, peer});
    return connectStarts;
  }
  void closePeerConnection(uint32_t id) override { closedConnections.push_back(id); }
  void claimConnection(const ClientKey& c, uint32_t id, std::string_view user) override {
    claims.push_back({c, id, std::string(user)});
  }

  std::vector<Sent> toClient;
  std::vector<ToPeer> toPeer;
  std::vector<uint32_t> open, closed;
  struct Connect {
    uint32_t relay;
    uint32_t id;
    Address peer;
  };
  struct Claim {
    ClientKey client;
    uint32_t id;
    std::string user;
  };
  std::vector<Connect> connects;
  bool connectStarts = true;
  std::vector<uint32_t> closedConnections;
  std::vector<Claim> claims;
  RelayPortPool pool{50000, 50009};
  uint32_t nextId = 1;

 private:
  TimePoint& now_;
};

inline TransactionId tidOf(uint8_t n) {
  TransactionId t{};
  t.fill(n);
  t[0] = 0x42;
  return t;
}

}  // namespace meeting::turn::test
