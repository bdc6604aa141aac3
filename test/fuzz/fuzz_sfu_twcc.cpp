// Transport-wide congestion control on hostile input. The first byte picks the part:
// 0: a subscriber's compound RTCP (TWCC feedback, REMB, anything) into CongestionMonitor;
// 1: a stream of (sequence, time step) pairs into TransportCcFeedback, whose feedback must
//    always parse again and never report more packets than it was given;
// 2: an RTP packet whose transport-wide sequence is written in place or added, which must
//    still parse, carry the number, and keep its payload.
#include <cstdlib>
#include <cstring>
#include <vector>

#include "proto/rtcp/Rtcp.hpp"
#include "proto/rtp/RtpExtensions.hpp"
#include "proto/rtp/RtpPacket.hpp"
#include "sfu/CongestionMonitor.hpp"
#include "sfu/TransportCcFeedback.hpp"

namespace {
using namespace meeting;

void monitor(const uint8_t* data, size_t size) {
  sfu::CongestionMonitor m;
  TimePoint now{std::chrono::seconds(10)};
  for (int i = 0; i < 300; ++i) m.onSend(static_cast<size_t>(100 + i), now);
  m.onRtcp({data, size}, now);
  auto stats = m.stats(now + std::chrono::milliseconds(5));
  if (stats.lossFraction < 0 || stats.lossFraction > 1) std::abort();
}

void feedback(const uint8_t* data, size_t size) {
  sfu::TransportCcFeedback fb(1, 300);
  TimePoint now{std::chrono::seconds(10)};
  size_t given = 0;
  for (size_t i = 0; i + 3 <= size; i += 3) {
    const auto sequence = static_cast<uint16_t>(data[i] << 8 | data[i + 1]);
    now += std::chrono::microseconds(static_cast<int64_t>(data[i + 2]) * 997);
    fb.onPacket(sequence, 42, now);
    ++given;
    if (data[i + 2] == 0xFF || fb.due(now)) {
      size_t received = 0;
      fb.flush(now, [&](std::span<uint8_t> buffer, size_t length) {
        if (length > 300 || buffer.size() < length + sfu::TransportCcFeedback::Headroom) std::abort();
        proto::rtcp::CompoundReader reader(buffer.first(length));
        proto::rtcp::RtcpPacketView view;
        if (!reader.next(view)) std::abort();
        auto parsed = proto::rtcp::TransportFeedback::parse(view);
        if (!parsed) std::abort();
        received += parsed->receivedCount();
      });
      if (received > given + sfu::TransportCcFeedback::Capacity) std::abort();
      given = 0;
    }
  }
}

void writer(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const uint8_t id = data[0];
  const size_t spare = data[1] % 40;
  std::vector<uint8_t> buffer(data + 2, data + size);
  const size_t length = buffer.size();
  buffer.resize(length + spare, 0xEE);
  auto before = proto::rtp::RtpPacket::parse(buffer, length);
  std::vector<uint8_t> payload;
  if (before) payload.assign(before->payload().begin(), before->payload().end());
  const size_t n = sfu::writeTransportSequence(buffer, length, id, 0xA55A, 16);
  if (n == 0) return;
  // In place keeps the length; adding the element must leave the SRTP reserve free.
  if (!before || n < length || n > length + 8 || (n > length && n + 16 > buffer.size())) std::abort();
  auto after = proto::rtp::RtpPacket::parse(buffer, n);
  if (!after || proto::rtp::readTransportSequence(*after, id) != 0xA55A) std::abort();
  if (after->payloadSize() != payload.size() ||
      (!payload.empty() && std::memcmp(after->payload().data(), payload.data(), payload.size()) != 0)) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  switch (data[0] % 3) {
    case 0: monitor(data + 1, size - 1); break;
    case 1: feedback(data + 1, size - 1); break;
    default: writer(data + 1, size - 1); break;
  }
  return 0;
}
