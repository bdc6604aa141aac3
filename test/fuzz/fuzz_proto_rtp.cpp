// libFuzzer target: RTP parsing, every extension reader, in-place rewrites and RTX round trips.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "proto/rtp/Rtp.hpp"

using namespace meeting::proto::rtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Exactly `size` bytes on the heap so ASan catches any read past the packet.
  std::vector<uint8_t> buf(data, data + size);
  auto packet = RtpPacket::parse(buf);
  if (!packet) return 0;
  if (packet->headerSize() + packet->payloadSize() + packet->paddingSize() != size) std::abort();

  volatile size_t sink = 0;
  packet->forEachExtension([&](uint8_t id, std::span<const uint8_t> value) {
    sink = sink + id + value.size();
    if (packet->extension(id).data() == nullptr && !value.empty()) std::abort();
  });
  auto exercise = [&](uint8_t i) {
    sink = sink + readMid(*packet, i).size() + readRid(*packet, i).size() + readRepairedRid(*packet, i).size();
    if (auto v = readAbsSendTime(*packet, i)) sink = sink + *v;
    if (auto v = readTransportSequence(*packet, i)) sink = sink + *v;
    if (auto v = readAudioLevel(*packet, i)) sink = sink + v->level;
    if (auto v = readVideoOrientation(*packet, i)) sink = sink + v->rotationDegrees;
    sink = sink + readDependencyDescriptor(*packet, i).size();
    // Rewriting a value with itself must succeed and change nothing.
    auto value = packet->extension(i);
    if (packet->hasExtensionId(i)) {
      std::array<uint8_t, 256> copy{};
      if (!value.empty()) std::memcpy(copy.data(), value.data(), value.size());
      if (!packet->setExtension(i, std::span<const uint8_t>(copy.data(), value.size()))) std::abort();
    }
  };
  for (uint8_t id = 0; id < 16; ++id) exercise(id);
  packet->forEachExtension([&](uint8_t id, std::span<const uint8_t>) { exercise(id); });
  if (std::memcmp(buf.data(), data, size) != 0) std::abort();

  // Header rewrites keep the layout.
  packet->setSsrc(packet->ssrc() ^ 0x5A5A5A5A);
  packet->setSequenceNumber(static_cast<uint16_t>(packet->sequenceNumber() + 1));
  packet->setTimestamp(packet->timestamp() + 3000);
  packet->setPayloadType(static_cast<uint8_t>(packet->payloadType() + 1));
  packet->setMarker(!packet->marker());
  auto reparsed = RtpPacket::parse(buf);
  if (!reparsed || reparsed->headerSize() != packet->headerSize()) std::abort();
  (void)packet->remapExtensionId(1, 2);

  // RTX there and back.
  std::vector<uint8_t> rtxBuf(rtxPacketSize(*packet));
  auto rtx = buildRtx(*packet, RtxParams{97, 1234, 77}, rtxBuf);
  if (!rtx) std::abort();
  auto recovered = recoverFromRtx(*rtx, packet->payloadType(), packet->ssrc(), rtxBuf);
  if (!recovered || recovered->sequenceNumber() != packet->sequenceNumber() ||
      recovered->payloadSize() != packet->payloadSize() ||
      (packet->payloadSize() > 0 &&
       std::memcmp(recovered->payload().data(), packet->payload().data(), packet->payloadSize()) != 0)) {
    std::abort();
  }
  (void)sink;
  return 0;
}
