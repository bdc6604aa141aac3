// Streamed request bodies (HttpRouter::addStreaming) and file response bodies (sendFile).
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <thread>

#include "net/HttpClient.hpp"
#include "net/HttpServer.hpp"

using namespace std::chrono_literals;
namespace net = meeting::net;
namespace http = net::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct SinkStats {
  std::atomic<int> created{0}, ended{0}, destroyed{0};
  std::atomic<uint64_t> bytes{0}, largestPiece{0}, sum{0};
};

// Counts bytes and a byte sum; refuses when a body passes `refuseAfter`.
class CountingSink final : public net::HttpBodySink {
 public:
  CountingSink(SinkStats& stats, uint64_t refuseAfter) : stats_(stats), refuseAfter_(refuseAfter) { ++stats_.created; }
  ~CountingSink() override { ++stats_.destroyed; }
  std::optional<net::HttpResponse> onData(std::string_view chunk) override {
    bytes_ += chunk.size();
    stats_.bytes += chunk.size();
    if (chunk.size() > stats_.largestPiece) stats_.largestPiece = chunk.size();
    for (unsigned char c : chunk) sum_ += c;
    if (bytes_ > refuseAfter_) return net::jsonError(http::status::payload_too_large, "quota", "over quota");
    return std::nullopt;
  }
  void onEnd(net::HttpResponder respond) override {
    ++stats_.ended;
    stats_.sum = sum_;
    // Answer from another thread, as a sink that fsyncs off the loop would.
    std::thread([respond, n = bytes_, s = sum_] {
      respond(net::textResponse(http::status::created, std::to_string(n) + " " + std::to_string(s)));
    }).detach();
  }

 private:
  SinkStats& stats_;
  uint64_t refuseAfter_;
  uint64_t bytes_ = 0, sum_ = 0;
};

class StreamServer {
 public:
  StreamServer() : thread_("http") {
    router_.addStreaming(http::verb::put, "/up/{name}", [this](net::HttpRequestContext& ctx)
                             -> std::variant<std::unique_ptr<net::HttpBodySink>, net::HttpResponse> {
      if (ctx.params["name"] == "forbidden") return net::jsonError(http::status::forbidden, "no", "refused");
      return std::make_unique<CountingSink>(stats, ctx.queryValue("refuse").empty() ? UINT64_MAX : std::stoull(ctx.queryValue("refuse")));
    }, net::RouteOptions{64 << 20});
    router_.add(http::verb::get, "/file", [this](net::HttpRequestContext& ctx, net::HttpResponder respond) {
      auto body = std::make_shared<net::FileBody>();
      body->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (ctx.queryValue("parts") == "1") {
        body->pieces.push_back({"<", 0, 0});
        body->pieces.push_back({"", 10, 5});
        body->pieces.push_back({"|", 0, 0});
        body->pieces.push_back({"", 0, 3});
        body->pieces.push_back({">", 0, 0});
      } else {
        body->pieces.push_back({"", 0, fileSize});
      }
      net::HttpResponse head{http::status::ok, 11};
      head.set(http::field::content_type, "application/octet-stream");
      respond.sendFile(std::move(head), std::move(body));
    });
    std::promise<void> started;
    thread_.loop().post([&] {
      server_ = std::make_unique<net::HttpServer>(thread_.loop(), router_, net::HttpServerOptions{});
      EXPECT_TRUE(server_->start());
      started.set_value();
    });
    started.get_future().wait();
    port_ = server_->port();
    path = "/tmp/meeting-net-stream-" + std::to_string(::getpid());
    FILE* f = std::fopen(path.c_str(), "wb");
    for (uint64_t i = 0; i < fileSize; ++i) std::fputc(static_cast<int>('a' + i % 26), f);
    std::fclose(f);
  }
  ~StreamServer() {
    std::promise<void> done;
    thread_.loop().post([&] { server_->stop(1s, [&] { done.set_value(); }); });
    done.get_future().wait_for(5s);
    std::remove(path.c_str());
  }
  uint16_t port() const { return port_; }
  std::string url(const std::string& p) const { return "http://127.0.0.1:" + std::to_string(port_) + p; }

  SinkStats stats;
  std::string path;
  static constexpr uint64_t fileSize = 3 * 65536 + 100;

 private:
  net::EventLoopThread thread_;
  net::HttpRouter router_;
  std::unique_ptr<net::HttpServer> server_;
  uint16_t port_ = 0;
};

std::string readAll(boost::beast::tcp_stream& stream) {
  std::string out;
  char buf[65536];
  boost::system::error_code ec;
  for (;;) {
    size_t n = stream.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

std::string rawExchange(uint16_t port, const std::string& bytes) {
  asio::io_context io;
  boost::beast::tcp_stream stream(io);
  stream.expires_after(5s);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  boost::system::error_code ec;
  asio::write(stream, asio::buffer(bytes), ec);
  return readAll(stream);
}

template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 200 && !pred(); ++i) std::this_thread::sleep_for(10ms);
  return pred();
}

}  // namespace

TEST(HttpStreaming, BodyArrivesInBoundedPiecesAndHandlerAnswersFromAnotherThread) {
  StreamServer s;
  std::string body(5 << 20, '\0');
  uint64_t sum = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<char>(i * 7 % 251);
    sum += static_cast<unsigned char>(body[i]);
  }
  auto res = net::httpRequest(http::verb::put, s.url("/up/x"), body);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->result_int(), 201);
  EXPECT_EQ(res->body(), std::to_string(body.size()) + " " + std::to_string(sum));
  EXPECT_LE(s.stats.largestPiece.load(), 64u * 1024);
  EXPECT_TRUE(eventually([&] { return s.stats.destroyed == 1; }));
}

