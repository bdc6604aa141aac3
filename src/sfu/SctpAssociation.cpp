#include "sfu/SctpAssociation.hpp"

#include <arpa/inet.h>
#include <usrsctp.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace meeting::sfu {
namespace {

constexpr size_t ReceiveChunk = 64 * 1024;       // one usrsctp_recvv; larger messages come in parts
constexpr size_t MaxNotificationSize = 64 * 1024;

// Associations by id, for hooks that run on usrsctp's thread. The id doubles as the AF_CONN
// address usrsctp hands back to us; ids are never reused, so stale tasks find nothing.
struct RegistryEntry {
  SctpAssociation* self;
  std::thread::id owner;
  std::shared_ptr<const SctpPostFunction> post;
};

std::mutex& registryMutex() {
  static std::mutex m;
  return m;
}
std::unordered_map<uint64_t, RegistryEntry>& registry() {
  static std::unordered_map<uint64_t, RegistryEntry> r;
  return r;
}
uint64_t allocateId() {
  static std::atomic<uint64_t> next{1};
  return next++;
}
void* addressOf(uint64_t id) { return reinterpret_cast<void*>(static_cast<uintptr_t>(id)); }
uint64_t idOf(const void* addr) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(addr)); }

/// Only on the owning thread: the association is alive exactly while it is registered.
SctpAssociation* lookupOnOwner(uint64_t id) {
  std::lock_guard lock(registryMutex());
  auto it = registry().find(id);
  return it == registry().end() ? nullptr : it->second.self;
}

template <typename T>
bool setOption(struct socket* s, int level, int name, const T& value) {
  return usrsctp_setsockopt(s, level, name, &value, static_cast<socklen_t>(sizeof value)) == 0;
}

sockaddr_conn connAddress(uint64_t id, uint16_t port) {
  sockaddr_conn a{};
  a.sconn_family = AF_CONN;
  a.sconn_port = htons(port);
  a.sconn_addr = addressOf(id);
  return a;
}

}  // namespace

SctpAssociation::SctpAssociation(SctpConfig config, SctpCallbacks callbacks, SctpPostFunction post)
    : config_(std::move(config)), callbacks_(std::move(callbacks)), id_(allocateId()),
      owner_(std::this_thread::get_id()) {
  // RFC 8832 §6: the DTLS client uses even stream ids, the server odd ones.
  nextStreamId_ = config_.dtlsRole == DtlsRole::Client ? 0 : 1;
  recvBuffer_.resize(ReceiveChunk);
  std::lock_guard lock(registryMutex());
  registry().emplace(id_, RegistryEntry{this, owner_, std::make_shared<const SctpPostFunction>(std::move(post))});
}

Result<std::unique_ptr<SctpAssociation>> SctpAssociation::create(SctpConfig config, SctpCallbacks callbacks,
                                                                SctpPostFunction post) {
  if (!post) return makeError("invalid_field", "sctp post function");
  if (config.streams < 2 || config.maxMessageSize == 0 || config.mtu < 576 ||
      config.sendBufferSize < config.maxMessageSize)
    return makeError("invalid_field", "sctp config");
  std::unique_ptr<SctpAssociation> self(new SctpAssociation(std::move(config), std::move(callbacks), std::move(post)));
  if (auto r = self->init(); !r) return r.error();
  return self;
}

