#pragma once
// One client PeerConnection's transport (design.md §2): ICE-lite, DTLS 1.2, SRTP/SRTCP and
// SCTP data channels, on the worker's shared UDP and TCP ports. The worker (MediaWorker) routes
// each packet that belongs here to receive(); the transport answers ICE checks, runs the DTLS
// handshake, decrypts media and hands it out through the callbacks, and encrypts what the
// router sends.
//
// Media path: socket -> demux (MediaWorker) -> receive(): STUN -> IceLite; DTLS -> DtlsSession
// (-> SctpAssociation for data channels); SRTP/SRTCP -> SrtpSession (in place) -> onRtp/onRtcp.
//
// Threading: belongs to one worker loop; every method and callback runs there.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/Result.hpp"
#include "net/EventLoop.hpp"
#include "proto/rtp/RtpPacket.hpp"
#include "sfu/CongestionMonitor.hpp"
#include "sfu/DtlsSession.hpp"
#include "sfu/IceLite.hpp"
#include "sfu/SctpAssociation.hpp"
#include "sfu/SrtpSession.hpp"
#include "sfu/TransportCcFeedback.hpp"

namespace meeting::sfu {

/// What the transport needs from the worker that owns the sockets.
class TransportHost {
 public:
  virtual ~TransportHost() = default;
  /// Puts one packet on the wire on `path` (UDP to the remote address, or the TCP connection).
  virtual void sendOnPath(const IcePath& path, std::span<const uint8_t> packet) = 0;
  /// `path` passed an ICE check for `transport`: route its packets there from now on.
  virtual void bindPath(class WebRtcTransport& transport, const IcePath& path) = 0;
  /// Checks naming `ufrag` (ours, after an ICE restart) belong to `transport`.
  virtual void registerUfrag(class WebRtcTransport& transport, const std::string& ufrag) = 0;
};

enum class TransportState : uint8_t {
  New,           ///< waiting for ICE
  Connecting,    ///< ICE done, DTLS handshake running
  Connected,     ///< SRTP keys in place: media flows
  Disconnected,  ///< consent is getting stale (ICE); may recover
  Failed,        ///< ICE consent expired or DTLS failed: the transport is dead
  Closed,        ///< closed by us or by the peer's close_notify
};
std::string_view toString(TransportState state);

/// The parts of the remote description the transport needs.
struct RemoteTransportParameters {
  std::string iceUfrag;
  std::string icePwd;
  std::string fingerprint;  ///< "sha-256 AB:CD:..."
  /// Our DTLS role: the server unless the browser's answer said `a=setup:passive`.
  DtlsRole dtlsRole = DtlsRole::Server;
  bool dataChannels = false;
  uint16_t sctpPort = 5000;
  size_t maxMessageSize = 256 * 1024;
  /// The a=extmap id of transport-wide-cc in the description (0: not negotiated). BUNDLE makes
  /// it one id for the whole transport, used both ways: we read it from received RTP and send
  /// feedback for it, and we number the RTP we send with it.
  uint8_t transportCcId = 0;
};

struct WebRtcTransportCallbacks {
  std::function<void(TransportState)> onState;
  /// A decrypted RTP packet; the buffer may be modified and is valid only during the call.
  std::function<void(proto::rtp::RtpPacket&)> onRtp;
  /// A decrypted compound RTCP packet, valid only during the call.
  std::function<void(std::span<const uint8_t>)> onRtcp;
  std::function<void(uint16_t streamId, const DataChannelParameters&)> onDataChannelOpen;
  std::function<void(uint16_t streamId, bool binary, std::span<const uint8_t>)> onDataChannelMessage;
  std::function<void(uint16_t streamId)> onDataChannelClosed;
};

class WebRtcTransport {
 public:
  /// Room needed after an RTP/RTCP packet for the SRTP tag and SRTCP index of any profile.
  static constexpr size_t SrtpHeadroom = 32;

  WebRtcTransport(uint64_t id, net::EventLoop& loop, TransportHost& host, const DtlsCertificate& certificate,
                  IceCredentials localIce, WebRtcTransportCallbacks callbacks);
  ~WebRtcTransport();
  WebRtcTransport(const WebRtcTransport&) = delete;
  WebRtcTransport& operator=(const WebRtcTransport&) = delete;

  /// From the remote SDP (offer or answer). The DTLS session is created here.
  Result<void> setRemote(const RemoteTransportParameters& remote);

  /// One packet routed here by the worker.
  void receive(std::span<uint8_t> packet, const IcePath& path);

  /// Encrypts the RTP packet in buffer[0, length) in place and sends it; `buffer` must have at
  /// least SrtpHeadroom bytes of room after the packet. False when not connected or on error.
  bool sendRtp(std::span<uint8_t> buffer, size_t length);
  bool sendRtcp(std::span<uint8_t> buffer, size_t length);

