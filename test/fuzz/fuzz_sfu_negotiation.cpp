// Any parseable offer (or answer) goes through the SFU's negotiation without crashing, and an
// answer it produces always serializes into a description the parser accepts again.
#include <cstdlib>

#include "proto/sdp/SdpParser.hpp"
#include "proto/sdp/SdpWriter.hpp"
#include "sfu/SdpNegotiation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meeting;
  auto offer = proto::sdp::parse({reinterpret_cast<const char*>(data), size});
  if (!offer) return 0;
  (void)sfu::remoteTransportParameters(*offer, true);
  sfu::LocalTransportDescription local{sfu::IceCredentials{"ufragufragufrag1", "passwordpasswordpasswordpassword"},
                                       "sha-256 00:11", {}};
  auto answer = sfu::answerPublishOffer(*offer, local, {});
  if (answer && !proto::sdp::parse(proto::sdp::serialize(answer->answer))) std::abort();
  return 0;
}
