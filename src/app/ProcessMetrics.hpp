#pragma once
#include <string>

namespace meeting::app {

/// Registers process_* metrics (CPU, memory, descriptors, start time) and meeting_build_info.
void registerProcessMetrics(const std::string& role);

}  // namespace meeting::app
