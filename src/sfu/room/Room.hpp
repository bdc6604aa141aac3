#pragma once
// A room on one media worker (design.md §2-3): its participants, the tracks they publish and who
// receives what. Every participant has a publish transport (the client offers) and a subscribe
// transport (the server offers, renegotiated as tracks come and go; one offer outstanding at a
// time, later changes folded into the next offer so none is lost). Media from a track's publisher
// goes to one consumer per other participant: SSRC rewritten, cached for NACK/RTX, encrypted with
// the subscriber's SRTP context. The signaling messages are in docs/protocol.md ("Rooms").
//
// Threading: a room and everything in it live on its worker's loop.
#include <array>
#include <chrono>
#include <optional>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/AccessToken.hpp"
#include "sfu/KeyframeRequestLimiter.hpp"
#include "sfu/MediaRelay.hpp"
#include "sfu/MediaWorker.hpp"
#include "sfu/NackGenerator.hpp"
#include "sfu/StreamRewriter.hpp"
#include "sfu/PacketCache.hpp"
#include "sfu/SdpNegotiation.hpp"
#include "sfu/room/ActiveSpeakerDetector.hpp"
#include "sfu/room/AudioLevelMeter.hpp"
#include "sfu/room/ConnectionQuality.hpp"
#include "sfu/room/WindowRateLimiter.hpp"

namespace meeting::sfu {

struct RoomSettings {
  size_t maxPeers = 16;
  VideoCodec videoCodec = VideoCodec::Any;
  /// How long a participant whose signaling connection dropped keeps its place (seed 004
  /// peer_disconnected_timeout); a reconnect within it resumes without a leave/join for others.
  std::chrono::seconds reconnectGrace{15};
  /// Test hook (--test-packet-loss): percent of RTP dropped towards subscribers / from publishers.
  int lossDownlinkPercent = 0;
  int lossUplinkPercent = 0;
};

/// What a room reports to the apiserver (control link events, docs/control.md).
struct RoomEvent {
  std::string event;  // room_started, room_ended, peer_connected, peer_left, track_published, track_unpublished, chat, peer_metadata
  std::string room;
  std::string peer;
  std::string displayName;
  std::string reason;
  std::string text;
  int64_t sentAt = 0;
  std::string trackId;
  std::string trackKind;
  std::string trackSource;
  nlohmann::json metadata;  // peer_metadata: the participant's metadata object
};
/// A room's numbers for the monitoring report and /metrics (read on the worker's loop).
struct RoomStats {
  int64_t createdAt = 0;  ///< unix milliseconds
  size_t peers = 0;
  size_t tracks = 0;
  size_t consumers = 0;
  uint64_t packetsIn = 0;  ///< RTP from publishers
  uint64_t bytesIn = 0;
  uint64_t packetsOut = 0;  ///< RTP forwarded to subscribers (retransmissions not included)
  uint64_t bytesOut = 0;
  uint64_t nacksReceived = 0;     ///< lost packets subscribers asked for
  uint64_t retransmissions = 0;   ///< of those, answered from a cache
  uint64_t nacksSent = 0;         ///< lost packets asked of publishers
  uint64_t keyframeRequests = 0;  ///< PLIs sent to publishers (after merging)
};

/// Called on the worker thread; must be thread-safe towards whoever consumes the events.
using RoomEventSink = std::function<void(RoomEvent)>;

class Room {
 public:
  /// Sends one signaling message to a participant; must be callable from the worker thread.
  using SendText = std::function<void(std::string)>;

  static constexpr size_t MaxChatLength = 2000;
  /// updateMetadata: the metadata object, serialized, at most this long.
  static constexpr size_t MaxMetadataBytes = 1024;
  /// reaction: the emoji, 1 to this many bytes of UTF-8; at most ReactionsPerSecond a second.
  static constexpr size_t MaxReactionBytes = 16;
  static constexpr size_t ReactionsPerSecond = 5;
  /// Data channels one participant may have open (each costs an SCTP stream and a map entry).
  static constexpr size_t MaxDataChannels = 16;
  /// How often lost publisher packets are looked at and NACKed.
  static constexpr auto NackInterval = std::chrono::milliseconds(20);
  /// The round trip to a publisher, for NACK retry spacing. Not measured yet (no RTT estimate
  /// from RTCP XR/RR here); 50 ms retries quickly on a LAN and still only ~20 times a second.
  static constexpr auto PublisherRtt = std::chrono::milliseconds(50);
  static constexpr int ProtocolVersion = 1;

  Room(MediaWorker& worker, std::string name, RoomSettings settings, RoomEventSink events = nullptr);
  ~Room();
  Room(const Room&) = delete;
  Room& operator=(const Room&) = delete;

