// Fuzzes peer token verification (the sfuserver's /rtc input) and the base64url decoder.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/AccessToken.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)meeting::token::base64UrlDecode(input);
  (void)meeting::token::verifyJwt(input, "fuzz-secret");
  auto claims = meeting::token::verifyAccessToken(input, "fuzz-secret", 1'700'000'000);
  if (claims) {
    // A token that verifies must re-sign to a token that verifies to the same claims.
    auto again = meeting::token::signAccessToken(*claims, "fuzz-secret");
    if (!again || !meeting::token::verifyAccessToken(*again, "fuzz-secret", 1'700'000'000)) __builtin_trap();
  }
  return 0;
}
