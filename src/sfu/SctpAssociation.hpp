#pragma once
// WebRTC data channels (RFC 8831) for one transport: SCTP via usrsctp over DTLS application data,
// with DCEP (RFC 8832) to open channels. A pure object: SCTP packets come in through receive()
// (DtlsSession's onApplicationData) and go out through the `send` callback (DtlsSession::send).
//
// Threading. usrsctp runs one process-wide timer thread and calls our output and upcall hooks
// from it (retransmissions, delayed SACKs, heartbeats) as well as from the owning thread (inside
// receive(), sendMessage() ...). Every SctpAssociation belongs to one owning loop and all its
// methods and callbacks run there. Work arriving on usrsctp's thread never touches the object: it
// is copied and handed to the `post` function given at construction, which must be thread-safe
// and run the task later on the owning loop. The task finds the association through a registry
// keyed by a never-reused id, so a task that outlives its association does nothing. Packets that
// usrsctp emits on the owning thread are sent directly, without the copy.
//
// The association is closed (ABORT) when destroyed; destroy it on its owning loop, never from
// inside one of its own callbacks (defer it to the loop), and before the DtlsSession its `send`
// callback uses (the ABORT goes out through it).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/Result.hpp"
#include "sfu/DcepMessage.hpp"
#include "sfu/DtlsSession.hpp"

struct socket;

namespace meeting::sfu {

struct SctpConfig {
  /// Our DTLS role picks the stream ids we open: client even, server odd (RFC 8832 §6).
  DtlsRole dtlsRole = DtlsRole::Server;
  uint16_t localPort = 5000;   ///< RFC 8841 a=sctp-port default
  uint16_t remotePort = 5000;
  uint16_t streams = 1024;     ///< inbound and outbound streams asked for in INIT
  /// Largest message sent or accepted (RFC 8841 a=max-message-size); larger ones are rejected.
  size_t maxMessageSize = 256 * 1024;
  /// SCTP packet size: the DTLS MTU (1200) minus DTLS record overhead for any cipher suite.
  uint32_t mtu = 1130;
  /// usrsctp socket buffers; the send buffer must hold at least one maximal message.
  uint32_t sendBufferSize = 1024 * 1024;
  uint32_t receiveBufferSize = 1024 * 1024;
};

struct SctpCallbacks {
  /// One SCTP packet for DtlsSession::send.
  std::function<void(std::span<const uint8_t>)> send;
  /// The association is established (COMM_UP).
  std::function<void()> onConnected;
  /// A channel is open: opened by the peer (after our ACK) or by us (when the peer's ACK came).
  std::function<void(uint16_t streamId, const DataChannelParameters&)> onChannelOpen;
  /// One complete message, reassembled; `binary` is false for text (PPID 51/56).
  std::function<void(uint16_t streamId, bool binary, std::span<const uint8_t>)> onMessage;
  /// Both directions of the stream have been reset (RFC 8831 §6.7).
  std::function<void(uint16_t streamId)> onChannelClosed;
  /// The association ended (peer ABORT/SHUTDOWN, or lost); onChannelClosed has already been
  /// called for every channel that was still open.
  std::function<void(std::string_view reason)> onClosed;
};

/// Hands a task to the owning loop; must be callable from any thread.
using SctpPostFunction = std::function<void(std::function<void()>)>;

class SctpAssociation {
 public:
  enum class State : uint8_t { New, Connecting, Connected, Closed };
  enum class SendStatus : uint8_t { Ok, NotOpen, TooLarge, WouldBlock, Error };

  static Result<std::unique_ptr<SctpAssociation>> create(SctpConfig config, SctpCallbacks callbacks,
                                                         SctpPostFunction post);
  ~SctpAssociation();
  SctpAssociation(const SctpAssociation&) = delete;
  SctpAssociation& operator=(const SctpAssociation&) = delete;

  /// Starts the association (INIT) once DTLS is connected. Both WebRTC peers connect; SCTP
  /// resolves the collision (RFC 4960 §5.2.4). receive() calls it too if it was not yet called.
  Result<void> connect();
  /// One SCTP packet from DtlsSession's onApplicationData.
  void receive(std::span<const uint8_t> packet);

  /// Opens a channel on the next free stream id of our parity and sends DATA_CHANNEL_OPEN
  /// (queued until the association is up). Returns the stream id.
  Result<uint16_t> openChannel(const DataChannelParameters& params);
  /// Sends one message; empty messages use PPID 56/57 (RFC 8831 §6.6). Non-blocking.
  SendStatus sendMessage(uint16_t streamId, bool binary, std::span<const uint8_t> data);
  SendStatus sendText(uint16_t streamId, std::string_view text) {
    return sendMessage(streamId, false, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  }
  /// Resets our outgoing stream (SCTP_RESET_STREAMS); the peer answers by resetting its own,
  /// after which onChannelClosed fires (RFC 8831 §6.7).
  void closeChannel(uint16_t streamId);

  State state() const { return state_; }
  size_t channelCount() const { return channels_.size(); }
  bool isChannelOpen(uint16_t streamId) const;
  /// Messages dropped for exceeding maxMessageSize or arriving on unknown streams.
  uint64_t droppedMessages() const { return droppedMessages_; }

 private:
  struct Channel {
    DataChannelParameters params;
    bool opened = false;         // ACK received (ours) or sent (peer's)
    bool openPending = false;    // OPEN waits for the association
    bool outgoingReset = false;  // we asked to reset our outgoing stream
    bool closing = false;
  };

  SctpAssociation(SctpConfig config, SctpCallbacks callbacks, SctpPostFunction post);
  Result<void> init();
  Result<void> setSocketOptions();
  void drain();
  void handleNotification(std::span<const uint8_t> data);
  void handleStreamReset(uint16_t flags, std::span<const uint16_t> streams);
  void handleMessage(uint16_t streamId, uint32_t ppid, std::span<const uint8_t> data);
  void handleDcep(uint16_t streamId, std::span<const uint8_t> data);
  bool sendRaw(uint16_t streamId, uint32_t ppid, bool unordered, std::span<const uint8_t> data,
               const DataChannelParameters* pr);
  bool sendOpen(uint16_t streamId);
  void resetStream(uint16_t streamId);
  void finishClose(uint16_t streamId);
  void setClosed(std::string_view reason);

  // Hooks usrsctp calls, possibly from its timer thread.
  static int onOutput(void* addr, void* buffer, size_t length, uint8_t tos, uint8_t setDf);
  static void onUpcall(struct socket* sock, void* arg, int flags);

  SctpConfig config_;
  SctpCallbacks callbacks_;
  uint64_t id_ = 0;
  struct socket* socket_ = nullptr;
  std::thread::id owner_;
  State state_ = State::New;
  std::map<uint16_t, Channel> channels_;
  std::vector<uint16_t> pendingResets_;
  uint16_t nextStreamId_ = 0;
  uint64_t droppedMessages_ = 0;
  // Reassembly of a message usrsctp delivers in parts (partial delivery, no MSG_EOR yet).
  std::vector<uint8_t> recvBuffer_;
  std::vector<uint8_t> message_;
  bool messageTooLarge_ = false;
  bool inMessage_ = false;
  bool draining_ = false;
  uint16_t messageStream_ = 0;
  uint32_t messagePpid_ = 0;
  std::vector<uint8_t> notification_;
};

}  // namespace meeting::sfu
