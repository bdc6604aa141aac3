#include "sfu/WebRtcTransport.hpp"

#include "common/Log.hpp"
#include "proto/Demux.hpp"
#include "proto/rtp/RtpExtensions.hpp"
#include "proto/stun/StunMessage.hpp"

namespace meeting::sfu {
namespace stun = proto::stun;

namespace {
// The SSRC our transport-wide feedback is sent from (RFC 4585 §6.1 needs one; MediaRelay's
// FeedbackSenderSsrc is the same value, kept apart to avoid including it here).
constexpr uint32_t TwccSenderSsrc = 1;
// The largest SRTP trailer after an RTP packet (AEAD_AES_128_GCM's 16-byte tag): what must stay
// free in the caller's buffer when a transport-wide sequence element is added.
constexpr size_t MaxSrtpRtpTrailer = 16;
// How often the feedback timer looks whether TransportCcFeedback is due (its MinInterval).
constexpr Duration FeedbackPoll = TransportCcFeedback::MinInterval;
}  // namespace

std::string_view toString(TransportState state) {
  switch (state) {
    case TransportState::New: return "new";
    case TransportState::Connecting: return "connecting";
    case TransportState::Connected: return "connected";
    case TransportState::Disconnected: return "disconnected";
    case TransportState::Failed: return "failed";
    case TransportState::Closed: return "closed";
  }
  return "unknown";
}

WebRtcTransport::WebRtcTransport(uint64_t id, net::EventLoop& loop, TransportHost& host,
                                 const DtlsCertificate& certificate, IceCredentials localIce,
                                 WebRtcTransportCallbacks callbacks)
    : id_(id),
      loop_(loop),
      host_(host),
      certificate_(certificate),
      callbacks_(std::move(callbacks)),
      ice_(std::move(localIce), IceLiteConfig{},
           IceLiteCallbacks{[this](const IcePath& path) {
                              MLOG_DEBUG("transport {}: ICE selected a {} path", id_,
                                         path.protocol == IceProtocol::Udp ? "UDP" : "TCP");
                            },
                            [this](IceState state) { onIceState(state); }}) {
  consentTimer_ = loop_.runEvery(std::chrono::seconds(1), [this] { ice_.tick(loop_.clock().now()); });
}

WebRtcTransport::~WebRtcTransport() {
  *alive_ = false;
  if (consentTimer_) loop_.cancel(consentTimer_);
  if (dtlsTimer_) loop_.cancel(dtlsTimer_);
  if (feedbackTimer_) loop_.cancel(feedbackTimer_);
  sctp_.reset();  // its ABORT goes out through the DTLS session, so before that
  dtls_.reset();
}

Result<void> WebRtcTransport::setRemote(const RemoteTransportParameters& remote) {
  if (remote.iceUfrag.empty() || remote.icePwd.empty()) {
    return makeError("invalid_sdp", "the description has no ice-ufrag/ice-pwd");
  }
  if (dtls_) {
    // A renegotiation on a running transport: only a new fingerprint would need a new DTLS
    // session, which browsers never do within one PeerConnection.
    if (remote.fingerprint != remote_.fingerprint) {
      return makeError("invalid_sdp", "the DTLS fingerprint changed during the session");
    }
    if (localRestartPending_) {
      // The answer to our ICE-restart offer: the browser's new ufrag completes it; our new
      // credentials were made by prepareIceRestart() and are in the offer it answers. The same
      // ufrag as before means an answer to an offer made before the restart: still pending.
      if (remote.iceUfrag != remote_.iceUfrag) {
        localRestartPending_ = false;
        ice_.setRemoteUfrag(remote.iceUfrag);
      }
    } else if (remote.iceUfrag != remote_.iceUfrag) {
      restartIce(remote.iceUfrag);  // the browser restarted ICE in its offer
    }
    setTransportCcId(remote.transportCcId);
    bool addSctp = remote.dataChannels && !remote_.dataChannels;
    remote_ = remote;
    if (addSctp && state_ == TransportState::Connected) startSctp();
    return {};
  }
  remote_ = remote;
  ice_.setRemoteUfrag(remote.iceUfrag);
  localRestartPending_ = false;
  setTransportCcId(remote.transportCcId);

  DtlsConfig config;
  config.role = remote.dtlsRole;
  DtlsCallbacks dtlsCallbacks;
  dtlsCallbacks.onSend = [this](std::span<const uint8_t> datagram) { sendRaw(datagram); };
  dtlsCallbacks.onConnected = [this](SrtpProfile profile, std::span<const uint8_t> local,
                                     std::span<const uint8_t> remoteKeying) {
    onDtlsConnected(profile, local, remoteKeying);
  };
  dtlsCallbacks.onApplicationData = [this](std::span<const uint8_t> data) {
    if (sctp_) sctp_->receive(data);
  };
  dtlsCallbacks.onClosed = [this] {
    MLOG_INFO("transport {}: the peer closed DTLS", id_);
    setState(TransportState::Closed);
  };
  dtlsCallbacks.onFailed = [this](std::string_view reason) {
    MLOG_WARN("transport {}: DTLS failed: {}", id_, reason);
    setState(TransportState::Failed);
  };
  auto dtls = DtlsSession::create(certificate_, config, std::move(dtlsCallbacks));
  if (!dtls) return dtls.error();
  dtls_ = std::move(*dtls);
  if (auto r = dtls_->setRemoteFingerprint(remote.fingerprint); !r) return r;
  if (remote.dtlsRole == DtlsRole::Server) {
    dtls_->start(loop_.clock().now());
    dtlsStarted_ = true;
  }
  return {};
}

void WebRtcTransport::receive(std::span<uint8_t> packet, const IcePath& path) {
  if (state_ == TransportState::Closed || state_ == TransportState::Failed) return;
  switch (proto::classifyPacket(packet)) {
    case proto::PacketKind::Stun:
      handleStun(packet, path);
      return;
    case proto::PacketKind::Dtls:
      if (!ice_.isValidPath(path)) break;
      handleDtls(packet);
      return;
    case proto::PacketKind::Rtp:
      if (!ice_.isValidPath(path)) break;
      handleSrtp(packet, false);
      return;
    case proto::PacketKind::Rtcp:
      if (!ice_.isValidPath(path)) break;
      handleSrtp(packet, true);
      return;
    default:
      return;
  }
  ++stats_.unknownPathDrops;
}

void WebRtcTransport::handleStun(std::span<uint8_t> packet, const IcePath& path) {
  auto message = stun::StunMessage::parse(packet);
  if (!message || message->messageClass() != stun::MessageClass::Request) return;
  auto result = ice_.handleRequest(*message, path, loop_.clock().now(), stunResponse_);
  if (result.responseSize > 0) host_.sendOnPath(path, std::span<const uint8_t>(stunResponse_.data(), result.responseSize));
  if (result.outcome != IceLite::Outcome::Success) return;
  host_.bindPath(*this, path);
  if (dtls_ && !dtlsStarted_) {  // we are the DTLS client (the browser answered a=setup:passive)
    dtlsStarted_ = true;
    dtls_->start(loop_.clock().now());
    scheduleDtlsTimer();
  }
}

void WebRtcTransport::handleDtls(std::span<uint8_t> packet) {
  if (!dtls_) return;  // no remote description yet: the browser retransmits
  dtls_->receive(packet, loop_.clock().now());
  scheduleDtlsTimer();
}

void WebRtcTransport::handleSrtp(std::span<uint8_t> packet, bool rtcp) {
  if (!srtpIn_) return;
  size_t length = packet.size();
  if (rtcp) {
    if (srtpIn_->unprotectRtcp(packet.data(), length) != SrtpStatus::Ok) {
      ++stats_.srtpErrors;
      return;
    }
    ++stats_.rtcpReceived;
    // The remote's REMB and transport-wide feedback about what we send; the compound still
    // goes to onRtcp whole.
    if (congestion_) congestion_->onRtcp(std::span<const uint8_t>(packet.data(), length), loop_.clock().now());
    if (callbacks_.onRtcp) callbacks_.onRtcp(std::span<const uint8_t>(packet.data(), length));
    return;
  }
  if (srtpIn_->unprotectRtp(packet.data(), length) != SrtpStatus::Ok) {
    ++stats_.srtpErrors;
    return;
  }
  auto rtp = proto::rtp::RtpPacket::parse(packet, length);
  if (!rtp) return;
  ++stats_.rtpReceived;
  if (twccFeedback_) {
    if (auto sequence = proto::rtp::readTransportSequence(*rtp, transportCcId_)) {
      twccFeedback_->onPacket(*sequence, rtp->ssrc(), loop_.clock().now());
    }
  }
  if (callbacks_.onRtp) callbacks_.onRtp(*rtp);
}

bool WebRtcTransport::sendRtp(std::span<uint8_t> buffer, size_t length) {
  if (!srtpOut_ || (state_ != TransportState::Connected && state_ != TransportState::Disconnected)) return false;
  if (!congestion_) congestion_ = std::make_unique<CongestionMonitor>();
  if (transportCcId_ != 0) {
    // Our own transport-wide numbering: the packet came from another transport with its
    // sender's sequence (or none). Added when absent (Room/EchoSession buffers keep
    // SrtpHeadroom spare bytes); a packet we cannot number still goes out, unnumbered.
    const uint16_t sequence = congestion_->nextSequence();
    if (size_t numbered = writeTransportSequence(buffer, length, transportCcId_, sequence, MaxSrtpRtpTrailer)) {
      length = numbered;
      congestion_->onSend(length, loop_.clock().now());
    } else {
      ++stats_.twccUnnumbered;
    }
  }
  if (srtpOut_->protectRtp(buffer.data(), length, buffer.size()) != SrtpStatus::Ok) {
    ++stats_.srtpErrors;
    return false;
  }
  ++stats_.rtpSent;
  sendRaw(std::span<const uint8_t>(buffer.data(), length));
  return true;
}

bool WebRtcTransport::sendRtcp(std::span<uint8_t> buffer, size_t length) {
  if (!srtpOut_ || (state_ != TransportState::Connected && state_ != TransportState::Disconnected)) return false;
  if (srtpOut_->protectRtcp(buffer.data(), length, buffer.size()) != SrtpStatus::Ok) {
    ++stats_.srtpErrors;
    return false;
  }
  ++stats_.rtcpSent;
  sendRaw(std::span<const uint8_t>(buffer.data(), length));
  return true;
}

SctpAssociation::SendStatus WebRtcTransport::sendData(uint16_t streamId, bool binary, std::span<const uint8_t> data) {
  if (!sctp_) return SctpAssociation::SendStatus::NotOpen;
  return sctp_->sendMessage(streamId, binary, data);
}

const IceCredentials& WebRtcTransport::restartIce(std::string remoteUfrag) {
  remote_.iceUfrag = remoteUfrag;
  localRestartPending_ = false;
  ice_.restart(IceCredentials::generate(), std::move(remoteUfrag));
  host_.registerUfrag(*this, ice_.localCredentials().ufrag);
  return ice_.localCredentials();
}

const IceCredentials& WebRtcTransport::prepareIceRestart() {
  if (!dtls_ || localRestartPending_) return ice_.localCredentials();
  // RFC 8445 §9 / RFC 8839 §4.4.1.1.1: new ufrag and pwd in our offer; the browser's new ufrag
  // is unknown until its answer, so checks with the new ufrag are accepted from any remote
  // ufrag meanwhile (the new ufrag itself is 96 random bits). The old pair keeps working.
  localRestartPending_ = true;
  ice_.restart(IceCredentials::generate(), std::string{});
  host_.registerUfrag(*this, ice_.localCredentials().ufrag);
  return ice_.localCredentials();
}

void WebRtcTransport::setTransportCcId(uint8_t id) {
  if (id == transportCcId_) return;
  transportCcId_ = id;
  if (id == 0) {
    if (feedbackTimer_) loop_.cancel(feedbackTimer_);
    feedbackTimer_ = 0;
    twccFeedback_.reset();
    return;
  }
  if (!twccFeedback_) twccFeedback_ = std::make_unique<TransportCcFeedback>(TwccSenderSsrc);
  if (!feedbackTimer_) feedbackTimer_ = loop_.runEvery(FeedbackPoll, [this] { onFeedbackTimer(); });
}

void WebRtcTransport::onFeedbackTimer() {
  if (!twccFeedback_ || !srtpOut_ || state_ != TransportState::Connected) return;
  const auto now = loop_.clock().now();
  if (!twccFeedback_->due(now)) return;
  twccFeedback_->flush(now, [this](std::span<uint8_t> buffer, size_t length) { sendRtcp(buffer, length); });
}

CongestionStats WebRtcTransport::congestionStats() const {
  if (!congestion_) return {};
  return congestion_->stats(loop_.clock().now());
}

void WebRtcTransport::close() {
  if (state_ == TransportState::Closed) return;
  if (dtlsTimer_) loop_.cancel(dtlsTimer_);
  dtlsTimer_ = 0;
  if (feedbackTimer_) loop_.cancel(feedbackTimer_);
  feedbackTimer_ = 0;
  sctp_.reset();
  if (dtls_) dtls_->close();
  callbacks_ = {};
  state_ = TransportState::Closed;
}

void WebRtcTransport::onIceState(IceState state) {
  switch (state) {
    case IceState::New: break;
    case IceState::Connected:
      setState(srtpOut_ ? TransportState::Connected : TransportState::Connecting);
      break;
    case IceState::Disconnected: setState(TransportState::Disconnected); break;
    case IceState::Failed:
      MLOG_INFO("transport {}: ICE consent expired", id_);
      setState(TransportState::Failed);
      break;
  }
}

void WebRtcTransport::onDtlsConnected(SrtpProfile profile, std::span<const uint8_t> local,
                                      std::span<const uint8_t> remoteKeying) {
  auto in = SrtpSession::create(SrtpSession::Direction::Inbound, profile, remoteKeying);
  auto out = SrtpSession::create(SrtpSession::Direction::Outbound, profile, local);
  if (!in || !out) {
    MLOG_WARN("transport {}: SRTP setup failed: {}", id_, !in ? in.error().message : out.error().message);
    setState(TransportState::Failed);
    return;
  }
  srtpIn_ = std::move(*in);
  srtpOut_ = std::move(*out);
  MLOG_DEBUG("transport {}: DTLS connected, SRTP profile {}", id_, static_cast<int>(profile));
  setState(TransportState::Connected);
  if (remote_.dataChannels) startSctp();
}

void WebRtcTransport::startSctp() {
  if (sctp_) return;
  SctpConfig config;
  config.dtlsRole = dtls_->role();
  config.remotePort = remote_.sctpPort;
  config.maxMessageSize = remote_.maxMessageSize;
  SctpCallbacks cb;
  cb.send = [this](std::span<const uint8_t> packet) {
    if (dtls_) dtls_->send(packet);
  };
  cb.onChannelOpen = [this](uint16_t stream, const DataChannelParameters& params) {
    if (callbacks_.onDataChannelOpen) callbacks_.onDataChannelOpen(stream, params);
  };
  cb.onMessage = [this](uint16_t stream, bool binary, std::span<const uint8_t> data) {
    if (callbacks_.onDataChannelMessage) callbacks_.onDataChannelMessage(stream, binary, data);
  };
  cb.onChannelClosed = [this](uint16_t stream) {
    if (callbacks_.onDataChannelClosed) callbacks_.onDataChannelClosed(stream);
  };
  cb.onClosed = [this](std::string_view reason) { MLOG_DEBUG("transport {}: SCTP closed: {}", id_, reason); };
  auto* loop = &loop_;
  auto sctp = SctpAssociation::create(config, std::move(cb), [loop](std::function<void()> task) { loop->post(std::move(task)); });
  if (!sctp) {
    MLOG_WARN("transport {}: data channels unavailable: {}", id_, sctp.error().message);
    return;
  }
  sctp_ = std::move(*sctp);
  if (auto r = sctp_->connect(); !r) MLOG_WARN("transport {}: SCTP connect: {}", id_, r.error().message);
}

void WebRtcTransport::scheduleDtlsTimer() {
  if (!dtls_) return;
  if (dtlsTimer_) loop_.cancel(dtlsTimer_);
  dtlsTimer_ = 0;
  auto now = loop_.clock().now();
  auto next = dtls_->nextTimeout(now);
  if (!next) return;
  auto delay = *next > now ? *next - now : Duration::zero();
  dtlsTimer_ = loop_.runAfter(delay, [this] {
    dtlsTimer_ = 0;
    if (!dtls_) return;
    dtls_->onTimeout(loop_.clock().now());
    scheduleDtlsTimer();
  });
}

void WebRtcTransport::sendRaw(std::span<const uint8_t> packet) {
  if (state_ == TransportState::Failed) return;  // RFC 7675 §5.1: no consent, no sending
  const IcePath* path = ice_.sendPath();
  if (!path) return;
  host_.sendOnPath(*path, packet);
}

void WebRtcTransport::setState(TransportState state) {
  if (state_ == state || state_ == TransportState::Closed || state_ == TransportState::Failed) return;
  state_ = state;
  if (callbacks_.onState) callbacks_.onState(state);
}

}  // namespace meeting::sfu
