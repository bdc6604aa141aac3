#pragma once
// Signing of webhook requests. Each POST carries
//   Meeting-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<raw body>")>
// Binding the timestamp into the MAC lets a receiver refuse replays of an old request; the raw
// body (not a re-serialisation) is signed so any JSON library can verify it. docs/operations.md
// shows a receiver's side.
#include <cstdint>
#include <string>
#include <string_view>

namespace meeting::api::webhook {

inline constexpr const char* SignatureHeader = "Meeting-Signature";
/// The label the default key is derived with (documented: operators recompute the key from it).
inline constexpr std::string_view KeyLabel = "meeting-webhook-key-v1";

/// The key used without --webhook-key: lower-case hex HMAC-SHA256(clusterSecret, KeyLabel), so
/// webhooks are signed with a key distinct from the one that signs tokens.
std::string deriveWebhookKey(std::string_view clusterSecret);

/// The header value for `body` sent at `unixSeconds`.
std::string signatureHeader(std::string_view key, int64_t unixSeconds, std::string_view body);

/// Receiver side (tests, tools): true when `header` holds a v1 signature of `body` under `key`
/// whose t is within `toleranceSeconds` of `nowSeconds`. Bounded parsing, never throws.
bool verifySignatureHeader(std::string_view key, std::string_view header, std::string_view body, int64_t nowSeconds,
                           int64_t toleranceSeconds = 300);

}  // namespace meeting::api::webhook
