#include "turn/StreamConnection.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include <cstring>
#include <optional>

#include "turn/ChannelFraming.hpp"
#include "turn/TurnWorker.hpp"

namespace meeting::turn {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr size_t ReadBuffer = 128 * 1024;      // > the largest frame (65,535 + 20)
constexpr size_t MaxPendingWrite = 4 << 20;   // a client this far behind loses relayed data
constexpr size_t SpliceBuffer = 64 * 1024;     // peer -> client buffer of a data connection

template <typename Stream>
class Connection final : public StreamConnection {
  static constexpr bool IsTls = !std::is_same_v<Stream, tcp::socket>;

 public:
  template <typename... Args>
  Connection(TurnWorker& w, ClientKey key, Args&&... args)
      : StreamConnection(w, key), stream_(std::forward<Args>(args)...), in_(ReadBuffer) {
    pending_.reserve(64 * 1024);
    writing_.reserve(64 * 1024);
    if constexpr (IsTls) {
      pendingEnds_.reserve(1024);
      writingEnds_.reserve(1024);
      records_.reserve(1024);
    }
  }

  void start() override {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      stream_.set_option(tcp::no_delay(true));
      read();
    } else {
      stream_.next_layer().set_option(tcp::no_delay(true));
      auto self = shared_from_this();
      stream_.async_handshake(asio::ssl::stream_base::server, [this, self](const boost::system::error_code& ec) {
        if (ec) return close();
        read();
      });
    }
  }

  void send(std::span<const uint8_t> data) override {
    if (closed_ || splicing_ || pending_.size() + data.size() > MaxPendingWrite) return;
    pending_.insert(pending_.end(), data.begin(), data.end());
    if constexpr (IsTls) pendingEnds_.push_back(pending_.size());
    if (!writeInFlight_) write();
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    lowest().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close(ignored);
    if (splicing_) {
      peer_->close(ignored);
      worker_.onSpliceClosed(*this, spliceId_);
    } else {
      worker_.onStreamClosed(*this);  // may drop the last reference held by the worker
    }
  }

  void pauseReading() override { paused_ = true; }

  void resumeReading() override {
    if (closed_ || !paused_) return;
    paused_ = false;
    if (!consume()) return close();
    if (!paused_) read();
  }

  void startSplice(tcp::socket peer, uint32_t connectionId) override {
    if (closed_) return;
    splicing_ = true;
    paused_ = false;
    spliceId_ = connectionId;
    lastActivity_ = worker_.now();
    peer_.emplace(std::move(peer));
    boost::system::error_code ignored;
    peer_->set_option(tcp::no_delay(true), ignored);
    peerBuffer_.resize(SpliceBuffer);
    // Client -> peer: what followed the ConnectionBind in the buffer is already raw data.
    if (used_ > 0) writeToPeer();
    else readClient();
    // Peer -> client: once the ConnectionBind answer is on the wire (RFC 6062 §5.4: data the
    // peer sent before the bind waited in the kernel's receive buffer).
    if (!writeInFlight_ && pending_.empty()) readPeer();
  }

 private:
  tcp::socket& lowest() {
    if constexpr (std::is_same_v<Stream, tcp::socket>) return stream_;
    else return stream_.next_layer();
  }

  void read() {
    if (closed_) return;
    auto self = shared_from_this();
    stream_.async_read_some(asio::buffer(in_.data() + used_, in_.size() - used_),
                            [this, self](const boost::system::error_code& ec, size_t n) {
                              if (ec || closed_) return close();
                              used_ += n;
                              if (!consume()) return close();
                              if (!paused_) read();  // paused: a ConnectionBind waits for its answer
                            });
  }

  // Hands every complete frame to the worker; false when the stream is out of sync.
  bool consume() {
    size_t offset = 0;
    while (offset < used_) {
      std::span<const uint8_t> rest(in_.data() + offset, used_ - offset);
      auto frame = findTurnStreamFrame(rest);
      if (frame.kind == proto::stun::FrameKind::Invalid) return false;
      if (frame.kind == proto::stun::FrameKind::NeedMore || frame.size > rest.size()) {
        if (frame.size > in_.size()) return false;
        break;
      }
      worker_.onStreamFrame(*this, rest.first(frame.size));
      if (closed_) return true;
      offset += frame.size;
      if (paused_) break;
    }
    worker_.flush();  // relayed payloads point into in_: send them before it moves
    if (offset > 0) {
      std::memmove(in_.data(), in_.data() + offset, used_ - offset);
      used_ -= offset;
    }
    return true;
  }

