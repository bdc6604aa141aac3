#pragma once
// RFC 5104 §4.3.1 full intra request: PSFB FMT 4; FCI entries of target SSRC and a command
// sequence number (incremented per new request, so repeats can be recognised).
#include <cstdint>
#include <optional>
#include <span>

#include "common/ByteReader.hpp"
#include "proto/rtcp/RtcpPacket.hpp"

namespace meeting::proto::rtcp {

struct FirEntry {
  uint32_t ssrc = 0;
  uint8_t sequence = 0;
  bool operator==(const FirEntry&) const = default;
};

class Fir {
 public:
  static constexpr size_t EntrySize = 8;

  /// Nothing unless `packet` is PSFB/4 with at least one whole FCI entry.
  static std::optional<Fir> parse(const RtcpPacketView& packet);
  /// Writes a FIR; the media-source SSRC field is 0 as RFC 5104 §4.3.1.2 requires.
  static bool build(ByteWriter& w, uint32_t senderSsrc, std::span<const FirEntry> entries);

  uint32_t senderSsrc() const { return header_.senderSsrc; }
  uint32_t mediaSsrc() const { return header_.mediaSsrc; }
  size_t entryCount() const { return fci_.size() / EntrySize; }
  /// The i-th entry; `i` must be < entryCount().
  FirEntry entry(size_t i) const;
  bool serialize(ByteWriter& w) const;

 private:
  FeedbackHeader header_;
  std::span<const uint8_t> fci_;
};

}  // namespace meeting::proto::rtcp
