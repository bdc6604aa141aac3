#include "sfu/DcepMessage.hpp"

#include "common/ByteReader.hpp"

namespace meeting::sfu::dcep {
namespace {

bool knownType(uint8_t t) {
  switch (t) {
    case 0x00: case 0x80: case 0x01: case 0x81: case 0x02: case 0x82: return true;
    default: return false;
  }
}

}  // namespace

std::optional<DataChannelParameters> parseOpen(std::span<const uint8_t> message) {
  // RFC 8832 §5.1: type(1) channel type(1) priority(2) reliability(4) label len(2) proto len(2).
  ByteReader r(message);
  uint8_t messageType = 0, channelType = 0;
  uint16_t priority = 0, labelLength = 0, protocolLength = 0;
  uint32_t reliability = 0;
  if (!r.readU8(messageType) || messageType != MessageOpen || !r.readU8(channelType) || !knownType(channelType) ||
      !r.readU16(priority) || !r.readU32(reliability) || !r.readU16(labelLength) || !r.readU16(protocolLength))
    return std::nullopt;
  std::span<const uint8_t> label, protocol;
  if (!r.readBytes(labelLength, label) || !r.readBytes(protocolLength, protocol) || !r.empty())
    return std::nullopt;
  DataChannelParameters p;
  p.type = static_cast<DataChannelType>(channelType);
  p.priority = priority;
  // §5.1: the reliability parameter is ignored for reliable channels.
  p.reliabilityParameter = (channelType & 0x7f) == 0 ? 0 : reliability;
  p.label.assign(label.begin(), label.end());
  p.protocol.assign(protocol.begin(), protocol.end());
  return p;
}

bool isAck(std::span<const uint8_t> message) { return message.size() == 1 && message[0] == MessageAck; }

bool serializeOpen(const DataChannelParameters& p, std::vector<uint8_t>& out) {
  if (p.label.size() > 0xffff || p.protocol.size() > 0xffff) return false;
  out.assign(OpenHeaderSize + p.label.size() + p.protocol.size(), 0);
  ByteWriter w(out);
  const bool ok = w.writeU8(MessageOpen) && w.writeU8(static_cast<uint8_t>(p.type)) && w.writeU16(p.priority) &&
                  w.writeU32(p.reliabilityParameter) && w.writeU16(static_cast<uint16_t>(p.label.size())) &&
                  w.writeU16(static_cast<uint16_t>(p.protocol.size())) &&
                  w.writeBytes({reinterpret_cast<const uint8_t*>(p.label.data()), p.label.size()}) &&
                  w.writeBytes({reinterpret_cast<const uint8_t*>(p.protocol.data()), p.protocol.size()});
  return ok;
}

}  // namespace meeting::sfu::dcep
