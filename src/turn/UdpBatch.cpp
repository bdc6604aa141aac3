#include "turn/UdpBatch.hpp"

#include <algorithm>
#include <cerrno>

namespace meeting::turn {

RecvBatch::RecvBatch() {
  for (size_t i = 0; i < Slots; ++i) {
    iov_[i].iov_base = slots_[i].data() + Headroom;
    iov_[i].iov_len = MaxPayload;
  }
}

size_t RecvBatch::receive(int fd) {
  count_ = 0;
  if (full()) return 0;
  base_ = next_;
  for (size_t i = base_; i < base_ + Size; ++i) {
    hdrs_[i].msg_hdr.msg_name = &addrs_[i];
    hdrs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    hdrs_[i].msg_hdr.msg_iov = &iov_[i];
    hdrs_[i].msg_hdr.msg_iovlen = 1;
    hdrs_[i].msg_hdr.msg_control = nullptr;
    hdrs_[i].msg_hdr.msg_controllen = 0;
    hdrs_[i].msg_hdr.msg_flags = 0;
    hdrs_[i].msg_len = 0;
  }
  int n;
  do {
    n = recvmmsg(fd, hdrs_.data() + base_, static_cast<unsigned>(Size), MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  count_ = n > 0 ? static_cast<size_t>(n) : 0;
  next_ = base_ + count_;
  return count_;
}

void SendQueue::push(int fd, std::span<const uint8_t> data, const proto::stun::Address& to) {
  if (count_ == Capacity) flush();
  Entry& e = entries_[count_];
  e.fd = fd;
  e.iov.iov_base = const_cast<uint8_t*>(data.data());
  e.iov.iov_len = data.size();
  e.toLength = static_cast<socklen_t>(proto::stun::addressToSockaddr(to, e.to));
  ++count_;
}

size_t SendQueue::flush() {
  size_t dropped = 0;
  std::fill(sent_.begin(), sent_.begin() + static_cast<std::ptrdiff_t>(count_), false);
  for (size_t i = 0; i < count_; ++i) {
    if (sent_[i]) continue;
    // Gather every datagram of this socket (usually the listening socket: one sendmmsg carries
    // the whole loop round's packets to many clients).
    const int fd = entries_[i].fd;
    size_t run = 0;
    for (size_t j = i; j < count_; ++j) {
      if (sent_[j] || entries_[j].fd != fd) continue;
      sent_[j] = true;
      mmsghdr& h = hdrs_[run++];
      h.msg_hdr = msghdr{};
      h.msg_hdr.msg_name = &entries_[j].to;
      h.msg_hdr.msg_namelen = entries_[j].toLength;
      h.msg_hdr.msg_iov = &entries_[j].iov;
      h.msg_hdr.msg_iovlen = 1;
      h.msg_len = 0;
    }
    size_t done = 0;
    while (done < run) {
      int n = sendmmsg(fd, hdrs_.data() + done, static_cast<unsigned>(run - done), MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // Buffer full or an ICMP error from an earlier datagram: skip this one, keep the rest.
        ++dropped;
        ++done;
        continue;
      }
      done += static_cast<size_t>(n);
    }
  }
  count_ = 0;
  return dropped;
}

bool sendDatagram(int fd, std::span<const uint8_t> data, const proto::stun::Address& to) {
  sockaddr_storage ss{};
  auto len = static_cast<socklen_t>(proto::stun::addressToSockaddr(to, ss));
  ssize_t n;
  do {
    n = sendto(fd, data.data(), data.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&ss), len);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(data.size());
}

}  // namespace meeting::turn
