// libFuzzer target: compound RTCP walk, every packet parser, and re-serialization of what parsed
// (the re-serialized packet must parse again to the same values).
#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "proto/rtcp/Rtcp.hpp"

using namespace meeting;
using namespace meeting::proto::rtcp;

namespace {

std::array<uint8_t, 300'000> out;

// The single packet written into `w`, parsed again with T::parse.
template <typename T>
std::optional<T> reparse(const ByteWriter& w) {
  CompoundReader reader(w.written());
  RtcpPacketView view;
  if (!reader.next(view)) std::abort();
  return T::parse(view);
}

template <typename T>
std::optional<T> roundTrip(const T& parsed) {
  ByteWriter w(out);
  if (!parsed.serialize(w)) std::abort();
  auto again = reparse<T>(w);
  if (!again) std::abort();
  return again;
}

void checkTwcc(const TransportFeedback& fb) {
  auto again = roundTrip(fb);
  if (again->statusCount() != fb.statusCount() || again->receivedCount() != fb.receivedCount()) std::abort();
  // Rebuild feedback from what was received and check it parses with the same count.
  static std::array<TwccArrival, 65536> arrivals;
  size_t n = 0;
  fb.forEachPacket([&](const TwccPacketResult& r) {
    if (r.received()) arrivals[n++] = TwccArrival{r.sequence, r.receiveTimeUs};
  });
  if (n != fb.receivedCount()) std::abort();
  size_t done = 0;
  while (done < n) {
    ByteWriter w(out);
    const size_t used = TransportFeedback::build(w, 1, 2, 0, std::span(arrivals).subspan(done, n - done));
    if (used == 0) std::abort();
    auto built = reparse<TransportFeedback>(w);
    if (!built || built->receivedCount() != used) std::abort();
    done += used;
  }
}

void checkPacket(const RtcpPacketView& view) {
  if (auto sr = SenderReport::parse(view)) {
    auto again = roundTrip(*sr);
    if (!(again->info() == sr->info()) || again->reportCount() != sr->reportCount()) std::abort();
    for (size_t i = 0; i < sr->reportCount(); ++i) {
      if (!(again->reportBlock(i) == sr->reportBlock(i))) std::abort();
    }
  }
  if (auto rr = ReceiverReport::parse(view)) {
    if (roundTrip(*rr)->reportCount() != rr->reportCount()) std::abort();
  }
  if (auto sdes = Sdes::parse(view)) {
    if (roundTrip(*sdes)->cname() != sdes->cname()) std::abort();
  }
  if (auto bye = Bye::parse(view)) {
    auto again = roundTrip(*bye);
    if (again->ssrcCount() != bye->ssrcCount() || again->reason() != bye->reason()) std::abort();
  }
  if (auto app = App::parse(view)) {
    if (roundTrip(*app)->ssrc() != app->ssrc()) std::abort();
  }
  if (auto nack = Nack::parse(view)) {
    if (roundTrip(*nack)->itemCount() != nack->itemCount()) std::abort();
    static std::array<uint16_t, 17 * 70'000> lost;
    const size_t n = nack->lostSequences(lost);
    ByteWriter w(out);
    if (!Nack::build(w, 1, 2, std::span<const uint16_t>(lost.data(), n)) || !reparse<Nack>(w)) std::abort();
  }
  if (auto pli = Pli::parse(view)) {
    if (roundTrip(*pli)->mediaSsrc() != pli->mediaSsrc()) std::abort();
  }
  if (auto fir = Fir::parse(view)) {
    if (roundTrip(*fir)->entryCount() != fir->entryCount()) std::abort();
  }
  if (auto remb = Remb::parse(view)) {
    auto again = roundTrip(*remb);
    if (again->bitrate() != remb->bitrate() || again->ssrcCount() != remb->ssrcCount()) std::abort();
  }
  if (auto fb = TransportFeedback::parse(view)) checkTwcc(*fb);
  if (auto xr = Xr::parse(view)) {
    auto again = roundTrip(*xr);
    if (again->rrtr() != xr->rrtr()) std::abort();
    size_t a = 0, b = 0;
    xr->forEachDlrr([&](const DlrrItem&) { ++a; });
    again->forEachDlrr([&](const DlrrItem&) { ++b; });
    if (a != b) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> buf(data, data + size);  // exact size: ASan sees over-reads
  CompoundReader reader(buf);
  RtcpPacketView view;
  while (reader.next(view)) checkPacket(view);
  return 0;
}
