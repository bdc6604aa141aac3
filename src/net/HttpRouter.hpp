#pragma once
// Routing of HTTP requests by method and path pattern. Patterns are literal segments,
// `{name}` for one segment (captured), and a final `*` for the rest of the path (captured as "*").
#include <boost/beast/http.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace meeting::net {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

class WebSocketConnection;

/// What a handler sees of a request.
struct HttpRequestContext {
  const HttpRequest& request;
  std::string path;                                // without the query, percent-decoded
  std::map<std::string, std::string> params;       // `{name}` captures
  std::multimap<std::string, std::string> query;   // decoded query parameters
  std::string remoteAddress;
  bool secure = false;                             // arrived over TLS

  /// The first query value for `key`, or empty.
  std::string queryValue(const std::string& key) const;
  /// The bearer token of the Authorization header, or empty.
  std::string bearerToken() const;
};

/// Sends the response for one request; callable once, from any thread.
class HttpResponder {
 public:
  explicit HttpResponder(std::function<void(HttpResponse&&)> send) : send_(std::move(send)) {}
  void operator()(HttpResponse&& response) const;

 private:
  std::function<void(HttpResponse&&)> send_;
};

using HttpHandler = std::function<void(HttpRequestContext&, HttpResponder)>;
using HttpSyncHandler = std::function<HttpResponse(HttpRequestContext&)>;

/// A WebSocket endpoint: `authorize` may refuse the upgrade with a response (e.g. 401);
/// `onOpen` receives the connection after the handshake.
struct WebSocketRoute {
  std::function<std::optional<HttpResponse>(HttpRequestContext&)> authorize;
  std::function<void(std::shared_ptr<WebSocketConnection>, HttpRequestContext&)> onOpen;
  size_t maxMessageBytes = 1 << 20;
};

struct RouteOptions {
  size_t maxBodyBytes = 1 << 20;
};

class HttpRouter {
 public:
  void add(http::verb method, const std::string& pattern, HttpHandler handler, RouteOptions options = {});
  void addSync(http::verb method, const std::string& pattern, HttpSyncHandler handler, RouteOptions options = {});
  void addWebSocket(const std::string& pattern, WebSocketRoute route);

  struct Match {
    enum class Kind { Found, NotFound, MethodNotAllowed } kind = Kind::NotFound;
    const HttpHandler* handler = nullptr;
    const WebSocketRoute* webSocket = nullptr;
    RouteOptions options;
    std::string pattern;  // the route's pattern, a bounded label for metrics
    std::map<std::string, std::string> params;
    std::string allowed;  // for 405: the Allow header
  };
  Match match(http::verb method, const std::string& path, bool webSocketUpgrade) const;

  /// Every registered (method, pattern), e.g. for tests that check each route's authentication.
  std::vector<std::pair<std::string, std::string>> routes() const;

 private:
  struct Route {
    std::optional<http::verb> method;  // empty for WebSocket routes
    std::vector<std::string> segments;
    std::string pattern;
    HttpHandler handler;
    std::shared_ptr<WebSocketRoute> webSocket;
    RouteOptions options;
  };
  static bool matchSegments(const Route& route, const std::vector<std::string>& parts,
                            std::map<std::string, std::string>& params);
  std::vector<Route> routes_;
};

/// `{"error": {"code": ..., "message": ...}}` with the given status.
HttpResponse jsonError(http::status status, const std::string& code, const std::string& message);
/// A JSON body (already serialized) with the given status.
HttpResponse jsonResponse(http::status status, std::string body);
HttpResponse textResponse(http::status status, std::string body, const std::string& contentType = "text/plain; charset=utf-8");

/// Percent-decoding; returns nullopt on malformed escapes. `plusIsSpace` for query strings.
std::optional<std::string> percentDecode(std::string_view text, bool plusIsSpace);
/// Splits a query string into decoded key/value pairs (malformed pairs are skipped).
std::multimap<std::string, std::string> parseQuery(std::string_view query);

}  // namespace meeting::net
