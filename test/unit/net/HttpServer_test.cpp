#include "net/HttpServer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "net/HttpClient.hpp"
#include "net/Tls.hpp"
#include "net/WebSocketConnection.hpp"

using namespace std::chrono_literals;
namespace net = meeting::net;
namespace http = net::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// A server on its own loop thread, with routes for the tests.
class TestServer {
 public:
  explicit TestServer(net::HttpServerOptions options = {}) : thread_("http") {
    router_.addSync(http::verb::get, "/ping", [](net::HttpRequestContext&) { return net::textResponse(http::status::ok, "pong\n"); });
    router_.addSync(http::verb::get, "/rooms/{room}/peers/{peer}", [](net::HttpRequestContext& ctx) {
      return net::textResponse(http::status::ok, ctx.params["room"] + "/" + ctx.params["peer"] + "?" + ctx.queryValue("q"));
    });
    router_.addSync(http::verb::post, "/small", [](net::HttpRequestContext& ctx) {
      return net::textResponse(http::status::ok, std::to_string(ctx.request.body().size()));
    }, net::RouteOptions{1024});
    router_.add(http::verb::get, "/slow", [](net::HttpRequestContext&, net::HttpResponder respond) {
      std::thread([respond] {
        std::this_thread::sleep_for(300ms);
        respond(net::textResponse(http::status::ok, "finally"));
      }).detach();
    });
    net::WebSocketRoute ws;
    ws.authorize = [](net::HttpRequestContext& ctx) -> std::optional<net::HttpResponse> {
      if (ctx.queryValue("token") != "good") return net::jsonError(http::status::unauthorized, "bad_token", "token refused");
      return std::nullopt;
    };
    ws.onOpen = [](std::shared_ptr<net::WebSocketConnection> c, net::HttpRequestContext&) {
      std::weak_ptr<net::WebSocketConnection> weak = c;
      c->onMessage([weak](std::string&& text) {
        if (auto self = weak.lock()) self->send("echo:" + text);
      });
    };
    ws.maxMessageBytes = 4096;
    router_.addWebSocket("/ws", std::move(ws));
    options.port = 0;
    std::promise<void> started;
    thread_.loop().post([&] {
      server_ = std::make_unique<net::HttpServer>(thread_.loop(), router_, options);
      auto r = server_->start();
      EXPECT_TRUE(r) << (r ? "" : r.error().message);
      started.set_value();
    });
    started.get_future().wait();
    port_ = server_->port();
  }
  ~TestServer() {
    std::promise<void> done;
    thread_.loop().post([&] { server_->stop(1s, [&] { done.set_value(); }); });
    done.get_future().wait_for(5s);
  }
  uint16_t port() const { return port_; }
  std::string url(const std::string& path, bool tls = false) const {
    return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  net::EventLoop& loop() { return thread_.loop(); }
  net::HttpServer& server() { return *server_; }

 private:
  net::EventLoopThread thread_;
  net::HttpRouter router_;
  std::unique_ptr<net::HttpServer> server_;
  uint16_t port_ = 0;
};

// Sends raw bytes and reads until the server closes (bounded by a 5 s socket timeout).
std::string rawExchange(uint16_t port, const std::string& bytes) {
  asio::io_context io;
  boost::beast::tcp_stream stream(io);
  stream.expires_after(5s);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  boost::system::error_code ec;
  asio::write(stream, asio::buffer(bytes), ec);
  std::string out;
  char buf[4096];
  for (int i = 0; i < 1000; ++i) {
    size_t n = stream.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

}  // namespace

TEST(HttpServer, RoutesByMethodAndPath) {
  TestServer s;
  auto ping = net::httpRequest(http::verb::get, s.url("/ping"));
  ASSERT_TRUE(ping) << ping.error().message;
  EXPECT_EQ(ping->result_int(), 200);
  EXPECT_EQ(ping->body(), "pong\n");
  auto params = net::httpRequest(http::verb::get, s.url("/rooms/r%201/peers/p2?q=a+b"));
  ASSERT_TRUE(params);
  EXPECT_EQ(params->body(), "r 1/p2?a b");
  auto missing = net::httpRequest(http::verb::get, s.url("/nothing"));
  EXPECT_EQ(missing->result_int(), 404);
  EXPECT_EQ(missing->body(), R"({"error":{"code":"not_found","message":"no such resource: /nothing"}})");
  EXPECT_EQ((*missing)[http::field::content_type], "application/json");
  auto wrongMethod = net::httpRequest(http::verb::delete_, s.url("/ping"));
  EXPECT_EQ(wrongMethod->result_int(), 405);
  EXPECT_EQ((*wrongMethod)[http::field::allow], "GET");
}

TEST(HttpServer, HeadAnswersWithHeadersOnly) {
  TestServer s;
  auto text = rawExchange(s.port(), "HEAD /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(text.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << text;
  EXPECT_NE(text.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_EQ(text.find("pong"), std::string::npos);
}

TEST(HttpServer, OversizedHeaderGets431AndServerStaysUp) {
  TestServer s;
  std::string big = "GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n";
  auto text = rawExchange(s.port(), big);
  EXPECT_EQ(text.rfind("HTTP/1.1 431", 0), 0u) << text.substr(0, 100);
  EXPECT_NE(text.find("header_too_large"), std::string::npos);
  EXPECT_EQ(net::httpRequest(http::verb::get, s.url("/ping"))->result_int(), 200);
}

TEST(HttpServer, OversizedBodyGets413AndServerStaysUp) {
  TestServer s;
  auto declared = net::httpRequest(http::verb::post, s.url("/small"), std::string(5000, 'x'));
  ASSERT_TRUE(declared) << declared.error().message;
  EXPECT_EQ(declared->result_int(), 413);
  auto chunked = rawExchange(s.port(), "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                           std::string("800\r\n") + std::string(2048, 'y') + "\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.rfind("HTTP/1.1 413", 0), 0u) << chunked.substr(0, 100);
  auto ok = net::httpRequest(http::verb::post, s.url("/small"), std::string(1000, 'x'));
  EXPECT_EQ(ok->result_int(), 200);
  EXPECT_EQ(ok->body(), "1000");
}

TEST(HttpServer, MalformedRequestGets400) {
  TestServer s;
  auto text = rawExchange(s.port(), "GARBAGE\x01 / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(text.rfind("HTTP/1.1 400", 0), 0u) << text;
  auto badPath = rawExchange(s.port(), "GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(badPath.rfind("HTTP/1.1 400", 0), 0u) << badPath;
}

TEST(HttpServer, IdleConnectionIsClosedAfterTheHeaderTimeout) {
  net::HttpServerOptions options;
  options.headerTimeout = 300ms;
  TestServer s(options);
  // Send half a request line and stall: the server must close the connection on its own.
  auto text = rawExchange(s.port(), "GET /pi");
  EXPECT_EQ(text, "");
  EXPECT_EQ(net::httpRequest(http::verb::get, s.url("/ping"))->result_int(), 200);
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  TestServer s;
  auto text = rawExchange(s.port(), "GET /ping HTTP/1.1\r\nHost: x\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  size_t first = text.find("pong");
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(text.find("pong", first + 1), std::string::npos) << text;
}

TEST(HttpServer, GracefulStopFinishesInFlightRequests) {
  auto s = std::make_unique<TestServer>();
  auto url = s->url("/slow");
  auto pending = std::async(std::launch::async, [url] { return net::httpRequest(http::verb::get, url); });
  std::this_thread::sleep_for(100ms);  // let the request reach the handler
  std::promise<void> stopped;
  s->loop().post([&] { s->server().stop(5s, [&] { stopped.set_value(); }); });
  auto response = pending.get();
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->result_int(), 200);
  EXPECT_EQ(response->body(), "finally");
  EXPECT_EQ((*response)[http::field::connection], "close");
  EXPECT_EQ(stopped.get_future().wait_for(5s), std::future_status::ready);
  auto refused = net::httpRequest(http::verb::get, s->url("/ping"));
  EXPECT_FALSE(refused);
}

TEST(HttpServer, WebSocketUpgradeEchoAndRefusal) {
  TestServer s;
  namespace websocket = boost::beast::websocket;
  asio::io_context io;
  websocket::stream<boost::beast::tcp_stream> ws(io);
  boost::beast::get_lowest_layer(ws).expires_after(5s);
  boost::beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.port()));
  boost::beast::get_lowest_layer(ws).expires_never();
  ws.handshake("127.0.0.1", "/ws?token=good");
  for (int i = 0; i < 3; ++i) {
    ws.write(asio::buffer("hello" + std::to_string(i)));
    boost::beast::flat_buffer buffer;
    ws.read(buffer);
    EXPECT_EQ(boost::beast::buffers_to_string(buffer.data()), "echo:hello" + std::to_string(i));
  }
  // Over the size limit: the server closes the connection.
  boost::system::error_code ec;
  ws.write(asio::buffer(std::string(5000, 'z')), ec);
  boost::beast::flat_buffer buffer;
  ws.read(buffer, ec);
  EXPECT_TRUE(ec);

  websocket::stream<boost::beast::tcp_stream> refused(io);
  boost::beast::get_lowest_layer(refused).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.port()));
  websocket::response_type response;
  refused.handshake(response, "127.0.0.1", "/ws?token=bad", ec);
  EXPECT_TRUE(ec);
  EXPECT_EQ(response.result_int(), 401);
}

TEST(HttpServer, HttpsWithSelfSignedCertificate) {
  auto dir = std::filesystem::path(testing::TempDir()) / "tls-https";
  std::filesystem::remove_all(dir);
  auto identity = net::loadOrCreateSelfSigned(dir.string(), {"localhost", "127.0.0.1"});
  ASSERT_TRUE(identity) << identity.error().message;
  net::HttpServerOptions options;
  options.tls = *net::makeServerContext(*identity);
  TestServer s(options);
  net::HttpClientOptions insecure;
  insecure.verifyTls = false;
  auto ping = net::httpRequest(http::verb::get, s.url("/ping", true), {}, insecure);
  ASSERT_TRUE(ping) << ping.error().message;
  EXPECT_EQ(ping->body(), "pong\n");
  auto verified = net::httpRequest(http::verb::get, s.url("/ping", true));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, "tls");
  auto plain = net::httpRequest(http::verb::get, s.url("/ping", false));
  EXPECT_FALSE(plain && plain->result_int() == 200);
}

TEST(Tls, SelfSignedIsGeneratedOnceAndReused) {
  auto dir = (std::filesystem::path(testing::TempDir()) / "tls-reuse").string();
  std::filesystem::remove_all(dir);
  auto first = net::loadOrCreateSelfSigned(dir, {"localhost", "127.0.0.1", "meet.example.org"});
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_NE(first->source.find("(new)"), std::string::npos);
  EXPECT_EQ(std::filesystem::status(dir + "/key.pem").permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);
  auto second = net::loadOrCreateSelfSigned(dir, {"localhost", "127.0.0.1", "meet.example.org"});
  ASSERT_TRUE(second);
  EXPECT_EQ(second->fingerprintSha256, first->fingerprintSha256);
  EXPECT_NE(second->source.find("(reused)"), std::string::npos);
  // A new public name is not covered: a new certificate is made.
  auto third = net::loadOrCreateSelfSigned(dir, {"localhost", "other.example.org"});
  ASSERT_TRUE(third);
  EXPECT_NE(third->fingerprintSha256, first->fingerprintSha256);
  EXPECT_EQ(third->fingerprintSha256.size(), 32u * 3 - 1);
}

TEST(Tls, OperatorCertificateMustMatchItsKey) {
  auto dir = std::filesystem::path(testing::TempDir()) / "tls-operator";
  std::filesystem::create_directories(dir);
  auto a = net::generateSelfSigned({"a.example"}, 30);
  auto b = net::generateSelfSigned({"b.example"}, 30);
  std::ofstream(dir / "fullchain.pem") << a->certChainPem;
  std::ofstream(dir / "privkey.pem") << b->keyPem;
  meeting::Config config;
  config.certDir = dir.string();
  auto mismatch = net::resolveTlsIdentity(config);
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message.find("does not belong"), std::string::npos);
  std::ofstream(dir / "privkey.pem") << a->keyPem;
  auto ok = net::resolveTlsIdentity(config);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->fingerprintSha256, a->fingerprintSha256);
  config.cert = (dir / "fullchain.pem").string();
  auto half = net::resolveTlsIdentity(config);
  ASSERT_FALSE(half);
  EXPECT_EQ(half.error().message, "--certkey: required when --cert is given");
}
