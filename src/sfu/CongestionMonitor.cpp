#include "sfu/CongestionMonitor.hpp"

#include <algorithm>
#include <cstring>

#include "proto/rtcp/RtcpPacket.hpp"
#include "proto/rtp/RtpExtensions.hpp"
#include "proto/rtp/RtpPacket.hpp"

namespace meeting::sfu {
namespace rtcp = proto::rtcp;
namespace rtp = proto::rtp;

namespace {
int64_t micros(TimePoint t) { return t.time_since_epoch().count(); }
constexpr size_t Mask = CongestionMonitor::Capacity - 1;
}  // namespace

uint16_t CongestionMonitor::onSend(size_t bytes, TimePoint now) {
  const uint16_t sequence = nextSequence_++;
  sent_[sequence & Mask] = Sent{micros(now), static_cast<uint32_t>(bytes), sequence, true, 0};
  ++stats_.packetsSent;
  return sequence;
}

void CongestionMonitor::onTransportFeedback(const rtcp::TransportFeedback& feedback, TimePoint now) {
  ++stats_.feedbackPackets;
  Sample sample;
  sample.at = now;
  int64_t newestSend = INT64_MIN;
  int64_t lost = 0;
  feedback.forEachPacket([&](const rtcp::TwccPacketResult& result) {
    Sent& entry = sent_[result.sequence & Mask];
    if (!entry.valid || entry.sequence != result.sequence) {
      ++stats_.unknownReported;
      return;
    }
    if (result.received()) {
      if (entry.reported == 2) return;  // reported twice (the receiver rewound its window)
      if (entry.reported == 1) {        // late: it was reported lost before
        --stats_.packetsReportedLost;
        --lost;
      }
      entry.reported = 2;
      ++stats_.packetsReportedReceived;
      ++sample.received;
      sample.ackedBytes += entry.bytes;
      newestSend = std::max(newestSend, entry.sendTimeUs);
    } else if (entry.reported == 0) {
      entry.reported = 1;
      ++stats_.packetsReportedLost;
      ++lost;
    }
  });
  // A late packet's earlier "lost" sits in an older sample; this one carries the correction.
  sample.lost = static_cast<int32_t>(lost);
  if (newestSend != INT64_MIN) sample.rttUs = std::max<int64_t>(0, micros(now) - newestSend);
  samples_[sampleHead_] = sample;
  sampleHead_ = (sampleHead_ + 1) % MaxSamples;
  sampleCount_ = std::min(sampleCount_ + 1, MaxSamples);
}

void CongestionMonitor::onRemb(const rtcp::Remb& remb, TimePoint now) {
  stats_.rembBitrateBps = remb.bitrate();
  stats_.rembAt = now;
  ++stats_.rembPackets;
}

void CongestionMonitor::onRtcp(std::span<const uint8_t> compound, TimePoint now) {
  rtcp::CompoundReader reader(compound);
  rtcp::RtcpPacketView view;
  while (reader.next(view)) {
    if (view.is(rtcp::PacketType::RtpFeedback, rtcp::rtpfb::TransportFeedback)) {
      if (auto feedback = rtcp::TransportFeedback::parse(view)) onTransportFeedback(*feedback, now);
    } else if (view.is(rtcp::PacketType::PayloadFeedback, rtcp::psfb::Afb)) {
      if (auto remb = rtcp::Remb::parse(view)) onRemb(*remb, now);
    }
  }
}

CongestionStats CongestionMonitor::stats(TimePoint now) const {
  CongestionStats out = stats_;
  computeWindow(now, out);
  return out;
}

void CongestionMonitor::computeWindow(TimePoint now, CongestionStats& out) const {
  int64_t received = 0;
  int64_t lost = 0;
  uint64_t bytes = 0;
  uint64_t oldestBytes = 0;
  int64_t rtt = -1;
  TimePoint oldest = TimePoint::max();
  TimePoint newest = TimePoint::min();
  for (size_t i = 0; i < sampleCount_; ++i) {
    const Sample& s = samples_[i];
    if (s.at > now || now - s.at >= Window) continue;
    received += s.received;
    lost += s.lost;
    bytes += s.ackedBytes;
    if (s.rttUs >= 0 && (rtt < 0 || s.rttUs < rtt)) rtt = s.rttUs;
    if (s.at < oldest) {
      oldest = s.at;
      oldestBytes = s.ackedBytes;
    }
    newest = std::max(newest, s.at);
  }
  lost = std::max<int64_t>(lost, 0);
  out.lossFraction = received + lost > 0 ? static_cast<double>(lost) / static_cast<double>(received + lost) : 0.0;
  out.feedbackRttUs = rtt;
  // The oldest sample's bytes arrived before the interval starts: rate over what follows it.
  const int64_t span = newest > oldest ? micros(newest) - micros(oldest) : 0;
  out.ackedBitrateBps = span > 0 ? (bytes - oldestBytes) * 8 * 1'000'000 / static_cast<uint64_t>(span) : 0;
}

size_t writeTransportSequence(std::span<uint8_t> buffer, size_t length, uint8_t id, uint16_t sequence,
                              size_t reserve) {
  if (id == 0 || length > buffer.size()) return 0;
  auto packet = rtp::RtpPacket::parse(buffer, length);
  if (!packet) return 0;
  if (packet->hasExtensionId(id)) return rtp::writeTransportSequence(*packet, id, sequence) ? length : 0;

  uint8_t* data = buffer.data();
  const size_t csrcEnd = rtp::RtpPacket::FixedHeaderSize + 4 * size_t{packet->csrcCount()};
  const auto hi = static_cast<uint8_t>(sequence >> 8);
  const auto lo = static_cast<uint8_t>(sequence);
  if (!packet->hasExtension()) {
    // Add a whole extension header and one element: 8 bytes (RFC 8285 §4.2 / §4.3).
    if (buffer.size() - length < 8 + reserve) return 0;
    std::memmove(data + csrcEnd + 8, data + csrcEnd, length - csrcEnd);
    const bool oneByte = id <= 14;
    const uint8_t header[8] = {static_cast<uint8_t>(oneByte ? 0xBE : 0x10), static_cast<uint8_t>(oneByte ? 0xDE : 0x00),
                               0, 1,
                               static_cast<uint8_t>(oneByte ? (id << 4) | 1 : id), oneByte ? hi : uint8_t{2},
                               oneByte ? lo : hi, oneByte ? uint8_t{0} : lo};
    std::memcpy(data + csrcEnd, header, sizeof(header));
    data[0] |= 0x10;  // X bit
    return length + 8;
  }
  const bool oneByte = packet->hasOneByteExtensions();
  if (!oneByte && !packet->hasTwoByteExtensions()) return 0;  // an unknown profile: leave it alone
  if (oneByte && id > 14) return 0;
  const size_t elementSize = oneByte ? 3 : 4;
  const size_t blockStart = csrcEnd + 4;
  const size_t blockEnd = blockStart + packet->extensionBlock().size();
  // Padding after the last element (RFC 8285 §4.2: zero bytes) may hold the new element.
  size_t used = blockStart;
  packet->forEachExtension([&](uint8_t, std::span<const uint8_t> value) {
    used = std::max(used, static_cast<size_t>(value.data() + value.size() - data));
  });
  // Anything but padding after the walk (an id-15 stop, a malformed element): do not touch it.
  for (size_t i = used; i < blockEnd; ++i) {
    if (data[i] != 0) return 0;
  }
  const size_t spare = blockEnd - used;
  size_t grow = 0;
  if (spare < elementSize) {
    grow = 4;  // one more 32-bit word
    if (buffer.size() - length < grow + reserve) return 0;
    std::memmove(data + blockEnd + grow, data + blockEnd, length - blockEnd);
    std::memset(data + blockEnd, 0, grow);
    const size_t words = (blockEnd + grow - blockStart) / 4;
    data[csrcEnd + 2] = static_cast<uint8_t>(words >> 8);
    data[csrcEnd + 3] = static_cast<uint8_t>(words);
  }
  uint8_t* element = data + used;
  if (oneByte) {
    element[0] = static_cast<uint8_t>((id << 4) | 1);
    element[1] = hi;
    element[2] = lo;
  } else {
    element[0] = id;
    element[1] = 2;
    element[2] = hi;
    element[3] = lo;
  }
  return length + grow;
}

}  // namespace meeting::sfu
