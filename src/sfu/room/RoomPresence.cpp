// Room, continued (split from Room.cpp for size): what the web app shows about the people in a
// room besides their media. Participant metadata (raised hand), reactions, host mute, active
// speakers and connection quality. docs/protocol.md "Rooms" lists the messages.
#include <algorithm>

#include "common/Log.hpp"
#include "proto/rtp/RtpExtensions.hpp"
#include "sfu/room/Room.hpp"

namespace meeting::sfu {
using nlohmann::json;

namespace {

std::string stringField(const json& message, const char* key) {
  auto it = message.find(key);
  return it != message.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

// Well-formed UTF-8 (RFC 3629 §4: no overlong forms, no surrogates, nothing past U+10FFFF)
// without control characters: an emoji travels to every page as text.
bool printableUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<uint8_t>(text[i]);
    if (b < 0x80) {
      if (b < 0x20 || b == 0x7F) return false;
      ++i;
      continue;
    }
    size_t length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
    if (length == 0 || b > 0xF4 || b == 0xC0 || b == 0xC1 || i + length > text.size()) return false;
    uint32_t cp = b & (0xFF >> (length + 1));
    for (size_t k = 1; k < length; ++k) {
      const auto c = static_cast<uint8_t>(text[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t Smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < Smallest[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp >= 0x80 && cp < 0xA0) return false;  // C1 controls
    i += length;
  }
  return true;
}

// Nesting of a JSON value, walked no deeper than `limit` (so the walk itself stays bounded).
bool nestedAtMost(const json& value, int limit) {
  if (!value.is_structured()) return true;
  if (limit == 0) return false;
  for (const auto& item : value) {
    if (!nestedAtMost(item, limit - 1)) return false;
  }
  return true;
}

}  // namespace

void Room::onUpdateMetadata(Participant& p, const json& message) {
  // Serializing and broadcasting recurse through the value: its depth is bounded first.
  static constexpr int MaxMetadataDepth = 8;
  auto it = message.find("metadata");
  if (it == message.end() || !it->is_object() || !nestedAtMost(*it, MaxMetadataDepth) ||
      it->dump().size() > MaxMetadataBytes) {
    return sendError(p, "bad_message",
                     "updateMetadata needs an object \"metadata\" of at most " + std::to_string(MaxMetadataBytes) +
                         " bytes serialized, nested at most " + std::to_string(MaxMetadataDepth) + " deep");
  }
  if (!p.grants.canPublishData) return sendError(p, "forbidden", "this token may not send chat or data");
  p.metadata = *it;
  broadcast({{"type", "participantUpdated"}, {"participant", describe(p)}}, nullptr);
  RoomEvent e;
  e.event = "peer_metadata";
  e.peer = p.identity;
  e.metadata = p.metadata;
  report(std::move(e));
}

void Room::onReaction(Participant& p, const json& message) {
  auto emoji = stringField(message, "emoji");
  if (emoji.empty() || emoji.size() > MaxReactionBytes || !printableUtf8(emoji)) {
    return sendError(p, "bad_message",
                     "reaction needs an \"emoji\" of 1 to " + std::to_string(MaxReactionBytes) + " bytes of UTF-8");
  }
  if (!p.grants.canPublishData) return sendError(p, "forbidden", "this token may not send chat or data");
  if (!p.reactions.allow(worker_.loop().clock().now())) {
    return sendError(p, "rate_limited",
                     "at most " + std::to_string(ReactionsPerSecond) + " reactions a second");
  }
  broadcast({{"type", "reaction"},
             {"from", p.identity},
             {"emoji", emoji},
             {"time", worker_.loop().clock().wallMicros() / 1000}},
            nullptr);
}

void Room::onMuteParticipant(Participant& p, const json& message) {
  auto identity = stringField(message, "identity");
  auto trackId = stringField(message, "trackId");
  if (identity.empty() || trackId.empty()) {
    return sendError(p, "bad_message", "muteParticipant needs a string \"identity\" and \"trackId\"");
  }
  if (!p.grants.roomAdmin) return sendError(p, "forbidden", "muting others needs the roomAdmin grant");
  auto target = participants_.find(identity);
  Track* track = nullptr;
  if (target != participants_.end()) {
    for (auto& [mid, t] : target->second->tracks) {
      if (t->id == trackId) track = t.get();
    }
  }
  if (!track) return sendError(p, "unknown_track", "'" + identity + "' publishes no track '" + trackId + "'");
  if (track->muted) return;  // nothing changes; the others were told when it was muted
  setMuted(*track, true);
  broadcast({{"type", "trackMuted"}, {"identity", identity}, {"trackId", trackId}, {"muted", true}}, nullptr);
  sendJson(*target->second, {{"type", "mutedByHost"}, {"trackId", trackId}, {"by", p.identity}});
  MLOG_INFO("room {}: {} muted {}'s track {}", name_, p.identity, identity, trackId);
}

void Room::setMuted(Track& track, bool muted) {
  if (track.muted == muted) return;
  track.muted = muted;
  track.meter.reset();
  bool resumed = false;
  for (auto* consumer : track.consumers) resumed = applyFlow(*consumer) || resumed;
  if (resumed) requestKeyframe(track, true);  // one request for all its subscribers
}

bool Room::applyFlow(Consumer& consumer) {
  const bool flow = !consumer.paused && consumer.track && !consumer.track->muted;
  if (flow && consumer.rewriter->paused()) {
    consumer.rewriter->resume();
    return true;
  }
  if (!flow && !consumer.rewriter->paused()) consumer.rewriter->pause();
  return false;
}

// Packet path (every original packet of a published stream): no allocation, no lock.
void Room::countReceived(Track& track, uint16_t sequence) {
  // A jump this far is the sender restarting its sequence numbers, not loss (NackGenerator too).
  static constexpr int MaxJump = 1000;
  auto& r = track.received;
  ++r.packets;
  if (r.highest >= 0) {
    const auto delta = static_cast<int16_t>(static_cast<uint16_t>(sequence - static_cast<uint16_t>(r.highest)));
    if (delta > MaxJump || delta < -MaxJump) {
      r.highest = sequence;
      r.highestAtSample = int64_t{sequence} - 1;
      r.packetsAtSample = r.packets - 1;
    } else if (delta > 0) {
      r.highest += delta;
    }
    return;
  }
  r.highest = sequence;
  r.highestAtSample = int64_t{sequence} - 1;
  r.packetsAtSample = r.packets - 1;
}

// Packet path (every forwarded audio packet): RFC 6464 §3, one byte read into the meter.
void Room::meterAudioLevel(Track& track, const proto::rtp::RtpPacket& packet, TimePoint now) {
  if (auto level = proto::rtp::readAudioLevel(packet, track.audioLevelId)) {
    track.meter.onLevel(level->level, level->voiceActivity, now);
  }
}

void Room::startPresenceTimers() {
  if (!speakerTimer_) {
    speakerTimer_ = worker_.loop().runEvery(ActiveSpeakerDetector::Interval, [this] { updateActiveSpeakers(); });
  }
  if (!qualityTimer_) {
    qualityTimer_ = worker_.loop().runEvery(ConnectionQuality::Interval, [this] { updateConnectionQuality(); });
  }
}

namespace {
json speakersMessage(const std::vector<ActiveSpeakerDetector::Speaker>& speakers) {
  json list = json::array();
  for (const auto& s : speakers) list.push_back({{"identity", s.identity}, {"level", s.level}});
  return {{"type", "activeSpeakers"}, {"speakers", list}};
}
}  // namespace

void Room::updateActiveSpeakers() {
  const auto now = worker_.loop().clock().now();
  for (auto& [identity, p] : participants_) {
    double loudest = -1;
    for (auto& [mid, track] : p->tracks) {
      // Only microphones speak: a shared tab's audio is not someone talking.
      if (track->audioLevelId == 0 || track->source != "microphone" || track->muted) continue;
      if (track->meter.evaluate(now)) loudest = std::max(loudest, track->meter.level());
    }
    if (loudest >= 0) speakers_.add(identity, loudest);
  }
  if (auto changed = speakers_.finish()) broadcast(speakersMessage(*changed), nullptr);
}

std::optional<QualitySample> Room::sampleQuality(Participant& p) {
  QualitySample sample;
  if (!p.connected) {
    sample.lost = true;
    return sample;
  }
  auto judged = [](const WebRtcTransport* t) {
    return t && t->state() != TransportState::New && t->state() != TransportState::Connecting;
  };
  // Closed is not lost: the client ended that PeerConnection on purpose (close_notify).
  auto broken = [](const WebRtcTransport* t) {
    return t && (t->state() == TransportState::Disconnected || t->state() == TransportState::Failed);
  };
  // Uplink: received vs expected over the interval, summed over the published streams.
  uint64_t expected = 0;
  uint64_t received = 0;
  bool sending = false;
  for (auto& [mid, track] : p.tracks) {
    auto& r = track->received;
    sending = sending || !track->muted;
    if (r.highest < 0) continue;
    const int64_t e = r.highest - r.highestAtSample;
    const uint64_t got = r.packets - r.packetsAtSample;
    r.highestAtSample = r.highest;
    r.packetsAtSample = r.packets;
    if (e <= 0) continue;
    expected += static_cast<uint64_t>(e);
    received += std::min<uint64_t>(got, static_cast<uint64_t>(e));  // duplicates are not negative loss
  }
  if (expected >= ConnectionQuality::MinPacketsForLoss) {
    sample.uplinkLoss = 1.0 - static_cast<double>(received) / static_cast<double>(expected);
  }
  // Silence where packets must come: an unmuted track's publisher sends continuously (audio
  // every 20 ms, video even when still) once it has started; a subscriber we send media to
  // answers with transport-cc feedback (~100 ms) and receiver reports (1-5 s).
  if (p.publish && p.publish->state() == TransportState::Connected) {
    const auto rtp = p.publish->stats().rtpReceived;
    p.publishSilentSamples = sending && rtp > 0 && rtp == p.publishRtpSeen ? p.publishSilentSamples + 1 : 0;
    p.publishRtpSeen = rtp;
  }
  if (p.subscribe && p.subscribe->state() == TransportState::Connected) {
    const auto& stats = p.subscribe->stats();
    const bool fed = stats.rtpSent != p.subscribeRtpSentSeen;
    p.subscribeSilentSamples = fed && stats.rtcpReceived == p.subscribeRtcpSeen ? p.subscribeSilentSamples + 1 : 0;
    p.subscribeRtpSentSeen = stats.rtpSent;
    p.subscribeRtcpSeen = stats.rtcpReceived;
    const auto congestion = p.subscribe->congestionStats();
    const uint64_t reported = congestion.packetsReportedReceived + congestion.packetsReportedLost;
    if (reported - p.subscribeReportedSeen >= ConnectionQuality::MinPacketsForLoss) {
      sample.downlinkLoss = congestion.lossFraction;
    }
    p.subscribeReportedSeen = reported;
    if (congestion.feedbackRttUs >= 0) {
      sample.rtt = std::chrono::milliseconds(congestion.feedbackRttUs / 1000);
    }
  }
  // ICE consent stale or failed, or silence: two samples in a row (2 to 4 s) from a publisher,
  // three (4 to 6 s: Chrome's audio-only receiver reports come every 5 s) from a subscriber.
  if (broken(p.publish) || broken(p.subscribe) || p.publishSilentSamples >= 2 || p.subscribeSilentSamples >= 3) {
    sample.lost = true;
    return sample;
  }
  // Media not set up yet: nothing to judge (but a participant back from `lost` is not left there).
  if (!judged(p.publish) && !judged(p.subscribe)) {
    if (p.quality.current().quality == Quality::Lost) return QualitySample{};
    return std::nullopt;
  }
  return sample;
}

void Room::updateConnectionQuality() {
  json updates = json::array();
  for (auto& [identity, p] : participants_) {
    auto sample = sampleQuality(*p);
    if (!sample) continue;
    const auto before = p->quality.current().quality;
    const auto after = p->quality.update(*sample);
    if (after.quality == before) continue;
    updates.push_back({{"identity", identity}, {"quality", std::string(toString(after.quality))}, {"score", after.score}});
  }
  if (!updates.empty()) broadcast({{"type", "connectionQuality"}, {"updates", updates}}, nullptr);
}

void Room::sendPresence(Participant& p) {
  if (!speakers_.current().empty()) sendJson(p, speakersMessage(speakers_.current()));
  json qualities = json::array();
  for (const auto& [identity, other] : participants_) {
    const auto& q = other->quality.current();
    if (q.quality == Quality::Excellent) continue;  // what a client assumes without being told
    qualities.push_back({{"identity", identity}, {"quality", std::string(toString(q.quality))}, {"score", q.score}});
  }
  if (!qualities.empty()) sendJson(p, {{"type", "connectionQuality"}, {"updates", qualities}});
}

}  // namespace meeting::sfu