Result<void> SctpAssociation::init() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Port 0: no UDP encapsulation; only AF_CONN sockets whose packets go through onOutput.
    usrsctp_init(0, &SctpAssociation::onOutput, nullptr);
    usrsctp_sysctl_set_sctp_ecn_enable(0);                 // not negotiated by browsers
    usrsctp_sysctl_set_sctp_pr_enable(1);                  // RFC 3758, partial reliability
    usrsctp_sysctl_set_sctp_reconfig_enable(1);            // RFC 6525, stream reset
    usrsctp_sysctl_set_sctp_blackhole(2);                  // silence towards raw-socket strays
    usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
  });
  socket_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
  if (!socket_) return makeError("sctp", std::string("usrsctp_socket: ") + std::strerror(errno));
  usrsctp_set_upcall(socket_, &SctpAssociation::onUpcall, addressOf(id_));
  if (usrsctp_set_non_blocking(socket_, 1) < 0) return makeError("sctp", "non-blocking failed");
  if (auto r = setSocketOptions(); !r) return r;
  usrsctp_register_address(addressOf(id_));
  sockaddr_conn local = connAddress(id_, config_.localPort);
  if (usrsctp_bind(socket_, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0)
    return makeError("sctp", std::string("usrsctp_bind: ") + std::strerror(errno));
  return {};
}

Result<void> SctpAssociation::setSocketOptions() {
  // Closing aborts at once instead of lingering in SHUTDOWN (the transport is going away).
  const linger noLinger{1, 0};
  const int on = 1;
  const uint32_t pdPoint = ReceiveChunk;
  const sctp_assoc_value reset{SCTP_ALL_ASSOC, SCTP_ENABLE_RESET_STREAM_REQ};
  sctp_initmsg init{};
  init.sinit_num_ostreams = config_.streams;
  init.sinit_max_instreams = config_.streams;
  const int sndbuf = static_cast<int>(config_.sendBufferSize), rcvbuf = static_cast<int>(config_.receiveBufferSize);
  bool ok = setOption(socket_, SOL_SOCKET, SO_LINGER, noLinger) &&
            setOption(socket_, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, reset) &&
            setOption(socket_, IPPROTO_SCTP, SCTP_NODELAY, on) &&
            setOption(socket_, IPPROTO_SCTP, SCTP_RECVRCVINFO, on) &&
            setOption(socket_, IPPROTO_SCTP, SCTP_INITMSG, init) &&
            setOption(socket_, IPPROTO_SCTP, SCTP_PARTIAL_DELIVERY_POINT, pdPoint) &&
            setOption(socket_, SOL_SOCKET, SO_SNDBUF, sndbuf) && setOption(socket_, SOL_SOCKET, SO_RCVBUF, rcvbuf);
  for (uint16_t type : {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_REMOTE_ERROR, SCTP_SHUTDOWN_EVENT,
                        SCTP_SEND_FAILED_EVENT, SCTP_PARTIAL_DELIVERY_EVENT}) {
    sctp_event event{};
    event.se_assoc_id = SCTP_ALL_ASSOC;
    event.se_type = type;
    event.se_on = 1;
    ok = ok && setOption(socket_, IPPROTO_SCTP, SCTP_EVENT, event);
  }
  if (!ok) return makeError("sctp", std::string("setsockopt: ") + std::strerror(errno));
  return {};
}

SctpAssociation::~SctpAssociation() {
  // usrsctp_close may emit an ABORT through onOutput on this thread: stay registered until then.
  if (socket_) usrsctp_close(socket_);
  {
    std::lock_guard lock(registryMutex());
    registry().erase(id_);
  }
  usrsctp_deregister_address(addressOf(id_));
}

Result<void> SctpAssociation::connect() {
  if (state_ != State::New) return {};
  state_ = State::Connecting;
  sockaddr_conn remote = connAddress(id_, config_.remotePort);
  if (usrsctp_connect(socket_, reinterpret_cast<sockaddr*>(&remote), sizeof remote) < 0 && errno != EINPROGRESS) {
    const std::string reason = std::string("usrsctp_connect: ") + std::strerror(errno);
    setClosed(reason);
    return makeError("sctp", reason);
  }
  drain();
  return {};
}

void SctpAssociation::receive(std::span<const uint8_t> packet) {
  if (state_ == State::Closed || packet.empty()) return;
  if (state_ == State::New && !connect()) return;
  usrsctp_conninput(addressOf(id_), packet.data(), packet.size(), 0);
  drain();
}

