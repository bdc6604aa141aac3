#include "net/HttpServer.hpp"

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>

#include <deque>
#include <unordered_set>

#include "common/Log.hpp"
#include "common/Metrics.hpp"
#include "net/AccessLog.hpp"
#include "net/WebSocketConnection.hpp"

namespace meeting::net {

namespace beast = boost::beast;
namespace asio = boost::asio;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

// What the server needs to know of each live connection to stop gracefully.
class Connection {
 public:
  virtual ~Connection() = default;
  /// Closes the connection now if no request is in progress; otherwise after the response.
  virtual void closeWhenIdle() = 0;
  virtual void forceClose() = 0;
};

std::string remoteOf(const tcp::socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string();
}

void gracefulClose(PlainStream& stream, std::function<void()> done) {
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.close();
  done();
}

void gracefulClose(TlsStream& stream, std::function<void()> done) {
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(3));
  stream.async_shutdown([&stream, done = std::move(done)](beast::error_code) {
    beast::get_lowest_layer(stream).close();
    done();
  });
}

}  // namespace

std::string redactTargetForLog(std::string_view target) {
  static constexpr std::string_view Monitoring = "/monitoring/";
  static constexpr std::string_view Redacted = "<redacted>";
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string out;
  out.reserve(target.size());
  if (path.substr(0, Monitoring.size()) == Monitoring) {
    out.append(Monitoring).append(Redacted);
  } else {
    out.append(path);
  }
  if (q == std::string_view::npos) return out;
  std::string_view query = target.substr(q + 1);
  out += '?';
  while (true) {
    const size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    const size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    if (eq != std::string_view::npos && (key == "token" || key == "access_token" || key == "sig")) {
      out.append(key).append("=").append(Redacted);
    } else {
      out.append(item);
    }
    if (amp == std::string_view::npos) break;
    out += '&';
    query.remove_prefix(amp + 1);
  }
  return out;
}

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(EventLoop& l, HttpRouter& r, HttpServerOptions o)
      : loop(l), router(r), options(std::move(o)), acceptor(l.context()) {}

  EventLoop& loop;
  HttpRouter& router;
  HttpServerOptions options;
  tcp::acceptor acceptor;
  std::unordered_set<std::shared_ptr<Connection>> connections;
  bool stopping = false;
  std::function<void()> onStopped;
  TimerId graceTimer = 0;
  Counter& acceptedTotal = MetricsRegistry::global().counter(
      "meeting_http_connections_total", "HTTP connections accepted");
  Gauge& openGauge = MetricsRegistry::global().gauge("meeting_http_open_connections", "Open HTTP and WebSocket connections");

  void accept();
  void add(std::shared_ptr<Connection> c) {
    connections.insert(std::move(c));
    openGauge.set(static_cast<double>(connections.size()));
  }
  void remove(Connection* c) {
    for (auto it = connections.begin(); it != connections.end(); ++it) {
      if (it->get() == c) {
        connections.erase(it);
        break;
      }
    }
    openGauge.set(static_cast<double>(connections.size()));
    if (stopping && connections.empty()) finishStop();
  }
  void finishStop() {
    if (!onStopped) return;
    if (graceTimer) loop.cancel(graceTimer);
    graceTimer = 0;
    auto done = std::move(onStopped);
    onStopped = nullptr;
    done();
  }

  void recordRequest(const std::string& method, const std::string& route, unsigned status, double seconds) {
    auto& registry = MetricsRegistry::global();
    registry.counter("meeting_http_requests_total", "HTTP requests by method, route and status",
                     {{"method", method}, {"route", route}, {"status", std::to_string(status)}})
        .inc();
    registry
        .histogram("meeting_http_request_duration_seconds", "Time from full request to response",
                   {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5}, {{"route", route}})
        .observe(seconds);
  }
};

