#include "sfu/MediaRelay.hpp"

#include <openssl/rand.h>

#include <array>

#include "common/ByteReader.hpp"
#include "proto/rtcp/Rtcp.hpp"
#include "proto/rtp/Rtx.hpp"

namespace meeting::sfu {
namespace rtcp = proto::rtcp;

uint32_t randomSsrc() {
  uint32_t value = 0;
  while (value < 2) RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof(value));
  return value;
}

void readSubscriberFeedback(std::span<const uint8_t> compound, const std::function<void(uint32_t)>& keyframe,
                            const std::function<void(uint32_t, uint16_t)>& nack) {
  rtcp::CompoundReader reader(compound);
  rtcp::RtcpPacketView view;
  while (reader.next(view)) {
    if (view.is(rtcp::PacketType::PayloadFeedback, rtcp::psfb::Pli)) {
      if (auto pli = rtcp::Pli::parse(view)) keyframe(pli->mediaSsrc());
    } else if (view.is(rtcp::PacketType::PayloadFeedback, rtcp::psfb::Fir)) {
      if (auto fir = rtcp::Fir::parse(view)) {
        for (size_t i = 0; i < fir->entryCount(); ++i) keyframe(fir->entry(i).ssrc);
      }
    } else if (view.is(rtcp::PacketType::RtpFeedback, rtcp::rtpfb::Nack)) {
      if (auto parsed = rtcp::Nack::parse(view)) {
        uint32_t ssrc = parsed->mediaSsrc();
        parsed->forEachLost([&nack, ssrc](uint16_t sequence) { nack(ssrc, sequence); });
      }
    }
  }
}

void forEachSenderReport(std::span<const uint8_t> compound,
                         const std::function<void(uint32_t, std::span<const uint8_t>)>& report) {
  rtcp::CompoundReader reader(compound);
  rtcp::RtcpPacketView view;
  while (reader.next(view)) {
    if (view.packetType() != rtcp::PacketType::SenderReport || view.packet.size() < 28) continue;
    uint32_t ssrc = (uint32_t{view.packet[4]} << 24) | (uint32_t{view.packet[5]} << 16) |
                    (uint32_t{view.packet[6]} << 8) | view.packet[7];
    if (ssrc != 0) report(ssrc, view.packet);
  }
}

void sendKeyframeRequest(WebRtcTransport& publisher, uint32_t mediaSsrc) {
  std::array<uint8_t, rtcp::Pli::Size + WebRtcTransport::SrtpHeadroom> buffer{};
  ByteWriter writer(buffer);
  if (rtcp::Pli::build(writer, FeedbackSenderSsrc, mediaSsrc)) publisher.sendRtcp(buffer, writer.size());
}

void forwardSenderReport(std::span<const uint8_t> senderReport, uint32_t ssrc, WebRtcTransport& subscriber,
                         const SenderReportRewrite* rewrite) {
  if (senderReport.size() < 28) return;
  std::array<uint8_t, 28 + WebRtcTransport::SrtpHeadroom> sr{};
  std::copy(senderReport.begin(), senderReport.begin() + 28, sr.begin());
  sr[0] = 0x80;  // V=2, no padding, RC=0
  sr[2] = 0;
  sr[3] = 6;     // 7 words
  ByteWriter writer(std::span<uint8_t>(sr.data() + 4, 4));
  writer.writeU32(ssrc);
  if (rewrite) {
    // Layout (RFC 3550 §6.4.1): SSRC, NTP (8), RTP timestamp at 16, packet count 20, octets 24.
    ByteReader reader(std::span<const uint8_t>(sr.data() + 16, 4));
    uint32_t timestamp = 0;
    (void)reader.readU32(timestamp);
    timestamp += rewrite->timestampOffset;
    ByteWriter counts(std::span<uint8_t>(sr.data() + 16, 12));
    counts.writeU32(timestamp);
    counts.writeU32(rewrite->packetCount);
    counts.writeU32(rewrite->octetCount);
  }
  subscriber.sendRtcp(sr, 28);
}

void retransmitFromCache(const PacketCache& cache, uint16_t sequenceNumber, const RtxStream* rtx,
                         WebRtcTransport& subscriber, std::span<uint8_t> scratch, std::span<uint8_t> rtxScratch) {
  auto cached = cache.find(sequenceNumber);
  if (cached.empty() || cached.size() > scratch.size()) return;
  std::copy(cached.begin(), cached.end(), scratch.begin());
  auto original = proto::rtp::RtpPacket::parse(scratch, cached.size());
  if (!original) return;
  if (!rtx) {  // no RTX negotiated: resend the packet itself (RFC 4585 §6.2.1 allows it)
    subscriber.sendRtp(scratch, original->size());
    return;
  }
  proto::rtp::RtxParams params{rtx->payloadType, rtx->ssrc, (*rtx->sequence)++};
  if (auto packet = proto::rtp::buildRtx(*original, params, rtxScratch)) subscriber.sendRtp(rtxScratch, packet->size());
}

bool carriesMid(const proto::rtp::RtpPacket& packet, const std::vector<proto::sdp::Extmap>& extmaps, std::string_view mid) {
  for (const auto& extmap : extmaps) {
    if (extmap.uri != MidExtensionUri || extmap.id == 0 || extmap.id > 255) continue;
    auto value = packet.extension(static_cast<uint8_t>(extmap.id));
    return std::string_view(reinterpret_cast<const char*>(value.data()), value.size()) == mid;
  }
  return false;
}

}  // namespace meeting::sfu
