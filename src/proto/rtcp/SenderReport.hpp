#pragma once
// RFC 3550 §6.4.1 sender report: sender info plus up to 31 report blocks.
#include <cstdint>
#include <optional>
#include <span>

#include "common/ByteReader.hpp"
#include "proto/rtcp/ReportBlock.hpp"
#include "proto/rtcp/RtcpPacket.hpp"

namespace meeting::proto::rtcp {

/// The 20-byte sender info that follows the sender SSRC.
struct SenderInfo {
  uint32_t ssrc = 0;
  uint64_t ntpTimestamp = 0;  ///< 32.32 fixed point seconds since 1900
  uint32_t rtpTimestamp = 0;
  uint32_t packetCount = 0;
  uint32_t octetCount = 0;
  bool operator==(const SenderInfo&) const = default;
};

/// A parsed SR; report blocks are decoded on demand from the packet bytes.
class SenderReport {
 public:
  static constexpr size_t MinBodySize = 24;

  /// Nothing unless `packet` is an SR whose RC blocks fit in its length.
  static std::optional<SenderReport> parse(const RtcpPacketView& packet);
  /// Writes an SR; false when there are more than 31 blocks or `w` is too small.
  static bool build(ByteWriter& w, const SenderInfo& info, std::span<const ReportBlock> blocks);

  const SenderInfo& info() const { return info_; }
  uint32_t ssrc() const { return info_.ssrc; }
  size_t reportCount() const { return blocks_.size() / ReportBlock::Size; }
  /// The i-th report block; `i` must be < reportCount().
  ReportBlock reportBlock(size_t i) const { return ReportBlock::read(blocks_.data() + i * ReportBlock::Size); }
  /// Profile-specific extension bytes after the blocks (RFC 3550 §6.4.1), usually empty.
  std::span<const uint8_t> profileExtension() const { return extension_; }
  /// Re-serializes the parsed packet (blocks and extension copied as they were).
  bool serialize(ByteWriter& w) const;

  /// The middle 32 bits of an NTP timestamp, as echoed in a report block's LSR field.
  static uint32_t compactNtp(uint64_t ntp) { return static_cast<uint32_t>(ntp >> 16); }

 private:
  SenderInfo info_;
  std::span<const uint8_t> blocks_;
  std::span<const uint8_t> extension_;
};

}  // namespace meeting::proto::rtcp
