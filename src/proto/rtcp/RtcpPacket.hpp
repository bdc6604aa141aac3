#pragma once
// The RTCP common header (RFC 3550 §6.4.1) and a bounded walk over a compound packet (§6.1).
// Each packet type has its own class (SenderReport, Nack, TransportFeedback, ...) whose
// parse() takes the RtcpPacketView this walk yields.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/ByteReader.hpp"

namespace meeting::proto::rtcp {

/// RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1, RFC 3611 §4).
enum class PacketType : uint8_t {
  SenderReport = 200,
  ReceiverReport = 201,
  Sdes = 202,
  Bye = 203,
  App = 204,
  RtpFeedback = 205,      // RTPFB
  PayloadFeedback = 206,  // PSFB
  ExtendedReport = 207,   // XR
};

/// RTPFB feedback message types (FMT).
namespace rtpfb {
inline constexpr uint8_t Nack = 1;               // RFC 4585 §6.2.1
inline constexpr uint8_t TransportFeedback = 15;  // draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1
}  // namespace rtpfb
/// PSFB feedback message types (FMT).
namespace psfb {
inline constexpr uint8_t Pli = 1;   // RFC 4585 §6.3.1
inline constexpr uint8_t Fir = 4;   // RFC 5104 §4.3.1
inline constexpr uint8_t Afb = 15;  // RFC 4585 §6.4; REMB lives here
}  // namespace psfb

inline constexpr size_t HeaderSize = 4;
/// RFC 4585 §6.1: common header + sender SSRC + media source SSRC.
inline constexpr size_t FeedbackHeaderSize = 12;

/// One packet inside a compound RTCP packet; spans point into the caller's buffer.
struct RtcpPacketView {
  uint8_t count = 0;  ///< RC / SC / FMT / APP subtype: the 5-bit field after P
  uint8_t type = 0;   ///< PT
  bool padding = false;
  std::span<const uint8_t> packet;  ///< the whole packet: header, body and padding
  std::span<const uint8_t> body;    ///< after the 4-byte header, padding removed

  PacketType packetType() const { return static_cast<PacketType>(type); }
  bool is(PacketType t, uint8_t fmt) const { return type == static_cast<uint8_t>(t) && count == fmt; }
};

/// Walks a compound RTCP packet one validated packet at a time.
///
/// Each length field is checked against the bytes left (a length that points past the end stops
/// the walk with failed()), version must be 2, and a P bit needs a padding count in 1..body size.
/// RFC 3550 §6.4.1 wants padding only on the last packet; libwebrtc pads feedback packets it
/// then compounds, so padding is accepted on any packet as long as its count is consistent.
/// The first packet is not required to be SR/RR: RFC 5506 reduced-size RTCP allows any.
class CompoundReader {
 public:
  explicit CompoundReader(std::span<const uint8_t> data) : data_(data) {}

  /// Yields the next packet; false at the end or on malformed input (see failed()).
  bool next(RtcpPacketView& out);
  /// True when the walk stopped on malformed input rather than at the end.
  bool failed() const { return failed_; }

  /// True when every packet of `data` is well-formed and the lengths add up exactly.
  static bool validate(std::span<const uint8_t> data);

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

/// RFC 5761 §4: true when the bytes look like RTCP (version 2, PT in 192..223).
bool looksLikeRtcp(std::span<const uint8_t> data);

/// Writes a header with a zero length; finish with endPacket(). Returns false when full.
bool beginPacket(ByteWriter& w, uint8_t count, PacketType type, size_t& start);
/// Pads to 32 bits with zeros and patches the length field of the packet begun at `start`.
bool endPacket(ByteWriter& w, size_t start);

/// RFC 4585 §6.1 fields shared by RTPFB/PSFB packets.
struct FeedbackHeader {
  uint32_t senderSsrc = 0;
  uint32_t mediaSsrc = 0;
};
/// Reads the two SSRCs and returns the FCI; false when the body is too short.
bool parseFeedbackHeader(const RtcpPacketView& packet, FeedbackHeader& header, std::span<const uint8_t>& fci);

}  // namespace meeting::proto::rtcp