  SctpAssociation::SendStatus sendData(uint16_t streamId, bool binary, std::span<const uint8_t> data);

  /// Client-initiated ICE restart (the browser's offer changed its ufrag): new local
  /// credentials (returned for the answer) and the browser's new ufrag. setRemote() calls it.
  const IceCredentials& restartIce(std::string remoteUfrag);

  /// Server-initiated ICE restart for a transport we make the offers for (the subscribe
  /// transport when a participant resumes): new local credentials now, for the next offer
  /// (localIce() returns them too). Checks with the old credentials keep working until the
  /// first check with the new ones succeeds, so media keeps flowing. The answer's new remote
  /// ufrag, given to setRemote(), completes the restart without generating yet another set
  /// (an answer still naming the old remote ufrag answers an earlier offer: still pending).
  /// Called again before that answer, it returns the same pending credentials. Before the
  /// first setRemote() there is nothing to restart: it returns the current credentials.
  const IceCredentials& prepareIceRestart();
  /// True between prepareIceRestart() and the answer's setRemote().
  bool iceRestartPending() const { return localRestartPending_; }

  /// Turns transport-wide congestion control on (id 1..255) or off (0) for this transport;
  /// setRemote() calls it with RemoteTransportParameters::transportCcId. On: every received
  /// RTP packet carrying the extension is recorded and feedback goes back to the sender every
  /// 50-100 ms (TransportCcFeedback); every RTP packet we send gets our own transport-wide
  /// sequence number (CongestionMonitor).
  void setTransportCcId(uint8_t id);
  uint8_t transportCcId() const { return transportCcId_; }

  /// What the remote's REMB and transport-wide feedback said about the path towards it (our
  /// sending direction), with the windowed values as of now; all zero before any feedback.
  CongestionStats congestionStats() const;
  /// Receive-side feedback counters (null while transport-cc is off).
  const TransportCcFeedback* transportCcFeedback() const { return twccFeedback_.get(); }

  /// Sends close_notify and stops; no callbacks after this.
  void close();

  uint64_t id() const { return id_; }
  TransportState state() const { return state_; }
  const IceLite& ice() const { return ice_; }
  const IceCredentials& localIce() const { return ice_.localCredentials(); }
  SrtpProfile srtpProfile() const { return dtls_ ? dtls_->srtpProfile() : SrtpProfile::None; }
  /// The TCP connection (or UDP path) closed under us: forget it.
  void removeConnection(const void* connection) { ice_.removeConnection(connection); }

  struct Stats {
    uint64_t rtpReceived = 0;
    uint64_t rtcpReceived = 0;
    uint64_t rtpSent = 0;
    uint64_t rtcpSent = 0;
    uint64_t srtpErrors = 0;
    uint64_t unknownPathDrops = 0;  // DTLS/SRTP from a path ICE never validated
    uint64_t twccUnnumbered = 0;    // RTP sent without our transport-wide sequence (no room, id taken)
  };
  const Stats& stats() const { return stats_; }

 private:
  void handleStun(std::span<uint8_t> packet, const IcePath& path);
  void handleDtls(std::span<uint8_t> packet);
  void handleSrtp(std::span<uint8_t> packet, bool rtcp);
  void onIceState(IceState state);
  void onDtlsConnected(SrtpProfile profile, std::span<const uint8_t> local, std::span<const uint8_t> remote);
  void startSctp();
  void scheduleDtlsTimer();
  void sendRaw(std::span<const uint8_t> packet);
  void setState(TransportState state);
  void onFeedbackTimer();

  uint64_t id_;
  net::EventLoop& loop_;
  TransportHost& host_;
  const DtlsCertificate& certificate_;
  WebRtcTransportCallbacks callbacks_;
  IceLite ice_;
  RemoteTransportParameters remote_;
  std::unique_ptr<DtlsSession> dtls_;
  std::unique_ptr<SrtpSession> srtpIn_;
  std::unique_ptr<SrtpSession> srtpOut_;
  std::unique_ptr<SctpAssociation> sctp_;
  TransportState state_ = TransportState::New;
  bool dtlsStarted_ = false;
  net::TimerId dtlsTimer_ = 0;
  net::TimerId consentTimer_ = 0;
  net::TimerId feedbackTimer_ = 0;
  bool localRestartPending_ = false;
  uint8_t transportCcId_ = 0;
  std::unique_ptr<TransportCcFeedback> twccFeedback_;  // receive side, while transport-cc is on
  std::unique_ptr<CongestionMonitor> congestion_;      // send side, from the first RTP we send
  Stats stats_;
  std::array<uint8_t, 512> stunResponse_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace meeting::sfu
