#include "turn/TurnServer.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/TurnCredentials.hpp"
#include "proto/stun/ChannelData.hpp"
#include "proto/stun/StunBuilder.hpp"
#include "proto/stun/StunIntegrity.hpp"
#include "turn/ChannelFraming.hpp"

namespace meeting::turn {

using namespace proto::stun;

struct TurnServer::Request {
  Request(const ClientKey& c, const StunMessage& m, TimePoint t) : client(c), msg(m), now(t) {}
  const ClientKey& client;
  const StunMessage& msg;
  TimePoint now;
  bool authenticated = false;
  bool integritySha1 = true;     // answer with the integrity attribute(s) the request used
  bool integritySha256 = false;  // (RFC 8489 §9.2.4)
  std::array<uint8_t, 16> key{};
  std::string_view username;
};

namespace {

constexpr size_t MaxPeersPerRequest = 16;

TransactionId transactionOf(const StunMessage& msg) {
  TransactionId id{};
  auto t = msg.transactionId();
  std::copy(t.begin(), t.end(), id.begin());
  return id;
}

// SOFTWARE, then MESSAGE-INTEGRITY(-SHA256) when authenticated, then FINGERPRINT (RFC 8489 §14
// ordering); true when the message is complete.
bool finish(StunBuilder& b, const TurnOptions& o, bool authenticated, bool sha1, bool sha256,
            std::span<const uint8_t> key) {
  if (!o.software.empty()) b.addSoftware(o.software);
  if (authenticated) {
    if (sha1) b.addMessageIntegrity(key);
    if (sha256) b.addMessageIntegritySha256(key);
  }
  b.addFingerprint();
  return b.ok();
}

bool familyMatches(const Address& a, const Address& relay) { return a.family == relay.family; }

}  // namespace

TurnServer::TurnServer(const TurnOptions& options, const PeerPolicy& policy, TurnIo& io, AllocationBudget& budget,
                       const NonceService::Key& nonceKey, TurnStats& stats)
    : options_(options),
      policy_(policy),
      io_(io),
      budget_(budget),
      nonces_(nonceKey, options.nonceLifetime),
      unauthorized_(options.unauthorizedPerSecond),
      stats_(stats) {}

TurnServer::~TurnServer() {
  // The socket layer closes every peer data connection itself when it stops.
  stats_.activeTcpConnections.fetch_sub(static_cast<int64_t>(tcpConnections_.size()), std::memory_order_relaxed);
  for (auto& [key, a] : byClient_) {
    io_.closeRelay(a->relay().id);
    budget_.release(AllocationBudget::userOf(a->username()));
    stats_.allocationsDeleted.inc();
    stats_.activeAllocations.fetch_sub(1, std::memory_order_relaxed);
  }
}

const Allocation* TurnServer::findAllocation(const ClientKey& client) const {
  auto it = byClient_.find(client);
  return it == byClient_.end() ? nullptr : it->second.get();
}

void TurnServer::handleClientPacket(const ClientKey& client, std::span<const uint8_t> data, TimePoint now,
                                    int64_t wallSeconds) {
  if (data.empty()) return;
  // RFC 7983 / RFC 8656 §12.4: first byte 0-3 is STUN, 0x40-0x7F ChannelData (see ChannelFraming).
  const uint8_t first = data[0];
  if (first < 4) {
    handleStun(client, data, now, wallSeconds);
  } else if (first >= 0x40 && first <= 0x7F) {
    handleChannelData(client, data, now);
  } else {
    stats_.malformed.inc();
  }
}

void TurnServer::handleChannelData(const ClientKey& client, std::span<const uint8_t> data, TimePoint now) {
  auto cd = parseChannelMessage(data);
  if (!cd) {
    stats_.malformed.inc();
    return;
  }
  auto it = byClient_.find(client);
  if (it == byClient_.end()) return;
  Allocation& a = *it->second;
  const Allocation::Channel* ch = a.channelByNumber(cd->channel, now);
  // RFC 8656 §12.6: no binding, or no permission for the bound peer: silently discard.
  if (!ch || !a.hasPermission(ch->peer, now)) {
    stats_.droppedNoPermission.inc();
    return;
  }
  if (!a.admitBytes(cd->payload.size(), options_.bandwidthBytesPerSecond, now)) {
    stats_.droppedBandwidth.inc();
    return;
  }
  io_.sendToPeer(a.relay().id, ch->peer, cd->payload);
  stats_.packetsToPeer.inc();
  stats_.bytesToPeer.inc(cd->payload.size());
}

void TurnServer::handleSendIndication(const ClientKey& client, const StunMessage& msg, TimePoint now) {
  // RFC 8656 §11.2: no allocation, no peer, no data or no permission: silently discard.
  auto it = byClient_.find(client);
  if (it == byClient_.end()) return;
  Allocation& a = *it->second;
  auto peer = msg.xorPeerAddress();
  auto data = msg.data();
  if (!peer || !data || !familyMatches(*peer, a.relay().address) || !a.hasPermission(*peer, now)) {
    stats_.droppedNoPermission.inc();
    return;
  }
  if (!a.admitBytes(data->size(), options_.bandwidthBytesPerSecond, now)) {
    stats_.droppedBandwidth.inc();
    return;
  }
  io_.sendToPeer(a.relay().id, *peer, *data);
  stats_.packetsToPeer.inc();
  stats_.bytesToPeer.inc(data->size());
}

void TurnServer::handleStun(const ClientKey& client, std::span<const uint8_t> data, TimePoint now,
                            int64_t wallSeconds) {
  auto parsed = StunMessage::parse(data);
  if (!parsed) {
    stats_.malformed.inc();
    return;
  }
  const StunMessage& msg = *parsed;
  // A FINGERPRINT that does not match means this is not STUN (RFC 8489 §7.3): drop.
  if (msg.fingerprintOffset() != 0 && !verifyFingerprint(msg)) {
    stats_.malformed.inc();
    return;
  }
  const MessageClass cls = classOf(msg.type());
  const Method method = methodOf(msg.type());
  if (cls == MessageClass::Indication) {
    if (method == Method::Send) handleSendIndication(client, msg, now);
    return;
  }
  if (cls != MessageClass::Request) return;  // we send no requests, so answers are stray

  Request r(client, msg, now);
  if (msg.hasUnknownRequiredAttributes()) {
    sendUnknownAttributes(r);  // RFC 8489 §6.3.1.1
    return;
  }
  if (method == Method::Binding) {
    handleBinding(r);
    return;
  }
  if (method != Method::Allocate && method != Method::Refresh && method != Method::CreatePermission &&
      method != Method::ChannelBind && method != Method::Connect && method != Method::ConnectionBind) {
    sendError(r, 400, "Bad Request");
    return;
  }
  auto it = byClient_.find(client);
  Allocation* existing = it == byClient_.end() ? nullptr : it->second.get();
  if (method == Method::ConnectionBind) {
    handleConnectionBind(r, existing, wallSeconds);
    return;
  }
  if (!authenticate(r, existing, wallSeconds)) return;

  if (method == Method::Allocate) {
    handleAllocate(r, wallSeconds);
    return;
  }
  // RFC 8656 §7.3, §9.2, §12.2: other requests need an allocation on this 5-tuple.
  if (!existing) {
    sendError(r, 437, "Allocation Mismatch");
    return;
  }
  if (method == Method::Refresh) handleRefresh(r, *existing);
  else if (method == Method::CreatePermission) handleCreatePermission(r, *existing);
  else if (method == Method::Connect) handleConnect(r, *existing);
  else handleChannelBind(r, *existing);
}

void TurnServer::handleBinding(const Request& r) {
  // RFC 8489 §6.3.1: answer with the source transport address as seen here.
  ByteWriter w(out_);
  StunBuilder b(w, Method::Binding, MessageClass::SuccessResponse, transactionOf(r.msg));
  b.addXorMappedAddress(r.client.remote);
  b.addMappedAddress(r.client.remote);  // for RFC 3489-era clients
  if (finish(b, options_, false, false, false, {})) io_.sendToClient(r.client, b.message());
}

bool TurnServer::authenticate(Request& r, Allocation* existing, int64_t wallSeconds) {
  const StunMessage& m = r.msg;
  const bool hasSha1 = m.messageIntegrityOffset() != 0;
  const bool hasSha256 = m.messageIntegritySha256Offset() != 0;
  // RFC 8489 §9.2.4: no integrity at all -> 401 with REALM and NONCE.
  if (!hasSha1 && !hasSha256) {
    if (!unauthorized_.admit(r.client.remote, r.now)) {
      stats_.unauthorizedDropped.inc();
      return false;
    }
    sendError(r, 401, "Unauthorized", true);
    return false;
  }
  auto username = m.username();
  auto realm = m.realm();
  auto nonce = m.nonce();
  if (!username || !realm || !nonce) {
    sendError(r, 400, "Bad Request");
    return false;
  }
  if (nonces_.check(*nonce, r.client.remote, r.now) != NonceService::Check::Valid) {
    sendError(r, 438, "Stale Nonce", true);
    return false;
  }
  auto refuse = [&] {
    stats_.authFailures.inc();
    if (!unauthorized_.admit(r.client.remote, r.now)) {
      stats_.unauthorizedDropped.inc();
      return false;
    }
    sendError(r, 401, "Unauthorized", true);
    return false;
  };
  if (*realm != options_.realm) return refuse();
  std::array<uint8_t, 16> key{};
  if (existing && *username == existing->username()) {
    // The key of the allocation's credentials is cached; their expiry is still enforced.
    auto expiry = turnRestExpiry(*username);
    if (!expiry || *expiry < wallSeconds) return refuse();
    key = existing->key();
  } else {
    auto password = verifyTurnRestUsername(options_.secret, *username, wallSeconds);
    if (!password) return refuse();
    key = turnLongTermKey(*username, *realm, *password);
  }
  const bool good = hasSha1 ? verifyMessageIntegrity(m, key) : verifyMessageIntegritySha256(m, key);
  if (!good || (hasSha1 && hasSha256 && !verifyMessageIntegritySha256(m, key))) return refuse();
  r.authenticated = true;
  r.integritySha1 = hasSha1;
  r.integritySha256 = hasSha256;
  r.key = key;
  r.username = *username;
  // RFC 8656 §7.3/§9.2/§12.2: requests on an allocation must use its credentials.
  if (existing && *username != existing->username()) {
    sendError(r, 441, "Wrong Credentials");
    return false;
  }
  return true;
}

Duration TurnServer::grantedLifetime(const StunMessage& msg) const {
  // RFC 8656 §7.2: min(requested, maximum), but never below the default.
  auto requested = msg.lifetime();
  if (!requested) return options_.defaultLifetime;
  Duration d = std::chrono::seconds(*requested);
  d = std::min(d, options_.maxLifetime);
  return std::max(d, std::min(options_.defaultLifetime, options_.maxLifetime));
}

void TurnServer::handleAllocate(Request& r, int64_t wallSeconds) {
  (void)wallSeconds;
  const StunMessage& m = r.msg;
  if (auto it = byClient_.find(r.client); it != byClient_.end()) {
    const Allocation& a = *it->second;
    // A retransmitted Allocate gets its success again; anything else is a mismatch (§7.2).
    if (a.createdBy != transactionOf(m)) {
      sendError(r, 437, "Allocation Mismatch");
      return;
    }
    ByteWriter w(out_);
    StunBuilder b(w, Method::Allocate, MessageClass::SuccessResponse, transactionOf(m));
    b.addXorRelayedAddress(a.relay().address);
    b.addLifetime(static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::seconds>(a.expires() - r.now).count()));
    b.addXorMappedAddress(r.client.remote);
    if (finish(b, options_, true, r.integritySha1, r.integritySha256, r.key)) io_.sendToClient(r.client, b.message());
    return;
  }
  auto transport = m.requestedTransport();
  if (!transport) {
    sendError(r, 400, "Bad Request");
    return;
  }
  const bool tcp = *transport == TransportTcp;
  if (!tcp && *transport != TransportUdp) {
    sendError(r, 442, "Unsupported Transport Protocol");  // RFC 6062 §5.1
    return;
  }
  // RFC 6062 §5.1: a TCP relay needs a TCP/TLS control connection and takes no DONT-FRAGMENT,
  // EVEN-PORT or RESERVATION-TOKEN.
  if (tcp && (!r.client.isStream() || m.has(attr::DontFragment) || m.has(attr::EvenPort) ||
              m.has(attr::ReservationToken))) {
    sendError(r, 400, "Bad Request");
    return;
  }
  RelayRequest req;
  req.tcp = tcp;
  req.dontFragment = m.dontFragment();
  auto token = m.reservationToken();
  auto family = m.requestedAddressFamily();
  auto even = m.evenPort();
  if (m.has(attr::EvenPort) && !even) {
    sendError(r, 400, "Bad Request");
    return;
  }
  // RFC 8656 §7.2: RESERVATION-TOKEN excludes EVEN-PORT and REQUESTED-ADDRESS-FAMILY.
  if (token && (even || family)) {
    sendError(r, 400, "Bad Request");
    return;
  }
  if (m.has(attr::RequestedAddressFamily) && m.has(attr::AdditionalAddressFamily)) {
    sendError(r, 400, "Bad Request");
    return;
  }
  if (family) {
    if (*family == static_cast<uint8_t>(AddressFamily::IPv4)) {
      req.family = AddressFamily::IPv4;
    } else if (*family == static_cast<uint8_t>(AddressFamily::IPv6) && options_.ipv6Relay) {
      req.family = AddressFamily::IPv6;
    } else {
      sendError(r, 440, "Address Family not Supported");
      return;
    }
  }
  if (even) {
    req.evenPort = true;
    req.reserveNext = *even;
  }
  req.reservationToken = token;

