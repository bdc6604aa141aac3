#pragma once
// A role's part of a running process. `meeting all` runs several services in one process; a
// role subcommand runs one. Each registers its routes on the shared router at start.
#include <string>

#include "common/Config.hpp"
#include "common/Result.hpp"
#include "net/EventLoop.hpp"
#include "net/HttpRouter.hpp"

namespace meeting::api::control {
class ControlHub;
}

namespace meeting::app {

struct ServiceContext {
  const Config& config;
  net::EventLoop& controlLoop;   // the HTTP/control thread; media services run their own loops
  net::HttpRouter& router;
  std::string publicUrl;         // what clients are told, e.g. https://127.0.0.1:8443
  std::string listenHost;        // the address the HTTPS listener binds (media binds there too)
  // Set by the apiserver's service when it runs in this process (`meeting all`): media services
  // started after it register through it in memory (api/control/ControlClient.hpp) instead of
  // over a WebSocket.
  api::control::ControlHub* controlHub = nullptr;
};

class Service {
 public:
  virtual ~Service() = default;
  virtual std::string name() const = 0;
  /// Called on the control loop before the listener opens.
  virtual Result<void> start(ServiceContext& context) = 0;
  /// Called on the control loop when the process is asked to stop.
  virtual void stop() = 0;
};

}  // namespace meeting::app
