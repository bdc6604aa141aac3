// KeyframeDetector: hand-built RTP payloads for VP8, VP9, H.264 and AV1, keyframes and delta
// frames, every optional descriptor field, and truncated input.
#include "sfu/KeyframeDetector.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "sfu/SdpNegotiation.hpp"

namespace meeting::sfu {
namespace {
using Bytes = std::vector<uint8_t>;

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// `payload` is the shortest keyframe payload of its kind: every strict prefix must say "no"
// (and not read past its end).
void expectPrefixesFalse(const Bytes& payload, bool (*detect)(std::span<const uint8_t>)) {
  EXPECT_TRUE(detect(payload));
  for (size_t n = 0; n < payload.size(); ++n) {
    EXPECT_FALSE(detect(std::span<const uint8_t>(payload.data(), n))) << "prefix of " << n << " bytes";
  }
}

// ---- VP8 (RFC 7741) ----

// RFC 6386 §9.1: frame tag (P bit 0 = key frame), start code, 14-bit width/height.
const Bytes Vp8KeyHeader{0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};
const Bytes Vp8DeltaHeader{0x31, 0x05, 0x00, 0x12, 0x34, 0x56};

TEST(KeyframeDetector, Vp8MinimalDescriptor) {
  const Bytes key = cat({0x10}, Vp8KeyHeader);  // S=1, PID=0
  EXPECT_TRUE(keyframe::isVp8Keyframe(key));
  EXPECT_TRUE(isKeyframe(VideoCodec::Vp8, key));
  EXPECT_FALSE(keyframe::isVp8Keyframe(cat({0x10}, Vp8DeltaHeader)));
  expectPrefixesFalse(Bytes(key.begin(), key.end() - 4), keyframe::isVp8Keyframe);  // without width/height
}

TEST(KeyframeDetector, Vp8ExtendedDescriptor) {
  // X, then I (15-bit picture ID), L (TL0PICIDX), T and K (TID/Y/KEYIDX).
  const Bytes key = cat({0x90, 0xF0, 0x80 | 0x12, 0x34, 0x05, 0x40}, Vp8KeyHeader);
  EXPECT_TRUE(keyframe::isVp8Keyframe(key));
  expectPrefixesFalse(Bytes(key.begin(), key.end() - 4), keyframe::isVp8Keyframe);
  // 7-bit picture ID only.
  EXPECT_TRUE(keyframe::isVp8Keyframe(cat({0x90, 0x80, 0x12}, Vp8KeyHeader)));
  EXPECT_FALSE(keyframe::isVp8Keyframe(cat({0x90, 0x80, 0x12}, Vp8DeltaHeader)));
}

TEST(KeyframeDetector, Vp8OnlyAtStartOfPartitionZero) {
  EXPECT_FALSE(keyframe::isVp8Keyframe(cat({0x00}, Vp8KeyHeader)));  // S=0: a continuation
  EXPECT_FALSE(keyframe::isVp8Keyframe(cat({0x11}, Vp8KeyHeader)));  // partition 1
  // P bit 0 but no start code: not a valid key frame.
  EXPECT_FALSE(keyframe::isVp8Keyframe(Bytes{0x10, 0x50, 0x02, 0x00, 0x00, 0x00, 0x00}));
}

// ---- VP9 (RFC 9628) ----

// Packs bit fields MSB first, for VP9 uncompressed headers.
class Bits {
 public:
  Bits& put(uint32_t value, unsigned count) {
    for (unsigned i = count; i-- > 0;) {
      if (used_ % 8 == 0) bytes_.push_back(0);
      bytes_.back() = static_cast<uint8_t>(bytes_.back() | (((value >> i) & 1u) << (7 - used_ % 8)));
      ++used_;
    }
    return *this;
  }
  Bytes bytes() const { return bytes_; }

