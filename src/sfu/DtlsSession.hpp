#pragma once
// DTLS 1.2 for one WebRTC transport (RFC 8827 §6.5, RFC 5764 DTLS-SRTP) as a pure object: bytes in
// through receive(), bytes out through callbacks; no socket, no clock of its own.
//
// I/O goes through a pair of BIO_s_mem (never a custom BIO: on Debian's kTLS-enabled OpenSSL 3.0 a
// BIO answering 1 to every ctrl crashes, design.md §2). Records OpenSSL writes are grouped into
// datagrams of at most `mtu` bytes before onSend.
//
// Timers: OpenSSL 3.0 runs the DTLS retransmission timer on the wall clock internally, so
// nextTimeout(now) maps OpenSSL's remaining time onto the caller's timeline and onTimeout(now)
// asks OpenSSL to retransmit if its timer has expired. The duration schedule (initial, doubling,
// cap) is ours, through DTLS_set_timer_cb.
//
// Threading: single-threaded; every method and callback runs on the owning loop. Callbacks are
// invoked outside OpenSSL calls, but must not feed this same session synchronously (post instead).
#include <openssl/types.h>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/Clock.hpp"
#include "common/Result.hpp"
#include "sfu/DtlsCertificate.hpp"
#include "sfu/SrtpProfile.hpp"

namespace meeting::sfu {

enum class DtlsRole : uint8_t { Client, Server };
enum class DtlsState : uint8_t { New, Connecting, Connected, Closed, Failed };

struct DtlsConfig {
  /// The SFU answers as `a=setup:passive`, i.e. the DTLS server (RFC 5763 §5).
  DtlsRole role = DtlsRole::Server;
  /// Offered (client) or accepted (server) in this order of preference; GCM first (design.md §2).
  std::vector<SrtpProfile> srtpProfiles{SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80};
  /// Largest datagram handed to onSend; no path MTU discovery.
  size_t mtu = 1200;
  /// First retransmission timeout, doubled on each expiry up to maxRetransmitTimeout
  /// (RFC 6347 §4.2.4.1 recommends 1 s and a 60 s ceiling).
  Duration initialRetransmitTimeout = std::chrono::seconds(1);
  Duration maxRetransmitTimeout = std::chrono::seconds(60);
};

struct DtlsCallbacks {
  /// One datagram (one or more DTLS records) to put on the wire.
  std::function<void(std::span<const uint8_t>)> onSend;
  /// Handshake done and the peer's fingerprint verified. Keying material is master key followed
  /// by master salt for each direction (RFC 5764 §4.2), ready for SrtpSession.
  std::function<void(SrtpProfile, std::span<const uint8_t> localKeying, std::span<const uint8_t> remoteKeying)>
      onConnected;
  /// Decrypted application data (SCTP packets for the data channels).
  std::function<void(std::span<const uint8_t>)> onApplicationData;
  /// The peer sent close_notify.
  std::function<void()> onClosed;
  /// Handshake or record failure, fingerprint mismatch, fatal alert or timeout.
  std::function<void(std::string_view reason)> onFailed;
};

class DtlsSession final : private DtlsPeerVerifier {
 public:
  /// Largest datagram accepted by receive(): a full 16 KiB record plus header and expansion.
  static constexpr size_t MaxDatagramSize = 16384 + 2048;

  /// The certificate must outlive the session.
  static Result<std::unique_ptr<DtlsSession>> create(const DtlsCertificate& certificate, DtlsConfig config,
                                                     DtlsCallbacks callbacks);
  ~DtlsSession() override;
  DtlsSession(const DtlsSession&) = delete;
  DtlsSession& operator=(const DtlsSession&) = delete;

  /// RFC 7983 §7: a first byte in 20..63 means DTLS.
  static bool looksLikeDtls(std::span<const uint8_t> datagram) {
    return !datagram.empty() && datagram[0] >= 20 && datagram[0] <= 63;
  }

  /// The remote SDP's `a=fingerprint` value ("sha-256 AB:..."). May come before or after the
  /// handshake; the session reports connected only once the peer certificate matches it.
  Result<void> setRemoteFingerprint(std::string_view sdpValue);

  /// Starts the handshake: the client sends its ClientHello, the server waits for one.
  void start(TimePoint now);
  /// One received datagram. Oversized or late (closed/failed) input is dropped.
  void receive(std::span<const uint8_t> datagram, TimePoint now);
  /// When onTimeout() should next be called, or nothing when no retransmission is pending.
  std::optional<TimePoint> nextTimeout(TimePoint now) const;
  /// Retransmits the last flight if its timer expired; fails the session after too many tries.
  void onTimeout(TimePoint now);

  /// Encrypts and sends application data (one record); false unless connected or too large.
  bool send(std::span<const uint8_t> data);
  /// Sends close_notify and moves to Closed (no onClosed callback for a local close).
  void close();

  DtlsState state() const { return state_; }
  DtlsRole role() const { return config_.role; }
  SrtpProfile srtpProfile() const { return profile_; }
  /// Largest application payload that still fits one datagram of `mtu` bytes (when connected).
  size_t maxApplicationDataSize() const;
  /// Datagrams dropped for size or for arriving after close/failure.
  uint64_t droppedDatagrams() const { return dropped_; }

 private:
  DtlsSession(DtlsConfig config, DtlsCallbacks callbacks);
  Result<void> init(const DtlsCertificate& certificate);
  bool verifyPeerCertificate(X509* peerCertificate) override;
  void continueHandshake();
  void onHandshakeDone();
  bool peerMatchesFingerprint(X509* cert) const;
  void connect();
  void readApplicationData();
  void flush();
  void fail(std::string reason);
  std::string sslErrorText(const char* what);
  static unsigned int timerCallback(SSL* ssl, unsigned int previousUs);
  static long writeObserver(BIO* bio, int oper, const char* argp, size_t len, int argi, long argl,
                            int ret, size_t* processed);

  DtlsConfig config_;
  DtlsCallbacks callbacks_;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // owned by ssl_
  BIO* wbio_ = nullptr;  // owned by ssl_
  DtlsState state_ = DtlsState::New;
  SrtpProfile profile_ = SrtpProfile::None;
  std::optional<DtlsFingerprint> remoteFingerprint_;
  bool awaitingFingerprint_ = false;
  bool verifyFailed_ = false;
  bool flushing_ = false;
  uint64_t dropped_ = 0;
  std::vector<size_t> recordSizes_;  // sizes of records written to wbio_, in order
  std::vector<size_t> sizesScratch_;
  std::vector<uint8_t> outgoing_;
  std::array<uint8_t, 16384> readBuffer_{};
};

}  // namespace meeting::sfu
