#pragma once
// RFC 4585 §6.3.1 picture loss indication: PSFB FMT 1, no FCI.
#include <cstdint>
#include <optional>

#include "common/ByteReader.hpp"
#include "proto/rtcp/RtcpPacket.hpp"

namespace meeting::proto::rtcp {

class Pli {
 public:
  static constexpr size_t Size = FeedbackHeaderSize;

  /// Nothing unless `packet` is PSFB/1 with both SSRCs.
  static std::optional<Pli> parse(const RtcpPacketView& packet);
  /// Writes a 12-byte PLI asking `mediaSsrc` for a keyframe.
  static bool build(ByteWriter& w, uint32_t senderSsrc, uint32_t mediaSsrc);

  uint32_t senderSsrc() const { return header_.senderSsrc; }
  uint32_t mediaSsrc() const { return header_.mediaSsrc; }
  bool serialize(ByteWriter& w) const { return build(w, header_.senderSsrc, header_.mediaSsrc); }

 private:
  FeedbackHeader header_;
};

}  // namespace meeting::proto::rtcp
