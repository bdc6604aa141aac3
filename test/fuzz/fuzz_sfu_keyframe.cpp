// Keyframe detection on RTP payloads of every codec: bounded by the span whatever the bytes
// (ASan catches any read past it), deterministic, and the dispatcher agrees with the per-codec
// functions.
#include <cstdlib>
#include <span>

#include "sfu/KeyframeDetector.hpp"
#include "sfu/SdpNegotiation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meeting::sfu;
  const std::span<const uint8_t> in(data, size);
  const bool vp8 = keyframe::isVp8Keyframe(in);
  const bool vp9 = keyframe::isVp9Keyframe(in);
  const bool h264 = keyframe::isH264Keyframe(in);
  const bool av1 = keyframe::isAv1Keyframe(in);
  if (isKeyframe(VideoCodec::Vp8, in) != vp8 || isKeyframe(VideoCodec::Vp9, in) != vp9 ||
      isKeyframe(VideoCodec::H264, in) != h264 || isKeyframe(VideoCodec::Av1, in) != av1 ||
      isKeyframe(VideoCodec::Any, in))
    std::abort();
  return 0;
}
