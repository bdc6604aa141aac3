#include "allocator/AllocateService.hpp"

#include <charconv>
#include <cstdlib>
#include <filesystem>

#include "common/Log.hpp"

namespace meeting::allocator {
namespace {

namespace http = net::http;

std::optional<int64_t> parseSeconds(const std::string& text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

net::HttpResponse bad(const std::string& message) { return net::jsonError(http::status::bad_request, "invalid_field", message); }

class AllocateService final : public app::Service {
 public:
  explicit AllocateService(const Config& config) : config_(config) {}
  std::string name() const override { return "allocateserver"; }

  Result<void> start(app::ServiceContext& context) override {
    const char* override = std::getenv("MEETING_ALLOCATOR_CONFIG");
    std::string path = override ? override : (std::filesystem::path(config_.dataDir) / "allocator.json").string();
    auto pool = loadPoolConfig(path);
    if (!pool) return makeError(pool.error().code, pool.error().message + " (see docs/allocator.md)");
    MLOG_INFO("allocateserver: {} sfu, {} turn, {} fs servers, {} strategy, contract at {}", pool->sfu.size(),
              pool->turn.size(), pool->fs.size(), pool->strategy == Strategy::RoundRobin ? "round-robin" : "least-loaded",
              pool->path);
    addAllocateRoute(context.router, std::make_shared<AllocationPool>(std::move(*pool)), SystemClock::instance());
    return {};
  }
  void stop() override {}

 private:
  const Config& config_;
};

}  // namespace

void addAllocateRoute(net::HttpRouter& router, std::shared_ptr<AllocationPool> pool, const Clock& clock) {
  std::string path = pool->config().path;
  router.addSync(http::verb::get, path, [pool, &clock](net::HttpRequestContext& ctx) {
    std::string kind = ctx.queryValue("Kind");
    int64_t now = clock.wallMicros() / 1'000'000;
    if (kind == "FS") {
      auto fs = pool->allocateFs(now);
      if (!fs) return net::jsonError(http::status::service_unavailable, "unavailable", "no fsserver configured");
      return net::jsonResponse(http::status::ok, nlohmann::json{{"fs", *fs}}.dump());
    }
    if (kind != "SFUTURN") return bad("Kind: must be SFUTURN or FS");
    auto begin = parseSeconds(ctx.queryValue("BeginAt"));
    auto end = parseSeconds(ctx.queryValue("EndAt"));
    if (!begin) return bad("BeginAt: must be a Unix timestamp (0 for an instant meeting)");
    if (!end) return bad("EndAt: must be a Unix timestamp (0 for an instant meeting)");
    auto media = pool->allocateMedia(now, *begin, *end);
    if (!media) {
      MLOG_INFO("allocateserver: every sfu is full ({} for {})", ctx.queryValue("Email"), kind);
      return net::jsonError(http::status::service_unavailable, "unavailable", "no sfuserver free, retry shortly");
    }
    nlohmann::json body = {{"sfu", media->first}, {"turn", media->second}};
    return net::jsonResponse(http::status::ok, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  });
}

std::unique_ptr<app::Service> makeAllocateService(const Config& config) {
  return std::make_unique<AllocateService>(config);
}

}  // namespace meeting::allocator
