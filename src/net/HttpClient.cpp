#include "net/HttpClient.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include <charconv>

namespace meeting::net {

namespace beast = boost::beast;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<Url> parseUrl(const std::string& text) {
  Url url;
  auto schemeEnd = text.find("://");
  if (schemeEnd == std::string::npos) return makeError("invalid_url", "'" + text + "' has no scheme");
  url.scheme = text.substr(0, schemeEnd);
  if (url.scheme != "http" && url.scheme != "https") return makeError("invalid_url", "'" + text + "' is not http(s)");
  std::string rest = text.substr(schemeEnd + 3);
  auto slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  url.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (url.target.front() == '?') url.target = "/" + url.target;
  std::string portText;
  if (!authority.empty() && authority.front() == '[') {
    auto end = authority.find(']');
    if (end == std::string::npos) return makeError("invalid_url", "'" + text + "' has a bad IPv6 host");
    url.host = authority.substr(1, end - 1);
    if (end + 1 < authority.size() && authority[end + 1] == ':') portText = authority.substr(end + 2);
  } else {
    auto colon = authority.rfind(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string::npos) portText = authority.substr(colon + 1);
  }
  if (url.host.empty()) return makeError("invalid_url", "'" + text + "' has no host");
  url.port = url.scheme == "https" ? 443 : 80;
  if (!portText.empty()) {
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), p);
    if (ec != std::errc() || ptr != portText.data() + portText.size() || p == 0 || p > 65535) {
      return makeError("invalid_url", "'" + text + "' has a bad port");
    }
    url.port = static_cast<uint16_t>(p);
  }
  return url;
}

namespace {

template <class Stream>
Result<HttpClientResponse> exchange(Stream& stream, http::request<http::string_body>& request) {
  beast::error_code ec;
  http::write(stream, request, ec);
  if (ec) return makeError("unavailable", "cannot send the request: " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::read(stream, buffer, parser, ec);
  if (ec) return makeError("unavailable", "cannot read the response: " + ec.message());
  return parser.release();
}

}  // namespace

Result<HttpClientResponse> httpRequest(http::verb method, const std::string& urlText, const std::string& body,
                                       const HttpClientOptions& options) {
  auto url = parseUrl(urlText);
  if (!url) return url.error();
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::error_code ec;
  auto endpoints = resolver.resolve(url->host, std::to_string(url->port), ec);
  if (ec) return makeError("unavailable", "cannot resolve " + url->host + ": " + ec.message());

  http::request<http::string_body> request{method, url->target, 11};
  bool v6 = url->host.find(':') != std::string::npos;
  request.set(http::field::host, (v6 ? "[" + url->host + "]" : url->host) + ":" + std::to_string(url->port));
  request.set(http::field::user_agent, "meeting-client");
  for (const auto& [k, v] : options.headers) request.set(k, v);
  if (!body.empty() || method == http::verb::post || method == http::verb::put || method == http::verb::patch) {
    request.body() = body;
    if (request.find(http::field::content_type) == request.end()) request.set(http::field::content_type, "application/json");
  }
  request.prepare_payload();

  if (url->scheme == "http") {
    beast::tcp_stream stream(io);
    stream.expires_after(options.timeout);
    stream.connect(endpoints, ec);
    if (ec) return makeError("unavailable", "cannot connect to " + urlText + ": " + ec.message());
    return exchange(stream, request);
  }
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  if (options.verifyTls) {
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(asio::ssl::verify_peer);
  } else {
    ctx.set_verify_mode(asio::ssl::verify_none);
  }
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  if (!v6 && !SSL_set_tlsext_host_name(stream.native_handle(), url->host.c_str())) {
    return makeError("tls", "cannot set SNI");
  }
  if (options.verifyTls) stream.set_verify_callback(asio::ssl::host_name_verification(url->host));
  beast::get_lowest_layer(stream).expires_after(options.timeout);
  beast::get_lowest_layer(stream).connect(endpoints, ec);
  if (ec) return makeError("unavailable", "cannot connect to " + urlText + ": " + ec.message());
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return makeError("tls", "TLS handshake with " + urlText + " failed: " + ec.message());
  return exchange(stream, request);
}

}  // namespace meeting::net
