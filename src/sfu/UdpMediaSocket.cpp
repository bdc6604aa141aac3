#include "sfu/UdpMediaSocket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/Log.hpp"

namespace meeting::sfu {
namespace stun = proto::stun;

namespace {

// Large kernel buffers absorb bursts (a keyframe is dozens of packets) while the loop is busy.
constexpr int SocketBufferBytes = 4 * 1024 * 1024;

Error socketError(const std::string& what, const std::string& ip, uint16_t port) {
  return makeError("socket", what + " " + ip + ":" + std::to_string(port) + ": " + std::strerror(errno));
}

}  // namespace

Result<std::unique_ptr<UdpMediaSocket>> UdpMediaSocket::open(net::EventLoop& loop, const std::string& ip,
                                                             uint16_t port) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (in_addr v4{}; inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr = v4;
    length = sizeof(sockaddr_in);
  } else if (in6_addr v6{}; inet_pton(AF_INET6, ip.c_str(), &v6) == 1) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    sin6->sin6_addr = v6;
    length = sizeof(sockaddr_in6);
  } else {
    return makeError("invalid_address", "media address '" + ip + "' is not an IPv4 or IPv6 address");
  }
  int fd = ::socket(storage.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return socketError("cannot create UDP socket for", ip, port);
  int size = SocketBufferBytes;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  if (storage.ss_family == AF_INET6) {
    int off = 0;  // "::" also receives IPv4 (mapped) so one port serves both families
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    auto error = socketError("cannot bind UDP", ip, port);
    ::close(fd);
    return error;
  }
  sockaddr_storage bound{};
  socklen_t boundLength = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &boundLength);
  uint16_t actualPort = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                          : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return std::unique_ptr<UdpMediaSocket>(new UdpMediaSocket(loop, fd, ip, actualPort));
}

UdpMediaSocket::UdpMediaSocket(net::EventLoop& loop, int fd, std::string ip, uint16_t port)
    : descriptor_(loop.context(), fd), ip_(std::move(ip)), port_(port) {
  for (size_t i = 0; i < BatchSize; ++i) {
    receiveVectors_[i] = {receiveSlots_[i].data.data(), MaxDatagramSize};
    receiveHeaders_[i].msg_hdr.msg_iov = &receiveVectors_[i];
    receiveHeaders_[i].msg_hdr.msg_iovlen = 1;
    receiveHeaders_[i].msg_hdr.msg_name = &receiveSlots_[i].address;
    sendVectors_[i] = {sendSlots_[i].data.data(), 0};
    sendHeaders_[i].msg_hdr.msg_iov = &sendVectors_[i];
    sendHeaders_[i].msg_hdr.msg_iovlen = 1;
    sendHeaders_[i].msg_hdr.msg_name = &sendSlots_[i].address;
  }
}

UdpMediaSocket::~UdpMediaSocket() {
  *alive_ = false;
  close();
}

void UdpMediaSocket::start(Receiver receiver) {
  receiver_ = std::move(receiver);
  waitReadable();
}

void UdpMediaSocket::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  descriptor_.cancel(ignored);
  descriptor_.close(ignored);
}

void UdpMediaSocket::waitReadable() {
  if (closed_) return;
  descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                         [this, alive = alive_](const boost::system::error_code& error) {
                           if (!*alive || error || closed_) return;
                           readBatches();
                           waitReadable();
                         });
}

void UdpMediaSocket::readBatches() {
  int fd = descriptor_.native_handle();
  for (size_t batch = 0; batch < MaxBatchesPerWakeup && !closed_; ++batch) {
    for (size_t i = 0; i < BatchSize; ++i) {
      receiveHeaders_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      receiveHeaders_[i].msg_hdr.msg_flags = 0;
    }
    int count = ::recvmmsg(fd, receiveHeaders_.data(), BatchSize, MSG_DONTWAIT, nullptr);
    if (count <= 0) break;
    inBatch_ = true;
    for (int i = 0; i < count && !closed_; ++i) {
      auto& header = receiveHeaders_[i];
      if (header.msg_hdr.msg_flags & MSG_TRUNC) {
        ++stats_.receiveDrops;
        continue;
      }
      auto from = stun::addressFromSockaddr(reinterpret_cast<const sockaddr*>(&receiveSlots_[i].address));
      if (!from) {
        ++stats_.receiveDrops;
        continue;
      }
      ++stats_.packetsReceived;
      stats_.bytesReceived += header.msg_len;
      receiver_(std::span<uint8_t>(receiveSlots_[i].data.data(), header.msg_len), *from);
    }
    inBatch_ = false;
    flush();
    if (static_cast<size_t>(count) < BatchSize) break;
  }
}

void UdpMediaSocket::send(std::span<const uint8_t> packet, const stun::Address& to) {
  if (closed_ || packet.size() > MaxDatagramSize) {
    ++stats_.sendDrops;
    return;
  }
  if (sendQueued_ == BatchSize) flush();
  auto& slot = sendSlots_[sendQueued_];
  std::memcpy(slot.data.data(), packet.data(), packet.size());
  sendVectors_[sendQueued_].iov_len = packet.size();
  sendHeaders_[sendQueued_].msg_hdr.msg_namelen = static_cast<socklen_t>(stun::addressToSockaddr(to, slot.address));
  ++sendQueued_;
  if (!inBatch_) flush();
}

void UdpMediaSocket::flush() {
  size_t offset = 0;
  int fd = descriptor_.native_handle();
  while (offset < sendQueued_ && !closed_) {
    int sent = ::sendmmsg(fd, sendHeaders_.data() + offset, static_cast<unsigned>(sendQueued_ - offset), MSG_DONTWAIT);
    if (sent > 0) {
      for (int i = 0; i < sent; ++i) stats_.bytesSent += sendVectors_[offset + i].iov_len;
      stats_.packetsSent += static_cast<uint64_t>(sent);
      offset += static_cast<size_t>(sent);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
      // The kernel buffer is full: media is better late-dropped than queued without bound.
      stats_.sendDrops += sendQueued_ - offset;
      break;
    }
    ++stats_.sendDrops;  // this datagram's destination failed (e.g. unreachable); go on with the rest
    ++offset;
  }
  sendQueued_ = 0;
}

}  // namespace meeting::sfu
