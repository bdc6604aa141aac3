#pragma once
// SSRF guard for webhook URLs: the apiserver must not become a way to POST into the operator's
// own network. A URL is refused when its host resolves to any loopback, private, link-local,
// unspecified, multicast or otherwise non-public address (unless the operator allows private
// targets with --allow-private-webhooks).
#include <netinet/in.h>

#include <string>

#include "common/Result.hpp"

namespace meeting::api::webhook {

/// True for addresses a webhook may not reach by default: 0.0.0.0/8, 10/8, 100.64/10 (CGN),
/// 127/8, 169.254/16, 172.16/12, 192.0.0/24, 192.168/16, 198.18/15, 224/4 and above; ::, ::1,
/// fc00::/7, fe80::/10, ff00::/8, and IPv4-mapped/compatible forms of the IPv4 ranges.
bool isNonPublicAddress(const in_addr& v4);
bool isNonPublicAddress(const in6_addr& v6);

/// Checks an http(s) URL: parses it, resolves its host (blocking, getaddrinfo) and refuses it when
/// any address is non-public and `allowPrivate` is false. Error codes: "invalid_url",
/// "unresolvable", "forbidden_address".
Result<void> checkWebhookUrl(const std::string& url, bool allowPrivate);

}  // namespace meeting::api::webhook
