#pragma once
// RFC 3550 §6.4.1 reception report block, shared by SR and RR.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/ByteReader.hpp"

namespace meeting::proto::rtcp {

struct ReportBlock {
  static constexpr size_t Size = 24;
  static constexpr size_t MaxCount = 31;  // 5-bit RC field

  uint32_t ssrc = 0;
  uint8_t fractionLost = 0;      ///< fixed point /256
  int32_t cumulativeLost = 0;    ///< 24-bit signed on the wire
  uint32_t extendedHighestSequence = 0;
  uint32_t jitter = 0;           ///< RTP timestamp units
  uint32_t lastSr = 0;           ///< middle 32 bits of the last SR's NTP time
  uint32_t delaySinceLastSr = 0; ///< 1/65536 s

  /// Decodes one block; `bytes` must hold at least Size bytes.
  static ReportBlock read(const uint8_t* bytes);
  bool write(ByteWriter& w) const;
  bool operator==(const ReportBlock&) const = default;
};

}  // namespace meeting::proto::rtcp
