#pragma once
// A small SMTP server for tests (RFC 5321 subset): listens on 127.0.0.1 with a port chosen by the
// OS, serves one connection at a time on its own thread, speaks EHLO/HELO, STARTTLS (RFC 3207,
// with a certificate made by net::generateSelfSigned), AUTH PLAIN and LOGIN (RFC 4954), MAIL,
// RCPT, DATA (dot-unstuffing), RSET, NOOP, QUIT, and stores what it received. Every read has a
// deadline so a confused client cannot hang the test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "net/Tls.hpp"

namespace meeting::api::test {

struct SmtpReceived {
  std::string mailFrom;
  std::vector<std::string> rcptTo;
  std::string data;      ///< the message, CRLF line ends, dot-unstuffed, without the final "."
  std::string authUser;  ///< "" when the client did not authenticate
  bool tls = false;      ///< DATA arrived over STARTTLS
};

struct SmtpSinkOptions {
  bool offerStartTls = false;
  std::string user;      ///< "" = AUTH not offered
  std::string password;
  std::set<std::string> rejectRecipients;  ///< answered 550 at RCPT
  uint16_t port = 0;     ///< 0 = let the OS choose
};

inline std::string sinkBase64Decode(const std::string& in) {
  std::string out(in.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return {};
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

class SmtpSink {
 public:
  explicit SmtpSink(SmtpSinkOptions options) : options_(std::move(options)) {
    if (options_.offerStartTls) setUpTls();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(options_.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 8) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~SmtpSink() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    if (ctx_) SSL_CTX_free(ctx_);
  }
  bool ok() const { return fd_ >= 0; }
  uint16_t port() const { return port_; }
  /// PEM of the STARTTLS certificate (for the client's CA file).
  const std::string& certificatePem() const { return certPem_; }
  std::vector<SmtpReceived> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }
  /// Waits until `n` messages arrived or `limit` passed; returns what arrived.
  std::vector<SmtpReceived> waitReceived(size_t n, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (received().size() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return received();
  }

 private:
  // One client connection: plain socket, upgraded to TLS after STARTTLS.
  struct Conn {
    int fd = -1;
    SSL* ssl = nullptr;
    std::string buffer;
  };

  void setUpTls() {
    auto identity = net::generateSelfSigned({"127.0.0.1", "localhost"}, 2);
    if (!identity) return;
    certPem_ = identity->certChainPem;
    ctx_ = SSL_CTX_new(TLS_server_method());
    BIO* cb = BIO_new_mem_buf(identity->certChainPem.data(), static_cast<int>(identity->certChainPem.size()));
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    BIO_free(cb);
    BIO* kb = BIO_new_mem_buf(identity->keyPem.data(), static_cast<int>(identity->keyPem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(kb);
    SSL_CTX_use_certificate(ctx_, cert);
    SSL_CTX_use_PrivateKey(ctx_, key);
    X509_free(cert);
    EVP_PKEY_free(key);
  }

  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      Conn c;
      c.fd = client;
      session(c);
      if (c.ssl) {
        SSL_shutdown(c.ssl);
        SSL_free(c.ssl);
      }
      ::close(client);
    }
  }

  bool write(Conn& c, const std::string& s) {
    if (c.ssl) return SSL_write(c.ssl, s.data(), static_cast<int>(s.size())) == static_cast<int>(s.size());
    return ::send(c.fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }

  /// One CRLF-terminated line (without CRLF); false on close, error or a 5 s silence.
  bool readLine(Conn& c, std::string& line) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
      if (auto end = c.buffer.find("\r\n"); end != std::string::npos) {
        line = c.buffer.substr(0, end);
        c.buffer.erase(0, end + 2);
        return true;
      }
      if (stop_ || std::chrono::steady_clock::now() > deadline || c.buffer.size() > 1'000'000) return false;
      if (!c.ssl || SSL_pending(c.ssl) == 0) {
        pollfd p{c.fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
      }
      char buf[4096];
      int n = c.ssl ? SSL_read(c.ssl, buf, sizeof buf) : static_cast<int>(::recv(c.fd, buf, sizeof buf, 0));
      if (n <= 0) return false;
      c.buffer.append(buf, static_cast<size_t>(n));
    }
  }

  static std::string upper(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return s;
  }
  static std::string between(const std::string& s, char open, char close) {
    auto a = s.find(open);
    auto b = s.find(close, a == std::string::npos ? 0 : a + 1);
    if (a == std::string::npos || b == std::string::npos) return {};
    return s.substr(a + 1, b - a - 1);
  }

  bool checkPlain(const std::string& b64) {
    // RFC 4616: authzid NUL authcid NUL passwd.
    std::string d = sinkBase64Decode(b64);
    auto first = d.find('\0');
    auto second = first == std::string::npos ? first : d.find('\0', first + 1);
    if (second == std::string::npos) return false;
    return d.substr(first + 1, second - first - 1) == options_.user && d.substr(second + 1) == options_.password;
  }

  void session(Conn& c) {
    SmtpReceived current;
    std::string authUser;
    if (!write(c, "220 sink.test ESMTP test sink\r\n")) return;
    std::string line;
    while (readLine(c, line)) {
      const std::string cmd = upper(line.substr(0, line.find(' ')));
      if (cmd == "EHLO") {
        std::string reply = "250-sink.test\r\n";
        if (options_.offerStartTls && !c.ssl && ctx_) reply += "250-STARTTLS\r\n";
        if (!options_.user.empty()) reply += "250-AUTH PLAIN LOGIN\r\n";
        reply += "250 8BITMIME\r\n";
        write(c, reply);
      } else if (cmd == "HELO") {
        write(c, "250 sink.test\r\n");
      } else if (cmd == "STARTTLS" && ctx_ && !c.ssl) {
        write(c, "220 2.0.0 ready to start TLS\r\n");
        c.ssl = SSL_new(ctx_);
        SSL_set_fd(c.ssl, c.fd);
        if (SSL_accept(c.ssl) != 1) return;
        c.buffer.clear();
        authUser.clear();  // RFC 3207 §4.2: the client starts over
      } else if (cmd == "AUTH") {
        std::string rest = line.size() > 5 ? line.substr(5) : "";
        std::string mech = upper(rest.substr(0, rest.find(' ')));
        std::string initial = rest.find(' ') == std::string::npos ? "" : rest.substr(rest.find(' ') + 1);
        bool ok = false;
        if (mech == "PLAIN") {
          if (initial.empty()) {
            write(c, "334 \r\n");
            if (!readLine(c, initial)) return;
          }
          ok = checkPlain(initial);
        } else if (mech == "LOGIN") {
          std::string user = initial, pass;
          if (user.empty()) {
            write(c, "334 VXNlcm5hbWU6\r\n");
            if (!readLine(c, user)) return;
          }
          write(c, "334 UGFzc3dvcmQ6\r\n");
          if (!readLine(c, pass)) return;
          ok = sinkBase64Decode(user) == options_.user && sinkBase64Decode(pass) == options_.password;
        }
        if (ok) authUser = options_.user;
        write(c, ok ? "235 2.7.0 accepted\r\n" : "535 5.7.8 bad credentials\r\n");
      } else if (cmd == "MAIL") {
        if (!options_.user.empty() && authUser.empty()) {
          write(c, "530 5.7.0 authentication required\r\n");
          continue;
        }
        current = SmtpReceived{};
        current.mailFrom = between(line, '<', '>');
        write(c, "250 2.1.0 ok\r\n");
      } else if (cmd == "RCPT") {
        std::string to = between(line, '<', '>');
        if (options_.rejectRecipients.count(to)) {
          write(c, "550 5.1.1 no such user\r\n");
          continue;
        }
        current.rcptTo.push_back(to);
        write(c, "250 2.1.5 ok\r\n");
      } else if (cmd == "DATA") {
        write(c, "354 end with <CRLF>.<CRLF>\r\n");
        std::string data;
        for (;;) {
          if (!readLine(c, line)) return;
          if (line == ".") break;
          if (!line.empty() && line[0] == '.') line.erase(0, 1);  // RFC 5321 §4.5.2
          data += line + "\r\n";
        }
        current.data = std::move(data);
        current.authUser = authUser;
        current.tls = c.ssl != nullptr;
        {
          std::lock_guard lock(mutex_);
          received_.push_back(current);
        }
        write(c, "250 2.0.0 queued\r\n");
      } else if (cmd == "RSET" || cmd == "NOOP") {
        write(c, "250 2.0.0 ok\r\n");
      } else if (cmd == "QUIT") {
        write(c, "221 2.0.0 bye\r\n");
        return;
      } else {
        write(c, "500 5.5.2 unknown command\r\n");
      }
    }
  }

  SmtpSinkOptions options_;
  int fd_ = -1;
  uint16_t port_ = 0;
  SSL_CTX* ctx_ = nullptr;
  std::string certPem_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<SmtpReceived> received_;
  std::thread thread_;
};

}  // namespace meeting::api::test