bool SctpAssociation::isChannelOpen(uint16_t streamId) const {
  auto it = channels_.find(streamId);
  return it != channels_.end() && it->second.opened && !it->second.closing;
}

Result<uint16_t> SctpAssociation::openChannel(const DataChannelParameters& params) {
  if (state_ == State::Closed) return makeError("sctp", "association closed");
  if (params.label.size() > 0xffff || params.protocol.size() > 0xffff)
    return makeError("invalid_field", "label or protocol too long");
  for (uint16_t tries = 0; tries < config_.streams; tries += 2) {
    if (nextStreamId_ >= config_.streams) nextStreamId_ = config_.dtlsRole == DtlsRole::Client ? 0 : 1;
    const uint16_t sid = nextStreamId_;
    nextStreamId_ = static_cast<uint16_t>(nextStreamId_ + 2);
    if (channels_.count(sid)) continue;
    Channel& ch = channels_[sid];
    ch.params = params;
    if (state_ == State::Connected)
      (void)sendOpen(sid);
    else
      ch.openPending = true;
    return sid;
  }
  return makeError("sctp", "no free stream id");
}

SctpAssociation::SendStatus SctpAssociation::sendMessage(uint16_t streamId, bool binary,
                                                         std::span<const uint8_t> data) {
  if (state_ != State::Connected) return SendStatus::NotOpen;
  auto it = channels_.find(streamId);
  if (it == channels_.end() || it->second.closing || it->second.openPending) return SendStatus::NotOpen;
  if (data.size() > config_.maxMessageSize) return SendStatus::TooLarge;
  // RFC 8831 §6.6: an empty message is one zero byte with its own PPID.
  static constexpr uint8_t Zero = 0;
  const SctpPpid ppid = data.empty() ? (binary ? SctpPpid::BinaryEmpty : SctpPpid::StringEmpty)
                                     : (binary ? SctpPpid::Binary : SctpPpid::String);
  if (data.empty()) data = {&Zero, 1};
  // RFC 8832 §6: until the peer's ACK, our messages go ordered so they cannot overtake OPEN.
  const bool unordered = isUnordered(it->second.params.type) && it->second.opened;
  errno = 0;
  if (sendRaw(streamId, static_cast<uint32_t>(ppid), unordered, data, &it->second.params)) {
    drain();
    return SendStatus::Ok;
  }
  const int err = errno;
  drain();
  return err == EWOULDBLOCK || err == EAGAIN ? SendStatus::WouldBlock : SendStatus::Error;
}

void SctpAssociation::closeChannel(uint16_t streamId) {
  auto it = channels_.find(streamId);
  if (it == channels_.end() || it->second.closing) return;
  it->second.closing = true;
  if (state_ != State::Connected) {
    finishClose(streamId);
    return;
  }
  resetStream(streamId);
  drain();
}

bool SctpAssociation::sendRaw(uint16_t streamId, uint32_t ppid, bool unordered, std::span<const uint8_t> data,
                              const DataChannelParameters* pr) {
  sctp_sendv_spa spa{};
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = streamId;
  spa.sendv_sndinfo.snd_ppid = htonl(ppid);
  spa.sendv_sndinfo.snd_flags = unordered ? SCTP_UNORDERED : 0;
  // RFC 8831 §6.1: partial reliability by retransmission count or lifetime (RFC 3758).
  if (pr && isRexmitLimited(pr->type)) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
    spa.sendv_prinfo.pr_value = pr->reliabilityParameter;
  } else if (pr && isTimeLimited(pr->type)) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_TTL;
    spa.sendv_prinfo.pr_value = pr->reliabilityParameter;
  }
  const ssize_t n = usrsctp_sendv(socket_, data.data(), data.size(), nullptr, 0, &spa,
                                  static_cast<socklen_t>(sizeof spa), SCTP_SENDV_SPA, 0);
  return n == static_cast<ssize_t>(data.size());
}

