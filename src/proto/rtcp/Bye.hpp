#pragma once
// RFC 3550 §6.6 goodbye: SC SSRC/CSRCs leaving, and an optional reason.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/ByteReader.hpp"
#include "proto/rtcp/RtcpPacket.hpp"

namespace meeting::proto::rtcp {

class Bye {
 public:
  /// Nothing unless the SC sources and the reason (if any) fit in the packet.
  static std::optional<Bye> parse(const RtcpPacketView& packet);
  /// Writes a BYE; false on more than 31 sources, a reason over 255 bytes, or no room.
  static bool build(ByteWriter& w, std::span<const uint32_t> ssrcs, std::string_view reason = {});

  size_t ssrcCount() const { return ssrcs_.size() / 4; }
  /// The i-th source; `i` must be < ssrcCount().
  uint32_t ssrc(size_t i) const;
  std::string_view reason() const { return reason_; }
  bool serialize(ByteWriter& w) const;

 private:
  std::span<const uint8_t> ssrcs_;
  std::string_view reason_;
};

}  // namespace meeting::proto::rtcp
