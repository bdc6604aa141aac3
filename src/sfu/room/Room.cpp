#include "sfu/room/Room.hpp"

#include <openssl/rand.h>

#include <chrono>

#include "common/ByteReader.hpp"
#include "common/Log.hpp"
#include "proto/sdp/SdpParser.hpp"
#include "proto/sdp/SdpWriter.hpp"
#include "proto/rtp/RtpExtensions.hpp"
#include "proto/rtp/Rtx.hpp"
#include "sfu/KeyframeDetector.hpp"
#include "sfu/MediaRelay.hpp"

namespace meeting::sfu {
namespace sdp = proto::sdp;
using nlohmann::json;

namespace {

std::string randomId(const char* prefix) {
  std::array<unsigned char, 8> bytes{};
  RAND_bytes(bytes.data(), static_cast<int>(bytes.size()));
  static constexpr char Hex[] = "0123456789abcdef";
  std::string out = prefix;
  for (auto b : bytes) {
    out += Hex[b >> 4];
    out += Hex[b & 15];
  }
  return out;
}

std::string stringField(const json& message, const char* key) {
  auto it = message.find(key);
  return it != message.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

bool validSource(const std::string& source) {
  return source == "camera" || source == "microphone" || source == "screen" || source == "screen_audio";
}

int64_t unixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The header extensions a subscriber is offered: the publisher's, minus those that name the
// publisher's own sections and layers (mid, rid, repaired-rid). The packets still carry them with
// the publisher's values, which would point into the wrong sections of the subscriber's
// PeerConnection; not negotiated, they are ignored and the browser demultiplexes by SSRC.
RoomEvent roomEvent(std::string type, std::string peer = {}) {
  RoomEvent event;
  event.event = std::move(type);
  event.peer = std::move(peer);
  return event;
}

std::vector<sdp::Extmap> subscriberExtmaps(const std::vector<sdp::Extmap>& extmaps) {
  std::vector<sdp::Extmap> out;
  for (const auto& extmap : extmaps) {
    if (extmap.uri == MidExtensionUri || extmap.uri == "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id" ||
        extmap.uri == "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id") {
      continue;
    }
    out.push_back(extmap);
  }
  return out;
}

}  // namespace

Room::Room(MediaWorker& worker, std::string name, RoomSettings settings, RoomEventSink events)
    : worker_(worker), name_(std::move(name)), settings_(settings), events_(std::move(events)) {
  stats_.createdAt = unixMillis();
  report(roomEvent("room_started"));
}

Room::~Room() {
  *alive_ = false;
  if (nackTimer_) worker_.loop().cancel(nackTimer_);
  if (speakerTimer_) worker_.loop().cancel(speakerTimer_);
  if (qualityTimer_) worker_.loop().cancel(qualityTimer_);
  for (auto& [identity, participant] : participants_) {
    for (const auto& [mid, track] : participant->tracks) {
      auto ended = roomEvent("track_unpublished", identity);
      ended.trackId = track->id;
      report(std::move(ended));
    }
    auto left = roomEvent("peer_left", identity);
    left.reason = "room_closed";
    report(std::move(left));
    destroyParticipant(*participant);
  }
  report(roomEvent("room_ended"));
}

void Room::report(RoomEvent event) {
  if (!events_) return;
  event.room = name_;
  events_(std::move(event));
}

uint64_t Room::connectionOf(const std::string& identity) const {
  auto it = participants_.find(identity);
  return it == participants_.end() ? 0 : it->second->connection;
}

std::vector<uint64_t> Room::connections() const {
  std::vector<uint64_t> out;
  for (const auto& [identity, p] : participants_) out.push_back(p->connection);
  return out;
}

RoomStats Room::stats() const {
  RoomStats out = stats_;
  out.peers = participants_.size();
  out.tracks = out.consumers = 0;
  for (const auto& [identity, p] : participants_) {
    out.tracks += p->tracks.size();
    for (const auto& consumer : p->consumers) out.consumers += consumer->track ? 1 : 0;
  }
  return out;
}

LocalTransportDescription Room::local(const WebRtcTransport& transport) const {
  return {transport.localIce(), worker_.fingerprint(), worker_.localCandidates()};
}

json Room::describe(const Track& t) const {
  return {{"id", t.id},
          {"kind", t.media.kind == sdp::MediaKind::Audio ? "audio" : "video"},
          {"source", t.source},
          {"muted", t.muted}};
}

json Room::describe(const Participant& p) const {
  json tracks = json::array();
  for (const auto& [mid, track] : p.tracks) tracks.push_back(describe(*track));
  return {{"identity", p.identity},
          {"name", p.displayName},
          {"tracks", tracks},
          {"metadata", p.metadata},
          {"admin", p.grants.roomAdmin}};
}

Result<void> Room::join(const token::AccessClaims& claims, uint64_t connection, SendText send, bool resumeRequested) {
  if (auto existing = participants_.find(claims.identity); existing != participants_.end()) {
    auto& p = *existing->second;
    if (resumeRequested) {
      // Its place is still here (reconnect grace, or a tab taking over): nobody else notices.
      p.grants = claims.grants;
      resume(p, connection, std::move(send));
      return {};
    }
    // The same identity again without asking to resume (a reloaded page): the old one gives way.
    leave(claims.identity, "replaced");
  }
  if (participants_.size() >= settings_.maxPeers) {
    return makeError("room_full", "room '" + name_ + "' is full (" + std::to_string(settings_.maxPeers) +
                                      " participants)");
  }
  auto participant = std::make_unique<Participant>();
  auto& p = *participant;
  p.identity = claims.identity;
  p.connection = connection;
  p.displayName = claims.displayName.empty() ? claims.identity : claims.displayName;
  p.grants = claims.grants;
  p.send = std::move(send);

  WebRtcTransportCallbacks publishCallbacks;
  publishCallbacks.onRtp = [this, &p](proto::rtp::RtpPacket& packet) { onRtp(p, packet); };
  publishCallbacks.onRtcp = [this, &p](std::span<const uint8_t> compound) { onPublisherRtcp(p, compound); };
  publishCallbacks.onState = [this, &p](TransportState state) {
    sendJson(p,
             {{"type", "transportState"}, {"transport", "publish"}, {"state", std::string(toString(state))}});
  };
  publishCallbacks.onDataChannelOpen = [&p](uint16_t stream, const DataChannelParameters& parameters) {
    if (p.dataChannels.size() < MaxDataChannels) p.dataChannels[stream] = parameters.label;
  };
  publishCallbacks.onDataChannelClosed = [&p](uint16_t stream) { p.dataChannels.erase(stream); };
  publishCallbacks.onDataChannelMessage = [this, &p](uint16_t stream, bool binary, std::span<const uint8_t> data) {
    onData(p, stream, binary, data);
  };
  p.publish = &worker_.createTransport(std::move(publishCallbacks));

  WebRtcTransportCallbacks subscribeCallbacks;
  subscribeCallbacks.onRtcp = [this, &p](std::span<const uint8_t> compound) {
    onSubscriberRtcp(p, compound);
  };
  subscribeCallbacks.onState = [this, &p](TransportState state) {
    sendJson(
        p, {{"type", "transportState"}, {"transport", "subscribe"}, {"state", std::string(toString(state))}});
    if (state != TransportState::Connected) return;
    for (auto& consumer : p.consumers) {
      if (consumer->active && consumer->track) requestKeyframe(*consumer->track, true);
    }
  };
  p.subscribe = &worker_.createTransport(std::move(subscribeCallbacks));

  json others = json::array();
  for (const auto& [identity, other] : participants_) others.push_back(describe(*other));
  participants_.emplace(p.identity, std::move(participant));
  sendJson(p, {{"type", "joined"},
               {"protocol", ProtocolVersion},
               {"room", name_},
               {"resumed", false},
               {"self",
                {{"identity", p.identity},
                 {"name", p.displayName},
                 {"metadata", p.metadata},
                 {"admin", p.grants.roomAdmin}}},
               {"participants", others}});
  broadcast({{"type", "participantJoined"}, {"participant", describe(p)}}, &p);
  startPresenceTimers();
  sendPresence(p);
  MLOG_INFO("room {}: {} joined ({} participants)", name_, p.identity, participants_.size());
  {
    auto e = roomEvent("peer_connected", p.identity);
    e.displayName = p.displayName;
    report(std::move(e));
  }
  if (p.grants.canSubscribe) {
    for (auto& [identity, other] : participants_) {
      if (other.get() == &p) continue;
      for (auto& [mid, track] : other->tracks) subscribe(p, *track);
    }
    offerSubscriptions(p);
  }
  return {};
}

void Room::leave(const std::string& identity, const std::string& reason, uint64_t connection) {
  auto it = participants_.find(identity);
  if (it == participants_.end() || (connection != 0 && it->second->connection != connection)) return;
  auto participant = std::move(it->second);
  participants_.erase(it);
  std::vector<std::string> mids;
  for (auto& [mid, track] : participant->tracks) mids.push_back(mid);
  for (auto& mid : mids) removeTrack(*participant, mid);
  destroyParticipant(*participant);
  broadcast({{"type", "participantLeft"}, {"identity", identity}, {"reason", reason}}, nullptr);
  MLOG_INFO("room {}: {} left ({}; {} remain)", name_, identity, reason, participants_.size());
  {
    auto e = roomEvent("peer_left", identity);
    e.reason = reason;
    report(std::move(e));
  }
  notifyIfEmpty();
}

void Room::disconnect(const std::string& identity, uint64_t connection) {
  auto it = participants_.find(identity);
  if (it == participants_.end() || it->second->connection != connection) return;
  if (settings_.reconnectGrace.count() <= 0) return leave(identity, "disconnected", connection);
  auto& p = *it->second;
  p.connected = false;
  p.connection = 0;
  p.send = nullptr;
  p.graceTimer = worker_.loop().runAfter(settings_.reconnectGrace, [this, alive = alive_, identity] {
    if (!*alive) return;
    auto held = participants_.find(identity);
    if (held == participants_.end() || held->second->connected) return;
    held->second->graceTimer = 0;
    leave(identity, "timeout");
  });
  MLOG_INFO("room {}: {} lost its signaling connection; its place is kept for {} s", name_, identity,
            settings_.reconnectGrace.count());
}

void Room::resume(Participant& p, uint64_t connection, SendText send) {
  if (p.graceTimer) worker_.loop().cancel(p.graceTimer);
  p.graceTimer = 0;
  p.connected = true;
  p.connection = connection;
  p.send = std::move(send);
  json others = json::array();
  for (const auto& [identity, other] : participants_) {
    if (other.get() != &p) others.push_back(describe(*other));
  }
  sendJson(p, {{"type", "joined"},
               {"protocol", ProtocolVersion},
               {"room", name_},
               {"resumed", true},
               {"self", describe(p)},
               {"participants", others}});
  // An offer may have been lost with the old connection: the subscribe side starts a new round,
  // on a fresh ICE path (the client may be on another network now; it restarts its publish side).
  p.offerOutstanding = false;
  if (p.subscribe && !p.consumers.empty()) p.subscribe->prepareIceRestart();
  offerSubscriptions(p);
  sendPresence(p);
  MLOG_INFO("room {}: {} resumed on a new signaling connection", name_, p.identity);
}

void Room::notifyIfEmpty() {
  if (!participants_.empty() || !onEmpty_) return;
  worker_.loop().post([alive = alive_, onEmpty = onEmpty_] {
    if (*alive) onEmpty();
  });
}

void Room::destroyParticipant(Participant& p) {
  // Consumers of this participant disappear from the tracks they receive.
  for (auto& consumer : p.consumers) {
    if (!consumer->track) continue;
    std::erase(consumer->track->consumers, consumer.get());
  }
  p.consumers.clear();
  if (p.publish) worker_.destroyTransport(p.publish->id());
  if (p.subscribe) worker_.destroyTransport(p.subscribe->id());
  p.publish = p.subscribe = nullptr;
  p.send = nullptr;
}

void Room::handleMessage(const std::string& identity, uint64_t connection, const std::string& text) {
  auto it = participants_.find(identity);
  if (it == participants_.end() || it->second->connection != connection) return;
  auto& p = *it->second;
  auto message = json::parse(text, nullptr, false);
  if (message.is_discarded() || !message.is_object() || !message.contains("type") ||
      !message["type"].is_string()) {
    return sendError(p, "bad_message", "expected a JSON object with a string \"type\"");
  }
  auto type = message["type"].get<std::string>();
  if (type == "publish") {
    onPublish(p, message);
  } else if (type == "subscribeAnswer") {
    onSubscribeAnswer(p, message);
  } else if (type == "mute") {
    onMute(p, message);
  } else if (type == "chat") {
    onChat(p, message);
  } else if (type == "subscription") {
    onSubscription(p, message);
  } else if (type == "pause") {
    onPause(p, message);
  } else if (type == "updateMetadata") {
    onUpdateMetadata(p, message);
  } else if (type == "reaction") {
    onReaction(p, message);
  } else if (type == "muteParticipant") {
    onMuteParticipant(p, message);
  } else if (type == "leave") {
    leave(identity, "left");
  } else if (type == "ping") {
    sendJson(p, {{"type", "pong"}});
  } else {
    sendError(p, "unknown_type", "unknown message type '" + type + "'");
  }
}

void Room::onPublish(Participant& p, const json& message) {
  if (!p.grants.canPublish) return sendError(p, "forbidden", "this token may not publish");
  auto sdpText = stringField(message, "sdp");
  if (sdpText.empty()) return sendError(p, "bad_message", "publish needs a string \"sdp\"");
  auto offer = sdp::parse(sdpText);
  if (!offer) return sendError(p, "invalid_sdp", offer.error().message);
  auto params = remoteTransportParameters(*offer, false);
  if (!params) return sendError(p, "invalid_sdp", params.error().message);
  AnswerOptions options;
  options.videoCodec = settings_.videoCodec;
  auto answer = answerPublishOffer(*offer, local(*p.publish), options);
  if (!answer) return sendError(p, "invalid_sdp", answer.error().message);
  if (auto r = p.publish->setRemote(*params); !r) return sendError(p, "invalid_sdp", r.error().message);
  // setRemote may have restarted ICE: describe the transport as it is now.
  answer = answerPublishOffer(*offer, local(*p.publish), options);
  sendJson(p, {{"type", "publishAnswer"}, {"sdp", sdp::serialize(answer->answer)}});

  const json tracksInfo =
      message.contains("tracks") && message["tracks"].is_object() ? message["tracks"] : json::object();
  std::vector<std::string> stillPublished;
  for (const auto& media : answer->media) {
    stillPublished.push_back(media.mid);
    if (!p.tracks.contains(media.mid)) {
      addTrack(p, media, tracksInfo.contains(media.mid) ? tracksInfo[media.mid] : json::object());
    }
  }
  std::vector<std::string> gone;
  for (auto& [mid, track] : p.tracks) {
    if (std::find(stillPublished.begin(), stillPublished.end(), mid) == stillPublished.end())
      gone.push_back(mid);
  }
  for (auto& mid : gone) removeTrack(p, mid);
}

void Room::addTrack(Participant& p, const ReceivedMedia& media, const json& info) {
  auto track = std::make_unique<Track>();
  track->id = randomId("TR_");
  track->publisher = &p;
  track->media = media;
  if (!media.ssrcs.empty()) {
    track->inSsrc = media.ssrcs.front().ssrc;
    track->inRtxSsrc = media.ssrcs.front().rtxSsrc.value_or(0);
  }
  if (media.kind == sdp::MediaKind::Video) {
    track->videoCodec = parseVideoCodec(media.codec.name);
    track->nacks = std::make_unique<NackGenerator>();
    if (!nackTimer_) nackTimer_ = worker_.loop().runEvery(NackInterval, [this] { sendNacks(); });
  }
  auto source = info.is_object() ? stringField(info, "source") : std::string{};
  track->source =
      validSource(source) ? source : (media.kind == sdp::MediaKind::Audio ? "microphone" : "camera");
  track->muted =
      info.is_object() && info.contains("muted") && info["muted"].is_boolean() && info["muted"].get<bool>();
  for (const auto& extmap : media.extmaps) {
    if (extmap.uri != proto::rtp::uri::AudioLevel || extmap.id == 0 || extmap.id > 255) continue;
    track->audioLevelId = static_cast<uint8_t>(extmap.id);
    if (extmap.attributes.find("vad=off") != std::string::npos) track->meter.ignoreVoiceActivityBit();
  }
  auto& ref = *track;
  p.tracks.emplace(media.mid, std::move(track));
  broadcast({{"type", "trackPublished"}, {"identity", p.identity}, {"track", describe(ref)}}, nullptr);
  {
    auto e = roomEvent("track_published", p.identity);
    e.trackId = ref.id;
    e.trackKind = media.kind == sdp::MediaKind::Audio ? "audio" : "video";
    e.trackSource = ref.source;
    report(std::move(e));
  }
  for (auto& [identity, other] : participants_) {
    if (other.get() == &p || !other->grants.canSubscribe) continue;
    subscribe(*other, ref);
    offerSubscriptions(*other);
  }
}

void Room::removeTrack(Participant& p, const std::string& mid) {
  auto it = p.tracks.find(mid);
  if (it == p.tracks.end()) return;
  auto track = std::move(it->second);
  p.tracks.erase(it);
  for (auto* consumer : std::vector<Consumer*>(track->consumers)) {
    endConsumer(*consumer);
    offerSubscriptions(*consumer->subscriber);
  }
  broadcast({{"type", "trackUnpublished"}, {"identity", p.identity}, {"trackId", track->id}}, nullptr);
  {
    auto e = roomEvent("track_unpublished", p.identity);
    e.trackId = track->id;
    report(std::move(e));
  }
}

void Room::subscribe(Participant& subscriber, Track& track) {
  auto consumer = std::make_unique<Consumer>();
  consumer->subscriber = &subscriber;
  consumer->track = &track;
  consumer->mid = std::to_string(subscriber.nextMid++);
  consumer->ssrc = randomSsrc();
  if (track.media.rtx) consumer->rtxSsrc = randomSsrc();
  consumer->cache = std::make_unique<PacketCache>(track.media.kind == sdp::MediaKind::Video ? 512 : 32);
  consumer->rewriter = std::make_unique<StreamRewriter>(track.media.codec.clockRate > 0 ? track.media.codec.clockRate : 90000);
  auto& section = consumer->section;
  section.mid = consumer->mid;
  section.kind = track.media.kind;
  section.codec = track.media.codec;
  section.rtx = track.media.rtx;
  section.extmaps = subscriberExtmaps(track.media.extmaps);
  section.ssrc = consumer->ssrc;
  section.rtxSsrc = consumer->rtxSsrc;
  section.streamId = track.publisher->identity;
  section.trackId = track.id;
  section.cname = section.streamId;
  if (track.muted) consumer->rewriter->pause();  // nothing flows until it is unmuted
  track.consumers.push_back(consumer.get());
  subscriber.consumers.push_back(std::move(consumer));
}

void Room::offerSubscriptions(Participant& p) {
  if (p.consumers.empty() || !p.subscribe) return;
  if (p.offerOutstanding) {
    p.renegotiate = true;  // folded into the next offer when the answer comes
    return;
  }
  std::vector<SentMedia> media;
  for (const auto& consumer : p.consumers) {
    // An ended track keeps its section, same kind and codec, inactive (mids are never reused).
    SentMedia sent = consumer->section;
    sent.active = consumer->active && consumer->track;
    media.push_back(std::move(sent));
  }
  auto offer = makeSubscribeOffer(local(*p.subscribe), media, false, ++p.offerVersion);
  for (auto& consumer : p.consumers) {
    if (consumer->offeredIn == 0) consumer->offeredIn = p.offerVersion;
  }
  p.offerOutstanding = true;
  p.renegotiate = false;
  json trackMap = json::object();
  for (const auto& consumer : p.consumers) {
    if (consumer->track)
      trackMap[consumer->mid] = {{"trackId", consumer->track->id},
                                 {"identity", consumer->track->publisher->identity}};
  }
  sendJson(p, {{"type", "subscribeOffer"},
               {"sdp", sdp::serialize(offer)},
               {"version", p.offerVersion},
               {"tracks", trackMap}});
}

void Room::onSubscribeAnswer(Participant& p, const json& message) {
  if (!p.offerOutstanding) return sendError(p, "unexpected", "no subscribe offer is outstanding");
  auto version = message.contains("version") && message["version"].is_number_unsigned()
                     ? message["version"].get<uint64_t>()
                     : 0;
  if (version != p.offerVersion)
    return sendError(p, "stale_answer", "the answer is for offer " + std::to_string(version));
  auto answer = sdp::parse(stringField(message, "sdp"));
  if (!answer) return sendError(p, "invalid_sdp", answer.error().message);
  auto params = remoteTransportParameters(*answer, true);
  if (!params) return sendError(p, "invalid_sdp", params.error().message);
  if (auto r = p.subscribe->setRemote(*params); !r) return sendError(p, "invalid_sdp", r.error().message);
  p.offerOutstanding = false;
  for (auto& consumer : p.consumers) {
    if (consumer->offeredIn != 0 && consumer->offeredIn <= version && !consumer->negotiated) {
      consumer->negotiated = true;
      if (consumer->track) requestKeyframe(*consumer->track, true);  // its first frame must be a keyframe
    }
  }
  if (p.renegotiate) offerSubscriptions(p);
}

void Room::onMute(Participant& p, const json& message) {
  auto trackId = stringField(message, "trackId");
  if (!message.contains("muted") || !message["muted"].is_boolean()) {
    return sendError(p, "bad_message", "mute needs \"trackId\" and a boolean \"muted\"");
  }
  for (auto& [mid, track] : p.tracks) {
    if (track->id != trackId) continue;  // only one's own tracks: another peer's id is not found here
    setMuted(*track, message["muted"].get<bool>());
    broadcast(
        {{"type", "trackMuted"}, {"identity", p.identity}, {"trackId", trackId}, {"muted", track->muted}},
        nullptr);
    return;
  }
  sendError(p, "unknown_track", "you publish no track '" + trackId + "'");
}

Room::Track* Room::findTrack(const std::string& trackId) {
  for (auto& [identity, participant] : participants_) {
    for (auto& [mid, track] : participant->tracks) {
      if (track->id == trackId) return track.get();
    }
  }
  return nullptr;
}

Room::Consumer* Room::findConsumer(Participant& subscriber, const std::string& trackId) {
  for (auto& consumer : subscriber.consumers) {
    if (consumer->track && consumer->track->id == trackId) return consumer.get();
  }
  return nullptr;
}

void Room::endConsumer(Consumer& consumer) {
  if (consumer.track) std::erase(consumer.track->consumers, &consumer);
  consumer.track = nullptr;
  consumer.active = false;  // the section stays (mids are not reused) but goes inactive
}

void Room::onSubscription(Participant& p, const json& message) {
  auto trackId = stringField(message, "trackId");
  if (!message.contains("subscribe") || !message["subscribe"].is_boolean()) {
    return sendError(p, "bad_message", "subscription needs \"trackId\" and a boolean \"subscribe\"");
  }
  if (!p.grants.canSubscribe) return sendError(p, "forbidden", "this token may not subscribe");
  Track* track = findTrack(trackId);
  if (!track || track->publisher == &p) return sendError(p, "unknown_track", "no other participant's track '" + trackId + "'");
  bool subscribed = message["subscribe"].get<bool>();
  Consumer* consumer = findConsumer(p, trackId);
  if (subscribed && !consumer) {
    subscribe(p, *track);
    offerSubscriptions(p);
  } else if (!subscribed && consumer) {
    endConsumer(*consumer);
    offerSubscriptions(p);
  }
  consumer = findConsumer(p, trackId);
  sendJson(p, {{"type", "subscriptionUpdated"},
               {"trackId", trackId},
               {"subscribed", subscribed},
               {"paused", consumer && consumer->paused}});
}

void Room::onPause(Participant& p, const json& message) {
  auto trackId = stringField(message, "trackId");
  if (!message.contains("paused") || !message["paused"].is_boolean()) {
    return sendError(p, "bad_message", "pause needs \"trackId\" and a boolean \"paused\"");
  }
  Consumer* consumer = findConsumer(p, trackId);
  if (!consumer) return sendError(p, "unknown_track", "you receive no track '" + trackId + "'");
  bool paused = message["paused"].get<bool>();
  consumer->paused = paused;
  // Resuming continues without a gap in sequence numbers or a jump in time; decoding restarts
  // on a keyframe.
  if (applyFlow(*consumer)) requestKeyframe(*consumer->track, true);
  sendJson(p, {{"type", "subscriptionUpdated"}, {"trackId", trackId}, {"subscribed", true}, {"paused", paused}});
}

bool Room::dropForTest(int percent) {
  // xorshift64: cheap, and good enough to spread test drops evenly.
  lossRandom_ ^= lossRandom_ << 13;
  lossRandom_ ^= lossRandom_ >> 7;
  lossRandom_ ^= lossRandom_ << 17;
  return static_cast<int>(lossRandom_ % 100) < percent;
}

void Room::onChat(Participant& p, const json& message) {
  auto text = stringField(message, "text");
  if (text.empty() || text.size() > MaxChatLength) {
    return sendError(p, "bad_message",
                     "chat needs a \"text\" of 1 to " + std::to_string(MaxChatLength) + " bytes");
  }
  if (!p.grants.canPublishData) return sendError(p, "forbidden", "this token may not send chat or data");
  auto now = unixMillis();
  broadcast({{"type", "chat"}, {"from", p.identity}, {"name", p.displayName}, {"text", text}, {"time", now}},
            nullptr);
  {
    auto e = roomEvent("chat", p.identity);
    e.displayName = p.displayName;
    e.text = text;
    e.sentAt = now;
    report(std::move(e));
  }
}

Room::Track* Room::trackForPacket(Participant& p, const proto::rtp::RtpPacket& packet, bool& retransmission) {
  retransmission = false;
  const uint32_t ssrc = packet.ssrc();
  const uint8_t payloadType = packet.payloadType();
  auto isRtx = [payloadType](const Track& t) { return t.media.rtx && t.media.rtx->payloadType == payloadType; };
  for (auto& [mid, track] : p.tracks) {
    if (track->inSsrc == ssrc) return track->media.codec.payloadType == payloadType ? track.get() : nullptr;
    if (track->inRtxSsrc != 0 && track->inRtxSsrc == ssrc) {
      retransmission = true;
      return isRtx(*track) ? track.get() : nullptr;
    }
  }
  for (auto& [mid, track] : p.tracks) {  // no a=ssrc: the mid extension names the section
    bool media = track->inSsrc == 0 && track->media.codec.payloadType == payloadType;
    bool repair = track->inRtxSsrc == 0 && isRtx(*track);
    if ((media || repair) && carriesMid(packet, track->media.extmaps, mid)) {
      (media ? track->inSsrc : track->inRtxSsrc) = ssrc;
      retransmission = !media;
      return track.get();
    }
  }
  return nullptr;
}

void Room::onRtp(Participant& p, proto::rtp::RtpPacket& packet) {
  if (settings_.lossUplinkPercent > 0 && dropForTest(settings_.lossUplinkPercent)) return;
  bool retransmission = false;
  Track* track = trackForPacket(p, packet, retransmission);
  if (!track || packet.size() > PacketCache::MaxPacketSize) return;
  auto now = worker_.loop().clock().now();
  if (!retransmission) {
    countReceived(*track, packet.sequenceNumber());
    return forward(*track, packet, now);
  }
  // A retransmission the publisher sent for our NACK: unwrapped, it continues as the packet it
  // replaces (RFC 4588 §4). Padding-only RTX (bandwidth probes) has nothing to recover.
  if (track->inSsrc == 0) return;
  auto recovered = proto::rtp::recoverFromRtx(packet, track->media.codec.payloadType, track->inSsrc, recovered_);
  if (recovered) forward(*track, *recovered, now);
}

void Room::forward(Track& track, proto::rtp::RtpPacket& packet, TimePoint now) {
  ++stats_.packetsIn;
  stats_.bytesIn += packet.size();
  if (track.nacks) {
    track.nacks->onPacket(packet.sequenceNumber(), now);
    if (track.videoCodec && isKeyframe(*track.videoCodec, packet.payload())) track.nacks->onKeyframe(packet.sequenceNumber());
  }
  // A muted track is not forwarded (its consumers' rewriters are paused: no gap when it comes
  // back) and does not speak.
  if (track.muted) return;
  if (track.audioLevelId != 0) meterAudioLevel(track, packet, now);
  for (auto* consumer : track.consumers) {
    auto* transport = consumer->subscriber->subscribe;
    // Not before the subscriber knows the section: an unsignaled SSRC would be bound to another
    // section by the browser's payload-type demuxing.
    if (!consumer->active || consumer->paused || !consumer->negotiated || !transport ||
        transport->state() != TransportState::Connected)
      continue;
    auto rewritten = consumer->rewriter->rewrite(packet.ssrc(), packet.sequenceNumber(), packet.timestamp(), now);
    if (!rewritten) continue;  // older than what this subscriber's stream started with
    std::copy(packet.data().begin(), packet.data().end(), scratch_.begin());
    auto copy = proto::rtp::RtpPacket::parse(std::span<uint8_t>(scratch_), packet.size());
    if (!copy) return;
    copy->setSsrc(consumer->ssrc);
    copy->setSequenceNumber(rewritten->sequence);
    copy->setTimestamp(rewritten->timestamp);
    consumer->cache->store(rewritten->sequence, copy->data());
    ++consumer->packetsSent;
    consumer->octetsSent += static_cast<uint32_t>(copy->payloadSize());
    // The test hook drops after caching, as the network would: a NACK gets it back.
    if (settings_.lossDownlinkPercent > 0 && dropForTest(settings_.lossDownlinkPercent)) continue;
    transport->sendRtp(scratch_, copy->size());
    ++stats_.packetsOut;
    stats_.bytesOut += copy->size();
  }
}

void Room::sendNacks() {
  auto now = worker_.loop().clock().now();
  for (auto& [identity, p] : participants_) {
    if (!p->publish || p->publish->state() != TransportState::Connected) continue;
    for (auto& [mid, track] : p->tracks) {
      if (!track->nacks || track->inSsrc == 0) continue;
      // Too much lost to repair packet by packet: a keyframe starts the picture over.
      if (track->nacks->consumeKeyframeNeeded()) requestKeyframe(*track, true);
      size_t count = track->nacks->collect(now, PublisherRtt, lost_);
      if (count == 0) continue;
      size_t size = writeNackPacket(nackPacket_, FeedbackSenderSsrc, track->inSsrc, std::span<const uint16_t>(lost_.data(), count));
      if (size == 0) continue;
      p->publish->sendRtcp(nackPacket_, size);
      stats_.nacksSent += count;
    }
  }
}

void Room::onPublisherRtcp(Participant& p, std::span<const uint8_t> compound) {
  forEachSenderReport(compound, [&p](uint32_t ssrc, std::span<const uint8_t> report) {
    for (auto& [mid, track] : p.tracks) {
      if (track->inSsrc != ssrc) continue;
      for (auto* consumer : track->consumers) {
        // Only once its stream runs from this source: the timestamp offset is known then.
        if (!consumer->subscriber->subscribe || !consumer->rewriter->started() || consumer->rewriter->source() != ssrc)
          continue;
        SenderReportRewrite rewrite{consumer->rewriter->translateTimestamp(0), consumer->packetsSent, consumer->octetsSent};
        forwardSenderReport(report, consumer->ssrc, *consumer->subscriber->subscribe, &rewrite);
      }
    }
  });
}

void Room::onSubscriberRtcp(Participant& p, std::span<const uint8_t> compound) {
  auto byOutSsrc = [&p](uint32_t ssrc) -> Consumer* {
    for (auto& consumer : p.consumers) {
      if (consumer->ssrc == ssrc && consumer->track) return consumer.get();
    }
    return nullptr;
  };
  readSubscriberFeedback(
      compound,
      [this, &byOutSsrc](uint32_t ssrc) {
        if (auto* consumer = byOutSsrc(ssrc)) requestKeyframe(*consumer->track, false);
      },
      [this, &byOutSsrc](uint32_t ssrc, uint16_t sequence) {
        if (auto* consumer = byOutSsrc(ssrc)) retransmit(*consumer, sequence);
      });
}

void Room::requestKeyframe(Track& track, bool force) {
  auto* publish = track.publisher->publish;
  if (!publish || track.inSsrc == 0 || track.media.kind != sdp::MediaKind::Video) return;
  if (!track.keyframes.allow(worker_.loop().clock().now(), force)) return;
  ++stats_.keyframeRequests;
  sendKeyframeRequest(*publish, track.inSsrc);
}

void Room::retransmit(Consumer& consumer, uint16_t sequenceNumber) {
  auto* transport = consumer.subscriber->subscribe;
  ++stats_.nacksReceived;
  if (!transport || !consumer.track || consumer.cache->find(sequenceNumber).empty()) return;
  ++stats_.retransmissions;
  const auto& rtxCodec = consumer.track->media.rtx;
  RtxStream rtx;
  if (rtxCodec) rtx = RtxStream{rtxCodec->payloadType, consumer.rtxSsrc, &consumer.rtxSequence};
  retransmitFromCache(*consumer.cache, sequenceNumber, rtxCodec ? &rtx : nullptr, *transport, scratch_,
                      rtxScratch_);
}

void Room::onData(Participant& p, uint16_t stream, bool binary, std::span<const uint8_t> data) {
  if (!p.grants.canPublishData) return;
  auto channel = p.dataChannels.find(stream);
  if (channel == p.dataChannels.end()) return;
  // Relayed outside the SCTP callback; every other participant gets it on its channel with the
  // same label (same reliability), else on its first one.
  std::vector<uint8_t> copy(data.begin(), data.end());
  worker_.loop().post([this, alive = alive_, from = p.identity, label = channel->second, binary, copy = std::move(copy)] {
    if (!*alive) return;
    for (auto& [identity, other] : participants_) {
      if (identity == from || other->dataChannels.empty() || !other->publish) continue;
      uint16_t target = other->dataChannels.begin()->first;
      for (const auto& [otherStream, otherLabel] : other->dataChannels) {
        if (otherLabel == label) target = otherStream;
      }
      other->publish->sendData(target, binary, copy);
    }
  });
}

void Room::broadcast(const json& message, const Participant* except) {
  auto text = message.dump();
  for (auto& [identity, p] : participants_) {
    if (p.get() != except && p->send) p->send(text);
  }
}

void Room::sendJson(Participant& p, const json& message) {
  if (p.send) p.send(message.dump());
}

void Room::sendError(Participant& p, const std::string& code, const std::string& message) {
  sendJson(p, {{"type", "error"}, {"code", code}, {"message", message}});
}

}  // namespace meeting::sfu