  const std::string_view user = AllocationBudget::userOf(r.username);
  switch (budget_.tryAcquire(user, options_.maxAllocationsPerUser, options_.maxAllocationsTotal)) {
    case AllocationBudget::Verdict::UserQuota:
      sendError(r, 486, "Allocation Quota Reached");
      return;
    case AllocationBudget::Verdict::Capacity:
      sendError(r, 508, "Insufficient Capacity");
      return;
    case AllocationBudget::Verdict::Ok:
      break;
  }
  RelayError error = RelayError::NoCapacity;
  auto relay = io_.openRelay(req, error);
  if (!relay) {
    budget_.release(user);
    if (error == RelayError::FamilyUnsupported) sendError(r, 440, "Address Family not Supported");
    else if (error == RelayError::BadToken) sendError(r, 508, "Insufficient Capacity");
    else sendError(r, 508, "Insufficient Capacity");
    return;
  }
  relay->tcp = tcp;
  const Duration lifetime = grantedLifetime(m);
  auto a = std::make_unique<Allocation>(r.client, *relay, std::string(r.username), r.key, r.now + lifetime);
  a->createdBy = transactionOf(m);
  byRelay_[relay->id] = a.get();
  byClient_.emplace(r.client, std::move(a));
  if (r.client.isStream()) ++streamAllocations_;
  stats_.allocationsCreated.inc();
  stats_.activeAllocations.fetch_add(1, std::memory_order_relaxed);

