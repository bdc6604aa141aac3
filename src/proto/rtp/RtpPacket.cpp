#include "proto/rtp/RtpPacket.hpp"

#include <cstring>

#include "proto/rtp/Endian.hpp"

namespace meeting::proto::rtp {

std::optional<RtpPacket> RtpPacket::parse(std::span<uint8_t> buffer, size_t length) {
  // RFC 3550 §5.1: 12 fixed bytes; UDP (and RFC 4571 framing) bound a packet to 64 KiB.
  if (length > buffer.size() || length < FixedHeaderSize || length > 0xFFFF) return std::nullopt;
  uint8_t* p = buffer.data();
  if ((p[0] >> 6) != 2) return std::nullopt;

  RtpPacket pkt;
  pkt.data_ = p;
  pkt.size_ = static_cast<uint32_t>(length);
  size_t header = FixedHeaderSize + size_t{4} * (p[0] & 0x0F);
  if (header > length) return std::nullopt;

  if ((p[0] & 0x10) != 0) {
    // RFC 3550 §5.3.1: 16-bit profile, 16-bit length in 32-bit words, then the data.
    if (header + 4 > length) return std::nullopt;
    pkt.extProfile_ = loadBe16(p + header);
    const size_t words = loadBe16(p + header + 2);
    const size_t extBytes = words * 4;
    if (header + 4 + extBytes > length) return std::nullopt;
    pkt.extOffset_ = static_cast<uint32_t>(header + 4);
    pkt.extLength_ = static_cast<uint32_t>(extBytes);
    header += 4 + extBytes;
  }

  size_t padding = 0;
  if ((p[0] & 0x20) != 0) {
    // RFC 3550 §5.1: the last octet counts the padding octets, itself included.
    padding = p[length - 1];
    if (padding == 0 || header + padding > length) return std::nullopt;
  }
  pkt.headerSize_ = static_cast<uint32_t>(header);
  pkt.paddingSize_ = static_cast<uint32_t>(padding);
  pkt.payloadSize_ = static_cast<uint32_t>(length - header - padding);
  pkt.indexExtensions();
  return pkt;
}

bool RtpPacket::looksLikeRtp(std::span<const uint8_t> data) {
  if (data.size() < FixedHeaderSize || (data[0] >> 6) != 2) return false;
  // RFC 5761 §4: RTCP packet types 192..223 collide with RTP PT 64..95 plus marker.
  return data[1] < 192 || data[1] > 223;
}

void RtpPacket::indexExtensions() {
  extCount_ = 0;
  extOverflow_ = false;
  walkExtensions([this](uint8_t id, size_t offset, size_t length) {
    if (extCount_ == MaxCachedExtensions) {
      extOverflow_ = true;
      return false;
    }
    ext_[extCount_++] = ExtEntry{id, static_cast<uint8_t>(length), static_cast<uint16_t>(offset)};
    return true;
  });
}

bool RtpPacket::findExtension(uint8_t id, size_t& offset, size_t& length) const {
  for (size_t i = 0; i < extCount_; ++i) {
    if (ext_[i].id == id) {
      offset = ext_[i].offset;
      length = ext_[i].length;
      return true;
    }
  }
  if (!extOverflow_) return false;
  bool found = false;
  walkExtensions([&](uint8_t eid, size_t off, size_t len) {
    if (eid != id) return true;
    offset = off;
    length = len;
    found = true;
    return false;
  });
  return found;
}

uint16_t RtpPacket::sequenceNumber() const { return loadBe16(data_ + 2); }
uint32_t RtpPacket::timestamp() const { return loadBe32(data_ + 4); }
uint32_t RtpPacket::ssrc() const { return loadBe32(data_ + 8); }
uint32_t RtpPacket::csrc(size_t i) const { return loadBe32(data_ + FixedHeaderSize + 4 * i); }

void RtpPacket::setMarker(bool marker) {
  data_[1] = static_cast<uint8_t>((data_[1] & 0x7F) | (marker ? 0x80 : 0));
}
void RtpPacket::setPayloadType(uint8_t pt) {
  data_[1] = static_cast<uint8_t>((data_[1] & 0x80) | (pt & 0x7F));
}
void RtpPacket::setSequenceNumber(uint16_t seq) { storeBe16(data_ + 2, seq); }
void RtpPacket::setTimestamp(uint32_t ts) { storeBe32(data_ + 4, ts); }
void RtpPacket::setSsrc(uint32_t ssrc) { storeBe32(data_ + 8, ssrc); }

bool RtpPacket::hasExtensionId(uint8_t id) const {
  size_t offset = 0, length = 0;
  return findExtension(id, offset, length);
}

std::span<const uint8_t> RtpPacket::extension(uint8_t id) const {
  size_t offset = 0, length = 0;
  if (!findExtension(id, offset, length)) return {};
  return {data_ + offset, length};
}

std::span<uint8_t> RtpPacket::mutableExtension(uint8_t id) {
  size_t offset = 0, length = 0;
  if (!findExtension(id, offset, length)) return {};
  return {data_ + offset, length};
}

bool RtpPacket::setExtension(uint8_t id, std::span<const uint8_t> value) {
  size_t offset = 0, length = 0;
  if (!findExtension(id, offset, length) || length != value.size()) return false;
  if (length > 0) std::memcpy(data_ + offset, value.data(), length);
  return true;
}

bool RtpPacket::remapExtensionId(uint8_t fromId, uint8_t toId) {
  if (fromId == toId) return hasExtensionId(fromId);
  if (toId == 0 || hasExtensionId(toId)) return false;
  size_t offset = 0, length = 0;
  if (!findExtension(fromId, offset, length)) return false;
  if (extProfile_ == OneByteProfile) {
    if (toId >= 15) return false;  // RFC 8285 §4.2: ids 1..14
    uint8_t& b = data_[offset - 1];
    b = static_cast<uint8_t>((toId << 4) | (b & 0x0F));
  } else {
    data_[offset - 2] = toId;
  }
  for (size_t i = 0; i < extCount_; ++i) {
    if (ext_[i].offset == offset) ext_[i].id = toId;
  }
  return true;
}

}  // namespace meeting::proto::rtp
