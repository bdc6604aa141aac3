#include "api/control/ControlClient.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <deque>

#include "api/control/ControlHub.hpp"
#include "common/Log.hpp"
#include "common/Metrics.hpp"

namespace meeting::api::control {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr const char* ControlPath = "/api/v1/control";

// What both clients share: registration, the load timer, commands and acks. Lives on one loop.
class ClientCore {
 public:
  ClientCore(net::EventLoop& loop, NodeInfo node, ControlClient::CommandHandler onCommand,
             ControlClient::LoadProvider load, Duration loadInterval)
      : loop_(loop), node_(std::move(node)), onCommand_(std::move(onCommand)), load_(std::move(load)),
        loadInterval_(loadInterval) {}
  virtual ~ClientCore() { stopLoadTimer(); }

  // Sends one serialized message on the current link (if any).
  virtual void sendText(std::string text) = 0;

  void sendRegister() {
    ControlMessage m;
    m.type = ControlMessage::Type::Register;
    m.node = node_;
    sendText(serializeControlMessage(m));
  }

  void handleText(std::string_view text) {
    auto m = parseControlMessage(text);
    if (!m) {
      MLOG_WARN("control client: malformed message from the apiserver");
      return;
    }
    using T = ControlMessage::Type;
    if (m->type == T::Registered) {
      registered_ = true;
      onRegistered();
      // Events of the outage (chat, joins, leaves) reach the apiserver late rather than never.
      for (auto& held : heldEvents_) sendText(std::move(held));
      heldEvents_.clear();
      startLoadTimer();
    } else if (m->type == T::Command) {
      CommandAck ack = onCommand_ ? onCommand_(m->command) : CommandAck{0, false, "no command handler"};
      ack.id = m->command.id;
      ControlMessage reply;
      reply.type = T::Ack;
      reply.ack = ack;
      sendText(serializeControlMessage(reply));
    } else if (m->type == T::Error) {
      MLOG_WARN("control client: apiserver refused us: {} ({})", m->errorMessage, m->errorCode);
    }
  }

  void linkLost() {
    registered_ = false;
    stopLoadTimer();
  }

  void sendEvent(const NodeEvent& event) {
    ControlMessage m;
    m.type = ControlMessage::Type::Event;
    m.event = event;
    if (!registered_) {
      if (heldEvents_.size() >= MaxHeldEvents) {
        static auto& dropped = MetricsRegistry::global().counter(
            "meeting_control_events_dropped_total", "events lost because the control link was down too long");
        dropped.inc();
        MLOG_WARN("control client: link down, {} events held; dropping event {}", heldEvents_.size(), event.event);
        return;
      }
      heldEvents_.push_back(serializeControlMessage(m));
      return;
    }
    sendText(serializeControlMessage(m));
  }

  bool isRegistered() const { return registered_; }
  net::EventLoop& loop() const { return loop_; }

 protected:
  virtual void onRegistered() {}

  net::EventLoop& loop_;
  NodeInfo node_;

 private:
  void startLoadTimer() {
    stopLoadTimer();
    auto tick = [this] {
      ControlMessage m;
      m.type = ControlMessage::Type::Load;
      if (load_) m.load = load_();
      sendText(serializeControlMessage(m));
    };
    tick();
    loadTimer_ = loop_.runEvery(loadInterval_, tick);
  }
  void stopLoadTimer() {
    if (loadTimer_ != 0) loop_.cancel(loadTimer_);
    loadTimer_ = 0;
  }

  ControlClient::CommandHandler onCommand_;
  ControlClient::LoadProvider load_;
  Duration loadInterval_;
  net::TimerId loadTimer_ = 0;
  bool registered_ = false;
  // Events raised while the link is down, sent in order once registered again; bounded so an
  // apiserver that stays away cannot exhaust memory.
  static constexpr size_t MaxHeldEvents = 10000;
  std::deque<std::string> heldEvents_;
};

// ---------------------------------------------------------------- WebSocket client

struct Endpoint {
  bool tls = true;
  std::string host;
  std::string port;
};

std::optional<Endpoint> parseEndpoint(std::string text) {
  Endpoint e;
  for (auto [prefix, tls] : {std::pair{"https://", true}, {"wss://", true}, {"http://", false}, {"ws://", false}}) {
    std::string p = prefix;
    if (text.rfind(p, 0) == 0) {
      e.tls = tls;
      text = text.substr(p.size());
      break;
    }
  }
  text = text.substr(0, text.find('/'));
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 >= text.size()) return std::nullopt;
  e.host = text.substr(0, colon);
  e.port = text.substr(colon + 1);
  if (e.host.size() >= 2 && e.host.front() == '[') e.host = e.host.substr(1, e.host.size() - 2);
  if (e.host.empty()) return std::nullopt;
  return e;
}

