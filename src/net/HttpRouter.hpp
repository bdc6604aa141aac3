#pragma once
// Routing of HTTP requests by method and path pattern. Patterns are literal segments,
// `{name}` for one segment (captured), and a final `*` for the rest of the path (captured as "*").
#include <boost/beast/http.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
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

/// A response body read from an open file while it is sent, so its size does not count against
/// memory: literal pieces and byte ranges of one file, in order (a whole file, one range, or the
/// parts of multipart/byteranges). Owns `fd` and closes it.
struct FileBody {
  struct Piece {
    std::string text;      // sent as is when non-empty; otherwise the file range below
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  FileBody() = default;
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;
  ~FileBody();
  /// Bytes of the whole body (the Content-Length).
  uint64_t size() const;

  int fd = -1;
  std::vector<Piece> pieces;
};

/// Sends the response for one request; callable once, from any thread.
class HttpResponder {
 public:
  using SendFile = std::function<void(HttpResponse&&, std::shared_ptr<FileBody>)>;
  explicit HttpResponder(std::function<void(HttpResponse&&)> send, SendFile sendFile = nullptr)
      : send_(std::move(send)), sendFile_(std::move(sendFile)) {}
  void operator()(HttpResponse&& response) const;
  /// Sends the status and headers of `head` with `body` streamed from its file (Content-Length is
  /// set here). Where the server cannot stream, the body is read into memory instead.
  void sendFile(HttpResponse&& head, std::shared_ptr<FileBody> body) const;

 private:
  std::function<void(HttpResponse&&)> send_;
  SendFile sendFile_;
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

/// Receives a request body as it arrives, for bodies that must not be held in memory (uploads).
/// Called on the server's loop thread. The server destroys the sink when it is done with it; a
/// sink that never saw onEnd() must clean up (e.g. remove its temporary file) in its destructor.
class HttpBodySink {
 public:
  virtual ~HttpBodySink() = default;
  /// The next piece of the body. Returning a response refuses the rest: that response is sent,
  /// the connection is closed and the sink destroyed.
  virtual std::optional<HttpResponse> onData(std::string_view chunk) = 0;
  /// The whole body arrived; answer through `respond` (callable from any thread).
  virtual void onEnd(HttpResponder respond) = 0;
};

/// Sees the request head (its body is empty) before any body byte is read; returns the sink to
/// stream the body into, or a response that refuses the request (then the body is never read).
using HttpStreamHandler =
    std::function<std::variant<std::unique_ptr<HttpBodySink>, HttpResponse>(HttpRequestContext&)>;

struct RouteOptions {
  size_t maxBodyBytes = 1 << 20;
};

class HttpRouter {
 public:
  void add(http::verb method, const std::string& pattern, HttpHandler handler, RouteOptions options = {});
  void addSync(http::verb method, const std::string& pattern, HttpSyncHandler handler, RouteOptions options = {});
  void addWebSocket(const std::string& pattern, WebSocketRoute route);
  /// A route whose request body is streamed to a sink instead of buffered (up to maxBodyBytes).
  void addStreaming(http::verb method, const std::string& pattern, HttpStreamHandler handler,
                    RouteOptions options = {});

  struct Match {
    enum class Kind { Found, NotFound, MethodNotAllowed } kind = Kind::NotFound;
    const HttpHandler* handler = nullptr;
    const WebSocketRoute* webSocket = nullptr;
    const HttpStreamHandler* stream = nullptr;  // set instead of handler for streaming routes
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
    std::shared_ptr<HttpStreamHandler> stream;
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
