#include "api/webhook/WebhookUrlPolicy.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

#include "net/HttpClient.hpp"

namespace meeting::api::webhook {
namespace {

bool inRange(uint32_t addr, uint32_t net, int prefix) {
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return (addr & mask) == (net & mask);
}

constexpr uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) { return (a << 24) | (b << 16) | (c << 8) | d; }

bool nonPublicV4(uint32_t a) {
  // RFC 6890 special-purpose ranges that are not globally reachable, plus multicast/reserved.
  return inRange(a, v4(0, 0, 0, 0), 8) || inRange(a, v4(10, 0, 0, 0), 8) || inRange(a, v4(100, 64, 0, 0), 10) ||
         inRange(a, v4(127, 0, 0, 0), 8) || inRange(a, v4(169, 254, 0, 0), 16) || inRange(a, v4(172, 16, 0, 0), 12) ||
         inRange(a, v4(192, 0, 0, 0), 24) || inRange(a, v4(192, 168, 0, 0), 16) || inRange(a, v4(198, 18, 0, 0), 15) ||
         a >= v4(224, 0, 0, 0);
}

}  // namespace

bool isNonPublicAddress(const in_addr& addr) { return nonPublicV4(ntohl(addr.s_addr)); }

bool isNonPublicAddress(const in6_addr& addr) {
  const uint8_t* b = addr.s6_addr;
  static constexpr uint8_t Zero[16] = {};
  // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) and the deprecated ::a.b.c.d carry an IPv4 address.
  const bool mapped = std::memcmp(b, Zero, 10) == 0 && b[10] == 0xff && b[11] == 0xff;
  const bool compatible = std::memcmp(b, Zero, 12) == 0;
  if (mapped || compatible) {
    uint32_t a = (uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) | (uint32_t{b[14]} << 8) | b[15];
    // :: and ::1 are compatible-form too and land in 0/8 (unspecified, loopback as "0.0.0.1").
    return nonPublicV4(a);
  }
  if ((b[0] & 0xfe) == 0xfc) return true;                    // fc00::/7 unique local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;    // fe80::/10 link-local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return true;    // fec0::/10 site-local (deprecated)
  if (b[0] == 0xff) return true;                             // ff00::/8 multicast
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) return true;  // 64:ff9b::/96 NAT64
  return false;
}

Result<void> checkWebhookUrl(const std::string& url, bool allowPrivate) {
  auto parsed = net::parseUrl(url);
  if (!parsed) return makeError("invalid_url", "not an http(s) URL: " + parsed.error().message);
  if (parsed->host.empty()) return makeError("invalid_url", "no host");
  if (allowPrivate) return {};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(parsed->host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    return makeError("unresolvable", "host " + parsed->host + " does not resolve");
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);
  // Every address must be public: a name with one public and one private address could still
  // reach the private one.
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    bool bad = true;
    if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(sockaddr_in)) {
      bad = isNonPublicAddress(reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr);
    } else if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(sockaddr_in6)) {
      bad = isNonPublicAddress(reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr);
    }
    if (bad) {
      return makeError("forbidden_address",
                       "host " + parsed->host + " resolves to a loopback, private or link-local address");
    }
  }
  return {};
}

}  // namespace meeting::api::webhook
