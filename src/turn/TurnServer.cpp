#include "turn/TurnServer.hpp"

#include <algorithm>
#include <cstring>

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
      method != Method::ChannelBind) {
    // Connect/ConnectionBind (RFC 6062 TCP allocations) are not served: no TCP allocation can exist.
    sendError(r, 400, "Bad Request");
    return;
  }
  auto it = byClient_.find(client);
  Allocation* existing = it == byClient_.end() ? nullptr : it->second.get();
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
  if (*transport != TransportUdp) {
    sendError(r, 442, "Unsupported Transport Protocol");  // RFC 6062 TCP relays: not served
    return;
  }
  RelayRequest req;
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
  if (!number || !isChannelNumber(*number) || !peer) {
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
  io_.closeRelay(a.relay().id);
  byRelay_.erase(a.relay().id);
  budget_.release(AllocationBudget::userOf(a.username()));
  if (client.isStream()) --streamAllocations_;
  byClient_.erase(it);
  stats_.allocationsDeleted.inc();
  stats_.activeAllocations.fetch_sub(1, std::memory_order_relaxed);
}

void TurnServer::clientClosed(const ClientKey& client) { removeAllocation(client); }

void TurnServer::expire(TimePoint now) {
  for (auto it = byClient_.begin(); it != byClient_.end();) {
    Allocation& a = *it->second;
    if (a.expires() <= now) {
      ClientKey key = it->first;
      ++it;
      removeAllocation(key);
    } else {
      a.expire(now, options_.channelCooldown);
      ++it;
    }
  }
}

}  // namespace meeting::turn
