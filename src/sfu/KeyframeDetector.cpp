#include "sfu/KeyframeDetector.hpp"

#include "common/ByteReader.hpp"
#include "sfu/SdpNegotiation.hpp"

namespace meeting::sfu {

namespace {

// MSB-first bit reading for codec headers; reads past the end fail instead of reading.
class BitReader {
 public:
  explicit BitReader(std::span<const uint8_t> data) : data_(data) {}
  bool read(unsigned bits, uint32_t& out) {
    out = 0;
    for (unsigned i = 0; i < bits; ++i) {
      if (pos_ >= data_.size() * 8) return false;
      const unsigned bit = (data_[pos_ / 8] >> (7 - pos_ % 8)) & 1u;
      out = out << 1 | bit;
      ++pos_;
    }
    return true;
  }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

// VP9 bitstream spec §6.2 uncompressed_header(): a KEY_FRAME (frame_type 0) that is not a
// show_existing_frame, followed by the frame sync code 0x49 0x83 0x42 (§6.2.1).
bool isVp9KeyframeHeader(std::span<const uint8_t> frame) {
  BitReader bits(frame);
  uint32_t marker = 0, low = 0, high = 0, reserved = 0, showExisting = 0, frameType = 0, skip = 0, sync = 0;
  if (!bits.read(2, marker) || marker != 2) return false;
  if (!bits.read(1, low) || !bits.read(1, high)) return false;
  if (high == 1 && low == 1 && !bits.read(1, reserved)) return false;  // profile 3
  if (!bits.read(1, showExisting) || showExisting != 0) return false;
  if (!bits.read(1, frameType) || frameType != 0) return false;
  // show_frame, error_resilient_mode, then the sync code.
  if (!bits.read(2, skip) || !bits.read(24, sync)) return false;
  return sync == 0x498342;
}

// H.264 NAL unit types (ITU-T H.264 Table 7-1) that start a keyframe.
constexpr uint8_t NalIdr = 5;
constexpr uint8_t NalSps = 7;
// RFC 6184 §5.2 aggregation and fragmentation units.
constexpr uint8_t NalStapA = 24;
constexpr uint8_t NalStapB = 25;
constexpr uint8_t NalFuA = 28;
constexpr uint8_t NalFuB = 29;

bool startsKeyframe(uint8_t nalType) { return nalType == NalIdr || nalType == NalSps; }

// AV1 spec §6.2.2 obu_type.
constexpr uint8_t ObuSequenceHeader = 1;

// AV1 spec §4.10.5 leb128(): at most 8 bytes, 7 bits each.
bool readLeb128(ByteReader& r, uint64_t& out) {
  out = 0;
  for (unsigned i = 0; i < 8; ++i) {
    uint8_t byte = 0;
    if (!r.readU8(byte)) return false;
    out |= uint64_t{byte & 0x7Fu} << (7 * i);
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

namespace keyframe {

bool isVp8Keyframe(std::span<const uint8_t> payload) {
  // RFC 7741 §4.2 payload descriptor: |X|R|N|S|R| PID |
  ByteReader r(payload);
  uint8_t first = 0;
  if (!r.readU8(first)) return false;
  const bool extended = first & 0x80;
  const bool start = first & 0x10;
  const uint8_t partition = first & 0x07;
  // Only the packet starting partition 0 carries the frame tag.
  if (!start || partition != 0) return false;
  if (extended) {
    uint8_t x = 0;  // |I|L|T|K| RSV |
    if (!r.readU8(x)) return false;
    if (x & 0x80) {  // I: PictureID, 15 bits when M is set
      uint8_t pid = 0;
      if (!r.readU8(pid)) return false;
      if ((pid & 0x80) && !r.skip(1)) return false;
    }
    if ((x & 0x40) && !r.skip(1)) return false;        // L: TL0PICIDX
    if ((x & 0x30) != 0 && !r.skip(1)) return false;   // T or K: |TID|Y| KEYIDX |
  }
  // RFC 7741 §4.3 / RFC 6386 §9.1: a 3-byte frame tag whose P bit (bit 0) is 0 for a key frame,
  // then the start code 0x9d 0x01 0x2a that every key frame carries.
  std::span<const uint8_t> header;
  if (!r.readBytes(6, header)) return false;
  return (header[0] & 0x01) == 0 && header[3] == 0x9d && header[4] == 0x01 && header[5] == 0x2a;
}

bool isVp9Keyframe(std::span<const uint8_t> payload) {
  // RFC 9628 §4.2 payload descriptor: |I|P|L|F|B|E|V|Z|
  ByteReader r(payload);
  uint8_t first = 0;
  if (!r.readU8(first)) return false;
  const bool hasPictureId = first & 0x80;
  const bool interPredicted = first & 0x40;
  const bool hasLayers = first & 0x20;
  const bool flexible = first & 0x10;
  const bool beginning = first & 0x08;
  const bool hasStructure = first & 0x02;
  if (interPredicted || !beginning) return false;
  if (hasPictureId) {
    uint8_t pid = 0;
    if (!r.readU8(pid)) return false;
    if ((pid & 0x80) && !r.skip(1)) return false;  // M: 15-bit picture ID
  }
  if (hasLayers) {
    uint8_t layers = 0;  // |TID|U| SID |D|
    if (!r.readU8(layers)) return false;
    const uint8_t spatial = (layers >> 1) & 0x07;
    if (spatial != 0) return false;                // a decoder starts on the base spatial layer
    if (!flexible && !r.skip(1)) return false;     // TL0PICIDX
  }
  // P_DIFF entries exist only with P set, and P is clear here.
  if (hasStructure) {
    // §4.2.1 scalability structure: |N_S|Y|G|-|-|-|
    uint8_t ss = 0;
    if (!r.readU8(ss)) return false;
    const unsigned spatialLayers = (ss >> 5) + 1u;
    if ((ss & 0x10) && !r.skip(4 * spatialLayers)) return false;  // Y: WIDTH and HEIGHT per layer
    if (ss & 0x08) {                                              // G: picture group description
      uint8_t groups = 0;
      if (!r.readU8(groups)) return false;
      for (unsigned g = 0; g < groups; ++g) {
        uint8_t desc = 0;  // |TID|U| R |-|-|
        if (!r.readU8(desc)) return false;
        if (!r.skip((desc >> 2) & 0x03)) return false;  // R P_DIFF bytes
      }
    }
  }
  return isVp9KeyframeHeader(r.rest());
}

bool isH264Keyframe(std::span<const uint8_t> payload) {
  // RFC 6184 §5.3 NAL unit header: |F|NRI| Type |
  ByteReader r(payload);
  uint8_t header = 0;
  if (!r.readU8(header)) return false;
  const uint8_t type = header & 0x1F;
  if (type >= 1 && type <= 23) return startsKeyframe(type);  // §5.6 single NAL unit packet
  if (type == NalStapA || type == NalStapB) {
    // §5.7.1: STAP-B starts with a 16-bit DON, then both are 16-bit size + NAL unit, repeated.
    if (type == NalStapB && !r.skip(2)) return false;
    while (!r.empty()) {
      uint16_t size = 0;
      std::span<const uint8_t> nal;
      if (!r.readU16(size) || size == 0 || !r.readBytes(size, nal)) return false;
      if (startsKeyframe(nal[0] & 0x1F)) return true;
    }
    return false;
  }
  if (type == NalFuA || type == NalFuB) {
    // §5.8: FU header |S|E|R| Type |; only the start fragment tells the NAL type.
    uint8_t fu = 0;
    if (!r.readU8(fu)) return false;
    return (fu & 0x80) && startsKeyframe(fu & 0x1F);
  }
  return false;  // MTAP16/24 are not used by WebRTC; reserved types carry nothing we know
}

bool isAv1Keyframe(std::span<const uint8_t> payload) {
  // AV1 RTP spec §4.4 aggregation header: |Z|Y| W |N|-|-|-|
  ByteReader r(payload);
  uint8_t aggregation = 0;
  if (!r.readU8(aggregation)) return false;
  if (aggregation & 0x08) return true;  // N: first packet of a coded video sequence
  const bool continuation = aggregation & 0x80;
  const unsigned count = (aggregation >> 4) & 0x03;  // W: 0 means every element has a length
  for (unsigned index = 0; !r.empty(); ++index) {
    uint64_t length = r.remaining();
    const bool last = count != 0 && index + 1 == count;
    if (!last && !readLeb128(r, length)) return false;
    std::span<const uint8_t> element;
    if (length > r.remaining() || !r.readBytes(static_cast<size_t>(length), element)) return false;
    // The first element of a Z packet is the tail of an OBU: no header to read.
    if (element.empty() || (index == 0 && continuation)) continue;
    // AV1 spec §5.3.2 obu_header: |F| type(4) |X|S|R|
    if (((element[0] >> 3) & 0x0F) == ObuSequenceHeader) return true;
    if (last) break;
  }
  return false;
}

}  // namespace keyframe

bool isKeyframe(VideoCodec codec, std::span<const uint8_t> payload) {
  switch (codec) {
    case VideoCodec::Vp8:
      return keyframe::isVp8Keyframe(payload);
    case VideoCodec::Vp9:
      return keyframe::isVp9Keyframe(payload);
    case VideoCodec::H264:
      return keyframe::isH264Keyframe(payload);
    case VideoCodec::Av1:
      return keyframe::isAv1Keyframe(payload);
    case VideoCodec::Any:
      break;
  }
  return false;
}

}  // namespace meeting::sfu
