#pragma once
// The ICE-lite agent of one WebRtcTransport (RFC 8445 §2.5): the browser (full agent, always
// controlling) sends connectivity checks, we answer them and follow its nomination. A pure object:
// binding requests come in with the path they arrived on, responses go out into the caller's
// buffer, time is passed in.
//
// Paths: a check's source is taken as the peer's address (peer-reflexive, RFC 8445 §7.3.1.3);
// the address the browser advertised does not matter (browser-testing.md §5). The browser
// switches path by nominating another one (USE-CANDIDATE), e.g. after a network change.
//
// Consent freshness (RFC 7675): browsers repeat checks on the selected pair every few seconds;
// when none arrived for `disconnectedAfter` the state says so, after `failedAfter` the transport
// must stop sending (RFC 7675 §5.1).
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/Clock.hpp"
#include "proto/stun/StunMessage.hpp"

namespace meeting::sfu {

/// Our ufrag and password (RFC 8445 §5.3: ufrag >= 24 bits and pwd >= 128 bits of randomness).
struct IceCredentials {
  std::string ufrag;
  std::string pwd;
  /// 16 random ice-chars for the ufrag (96 bits) and 32 for the password (192 bits).
  static IceCredentials generate();
  bool operator==(const IceCredentials&) const = default;
};

enum class IceProtocol : uint8_t { Udp, Tcp };

/// Where a check came from: protocol and remote address, plus the TCP connection it arrived on
/// (an opaque handle owned by the socket layer; null for UDP).
struct IcePath {
  IceProtocol protocol = IceProtocol::Udp;
  proto::stun::Address remote;
  const void* connection = nullptr;
  bool operator==(const IcePath&) const = default;
};

enum class IceState : uint8_t {
  New,           ///< no path nominated yet
  Connected,     ///< a nominated path with fresh consent
  Disconnected,  ///< no check on the selected path for a while; media still flows
  Failed,        ///< consent expired: stop sending (RFC 7675 §5.1)
};
std::string_view toString(IceState state);

struct IceLiteConfig {
  Duration disconnectedAfter = std::chrono::seconds(10);
  Duration failedAfter = std::chrono::seconds(30);  // RFC 7675 §5.1
};

struct IceLiteCallbacks {
  std::function<void(const IcePath&)> onSelectedPath;
  std::function<void(IceState)> onState;
};

class IceLite {
 public:
  /// Candidate paths remembered per transport (one per browser interface and protocol);
  /// further paths replace the oldest unselected one.
  static constexpr size_t MaxPaths = 8;

  enum class Outcome : uint8_t {
    Drop,      ///< not for us or not answerable (bad FINGERPRINT, a response, unknown ufrag...)
    Error,     ///< an error response was written (400, 401, 420)
    Success,   ///< a success response was written; the path is valid
  };
  struct CheckResult {
    Outcome outcome = Outcome::Drop;
    size_t responseSize = 0;
  };

  IceLite(IceCredentials local, IceLiteConfig config, IceLiteCallbacks callbacks);

  const IceCredentials& localCredentials() const { return local_; }
  /// The browser's ufrag from its SDP: checks must name "ourUfrag:theirUfrag".
  void setRemoteUfrag(std::string ufrag) { remoteUfrag_ = std::move(ufrag); }

  /// Handles one binding request. The response (success or error) is written into `response`.
  CheckResult handleRequest(const proto::stun::StunMessage& request, const IcePath& path, TimePoint now,
                            std::span<uint8_t> response);

  /// ICE restart (RFC 8445 §9): new local credentials and the browser's new ufrag. Checks with
  /// the old credentials stay valid until the first one with the new succeeds, so media keeps
  /// flowing on the current path meanwhile.
  void restart(IceCredentials local, std::string remoteUfrag);

  /// Consent bookkeeping; call about once a second.
  void tick(TimePoint now);

  /// Forgets paths over a TCP connection that closed (may change the state).
  void removeConnection(const void* connection);

  IceState state() const { return state_; }
  const IcePath* selectedPath() const { return selected_ ? &paths_[*selected_].path : nullptr; }
  /// A path that passed a check: the selected one, else the most recent valid one (DTLS may
  /// start before the nomination arrives).
  const IcePath* sendPath() const;
  /// True when `path` passed a check (media and DTLS are accepted only from such paths).
  bool isValidPath(const IcePath& path) const { return findPath(path).has_value(); }

 private:
  struct PathEntry {
    IcePath path;
    TimePoint lastCheck{};
    bool used = false;
  };
  std::optional<size_t> findPath(const IcePath& path) const;
  size_t rememberPath(const IcePath& path, TimePoint now);
  bool matchUsername(std::string_view username, const IceCredentials*& credentials) const;
  void setState(IceState state);
  CheckResult errorResponse(const proto::stun::StunMessage& request, uint16_t code, std::string_view reason,
                            const IceCredentials* signWith, std::span<uint8_t> response) const;

  IceCredentials local_;
  std::optional<IceCredentials> previous_;  // during an ICE restart
  std::string remoteUfrag_;
  std::string previousRemoteUfrag_;
  IceLiteConfig config_;
  IceLiteCallbacks callbacks_;
  std::array<PathEntry, MaxPaths> paths_{};
  std::optional<size_t> selected_;
  std::optional<size_t> lastValid_;
  IceState state_ = IceState::New;
};

}  // namespace meeting::sfu
