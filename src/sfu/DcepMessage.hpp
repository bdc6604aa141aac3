#pragma once
// Data Channel Establishment Protocol messages (RFC 8832 §5), carried on SCTP PPID 50.
// Pure codec: bounded parsing that returns nothing on bad input, never throws.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace meeting::sfu {

/// RFC 8832 §5.1 channel types: the high bit means unordered.
enum class DataChannelType : uint8_t {
  Reliable = 0x00,
  ReliableUnordered = 0x80,
  PartialReliableRexmit = 0x01,
  PartialReliableRexmitUnordered = 0x81,
  PartialReliableTimed = 0x02,
  PartialReliableTimedUnordered = 0x82,
};

constexpr bool isUnordered(DataChannelType t) { return (static_cast<uint8_t>(t) & 0x80) != 0; }
constexpr bool isRexmitLimited(DataChannelType t) { return (static_cast<uint8_t>(t) & 0x7f) == 0x01; }
constexpr bool isTimeLimited(DataChannelType t) { return (static_cast<uint8_t>(t) & 0x7f) == 0x02; }

/// What a data channel is: the fields of DATA_CHANNEL_OPEN.
struct DataChannelParameters {
  DataChannelType type = DataChannelType::Reliable;
  uint16_t priority = 256;            ///< RFC 8831 §6.4 "normal"
  uint32_t reliabilityParameter = 0;  ///< max retransmissions, or lifetime in ms
  std::string label;
  std::string protocol;
};

/// RFC 8831 §8: SCTP payload protocol identifiers for WebRTC.
enum class SctpPpid : uint32_t {
  Dcep = 50,
  String = 51,
  Binary = 53,
  StringEmpty = 56,
  BinaryEmpty = 57,
};

namespace dcep {
constexpr uint8_t MessageAck = 0x02;   // RFC 8832 §8.2.1
constexpr uint8_t MessageOpen = 0x03;
constexpr size_t OpenHeaderSize = 12;

/// Parses DATA_CHANNEL_OPEN; nothing on unknown type, truncation or trailing garbage.
std::optional<DataChannelParameters> parseOpen(std::span<const uint8_t> message);
/// True for a well-formed DATA_CHANNEL_ACK (a single byte 0x02).
bool isAck(std::span<const uint8_t> message);
/// Serializes DATA_CHANNEL_OPEN; false when label or protocol exceed 65535 bytes.
bool serializeOpen(const DataChannelParameters& params, std::vector<uint8_t>& out);
}  // namespace dcep

}  // namespace meeting::sfu
