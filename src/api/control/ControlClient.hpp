#pragma once
// The server side (sfu / turn / fs) of the control link, as a small library: connect to the
// apiserver, register, send a load report every second, forward room/peer/track events, and run
// the commands the apiserver sends. Two implementations behind one interface: a WebSocket client
// (Boost.Beast, TLS or plain, reconnect with exponential backoff) for separate processes, and an
// in-memory one for `meeting all`. All callbacks run on the client's EventLoop.
#include <functional>
#include <memory>
#include <string>

#include "api/control/ControlMessages.hpp"
#include "common/Clock.hpp"
#include "net/EventLoop.hpp"

namespace meeting::api::control {

class ControlHub;

class ControlClient {
 public:
  /// Runs a command on the client's loop and says whether it worked.
  using CommandHandler = std::function<CommandAck(const Command&)>;
  /// Called every second on the client's loop for the load report.
  using LoadProvider = std::function<LoadReport()>;

  virtual ~ControlClient() = default;
  /// Loop thread: connects (and keeps reconnecting until stop()).
  virtual void start() = 0;
  /// Loop thread: closes the link; no reconnect afterwards.
  virtual void stop() = 0;
  /// Any thread: queues an event (dropped, with a debug log, while disconnected).
  virtual void reportEvent(NodeEvent event) = 0;
  /// Loop thread: true once the apiserver acknowledged the registration.
  virtual bool registered() const = 0;
};

struct ControlClientOptions {
  std::string apiServer;  ///< "host:port" (TLS), or "https://", "wss://", "http://", "ws://" URL
  std::string secret;     ///< the cluster --secret (signs the short-lived control token)
  NodeInfo node;
  bool verifyTls = false;  ///< the default deployment uses self-signed certificates
  Duration loadInterval = std::chrono::seconds(1);
  Duration minBackoff = std::chrono::milliseconds(500);
  Duration maxBackoff = std::chrono::seconds(10);
};

/// The WebSocket client for a separate process (path /api/v1/control on the apiserver).
std::unique_ptr<ControlClient> makeWebSocketControlClient(net::EventLoop& loop, ControlClientOptions options,
                                                          ControlClient::CommandHandler onCommand,
                                                          ControlClient::LoadProvider load);

/// The in-memory client for `meeting all`: same messages, no socket. `hub` must outlive it.
std::unique_ptr<ControlClient> makeLocalControlClient(net::EventLoop& loop, ControlHub& hub, NodeInfo node,
                                                      ControlClient::CommandHandler onCommand,
                                                      ControlClient::LoadProvider load,
                                                      Duration loadInterval = std::chrono::seconds(1));

/// What a role service uses: the in-memory client when `hub` is set (`meeting all`), else the
/// WebSocket client to `apiServer` signed with `secret`; nullptr when there is neither (a
/// standalone server). The client is returned started.
std::unique_ptr<ControlClient> makeControlClient(net::EventLoop& loop, ControlHub* hub, const std::string& apiServer,
                                                 const std::string& secret, NodeInfo node,
                                                 ControlClient::CommandHandler onCommand,
                                                 ControlClient::LoadProvider load);

/// The host:port clients reach a role at: `domainAddress` (--domainaddress) when set, else the
/// host and port of the listener's public URL ("https://127.0.0.1:8443/" -> "127.0.0.1:8443").
std::string publicAddress(const std::string& domainAddress, const std::string& publicUrl);

}  // namespace meeting::api::control
