#pragma once
// Pure helpers of the download path: Range requests (RFC 9110 §14), entity tags (RFC 9110
// §8.8.3, §13.1.2) and Content-Disposition (RFC 6266 with RFC 8187 encoding). No I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meeting::fs {

struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
  uint64_t length() const { return last - first + 1; }
};

struct RangeRequest {
  enum class Kind {
    Ignore,         ///< no Range header, not "bytes", malformed, or too many ranges: send 200
    Satisfiable,    ///< send 206 with `ranges`
    Unsatisfiable,  ///< send 416 (RFC 9110 §15.5.17)
  } kind = Kind::Ignore;
  std::vector<ByteRange> ranges;  // clamped to the representation, in request order
};

/// Most ranges honoured in one request; more are ignored (a 200), which RFC 9110 §14.2 allows and
/// which stops many-small-ranges amplification.
inline constexpr size_t MaxRanges = 16;

/// Parses a Range header value against a representation of `size` bytes (RFC 9110 §14.1.2).
RangeRequest parseRange(std::string_view header, uint64_t size);

/// True when an If-None-Match value matches `etag` (weak comparison, "*" matches, RFC 9110 §13.1.2).
bool ifNoneMatchMatches(std::string_view header, std::string_view etag);

/// The attachment/inline disposition with a safe ASCII `filename` and a UTF-8 `filename*`:
/// path parts, control characters, quotes and backslashes never reach the header.
std::string contentDisposition(std::string_view fileName, bool inlineDisposition);

}  // namespace meeting::fs