namespace {

// ---------------------------------------------------------------------------------------------
template <class Stream>
class WebSocketSession final : public WebSocketConnection,
                               public Connection,
                               public std::enable_shared_from_this<WebSocketSession<Stream>> {
 public:
  WebSocketSession(std::shared_ptr<HttpServer::Impl> server, Stream&& stream, std::string remote)
      : server_(std::move(server)), ws_(std::move(stream)), remote_(std::move(remote)) {}

  void start(HttpRequest request, const WebSocketRoute& route, HttpRequestContext& ctx) {
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeouts{std::chrono::seconds(15), std::chrono::seconds(30), true};
    ws_.set_option(timeouts);
    ws_.read_message_max(route.maxMessageBytes);
    ws_.set_option(websocket::stream_base::decorator([name = server_->options.serverName](websocket::response_type& res) {
      res.set(http::field::server, name);
    }));
    request_ = std::move(request);
    auto self = this->shared_from_this();
    route.onOpen(self, ctx);  // handlers are set here, before reading starts
    ws_.async_accept(request_, [self](beast::error_code ec) {
      if (ec) return self->finish();
      self->read();
      self->writeNext();
    });
  }

  void send(std::string text) override {
    auto self = this->shared_from_this();
    asio::post(ws_.get_executor(), [self, text = std::move(text)]() mutable {
      if (self->closing_ || self->finished_) return;
      self->queue_.push_back(std::move(text));
      if (self->queue_.size() == 1 && self->open_) self->writeNext();
    });
  }

  void close(uint16_t code, std::string reason) override {
    auto self = this->shared_from_this();
    asio::post(ws_.get_executor(), [self, code, reason = std::move(reason)] {
      if (self->closing_ || self->finished_) return;
      self->closing_ = true;
      self->closeCode_ = code;
      self->closeReason_ = reason;
      if (!self->writing_) self->sendClose();
    });
  }

  void abort() override {
    auto self = this->shared_from_this();
    asio::post(ws_.get_executor(), [self] {
      beast::get_lowest_layer(self->ws_).close();
      self->finish();
    });
  }

  void onMessage(std::function<void(std::string&&)> handler) override { onMessage_ = std::move(handler); }
  void onClose(std::function<void()> handler) override { onClose_ = std::move(handler); }
  const std::string& remoteAddress() const override { return remote_; }
  size_t pendingMessages() const override { return queue_.size(); }

  void closeWhenIdle() override { close(1001, "server shutting down"); }
  void forceClose() override { abort(); }

 private:
  void read() {
    open_ = true;
    auto self = this->shared_from_this();
    ws_.async_read(buffer_, [self](beast::error_code ec, size_t) {
      if (ec) {
        if (ec == websocket::error::message_too_big) {
          MLOG_INFO("websocket {}: message over the size limit, closing", self->remote_);
        }
        return self->finish();
      }
      std::string text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      if (self->onMessage_ && !self->closing_) self->onMessage_(std::move(text));
      if (!self->finished_) self->read();
    });
  }

  void writeNext() {
    if (writing_ || !open_ || finished_) return;
    if (queue_.empty()) {
      if (closing_) sendClose();
      return;
    }
    writing_ = true;
    ws_.text(true);
    auto self = this->shared_from_this();
    ws_.async_write(asio::buffer(queue_.front()), [self](beast::error_code ec, size_t) {
      self->writing_ = false;
      if (ec) return self->finish();
      self->queue_.pop_front();
      self->writeNext();
    });
  }

  void sendClose() {
    if (closeSent_ || !open_) return;
    closeSent_ = true;
    auto self = this->shared_from_this();
    ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(closeCode_), closeReason_), [self](beast::error_code) {
      // The read loop sees the peer's close frame and finishes.
    });
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    queue_.clear();
    auto handler = std::move(onClose_);
    onClose_ = nullptr;
    onMessage_ = nullptr;
    if (handler) handler();
    server_->remove(this);
  }

  std::shared_ptr<HttpServer::Impl> server_;
  websocket::stream<Stream> ws_;
  std::string remote_;
  HttpRequest request_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  std::function<void(std::string&&)> onMessage_;
  std::function<void()> onClose_;
  bool open_ = false, writing_ = false, closing_ = false, closeSent_ = false, finished_ = false;
  uint16_t closeCode_ = 1000;
  std::string closeReason_;
};

