#include "common/Log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <cctype>

namespace meeting::log {

Result<spdlog::level::level_enum> parseLevel(const std::string& text) {
  using L = spdlog::level::level_enum;
  std::string t = text;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  // Seed 000 uses small integers; larger means more verbose.
  if (t == "0" || t == "off") return L::off;
  if (t == "1" || t == "error" || t == "err") return L::err;
  if (t == "2" || t == "warn" || t == "warning") return L::warn;
  if (t == "3" || t == "info") return L::info;
  if (t == "4" || t == "debug") return L::debug;
  if (t == "5" || t == "trace") return L::trace;
  return makeError("invalid_value", "log level '" + text + "' is not one of 0-5, off, error, warn, info, debug, trace");
}

void setup(spdlog::level::level_enum level) {
  static const bool once = [] {
    auto logger = spdlog::stderr_color_mt("meeting");
    spdlog::set_default_logger(logger);
    return true;
  }();
  (void)once;
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ [%t] %v");
  spdlog::set_level(level);
}

}  // namespace meeting::log