TEST(HttpStreaming, ChunkedBodyAndKeepAlive) {
  StreamServer s;
  std::string req =
      "PUT /up/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
      "PUT /up/y HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab";
  auto text = rawExchange(s.port(), req);
  EXPECT_NE(text.find("HTTP/1.1 201"), std::string::npos) << text;
  EXPECT_NE(text.find("\r\n\r\n11 "), std::string::npos) << text;
  EXPECT_NE(text.find("\r\n\r\n2 195"), std::string::npos) << text;
  EXPECT_EQ(s.stats.ended, 2);
}

TEST(HttpStreaming, HandlerRefusesBeforeTheBody) {
  StreamServer s;
  auto res = net::httpRequest(http::verb::put, s.url("/up/forbidden"), std::string(100000, 'x'));
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->result_int(), 403);
  EXPECT_EQ(s.stats.created, 0);
}

TEST(HttpStreaming, SinkRefusesMidBody) {
  StreamServer s;
  auto res = net::httpRequest(http::verb::put, s.url("/up/x?refuse=100000"), std::string(1 << 20, 'x'));
  // The server answers and closes while the client may still be writing: either the 413 arrives
  // or the write fails; the sink never ends either way.
  if (res) {
    EXPECT_EQ(res->result_int(), 413);
  }
  EXPECT_TRUE(eventually([&] { return s.stats.destroyed == 1; }));
  EXPECT_EQ(s.stats.ended, 0);
}

TEST(HttpStreaming, DeclaredLengthOverLimitIs413WithoutASink) {
  StreamServer s;
  auto text = rawExchange(s.port(), "PUT /up/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\nabc");
  EXPECT_EQ(text.rfind("HTTP/1.1 413", 0), 0u) << text;
  EXPECT_EQ(s.stats.created, 0);
}

TEST(HttpStreaming, CutConnectionDestroysSinkWithoutEnd) {
  StreamServer s;
  {
    asio::io_context io;
    boost::beast::tcp_stream stream(io);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.port()));
    std::string head = "PUT /up/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + std::string(300000, 'z');
    asio::write(stream, asio::buffer(head));
    ASSERT_TRUE(eventually([&] { return s.stats.bytes >= 300000; }));
  }  // closed with 700,000 bytes missing
  EXPECT_TRUE(eventually([&] { return s.stats.destroyed == 1; }));
  EXPECT_EQ(s.stats.ended, 0);
}

TEST(HttpStreaming, ExpectContinueGets100First) {
  StreamServer s;
  asio::io_context io;
  boost::beast::tcp_stream stream(io);
  stream.expires_after(5s);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.port()));
  asio::write(stream, asio::buffer(std::string(
                          "PUT /up/x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")));
  char buf[64];
  size_t n = stream.read_some(asio::buffer(buf));
  EXPECT_EQ(std::string(buf, n).rfind("HTTP/1.1 100 Continue\r\n", 0), 0u) << std::string(buf, n);
  asio::write(stream, asio::buffer(std::string("abc")));
  auto rest = readAll(stream);
  EXPECT_NE(rest.find("201"), std::string::npos) << rest;
}

TEST(HttpStreaming, SendFileStreamsWholeFileAndPieces) {
  StreamServer s;
  auto whole = net::httpRequest(http::verb::get, s.url("/file"));
  ASSERT_TRUE(whole) << whole.error().message;
  ASSERT_EQ(whole->body().size(), StreamServer::fileSize);
  EXPECT_EQ(whole->body()[65536 * 2 + 1], static_cast<char>('a' + (65536 * 2 + 1) % 26));
  EXPECT_EQ((*whole)[http::field::content_length], std::to_string(StreamServer::fileSize));
  auto parts = net::httpRequest(http::verb::get, s.url("/file?parts=1"));
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->body(), "<klmno|abc>");
  auto head = rawExchange(s.port(), "HEAD /file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(head.find("Content-Length: " + std::to_string(StreamServer::fileSize)), std::string::npos) << head;
  EXPECT_EQ(head.find("abc"), std::string::npos);
  // Keep-alive survives a file body: two GETs on one connection.
  auto two = rawExchange(s.port(), "GET /file?parts=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /file?parts=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(two.find("<klmno|abc>"), two.rfind("<klmno|abc>")) << two;
}

TEST(HttpStreaming, ResponderWithoutStreamingReadsIntoMemory) {
  std::string path = "/tmp/meeting-net-stream-mem-" + std::to_string(::getpid());
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fputs("0123456789", f);
  std::fclose(f);
  net::HttpResponse got;
  net::HttpResponder responder([&](net::HttpResponse&& r) { got = std::move(r); });
  auto body = std::make_shared<net::FileBody>();
  body->fd = ::open(path.c_str(), O_RDONLY);
  body->pieces = {{"", 2, 3}, {"-", 0, 0}, {"", 8, 2}};
  responder.sendFile(net::HttpResponse{http::status::ok, 11}, body);
  EXPECT_EQ(got.body(), "234-89");
  std::remove(path.c_str());
}
