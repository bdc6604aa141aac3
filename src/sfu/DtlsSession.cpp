#include "sfu/DtlsSession.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>

namespace meeting::sfu {
namespace {

// RFC 5764 §4.2: the exporter label for DTLS-SRTP keys.
constexpr char ExporterLabel[] = "EXTRACTOR-dtls_srtp";
constexpr size_t MaxKeyingBlock = 2 * (16 + 14);

SrtpProfile profileFromId(unsigned long id) {
  if (id == SRTP_AEAD_AES_128_GCM) return SrtpProfile::AeadAes128Gcm;
  if (id == SRTP_AES128_CM_SHA1_80) return SrtpProfile::AesCm128HmacSha1_80;
  return SrtpProfile::None;
}

}  // namespace

DtlsSession::DtlsSession(DtlsConfig config, DtlsCallbacks callbacks)
    : config_(std::move(config)), callbacks_(std::move(callbacks)) {
  recordSizes_.reserve(32);
  sizesScratch_.reserve(32);
  outgoing_.reserve(config_.mtu * 8);
}

Result<std::unique_ptr<DtlsSession>> DtlsSession::create(const DtlsCertificate& certificate, DtlsConfig config,
                                                        DtlsCallbacks callbacks) {
  if (config.mtu < 256 || config.mtu > MaxDatagramSize) return makeError("invalid_field", "dtls mtu");
  std::unique_ptr<DtlsSession> self(new DtlsSession(std::move(config), std::move(callbacks)));
  if (auto r = self->init(certificate); !r) return r.error();
  return self;
}

Result<void> DtlsSession::init(const DtlsCertificate& certificate) {
  ssl_ = SSL_new(certificate.sslContext());
  if (!ssl_) return makeError("dtls", "SSL_new failed");
  // The context's certificate verification callback finds this session through the app data.
  SSL_set_app_data(ssl_, static_cast<DtlsPeerVerifier*>(this));
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  if (!rbio_ || !wbio_) {
    BIO_free(rbio_);
    BIO_free(wbio_);
    rbio_ = wbio_ = nullptr;
    return makeError("dtls", "BIO_new failed");
  }
  // An empty read BIO means "try again later", not end of file.
  BIO_set_mem_eof_return(rbio_, -1);
  BIO_set_mem_eof_return(wbio_, -1);
  // Observe write boundaries: every BIO_write from OpenSSL is one whole DTLS record.
  BIO_set_callback_arg(wbio_, reinterpret_cast<char*>(this));
  BIO_set_callback_ex(wbio_, writeObserver);
  SSL_set_bio(ssl_, rbio_, wbio_);

  std::string profiles;
  for (SrtpProfile p : config_.srtpProfiles) {
    if (p == SrtpProfile::None) continue;
    if (!profiles.empty()) profiles.push_back(':');
    profiles.append(srtpProfileOpenSslName(p));
  }
  // Note the inverted convention: SSL_set_tlsext_use_srtp returns 0 on success.
  if (!profiles.empty() && SSL_set_tlsext_use_srtp(ssl_, profiles.c_str()) != 0)
    return makeError("dtls", "SRTP profiles rejected");
  // Fixed MTU, no queries to the (memory) BIO; OpenSSL's MTU is the record budget per datagram.
  SSL_set_options(ssl_, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu(ssl_, static_cast<long>(config_.mtu));
  DTLS_set_timer_cb(ssl_, timerCallback);
  if (config_.role == DtlsRole::Client)
    SSL_set_connect_state(ssl_);
  else
    SSL_set_accept_state(ssl_);
  return {};
}

DtlsSession::~DtlsSession() { SSL_free(ssl_); }  // frees both BIOs

Result<void> DtlsSession::setRemoteFingerprint(std::string_view sdpValue) {
  auto fp = DtlsFingerprint::parse(sdpValue);
  if (!fp) return fp.error();
  remoteFingerprint_ = std::move(*fp);
  if (awaitingFingerprint_) {
    // The handshake finished before the remote SDP arrived: check now.
    awaitingFingerprint_ = false;
    if (peerMatchesFingerprint(SSL_get0_peer_certificate(ssl_)))
      connect();
    else
      fail("peer certificate does not match the SDP fingerprint");
  }
  return {};
}

void DtlsSession::start(TimePoint) {
  if (state_ != DtlsState::New) return;
  state_ = DtlsState::Connecting;
  if (config_.role == DtlsRole::Client) continueHandshake();
}

void DtlsSession::receive(std::span<const uint8_t> datagram, TimePoint) {
  if (state_ == DtlsState::Closed || state_ == DtlsState::Failed || datagram.empty() ||
      datagram.size() > MaxDatagramSize) {
    ++dropped_;
    return;
  }
  if (state_ == DtlsState::New) state_ = DtlsState::Connecting;
  // Leftovers of a malformed datagram must not merge with this one.
  (void)BIO_reset(rbio_);
  if (BIO_write(rbio_, datagram.data(), static_cast<int>(datagram.size())) != static_cast<int>(datagram.size())) {
    ++dropped_;
    return;
  }
  if (!SSL_is_init_finished(ssl_))
    continueHandshake();
  else if (state_ == DtlsState::Connected)
    readApplicationData();
  else
    flush();  // e.g. finished but waiting for the remote fingerprint
}

void DtlsSession::continueHandshake() {
  ERR_clear_error();  // SSL_get_error reads the thread's error queue
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    flush();
    onHandshakeDone();
    return;
  }
  const int err = SSL_get_error(ssl_, r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    flush();
    return;
  }
  std::string reason = verifyFailed_ ? "peer certificate does not match the SDP fingerprint"
                                     : sslErrorText("handshake failed");
  flush();  // the alert OpenSSL queued, if any
  fail(std::move(reason));
}

void DtlsSession::onHandshakeDone() {
  if (!remoteFingerprint_) {
    awaitingFingerprint_ = true;
    return;
  }
  // Normally verified during the handshake; this catches a fingerprint set mid-handshake.
  if (!peerMatchesFingerprint(SSL_get0_peer_certificate(ssl_))) {
    fail("peer certificate does not match the SDP fingerprint");
    return;
  }
  connect();
}

void DtlsSession::connect() {
  const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl_);
  profile_ = selected ? profileFromId(selected->id) : SrtpProfile::None;
  if (!config_.srtpProfiles.empty() && profile_ == SrtpProfile::None) {
    fail("no common SRTP profile");
    return;
  }
  std::array<uint8_t, MaxKeyingBlock> block{};
  std::array<uint8_t, 30> local{}, remote{};
  const size_t keyLen = srtpMasterKeyLength(profile_), saltLen = srtpMasterSaltLength(profile_);
  const size_t total = profile_ == SrtpProfile::None ? 0 : keyLen + saltLen;
  if (total) {
    if (SSL_export_keying_material(ssl_, block.data(), 2 * total, ExporterLabel, sizeof ExporterLabel - 1,
                                   nullptr, 0, 0) != 1) {
      fail(sslErrorText("exporting SRTP keys failed"));
      return;
    }
    // RFC 5764 §4.2: client key | server key | client salt | server salt.
    const uint8_t* clientKey = block.data();
    const uint8_t* serverKey = clientKey + keyLen;
    const uint8_t* clientSalt = serverKey + keyLen;
    const uint8_t* serverSalt = clientSalt + saltLen;
    const bool client = config_.role == DtlsRole::Client;
    std::copy_n(client ? clientKey : serverKey, keyLen, local.begin());
    std::copy_n(client ? clientSalt : serverSalt, saltLen, local.begin() + static_cast<long>(keyLen));
    std::copy_n(client ? serverKey : clientKey, keyLen, remote.begin());
    std::copy_n(client ? serverSalt : clientSalt, saltLen, remote.begin() + static_cast<long>(keyLen));
  }
  state_ = DtlsState::Connected;
  if (callbacks_.onConnected)
    callbacks_.onConnected(profile_, std::span<const uint8_t>(local.data(), total),
                           std::span<const uint8_t>(remote.data(), total));
  OPENSSL_cleanse(block.data(), block.size());
  OPENSSL_cleanse(local.data(), local.size());
  OPENSSL_cleanse(remote.data(), remote.size());
  // Application data may have arrived in the same datagram as the last handshake message.
  if (state_ == DtlsState::Connected) readApplicationData();
}

