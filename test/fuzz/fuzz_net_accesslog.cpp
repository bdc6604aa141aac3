// Fuzzes the access log's redaction of request targets (any bytes a client sends as a target):
// never crash, never let the monitoring password or a credential query value through.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/AccessLog.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view target(reinterpret_cast<const char*>(data), size);
  const std::string out = meeting::net::redactTargetForLog(target);
  // Only "<redacted>" can make the line longer, and only once per query item plus the path.
  if (out.size() > target.size() + 10 * (size + 2)) __builtin_trap();
  const std::string_view path = target.substr(0, target.find('?'));
  if (path.starts_with("/monitoring/") && !std::string_view(out).starts_with("/monitoring/<redacted>")) __builtin_trap();
  return 0;
}
