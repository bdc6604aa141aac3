#include "sfu/echo/EchoSession.hpp"

#include "common/Log.hpp"
#include "sfu/MediaRelay.hpp"
#include "proto/sdp/SdpParser.hpp"
#include "proto/sdp/SdpWriter.hpp"

namespace meeting::sfu {
namespace sdp = proto::sdp;
using nlohmann::json;


EchoSession::EchoSession(MediaWorker& worker, SendText send) : worker_(worker), send_(std::move(send)) {}

EchoSession::~EchoSession() {
  *alive_ = false;
  if (publish_) worker_.destroyTransport(publish_->id());
  if (subscribe_) worker_.destroyTransport(subscribe_->id());
}

void EchoSession::handleMessage(const std::string& text) {
  auto message = json::parse(text, nullptr, false);
  if (message.is_discarded() || !message.is_object() || !message.contains("type") || !message["type"].is_string()) {
    sendError("bad_message", "expected a JSON object with a string \"type\"");
    return;
  }
  const auto type = message["type"].get<std::string>();
  auto sdpText = [&message]() -> std::optional<std::string> {
    if (!message.contains("sdp") || !message["sdp"].is_string()) return std::nullopt;
    return message["sdp"].get<std::string>();
  };
  if (type == "publish") {
    auto offer = sdpText();
    if (!offer) return sendError("bad_message", "publish needs a string \"sdp\"");
    onPublishOffer(*offer);
  } else if (type == "subscribeAnswer") {
    auto answer = sdpText();
    if (!answer) return sendError("bad_message", "subscribeAnswer needs a string \"sdp\"");
    onSubscribeAnswer(*answer);
  } else if (type == "ping") {
    sendJson({{"type", "pong"}});
  } else {
    sendError("unknown_type", "unknown message type '" + type + "'");
  }
}

LocalTransportDescription EchoSession::describe(const WebRtcTransport& transport) const {
  return {transport.localIce(), worker_.fingerprint(), worker_.localCandidates()};
}

void EchoSession::onPublishOffer(const std::string& sdpText) {
  auto offer = sdp::parse(sdpText);
  if (!offer) return sendError("invalid_sdp", offer.error().message);
  if (!publish_) {
    WebRtcTransportCallbacks callbacks;
    callbacks.onState = [this](TransportState state) { reportState("publish", state); };
    callbacks.onRtp = [this](proto::rtp::RtpPacket& packet) { onPublishedRtp(packet); };
    callbacks.onRtcp = [this](std::span<const uint8_t> compound) { onPublishedRtcp(compound); };
    callbacks.onDataChannelMessage = [this](uint16_t stream, bool binary, std::span<const uint8_t> data) {
      onDataMessage(stream, binary, data);
    };
    publish_ = &worker_.createTransport(std::move(callbacks));
  }
  auto params = remoteTransportParameters(*offer, false);
  if (!params) return sendError("invalid_sdp", params.error().message);
  if (auto r = publish_->setRemote(*params); !r) return sendError("invalid_sdp", r.error().message);
  auto answer = answerPublishOffer(*offer, describe(*publish_), AnswerOptions{});
  if (!answer) return sendError("invalid_sdp", answer.error().message);
  publishDataChannel_ = answer->remote.dataChannels;
  sendJson({{"type", "publishAnswer"}, {"sdp", sdp::serialize(answer->answer)}});

  if (subscribeOffered_) return;  // a renegotiation (e.g. ICE restart) keeps the echo streams
  for (auto& media : answer->media) {
    Stream stream;
    stream.media = media;
    if (!media.ssrcs.empty()) stream.inSsrc = media.ssrcs.front().ssrc;
    stream.outSsrc = randomSsrc();
    if (media.rtx) stream.outRtxSsrc = randomSsrc();
    stream.cache = std::make_unique<PacketCache>(media.kind == sdp::MediaKind::Video ? 512 : 64);
    streams_.push_back(std::move(stream));
  }
  if (!streams_.empty()) sendSubscribeOffer();
}

void EchoSession::sendSubscribeOffer() {
  if (!subscribe_) {
    WebRtcTransportCallbacks callbacks;
    callbacks.onState = [this](TransportState state) {
      reportState("subscribe", state);
      if (state == TransportState::Connected) {
        for (auto& stream : streams_) requestKeyframe(stream, true);  // the first frame must be a keyframe
      }
    };
    callbacks.onRtcp = [this](std::span<const uint8_t> compound) { onSubscriberRtcp(compound); };
    subscribe_ = &worker_.createTransport(std::move(callbacks));
  }
  std::vector<SentMedia> media;
  for (size_t i = 0; i < streams_.size(); ++i) {
    const auto& stream = streams_[i];
    SentMedia sent;
    sent.mid = std::to_string(i);
    sent.kind = stream.media.kind;
    sent.codec = stream.media.codec;
    sent.rtx = stream.media.rtx;
    // mid/rid name the publisher's sections; the echo PeerConnection demultiplexes by SSRC.
    for (const auto& extmap : stream.media.extmaps) {
      if (extmap.uri.find(":sdes:") == std::string::npos) sent.extmaps.push_back(extmap);
    }
    sent.ssrc = stream.outSsrc;
    sent.rtxSsrc = stream.outRtxSsrc;
    sent.cname = "echo";
    sent.streamId = "echo";
    sent.trackId = "echo-" + sent.mid;
    media.push_back(std::move(sent));
  }
  auto offer = makeSubscribeOffer(describe(*subscribe_), media, false, ++subscribeVersion_);
  subscribeOffered_ = true;
  sendJson({{"type", "subscribeOffer"}, {"sdp", sdp::serialize(offer)}});
}

void EchoSession::onSubscribeAnswer(const std::string& sdpText) {
  if (!subscribe_) return sendError("unexpected", "no subscribe offer is outstanding");
  auto answer = sdp::parse(sdpText);
  if (!answer) return sendError("invalid_sdp", answer.error().message);
  auto params = remoteTransportParameters(*answer, true);
  if (!params) return sendError("invalid_sdp", params.error().message);
  if (auto r = subscribe_->setRemote(*params); !r) sendError("invalid_sdp", r.error().message);
}

EchoSession::Stream* EchoSession::streamForPacket(const proto::rtp::RtpPacket& packet) {
  uint32_t ssrc = packet.ssrc();
  for (auto& stream : streams_) {
    if (stream.inSsrc == ssrc) return stream.media.codec.payloadType == packet.payloadType() ? &stream : nullptr;
  }
  // No a=ssrc in the offer (simulcast by rid, or Firefox): the mid header extension says
  // which section a new SSRC belongs to (RFC 8843 §15).
  for (auto& stream : streams_) {
    if (stream.inSsrc != 0 || stream.media.codec.payloadType != packet.payloadType()) continue;
    if (carriesMid(packet, stream.media.extmaps, stream.media.mid)) {
      stream.inSsrc = ssrc;
      return &stream;
    }
  }
  return nullptr;
}

EchoSession::Stream* EchoSession::streamByOutSsrc(uint32_t ssrc) {
  for (auto& stream : streams_) {
    if (stream.outSsrc == ssrc) return &stream;
  }
  return nullptr;
}

void EchoSession::onPublishedRtp(proto::rtp::RtpPacket& packet) {
  Stream* stream = streamForPacket(packet);
  if (!stream || !subscribe_ || packet.size() > PacketCache::MaxPacketSize) return;
  // Rewrite a copy: the received buffer belongs to the socket batch.
  std::copy(packet.data().begin(), packet.data().end(), scratch_.begin());
  auto copy = proto::rtp::RtpPacket::parse(std::span<uint8_t>(scratch_), packet.size());
  if (!copy) return;
  copy->setSsrc(stream->outSsrc);
  stream->cache->store(copy->sequenceNumber(), copy->data());
  subscribe_->sendRtp(scratch_, copy->size());
}

void EchoSession::onPublishedRtcp(std::span<const uint8_t> compound) {
  if (!subscribe_) return;
  forEachSenderReport(compound, [this](uint32_t ssrc, std::span<const uint8_t> report) {
    for (auto& stream : streams_) {
      if (stream.inSsrc == ssrc) forwardSenderReport(report, stream.outSsrc, *subscribe_);
    }
  });
}

void EchoSession::onSubscriberRtcp(std::span<const uint8_t> compound) {
  readSubscriberFeedback(
      compound,
      [this](uint32_t ssrc) {
        if (auto* stream = streamByOutSsrc(ssrc)) requestKeyframe(*stream, false);
      },
      [this](uint32_t ssrc, uint16_t sequence) {
        if (auto* stream = streamByOutSsrc(ssrc)) retransmit(*stream, sequence);
      });
}

void EchoSession::requestKeyframe(Stream& stream, bool force) {
  if (!publish_ || stream.inSsrc == 0 || stream.media.kind != sdp::MediaKind::Video) return;
  if (!stream.keyframes.allow(worker_.loop().clock().now(), force)) return;
  sendKeyframeRequest(*publish_, stream.inSsrc);
}

void EchoSession::retransmit(Stream& stream, uint16_t sequenceNumber) {
  if (!subscribe_) return;
  RtxStream rtx;
  if (stream.media.rtx) rtx = RtxStream{stream.media.rtx->payloadType, stream.outRtxSsrc, &stream.rtxSequence};
  retransmitFromCache(*stream.cache, sequenceNumber, stream.media.rtx ? &rtx : nullptr, *subscribe_, scratch_, rtxScratch_);
}

void EchoSession::onDataMessage(uint16_t streamId, bool binary, std::span<const uint8_t> data) {
  // Answer outside the SCTP callback: usrsctp is in the middle of delivering.
  std::vector<uint8_t> copy(data.begin(), data.end());
  worker_.loop().post([this, alive = alive_, streamId, binary, copy = std::move(copy)] {
    if (!*alive || !publish_) return;
    auto status = publish_->sendData(streamId, binary, copy);
    if (status != SctpAssociation::SendStatus::Ok) {
      MLOG_DEBUG("echo: data channel echo of {} bytes not sent (status {})", copy.size(), static_cast<int>(status));
    }
  });
}

void EchoSession::reportState(const char* which, TransportState state) {
  sendJson({{"type", "state"}, {"transport", which}, {"state", std::string(toString(state))}});
}

void EchoSession::sendError(const std::string& code, const std::string& message) {
  sendJson({{"type", "error"}, {"code", code}, {"message", message}});
}

void EchoSession::sendJson(const json& message) { send_(message.dump()); }

}  // namespace meeting::sfu