  void write() {
    if (pending_.empty() || closed_) return;
    writing_.swap(pending_);
    pending_.clear();
    writeInFlight_ = true;
    auto self = shared_from_this();
    auto done = [this, self](const boost::system::error_code& ec, size_t) {
      writeInFlight_ = false;
      writing_.clear();
      if (ec) return close();
      if (splicing_ && pending_.empty()) return readPeer();  // the ConnectionBind answer is out
      write();
    };
    if constexpr (IsTls) {
      // One TLS record per TURN frame: the stream carries the same bytes either way, but clients
      // that take one SSL_read as one message (coturn's turnutils_uclient does) would drop every
      // frame of a record holding several. Asio's SSL stream writes a buffer sequence one buffer
      // (one SSL_write, so one record up to 16 KiB) at a time.
      writingEnds_.swap(pendingEnds_);
      pendingEnds_.clear();
      records_.clear();
      size_t begin = 0;
      for (size_t end : writingEnds_) {
        records_.push_back(asio::buffer(writing_.data() + begin, end - begin));
        begin = end;
      }
      writingEnds_.clear();
      asio::async_write(stream_, records_, std::move(done));
    } else {
      asio::async_write(stream_, asio::buffer(writing_), std::move(done));
    }
  }

  // ---- splice (RFC 6062 data connection) ----

  static bool endOfStream(const boost::system::error_code& ec) {
    return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
  }

  void readClient() {
    if (closed_) return;
    auto self = shared_from_this();
    stream_.async_read_some(asio::buffer(in_), [this, self](const boost::system::error_code& ec, size_t n) {
      if (closed_) return;
      if (endOfStream(ec)) {
        // The client finished sending: pass the half-close on to the peer.
        boost::system::error_code ignored;
        peer_->shutdown(tcp::socket::shutdown_send, ignored);
        clientDone_ = true;
        if (peerDone_) close();
        return;
      }
      if (ec) return close();
      used_ = n;
      lastActivity_ = worker_.now();
      writeToPeer();
    });
  }

  void writeToPeer() {
    auto self = shared_from_this();
    asio::async_write(*peer_, asio::buffer(in_.data(), used_), [this, self](const boost::system::error_code& ec, size_t n) {
      if (closed_) return;
      if (ec) return close();
      worker_.stats().splicedBytesToPeer.inc(n);
      used_ = 0;
      readClient();
    });
  }

  void readPeer() {
    if (closed_ || peerReading_) return;
    peerReading_ = true;
    auto self = shared_from_this();
    peer_->async_read_some(asio::buffer(peerBuffer_), [this, self](const boost::system::error_code& ec, size_t n) {
      peerReading_ = false;
      if (closed_) return;
      if (endOfStream(ec)) {
        boost::system::error_code ignored;
        lowest().shutdown(tcp::socket::shutdown_send, ignored);
        peerDone_ = true;
        if (clientDone_) close();
        return;
      }
      if (ec) return close();
      lastActivity_ = worker_.now();
      peerReading_ = true;  // until the client took the buffer
      asio::async_write(stream_, asio::buffer(peerBuffer_.data(), n), [this, self](const boost::system::error_code& e2, size_t m) {
        peerReading_ = false;
        if (closed_) return;
        if (e2) return close();
        worker_.stats().splicedBytesToClient.inc(m);
        readPeer();
      });
    });
  }

  TimePoint lastActivity() const override { return lastActivity_; }

  Stream stream_;
  std::vector<uint8_t> in_;
  size_t used_ = 0;
  std::vector<uint8_t> pending_, writing_;
  std::vector<size_t> pendingEnds_, writingEnds_;  // TLS: where each frame of pending_/writing_ ends
  std::vector<asio::const_buffer> records_;         // TLS: writing_ cut at frame ends
  bool writeInFlight_ = false;
  bool closed_ = false;
  bool paused_ = false;
  // Splice state.
  bool splicing_ = false;
  bool peerReading_ = false;  // a peer read or the write of its bytes to the client is in flight
  bool clientDone_ = false, peerDone_ = false;
  uint32_t spliceId_ = 0;
  TimePoint lastActivity_{};
  std::optional<tcp::socket> peer_;
  std::vector<uint8_t> peerBuffer_;
};

}  // namespace

std::shared_ptr<StreamConnection> StreamConnection::makeTcp(TurnWorker& w, ClientKey key, tcp::socket s) {
  return std::make_shared<Connection<tcp::socket>>(w, key, std::move(s));
}

std::shared_ptr<StreamConnection> StreamConnection::makeTls(TurnWorker& w, ClientKey key, tcp::socket s,
                                                            asio::ssl::context& context) {
  return std::make_shared<Connection<asio::ssl::stream<tcp::socket>>>(w, key, std::move(s), context);
}

}  // namespace meeting::turn