  ByteWriter w(out_);
  StunBuilder b(w, Method::Allocate, MessageClass::SuccessResponse, transactionOf(m));
  b.addXorRelayedAddress(relay->address);
  if (m.has(attr::AdditionalAddressFamily)) {
    // Dual allocations (RFC 8656 §7.2) are not offered: say so for the other family.
    b.addAddressErrorCode(static_cast<uint8_t>(AddressFamily::IPv6), 440, "Address Family not Supported");
  }
  b.addLifetime(static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(lifetime).count()));
  if (relay->reservationToken) b.addReservationToken(*relay->reservationToken);
  b.addXorMappedAddress(r.client.remote);
  if (finish(b, options_, true, r.integritySha1, r.integritySha256, r.key)) io_.sendToClient(r.client, b.message());
}

void TurnServer::handleRefresh(Request& r, Allocation& a) {
  const StunMessage& m = r.msg;
  // RFC 8656 §7.3: a family that is not the allocation's -> 443.
  if (auto family = m.requestedAddressFamily();
      family && *family != static_cast<uint8_t>(a.relay().address.family)) {
    sendError(r, 443, "Peer Address Family Mismatch");
    return;
  }
  const bool remove = m.lifetime() && *m.lifetime() == 0;
  const Duration lifetime = remove ? Duration{0} : grantedLifetime(m);
  ByteWriter w(out_);
  StunBuilder b(w, Method::Refresh, MessageClass::SuccessResponse, transactionOf(m));
  b.addLifetime(static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(lifetime).count()));
  const bool complete = finish(b, options_, true, r.integritySha1, r.integritySha256, r.key);
  if (remove) {
    removeAllocation(r.client);  // `a` is gone after this
  } else {
    a.setExpires(r.now + lifetime);
  }
  if (complete) io_.sendToClient(r.client, b.message());
}

