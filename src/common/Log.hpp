#pragma once
// Logging front door: spdlog underneath, one process-wide logger with the role in every line.
#include <spdlog/spdlog.h>

#include <string>

#include "common/Result.hpp"

namespace meeting::log {

/// Levels as seed 000's numeric `log_level` (0 = off ... 5 = trace) or by name.
Result<spdlog::level::level_enum> parseLevel(const std::string& text);

/// Sets the level and the line pattern; safe to call again (tests, reconfiguration).
void setup(spdlog::level::level_enum level);

}  // namespace meeting::log

#define MLOG_TRACE(...) SPDLOG_TRACE(__VA_ARGS__)
#define MLOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define MLOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define MLOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define MLOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
