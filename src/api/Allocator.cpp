#include "api/Allocator.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
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
        c == '_' || c == '~' || c == '@') {
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

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

struct Fetch {
  bhttp::request<bhttp::empty_body> request;
  bhttp::response_parser<bhttp::string_body> parser;
  beast::flat_buffer buffer;
  beast::error_code error;
  bool done = false;
};

// Connect (+ TLS) + write + read as one async chain; the caller bounds it with run_for.
template <typename Stream>
void startFetch(Stream& stream, const tcp::resolver::results_type& endpoints, Fetch& f) {
  auto finish = [&f](beast::error_code ec) {
    f.error = ec;
    f.done = true;
  };
  auto exchange = [&stream, &f, finish] {
    bhttp::async_write(stream, f.request, [&stream, &f, finish](beast::error_code ec, size_t) {
      if (ec) return finish(ec);
      bhttp::async_read(stream, f.buffer, f.parser, [finish](beast::error_code e, size_t) { finish(e); });
    });
  };
  beast::get_lowest_layer(stream).async_connect(endpoints, [&stream, finish, exchange](beast::error_code ec, const tcp::endpoint&) {
    if (ec) return finish(ec);
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      stream.async_handshake(asio::ssl::stream_base::client, [finish, exchange](beast::error_code e) {
        if (e) return finish(e);
        exchange();
      });
    } else {
      (void)stream;  // only the TLS branch uses it
      exchange();
    }
  });
}

// GET with a hard deadline for the whole exchange, including DNS (net::httpRequest is
// synchronous, and Beast applies stream timeouts only to asynchronous operations).
Result<std::pair<int, std::string>> getWithDeadline(const std::string& urlText, std::chrono::milliseconds timeout) {
  auto url = net::parseUrl(urlText);
  if (!url) return url.error();
  asio::io_context io;
  tcp::resolver resolver(io);
  Fetch f;
  f.request = {bhttp::verb::get, url->target, 11};
  f.request.set(bhttp::field::host, url->host + ":" + std::to_string(url->port));
  f.request.set(bhttp::field::user_agent, "meeting-apiserver");
  f.parser.body_limit(64 * 1024);
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_default_verify_paths();
  tls.set_verify_mode(asio::ssl::verify_peer);
  beast::tcp_stream plain(io);
  beast::ssl_stream<beast::tcp_stream> secure(io, tls);
  bool https = url->scheme == "https";
  if (https) {
    SSL_set_tlsext_host_name(secure.native_handle(), url->host.c_str());
    secure.set_verify_callback(asio::ssl::host_name_verification(url->host));
  }
  resolver.async_resolve(url->host, std::to_string(url->port), [&](beast::error_code ec, tcp::resolver::results_type r) {
    if (ec) {
      f.error = ec;
      f.done = true;
      return;
    }
    if (https) {
      startFetch(secure, r, f);
    } else {
      startFetch(plain, r, f);
    }
  });
  io.run_for(timeout);
  if (!f.done) return makeError("timeout", "no answer within " + std::to_string(timeout.count()) + " ms");
  if (f.error) return makeError("unavailable", f.error.message());
  return std::make_pair(static_cast<int>(f.parser.get().result_int()), std::move(f.parser.get().body()));
}

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
    auto response = getWithDeadline(url, timeout_);
    if (!response) {
      MLOG_WARN("allocate server: {}", response.error().message);
      return unavailable("the allocate server did not answer");
    }
    // Seed 001: a non-200 means "no media server yet, ask again shortly".
    if (response->first != 200) {
      MLOG_INFO("allocate server answered {} for {}", response->first, query);
      return unavailable("media server starting, retry shortly");
    }
    auto body = nlohmann::json::parse(response->second, nullptr, /*allow_exceptions=*/false);
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