bool SctpAssociation::sendOpen(uint16_t streamId) {
  auto it = channels_.find(streamId);
  if (it == channels_.end()) return false;
  it->second.openPending = false;
  std::vector<uint8_t> open;
  if (!dcep::serializeOpen(it->second.params, open)) return false;
  // RFC 8832 §6: DATA_CHANNEL_OPEN is sent reliable and ordered.
  return sendRaw(streamId, static_cast<uint32_t>(SctpPpid::Dcep), false, open, nullptr);
}

void SctpAssociation::resetStream(uint16_t streamId) {
  auto it = channels_.find(streamId);
  if (it == channels_.end() || it->second.outgoingReset) return;
  // struct sctp_reset_streams ends in a flexible array: build it in an aligned buffer.
  alignas(sctp_reset_streams) uint8_t buffer[sizeof(sctp_reset_streams) + sizeof(uint16_t)] = {};
  sctp_reset_streams header{};
  header.srs_assoc_id = SCTP_ALL_ASSOC;
  header.srs_flags = SCTP_STREAM_RESET_OUTGOING;
  header.srs_number_streams = 1;
  std::memcpy(buffer, &header, sizeof header);
  std::memcpy(buffer + sizeof(sctp_reset_streams), &streamId, sizeof streamId);
  if (usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_RESET_STREAMS, buffer, sizeof buffer) == 0) {
    it->second.outgoingReset = true;
  } else {
    // A reset already in flight (EBUSY/EALREADY): retry after the next reset event.
    pendingResets_.push_back(streamId);
  }
}

void SctpAssociation::finishClose(uint16_t streamId) {
  if (channels_.erase(streamId) && callbacks_.onChannelClosed) callbacks_.onChannelClosed(streamId);
}

void SctpAssociation::setClosed(std::string_view reason) {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  // Every channel ends with the association.
  std::vector<uint16_t> ids;
  for (const auto& entry : channels_) ids.push_back(entry.first);
  channels_.clear();
  pendingResets_.clear();
  if (callbacks_.onChannelClosed)
    for (uint16_t sid : ids) callbacks_.onChannelClosed(sid);
  if (callbacks_.onClosed) callbacks_.onClosed(reason);
}

void SctpAssociation::drain() {
  // A callback that sends re-enters here; the outer loop picks up whatever arrived, so messages
  // stay in order and the buffer the callback is reading is not overwritten.
  if (draining_) return;
  draining_ = true;
  while (socket_ && state_ != State::Closed) {
    sockaddr_conn from{};
    socklen_t fromLen = sizeof from;
    sctp_rcvinfo info{};
    socklen_t infoLen = sizeof info;
    unsigned int infoType = 0;
    int flags = 0;
    const ssize_t n = usrsctp_recvv(socket_, recvBuffer_.data(), recvBuffer_.size(), reinterpret_cast<sockaddr*>(&from),
                                    &fromLen, &info, &infoLen, &infoType, &flags);
    if (n < 0) break;  // EWOULDBLOCK: nothing more now
    if (n == 0) {
      setClosed("association shut down");
      break;
    }
    const std::span<const uint8_t> chunk(recvBuffer_.data(), static_cast<size_t>(n));
    if (flags & MSG_NOTIFICATION) {
      if (notification_.size() + chunk.size() <= MaxNotificationSize)
        notification_.insert(notification_.end(), chunk.begin(), chunk.end());
      if (flags & MSG_EOR) {
        std::vector<uint8_t> note;
        note.swap(notification_);
        handleNotification(note);
      }
      continue;
    }
    if (infoType != SCTP_RECVV_RCVINFO) {
      ++droppedMessages_;
      continue;
    }
    const uint32_t ppid = ntohl(info.rcv_ppid);
    if (!inMessage_ && (flags & MSG_EOR)) {
      handleMessage(info.rcv_sid, ppid, chunk);  // the common case: whole message, no copy
      continue;
    }
    // Partial delivery: collect until MSG_EOR, bounded by maxMessageSize.
    if (!inMessage_) {
      inMessage_ = true;
      messageTooLarge_ = false;
      messageStream_ = info.rcv_sid;
      messagePpid_ = ppid;
      message_.clear();
    }
    if (messageTooLarge_ || message_.size() + chunk.size() > config_.maxMessageSize) {
      messageTooLarge_ = true;
      message_.clear();
    } else {
      message_.insert(message_.end(), chunk.begin(), chunk.end());
    }
    if (flags & MSG_EOR) {
      inMessage_ = false;
      if (messageTooLarge_)
        ++droppedMessages_;
      else
        handleMessage(messageStream_, messagePpid_, message_);
      message_.clear();
    }
  }
  draining_ = false;
}