  /// Adds a participant. Returns an error (room_full ...) without changing anything when it
  /// cannot join. `connection` identifies the signaling connection: messages and a close from an
  /// older connection of the same identity are ignored. When the identity is already here:
  /// with `resume` the new connection takes over its place (transports, tracks, subscriptions;
  /// the others see nothing), otherwise the old one leaves ("replaced") and a new one joins.
  Result<void> join(const token::AccessClaims& claims, uint64_t connection, SendText send, bool resume = false);
  /// Removes a participant (if `connection` is still its current one, or 0): its tracks end for
  /// everyone and the others are told.
  void leave(const std::string& identity, const std::string& reason, uint64_t connection = 0);
  /// The signaling connection of a participant closed without a leave: it keeps its place for
  /// the reconnect grace, then leaves ("timeout").
  void disconnect(const std::string& identity, uint64_t connection);
  /// Called (posted on the loop) when the last participant has gone, so the owner can drop the room.
  void setOnEmpty(std::function<void()> onEmpty) { onEmpty_ = std::move(onEmpty); }
  /// One signaling message from a participant's connection.
  void handleMessage(const std::string& identity, uint64_t connection, const std::string& text);

  const std::string& name() const { return name_; }
  size_t participantCount() const { return participants_.size(); }
  /// The signaling connection of a participant (0 when absent), e.g. to close it on a kick.
  uint64_t connectionOf(const std::string& identity) const;
  /// Every participant's signaling connection.
  std::vector<uint64_t> connections() const;
  /// The room's counters and sizes now (worker loop only).
  RoomStats stats() const;

 private:
  struct Participant;
  struct Track;

  struct Consumer {
    Participant* subscriber = nullptr;
    Track* track = nullptr;  // null once the track ended
    SentMedia section;       // how the subscribe offer describes it (kept after the track ends)
    std::string mid;
    uint32_t ssrc = 0;
    uint32_t rtxSsrc = 0;
    uint16_t rtxSequence = 0;
    bool active = true;
    bool paused = false;       // the subscriber paused it: nothing is sent, the section stays
    bool negotiated = false;   // the subscriber applied an offer with this section: media may flow
    uint64_t offeredIn = 0;    // the subscribe-offer version that first carried it
    std::unique_ptr<PacketCache> cache;  // by the sequence numbers the subscriber sees
    std::unique_ptr<StreamRewriter> rewriter;  // one continuous stream whatever the source does
    uint32_t packetsSent = 0;  // for its sender reports
    uint32_t octetsSent = 0;
  };

  struct Track {
    std::string id;
    Participant* publisher = nullptr;
    ReceivedMedia media;
    std::string source;  // camera, microphone, screen, screen_audio
    bool muted = false;
    uint32_t inSsrc = 0;
    uint32_t inRtxSsrc = 0;  // the publisher's retransmissions (RFC 4588), when it has RTX
    std::optional<VideoCodec> videoCodec;
    std::unique_ptr<NackGenerator> nacks;  // video: asks the publisher for what did not arrive
    KeyframeRequestLimiter keyframes{KeyframeRequestInterval};
    std::vector<Consumer*> consumers;
    // Active speakers: the publisher's RFC 6464 audio level extension id (0: not negotiated)
    // and what the levels said (updated per packet, read every 300 ms).
    uint8_t audioLevelId = 0;
    AudioLevelMeter meter;
    // Connection quality: packets received vs expected (RFC 3550 §6.4.1), originals only.
    struct Received {
      uint64_t packets = 0;
      int64_t highest = -1;  // extended sequence number; -1 before the first packet
      uint64_t packetsAtSample = 0;
      int64_t highestAtSample = 0;
    } received;
  };

  struct Participant {
    std::string identity;
    uint64_t connection = 0;
    std::string displayName;
    token::Grants grants;
    SendText send;
    WebRtcTransport* publish = nullptr;
    WebRtcTransport* subscribe = nullptr;
    std::vector<std::unique_ptr<Consumer>> consumers;  // in subscribe-offer mid order
    std::map<std::string, std::unique_ptr<Track>> tracks;  // published, by mid
    uint32_t nextMid = 0;
    bool offerOutstanding = false;
    bool renegotiate = false;
    uint64_t offerVersion = 0;
    // Data channels the client opened on its publish transport, by SCTP stream: a message is
    // relayed on each receiver's channel of the same label (so "lossy" stays lossy).
    std::map<uint16_t, std::string> dataChannels;
    bool connected = true;      // false while its signaling connection is gone (reconnect grace)
    net::TimerId graceTimer = 0;
    nlohmann::json metadata = nlohmann::json::object();  // set by updateMetadata
    WindowRateLimiter<ReactionsPerSecond> reactions{std::chrono::seconds(1)};
    // Connection quality: the judgement so far and the transport counters at the last sample.
    ConnectionQuality quality;
    uint64_t publishRtpSeen = 0;
    uint64_t subscribeRtcpSeen = 0;
    uint64_t subscribeRtpSentSeen = 0;
    uint64_t subscribeReportedSeen = 0;
    int publishSilentSamples = 0;
    int subscribeSilentSamples = 0;
  };

