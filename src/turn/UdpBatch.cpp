#include "turn/UdpBatch.hpp"

#include <netinet/udp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

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
    // Every datagram of this socket (usually the listening socket: one sendmmsg carries the whole
    // loop round's packets to many clients), in queue order.
    const int fd = entries_[i].fd;
    dropped += sendRun(fd, gather(i, fd));
  }
  count_ = 0;
  return dropped;
}

namespace {

bool sameDestination(const sockaddr_storage& a, socklen_t aLength, const sockaddr_storage& b, socklen_t bLength) {
  return aLength == bLength && std::memcmp(&a, &b, aLength) == 0;
}

}  // namespace

// Builds hdrs_ for the datagrams of `fd` from entry `first` on; returns the number of messages.
// With GSO, a message takes the later datagrams to its destination while they have its size (a
// shorter one ends it); the first one that does not fit stops the scan, so datagrams to one
// destination keep their order. Datagrams to different destinations may change order.
size_t SendQueue::gather(size_t first, int fd) {
  size_t messages = 0, iovs = 0;
  for (size_t j = first; j < count_; ++j) {
    if (sent_[j] || entries_[j].fd != fd) continue;
    sent_[j] = true;
    const Entry& e = entries_[j];
    mmsghdr& h = hdrs_[messages];
    h.msg_hdr = msghdr{};
    h.msg_hdr.msg_name = const_cast<sockaddr_storage*>(&e.to);
    h.msg_hdr.msg_namelen = e.toLength;
    h.msg_hdr.msg_iov = &iovs_[iovs];
    h.msg_hdr.msg_iovlen = 1;
    h.msg_len = 0;
    iovs_[iovs++] = e.iov;
    uint16_t segments = 1;
    const size_t segmentSize = e.iov.iov_len;
    size_t bytes = segmentSize;
    bool open = gso_ && segmentSize > 0 && segmentSize <= MaxSegmentSize;
    for (size_t k = j + 1; open && k < count_; ++k) {
      const Entry& n = entries_[k];
      if (sent_[k] || n.fd != fd || !sameDestination(e.to, e.toLength, n.to, n.toLength)) continue;
      if (n.iov.iov_len == 0 || n.iov.iov_len > segmentSize || segments == MaxSegments || bytes + n.iov.iov_len > 65000) break;
      sent_[k] = true;
      iovs_[iovs++] = n.iov;
      ++segments;
      bytes += n.iov.iov_len;
      if (n.iov.iov_len < segmentSize) open = false;  // every segment but the last has the size
    }
    h.msg_hdr.msg_iovlen = segments;
    segments_[messages] = segments;
    if (segments > 1) {
      Control& c = controls_[messages];
      h.msg_hdr.msg_control = c.bytes;
      h.msg_hdr.msg_controllen = sizeof c.bytes;
      cmsghdr* cm = CMSG_FIRSTHDR(&h.msg_hdr);
      cm->cmsg_level = SOL_UDP;
      cm->cmsg_type = UDP_SEGMENT;
      cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      const auto size = static_cast<uint16_t>(segmentSize);
      std::memcpy(CMSG_DATA(cm), &size, sizeof size);
    }
    ++messages;
  }
  return messages;
}

// Sends hdrs_[0, messages) on `fd`; returns datagrams dropped.
size_t SendQueue::sendRun(int fd, size_t messages) {
  size_t dropped = 0, done = 0;
  while (done < messages) {
    int n = sendmmsg(fd, hdrs_.data() + done, static_cast<unsigned>(messages - done), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      if (segments_[done] > 1 && error != EAGAIN && error != EWOULDBLOCK) {
        // The kernel refused the GSO message (EINVAL: a segment over the path MTU; EIO, EOPNOTSUPP:
        // no segmentation on this device or kernel): these datagrams one by one, and no more GSO
        // when it is not supported at all.
        if (error != EINVAL) gso_ = false;
        mmsghdr& h = hdrs_[done];
        const size_t count = segments_[done];
        iovec* iov = h.msg_hdr.msg_iov;
        for (size_t k = 0; k < count; ++k) {
          msghdr one{};
          one.msg_name = h.msg_hdr.msg_name;
          one.msg_namelen = h.msg_hdr.msg_namelen;
          one.msg_iov = &iov[k];
          one.msg_iovlen = 1;
          ssize_t r;
          do {
            r = sendmsg(fd, &one, MSG_DONTWAIT);
          } while (r < 0 && errno == EINTR);
          if (r < 0) ++dropped;
          else {
            ++messages_;
            ++datagrams_;
          }
        }
        ++done;
        continue;
      }
      // Buffer full or an ICMP error from an earlier datagram: skip this one, keep the rest.
      dropped += segments_[done];
      ++done;
      continue;
    }
    for (int k = 0; k < n; ++k) datagrams_ += segments_[done + static_cast<size_t>(k)];
    messages_ += static_cast<uint64_t>(n);
    done += static_cast<size_t>(n);
  }
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
