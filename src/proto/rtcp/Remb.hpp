#pragma once
// draft-alvestrand-rmcat-remb-03 §2.2 receiver estimated maximum bitrate: PSFB FMT 15 (AFB) with
// the "REMB" identifier, a 6-bit exponent and 18-bit mantissa, and the SSRCs it applies to.
#include <cstdint>
#include <optional>
#include <span>

#include "common/ByteReader.hpp"
#include "proto/rtcp/RtcpPacket.hpp"

namespace meeting::proto::rtcp {

class Remb {
 public:
  /// Nothing unless `packet` is PSFB/15 with the "REMB" identifier, all announced SSRCs present
  /// and a bitrate that fits 64 bits.
  static std::optional<Remb> parse(const RtcpPacketView& packet);
  /// Writes a REMB (media SSRC 0 per the draft); the bitrate is rounded down to 18 significant
  /// bits. False with more than 255 SSRCs or no room.
  static bool build(ByteWriter& w, uint32_t senderSsrc, uint64_t bitrateBps, std::span<const uint32_t> ssrcs);

  uint32_t senderSsrc() const { return header_.senderSsrc; }
  uint64_t bitrate() const { return bitrate_; }
  size_t ssrcCount() const { return ssrcs_.size() / 4; }
  /// The i-th SSRC; `i` must be < ssrcCount().
  uint32_t ssrc(size_t i) const;
  bool serialize(ByteWriter& w) const;

 private:
  FeedbackHeader header_;
  uint64_t bitrate_ = 0;
  std::span<const uint8_t> ssrcs_;
};

}  // namespace meeting::proto::rtcp