void SctpAssociation::handleNotification(std::span<const uint8_t> data) {
  sctp_notification n{};
  if (data.size() < sizeof n.sn_header) return;
  std::memcpy(&n, data.data(), std::min(data.size(), sizeof n));
  switch (n.sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE:
      switch (n.sn_assoc_change.sac_state) {
        case SCTP_COMM_UP: {
          if (state_ == State::Connected) break;
          state_ = State::Connected;
          // No path MTU discovery over DTLS: packets must fit the DTLS MTU (RFC 8261 §5).
          sctp_paddrparams params{};
          sockaddr_conn remote = connAddress(id_, config_.remotePort);
          std::memcpy(&params.spp_address, &remote, sizeof remote);
          params.spp_flags = SPP_PMTUD_DISABLE;
          params.spp_pathmtu = config_.mtu;
          (void)setOption(socket_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, params);
          for (auto& [sid, ch] : channels_)
            if (ch.openPending) (void)sendOpen(sid);
          if (callbacks_.onConnected) callbacks_.onConnected();
          break;
        }
        case SCTP_COMM_LOST: setClosed("association lost"); break;
        case SCTP_SHUTDOWN_COMP: setClosed("association shut down"); break;
        case SCTP_CANT_STR_ASSOC: setClosed("association could not start"); break;
        default: break;
      }
      break;
    case SCTP_SHUTDOWN_EVENT: setClosed("peer shut down"); break;
    case SCTP_STREAM_RESET_EVENT: {
      const size_t header = offsetof(sctp_stream_reset_event, strreset_stream_list);
      const size_t length = std::min<size_t>(data.size(), n.sn_strreset_event.strreset_length);
      std::vector<uint16_t> streams(length > header ? (length - header) / sizeof(uint16_t) : 0);
      if (!streams.empty()) std::memcpy(streams.data(), data.data() + header, streams.size() * sizeof(uint16_t));
      handleStreamReset(n.sn_strreset_event.strreset_flags, streams);
      break;
    }
    case SCTP_PARTIAL_DELIVERY_EVENT:
      // The partially delivered message was aborted: forget what we collected.
      inMessage_ = false;
      message_.clear();
      break;
    case SCTP_SEND_FAILED_EVENT: ++droppedMessages_; break;
    default: break;
  }
}

void SctpAssociation::handleStreamReset(uint16_t flags, std::span<const uint16_t> streams) {
  if (flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) {
    for (uint16_t sid : streams) {
      auto it = channels_.find(sid);
      if (it != channels_.end() && it->second.outgoingReset) {
        it->second.outgoingReset = false;
        pendingResets_.push_back(sid);
      }
    }
  } else if (flags & SCTP_STREAM_RESET_INCOMING_SSN) {
    // The peer reset its outgoing stream: the channel is closing (RFC 8831 §6.7); reset ours
    // in answer, then the channel is gone and its id may be reused.
    for (uint16_t sid : streams) {
      auto it = channels_.find(sid);
      if (it == channels_.end()) continue;
      it->second.closing = true;
      resetStream(sid);
      finishClose(sid);
    }
  }
  // Retry resets that could not be requested while another was in flight.
  std::vector<uint16_t> retry;
  retry.swap(pendingResets_);
  for (uint16_t sid : retry) {
    if (channels_.count(sid))
      resetStream(sid);
  }
}

