#include "turn/UdpBatch.hpp"

#include <cerrno>

namespace meeting::turn {

RecvBatch::RecvBatch() {
  for (size_t i = 0; i < Size; ++i) {
    iov_[i].iov_base = slots_[i].data() + Headroom;
    iov_[i].iov_len = MaxPayload;
  }
}

size_t RecvBatch::receive(int fd) {
  for (size_t i = 0; i < Size; ++i) {
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
    n = recvmmsg(fd, hdrs_.data(), static_cast<unsigned>(Size), MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  return n > 0 ? static_cast<size_t>(n) : 0;
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
  size_t i = 0;
  while (i < count_) {
    size_t j = i;
    while (j < count_ && entries_[j].fd == entries_[i].fd) {
      mmsghdr& h = hdrs_[j - i];
      h.msg_hdr = msghdr{};
      h.msg_hdr.msg_name = &entries_[j].to;
      h.msg_hdr.msg_namelen = entries_[j].toLength;
      h.msg_hdr.msg_iov = &entries_[j].iov;
      h.msg_hdr.msg_iovlen = 1;
      h.msg_len = 0;
      ++j;
    }
    size_t sent = 0;
    const size_t run = j - i;
    while (sent < run) {
      int n = sendmmsg(entries_[i].fd, hdrs_.data() + sent, static_cast<unsigned>(run - sent), MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // Buffer full or an ICMP error from an earlier datagram: skip this one, keep the rest.
        ++dropped;
        ++sent;
        continue;
      }
      sent += static_cast<size_t>(n);
    }
    i = j;
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
