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
  static constexpr size_t Size = 32;          // datagrams per recvmmsg
  static constexpr size_t Slots = 256;        // the pool: a loop round's sends stay queued in it
  static constexpr size_t Headroom = 64;      // >= TurnServer::PeerHeadroom
  static constexpr size_t MaxPayload = 4096;  // larger datagrams are dropped (MSG_TRUNC)
  static constexpr size_t SlotSize = Headroom + MaxPayload + 8;

  RecvBatch();
  /// Receives up to Size datagrams without blocking into the next free slots; returns how many
  /// (0 when none or error). Indices below are relative to this receive. Call only when !full().
  size_t receive(int fd);
  size_t count() const { return count_; }
  /// True when another receive could overwrite slots still referred to: flush, then recycle().
  bool full() const { return next_ + Size > Slots; }
  /// Every slot is free again (nothing queued refers to them). Inside a batch being processed the
  /// slots of that batch stay reserved.
  void recycle(bool keepCurrent) { next_ = keepCurrent ? base_ + count_ : 0; }
  /// Slot `i` (whole buffer), the payload starts at Headroom.
  std::span<uint8_t> slot(size_t i) { return slots_[base_ + i]; }
  size_t length(size_t i) const { return hdrs_[base_ + i].msg_len; }
  bool truncated(size_t i) const { return (hdrs_[base_ + i].msg_hdr.msg_flags & MSG_TRUNC) != 0; }
  /// True when `p` points into one of the slots (a payload framed in place, still valid).
  bool owns(const uint8_t* p) const {
    const auto begin = reinterpret_cast<uintptr_t>(slots_.front().data());
    const auto at = reinterpret_cast<uintptr_t>(p);
    return at >= begin && at < begin + Slots * SlotSize;
  }
  const sockaddr* source(size_t i) const { return reinterpret_cast<const sockaddr*>(&addrs_[base_ + i]); }

 private:
  std::array<std::array<uint8_t, SlotSize>, Slots> slots_{};
  std::array<mmsghdr, Slots> hdrs_{};
  std::array<iovec, Slots> iov_{};
  std::array<sockaddr_storage, Slots> addrs_{};
  size_t next_ = 0;   // first free slot
  size_t base_ = 0;   // first slot of the last receive
  size_t count_ = 0;  // datagrams in the last receive
};

class SendQueue {
 public:
  static constexpr size_t Capacity = RecvBatch::Slots;
  /// Queues a datagram; `data` must stay valid until flush(). Flushes first when full.
  void push(int fd, std::span<const uint8_t> data, const proto::stun::Address& to);
  /// Sends everything queued, one sendmmsg per socket (in queue order per socket; datagrams of
  /// different sockets belong to different flows, so they need no order). Returns datagrams dropped
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
  std::array<bool, Capacity> sent_{};
  size_t count_ = 0;
};

/// Sends one datagram now (control path: STUN responses).
bool sendDatagram(int fd, std::span<const uint8_t> data, const proto::stun::Address& to);

}  // namespace meeting::turn
