#include "sfu/SrtpSession.hpp"

#include <arpa/inet.h>
#include <srtp2/srtp.h>

#include <climits>
#include <cstring>
#include <mutex>

namespace meeting::sfu {
namespace {

constexpr size_t RtpHeaderMin = 12;   // RFC 3550 §5.1
constexpr size_t RtcpHeaderMin = 8;   // RFC 3550 §6.4.1 (SR/RR header with SSRC)
constexpr size_t MaxPacket = INT_MAX / 2;

bool initLibrary() {
  // srtp_init() is process-wide and not idempotent under concurrency: run it exactly once.
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = srtp_init() == srtp_err_status_ok; });
  return ok;
}

SrtpStatus mapStatus(srtp_err_status_t s) {
  switch (s) {
    case srtp_err_status_ok: return SrtpStatus::Ok;
    case srtp_err_status_auth_fail: return SrtpStatus::AuthFail;
    case srtp_err_status_replay_fail: return SrtpStatus::ReplayFail;
    case srtp_err_status_replay_old: return SrtpStatus::ReplayOld;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err: return SrtpStatus::BadPacket;
    default: return SrtpStatus::Error;
  }
}

}  // namespace

std::string_view toString(SrtpStatus status) {
  switch (status) {
    case SrtpStatus::Ok: return "ok";
    case SrtpStatus::AuthFail: return "auth_fail";
    case SrtpStatus::ReplayFail: return "replay_fail";
    case SrtpStatus::ReplayOld: return "replay_old";
    case SrtpStatus::BufferTooSmall: return "buffer_too_small";
    case SrtpStatus::BadPacket: return "bad_packet";
    case SrtpStatus::WrongDirection: return "wrong_direction";
    case SrtpStatus::Error: return "error";
  }
  return "error";
}

Result<std::unique_ptr<SrtpSession>> SrtpSession::create(Direction direction, SrtpProfile profile,
                                                        std::span<const uint8_t> keying) {
  if (profile == SrtpProfile::None) return makeError("invalid_field", "no SRTP profile");
  if (keying.size() != srtpKeyingLength(profile)) return makeError("invalid_field", "SRTP keying length");
  if (!initLibrary()) return makeError("srtp", "srtp_init failed");

  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof policy);
  if (profile == SrtpProfile::AeadAes128Gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  }
  policy.ssrc.type = direction == Direction::Inbound ? ssrc_any_inbound : ssrc_any_outbound;
  policy.ssrc.value = 0;
  // libsrtp2 copies the key while creating the session; it does not keep this pointer.
  uint8_t key[SRTP_MAX_KEY_LEN];
  std::memcpy(key, keying.data(), keying.size());
  policy.key = key;
  policy.window_size = ReplayWindow;
  // The SFU may legitimately send the same packet again (NACK answered from the cache).
  policy.allow_repeat_tx = 1;
  policy.next = nullptr;

  std::unique_ptr<SrtpSession> self(new SrtpSession(direction, profile));
  srtp_t session = nullptr;
  const srtp_err_status_t status = srtp_create(&session, &policy);
  std::memset(key, 0, sizeof key);
  if (status != srtp_err_status_ok) return makeError("srtp", "srtp_create failed: " + std::to_string(status));
  self->session_ = session;
  return self;
}

SrtpSession::~SrtpSession() {
  if (session_) srtp_dealloc(session_);
}

SrtpStatus SrtpSession::protectRtp(uint8_t* buffer, size_t& len, size_t capacity) {
  if (direction_ != Direction::Outbound) return SrtpStatus::WrongDirection;
  if (!buffer || len < RtpHeaderMin || len > MaxPacket) return SrtpStatus::BadPacket;
  if (capacity < len + rtpOverhead()) return SrtpStatus::BufferTooSmall;
  int n = static_cast<int>(len);
  const SrtpStatus s = mapStatus(srtp_protect(session_, buffer, &n));
  if (s == SrtpStatus::Ok) len = static_cast<size_t>(n);
  return s;
}

SrtpStatus SrtpSession::unprotectRtp(uint8_t* buffer, size_t& len) {
  if (direction_ != Direction::Inbound) return SrtpStatus::WrongDirection;
  if (!buffer || len < RtpHeaderMin + rtpOverhead() || len > MaxPacket) return SrtpStatus::BadPacket;
  int n = static_cast<int>(len);
  const SrtpStatus s = mapStatus(srtp_unprotect(session_, buffer, &n));
  if (s == SrtpStatus::Ok) len = static_cast<size_t>(n);
  return s;
}

SrtpStatus SrtpSession::protectRtcp(uint8_t* buffer, size_t& len, size_t capacity) {
  if (direction_ != Direction::Outbound) return SrtpStatus::WrongDirection;
  if (!buffer || len < RtcpHeaderMin || len > MaxPacket) return SrtpStatus::BadPacket;
  if (capacity < len + rtcpOverhead()) return SrtpStatus::BufferTooSmall;
  int n = static_cast<int>(len);
  const SrtpStatus s = mapStatus(srtp_protect_rtcp(session_, buffer, &n));
  if (s == SrtpStatus::Ok) len = static_cast<size_t>(n);
  return s;
}

SrtpStatus SrtpSession::unprotectRtcp(uint8_t* buffer, size_t& len) {
  if (direction_ != Direction::Inbound) return SrtpStatus::WrongDirection;
  if (!buffer || len < RtcpHeaderMin + rtcpOverhead() || len > MaxPacket) return SrtpStatus::BadPacket;
  int n = static_cast<int>(len);
  const SrtpStatus s = mapStatus(srtp_unprotect_rtcp(session_, buffer, &n));
  if (s == SrtpStatus::Ok) len = static_cast<size_t>(n);
  return s;
}

void SrtpSession::removeStream(uint32_t ssrc) {
  // libsrtp2 takes the SSRC in network byte order here.
  (void)srtp_remove_stream(session_, htonl(ssrc));
}

}  // namespace meeting::sfu
