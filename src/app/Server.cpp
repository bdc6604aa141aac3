#include "app/Server.hpp"

#include <boost/asio/signal_set.hpp>

#include <openssl/rand.h>
#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "app/ProcessMetrics.hpp"
#include "app/Service.hpp"
#include "app/ServiceRegistry.hpp"
#include "app/Version.hpp"
#include "app/WebApp.hpp"
#include "common/Log.hpp"
#include "common/Metrics.hpp"
#include "net/HttpServer.hpp"
#include "net/Tls.hpp"

namespace meeting::app {
namespace {

namespace http = net::http;

// Where each role listens unless --listen or the role JSON says otherwise.
std::string defaultListen(const std::string& role) {
  if (role == "all") return "127.0.0.1:8443";
  if (role == "turnserver") return "127.0.0.1:9443";  // /metrics and /ping; TURN itself is on --port
  if (role == "allocateserver") return "0.0.0.0:9080";
  return "0.0.0.0:443";
}

std::pair<std::string, uint16_t> splitHostPort(const std::string& hostPort) {
  auto colon = hostPort.rfind(':');
  std::string host = hostPort.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host, static_cast<uint16_t>(std::stoi(hostPort.substr(colon + 1)))};
}

Result<std::string> listenAddress(const std::string& role, const Config& config) {
  if (!config.listen.empty()) return config.listen;
  if (!config.configFile.empty() && config.port > 0 && role != "turnserver") {
    auto iface = resolveInterface(config.listenIface.empty() ? config.iface : config.listenIface, "listeniface");
    if (!iface) return iface.error();
    bool v6 = iface->find(':') != std::string::npos;
    return (v6 ? "[" + *iface + "]" : *iface) + ":" + std::to_string(config.port);
  }
  return defaultListen(role);
}

const char* kPlaceholderPage = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Meeting</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1d2433}
code{background:#eef1f6;padding:.1rem .3rem;border-radius:.2rem}</style></head>
<body><h1>Meeting is running</h1>
<p>This server is up (version <code>{{VERSION}}</code>, role <code>{{ROLE}}</code>). The web app is served by the apiserver (and by <code>meeting all</code>).</p>
<ul><li><a href="/ping">/ping</a>: liveness</li><li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
<li><a href="/version">/version</a>: version</li></ul></body></html>
)";

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

