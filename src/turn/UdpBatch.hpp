#pragma once
// Batched datagram I/O for the relay hot path: recvmmsg into fixed slots with headroom (so a
// payload is framed for the client in place) and sendmmsg of queued datagrams whose bytes stay
// in those slots until the queue is flushed. No heap allocation per packet.
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "proto/stun/StunTypes.hpp"

namespace meeting::turn {

class RecvBatch {
 public:
  static constexpr size_t Size = 32;
  static constexpr size_t Headroom = 64;      // >= TurnServer::PeerHeadroom
  static constexpr size_t MaxPayload = 4096;  // larger datagrams are dropped (MSG_TRUNC)
  static constexpr size_t SlotSize = Headroom + MaxPayload + 8;

  RecvBatch();
  /// Receives up to Size datagrams without blocking; returns how many (0 when none or error).
  size_t receive(int fd);
  /// Slot `i` (whole buffer), the payload starts at Headroom.
  std::span<uint8_t> slot(size_t i) { return slots_[i]; }
  size_t length(size_t i) const { return hdrs_[i].msg_len; }
  bool truncated(size_t i) const { return (hdrs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0; }
  /// True when `p` points into one of the slots (a payload framed in place, still valid).
  bool owns(const uint8_t* p) const {
    const auto begin = reinterpret_cast<uintptr_t>(slots_.front().data());
    const auto at = reinterpret_cast<uintptr_t>(p);
    return at >= begin && at < begin + Size * SlotSize;
  }
  const sockaddr* source(size_t i) const { return reinterpret_cast<const sockaddr*>(&addrs_[i]); }

 private:
  std::array<std::array<uint8_t, SlotSize>, Size> slots_{};
  std::array<mmsghdr, Size> hdrs_{};
  std::array<iovec, Size> iov_{};
  std::array<sockaddr_storage, Size> addrs_{};
};

class SendQueue {
 public:
  static constexpr size_t Capacity = 64;
  /// Queues a datagram; `data` must stay valid until flush(). Flushes first when full.
  void push(int fd, std::span<const uint8_t> data, const proto::stun::Address& to);
  /// Sends everything queued, one sendmmsg per run of the same socket. Returns datagrams dropped
  /// (socket buffer full or error); UDP has no delivery promise, so they are counted, not retried.
  size_t flush();
  bool empty() const { return count_ == 0; }

 private:
  struct Entry {
    int fd;
    iovec iov;
    sockaddr_storage to;
    socklen_t toLength;
  };
  std::array<Entry, Capacity> entries_{};
  std::array<mmsghdr, Capacity> hdrs_{};
  size_t count_ = 0;
};

/// Sends one datagram now (control path: STUN responses).
bool sendDatagram(int fd, std::span<const uint8_t> data, const proto::stun::Address& to);

}  // namespace meeting::turn