class Connection {
 public:
  virtual ~Connection() = default;
  virtual void send(std::string text) = 0;
  virtual void close() = 0;
};

class WebSocketClient;

template <typename Stream>
class WsConnection final : public Connection, public std::enable_shared_from_this<WsConnection<Stream>> {
 public:
  using Owner = std::weak_ptr<WebSocketClient>;
  template <typename... Args>
  WsConnection(Owner owner, Args&&... args) : owner_(std::move(owner)), ws_(std::forward<Args>(args)...) {}

  void run(tcp::resolver::results_type endpoints, Endpoint target, std::string bearer);
  void send(std::string text) override {
    queue_.push_back(std::move(text));
    if (queue_.size() == 1 && open_) writeNext();
  }
  void close() override {
    closed_ = true;
    if (open_) {
      ws_.async_close(websocket::close_code::normal, [self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ec;
      beast::get_lowest_layer(ws_).socket().close(ec);
    }
  }

 private:
  void fail(const char* what, beast::error_code ec);
  void handshake(Endpoint target, std::string bearer);
  void readNext();
  void writeNext() {
    ws_.async_write(asio::buffer(queue_.front()), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->fail("write", ec);
      self->queue_.pop_front();
      if (!self->queue_.empty()) self->writeNext();
    });
  }

  Owner owner_;
  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool open_ = false;
  bool closed_ = false;
  bool failed_ = false;
};

class WebSocketClient final : public ClientCore, public std::enable_shared_from_this<WebSocketClient> {
 public:
  WebSocketClient(net::EventLoop& loop, ControlClientOptions options, ControlClient::CommandHandler onCommand,
                  ControlClient::LoadProvider load)
      : ClientCore(loop, options.node, std::move(onCommand), std::move(load), options.loadInterval),
        options_(std::move(options)), resolver_(loop.context()), backoff_(options_.minBackoff) {}

  void start() {
    stopped_ = false;
    connect();
  }
  void stop() {
    stopped_ = true;
    if (retryTimer_ != 0) loop_.cancel(retryTimer_);
    retryTimer_ = 0;
    resolver_.cancel();
    if (conn_) conn_->close();
    conn_.reset();
    linkLost();
  }
  void sendText(std::string text) override {
    if (conn_) conn_->send(std::move(text));
  }

  // From a connection: the WebSocket is open, or it ended.
  void opened() { sendRegister(); }
  void ended(const Connection* which, const std::string& why) {
    if (which != conn_.get()) return;  // a replaced connection
    conn_.reset();
    linkLost();
    if (stopped_) return;
    MLOG_WARN("control client: link to {} lost ({}); retrying in {} ms", options_.apiServer, why,
              std::chrono::duration_cast<std::chrono::milliseconds>(backoff_).count());
    retryTimer_ = loop_.runAfter(backoff_, [weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        self->retryTimer_ = 0;
        self->connect();
      }
    });
    backoff_ = std::min(backoff_ * 2, options_.maxBackoff);
  }

 protected:
  void onRegistered() override {
    backoff_ = options_.minBackoff;
    MLOG_INFO("control client: registered with {} as {} {}", options_.apiServer, node_.role, node_.id);
  }

 private:
  void connect();

  ControlClientOptions options_;
  tcp::resolver resolver_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::shared_ptr<Connection> conn_;
  Duration backoff_;
  net::TimerId retryTimer_ = 0;
  bool stopped_ = true;
};

template <typename Stream>
void WsConnection<Stream>::fail(const char* what, beast::error_code ec) {
  if (failed_) return;
  failed_ = true;
  open_ = false;
  if (auto owner = owner_.lock()) owner->ended(this, std::string(what) + ": " + ec.message());
}