  void onPublish(Participant& p, const nlohmann::json& message);
  void onSubscribeAnswer(Participant& p, const nlohmann::json& message);
  void onMute(Participant& p, const nlohmann::json& message);
  void onChat(Participant& p, const nlohmann::json& message);
  void onSubscription(Participant& p, const nlohmann::json& message);
  void onPause(Participant& p, const nlohmann::json& message);
  // RoomPresence.cpp: metadata, reactions, host mute, active speakers, connection quality.
  void onUpdateMetadata(Participant& p, const nlohmann::json& message);
  void onReaction(Participant& p, const nlohmann::json& message);
  void onMuteParticipant(Participant& p, const nlohmann::json& message);
  /// Marks a track (un)muted: a muted track is not forwarded and does not speak.
  void setMuted(Track& track, bool muted);
  /// Pauses or resumes a consumer's stream as its subscriber's pause and the track's mute say.
  bool applyFlow(Consumer& consumer);  // true: it resumed (a keyframe is needed)
  void startPresenceTimers();
  void updateActiveSpeakers();
  void updateConnectionQuality();
  std::optional<QualitySample> sampleQuality(Participant& p);
  /// What a joining (or resuming) participant needs to know: speakers and qualities now.
  void sendPresence(Participant& p);
  static void countReceived(Track& track, uint16_t sequence);
  static void meterAudioLevel(Track& track, const proto::rtp::RtpPacket& packet, TimePoint now);
  void resume(Participant& p, uint64_t connection, SendText send);
  Track* findTrack(const std::string& trackId);
  Consumer* findConsumer(Participant& subscriber, const std::string& trackId);
  void endConsumer(Consumer& consumer);
  /// The loss test hook: true when this packet is to be dropped.
  bool dropForTest(int percent);
  void notifyIfEmpty();
  void addTrack(Participant& p, const ReceivedMedia& media, const nlohmann::json& info);
  void removeTrack(Participant& p, const std::string& mid);
  void subscribe(Participant& subscriber, Track& track);
  void offerSubscriptions(Participant& p);
  void onRtp(Participant& p, proto::rtp::RtpPacket& packet);
  void onPublisherRtcp(Participant& p, std::span<const uint8_t> compound);
  void onSubscriberRtcp(Participant& p, std::span<const uint8_t> compound);
  void onData(Participant& p, uint16_t stream, bool binary, std::span<const uint8_t> data);
  void requestKeyframe(Track& track, bool force);
  void retransmit(Consumer& consumer, uint16_t sequenceNumber);
  Track* trackForPacket(Participant& p, const proto::rtp::RtpPacket& packet, bool& retransmission);
  void forward(Track& track, proto::rtp::RtpPacket& packet, TimePoint now);
  void sendNacks();
  void destroyParticipant(Participant& p);
  void broadcast(const nlohmann::json& message, const Participant* except);
  void sendJson(Participant& p, const nlohmann::json& message);
  void sendError(Participant& p, const std::string& code, const std::string& message);
  nlohmann::json describe(const Participant& p) const;
  nlohmann::json describe(const Track& t) const;
  LocalTransportDescription local(const WebRtcTransport& transport) const;

  MediaWorker& worker_;
  std::string name_;
  RoomSettings settings_;
  void report(RoomEvent event);

  RoomEventSink events_;
  RoomStats stats_;
  std::function<void()> onEmpty_;
  uint64_t lossRandom_ = 0x9E3779B97F4A7C15ull;
  net::TimerId nackTimer_ = 0;
  net::TimerId speakerTimer_ = 0;
  net::TimerId qualityTimer_ = 0;
  ActiveSpeakerDetector speakers_;
  std::array<uint16_t, 64> lost_{};
  std::array<uint8_t, 512 + WebRtcTransport::SrtpHeadroom> nackPacket_{};
  std::array<uint8_t, PacketCache::MaxPacketSize + WebRtcTransport::SrtpHeadroom> recovered_{};
  std::map<std::string, std::unique_ptr<Participant>> participants_;
  std::array<uint8_t, PacketCache::MaxPacketSize + WebRtcTransport::SrtpHeadroom> scratch_{};
  std::array<uint8_t, PacketCache::MaxPacketSize + WebRtcTransport::SrtpHeadroom> rtxScratch_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace meeting::sfu
