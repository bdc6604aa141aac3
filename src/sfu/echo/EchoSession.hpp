#pragma once
// The echo diagnostic (like Janus's EchoTest): a page publishes camera, microphone and a data
// channel on one PeerConnection; the server sends every received audio and video stream back on a
// second, server-offered PeerConnection (own SSRCs, own SRTP context) and echoes data-channel
// messages. Keyframe requests from the receiving side are passed to the sender; NACKs are
// answered from a packet cache with RTX. See docs/protocol.md ("Echo") for the messages.
//
// Threading: lives on one MediaWorker's loop; handleMessage() is posted there by the WebSocket.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sfu/KeyframeRequestLimiter.hpp"
#include "sfu/MediaRelay.hpp"
#include "sfu/MediaWorker.hpp"
#include "sfu/PacketCache.hpp"
#include "sfu/SdpNegotiation.hpp"

namespace meeting::sfu {

class EchoSession {
 public:
  /// Sends a text message to the page; must be callable from the worker thread.
  using SendText = std::function<void(std::string)>;

  EchoSession(MediaWorker& worker, SendText send);
  ~EchoSession();
  EchoSession(const EchoSession&) = delete;
  EchoSession& operator=(const EchoSession&) = delete;

  /// One signaling message from the page (JSON text).
  void handleMessage(const std::string& text);

 private:
  struct Stream {
    ReceivedMedia media;
    uint32_t inSsrc = 0;       // learned from SDP or from the first packet carrying the mid
    uint32_t outSsrc = 0;
    uint32_t outRtxSsrc = 0;
    uint16_t rtxSequence = 0;
    std::unique_ptr<PacketCache> cache;
    KeyframeRequestLimiter keyframes{KeyframeRequestInterval};
  };

  void onPublishOffer(const std::string& sdp);
  void onSubscribeAnswer(const std::string& sdp);
  void sendSubscribeOffer();
  void onPublishedRtp(proto::rtp::RtpPacket& packet);
  void onPublishedRtcp(std::span<const uint8_t> compound);
  void onSubscriberRtcp(std::span<const uint8_t> compound);
  void onDataMessage(uint16_t streamId, bool binary, std::span<const uint8_t> data);
  void requestKeyframe(Stream& stream, bool force);
  void retransmit(Stream& stream, uint16_t sequenceNumber);
  Stream* streamForPacket(const proto::rtp::RtpPacket& packet);
  Stream* streamByOutSsrc(uint32_t ssrc);
  void reportState(const char* which, TransportState state);
  void sendError(const std::string& code, const std::string& message);
  void sendJson(const nlohmann::json& message);
  LocalTransportDescription describe(const WebRtcTransport& transport) const;

  MediaWorker& worker_;
  SendText send_;
  WebRtcTransport* publish_ = nullptr;
  WebRtcTransport* subscribe_ = nullptr;
  bool publishDataChannel_ = false;
  bool subscribeOffered_ = false;
  uint64_t subscribeVersion_ = 0;
  std::vector<Stream> streams_;
  std::array<uint8_t, PacketCache::MaxPacketSize + WebRtcTransport::SrtpHeadroom> scratch_{};
  std::array<uint8_t, PacketCache::MaxPacketSize + WebRtcTransport::SrtpHeadroom> rtxScratch_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace meeting::sfu
