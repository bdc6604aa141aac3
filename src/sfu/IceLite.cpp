#include "sfu/IceLite.hpp"

#include <openssl/rand.h>

#include "common/ByteReader.hpp"
#include "proto/stun/StunBuilder.hpp"
#include "proto/stun/StunIntegrity.hpp"

namespace meeting::sfu {
namespace stun = proto::stun;

namespace {

std::string randomIceChars(size_t count) {
  // ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4): 64 symbols, 6 bits each.
  static constexpr char Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out(count, 'A');
  std::array<unsigned char, 64> random{};
  if (count > random.size() || RAND_bytes(random.data(), static_cast<int>(count)) != 1) {
    std::abort();  // no randomness means no security; never hand out guessable credentials
  }
  for (size_t i = 0; i < count; ++i) out[i] = Alphabet[random[i] & 63];
  return out;
}

}  // namespace

IceCredentials IceCredentials::generate() { return {randomIceChars(16), randomIceChars(32)}; }

std::string_view toString(IceState state) {
  switch (state) {
    case IceState::New: return "new";
    case IceState::Connected: return "connected";
    case IceState::Disconnected: return "disconnected";
    case IceState::Failed: return "failed";
  }
  return "unknown";
}

IceLite::IceLite(IceCredentials local, IceLiteConfig config, IceLiteCallbacks callbacks)
    : local_(std::move(local)), config_(config), callbacks_(std::move(callbacks)) {}

bool IceLite::matchUsername(std::string_view username, const IceCredentials*& credentials) const {
  // RFC 8445 §7.3: USERNAME is "<receiver ufrag>:<sender ufrag>".
  auto colon = username.find(':');
  if (colon == std::string_view::npos) return false;
  auto ours = username.substr(0, colon);
  auto theirs = username.substr(colon + 1);
  if (ours == local_.ufrag && (remoteUfrag_.empty() || theirs == remoteUfrag_)) {
    credentials = &local_;
    return true;
  }
  if (previous_ && ours == previous_->ufrag && (previousRemoteUfrag_.empty() || theirs == previousRemoteUfrag_)) {
    credentials = &*previous_;
    return true;
  }
  return false;
}

IceLite::CheckResult IceLite::errorResponse(const stun::StunMessage& request, uint16_t code, std::string_view reason,
                                            const IceCredentials* signWith, std::span<uint8_t> response) const {
  ByteWriter writer(response);
  stun::StunBuilder builder(writer, stun::Method::Binding, stun::MessageClass::ErrorResponse, request.transactionId());
  builder.addErrorCode(code, reason);
  if (code == 420) {
    std::array<uint16_t, 16> unknown{};
    size_t n = request.unknownRequiredAttributes(unknown);
    builder.addUnknownAttributes(std::span<const uint16_t>(unknown.data(), n));
  }
  // RFC 8489 §9.1.3: a 400/401 answer carries no MESSAGE-INTEGRITY; others are signed.
  if (signWith) builder.addMessageIntegrity(stun::shortTermKey(signWith->pwd));
  builder.addFingerprint();
  if (!builder.ok()) return {};
  return {Outcome::Error, builder.size()};
}

IceLite::CheckResult IceLite::handleRequest(const stun::StunMessage& request, const IcePath& path, TimePoint now,
                                            std::span<uint8_t> response) {
  if (request.method() != stun::Method::Binding || request.messageClass() != stun::MessageClass::Request) return {};
  // RFC 8489 §14.7: a wrong FINGERPRINT means this is not STUN for us: drop silently.
  if (request.fingerprintOffset() != 0 && !stun::verifyFingerprint(request)) return {};
  auto username = request.username();
  if (!username || request.messageIntegrityOffset() == 0) {
    return errorResponse(request, 400, "Bad Request", nullptr, response);
  }
  const IceCredentials* credentials = nullptr;
  if (!matchUsername(*username, credentials) ||
      !stun::verifyMessageIntegrity(request, stun::shortTermKey(credentials->pwd))) {
    return errorResponse(request, 401, "Unauthorized", nullptr, response);
  }
  if (request.hasUnknownRequiredAttributes()) {
    return errorResponse(request, 420, "Unknown Attribute", credentials, response);
  }

  ByteWriter writer(response);
  stun::StunBuilder builder(writer, stun::Method::Binding, stun::MessageClass::SuccessResponse,
                            request.transactionId());
  builder.addXorMappedAddress(path.remote);
  builder.addMessageIntegrity(stun::shortTermKey(credentials->pwd));
  builder.addFingerprint();
  if (!builder.ok()) return {};

  if (previous_ && credentials == &local_) {
    previous_.reset();  // the restart is complete: the old credentials stop working
    previousRemoteUfrag_.clear();
  }
  size_t index = rememberPath(path, now);
  lastValid_ = index;
  if (request.useCandidate() && selected_ != index) {
    selected_ = index;
    if (callbacks_.onSelectedPath) callbacks_.onSelectedPath(paths_[index].path);
  }
  if (selected_ == index) setState(IceState::Connected);
  return {Outcome::Success, builder.size()};
}

std::optional<size_t> IceLite::findPath(const IcePath& path) const {
  for (size_t i = 0; i < paths_.size(); ++i) {
    if (paths_[i].used && paths_[i].path == path) return i;
  }
  return std::nullopt;
}

size_t IceLite::rememberPath(const IcePath& path, TimePoint now) {
  if (auto found = findPath(path)) {
    paths_[*found].lastCheck = now;
    return *found;
  }
  size_t victim = paths_.size();
  for (size_t i = 0; i < paths_.size(); ++i) {
    if (!paths_[i].used) {
      victim = i;
      break;
    }
    if (i == selected_) continue;
    if (victim == paths_.size() || paths_[i].lastCheck < paths_[victim].lastCheck) victim = i;
  }
  if (lastValid_ == victim) lastValid_.reset();
  paths_[victim] = PathEntry{path, now, true};
  return victim;
}

const IcePath* IceLite::sendPath() const {
  if (selected_) return &paths_[*selected_].path;
  if (lastValid_) return &paths_[*lastValid_].path;
  return nullptr;
}

void IceLite::restart(IceCredentials local, std::string remoteUfrag) {
  previous_ = std::move(local_);
  previousRemoteUfrag_ = std::move(remoteUfrag_);
  local_ = std::move(local);
  remoteUfrag_ = std::move(remoteUfrag);
}

void IceLite::tick(TimePoint now) {
  for (size_t i = 0; i < paths_.size(); ++i) {
    // Forget unselected paths the browser stopped checking.
    if (paths_[i].used && i != selected_ && now - paths_[i].lastCheck > config_.failedAfter) {
      paths_[i].used = false;
      if (lastValid_ == i) lastValid_.reset();
    }
  }
  if (!selected_) return;
  auto silence = now - paths_[*selected_].lastCheck;
  if (silence > config_.failedAfter) {
    setState(IceState::Failed);
  } else if (silence > config_.disconnectedAfter) {
    setState(IceState::Disconnected);
  }
}

void IceLite::removeConnection(const void* connection) {
  if (connection == nullptr) return;
  bool lostSelected = false;
  for (size_t i = 0; i < paths_.size(); ++i) {
    if (!paths_[i].used || paths_[i].path.connection != connection) continue;
    paths_[i].used = false;
    if (lastValid_ == i) lastValid_.reset();
    if (selected_ == i) {
      selected_.reset();
      lostSelected = true;
    }
  }
  if (lostSelected) setState(IceState::Disconnected);
}

void IceLite::setState(IceState state) {
  if (state_ == state || state_ == IceState::Failed) return;  // failure is final
  state_ = state;
  if (callbacks_.onState) callbacks_.onState(state);
}

}  // namespace meeting::sfu
