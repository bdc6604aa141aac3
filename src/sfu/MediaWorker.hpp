#pragma once
// One media worker (design.md §2): a thread with its own event loop, one UDP port and one
// ICE-TCP port shared by all its transports, and the demultiplexer that routes packets to them:
// STUN by the ICE ufrag in USERNAME (new paths), everything else by the remote address (UDP) or
// the connection (TCP) that ICE validated. Rooms live on one worker, so the packet path takes no
// locks; other threads hand work over with loop().post().
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/Result.hpp"
#include "net/EventLoop.hpp"
#include "proto/sdp/SessionDescription.hpp"
#include "sfu/DtlsCertificate.hpp"
#include "sfu/TcpMediaServer.hpp"
#include "sfu/UdpMediaSocket.hpp"
#include "sfu/WebRtcTransport.hpp"

namespace meeting::sfu {

struct AddressHash {
  size_t operator()(const proto::stun::Address& a) const noexcept;
};

struct MediaWorkerOptions {
  size_t index = 0;
  std::string listenIp = "0.0.0.0";  ///< where the UDP and TCP media sockets bind
  uint16_t port = 0;                 ///< UDP and TCP port; 0 picks a free one (the same for both if possible)
  /// Addresses put in candidates. Empty: the listening address, or every local IPv4 address
  /// when listening on a wildcard.
  std::vector<std::string> announcedIps;
};

class MediaWorker final : public TransportHost {
 public:
  /// Starts the thread and opens the sockets on it.
  static Result<std::unique_ptr<MediaWorker>> create(MediaWorkerOptions options);
  ~MediaWorker() override;
  MediaWorker(const MediaWorker&) = delete;
  MediaWorker& operator=(const MediaWorker&) = delete;

  net::EventLoop& loop() { return thread_->loop(); }
  size_t index() const { return options_.index; }
  uint16_t udpPort() const { return udpPort_; }
  uint16_t tcpPort() const { return tcpPort_; }
  const std::string& fingerprint() const { return fingerprint_; }

  // ---- loop thread only ----
  /// A new transport with fresh ICE credentials; it lives until destroyTransport().
  WebRtcTransport& createTransport(WebRtcTransportCallbacks callbacks);
  /// Closes and removes a transport. Never call it from inside the transport's own callbacks
  /// (post it to the loop instead).
  void destroyTransport(uint64_t id);
  WebRtcTransport* findTransport(uint64_t id);
  size_t transportCount() const { return transports_.size(); }
  /// Host candidates for SDP: UDP, then TCP passive (RFC 6544), for each announced address.
  std::vector<proto::sdp::Candidate> localCandidates() const;

  // TransportHost
  void sendOnPath(const IcePath& path, std::span<const uint8_t> packet) override;
  void bindPath(WebRtcTransport& transport, const IcePath& path) override;
  void registerUfrag(WebRtcTransport& transport, const std::string& ufrag) override;

  struct Counters {
    uint64_t unroutedPackets = 0;  // no transport knows the source and no known ufrag
    // Transports that reached Failed: during DTLS/SRTP setup (ICE had succeeded), or in ICE
    // (no check ever succeeded, or consent expired later). Counted on state changes only.
    uint64_t iceFailures = 0;
    uint64_t dtlsFailures = 0;
  };
  const Counters& counters() const { return counters_; }
  const UdpMediaSocket::Stats& udpStats() const { return udp_->stats(); }

 private:
  explicit MediaWorker(MediaWorkerOptions options);
  Result<void> openSockets();
  void onUdpPacket(std::span<uint8_t> packet, const proto::stun::Address& from);
  void onTcpFrame(std::span<uint8_t> packet, TcpMediaConnection& connection);
  void onTcpClosed(TcpMediaConnection& connection);
  WebRtcTransport* transportForStun(std::span<const uint8_t> packet);

  struct Entry {
    std::unique_ptr<WebRtcTransport> transport;
    std::vector<std::string> ufrags;
    std::vector<proto::stun::Address> addresses;
    std::vector<const void*> connections;
  };

  MediaWorkerOptions options_;
  std::unique_ptr<net::EventLoopThread> thread_;
  std::unique_ptr<DtlsCertificate> certificate_;
  std::string fingerprint_;
  std::unique_ptr<UdpMediaSocket> udp_;
  std::unique_ptr<TcpMediaServer> tcp_;
  uint16_t udpPort_ = 0;
  uint16_t tcpPort_ = 0;
  std::vector<std::string> announced_;
  uint64_t nextTransportId_ = 1;
  std::unordered_map<uint64_t, Entry> transports_;
  std::unordered_map<std::string, WebRtcTransport*> byUfrag_;
  std::unordered_map<proto::stun::Address, WebRtcTransport*, AddressHash> byAddress_;
  std::unordered_map<const void*, WebRtcTransport*> byConnection_;
  Counters counters_;
};

}  // namespace meeting::sfu
