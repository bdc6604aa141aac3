#pragma once
// The per-packet pieces shared by everything that relays media from one transport to another
// (rooms, the echo diagnostic): reading a subscriber's RTCP feedback, asking a publisher for a
// keyframe, answering a NACK from a packet cache, passing a sender report on, and finding which
// published section a packet belongs to. No allocation; buffers come from the caller.
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "proto/rtp/RtpPacket.hpp"
#include "proto/sdp/SessionDescription.hpp"
#include "sfu/PacketCache.hpp"
#include "sfu/WebRtcTransport.hpp"

namespace meeting::sfu {

/// The SSRC our own RTCP feedback is sent from (RFC 4585 §6.1 needs one; any value works).
inline constexpr uint32_t FeedbackSenderSsrc = 1;
/// A publisher is asked for a keyframe at most this often per track, however many ask.
inline constexpr auto KeyframeRequestInterval = std::chrono::milliseconds(300);
inline constexpr std::string_view MidExtensionUri = "urn:ietf:params:rtp-hdrext:sdes:mid";

/// A random SSRC for a stream the server sends (never 0 or 1, which mean "none" and ours).
uint32_t randomSsrc();

/// Calls `keyframe(mediaSsrc)` for each PLI and FIR entry and `nack(mediaSsrc, sequence)` for each
/// lost packet a subscriber reports in a compound RTCP packet (RFC 4585, RFC 5104).
void readSubscriberFeedback(std::span<const uint8_t> compound, const std::function<void(uint32_t)>& keyframe,
                            const std::function<void(uint32_t, uint16_t)>& nack);

/// Calls `report(ssrc, packet)` for each sender report in a publisher's compound RTCP packet.
void forEachSenderReport(std::span<const uint8_t> compound,
                         const std::function<void(uint32_t, std::span<const uint8_t>)>& report);

/// Sends a PLI asking `publisher` for a keyframe of `mediaSsrc`.
void sendKeyframeRequest(WebRtcTransport& publisher, uint32_t mediaSsrc);

/// Passes a publisher's sender report on as `ssrc`: timestamps pass through unchanged, so the
/// NTP/RTP pair stays valid for lip sync (RFC 3550 §6.4.1); the report blocks (about the
/// sender's own reception) are dropped.
/// With `rewrite`, the RTP timestamp is shifted by the consumer's timestamp offset and the packet
/// and octet counts are the consumer's own (RFC 3550 §6.4.1: the sender's counts for this SSRC).
struct SenderReportRewrite {
  uint32_t timestampOffset = 0;
  uint32_t packetCount = 0;
  uint32_t octetCount = 0;
};
void forwardSenderReport(std::span<const uint8_t> senderReport, uint32_t ssrc, WebRtcTransport& subscriber,
                         const SenderReportRewrite* rewrite = nullptr);

/// Answers a NACK for `sequenceNumber` from `cache`: as RTX (RFC 4588) when `rtx` is set,
/// otherwise the packet again. `scratch` and `rtxScratch` are the caller's buffers.
struct RtxStream {
  uint8_t payloadType = 0;
  uint32_t ssrc = 0;
  uint16_t* sequence = nullptr;  ///< the RTX stream's next sequence number, advanced here
};
void retransmitFromCache(const PacketCache& cache, uint16_t sequenceNumber, const RtxStream* rtx,
                         WebRtcTransport& subscriber, std::span<uint8_t> scratch, std::span<uint8_t> rtxScratch);

/// True when `packet` carries the mid header extension (per `extmaps`) with the value `mid`
/// (RFC 8843 §15: how a section without a=ssrc lines learns its SSRC).
bool carriesMid(const proto::rtp::RtpPacket& packet, const std::vector<proto::sdp::Extmap>& extmaps, std::string_view mid);

}  // namespace meeting::sfu
