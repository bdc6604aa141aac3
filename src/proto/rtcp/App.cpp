#include "proto/rtcp/App.hpp"

#include "proto/rtp/Endian.hpp"

namespace meeting::proto::rtcp {

std::optional<App> App::parse(const RtcpPacketView& packet) {
  if (packet.type != static_cast<uint8_t>(PacketType::App) || packet.body.size() < 8) return std::nullopt;
  App app;
  app.subtype_ = packet.count;
  app.ssrc_ = rtp::loadBe32(packet.body.data());
  for (size_t i = 0; i < 4; ++i) app.name_[i] = static_cast<char>(packet.body[4 + i]);
  app.data_ = packet.body.subspan(8);
  return app;
}

bool App::build(ByteWriter& w, uint8_t subtype, uint32_t ssrc, const std::array<char, 4>& name,
                std::span<const uint8_t> data) {
  const size_t size = HeaderSize + 8 + data.size();
  if (subtype > 31 || w.remaining() < ((size + 3) & ~size_t{3})) return false;
  size_t start = 0;
  bool ok = beginPacket(w, subtype, PacketType::App, start) && w.writeU32(ssrc);
  for (char c : name) ok = ok && w.writeU8(static_cast<uint8_t>(c));
  return ok && w.writeBytes(data) && endPacket(w, start);
}

}  // namespace meeting::proto::rtcp
