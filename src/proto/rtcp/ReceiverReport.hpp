#pragma once
// RFC 3550 §6.4.2 receiver report: reporter SSRC plus up to 31 report blocks.
#include <cstdint>
#include <optional>
#include <span>

#include "common/ByteReader.hpp"
#include "proto/rtcp/ReportBlock.hpp"
#include "proto/rtcp/RtcpPacket.hpp"

namespace meeting::proto::rtcp {

/// A parsed RR; report blocks are decoded on demand from the packet bytes.
class ReceiverReport {
 public:
  /// Nothing unless `packet` is an RR whose RC blocks fit in its length.
  static std::optional<ReceiverReport> parse(const RtcpPacketView& packet);
  /// Writes an RR (an empty one is how a receiver without senders keeps RTCP alive).
  static bool build(ByteWriter& w, uint32_t ssrc, std::span<const ReportBlock> blocks);

  uint32_t ssrc() const { return ssrc_; }
  size_t reportCount() const { return blocks_.size() / ReportBlock::Size; }
  /// The i-th report block; `i` must be < reportCount().
  ReportBlock reportBlock(size_t i) const { return ReportBlock::read(blocks_.data() + i * ReportBlock::Size); }
  std::span<const uint8_t> profileExtension() const { return extension_; }
  bool serialize(ByteWriter& w) const;

 private:
  uint32_t ssrc_ = 0;
  std::span<const uint8_t> blocks_;
  std::span<const uint8_t> extension_;
};

}  // namespace meeting::proto::rtcp