void SctpAssociation::handleMessage(uint16_t streamId, uint32_t ppid, std::span<const uint8_t> data) {
  switch (static_cast<SctpPpid>(ppid)) {
    case SctpPpid::Dcep: handleDcep(streamId, data); return;
    case SctpPpid::String:
    case SctpPpid::Binary:
    case SctpPpid::StringEmpty:
    case SctpPpid::BinaryEmpty: break;
    default: ++droppedMessages_; return;
  }
  auto it = channels_.find(streamId);
  if (it == channels_.end() || it->second.closing) {
    ++droppedMessages_;
    return;
  }
  const auto p = static_cast<SctpPpid>(ppid);
  const bool binary = p == SctpPpid::Binary || p == SctpPpid::BinaryEmpty;
  const bool empty = p == SctpPpid::StringEmpty || p == SctpPpid::BinaryEmpty;
  if (callbacks_.onMessage) callbacks_.onMessage(streamId, binary, empty ? std::span<const uint8_t>() : data);
}

void SctpAssociation::handleDcep(uint16_t streamId, std::span<const uint8_t> data) {
  if (dcep::isAck(data)) {
    auto it = channels_.find(streamId);
    if (it == channels_.end() || it->second.opened) return;
    it->second.opened = true;
    if (callbacks_.onChannelOpen) callbacks_.onChannelOpen(streamId, it->second.params);
    return;
  }
  auto params = dcep::parseOpen(data);
  if (!params || channels_.count(streamId)) {
    ++droppedMessages_;  // malformed, or the stream is already in use
    return;
  }
  Channel& ch = channels_[streamId];
  ch.params = std::move(*params);
  ch.opened = true;
  // RFC 8832 §6: answer with DATA_CHANNEL_ACK on the same stream.
  const uint8_t ack = dcep::MessageAck;
  (void)sendRaw(streamId, static_cast<uint32_t>(SctpPpid::Dcep), false, {&ack, 1}, nullptr);
  if (callbacks_.onChannelOpen) callbacks_.onChannelOpen(streamId, ch.params);
}

int SctpAssociation::onOutput(void* addr, void* buffer, size_t length, uint8_t, uint8_t) {
  const uint64_t id = idOf(addr);
  SctpAssociation* self = nullptr;
  std::shared_ptr<const SctpPostFunction> post;
  {
    std::lock_guard lock(registryMutex());
    auto it = registry().find(id);
    if (it == registry().end()) return 0;
    if (it->second.owner == std::this_thread::get_id())
      self = it->second.self;
    else
      post = it->second.post;
  }
  const auto* bytes = static_cast<const uint8_t*>(buffer);
  if (self) {
    // Emitted inside one of our own calls on the owning thread: send now.
    if (self->callbacks_.send) self->callbacks_.send(std::span<const uint8_t>(bytes, length));
    return 0;
  }
  // usrsctp's timer thread: copy and hand to the owning loop.
  (*post)([id, packet = std::vector<uint8_t>(bytes, bytes + length)] {
    SctpAssociation* a = lookupOnOwner(id);
    if (a && a->callbacks_.send) a->callbacks_.send(packet);
  });
  return 0;
}

void SctpAssociation::onUpcall(struct socket*, void* arg, int flags) {
  if (!(flags & (SCTP_EVENT_READ | SCTP_EVENT_ERROR))) return;
  const uint64_t id = idOf(arg);
  std::shared_ptr<const SctpPostFunction> post;
  {
    std::lock_guard lock(registryMutex());
    auto it = registry().find(id);
    // On the owning thread the upcall fires inside our own usrsctp call, after which we drain.
    if (it == registry().end() || it->second.owner == std::this_thread::get_id()) return;
    post = it->second.post;
  }
  (*post)([id] {
    if (SctpAssociation* a = lookupOnOwner(id)) a->drain();
  });
}

}  // namespace meeting::sfu
