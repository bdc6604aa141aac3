// Fuzzes the fsserver's download-header parsers: Range (against several sizes), If-None-Match,
// and the Content-Disposition builder fed with hostile upload names.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fs/HttpRanges.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (uint64_t total : {uint64_t{0}, uint64_t{1}, uint64_t{1000}, UINT64_MAX}) {
    auto r = meeting::fs::parseRange(input, total);
    if (r.ranges.size() > meeting::fs::MaxRanges) __builtin_trap();
    for (const auto& range : r.ranges) {
      if (range.first > range.last || range.last >= total) __builtin_trap();
    }
  }
  (void)meeting::fs::ifNoneMatchMatches(input, "\"abc\"");
  auto cd = meeting::fs::contentDisposition(input, size % 2 == 0);
  for (char c : cd) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) __builtin_trap();  // no header injection
  }
  return 0;
}
