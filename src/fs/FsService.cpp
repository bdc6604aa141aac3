#include "fs/FsService.hpp"

#include <cmath>

#include "common/Log.hpp"

namespace meeting::fs {

nlohmann::json fsMonitoringReport(const FsLoad& now, const FsLoad& before, double seconds) {
  auto perSecond = [seconds](uint64_t value, uint64_t earlier) -> int64_t {
    return seconds > 0 && value >= earlier ? std::llround(static_cast<double>(value - earlier) / seconds) : 0;
  };
  return {{"role", "fs"},
          {"uploads_in_progress", now.uploadsInProgress},
          {"downloads_in_progress", now.downloadsInProgress},
          {"bytes_in_per_s", perSecond(now.bytesIn, before.bytesIn)},
          {"bytes_out_per_s", perSecond(now.bytesOut, before.bytesOut)},
          {"stored_files", now.storedFiles},
          {"stored_bytes", now.storedBytes}};
}

Result<void> FsService::start(app::ServiceContext& context) {
  FileServerOptions options;
  options.secret = context.config.secret;
  // `meeting all` without --directory keeps files in the data folder.
  options.directory = context.config.directory.empty() ? context.config.dataDir + "/files" : context.config.directory;
  options.limits.maxFileBytes = context.config.fsMaxFileBytes;
  options.limits.roomQuotaBytes = context.config.fsRoomQuotaBytes;
  options.limits.totalQuotaBytes = context.config.fsTotalQuotaBytes;
  auto server = FileServer::create(std::move(options), SystemClock::instance());
  if (!server) return server.error();
  server_ = std::move(*server);
  server_->registerRoutes(context.router);
  MLOG_INFO("fsserver: serving {} under {} (max file {} bytes, room quota {}, total quota {}; 0 = unlimited)",
            server_->store().directory(), FsPrefix, server_->store().limits().maxFileBytes,
            server_->store().limits().roomQuotaBytes, server_->store().limits().totalQuotaBytes);
  loop_ = &context.controlLoop;
  sweepTimer_ = loop_->runEvery(FileServer::SweepPeriod, [server = server_.get()] { server->sweepUnconfirmed(); });
  startControlLink(context);
  return {};
}

// Registers with the apiserver (docs/control.md) so that it hands out URLs on this fsserver
// (Kind=FS without an allocate server); in `meeting all` through the in-process hub.
void FsService::startControlLink([[maybe_unused]] app::ServiceContext& context) {
#if MEETING_FS_CONTROL
  namespace control = api::control;
  const auto& config = context.config;
  if (!context.controlHub && config.apiServer.empty()) return;
  control::NodeInfo node;
  node.address = control::publicAddress(config.domainAddress, context.publicUrl);
  node.id = config.name.empty() ? "fs-" + node.address : config.name;
  node.role = "fs";
  node.capacity = 1000;
  auto onCommand = [](const control::Command& command) {
    return control::CommandAck{command.id, false, "an fsserver runs no room commands"};
  };
  auto load = [this] {
    // Load is transfers in progress, in the unit of capacity (1000 concurrent transfers).
    const FsLoad now = server_->load();
    const TimePoint at = SystemClock::instance().now();
    const double seconds = lastReportAt_ == TimePoint{} ? 0.0 : std::chrono::duration<double>(at - lastReportAt_).count();
    control::LoadReport r;
    r.load = static_cast<int64_t>(now.uploadsInProgress + now.downloadsInProgress);
    r.report = std::make_shared<const nlohmann::json>(fsMonitoringReport(now, lastReported_, seconds));
    lastReported_ = now;
    lastReportAt_ = at;
    return r;
  };
  control_ = control::makeControlClient(context.controlLoop, context.controlHub, config.apiServer, config.secret, node,
                                       onCommand, load);
  MLOG_INFO("fsserver {} registers with the apiserver{}", node.id, context.controlHub ? " in this process" : " at " + config.apiServer);
#endif
}

void FsService::stop() {
  if (loop_ && sweepTimer_ != 0) loop_->cancel(sweepTimer_);
  sweepTimer_ = 0;
#if MEETING_FS_CONTROL
  if (control_) control_->stop();
#endif
  // In-flight uploads finish or are dropped with their connections; the store needs no flush
  // (every committed file is already fsynced).
}

}  // namespace meeting::fs
