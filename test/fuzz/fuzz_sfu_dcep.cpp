// DCEP (RFC 8832) DATA_CHANNEL_OPEN/ACK parsing: must never crash, and what parses must
// serialize back to the same bytes.
#include <cstdlib>

#include "sfu/DcepMessage.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  (void)meeting::sfu::dcep::isAck(in);
  auto open = meeting::sfu::dcep::parseOpen(in);
  if (!open) return 0;
  std::vector<uint8_t> out;
  if (!meeting::sfu::dcep::serializeOpen(*open, out)) std::abort();
  // Reliable types zero the (ignored) reliability parameter, so compare after re-parsing.
  auto again = meeting::sfu::dcep::parseOpen(out);
  if (!again || again->label != open->label || again->protocol != open->protocol || again->type != open->type ||
      again->priority != open->priority || again->reliabilityParameter != open->reliabilityParameter)
    std::abort();
  return 0;
}
