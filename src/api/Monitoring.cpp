#include "api/Monitoring.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "api/RestApi.hpp"

namespace meeting::api {
namespace {

using nlohmann::json;
namespace http = net::http;

}  // namespace

json clusterReport(const control::NodeRegistry& registry, const Clock& clock) {
  json servers = json::array();
  int64_t up = 0, rooms = 0, peers = 0;
  auto now = clock.now();
  auto nodes = registry.list("");
  for (const auto& node : nodes) {
    auto silentMs = std::chrono::duration_cast<std::chrono::milliseconds>(now - node.lastSeen).count();
    json server = {{"id", node.info.id},
                   {"role", node.info.role},
                   {"address", node.info.address},
                   {"status", node.alive ? "up" : "down"},
                   {"last_seen_ms_ago", std::max<int64_t>(0, silentMs)},
                   {"capacity", node.info.capacity},
                   {"load", node.load.load},
                   {"rooms", node.load.rooms},
                   {"peers", node.load.peers},
                   {"report", node.load.report ? *node.load.report : json(nullptr)}};
    if (node.alive) {
      ++up;
      rooms += node.load.rooms;
      peers += node.load.peers;
    }
    servers.push_back(std::move(server));
  }
  return {{"time", clock.wallMicros() / 1000},
          {"servers", std::move(servers)},
          {"totals", {{"servers", nodes.size()}, {"servers_up", up}, {"rooms", rooms}, {"peers", peers}}}};
}

bool passwordMatches(std::string_view given, std::string_view expected) {
  unsigned char a[SHA256_DIGEST_LENGTH];
  unsigned char b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
  return !expected.empty() && CRYPTO_memcmp(a, b, sizeof a) == 0;
}

void addMonitoringRoute(net::HttpRouter& router, const control::NodeRegistry& registry, const Clock& clock,
                        std::string password) {
  if (password.empty()) return;
  router.addSync(http::verb::get, "/monitoring/{password}",
                 [&registry, &clock, password = std::move(password)](net::HttpRequestContext& ctx) {
                   if (!passwordMatches(ctx.params["password"], password)) {
                     // Exactly what an unknown path gets: nothing tells a guesser the route exists.
                     return net::jsonError(http::status::not_found, "not_found", "no such resource: " + ctx.path);
                   }
                   auto response = net::jsonResponse(http::status::ok, clusterReport(registry, clock).dump());
                   response.set(http::field::cache_control, "no-store");
                   return response;
                 });
}

net::HttpResponse RestApi::getMonitoring(const ApiRequest&) {
  auto response = net::jsonResponse(http::status::ok, clusterReport(deps_.hub.registry(), deps_.clock).dump());
  response.set(http::field::cache_control, "no-store");
  return response;
}

}  // namespace meeting::api
