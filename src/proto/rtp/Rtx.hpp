#pragma once
// RFC 4588 retransmission payload format: an RTX packet carries the original header (with the
// RTX stream's SSRC, sequence number and payload type) and a payload that starts with the
// original sequence number (OSN, §4) followed by the original payload.
#include <cstdint>
#include <optional>
#include <span>

#include "proto/rtp/RtpPacket.hpp"

namespace meeting::proto::rtp {

/// Where an RTX (or recovered) packet goes: payload type, SSRC and sequence number.
struct RtxParams {
  uint8_t payloadType = 0;
  uint32_t ssrc = 0;
  uint16_t sequenceNumber = 0;
};

/// Size an RTX packet built from `original` needs (header + 2-byte OSN + payload).
inline size_t rtxPacketSize(const RtpPacket& original) {
  return original.headerSize() + 2 + original.payloadSize();
}

/// Writes the RTX form of `original` into `out` (which must not overlap it): header and
/// extensions copied, P bit cleared (padding dropped), PT/SSRC/seq from `rtx`, OSN then payload.
/// Returns the parsed view of the new packet, or nothing when `out` is too small.
std::optional<RtpPacket> buildRtx(const RtpPacket& original, const RtxParams& rtx, std::span<uint8_t> out);

/// Recovers the original packet from an RTX packet into `out`: the sequence number comes from
/// the OSN, PT/SSRC from `original` (its sequenceNumber is ignored). `out` may be the RTX
/// packet's own buffer (in-place recovery) or a disjoint buffer. Returns nothing when the RTX
/// payload is shorter than the OSN (e.g. padding-only probes) or `out` is too small.
std::optional<RtpPacket> recoverFromRtx(const RtpPacket& rtxPacket, uint8_t originalPayloadType,
                                        uint32_t originalSsrc, std::span<uint8_t> out);

}  // namespace meeting::proto::rtp