void DtlsSession::readApplicationData() {
  while (state_ == DtlsState::Connected) {
    ERR_clear_error();
    const int n = SSL_read(ssl_, readBuffer_.data(), static_cast<int>(readBuffer_.size()));
    if (n > 0) {
      if (callbacks_.onApplicationData)
        callbacks_.onApplicationData(std::span<const uint8_t>(readBuffer_.data(), static_cast<size_t>(n)));
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
    if (err == SSL_ERROR_ZERO_RETURN) {
      // close_notify from the peer (RFC 5246 §7.2.1): answer with ours and report.
      SSL_shutdown(ssl_);
      flush();
      state_ = DtlsState::Closed;
      if (callbacks_.onClosed) callbacks_.onClosed();
      return;
    }
    std::string reason = sslErrorText("record layer failed");
    flush();
    fail(std::move(reason));
    return;
  }
  flush();  // retransmitted handshake answers, alerts
}

std::optional<TimePoint> DtlsSession::nextTimeout(TimePoint now) const {
  if (state_ != DtlsState::Connecting && state_ != DtlsState::Connected) return std::nullopt;
  timeval tv{};
  if (DTLSv1_get_timeout(ssl_, &tv) != 1) return std::nullopt;
  return now + std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
}

void DtlsSession::onTimeout(TimePoint) {
  if (state_ != DtlsState::Connecting && state_ != DtlsState::Connected) return;
  ERR_clear_error();
  if (DTLSv1_handle_timeout(ssl_) < 0) {
    std::string reason = sslErrorText("handshake timed out");
    flush();
    fail(std::move(reason));
    return;
  }
  flush();
}

bool DtlsSession::send(std::span<const uint8_t> data) {
  if (state_ != DtlsState::Connected || data.empty() || data.size() > readBuffer_.size()) return false;
  ERR_clear_error();
  const int n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
  if (n <= 0) {
    std::string reason = sslErrorText("SSL_write failed");
    flush();
    fail(std::move(reason));
    return false;
  }
  flush();
  return true;
}

void DtlsSession::close() {
  if (state_ == DtlsState::Closed || state_ == DtlsState::Failed) return;
  if (state_ == DtlsState::Connected) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // queues close_notify
    flush();
  }
  state_ = DtlsState::Closed;
}

