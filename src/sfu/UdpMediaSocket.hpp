#pragma once
// The media worker's UDP port: every WebRtcTransport of the worker shares it (design.md §2).
// Receives in batches with recvmmsg when the socket is readable and sends in batches with
// sendmmsg: packets queued while a receive batch is being handled go out together at its end;
// packets queued outside a batch (timers, control) go out at once. Buffers are preallocated:
// nothing is allocated per packet.
//
// Threading: owned by one worker loop; every method runs there.
#include <sys/socket.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "common/Result.hpp"
#include "net/EventLoop.hpp"
#include "proto/stun/StunTypes.hpp"

namespace meeting::sfu {

class UdpMediaSocket {
 public:
  /// Largest datagram read; larger ones are truncated by the kernel and dropped here.
  static constexpr size_t MaxDatagramSize = 2048;
  static constexpr size_t BatchSize = 32;
  /// Receive batches handled per readiness before yielding to other work on the loop.
  static constexpr size_t MaxBatchesPerWakeup = 8;

  /// The packet is writable so that SRTP can decrypt it in place.
  using Receiver = std::function<void(std::span<uint8_t> packet, const proto::stun::Address& from)>;

  static Result<std::unique_ptr<UdpMediaSocket>> open(net::EventLoop& loop, const std::string& ip, uint16_t port);
  ~UdpMediaSocket();
  UdpMediaSocket(const UdpMediaSocket&) = delete;
  UdpMediaSocket& operator=(const UdpMediaSocket&) = delete;

  void start(Receiver receiver);
  void close();

  /// Queues one datagram (copied). Dropped, and counted, when the kernel buffer is full.
  void send(std::span<const uint8_t> packet, const proto::stun::Address& to);
  /// Sends everything queued.
  void flush();

  /// Holds sends made while it lives (a burst from a timer, a NACK answered with many packets)
  /// and sends them with one sendmmsg when it ends, as a receive batch does.
  class SendBatch {
   public:
    explicit SendBatch(UdpMediaSocket& socket) : socket_(socket), outer_(socket.inBatch_) { socket_.inBatch_ = true; }
    ~SendBatch() {
      socket_.inBatch_ = outer_;
      if (!outer_) socket_.flush();
    }
    SendBatch(const SendBatch&) = delete;
    SendBatch& operator=(const SendBatch&) = delete;

   private:
    UdpMediaSocket& socket_;
    bool outer_;
  };

  uint16_t port() const { return port_; }
  const std::string& ip() const { return ip_; }

  struct Stats {
    uint64_t packetsReceived = 0;
    uint64_t bytesReceived = 0;
    uint64_t packetsSent = 0;
    uint64_t bytesSent = 0;
    uint64_t sendDrops = 0;
    uint64_t receiveDrops = 0;  // truncated or unreadable source
  };
  const Stats& stats() const { return stats_; }

 private:
  UdpMediaSocket(net::EventLoop& loop, int fd, std::string ip, uint16_t port);
  void waitReadable();
  void readBatches();

  boost::asio::posix::stream_descriptor descriptor_;
  std::string ip_;
  uint16_t port_ = 0;
  Receiver receiver_;
  bool inBatch_ = false;
  bool closed_ = false;
  Stats stats_;

  struct Slot {
    std::array<uint8_t, MaxDatagramSize> data;
    sockaddr_storage address;
  };
  std::array<Slot, BatchSize> receiveSlots_{};
  std::array<mmsghdr, BatchSize> receiveHeaders_{};
  std::array<iovec, BatchSize> receiveVectors_{};
  std::array<Slot, BatchSize> sendSlots_{};
  std::array<mmsghdr, BatchSize> sendHeaders_{};
  std::array<iovec, BatchSize> sendVectors_{};
  size_t sendQueued_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace meeting::sfu
