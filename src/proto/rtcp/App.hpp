#pragma once
// RFC 3550 §6.7 application-defined packet: subtype, SSRC, 4-character name, opaque data.
#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "common/ByteReader.hpp"
#include "proto/rtcp/RtcpPacket.hpp"

namespace meeting::proto::rtcp {

class App {
 public:
  /// Nothing unless the packet holds at least SSRC and name.
  static std::optional<App> parse(const RtcpPacketView& packet);
  /// Writes an APP packet; `data` is zero-padded to 32 bits. False when subtype > 31 or no room.
  static bool build(ByteWriter& w, uint8_t subtype, uint32_t ssrc, const std::array<char, 4>& name,
                    std::span<const uint8_t> data);

  uint8_t subtype() const { return subtype_; }
  uint32_t ssrc() const { return ssrc_; }
  const std::array<char, 4>& name() const { return name_; }
  std::span<const uint8_t> data() const { return data_; }
  bool serialize(ByteWriter& w) const { return build(w, subtype_, ssrc_, name_, data_); }

 private:
  uint8_t subtype_ = 0;
  uint32_t ssrc_ = 0;
  std::array<char, 4> name_{};
  std::span<const uint8_t> data_;
};

}  // namespace meeting::proto::rtcp