size_t DtlsSession::maxApplicationDataSize() const {
  const size_t mtu = DTLS_get_data_mtu(ssl_);
  return mtu ? mtu : config_.mtu - 80;
}

bool DtlsSession::verifyPeerCertificate(X509* peerCertificate) {
  // Without the remote SDP yet, accept for now; onHandshakeDone waits for the fingerprint.
  if (!remoteFingerprint_) return true;
  if (peerMatchesFingerprint(peerCertificate)) return true;
  verifyFailed_ = true;
  return false;
}

bool DtlsSession::peerMatchesFingerprint(X509* cert) const {
  if (!cert || !remoteFingerprint_) return false;
  const auto actual = DtlsCertificate::digest(cert, remoteFingerprint_->algorithm);
  return !actual.empty() && actual.size() == remoteFingerprint_->digest.size() &&
         CRYPTO_memcmp(actual.data(), remoteFingerprint_->digest.data(), actual.size()) == 0;
}

void DtlsSession::flush() {
  if (flushing_) return;  // an onSend callback re-entered; the outer loop picks the data up
  flushing_ = true;
  for (;;) {
    char* data = nullptr;
    const long pending = BIO_get_mem_data(wbio_, &data);
    if (pending <= 0) break;
    outgoing_.assign(data, data + pending);
    sizesScratch_.clear();
    sizesScratch_.swap(recordSizes_);
    (void)BIO_reset(wbio_);
    // Pack whole records into datagrams of at most mtu bytes (RFC 6347 §4.1.1: several records
    // may share a datagram, none may span two).
    size_t offset = 0, datagram = 0;
    auto emit = [&](size_t end) {
      if (end > datagram && callbacks_.onSend)
        callbacks_.onSend(std::span<const uint8_t>(outgoing_.data() + datagram, end - datagram));
      datagram = end;
    };
    for (size_t size : sizesScratch_) {
      if (offset + size > outgoing_.size()) break;
      if (offset + size - datagram > config_.mtu) emit(offset);
      offset += size;
    }
    emit(outgoing_.size());  // also covers anything the observer did not see
  }
  flushing_ = false;
}

void DtlsSession::fail(std::string reason) {
  if (state_ == DtlsState::Failed || state_ == DtlsState::Closed) return;
  state_ = DtlsState::Failed;
  if (callbacks_.onFailed) callbacks_.onFailed(reason);
}

std::string DtlsSession::sslErrorText(const char* what) {
  std::string text = what;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof buf);
    text += ": ";
    text += buf;
  }
  return text;
}

unsigned int DtlsSession::timerCallback(SSL* ssl, unsigned int previousUs) {
  auto* self = static_cast<DtlsSession*>(static_cast<DtlsPeerVerifier*>(SSL_get_app_data(ssl)));
  const auto initial = static_cast<unsigned long long>(self->config_.initialRetransmitTimeout.count());
  const auto ceiling = static_cast<unsigned long long>(self->config_.maxRetransmitTimeout.count());
  const unsigned long long next = previousUs == 0 ? initial : std::min(2ULL * previousUs, ceiling);
  return static_cast<unsigned int>(std::min<unsigned long long>(next, 0xffffffffULL));
}

long DtlsSession::writeObserver(BIO* bio, int oper, const char*, size_t, int, long, int ret, size_t* processed) {
  if (oper == (BIO_CB_WRITE | BIO_CB_RETURN) && ret > 0 && processed) {
    auto* self = reinterpret_cast<DtlsSession*>(BIO_get_callback_arg(bio));
    self->recordSizes_.push_back(*processed);
  }
  return ret;
}

}  // namespace meeting::sfu
