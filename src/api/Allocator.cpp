#include "api/Allocator.hpp"

#include <nlohmann/json.hpp>

#include "common/Log.hpp"
#include "net/HttpClient.hpp"

namespace meeting::api {
namespace {

// RFC 3986 §3.4: unreserved characters and '@' (a pchar, so e-mail addresses stay readable as
// in seed 001's examples) go as they are; everything else ('+', '&', '=', ...) is percent-encoded.
std::string encode(const std::string& value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

Error unavailable(const std::string& message) { return makeError(AllocationUnavailable, message); }

class RemoteAllocator final : public Allocator {
 public:
  RemoteAllocator(std::string url, std::chrono::milliseconds timeout) : url_(std::move(url)), timeout_(timeout) {}

  Result<MediaAllocation> allocateMedia(const MediaRequest& request) override {
    auto body = ask(mediaQuery(request));
    if (!body) return body.error();
    auto sfu = body->find("sfu");
    auto turn = body->find("turn");
    if (sfu == body->end() || !sfu->is_string() || sfu->get_ref<const std::string&>().empty() ||
        sfu->get_ref<const std::string&>().size() > 255) {
      return unavailable("the allocate server's answer has no \"sfu\"");
    }
    MediaAllocation a;
    a.sfu = sfu->get<std::string>();
    if (turn != body->end() && turn->is_string() && turn->get_ref<const std::string&>().size() <= 255) {
      a.turn = turn->get<std::string>();
    }
    return a;
  }

  Result<std::string> allocateFs(const std::string& email) override {
    auto body = ask(fsQuery(email));
    if (!body) return body.error();
    auto fs = body->find("fs");
    if (fs == body->end() || !fs->is_string() || fs->get_ref<const std::string&>().empty()) {
      return unavailable("the allocate server's answer has no \"fs\"");
    }
    return fs->get<std::string>();
  }

  bool external() const override { return true; }

 private:
  Result<nlohmann::json> ask(const std::string& query) {
    std::string url = url_ + (url_.find('?') == std::string::npos ? "?" : "&") + query;
    net::HttpClientOptions options;
    options.timeout = timeout_;
    auto response = net::httpRequest(net::http::verb::get, url, {}, options);
    if (!response) {
      MLOG_WARN("allocate server: {}", response.error().message);
      return unavailable("the allocate server did not answer");
    }
    // Seed 001: a non-200 means "no media server yet, ask again shortly".
    if (response->result_int() != 200) {
      MLOG_INFO("allocate server answered {} for {}", response->result_int(), query);
      return unavailable("media server starting, retry shortly");
    }
    auto body = nlohmann::json::parse(response->body(), nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object()) return unavailable("the allocate server's answer is not a JSON object");
    return body;
  }

  std::string url_;
  std::chrono::milliseconds timeout_;
};

class BuiltInAllocator final : public Allocator {
 public:
  explicit BuiltInAllocator(control::NodeRegistry& registry) : registry_(registry) {}

  Result<MediaAllocation> allocateMedia(const MediaRequest&) override {
    auto sfu = registry_.pickLeastLoaded("sfu");
    if (!sfu) return unavailable("no media server available");
    MediaAllocation a;
    a.sfu = sfu->info.id;
    if (auto turn = registry_.pickLeastLoaded("turn")) a.turn = turn->info.address;
    return a;
  }

  Result<std::string> allocateFs(const std::string&) override {
    auto fs = registry_.pickLeastLoaded("fs");
    if (!fs) return unavailable("no file server available");
    return fs->info.address;
  }

  bool external() const override { return false; }

 private:
  control::NodeRegistry& registry_;
};

}  // namespace

std::string mediaQuery(const MediaRequest& r) {
  return "Kind=SFUTURN&Email=" + encode(r.email) + "&BeginAt=" + std::to_string(r.beginAt) +
         "&EndAt=" + std::to_string(r.endAt);
}

std::string fsQuery(const std::string& email) { return "Kind=FS&Email=" + encode(email); }

std::unique_ptr<Allocator> makeRemoteAllocator(std::string url, std::chrono::milliseconds timeout) {
  return std::make_unique<RemoteAllocator>(std::move(url), timeout);
}

std::unique_ptr<Allocator> makeBuiltInAllocator(control::NodeRegistry& registry) {
  return std::make_unique<BuiltInAllocator>(registry);
}

}  // namespace meeting::api
