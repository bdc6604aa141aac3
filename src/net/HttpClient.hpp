#pragma once
// A small blocking HTTP(S) client for tools and tests (`meeting ctl`, integration tests).
// Never call it on an event loop thread: it blocks until the answer or the timeout.
#include <chrono>
#include <map>
#include <string>

#include "common/Result.hpp"
#include "net/HttpRouter.hpp"

namespace meeting::net {

struct Url {
  std::string scheme;  // http or https
  std::string host;
  uint16_t port = 0;
  std::string target;  // path and query, at least "/"
};

/// Parses http(s)://host[:port][/path?query]; IPv6 hosts in brackets.
Result<Url> parseUrl(const std::string& text);

struct HttpClientOptions {
  std::chrono::milliseconds timeout{10'000};
  bool verifyTls = true;  // false accepts self-signed certificates (local admin use, tests)
  std::map<std::string, std::string> headers;
};

using HttpClientResponse = http::response<http::string_body>;

Result<HttpClientResponse> httpRequest(http::verb method, const std::string& url, const std::string& body = {},
                                       const HttpClientOptions& options = {});

}  // namespace meeting::net
