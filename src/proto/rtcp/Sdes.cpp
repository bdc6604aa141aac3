#include "proto/rtcp/Sdes.hpp"

namespace meeting::proto::rtcp {

std::optional<Sdes> Sdes::parse(const RtcpPacketView& packet) {
  if (packet.type != static_cast<uint8_t>(PacketType::Sdes)) return std::nullopt;
  const auto body = packet.body;
  const size_t size = body.size();
  size_t pos = 0;
  for (size_t c = 0; c < packet.count; ++c) {
    if (pos + 4 > size) return std::nullopt;
    pos += 4;
    for (;;) {
      if (pos >= size) return std::nullopt;
      if (body[pos] == 0) break;
      if (pos + 2 > size) return std::nullopt;
      const size_t len = body[pos + 1];
      if (pos + 2 + len > size) return std::nullopt;
      pos += 2 + len;
    }
    // RFC 3550 §6.5: the null item, then null octets up to the next 32-bit boundary.
    const size_t end = (pos + 4) & ~size_t{3};
    if (end > size) return std::nullopt;
    pos = end;
  }
  Sdes sdes;
  sdes.count_ = packet.count;
  sdes.chunks_ = body.first(pos);
  return sdes;
}

std::string_view Sdes::cname() const {
  std::string_view found;
  forEachItem([&](uint32_t, uint8_t type, std::string_view value) {
    if (found.empty() && type == static_cast<uint8_t>(SdesType::Cname)) found = value;
  });
  return found;
}

namespace {
size_t chunkSize(const SdesChunk& chunk) {
  size_t size = 4;
  for (const auto& item : chunk.items) size += 2 + item.value.size();
  return (size + 4) & ~size_t{3};  // null item + padding
}
}  // namespace

bool Sdes::build(ByteWriter& w, std::span<const SdesChunk> chunks) {
  if (chunks.size() > 31) return false;
  size_t total = HeaderSize;
  for (const auto& chunk : chunks) {
    for (const auto& item : chunk.items) {
      if (item.value.size() > 255 || item.type == 0) return false;
    }
    total += chunkSize(chunk);
  }
  if (w.remaining() < total || total > 0x40000) return false;
  size_t start = 0;
  bool ok = beginPacket(w, static_cast<uint8_t>(chunks.size()), PacketType::Sdes, start);
  for (const auto& chunk : chunks) {
    const size_t chunkStart = w.size();
    ok = ok && w.writeU32(chunk.ssrc);
    for (const auto& item : chunk.items) {
      ok = ok && w.writeU8(item.type) && w.writeU8(static_cast<uint8_t>(item.value.size())) &&
           w.writeBytes({reinterpret_cast<const uint8_t*>(item.value.data()), item.value.size()});
    }
    ok = ok && w.writeU8(0);
    while (ok && (w.size() - chunkStart) % 4 != 0) ok = w.writeU8(0);
  }
  return ok && endPacket(w, start);
}

bool Sdes::buildCname(ByteWriter& w, uint32_t ssrc, std::string_view cname) {
  const SdesItem item{static_cast<uint8_t>(SdesType::Cname), cname};
  const SdesChunk chunk{ssrc, {&item, 1}};
  return build(w, {&chunk, 1});
}

bool Sdes::serialize(ByteWriter& w) const {
  if (w.remaining() < HeaderSize + chunks_.size()) return false;
  size_t start = 0;
  return beginPacket(w, count_, PacketType::Sdes, start) && w.writeBytes(chunks_) && endPacket(w, start);
}

}  // namespace meeting::proto::rtcp
