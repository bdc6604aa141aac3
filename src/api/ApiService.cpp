#include "api/ApiService.hpp"

#include <atomic>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "api/Allocator.hpp"
#include "api/ApiKeys.hpp"
#include "api/EventRecorder.hpp"
#include "api/Monitoring.hpp"
#include "api/PeerRegistry.hpp"
#include "api/RestApi.hpp"
#include "api/RoomJanitor.hpp"
#include "api/auth/AdminBootstrap.hpp"
#include "api/control/ControlHub.hpp"
#include "api/control/NodeRegistry.hpp"
#include "api/db/DbExecutor.hpp"
#include "api/db/Secrets.hpp"
#include "api/db/Storage.hpp"
#include "api/mail/MailDispatcher.hpp"
#include "api/webhook/WebhookDispatcher.hpp"
#include "api/webhook/WebhookSignature.hpp"
#include "common/Log.hpp"

namespace meeting::api {
namespace {

constexpr auto DownAfter = std::chrono::seconds(5);
constexpr auto AllocateTimeout = std::chrono::milliseconds(5000);

// Without --secret the all-in-one keeps a generated one in the data folder, so tokens survive
// restarts. (Separate processes must share an explicit --secret.)
Result<std::string> loadOrCreateSecret(const std::string& dataDir) {
  auto path = (std::filesystem::path(dataDir) / "secret").string();
  std::ifstream in(path);
  std::string secret;
  if (in && std::getline(in, secret) && secret.size() >= 32) return secret;
  secret = db::secrets::randomString(48, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
  std::ofstream out(path, std::ios::trunc);
  if (!out) return makeError("io", "cannot write " + path);
  ::chmod(path.c_str(), 0600);
  out << secret << "\n";
  if (!out.flush()) return makeError("io", "cannot write " + path);
  MLOG_WARN("no --secret: generated one in {}", path);
  return secret;
}

class ApiService final : public app::Service {
 public:
  ApiService(const Config& config, ApiServiceOptions options) : config_(config), options_(options) {}
  ~ApiService() override { shutdown(); }

  std::string name() const override { return "apiserver"; }

  Result<void> start(app::ServiceContext& context) override {
    std::string secret = config_.secret;
    if (secret.empty()) {
      auto generated = loadOrCreateSecret(config_.dataDir);
      if (!generated) return generated.error();
      secret = *generated;
    }
    auto storage = db::openStorage(db::StorageConfig{storageUrl(config_), 4}, SystemClock::instance());
    if (!storage) return makeError(storage.error().code, "database: " + storage.error().message);
    storage_ = std::move(*storage);
    MLOG_INFO("apiserver: {} database ready", storage_->backendName());

    workers_ = std::make_unique<db::DbExecutor>(4, 1024);
    events_ = std::make_unique<db::DbExecutor>(1, 16384);
    registry_ = std::make_unique<control::NodeRegistry>(SystemClock::instance(), DownAfter);
    peers_ = std::make_unique<PeerRegistry>();
    recorder_ = std::make_unique<EventRecorder>(*storage_, *events_, *peers_);
    hub_ = std::make_unique<control::ControlHub>(*registry_, *recorder_, secret, SystemClock::instance());
    if (!config_.allocateServer.empty()) {
      allocator_ = makeRemoteAllocator(config_.allocateServer, AllocateTimeout);
      MLOG_INFO("apiserver: allocating media with {}", config_.allocateServer);
    } else {
      allocator_ = makeBuiltInAllocator(*registry_);
    }
    RestApiOptions options;
    options.secret = secret;
    options.publicUrl = config_.domainAddress.empty() ? context.publicUrl : "https://" + config_.domainAddress + "/";
    if (options_.localFsServer) options.localFsUrl = options.publicUrl;
    options.maxUploadBytes = config_.fsMaxFileBytes;  // --fs-max-file-size: refused before a URL is granted
    rest_ = std::make_unique<RestApi>(RestApiDeps{*storage_, *workers_, *allocator_, *hub_, *peers_, SystemClock::instance()},
                                      options);
    webhook::WebhookOptions hooks;
    hooks.key = config_.webhookKey.empty() ? webhook::deriveWebhookKey(secret) : config_.webhookKey;
    hooks.allowPrivate = config_.allowPrivateWebhooks;
    auto defaultUrl = webhook::defaultWebhookUrl(config_, hooks.allowPrivate);
    if (!defaultUrl) return makeError(defaultUrl.error().code, "--webhook-url: " + defaultUrl.error().message);
    hooks.defaultUrl = *defaultUrl;
    if (!hooks.defaultUrl.empty()) MLOG_INFO("apiserver: rooms without a webhook_url send their events to the default webhook URL");
    webhooks_ = std::make_unique<webhook::WebhookDispatcher>(*storage_, SystemClock::instance(), hooks);
    rest_->setWebhooks(webhooks_.get(), hooks.allowPrivate);
    recorder_->setWebhooks(webhooks_.get());
    webhooks_->start();
    startMail(options.publicUrl);
    rest_->registerRoutes(context.router);
    {
      // First start (no user yet): an administrator, its password printed once. Argon2id is slow:
      // this runs before serving, off any loop.
      auth::PasswordHasher hasher(options.passwordParams);
      auto admin = auth::ensureAdministrator(*storage_, hasher, auth::defaultAdminEmail(options.publicUrl),
                                             options.publicUrl, std::cout);
      if (!admin) return makeError(admin.error().code, "administrator: " + admin.error().message);
    }
    if (config_.monitoringEnabled && !config_.reportPassword.empty()) {
      addMonitoringRoute(context.router, *registry_, SystemClock::instance(), config_.reportPassword);
      MLOG_INFO("apiserver: monitoring report at /monitoring/<report_password>");
    }
    context.controlHub = hub_.get();

    if (options_.bootstrapApiKey) {
      if (auto r = ensureDefaultApiKey(*storage_, config_.dataDir, std::cout); !r) {
        return makeError(r.error().code, "api key: " + r.error().message);
      }
    } else if (auto keys = storage_->listApiKeys(); keys && keys->empty()) {
      MLOG_WARN("no REST API key yet: create one with `meeting ctl apikey create NAME`");
    }

    loop_ = &context.controlLoop;
    janitor_ = std::make_unique<RoomJanitor>(*storage_, *peers_, RoomJanitor::Actions{
        [this](const std::string& room) {
          if (auto removed = rest_->removeRoom(room); !removed) MLOG_WARN("room {}: purge failed: {}", room, removed.error().message);
        },
        [this](const std::string& room, const std::string& peer) { rest_->removePeer(room, peer); }});
    sweepTimer_ = loop_->runEvery(std::chrono::seconds(1), [this] {
      for (const auto& id : registry_->sweep()) MLOG_WARN("control: {} silent for {} s, marked down", id, DownAfter.count());
      // Database work off the control loop, in order, one sweep at a time.
      if (!janitorBusy_.exchange(true)) {
        bool queued = events_->post([this] {
          janitor_->sweep(SystemClock::instance().wallMicros() / 1000);
          janitorBusy_ = false;
        });
        if (!queued) janitorBusy_ = false;
      }
    });
    return {};
  }

  void stop() override {
    if (loop_ && sweepTimer_) loop_->cancel(sweepTimer_);
    sweepTimer_ = 0;
    shutdown();
  }

 private:
  void startMail(const std::string& publicUrl) {
    std::vector<std::string> warnings;
    mail::MailOptions mailOptions;
    mailOptions.servers = mail::mailServersFromConfig(config_, warnings);
    for (const auto& w : warnings) MLOG_WARN("mail: {}", w);
    mailOptions.uidHost = mail::hostOfUrl(publicUrl);
    smtp_ = std::make_unique<mail::SmtpClient>();
    mail_ = std::make_unique<mail::MailDispatcher>(*storage_, SystemClock::instance(), *smtp_, mailOptions);
    rest_->setInvitations(mail_.get());
    rest_->setAccountMail(mail_->enabled());
    if (mail_->enabled()) {
      MLOG_INFO("apiserver: invitation mail through {} SMTP server(s), first {}:{}", mailOptions.servers.size(),
                mailOptions.servers.front().host, mailOptions.servers.front().port);
      mail_->start();
    } else {
      MLOG_INFO("apiserver: mail is off (no --mailServer): invitations are recorded as not_configured");
    }
  }

  void shutdown() {
    if (workers_) workers_->shutdown();
    if (events_) events_->shutdown();
    // After the executors: their last jobs may still queue webhooks (kept in the database).
    if (webhooks_) webhooks_->stop();
    if (mail_) mail_->stop();
  }

  const Config& config_;
  ApiServiceOptions options_;
  std::unique_ptr<db::Storage> storage_;
  std::unique_ptr<webhook::WebhookDispatcher> webhooks_;
  std::unique_ptr<mail::SmtpClient> smtp_;
  std::unique_ptr<mail::MailDispatcher> mail_;
  std::unique_ptr<db::DbExecutor> workers_;
  std::unique_ptr<db::DbExecutor> events_;
  std::unique_ptr<control::NodeRegistry> registry_;
  std::unique_ptr<PeerRegistry> peers_;
  std::unique_ptr<RoomJanitor> janitor_;
  std::atomic<bool> janitorBusy_{false};
  std::unique_ptr<EventRecorder> recorder_;
  std::unique_ptr<control::ControlHub> hub_;
  std::unique_ptr<Allocator> allocator_;
  std::unique_ptr<RestApi> rest_;
  net::EventLoop* loop_ = nullptr;
  net::TimerId sweepTimer_ = 0;
};

}  // namespace

std::unique_ptr<app::Service> makeApiService(const Config& config, ApiServiceOptions options) {
  return std::make_unique<ApiService>(config, options);
}

}  // namespace meeting::api
