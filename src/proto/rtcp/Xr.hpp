#pragma once
// RFC 3611 extended reports: a sender SSRC and report blocks. The SFU uses RRTR (§4.4, a
// receiver's NTP time) and DLRR (§4.5, the delay since that RRTR) for receiver-side RTT;
// blocks of other types are walked over and kept as they are.
#include <cstdint>
#include <optional>
#include <span>

#include "common/ByteReader.hpp"
#include "proto/rtcp/RtcpPacket.hpp"

namespace meeting::proto::rtcp {

/// XR block types used here (RFC 3611 §4).
namespace xr {
inline constexpr uint8_t Rrtr = 4;
inline constexpr uint8_t Dlrr = 5;
}  // namespace xr

/// One DLRR sub-block (RFC 3611 §4.5).
struct DlrrItem {
  uint32_t ssrc = 0;
  uint32_t lastRr = 0;           ///< middle 32 bits of the RRTR's NTP time
  uint32_t delaySinceLastRr = 0; ///< 1/65536 s
  bool operator==(const DlrrItem&) const = default;
};

class Xr {
 public:
  /// Nothing unless every block's length fits the packet; RRTR/DLRR blocks must be well sized.
  static std::optional<Xr> parse(const RtcpPacketView& packet);
  /// Writes an XR with an optional RRTR block and a DLRR block when `dlrr` is not empty.
  static bool build(ByteWriter& w, uint32_t ssrc, std::optional<uint64_t> rrtrNtp, std::span<const DlrrItem> dlrr);

  uint32_t ssrc() const { return ssrc_; }
  /// NTP timestamp of the first RRTR block, if any.
  std::optional<uint64_t> rrtr() const { return rrtr_; }
  /// Calls `f(const DlrrItem&)` for every sub-block of every DLRR block.
  template <typename F>
  void forEachDlrr(F&& f) const;
  /// Calls `f(uint8_t blockType, uint8_t typeSpecific, std::span<const uint8_t> contents)` per block.
  template <typename F>
  void forEachBlock(F&& f) const;
  /// Re-serializes header and all blocks, unknown ones included, as they were.
  bool serialize(ByteWriter& w) const;

 private:
  static DlrrItem readDlrr(const uint8_t* p);

  uint32_t ssrc_ = 0;
  std::optional<uint64_t> rrtr_;
  std::span<const uint8_t> blocks_;  // validated block bytes
};

template <typename F>
void Xr::forEachBlock(F&& f) const {
  size_t pos = 0;
  while (pos + 4 <= blocks_.size()) {
    const size_t len = (size_t{blocks_[pos + 2]} << 8 | blocks_[pos + 3]) * 4;
    f(blocks_[pos], blocks_[pos + 1], blocks_.subspan(pos + 4, len));
    pos += 4 + len;
  }
}

template <typename F>
void Xr::forEachDlrr(F&& f) const {
  forEachBlock([&](uint8_t type, uint8_t, std::span<const uint8_t> contents) {
    if (type != xr::Dlrr) return;
    for (size_t i = 0; i + 12 <= contents.size(); i += 12) f(readDlrr(contents.data() + i));
  });
}

}  // namespace meeting::proto::rtcp