void TurnServer::handleCreatePermission(Request& r, Allocation& a) {
  std::array<Address, MaxPeersPerRequest> peers{};
  auto count = r.msg.xorPeerAddresses(peers);
  if (!count || *count == 0 || *count > peers.size()) {
    sendError(r, 400, "Bad Request");
    return;
  }
  std::span<const Address> list(peers.data(), *count);
  // RFC 8656 §9.2: all or nothing.
  for (const auto& p : list) {
    if (!familyMatches(p, a.relay().address)) {
      sendError(r, 443, "Peer Address Family Mismatch");
      return;
    }
    if (!policy_.isAllowed(p)) {
      stats_.peerRefused.inc();
      sendError(r, 403, "Forbidden");
      return;
    }
  }
  if (!a.wouldFitPermissions(list, options_.maxPermissionsPerAllocation)) {
    sendError(r, 508, "Insufficient Capacity");
    return;
  }
  for (const auto& p : list) a.installPermission(p, r.now + options_.permissionLifetime, options_.maxPermissionsPerAllocation);
  ByteWriter w(out_);
  StunBuilder b(w, Method::CreatePermission, MessageClass::SuccessResponse, transactionOf(r.msg));
  if (finish(b, options_, true, r.integritySha1, r.integritySha256, r.key)) io_.sendToClient(r.client, b.message());
}

