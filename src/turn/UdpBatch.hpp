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
  /// UDP GSO (UDP_SEGMENT, Linux 4.18): consecutive datagrams of one socket to one destination
  /// with the same size (the last may be shorter) leave as one message the kernel segments, at
  /// most this many per message and 64 KiB in all.
  static constexpr size_t MaxSegments = 64;
  /// Larger datagrams are not merged: every segment must fit the path MTU (1500-byte Ethernet
  /// less IPv6 and UDP headers), or the whole message is refused.
  static constexpr size_t MaxSegmentSize = 1400;
  /// Off: one message per datagram (the kernel refused UDP_SEGMENT once, or tests compare).
  void setGso(bool on) { gso_ = on; }
  bool gso() const { return gso_; }
  /// Messages handed to sendmmsg and datagrams they carried (a GSO message carries several).
  uint64_t messagesSent() const { return messages_; }
  uint64_t datagramsSent() const { return datagrams_; }
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
  // Room for one UDP_SEGMENT control message per mmsghdr.
  union Control {
    cmsghdr header;
    uint8_t bytes[CMSG_SPACE(sizeof(uint16_t))];
  };
  size_t gather(size_t first, int fd);
  size_t sendRun(int fd, size_t messages);

  std::array<Entry, Capacity> entries_{};
  std::array<mmsghdr, Capacity> hdrs_{};
  std::array<uint16_t, Capacity> segments_{};  // datagrams in each hdrs_ message
  std::array<iovec, Capacity> iovs_{};          // the gathered datagrams of one socket, in order
  std::array<Control, Capacity> controls_{};
  std::array<bool, Capacity> sent_{};
  size_t count_ = 0;
  bool gso_ = true;
  uint64_t messages_ = 0;
  uint64_t datagrams_ = 0;
};

/// Sends one datagram now (control path: STUN responses).
bool sendDatagram(int fd, std::span<const uint8_t> data, const proto::stun::Address& to);

}  // namespace meeting::turn
