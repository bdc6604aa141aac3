#include "proto/rtcp/Bye.hpp"

#include "proto/rtp/Endian.hpp"

namespace meeting::proto::rtcp {

std::optional<Bye> Bye::parse(const RtcpPacketView& packet) {
  if (packet.type != static_cast<uint8_t>(PacketType::Bye)) return std::nullopt;
  const auto body = packet.body;
  const size_t ssrcBytes = size_t{packet.count} * 4;
  if (body.size() < ssrcBytes) return std::nullopt;
  Bye bye;
  bye.ssrcs_ = body.first(ssrcBytes);
  if (body.size() > ssrcBytes) {
    // RFC 3550 §6.6: length octet then text; what follows up to 32 bits is padding.
    const size_t len = body[ssrcBytes];
    if (ssrcBytes + 1 + len > body.size()) return std::nullopt;
    bye.reason_ = std::string_view(reinterpret_cast<const char*>(body.data() + ssrcBytes + 1), len);
  }
  return bye;
}

uint32_t Bye::ssrc(size_t i) const { return rtp::loadBe32(ssrcs_.data() + 4 * i); }

bool Bye::build(ByteWriter& w, std::span<const uint32_t> ssrcs, std::string_view reason) {
  if (ssrcs.size() > 31 || reason.size() > 255) return false;
  const size_t size = HeaderSize + 4 * ssrcs.size() + (reason.empty() ? 0 : 1 + reason.size());
  if (w.remaining() < ((size + 3) & ~size_t{3})) return false;
  size_t start = 0;
  bool ok = beginPacket(w, static_cast<uint8_t>(ssrcs.size()), PacketType::Bye, start);
  for (uint32_t ssrc : ssrcs) ok = ok && w.writeU32(ssrc);
  if (!reason.empty()) {
    ok = ok && w.writeU8(static_cast<uint8_t>(reason.size())) &&
         w.writeBytes({reinterpret_cast<const uint8_t*>(reason.data()), reason.size()});
  }
  return ok && endPacket(w, start);
}

bool Bye::serialize(ByteWriter& w) const {
  const size_t size = HeaderSize + ssrcs_.size() + (reason_.empty() ? 0 : 1 + reason_.size());
  if (w.remaining() < ((size + 3) & ~size_t{3})) return false;
  size_t start = 0;
  bool ok = beginPacket(w, static_cast<uint8_t>(ssrcCount()), PacketType::Bye, start) && w.writeBytes(ssrcs_);
  if (!reason_.empty()) {
    ok = ok && w.writeU8(static_cast<uint8_t>(reason_.size())) &&
         w.writeBytes({reinterpret_cast<const uint8_t*>(reason_.data()), reason_.size()});
  }
  return ok && endPacket(w, start);
}

}  // namespace meeting::proto::rtcp
