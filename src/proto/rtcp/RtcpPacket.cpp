#include "proto/rtcp/RtcpPacket.hpp"

#include "proto/rtp/Endian.hpp"

namespace meeting::proto::rtcp {

using rtp::loadBe16;
using rtp::loadBe32;

bool CompoundReader::next(RtcpPacketView& out) {
  if (failed_ || pos_ >= data_.size()) return false;
  const size_t left = data_.size() - pos_;
  const uint8_t* p = data_.data() + pos_;
  if (left < HeaderSize || (p[0] >> 6) != 2) {
    failed_ = true;
    return false;
  }
  // RFC 3550 §6.4.1: length in 32-bit words minus one, header and padding included.
  const size_t size = (size_t{loadBe16(p + 2)} + 1) * 4;
  if (size > left) {
    failed_ = true;
    return false;
  }
  size_t padding = 0;
  const bool hasPadding = (p[0] & 0x20) != 0;
  if (hasPadding) {
    padding = p[size - 1];
    if (padding == 0 || padding > size - HeaderSize) {
      failed_ = true;
      return false;
    }
  }
  out.count = p[0] & 0x1F;
  out.type = p[1];
  out.padding = hasPadding;
  out.packet = data_.subspan(pos_, size);
  out.body = data_.subspan(pos_ + HeaderSize, size - HeaderSize - padding);
  pos_ += size;
  return true;
}

bool CompoundReader::validate(std::span<const uint8_t> data) {
  if (data.empty()) return false;
  CompoundReader reader(data);
  RtcpPacketView view;
  while (reader.next(view)) {
  }
  return !reader.failed();
}

bool looksLikeRtcp(std::span<const uint8_t> data) {
  return data.size() >= HeaderSize && (data[0] >> 6) == 2 && data[1] >= 192 && data[1] <= 223;
}

bool beginPacket(ByteWriter& w, uint8_t count, PacketType type, size_t& start) {
  start = w.size();
  return w.writeU8(static_cast<uint8_t>(0x80 | (count & 0x1F))) && w.writeU8(static_cast<uint8_t>(type)) &&
         w.writeU16(0);
}

bool endPacket(ByteWriter& w, size_t start) {
  while ((w.size() - start) % 4 != 0) {
    if (!w.writeU8(0)) return false;
  }
  const size_t words = (w.size() - start) / 4 - 1;
  if (words > 0xFFFF) return false;
  return w.patchU16(start + 2, static_cast<uint16_t>(words));
}

bool parseFeedbackHeader(const RtcpPacketView& packet, FeedbackHeader& header, std::span<const uint8_t>& fci) {
  if (packet.body.size() < FeedbackHeaderSize - HeaderSize) return false;
  header.senderSsrc = loadBe32(packet.body.data());
  header.mediaSsrc = loadBe32(packet.body.data() + 4);
  fci = packet.body.subspan(8);
  return true;
}

}  // namespace meeting::proto::rtcp