template <typename Stream>
void WsConnection<Stream>::run(tcp::resolver::results_type endpoints, Endpoint target, std::string bearer) {
  beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(ws_).async_connect(
      endpoints, [self = this->shared_from_this(), target, bearer](beast::error_code ec, const tcp::endpoint&) {
        if (ec) return self->fail("connect", ec);
        if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
          if (!SSL_set_tlsext_host_name(self->ws_.next_layer().native_handle(), target.host.c_str())) {
            return self->fail("tls sni", beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
          }
          self->ws_.next_layer().async_handshake(asio::ssl::stream_base::client, [self, target, bearer](beast::error_code e) {
            if (e) return self->fail("tls handshake", e);
            self->handshake(target, bearer);
          });
        } else {
          self->handshake(target, bearer);
        }
      });
}

template <typename Stream>
void WsConnection<Stream>::handshake(Endpoint target, std::string bearer) {
  beast::get_lowest_layer(ws_).expires_never();
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  ws_.set_option(websocket::stream_base::decorator([bearer](websocket::request_type& req) {
    req.set(beast::http::field::authorization, "Bearer " + bearer);
    req.set(beast::http::field::user_agent, "meeting-control");
  }));
  ws_.read_message_max(MaxMessageBytes);
  ws_.async_handshake(target.host + ":" + target.port, ControlPath, [self = this->shared_from_this()](beast::error_code ec) {
    if (ec) return self->fail("websocket handshake", ec);
    if (self->closed_) return;
    self->open_ = true;
    // Flush what was queued before the handshake, then let the owner queue its register (send()
    // starts a write only when none is in flight: one async_write at a time).
    if (!self->queue_.empty()) self->writeNext();
    if (auto owner = self->owner_.lock()) owner->opened();
    self->readNext();
  });
}

template <typename Stream>
void WsConnection<Stream>::readNext() {
  ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->fail("read", ec);
    std::string text = beast::buffers_to_string(self->buffer_.data());
    self->buffer_.consume(self->buffer_.size());
    if (auto owner = self->owner_.lock()) owner->handleText(text);
    self->readNext();
  });
}

void WebSocketClient::connect() {
  auto target = parseEndpoint(options_.apiServer);
  if (!target) {
    MLOG_ERROR("control client: --apiserver '{}' is not host:port or a URL", options_.apiServer);
    return;
  }
  int64_t now = loop_.clock().wallMicros() / 1'000'000;
  auto token = makeControlToken(options_.secret, node_.id, node_.role, now);
  if (!token) {
    MLOG_ERROR("control client: {}", token.error().message);
    return;
  }
  resolver_.async_resolve(target->host, target->port, [weak = weak_from_this(), target = *target, bearer = *token](
                                                           beast::error_code ec, tcp::resolver::results_type results) {
    auto self = weak.lock();
    if (!self || self->stopped_) return;
    if (ec) {
      return self->ended(nullptr, "resolve: " + ec.message());  // no connection yet: conn_ is null
    }
    if (target.tls) {
      if (!self->tls_) {
        self->tls_ = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
        self->tls_->set_default_verify_paths();
        self->tls_->set_verify_mode(self->options_.verifyTls ? asio::ssl::verify_peer : asio::ssl::verify_none);
      }
      auto c = std::make_shared<WsConnection<beast::ssl_stream<beast::tcp_stream>>>(weak, self->loop_.context(), *self->tls_);
      self->conn_ = c;
      c->run(results, target, bearer);
    } else {
      auto c = std::make_shared<WsConnection<beast::tcp_stream>>(weak, self->loop_.context());
      self->conn_ = c;
      c->run(results, target, bearer);
    }
  });
}

class WebSocketControlClient final : public ControlClient {
 public:
  explicit WebSocketControlClient(std::shared_ptr<WebSocketClient> impl) : impl_(std::move(impl)) {}
  ~WebSocketControlClient() override { impl_->stop(); }
  void start() override { impl_->start(); }
  void stop() override { impl_->stop(); }
  void reportEvent(NodeEvent event) override {
    // The loop may run this after the client is gone: hold it weakly.
    impl_->loop().post([weak = std::weak_ptr<WebSocketClient>(impl_), event = std::move(event)] {
      if (auto self = weak.lock()) self->sendEvent(event);
    });
  }
  bool registered() const override { return impl_->isRegistered(); }