void TurnServer::handleChannelBind(Request& r, Allocation& a) {
  auto number = r.msg.channelNumber();
  auto peer = r.msg.xorPeerAddress();
  // A TCP allocation relays over data connections only (RFC 6062 §4): no channels.
  if (a.relay().tcp || !number || !isChannelNumber(*number) || !peer) {
    sendError(r, 400, "Bad Request");
    return;
  }
  if (!familyMatches(*peer, a.relay().address)) {
    sendError(r, 443, "Peer Address Family Mismatch");
    return;
  }
  if (!policy_.isAllowed(*peer)) {
    stats_.peerRefused.inc();
    sendError(r, 403, "Forbidden");
    return;
  }
  if (!a.installPermission(*peer, r.now + options_.permissionLifetime, options_.maxPermissionsPerAllocation)) {
    sendError(r, 508, "Insufficient Capacity");
    return;
  }
  switch (a.bindChannel(*number, *peer, r.now + options_.channelLifetime, options_.maxChannelsPerAllocation, r.now,
                        options_.channelCooldown)) {
    case Allocation::BindResult::Conflict:
      sendError(r, 400, "Bad Request");  // RFC 8656 §12.2: number or peer bound elsewhere
      return;
    case Allocation::BindResult::Full:
      sendError(r, 508, "Insufficient Capacity");
      return;
    case Allocation::BindResult::Ok:
      break;
  }
  ByteWriter w(out_);
  StunBuilder b(w, Method::ChannelBind, MessageClass::SuccessResponse, transactionOf(r.msg));
  if (finish(b, options_, true, r.integritySha1, r.integritySha256, r.key)) io_.sendToClient(r.client, b.message());
}

void TurnServer::sendError(const Request& r, uint16_t code, std::string_view reason, bool withNonce) {
  ByteWriter w(out_);
  StunBuilder b(w, methodOf(r.msg.type()), MessageClass::ErrorResponse, transactionOf(r.msg));
  b.addErrorCode(code, reason);
  if (withNonce) {
    // RFC 8489 §9.2.4: 401 and 438 carry REALM and a fresh NONCE.
    b.addRealm(options_.realm);
    b.addNonce(nonces_.make(r.client.remote, r.now));
  }
  if (finish(b, options_, r.authenticated, r.integritySha1, r.integritySha256, r.key)) {
    io_.sendToClient(r.client, b.message());
  }
}

void TurnServer::sendUnknownAttributes(const Request& r) {
  std::array<uint16_t, 16> unknown{};
  size_t n = std::min(r.msg.unknownRequiredAttributes(unknown), unknown.size());
  ByteWriter w(out_);
  StunBuilder b(w, methodOf(r.msg.type()), MessageClass::ErrorResponse, transactionOf(r.msg));
  b.addErrorCode(420, "Unknown Attribute");
  b.addUnknownAttributes(std::span<const uint16_t>(unknown.data(), n));
  if (finish(b, options_, false, false, false, {})) io_.sendToClient(r.client, b.message());
}

