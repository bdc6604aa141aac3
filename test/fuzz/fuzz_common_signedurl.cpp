// Fuzzes the fsserver's signed-URL verifier (the query string of every /fs request).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/SignedUrl.hpp"

namespace su = meeting::signedurl;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr int64_t Now = 1'700'000'000;
  for (auto op : {su::Operation::Upload, su::Operation::Download, su::Operation::MinutesWrite}) {
    auto grant = su::verifyQuery(input, op, "0123456789abcdef0123456789abcdef", "fuzz-secret", Now);
    if (grant) {
      // Whatever verifies must be exactly what signing that grant produces fields for.
      auto again = su::sign(*grant, "fuzz-secret");
      if (!again || !su::verifyQuery(*again, op, grant->id, "fuzz-secret", Now)) __builtin_trap();
      if (!su::isValidRoom(grant->room) || grant->expiresAt <= Now) __builtin_trap();
      if (!su::isValidSubject(grant->subject)) __builtin_trap();
    }
  }
  return 0;
}
