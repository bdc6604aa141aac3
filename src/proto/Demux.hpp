#pragma once
// Demultiplexing of one UDP/TCP port shared by STUN, DTLS, TURN ChannelData and SRTP/SRTCP
// (RFC 7983 §7, which updates RFC 5764 §5.1.2), and RTP vs RTCP on one port (RFC 5761 §4).
#include <cstddef>
#include <cstdint>
#include <span>

namespace meeting::proto {

/// What a packet on a shared media port is.
enum class PacketKind : uint8_t {
  Unknown,      ///< drop it
  Stun,         ///< first byte 0..3
  Zrtp,         ///< first byte 16..19
  Dtls,         ///< first byte 20..63
  TurnChannel,  ///< first byte 64..79 (ChannelData)
  Rtp,          ///< first byte 128..191, second byte not an RTCP packet type
  Rtcp,         ///< first byte 128..191, second byte 192..223
};

/// RFC 7983 §7 ranges of the first byte.
constexpr bool isStunByte(uint8_t b) { return b <= 3; }
constexpr bool isZrtpByte(uint8_t b) { return b >= 16 && b <= 19; }
constexpr bool isDtlsByte(uint8_t b) { return b >= 20 && b <= 63; }
constexpr bool isTurnChannelByte(uint8_t b) { return b >= 64 && b <= 79; }
constexpr bool isRtpOrRtcpByte(uint8_t b) { return b >= 128 && b <= 191; }

/// RFC 5761 §4: the second byte (marker bit + payload type) of RTCP is the packet type; types
/// 192..223 are kept free of RTP payload types, so they mark RTCP.
constexpr bool isRtcpSecondByte(uint8_t b) { return b >= 192 && b <= 223; }

/// Classifies by the first byte only; 128..191 is reported as Rtp (use classifyPacket() to
/// tell RTCP apart).
constexpr PacketKind classifyFirstByte(uint8_t b) {
  if (isStunByte(b)) return PacketKind::Stun;
  if (isZrtpByte(b)) return PacketKind::Zrtp;
  if (isDtlsByte(b)) return PacketKind::Dtls;
  if (isTurnChannelByte(b)) return PacketKind::TurnChannel;
  if (isRtpOrRtcpByte(b)) return PacketKind::Rtp;
  return PacketKind::Unknown;
}

/// Smallest well-formed packet of each kind: STUN header (20), ZRTP header (12), DTLS record
/// header (13), ChannelData header (4), RTP fixed header (12), RTCP header + SSRC (8).
constexpr size_t minimumPacketSize(PacketKind k) {
  switch (k) {
    case PacketKind::Stun: return 20;
    case PacketKind::Zrtp: return 12;
    case PacketKind::Dtls: return 13;
    case PacketKind::TurnChannel: return 4;
    case PacketKind::Rtp: return 12;
    case PacketKind::Rtcp: return 8;
    case PacketKind::Unknown: return 0;
  }
  return 0;
}

/// Full classification of a datagram: first byte, RTP/RTCP split, and a minimum size (too
/// short is Unknown). STUN additionally needs the magic cookie (RFC 8489 §5), which keeps
/// classic RFC 3489 packets and noise out of the STUN path.
constexpr PacketKind classifyPacket(std::span<const uint8_t> p) {
  if (p.empty()) return PacketKind::Unknown;
  PacketKind k = classifyFirstByte(p[0]);
  if (k == PacketKind::Rtp && p.size() >= 2 && isRtcpSecondByte(p[1])) k = PacketKind::Rtcp;
  if (k == PacketKind::Unknown || p.size() < minimumPacketSize(k)) return PacketKind::Unknown;
  if (k == PacketKind::Stun && (p.size() < 8 || !(p[4] == 0x21 && p[5] == 0x12 && p[6] == 0xA4 && p[7] == 0x42)))
    return PacketKind::Unknown;
  return k;
}

}  // namespace meeting::proto