void TurnServer::handlePeerPacket(uint32_t relayId, const Address& peer, std::span<uint8_t> buffer, size_t offset,
                                  size_t length, TimePoint now) {
  if (offset < PeerHeadroom || offset + length + PeerTailroom > buffer.size()) return;
  auto it = byRelay_.find(relayId);
  if (it == byRelay_.end()) return;
  Allocation& a = *it->second;
  // RFC 8656 §10.3: only peers with a permission reach the client.
  if (!a.hasPermission(peer, now)) {
    stats_.droppedNoPermission.inc();
    return;
  }
  if (!a.admitBytes(length, options_.bandwidthBytesPerSecond, now)) {
    stats_.droppedBandwidth.inc();
    return;
  }
  const bool stream = a.client().isStream();
  if (const auto* ch = a.channelByPeer(peer, now)) {
    // RFC 8656 §12.5: ChannelData, padded to 4 bytes over TCP/TLS.
    uint8_t* start = buffer.data() + offset - ChannelDataHeaderSize;
    writeChannelHeader(start, ch->number, length);
    size_t total = ChannelDataHeaderSize + length;
    if (stream) {
      const size_t pad = (4 - (length & 3)) & 3;
      std::memset(buffer.data() + offset + length, 0, pad);
      total += pad;
    }
    io_.sendToClient(a.client(), std::span<const uint8_t>(start, total));
  } else {
    // RFC 8656 §11.3: a Data indication with XOR-PEER-ADDRESS and DATA, built in the headroom.
    std::array<uint8_t, PeerHeadroom> head{};
    ByteWriter w(head);
    TransactionId tid{};
    uint64_t counter = ++indicationCounter_ ^ (uint64_t{relayId} << 32);
    std::memcpy(tid.data(), &counter, sizeof counter);
    StunBuilder b(w, Method::Data, MessageClass::Indication, tid);
    b.addXorPeerAddress(peer);
    if (!b.ok()) return;
    w.writeU16(attr::Data);
    w.writeU16(static_cast<uint16_t>(length));
    const size_t pad = (4 - (length & 3)) & 3;
    const size_t bodyLength = w.size() - HeaderSize + length + pad;
    if (bodyLength > 0xFFFF) return;
    w.patchU16(2, static_cast<uint16_t>(bodyLength));
    uint8_t* start = buffer.data() + offset - w.size();
    std::memcpy(start, head.data(), w.size());
    std::memset(buffer.data() + offset + length, 0, pad);
    io_.sendToClient(a.client(), std::span<const uint8_t>(start, w.size() + length + pad));
  }
  stats_.packetsToClient.inc();
  stats_.bytesToClient.inc(length);
}

void TurnServer::removeAllocation(const ClientKey& client) {
  auto it = byClient_.find(client);
  if (it == byClient_.end()) return;
  Allocation& a = *it->second;
  // The allocation's peer data connections go with it (RFC 6062 §5: they belong to it).
  if (a.tcpConnections > 0) {
    std::vector<uint32_t> ids;
    for (const auto& [id, c] : tcpConnections_)
      if (c.control == client) ids.push_back(id);
    for (uint32_t id : ids) removeTcpConnection(id, true);
  }
  io_.closeRelay(a.relay().id);
  byRelay_.erase(a.relay().id);
  budget_.release(AllocationBudget::userOf(a.username()));
  if (client.isStream()) --streamAllocations_;
  byClient_.erase(it);
  stats_.allocationsDeleted.inc();
  stats_.activeAllocations.fetch_sub(1, std::memory_order_relaxed);
}

void TurnServer::clientClosed(const ClientKey& client) {
  if (client.isStream()) pendingBinds_.erase(client.connection);
  removeAllocation(client);
}

void TurnServer::expire(TimePoint now) {
  for (auto it = tcpConnections_.begin(); it != tcpConnections_.end();) {
    const uint32_t id = it->first;
    const TcpConnection& c = it->second;
    ++it;  // removeTcpConnection erases only `id`
    if (c.state == TcpConnection::State::Bound || now < c.deadline) continue;
    if (c.state == TcpConnection::State::Connecting) {
      // RFC 6062 §5.2: the connect timed out.
      stats_.tcpConnectsFailed.inc();
      answerConnect(c, id, 447);
    } else {
      stats_.tcpBindTimeouts.inc();  // RFC 6062 §5.2/§5.3: no ConnectionBind within 30 s
    }
    removeTcpConnection(id, true);
  }
  uint64_t permissions = 0, channels = 0;
  for (auto it = byClient_.begin(); it != byClient_.end();) {
    Allocation& a = *it->second;
    if (a.expires() <= now) {
      ClientKey key = it->first;
      ++it;
      removeAllocation(key);
    } else {
      a.expire(now, options_.channelCooldown);
      permissions += a.permissionCount();
      channels += a.channelCount();
      ++it;
    }
  }
  // Read by the load report on another thread; a second old at most.
  stats_.activePermissions.store(permissions, std::memory_order_relaxed);
  stats_.activeChannels.store(channels, std::memory_order_relaxed);
}

