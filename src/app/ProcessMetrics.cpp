#include "app/ProcessMetrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "app/Version.hpp"
#include "common/Metrics.hpp"

namespace meeting::app {

void registerProcessMetrics(const std::string& role) {
  static const double startTime =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  MetricsRegistry::global().addCollector([role](std::string& out) {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                 static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    long pageSize = sysconf(_SC_PAGESIZE);
    unsigned long long vsizePages = 0, rssPages = 0;
    std::ifstream statm("/proc/self/statm");
    statm >> vsizePages >> rssPages;
    size_t fds = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) ++fds;
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    out += "# HELP process_cpu_seconds_total User and system CPU time spent in seconds.\n# TYPE process_cpu_seconds_total counter\n";
    out += "process_cpu_seconds_total " + std::to_string(cpu) + "\n";
    out += "# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\n";
    out += "process_resident_memory_bytes " + std::to_string(rssPages * pageSize) + "\n";
    out += "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n# TYPE process_virtual_memory_bytes gauge\n";
    out += "process_virtual_memory_bytes " + std::to_string(vsizePages * pageSize) + "\n";
    out += "# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\n";
    out += "process_open_fds " + std::to_string(fds) + "\n";
    out += "# HELP process_max_fds Maximum number of open file descriptors.\n# TYPE process_max_fds gauge\n";
    out += "process_max_fds " + std::to_string(limit.rlim_cur) + "\n";
    out += "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n# TYPE process_start_time_seconds gauge\n";
    out += "process_start_time_seconds " + std::to_string(startTime) + "\n";
    out += "# HELP meeting_build_info Version and role of this process.\n# TYPE meeting_build_info gauge\n";
    out += "meeting_build_info{version=\"" + std::string(kVersion) + "\",role=\"" + role + "\"} 1\n";
  });
}

}  // namespace meeting::app