void addCommonRoutes(net::HttpRouter& router, const std::string& role) {
  router.addSync(http::verb::get, "/ping", [](net::HttpRequestContext&) {
    return net::textResponse(http::status::ok, "pong\n");
  });
  router.addSync(http::verb::get, "/version", [role](net::HttpRequestContext&) {
    nlohmann::json body = {{"name", "meeting"}, {"version", kVersion}, {"commit", kGitCommit}, {"role", role}};
    return net::jsonResponse(http::status::ok, body.dump());
  });
  router.addSync(http::verb::get, "/metrics", [](net::HttpRequestContext&) {
    return net::textResponse(http::status::ok, MetricsRegistry::global().render(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

// `meeting all` without --secret: one secret for every role in the process, generated once and
// kept in the data folder (mode 0600) so tokens and TURN credentials survive restarts.
Result<std::string> loadOrCreateClusterSecret(const std::string& dataDir) {
  auto path = (std::filesystem::path(dataDir) / "secret").string();
  std::string secret;
  if (std::ifstream in(path); in && std::getline(in, secret) && secret.size() >= 32) return secret;
  static constexpr char Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::array<unsigned char, 48> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) return makeError("random", "no randomness for the secret");
  secret.clear();
  for (auto byte : random) secret += Alphabet[byte % 62];
  std::ofstream out(path, std::ios::trunc);
  if (!out) return makeError("io", "cannot write " + path);
  ::chmod(path.c_str(), 0600);
  out << secret << "\n";
  if (!out.flush()) return makeError("io", "cannot write " + path);
  MLOG_WARN("no --secret: generated the cluster secret in {}", path);
  return secret;
}

}  // namespace

int runServer(const std::string& role, Config config) {
  auto level = log::parseLevel(config.logLevel);
  log::setup(level ? *level : spdlog::level::info);
  if (!config.enabled) {
    MLOG_INFO("role {} is disabled (enabled: false in {}); not starting", config.name, config.configFile);
    return 0;
  }
  std::error_code ec;
  std::filesystem::create_directories(config.dataDir, ec);
  if (ec) {
    MLOG_ERROR("--data: cannot create {}: {}", config.dataDir, ec.message());
    return 1;
  }
  config.dataDir = std::filesystem::absolute(config.dataDir).lexically_normal().string();
  if (config.secret.empty() && role == "all") {
    auto secret = loadOrCreateClusterSecret(config.dataDir);
    if (!secret) {
      MLOG_ERROR("{}", secret.error().message);
      return 1;
    }
    config.secret = *secret;
    config.secretGenerated = true;
  }
  if (config.secret.empty() && role != "all" && role != "allocateserver") {
    MLOG_WARN("no --secret given: tokens and credentials are signed with a key that only this process knows");
  }

  auto listen = listenAddress(role, config);
  if (!listen) {
    MLOG_ERROR("{}", listen.error().message);
    return 1;
  }
  auto [host, port] = splitHostPort(*listen);

  net::HttpServerOptions options;
  options.address = host;
  options.port = port;
  if (!config.plainHttp) {
    auto identity = net::resolveTlsIdentity(config);
    if (!identity) {
      MLOG_ERROR("{}", identity.error().message);
      return 1;
    }
    MLOG_INFO("TLS certificate: {} (SHA-256 {})", identity->source, identity->fingerprintSha256);
    auto context = net::makeServerContext(*identity);
    if (!context) {
      MLOG_ERROR("{}", context.error().message);
      return 1;
    }
    options.tls = *context;
  }

  registerProcessMetrics(role);
  net::EventLoop loop("control");
  net::HttpRouter router;
  addCommonRoutes(router, role);
  if (role == "all" || role == "apiserver") {
    addWebAppRoutes(router);
    if (!webAppEmbedded()) MLOG_WARN("this binary carries no web app: build it with scripts/build.sh");
  } else {
    std::string page = replaceAll(replaceAll(kPlaceholderPage, "{{VERSION}}", kVersion), "{{ROLE}}", role);
    router.addSync(http::verb::get, "/", [page](net::HttpRequestContext&) {
      return net::textResponse(http::status::ok, page, "text/html; charset=utf-8");
    });
  }

  std::string shownHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host;
  if (shownHost.find(':') != std::string::npos) shownHost = "[" + shownHost + "]";
  std::string scheme = config.plainHttp ? "http" : "https";
  std::string url = scheme + "://" + shownHost + ":" + std::to_string(port) + "/";
  ServiceContext context{config, loop, router, url, host};
  auto services = makeServices(role, config);
  for (auto& service : services) {
    if (auto r = service->start(context); !r) {
      MLOG_ERROR("{}: {}", service->name(), r.error().message);
      return 1;
    }
  }

  net::HttpServer server(loop, router, options);
  if (auto r = server.start(); !r) {
    MLOG_ERROR("{}", r.error().message);
    return 1;
  }
  MLOG_INFO("meeting {} {} listening on {}:{} ({})", kVersion, role, host, server.port(), scheme);
  if (role == "all") {
    std::cout << "\n  Meeting is running.\n  Open " << scheme << "://" << shownHost << ":" << server.port()
              << "/ in a browser.\n  Data folder: " << config.dataDir << "\n  Stop with Ctrl+C.\n\n"
              << std::flush;
  }

  boost::asio::signal_set signals(loop.context(), SIGINT, SIGTERM);
  int stopRequests = 0;
  std::function<void()> waitForSignal = [&] {
    signals.async_wait([&](const boost::system::error_code& error, int signal) {
      if (error) return;
      if (++stopRequests > 1) {
        MLOG_WARN("second stop request: exiting now");
        loop.stop();
        return;
      }
      MLOG_INFO("signal {}: stopping (finishing requests in progress)", signal);
      for (auto it = services.rbegin(); it != services.rend(); ++it) (*it)->stop();
      server.stop(std::chrono::seconds(10), [&] {
        signals.cancel();
        loop.stop();
      });
      waitForSignal();
    });
  };
  waitForSignal();
  loop.run();
  MLOG_INFO("stopped");
  return 0;
}

}  // namespace meeting::app