 private:
  Bytes bytes_;
  unsigned used_ = 0;
};

// VP9 bitstream §6.2: frame_marker, profile, [reserved], show_existing_frame, frame_type,
// show_frame, error_resilient_mode, and for a key frame the sync code (the header goes on, but
// nothing after the sync code matters here).
Bytes vp9Header(unsigned profile, unsigned frameType) {
  Bits b;
  b.put(2, 2).put(profile & 1u, 1).put(profile >> 1, 1);
  if (profile == 3) b.put(0, 1);
  b.put(0, 1).put(frameType, 1).put(1, 1).put(0, 1).put(0x498342, 24);
  return b.bytes();
}

TEST(KeyframeDetector, Vp9NonFlexibleWithScalabilityStructure) {
  // I, L, B, V: 15-bit picture ID; TID 0/SID 0 and TL0PICIDX; SS with one spatial layer (Y: 640x480)
  // and one picture group entry with one P_DIFF.
  const Bytes descriptor{0xAA, 0x81, 0x23, 0x00, 0x07, 0x18, 0x02, 0x80, 0x01, 0xE0, 0x01, 0x04, 0x01};
  const Bytes key = cat(descriptor, vp9Header(0, 0));
  EXPECT_TRUE(keyframe::isVp9Keyframe(key));
  EXPECT_TRUE(isKeyframe(VideoCodec::Vp9, key));
  expectPrefixesFalse(key, keyframe::isVp9Keyframe);
}

TEST(KeyframeDetector, Vp9ScalabilityStructureThreeLayers) {
  // N_S = 2 (three layers), Y: three width/height pairs, no G.
  const Bytes descriptor{0x8A, 0x05, 0x50, 0x01, 0x40, 0x00, 0xB4, 0x02, 0x80, 0x01, 0x68, 0x05, 0x00, 0x02, 0xD0};
  EXPECT_TRUE(keyframe::isVp9Keyframe(cat(descriptor, vp9Header(0, 0))));
}

TEST(KeyframeDetector, Vp9FlexibleMode) {
  const Bytes key = cat({0xB8, 0x05, 0x00}, vp9Header(0, 0));  // I, L, F, B; SID 0; no TL0PICIDX
  EXPECT_TRUE(keyframe::isVp9Keyframe(key));
  expectPrefixesFalse(key, keyframe::isVp9Keyframe);
  // Profile 2 and profile 3 (with its reserved bit) key frames.
  EXPECT_TRUE(keyframe::isVp9Keyframe(cat({0xB8, 0x05, 0x00}, vp9Header(2, 0))));
  EXPECT_TRUE(keyframe::isVp9Keyframe(cat({0xB8, 0x05, 0x00}, vp9Header(3, 0))));
  // No picture ID and no layer indices at all: spatial layer 0 implied.
  EXPECT_TRUE(keyframe::isVp9Keyframe(cat({0x18}, vp9Header(1, 0))));
}

TEST(KeyframeDetector, Vp9DeltaAndUpperLayers) {
  EXPECT_FALSE(keyframe::isVp9Keyframe(cat({0xF8, 0x05, 0x00, 0x02}, vp9Header(0, 1))));  // P with one P_DIFF
  EXPECT_FALSE(keyframe::isVp9Keyframe(cat({0xB0, 0x05, 0x00}, vp9Header(0, 0))));        // B=0: not the start
  EXPECT_FALSE(keyframe::isVp9Keyframe(cat({0xB8, 0x05, 0x03}, vp9Header(0, 0))));        // SID 1 (D set)
  // P=0 but the frame header says non-key (an intra-only frame): not a keyframe.
  EXPECT_FALSE(keyframe::isVp9Keyframe(cat({0xB8, 0x05, 0x00}, vp9Header(0, 1))));
  // Bad frame marker or sync code.
  Bytes bad = cat({0xB8, 0x05, 0x00}, vp9Header(0, 0));
  bad[3] = 0x42;
  EXPECT_FALSE(keyframe::isVp9Keyframe(bad));
  bad = cat({0xB8, 0x05, 0x00}, vp9Header(0, 0));
  bad[5] ^= 0x10;
  EXPECT_FALSE(keyframe::isVp9Keyframe(bad));
}

// ---- H.264 (RFC 6184) ----

TEST(KeyframeDetector, H264SingleNalUnits) {
  EXPECT_TRUE(keyframe::isH264Keyframe(Bytes{0x65, 0x88, 0x84, 0x00}));  // IDR slice
  EXPECT_TRUE(keyframe::isH264Keyframe(Bytes{0x67, 0x42, 0xC0, 0x1F}));  // SPS
  EXPECT_TRUE(isKeyframe(VideoCodec::H264, Bytes{0x25, 0xB8}));         // IDR, NRI 1
  EXPECT_FALSE(keyframe::isH264Keyframe(Bytes{0x68, 0xCE, 0x3C, 0x80}));  // PPS
  EXPECT_FALSE(keyframe::isH264Keyframe(Bytes{0x41, 0x9A, 0x02}));        // non-IDR slice
  EXPECT_FALSE(keyframe::isH264Keyframe(Bytes{0x06, 0x05}));              // SEI
  EXPECT_FALSE(keyframe::isH264Keyframe(Bytes{}));
}

TEST(KeyframeDetector, H264StapA) {
  const Bytes key{0x78, 0x00, 0x04, 0x67, 0x42, 0xC0, 0x1F, 0x00, 0x02, 0x68, 0xCE, 0x00, 0x03, 0x65, 0x88, 0x84};
  EXPECT_TRUE(keyframe::isH264Keyframe(key));
  // IDR as the last unit, after SEI and PPS.
  EXPECT_TRUE(keyframe::isH264Keyframe(Bytes{0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x68, 0xCE, 0x00, 0x01, 0x65}));
  EXPECT_FALSE(keyframe::isH264Keyframe(Bytes{0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x41, 0x9A}));
  // A size past the end, or zero: malformed, even if an IDR could be seen beyond.
  EXPECT_FALSE(keyframe::isH264Keyframe(Bytes{0x78, 0x00, 0x09, 0x65, 0x88}));
  EXPECT_FALSE(keyframe::isH264Keyframe(Bytes{0x78, 0x00, 0x00, 0x00, 0x01, 0x65}));
  // Only the first NAL unit's size byte present.
  EXPECT_FALSE(keyframe::isH264Keyframe(Bytes{0x78, 0x00}));
}

TEST(KeyframeDetector, H264StapB) {
  // 16-bit DON before the units.
  EXPECT_TRUE(keyframe::isH264Keyframe(Bytes{0x79, 0x12, 0x34, 0x00, 0x02, 0x65, 0x88}));
  EXPECT_FALSE(keyframe::isH264Keyframe(Bytes{0x79, 0x12}));
}

TEST(KeyframeDetector, H264Fragments) {
  EXPECT_TRUE(keyframe::isH264Keyframe(Bytes{0x7C, 0x85, 0x88, 0x84}));   // FU-A start of IDR
  EXPECT_FALSE(keyframe::isH264Keyframe(Bytes{0x7C, 0x05, 0x88, 0x84}));  // middle fragment of IDR
  EXPECT_FALSE(keyframe::isH264Keyframe(Bytes{0x7C, 0x45, 0x88}));        // end fragment
  EXPECT_FALSE(keyframe::isH264Keyframe(Bytes{0x7C, 0x81, 0x9A}));        // start of a non-IDR slice
  EXPECT_FALSE(keyframe::isH264Keyframe(Bytes{0x7C}));                    // no FU header
  EXPECT_TRUE(keyframe::isH264Keyframe(Bytes{0x7D, 0x85, 0x00, 0x01, 0x88}));  // FU-B
}

// ---- AV1 (AOM RTP payload format) ----

TEST(KeyframeDetector, Av1NewCodedVideoSequence) {
  // N=1, W=1; one OBU (a frame) without a length field.
  EXPECT_TRUE(keyframe::isAv1Keyframe(Bytes{0x18, 0x32, 0x00, 0x01}));
  EXPECT_TRUE(isKeyframe(VideoCodec::Av1, Bytes{0x18, 0x32}));
}

TEST(KeyframeDetector, Av1SequenceHeaderObu) {
  // W=2: a temporal delimiter with a length, then a sequence header to the end.
  EXPECT_TRUE(keyframe::isAv1Keyframe(Bytes{0x20, 0x01, 0x10, 0x08, 0x00, 0x00, 0x00}));
  // W=0: every element has a length; the sequence header is the second.
  const Bytes key{0x00, 0x01, 0x10, 0x03, 0x08, 0x00, 0x00, 0x02, 0x30, 0x00};
  EXPECT_TRUE(keyframe::isAv1Keyframe(key));
  expectPrefixesFalse(Bytes(key.begin(), key.begin() + 7), keyframe::isAv1Keyframe);
  // A two-byte LEB128 length (130) in front of a sequence header.
  Bytes big{0x00, 0x82, 0x01, 0x0A};
  big.resize(3 + 130, 0x00);
  EXPECT_TRUE(keyframe::isAv1Keyframe(big));
  big.pop_back();  // one byte short of its length
  EXPECT_FALSE(keyframe::isAv1Keyframe(big));
}

TEST(KeyframeDetector, Av1DeltaFrames) {
  EXPECT_FALSE(keyframe::isAv1Keyframe(Bytes{0x10, 0x32, 0x00, 0x01}));        // W=1, one frame OBU
  EXPECT_FALSE(keyframe::isAv1Keyframe(Bytes{0x20, 0x01, 0x10, 0x32, 0x00}));  // TD + frame
  // Z: the first element continues an OBU; its bytes look like a sequence header but are not one.
  EXPECT_FALSE(keyframe::isAv1Keyframe(Bytes{0xA0, 0x02, 0x08, 0x00, 0x32, 0x00}));
  EXPECT_FALSE(keyframe::isAv1Keyframe(Bytes{0x80, 0x08, 0x00}));  // W=0, Z: length 8 past the end
  EXPECT_FALSE(keyframe::isAv1Keyframe(Bytes{}));
  // An unterminated LEB128.
  EXPECT_FALSE(keyframe::isAv1Keyframe(Bytes{0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}));
}

TEST(KeyframeDetector, AnyCodecIsNever) {
  EXPECT_FALSE(isKeyframe(VideoCodec::Any, Bytes{0x65}));
}

}  // namespace
}  // namespace meeting::sfu