// ---- RFC 6062 TCP allocations ----

namespace {

std::string_view reasonOf(uint16_t code) {
  switch (code) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 441: return "Wrong Credentials";
    case 446: return "Connection Already Exists";
    case 447: return "Connection Timeout or Failure";
    case 508: return "Insufficient Capacity";
    default: return "Error";
  }
}

}  // namespace

uint32_t TurnServer::newConnectionId() {
  // The low 24 bits count; the top byte names this core. At most maxTcpConnections are in use,
  // far fewer than 2^24, so the loop ends quickly.
  for (;;) {
    nextConnection_ = (nextConnection_ + 1) & 0xFFFFFF;
    if (nextConnection_ == 0) continue;
    const uint32_t id = (workerIndex_ << 24) | nextConnection_;
    if (!tcpConnections_.count(id)) return id;
  }
}

void TurnServer::handleConnect(Request& r, Allocation& a) {
  // RFC 6062 §5.2.
  auto peer = r.msg.xorPeerAddress();
  if (!a.relay().tcp || !peer) {
    sendError(r, 400, "Bad Request");
    return;
  }
  if (!familyMatches(*peer, a.relay().address)) {
    sendError(r, 443, "Peer Address Family Mismatch");
    return;
  }
  if (!policy_.isAllowed(*peer)) {
    stats_.peerRefused.inc();
    sendError(r, 403, "Forbidden");
    return;
  }
  // A connection to this peer being made, waiting for its bind, or bound: 446.
  for (const auto& [id, c] : tcpConnections_) {
    if (c.control == r.client && c.peer == *peer) {
      sendError(r, 446, reasonOf(446));
      return;
    }
  }
  if (a.tcpConnections >= options_.maxTcpConnectionsPerAllocation ||
      tcpConnections_.size() >= options_.maxTcpConnections) {
    sendError(r, 508, "Insufficient Capacity");
    return;
  }
  const uint32_t id = newConnectionId();
  TcpConnection c;
  c.control = r.client;
  c.peer = *peer;
  c.state = TcpConnection::State::Connecting;
  c.deadline = r.now + options_.tcpConnectTimeout;
  c.connectTid = transactionOf(r.msg);
  c.key = r.key;
  c.sha1 = r.integritySha1;
  c.sha256 = r.integritySha256;
  tcpConnections_.emplace(id, c);
  ++a.tcpConnections;
  stats_.activeTcpConnections.fetch_add(1, std::memory_order_relaxed);
  if (!io_.connectPeer(a.relay().id, id, *peer)) {
    stats_.tcpConnectsFailed.inc();
    answerConnect(c, id, 447);
    removeTcpConnection(id, true);
  }
}

void TurnServer::answerConnect(const TcpConnection& c, uint32_t connectionId, uint16_t code) {
  ByteWriter w(out_);
  StunBuilder b(w, Method::Connect, code == 0 ? MessageClass::SuccessResponse : MessageClass::ErrorResponse,
                c.connectTid);
  if (code == 0) b.addConnectionId(connectionId);  // RFC 6062 §5.2
  else b.addErrorCode(code, reasonOf(code));
  if (finish(b, options_, true, c.sha1, c.sha256, c.key)) io_.sendToClient(c.control, b.message());
}

void TurnServer::peerConnected(uint32_t connectionId, bool ok, TimePoint now) {
  auto it = tcpConnections_.find(connectionId);
  if (it == tcpConnections_.end() || it->second.state != TcpConnection::State::Connecting) return;
  TcpConnection& c = it->second;
  if (!ok) {
    stats_.tcpConnectsFailed.inc();
    answerConnect(c, connectionId, 447);  // RFC 6062 §5.2: refused or unreachable
    removeTcpConnection(connectionId, true);
    return;
  }
  // RFC 6062 §5.2: the client has 30 s to bind it.
  c.state = TcpConnection::State::Pending;
  c.deadline = now + options_.tcpBindTimeout;
  stats_.tcpPeerConnections.inc();
  answerConnect(c, connectionId, 0);
}

