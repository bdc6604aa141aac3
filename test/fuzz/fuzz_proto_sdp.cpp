// libFuzzer target for the SDP parser: parse arbitrary text; whatever parses must serialize to
// text that parses again to the same model (the writer and parser agree on every field).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proto/sdp/Sdp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meeting::proto::sdp;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto first = parse(input);
  if (!first.ok()) return 0;
  std::string text = serialize(*first);
  // LF input near the size limit grows by one byte per line when written with CRLF.
  if (text.size() > MaxSdpBytes) return 0;
  auto second = parse(text);
  if (!second.ok()) std::abort();      // the writer produced something the parser refuses
  if (!(*second == *first)) std::abort();  // a field did not survive the round trip
  if (serialize(*second) != text) std::abort();
  // Exercise the read helpers too.
  for (const MediaSection& m : first->media) {
    (void)first->effectiveIce(m);
    (void)first->effectiveFingerprints(m);
    (void)m.ssrcStreams();
    (void)m.simulcastRids(RidDirection::Send);
    (void)m.findCodec("VP8");
    (void)m.findExtmapId("urn:ietf:params:rtp-hdrext:sdes:mid");
    for (const Candidate& c : m.candidates) {
      auto again = parseCandidate(formatCandidate(c));
      if (!again.ok() || !(*again == c)) std::abort();
    }
  }
  return 0;
}
