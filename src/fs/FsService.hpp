#pragma once
// The fsserver role inside the process (seed 001: `meeting fsserver --secret --domainaddress
// --cert --certkey --directory --apiserver`): the /fs/v1 endpoints on the shared HTTPS listener.
#include <memory>

#include <nlohmann/json.hpp>

#include "app/Service.hpp"
#include "fs/FileServer.hpp"

#if MEETING_FS_CONTROL
#include "api/control/ControlClient.hpp"
#endif

namespace meeting::fs {

/// The fsserver's monitoring report (docs/operations.md "Monitoring", role "fs"): uploads and
/// downloads in progress, bytes per second in (uploads) and out (downloads) over the `seconds`
/// between `before` and `now` (0 when seconds <= 0), stored files and bytes.
nlohmann::json fsMonitoringReport(const FsLoad& now, const FsLoad& before, double seconds);

class FsService final : public app::Service {
 public:
  std::string name() const override { return "fsserver"; }
  Result<void> start(app::ServiceContext& context) override;
  void stop() override;
  FileServer* server() { return server_.get(); }

 private:
  void startControlLink(app::ServiceContext& context);

  std::unique_ptr<FileServer> server_;
  FsLoad lastReported_;  // control loop: counters at the previous load report
  TimePoint lastReportAt_{};
  net::EventLoop* loop_ = nullptr;
  net::TimerId sweepTimer_ = 0;  // removes uploads the apiserver never confirmed
#if MEETING_FS_CONTROL
  std::unique_ptr<api::control::ControlClient> control_;
#endif
};

}  // namespace meeting::fs
