#pragma once
// SRTP/SRTCP for one direction of one transport (RFC 3711, RFC 7714) on top of libsrtp2.
// All operations work in place on the caller's buffer and never allocate or throw; failures come
// back as an SrtpStatus. One inbound and one outbound session per transport, created from the
// keying material DtlsSession reports. Single-threaded: used only on the owning worker loop.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "common/Result.hpp"
#include "sfu/SrtpProfile.hpp"

struct srtp_ctx_t_;

namespace meeting::sfu {

enum class SrtpStatus : uint8_t {
  Ok,
  AuthFail,        ///< tag did not verify (tampered, wrong key)
  ReplayFail,      ///< index already seen inside the window
  ReplayOld,       ///< index older than the replay window
  BufferTooSmall,  ///< capacity cannot hold the tag/trailer
  BadPacket,       ///< too short or otherwise malformed
  WrongDirection,  ///< protect on an inbound session or unprotect on an outbound one
  Error,           ///< any other libsrtp2 failure
};

std::string_view toString(SrtpStatus status);

class SrtpSession {
 public:
  enum class Direction : uint8_t { Inbound, Outbound };

  /// Replay window (RFC 3711 §3.3.2 minimum is 64; video bursts and NACK need more).
  static constexpr unsigned long ReplayWindow = 1024;

  /// `keying` is master key followed by master salt (DtlsSession's onConnected layout).
  /// Any SSRC is accepted (libsrtp2's ssrc_any_inbound / ssrc_any_outbound templates).
  static Result<std::unique_ptr<SrtpSession>> create(Direction direction, SrtpProfile profile,
                                                     std::span<const uint8_t> keying);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  /// Encrypts the RTP packet in buffer[0, len) and appends the tag; len grows by rtpOverhead().
  SrtpStatus protectRtp(uint8_t* buffer, size_t& len, size_t capacity);
  /// Verifies and decrypts in place; len shrinks to the plain RTP packet.
  SrtpStatus unprotectRtp(uint8_t* buffer, size_t& len);
  /// As protectRtp for a compound RTCP packet; len grows by rtcpOverhead().
  SrtpStatus protectRtcp(uint8_t* buffer, size_t& len, size_t capacity);
  SrtpStatus unprotectRtcp(uint8_t* buffer, size_t& len);

  /// Drops libsrtp2's per-SSRC state (call when a stream ends so state does not accumulate).
  void removeStream(uint32_t ssrc);

  SrtpProfile profile() const { return profile_; }
  Direction direction() const { return direction_; }
  size_t rtpOverhead() const { return srtpRtpOverhead(profile_); }
  size_t rtcpOverhead() const { return srtpRtcpOverhead(profile_); }

 private:
  SrtpSession(Direction direction, SrtpProfile profile) : direction_(direction), profile_(profile) {}

  srtp_ctx_t_* session_ = nullptr;
  Direction direction_;
  SrtpProfile profile_;
};

}  // namespace meeting::sfu