uint32_t TurnServer::peerConnectionAccepted(uint32_t relayId, const Address& peer, TimePoint now) {
  auto it = byRelay_.find(relayId);
  if (it == byRelay_.end() || !it->second->relay().tcp) return 0;
  Allocation& a = *it->second;
  // RFC 6062 §5.3: without a permission for the peer the connection is closed at once.
  if (!a.hasPermission(peer, now) || a.tcpConnections >= options_.maxTcpConnectionsPerAllocation ||
      tcpConnections_.size() >= options_.maxTcpConnections) {
    stats_.tcpPeerRefused.inc();
    return 0;
  }
  const uint32_t id = newConnectionId();
  TcpConnection c;
  c.control = a.client();
  c.peer = peer;
  c.state = TcpConnection::State::Pending;
  c.deadline = now + options_.tcpBindTimeout;
  tcpConnections_.emplace(id, c);
  ++a.tcpConnections;
  stats_.activeTcpConnections.fetch_add(1, std::memory_order_relaxed);
  stats_.tcpPeerConnections.inc();
  // RFC 6062 §5.3: ConnectionAttempt with XOR-PEER-ADDRESS and CONNECTION-ID.
  ByteWriter w(out_);
  TransactionId tid{};
  const uint64_t counter = ++indicationCounter_ ^ (uint64_t{id} << 32);
  std::memcpy(tid.data(), &counter, sizeof counter);
  StunBuilder b(w, Method::ConnectionAttempt, MessageClass::Indication, tid);
  b.addXorPeerAddress(peer);
  b.addConnectionId(id);
  if (finish(b, options_, false, false, false, {})) io_.sendToClient(a.client(), b.message());
  return id;
}

void TurnServer::handleConnectionBind(Request& r, Allocation* existing, int64_t wallSeconds) {
  // RFC 6062 §5.4: only on a TCP/TLS connection that is not a control connection, once.
  if (!r.client.isStream() || existing || pendingBinds_.count(r.client.connection)) {
    sendError(r, 400, "Bad Request");
    return;
  }
  if (!authenticate(r, nullptr, wallSeconds)) return;
  auto id = r.msg.connectionId();
  if (!id) {
    sendError(r, 400, "Bad Request");
    return;
  }
  PendingBind p;
  p.tid = transactionOf(r.msg);
  p.key = r.key;
  p.sha1 = r.integritySha1;
  p.sha256 = r.integritySha256;
  pendingBinds_.emplace(r.client.connection, p);
  io_.claimConnection(r.client, *id, r.username);
}

uint16_t TurnServer::claimConnection(uint32_t connectionId, std::string_view username, TimePoint now) {
  auto it = tcpConnections_.find(connectionId);
  // RFC 6062 §5.4: the id must name a connection waiting for its bind.
  if (it == tcpConnections_.end() || it->second.state != TcpConnection::State::Pending || now >= it->second.deadline) {
    return 400;
  }
  auto a = byClient_.find(it->second.control);
  if (a == byClient_.end()) return 400;
  // The data connection must come from the allocation's user (REST credentials may have been
  // renewed in between, so the user part is compared, not the whole username).
  if (AllocationBudget::userOf(username) != AllocationBudget::userOf(a->second->username())) return 441;
  it->second.state = TcpConnection::State::Bound;
  stats_.tcpBound.inc();
  return 0;
}

void TurnServer::finishConnectionBind(const ClientKey& client, uint16_t code) {
  auto it = pendingBinds_.find(client.connection);
  if (it == pendingBinds_.end()) return;
  const PendingBind p = it->second;
  pendingBinds_.erase(it);
  ByteWriter w(out_);
  StunBuilder b(w, Method::ConnectionBind, code == 0 ? MessageClass::SuccessResponse : MessageClass::ErrorResponse,
                p.tid);
  if (code != 0) b.addErrorCode(code, reasonOf(code));
  if (finish(b, options_, true, p.sha1, p.sha256, p.key)) io_.sendToClient(client, b.message());
}

void TurnServer::peerConnectionClosed(uint32_t connectionId) { removeTcpConnection(connectionId, false); }

void TurnServer::removeTcpConnection(uint32_t connectionId, bool closeSocket) {
  auto it = tcpConnections_.find(connectionId);
  if (it == tcpConnections_.end()) return;
  if (auto a = byClient_.find(it->second.control); a != byClient_.end() && a->second->tcpConnections > 0) {
    --a->second->tcpConnections;
  }
  tcpConnections_.erase(it);
  stats_.activeTcpConnections.fetch_sub(1, std::memory_order_relaxed);
  if (closeSocket) io_.closePeerConnection(connectionId);
}

}  // namespace meeting::turn
