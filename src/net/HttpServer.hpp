#pragma once
// HTTP/1.1 and WebSocket server on Boost.Beast, with or without TLS, on one EventLoop.
// Limits: header and body size (431 / 413), read and idle timeouts, keep-alive; an access log
// line and metrics per request; graceful stop that lets in-flight requests finish.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/Result.hpp"
#include "net/EventLoop.hpp"
#include "net/HttpRouter.hpp"

namespace meeting::net {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;                                     // 0: any free port (see port())
  std::shared_ptr<boost::asio::ssl::context> tls;        // null: plain HTTP
  size_t maxHeaderBytes = 16 * 1024;
  std::chrono::milliseconds headerTimeout{15'000};       // idle keep-alive wait + header read
  std::chrono::milliseconds bodyTimeout{60'000};
  std::chrono::milliseconds handlerTimeout{30'000};      // a handler that never answers gets 503
  size_t maxConnections = 10'000;
  std::string serverName = "meeting";
  bool accessLog = true;
  /// Plain-HTTP listeners send file bodies (HttpResponder::sendFile) with sendfile(2), from the
  /// page cache to the socket without a copy through user space. TLS listeners always stream
  /// through a 64 KiB buffer (docs/fs.md: why there is no kTLS). false: plain streams too
  /// (benchmarks compare the two).
  bool zeroCopyFiles = true;
};

class HttpServer {
 public:
  HttpServer(EventLoop& loop, HttpRouter& router, HttpServerOptions options);
  ~HttpServer();

  /// Binds and starts accepting. Errors name the address.
  Result<void> start();
  /// The bound port (useful with port 0).
  uint16_t port() const;
  /// Stops accepting, closes idle connections, lets in-flight requests finish (up to `grace`),
  /// then calls `done` on the loop thread. Loop thread only.
  void stop(std::chrono::milliseconds grace, std::function<void()> done);
  size_t openConnections() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace meeting::net