// ---------------------------------------------------------------------------------------------
template <class Stream>
class HttpSession final : public Connection, public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(std::shared_ptr<HttpServer::Impl> server, Stream&& stream, std::string remote, bool secure)
      : server_(std::move(server)), stream_(std::move(stream)), remote_(std::move(remote)), secure_(secure),
        handlerTimer_(server_->loop.context()), writeTimer_(server_->loop.context()) {}

  void start() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(server_->options.headerTimeout);
      auto self = this->shared_from_this();
      stream_.async_handshake(asio::ssl::stream_base::server, [self](beast::error_code ec) {
        if (ec) {
          MLOG_DEBUG("tls handshake from {} failed: {}", self->remote_, ec.message());
          return self->finish();
        }
        self->readHeader();
      });
    } else {
      readHeader();
    }
  }

  void closeWhenIdle() override {
    closeAfterResponse_ = true;
    if (!busy_) {
      beast::get_lowest_layer(stream_).cancel();
    }
  }
  void forceClose() override { beast::get_lowest_layer(stream_).close(); }

 private:
  void readHeader() {
    if (closeAfterResponse_) return shutdown();
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options.maxHeaderBytes));
    parser_->body_limit(boost::none);
    beast::get_lowest_layer(stream_).expires_after(server_->options.headerTimeout);
    auto self = this->shared_from_this();
    http::async_read_header(stream_, buffer_, *parser_, [self](beast::error_code ec, size_t) { self->onHeader(ec); });
  }

  void onHeader(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      return reject(http::status::request_header_fields_too_large, "header_too_large",
                    "request header exceeds " + std::to_string(server_->options.maxHeaderBytes) + " bytes");
    }
    if (ec) {
      // A parse error (not a closed or timed-out connection) gets a 400 before closing.
      if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
          ec.category() == http::make_error_code(http::error::bad_target).category()) {
        return reject(http::status::bad_request, "bad_request", "malformed HTTP request: " + ec.message());
      }
      return finish();
    }
    busy_ = true;
    started_ = std::chrono::steady_clock::now();
    const auto& header = parser_->get();
    std::string target(header.target());
    auto q = target.find('?');
    auto decoded = percentDecode(std::string_view(target).substr(0, q), false);
    if (!decoded || decoded->empty() || decoded->front() != '/' || decoded->find('\0') != std::string::npos) {
      return reject(http::status::bad_request, "bad_target", "malformed request target");
    }
    path_ = *decoded;
    query_ = q == std::string::npos ? std::string{} : target.substr(q + 1);
    match_ = server_->router.match(header.method(), path_, websocket::is_upgrade(header));
    size_t limit = match_.options.maxBodyBytes;
    if (header.has_content_length() || header.chunked()) {
      if (parser_->content_length() && *parser_->content_length() > limit) {
        return reject(http::status::payload_too_large, "body_too_large",
                      "request body exceeds " + std::to_string(limit) + " bytes");
      }
    }
    parser_->body_limit(limit);
    if (match_.stream) return startStream();
    beast::get_lowest_layer(stream_).expires_after(server_->options.bodyTimeout);
    auto self = this->shared_from_this();
    http::async_read(stream_, buffer_, *parser_, [self](beast::error_code e, size_t) { self->onBody(e); });
  }

  // --- Streamed request bodies (HttpRouter::addStreaming) ---------------------------------------
  // The handler sees the head first; the body then goes to its sink in pieces of at most IoChunk
  // bytes through one per-connection buffer, so an upload of any size holds ~IoChunk in memory.
  void startStream() {
    request_ = {};
    request_.base() = parser_->get().base();
    keepAlive_ = request_.keep_alive();
    HttpRequestContext ctx{request_, path_, match_.params, parseQuery(query_), remote_, secure_};
    auto verdict = (*match_.stream)(ctx);
    if (auto* refusal = std::get_if<HttpResponse>(&verdict)) {
      keepAlive_ = false;  // the unread body is still on the wire
      return respond(std::move(*refusal), match_.pattern);
    }
    sink_ = std::move(std::get<std::unique_ptr<HttpBodySink>>(verdict));
    if (!sink_) {
      keepAlive_ = false;
      return respond(jsonError(http::status::internal_server_error, "no_sink", "no body sink"), match_.pattern);
    }
    bodyParser_.emplace(std::move(*parser_));
    bodyParser_->body_limit(match_.options.maxBodyBytes);
    if (!ioBuffer_) ioBuffer_ = std::make_unique<char[]>(IoChunk);
    if (http::token_list(request_[http::field::expect]).exists("100-continue")) {
      // RFC 9110 §10.1.1: the client waits for this before sending a large body.
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      auto self = this->shared_from_this();
      beast::get_lowest_layer(stream_).expires_after(server_->options.bodyTimeout);
      return http::async_write(stream_, *cont, [self, cont](beast::error_code ec, size_t) {
        if (ec) return self->abortStream();
        self->readStreamChunk();
      });
    }
    readStreamChunk();
  }

  void readStreamChunk() {
    auto& body = bodyParser_->get().body();
    body.data = ioBuffer_.get();
    body.size = IoChunk;
    // An idle timeout per piece: a large upload may take long as long as it makes progress.
    beast::get_lowest_layer(stream_).expires_after(server_->options.bodyTimeout);
    auto self = this->shared_from_this();
    http::async_read_some(stream_, buffer_, *bodyParser_, [self](beast::error_code ec, size_t) { self->onStreamChunk(ec); });
  }

  void onStreamChunk(beast::error_code ec) {
    if (ec == http::error::need_buffer) ec = {};
    if (ec == http::error::body_limit) {
      sink_.reset();
      return reject(http::status::payload_too_large, "body_too_large",
                    "request body exceeds " + std::to_string(match_.options.maxBodyBytes) + " bytes");
    }
    if (ec) return abortStream();
    size_t got = IoChunk - bodyParser_->get().body().size;
    if (got > 0) {
      if (auto refusal = sink_->onData(std::string_view(ioBuffer_.get(), got))) {
        sink_.reset();
        keepAlive_ = false;
        return respond(std::move(*refusal), match_.pattern);
      }
    }
    if (!bodyParser_->is_done()) return readStreamChunk();
    beast::get_lowest_layer(stream_).expires_never();
    bodyParser_.reset();
    auto sink = std::move(sink_);
    sink->onEnd(makeResponder(match_.pattern));
  }

  void abortStream() {
    sink_.reset();  // its destructor drops the partial body
    bodyParser_.reset();
    finish();
  }

  void onBody(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return reject(http::status::payload_too_large, "body_too_large",
                    "request body exceeds " + std::to_string(match_.options.maxBodyBytes) + " bytes");
    }
    if (ec) return finish();
    beast::get_lowest_layer(stream_).expires_never();
    request_ = parser_->release();
    keepAlive_ = request_.keep_alive();
    dispatch();
  }

  void dispatch() {
    using Kind = HttpRouter::Match::Kind;
    HttpRequestContext ctx{request_, path_, match_.params, parseQuery(query_), remote_, secure_};
    if (match_.kind == Kind::NotFound) {
      return respond(jsonError(http::status::not_found, "not_found", "no such resource: " + path_), "unmatched");
    }
    if (match_.kind == Kind::MethodNotAllowed) {
      auto res = jsonError(http::status::method_not_allowed, "method_not_allowed",
                           std::string(request_.method_string()) + " is not allowed on " + path_);
      res.set(http::field::allow, match_.allowed);
      return respond(std::move(res), match_.pattern);
    }
    if (match_.webSocket) return upgrade(ctx);

    (*match_.handler)(ctx, makeResponder(match_.pattern));
  }

  // A responder bound to this request (a late answer after a timeout or a closed connection is
  // dropped), and the timer that answers 503 if the handler never does.
  HttpResponder makeResponder(const std::string& route) {
    const uint64_t generation = ++generation_;
    std::weak_ptr<HttpSession> weak = this->shared_from_this();
    auto executor = stream_.get_executor();
    HttpResponder responder(
        [weak, executor, generation, route](HttpResponse&& res) {
          asio::post(executor, [weak, generation, route, res = std::move(res)]() mutable {
            auto self = weak.lock();
            if (self && self->generation_ == generation && self->busy_) self->respond(std::move(res), route);
          });
        },
        [weak, executor, generation, route](HttpResponse&& res, std::shared_ptr<FileBody> body) {
          asio::post(executor, [weak, generation, route, res = std::move(res), body = std::move(body)]() mutable {
            auto self = weak.lock();
            if (self && self->generation_ == generation && self->busy_) self->respond(std::move(res), route, std::move(body));
          });
        });
    handlerTimer_.expires_after(server_->options.handlerTimeout);
    handlerTimer_.async_wait([weak, generation, route](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->generation_ != generation || !self->busy_) return;
      MLOG_ERROR("handler for {} did not answer in time", route);
      self->respond(jsonError(http::status::service_unavailable, "timeout", "the server did not answer in time"), route);
    });
    return responder;
  }

  void upgrade(HttpRequestContext& ctx) {
    const auto& route = *match_.webSocket;
    if (route.authorize) {
      if (auto refusal = route.authorize(ctx)) {
        keepAlive_ = false;
        return respond(std::move(*refusal), match_.pattern);
      }
    }
    logLine(101, 0, match_.pattern);
    auto ws = std::make_shared<WebSocketSession<Stream>>(server_, std::move(stream_), remote_);
    server_->add(ws);
    ws->start(std::move(request_), route, ctx);
    upgraded_ = true;
    busy_ = false;
    server_->remove(this);  // this HTTP session ends here; the WebSocket session owns the stream
  }

  void reject(http::status status, const std::string& code, const std::string& message) {
    busy_ = true;
    keepAlive_ = false;
    if (path_.empty() && parser_) path_ = std::string(parser_->get().target().substr(0, 200));
    started_ = std::chrono::steady_clock::now();
    respond(jsonError(status, code, message), "rejected");
  }

  void respond(HttpResponse&& res, const std::string& route, std::shared_ptr<FileBody> file = nullptr) {
    if (!busy_) return;
    handlerTimer_.cancel();
    busy_ = false;
    ++generation_;
    const bool keep = keepAlive_ && !closeAfterResponse_ && !server_->stopping;
    res.set(http::field::server, server_->options.serverName);
    res.keep_alive(keep);
    const bool head = request_.method() == http::verb::head;
    const unsigned status = res.result_int();
    const size_t bodySize = file ? file->size() : res.body().size();
    if (file) {
      res.body().clear();
      res.content_length(bodySize);
    } else {
      res.prepare_payload();
    }
    if (head) res.body().clear();  // Content-Length stays that of the GET body
    response_ = std::make_shared<HttpResponse>(std::move(res));
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    server_->recordRequest(std::string(request_.method_string().empty() ? "?" : request_.method_string()), route,
                           status, seconds);
    logLine(status, bodySize, route, seconds);
    auto self = this->shared_from_this();
    beast::get_lowest_layer(stream_).expires_after(server_->options.bodyTimeout);
    if (head || file) {
      auto sr = std::make_shared<http::serializer<false, http::string_body>>(*response_);
      sr->split(true);
      if (!head) fileBody_ = std::move(file);
      http::async_write_header(stream_, *sr, [self, sr, keep](beast::error_code ec, size_t) {
        if (!ec && self->fileBody_) return self->writeFilePiece(0, 0, keep);
        self->afterWrite(ec, keep);
      });
    } else {
      http::async_write(stream_, *response_, [self, keep](beast::error_code ec, size_t) { self->afterWrite(ec, keep); });
    }
  }

  // Sends fileBody_ piece by piece: text as is, file ranges through the IoChunk buffer (pread,
  // then write), so a download of any size holds ~IoChunk in memory and never blocks the loop on
  // a slow client.
  void writeFilePiece(size_t index, uint64_t done, bool keep) {
    auto& pieces = fileBody_->pieces;
    while (index < pieces.size() && pieces[index].text.empty() && done >= pieces[index].length) {
      ++index;
      done = 0;
    }
    if (index >= pieces.size()) {
      fileBody_.reset();
      return afterWrite({}, keep);
    }
    auto self = this->shared_from_this();
    beast::get_lowest_layer(stream_).expires_after(server_->options.bodyTimeout);
    const auto& piece = pieces[index];
    if (!piece.text.empty()) {
      return asio::async_write(stream_, asio::buffer(piece.text), [self, index, keep](beast::error_code ec, size_t) {
        if (ec) return self->afterWrite(ec, keep);
        self->writeFilePiece(index + 1, 0, keep);
      });
    }
    if constexpr (std::is_same_v<Stream, PlainStream>) {
      if (server_->options.zeroCopyFiles) return sendFilePiece(index, done, keep);
    }
    if (!ioBuffer_) ioBuffer_ = std::make_unique<char[]>(IoChunk);
    size_t want = static_cast<size_t>(std::min<uint64_t>(IoChunk, piece.length - done));
    ssize_t n = ::pread(fileBody_->fd, ioBuffer_.get(), want, static_cast<off_t>(piece.offset + done));
    if (n <= 0) {
      // The head promised more bytes than the file now has: the only honest signal left is to
      // close the connection short of Content-Length.
      MLOG_WARN("http {}: file body read failed at offset {}", remote_, piece.offset + done);
      return afterWrite(asio::error::broken_pipe, keep);
    }
    asio::async_write(stream_, asio::buffer(ioBuffer_.get(), static_cast<size_t>(n)),
                      [self, index, done, keep](beast::error_code ec, size_t written) {
                        if (ec) return self->afterWrite(ec, keep);
                        self->writeFilePiece(index, done + written, keep);
                      });
  }

  // Plain TCP: sendfile(2) moves the piece from the page cache to the socket without copying it
  // through user space. The socket is non-blocking: send what its buffer takes, then wait until
  // it is writable again; after SendfileBudget bytes yield to the loop so that one fast download
  // does not starve the others on this thread.
  void sendFilePiece(size_t index, uint64_t done, bool keep) {
    if constexpr (std::is_same_v<Stream, PlainStream>) {
      if (!fileBody_) return;  // the connection ended while this turn waited in the queue
      auto& socket = stream_.socket();
      const auto& piece = fileBody_->pieces[index];
      boost::system::error_code ec;
      if (!socket.native_non_blocking()) socket.native_non_blocking(true, ec);
      if (ec) return afterWrite(ec, keep);
      uint64_t budget = SendfileBudget;
      while (done < piece.length && budget > 0) {
        off_t offset = static_cast<off_t>(piece.offset + done);
        // Linux moves at most 0x7ffff000 bytes per call (sendfile(2) NOTES).
        size_t want = static_cast<size_t>(std::min<uint64_t>({piece.length - done, budget, 0x7ffff000}));
        ssize_t n = ::sendfile(socket.native_handle(), fileBody_->fd, &offset, want);
        if (n > 0) {
          done += static_cast<uint64_t>(n);
          budget -= std::min<uint64_t>(budget, static_cast<uint64_t>(n));
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return waitWritable(index, done, keep);
        if (n == 0) {
          // The file is shorter than the head promised: close short of Content-Length.
          MLOG_WARN("http {}: file body ended early at offset {}", remote_, piece.offset + done);
          return afterWrite(asio::error::broken_pipe, keep);
        }
        return afterWrite(beast::error_code(errno, boost::system::system_category()), keep);
      }
      if (done < piece.length) {
        auto self = this->shared_from_this();
        return asio::post(stream_.get_executor(), [self, index, done, keep] { self->sendFilePiece(index, done, keep); });
      }
      writeFilePiece(index, done, keep);
    }
  }

  // Waits until the socket takes more bytes; a client that reads nothing for bodyTimeout is cut
  // (the tcp_stream's own timer covers only its own operations, not this wait).
  void waitWritable(size_t index, uint64_t done, bool keep) {
    if constexpr (std::is_same_v<Stream, PlainStream>) {
      auto self = this->shared_from_this();
      const uint64_t wait = ++writeWaits_;
      writeTimer_.expires_after(server_->options.bodyTimeout);
      writeTimer_.async_wait([self, wait](beast::error_code ec) {
        // Cancelled, or fired just as the socket became writable (a later wait is not cut).
        if (ec || self->writeWaits_ != wait) return;
        boost::system::error_code ignored;
        self->stream_.socket().cancel(ignored);
      });
      stream_.socket().async_wait(tcp::socket::wait_write, [self, index, done, keep](beast::error_code ec) {
        ++self->writeWaits_;
        self->writeTimer_.cancel();
        if (ec || !self->fileBody_) return self->afterWrite(ec ? ec : asio::error::operation_aborted, keep);
        self->sendFilePiece(index, done, keep);
      });
    }
  }

  void afterWrite(beast::error_code ec, bool keep) {
    fileBody_.reset();
    response_.reset();
    request_ = {};
    if (ec) return finish();
    if (!keep) return shutdown();
    path_.clear();
    readHeader();
  }

  void logLine(unsigned status, size_t bytes, const std::string& route, double seconds = 0) {
    if (!server_->options.accessLog) return;
    MLOG_INFO("http {} {} {} {} {}B {:.2f}ms{}", remote_,
              request_.method_string().empty() && parser_ ? std::string(parser_->get().method_string())
                                                          : std::string(request_.method_string()),
              redactTargetForLog(path_.empty() ? route : path_), status, bytes, seconds * 1000, secure_ ? "" : " (plain)");
  }

  void shutdown() {
    auto self = this->shared_from_this();
    gracefulClose(stream_, [self] { self->finish(); });
  }

  void finish() {
    if (finished_ || upgraded_) return;
    finished_ = true;
    sink_.reset();
    fileBody_.reset();
    handlerTimer_.cancel();
    writeTimer_.cancel();
    server_->remove(this);
  }

  std::shared_ptr<HttpServer::Impl> server_;
  Stream stream_;
  std::string remote_;
  bool secure_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  static constexpr size_t IoChunk = 64 * 1024;
  static constexpr uint64_t SendfileBudget = 2 * 1024 * 1024;  // bytes per turn before yielding
  std::optional<http::request_parser<http::buffer_body>> bodyParser_;  // streamed body
  std::unique_ptr<HttpBodySink> sink_;
  std::shared_ptr<FileBody> fileBody_;       // streamed response body
  std::unique_ptr<char[]> ioBuffer_;         // one per connection, reused by every piece
  HttpRequest request_;
  std::shared_ptr<HttpResponse> response_;
  HttpRouter::Match match_;
  std::string path_, query_;
  asio::steady_timer handlerTimer_;
  asio::steady_timer writeTimer_;            // bounds a sendfile wait for a writable socket
  uint64_t writeWaits_ = 0;
  std::chrono::steady_clock::time_point started_;
  uint64_t generation_ = 0;
  bool busy_ = false, keepAlive_ = false, closeAfterResponse_ = false, finished_ = false, upgraded_ = false;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
void HttpServer::Impl::accept() {
  auto self = shared_from_this();
  acceptor.async_accept(loop.context(), [self](beast::error_code ec, tcp::socket socket) {
    if (self->stopping || !self->acceptor.is_open()) return;
    if (ec) {
      MLOG_WARN("accept failed: {}", ec.message());
      // e.g. EMFILE: back off briefly rather than spin.
      self->loop.runAfter(std::chrono::milliseconds(50), [self] { self->accept(); });
      return;
    }
    if (self->connections.size() >= self->options.maxConnections) {
      MLOG_WARN("connection limit {} reached; refusing {}", self->options.maxConnections, remoteOf(socket));
      socket.close();
      return self->accept();
    }
    self->acceptedTotal.inc();
    socket.set_option(tcp::no_delay(true));
    std::string remote = remoteOf(socket);
    if (self->options.tls) {
      auto session = std::make_shared<HttpSession<TlsStream>>(
          self, TlsStream(beast::tcp_stream(std::move(socket)), *self->options.tls), remote, true);
      self->add(session);
      session->start();
    } else {
      auto session = std::make_shared<HttpSession<PlainStream>>(self, PlainStream(std::move(socket)), remote, false);
      self->add(session);
      session->start();
    }
    self->accept();
  });
}

HttpServer::HttpServer(EventLoop& loop, HttpRouter& router, HttpServerOptions options)
    : impl_(std::make_shared<Impl>(loop, router, std::move(options))) {}

HttpServer::~HttpServer() {
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
}

Result<void> HttpServer::start() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(impl_->options.address, ec);
  if (ec) return makeError("invalid_config", "--listen: '" + impl_->options.address + "' is not an IP address");
  tcp::endpoint endpoint(address, impl_->options.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::string where = impl_->options.address + ":" + std::to_string(impl_->options.port);
    return makeError("listen_failed", "cannot listen on " + where + ": " + ec.message());
  }
  impl_->accept();
  return {};
}

uint16_t HttpServer::port() const {
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

size_t HttpServer::openConnections() const { return impl_->connections.size(); }

void HttpServer::stop(std::chrono::milliseconds grace, std::function<void()> done) {
  auto& impl = *impl_;
  impl.stopping = true;
  impl.onStopped = std::move(done);
  boost::system::error_code ec;
  impl.acceptor.close(ec);
  if (impl.connections.empty()) return impl.finishStop();
  auto snapshot = impl.connections;
  for (const auto& c : snapshot) c->closeWhenIdle();
  std::weak_ptr<Impl> weak = impl_;
  impl.graceTimer = impl.loop.runAfter(grace, [weak] {
    auto self = weak.lock();
    if (!self) return;
    self->graceTimer = 0;
    MLOG_WARN("{} connections still open after the grace period; closing them", self->connections.size());
    auto rest = self->connections;
    for (const auto& c : rest) c->forceClose();
    self->finishStop();
  });
}

}  // namespace meeting::net