 private:
  std::shared_ptr<WebSocketClient> impl_;
};

// ---------------------------------------------------------------- in-memory client

// Messages go through the same serializer and parser as on the wire, so `meeting all` exercises
// the protocol too; hub -> client traffic is posted to the client's loop, never run inline.
class LocalClient final : public ClientCore, public std::enable_shared_from_this<LocalClient> {
 public:
  LocalClient(net::EventLoop& loop, ControlHub& hub, NodeInfo node, ControlClient::CommandHandler onCommand,
              ControlClient::LoadProvider load, Duration loadInterval)
      : ClientCore(loop, std::move(node), std::move(onCommand), std::move(load), loadInterval), hub_(hub) {}

  void start() {
    if (link_ != 0) return;
    std::weak_ptr<LocalClient> weak = weak_from_this();
    net::EventLoop* loop = &loop_;
    ControlHub::LinkOps ops{[weak, loop](std::string text) {
                              loop->post([weak, text = std::move(text)] {
                                if (auto self = weak.lock()) self->handleText(text);
                              });
                            },
                            [weak, loop](uint16_t, std::string) {
                              loop->post([weak] {
                                if (auto self = weak.lock()) self->stop();
                              });
                            }};
    link_ = hub_.attach(std::move(ops), node_.id);
    sendRegister();
  }
  void stop() {
    if (link_ == 0) return;
    hub_.detach(link_);
    link_ = 0;
    linkLost();
  }
  void sendText(std::string text) override {
    if (link_ != 0) hub_.receive(link_, text);
  }

 private:
  ControlHub& hub_;
  ControlHub::LinkId link_ = 0;
};

class LocalControlClient final : public ControlClient {
 public:
  explicit LocalControlClient(std::shared_ptr<LocalClient> impl) : impl_(std::move(impl)) {}
  ~LocalControlClient() override { impl_->stop(); }
  void start() override { impl_->start(); }
  void stop() override { impl_->stop(); }
  void reportEvent(NodeEvent event) override {
    impl_->loop().post([weak = std::weak_ptr<LocalClient>(impl_), event = std::move(event)] {
      if (auto self = weak.lock()) self->sendEvent(event);
    });
  }
  bool registered() const override { return impl_->isRegistered(); }

 private:
  std::shared_ptr<LocalClient> impl_;
};

}  // namespace

std::unique_ptr<ControlClient> makeWebSocketControlClient(net::EventLoop& loop, ControlClientOptions options,
                                                          ControlClient::CommandHandler onCommand,
                                                          ControlClient::LoadProvider load) {
  return std::make_unique<WebSocketControlClient>(
      std::make_shared<WebSocketClient>(loop, std::move(options), std::move(onCommand), std::move(load)));
}

std::unique_ptr<ControlClient> makeLocalControlClient(net::EventLoop& loop, ControlHub& hub, NodeInfo node,
                                                      ControlClient::CommandHandler onCommand,
                                                      ControlClient::LoadProvider load, Duration loadInterval) {
  return std::make_unique<LocalControlClient>(std::make_shared<LocalClient>(
      loop, hub, std::move(node), std::move(onCommand), std::move(load), loadInterval));
}

std::unique_ptr<ControlClient> makeControlClient(net::EventLoop& loop, ControlHub* hub, const std::string& apiServer,
                                                 const std::string& secret, NodeInfo node,
                                                 ControlClient::CommandHandler onCommand,
                                                 ControlClient::LoadProvider load) {
  std::unique_ptr<ControlClient> client;
  if (hub) {
    client = makeLocalControlClient(loop, *hub, std::move(node), std::move(onCommand), std::move(load));
  } else if (!apiServer.empty()) {
    ControlClientOptions options;
    options.apiServer = apiServer;
    options.secret = secret;
    options.node = std::move(node);
    client = makeWebSocketControlClient(loop, std::move(options), std::move(onCommand), std::move(load));
  }
  if (client) client->start();
  return client;
}

std::string publicAddress(const std::string& domainAddress, const std::string& publicUrl) {
  if (!domainAddress.empty()) return domainAddress;
  auto start = publicUrl.find("//");
  auto hostPort = start == std::string::npos ? publicUrl : publicUrl.substr(start + 2);
  return hostPort.substr(0, hostPort.find('/'));
}

}  // namespace meeting::api::control
