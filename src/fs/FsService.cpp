#include "fs/FsService.hpp"

#include "common/Log.hpp"

namespace meeting::fs {

Result<void> FsService::start(app::ServiceContext& context) {
  FileServerOptions options;
  options.secret = context.config.secret;
  // `meeting all` without --directory keeps files in the data folder.
  options.directory = context.config.directory.empty() ? context.config.dataDir + "/files" : context.config.directory;
  auto server = FileServer::create(std::move(options), SystemClock::instance());
  if (!server) return server.error();
  server_ = std::move(*server);
  server_->registerRoutes(context.router);
  MLOG_INFO("fsserver: serving {} under {}", server_->store().directory(), FsPrefix);
  return {};
}

void FsService::stop() {
  // In-flight uploads finish or are dropped with their connections; the store needs no flush
  // (every committed file is already fsynced).
}

}  // namespace meeting::fs
