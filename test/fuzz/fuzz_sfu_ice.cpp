// ICE-lite fed hostile binding requests: whatever the bytes, handleRequest must not crash, read
// out of bounds, or answer with anything but a well-formed STUN message.
#include <cstdlib>

#include "proto/stun/StunMessage.hpp"
#include "sfu/IceLite.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meeting;
  static sfu::IceLite ice(sfu::IceCredentials{"fuzzufrag", "fuzzpasswordfuzzpassword"}, {}, {});
  auto message = proto::stun::StunMessage::parse({data, size});
  if (!message) return 0;
  std::array<uint8_t, 512> response{};
  sfu::IcePath path{sfu::IceProtocol::Udp, proto::stun::Address::v4({198, 51, 100, 1}, 9), nullptr};
  auto result = ice.handleRequest(*message, path, TimePoint{}, response);
  if (result.responseSize > 0 && !proto::stun::StunMessage::parse({response.data(), result.responseSize})) std::abort();
  ice.tick(TimePoint{} + std::chrono::seconds(size));
  return 0;
}
