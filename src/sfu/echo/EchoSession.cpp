#include "sfu/echo/EchoSession.hpp"

#include <openssl/rand.h>

#include "common/ByteReader.hpp"
#include "common/Log.hpp"
#include "proto/rtcp/Rtcp.hpp"
#include "proto/rtp/Rtx.hpp"
#include "proto/sdp/SdpParser.hpp"
#include "proto/sdp/SdpWriter.hpp"

namespace meeting::sfu {
namespace sdp = proto::sdp;
namespace rtcp = proto::rtcp;
using nlohmann::json;

namespace {

constexpr std::string_view MidExtension = "urn:ietf:params:rtp-hdrext:sdes:mid";
// The SSRC our own RTCP feedback is sent from (RFC 4585 §6.1 needs a sender SSRC; any works).
constexpr uint32_t FeedbackSenderSsrc = 1;
// A publisher is asked for a keyframe at most this often, however many requests arrive.
constexpr auto KeyframeRequestInterval = std::chrono::milliseconds(300);

uint32_t randomSsrc() {
  uint32_t value = 0;
  while (value < 2) RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof(value));
  return value;
}

}  // namespace

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
    for (const auto& extmap : stream.media.extmaps) {
      if (extmap.uri != MidExtension || extmap.id == 0 || extmap.id > 255) continue;
      auto mid = packet.extension(static_cast<uint8_t>(extmap.id));
      if (std::string_view(reinterpret_cast<const char*>(mid.data()), mid.size()) == stream.media.mid) {
        stream.inSsrc = ssrc;
        return &stream;
      }
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
  rtcp::CompoundReader reader(compound);
  rtcp::RtcpPacketView view;
  while (reader.next(view)) {
    if (view.packetType() != rtcp::PacketType::SenderReport || view.packet.size() < 28) continue;
    uint32_t ssrc = (uint32_t{view.packet[4]} << 24) | (uint32_t{view.packet[5]} << 16) |
                    (uint32_t{view.packet[6]} << 8) | view.packet[7];
    Stream* stream = nullptr;
    for (auto& s : streams_) {
      if (s.inSsrc == ssrc && ssrc != 0) stream = &s;
    }
    if (!stream) continue;
    // Timestamps pass through unchanged, so the sender's NTP/RTP pair stays valid for lip sync
    // (RFC 3550 §6.4.1); only the SSRC changes and the report blocks (about the sender's own
    // reception) are dropped.
    std::array<uint8_t, 28 + WebRtcTransport::SrtpHeadroom> sr{};
    std::copy(view.packet.begin(), view.packet.begin() + 28, sr.begin());
    sr[0] = 0x80;  // V=2, no padding, RC=0
    sr[2] = 0;
    sr[3] = 6;
    ByteWriter writer(std::span<uint8_t>(sr.data() + 4, 4));
    writer.writeU32(stream->outSsrc);
    subscribe_->sendRtcp(sr, 28);
  }
}

void EchoSession::onSubscriberRtcp(std::span<const uint8_t> compound) {
  rtcp::CompoundReader reader(compound);
  rtcp::RtcpPacketView view;
  while (reader.next(view)) {
    if (view.is(rtcp::PacketType::PayloadFeedback, rtcp::psfb::Pli)) {
      if (auto pli = rtcp::Pli::parse(view)) {
        if (auto* stream = streamByOutSsrc(pli->mediaSsrc())) requestKeyframe(*stream, false);
      }
    } else if (view.is(rtcp::PacketType::PayloadFeedback, rtcp::psfb::Fir)) {
      if (auto fir = rtcp::Fir::parse(view)) {
        for (size_t i = 0; i < fir->entryCount(); ++i) {
          if (auto* stream = streamByOutSsrc(fir->entry(i).ssrc)) requestKeyframe(*stream, false);
        }
      }
    } else if (view.is(rtcp::PacketType::RtpFeedback, rtcp::rtpfb::Nack)) {
      if (auto nack = rtcp::Nack::parse(view)) {
        if (auto* stream = streamByOutSsrc(nack->mediaSsrc())) {
          nack->forEachLost([this, stream](uint16_t sequence) { retransmit(*stream, sequence); });
        }
      }
    }
  }
}

void EchoSession::requestKeyframe(Stream& stream, bool force) {
  if (!publish_ || stream.inSsrc == 0 || stream.media.kind != sdp::MediaKind::Video) return;
  auto now = worker_.loop().clock().now();
  if (!force && now - stream.lastKeyframeRequest < KeyframeRequestInterval) return;
  stream.lastKeyframeRequest = now;
  std::array<uint8_t, rtcp::Pli::Size + WebRtcTransport::SrtpHeadroom> buffer{};
  ByteWriter writer(buffer);
  if (!rtcp::Pli::build(writer, FeedbackSenderSsrc, stream.inSsrc)) return;
  publish_->sendRtcp(buffer, writer.size());
}

void EchoSession::retransmit(Stream& stream, uint16_t sequenceNumber) {
  auto cached = stream.cache->find(sequenceNumber);
  if (cached.empty() || !subscribe_) return;
  std::copy(cached.begin(), cached.end(), scratch_.begin());
  auto original = proto::rtp::RtpPacket::parse(std::span<uint8_t>(scratch_), cached.size());
  if (!original) return;
  if (!stream.media.rtx) {  // no RTX negotiated: resend the packet itself (RFC 4585 allows it)
    subscribe_->sendRtp(scratch_, original->size());
    return;
  }
  proto::rtp::RtxParams params{stream.media.rtx->payloadType, stream.outRtxSsrc, stream.rtxSequence++};
  auto rtx = proto::rtp::buildRtx(*original, params, rtxScratch_);
  if (rtx) subscribe_->sendRtp(rtxScratch_, rtx->size());
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
