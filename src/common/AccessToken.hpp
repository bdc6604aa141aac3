#pragma once
// Access tokens: compact JWS (RFC 7515 §7.1) with HS256 (RFC 7518 §3.2), signed with the cluster
// --secret. The apiserver issues one per peer ("join room R as P"); the sfuserver verifies it on
// /rtc. The same signing layer authenticates the control link (audience "control").
//
// Verification is bounded (tokens over MaxTokenBytes are refused before decoding), never throws,
// compares MACs in constant time and accepts only alg "HS256" (never "none", RFC 8725 §3.1).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/Result.hpp"

namespace meeting::token {

/// Longest token accepted for verification (far above any token we issue).
inline constexpr size_t MaxTokenBytes = 8192;

/// Stable error codes carried in Error::code by verify().
namespace errc {
inline constexpr const char* Malformed = "token_malformed";        ///< not three base64url JSON parts, bad types
inline constexpr const char* WrongAlg = "token_wrong_alg";         ///< alg other than HS256 (incl. "none")
inline constexpr const char* BadSignature = "token_bad_signature";  ///< MAC mismatch (wrong secret or edited)
inline constexpr const char* Expired = "token_expired";            ///< now >= exp
inline constexpr const char* NotYetValid = "token_not_yet_valid";  ///< iat too far in the future
inline constexpr const char* WrongAudience = "token_wrong_audience";///< signed for another use
inline constexpr const char* NoSecret = "token_no_secret";         ///< empty secret: refuse to sign/verify
}  // namespace errc

/// What a peer may do in its room (LiveKit-style video grants).
struct Grants {
  bool canPublish = true;
  bool canSubscribe = true;
  bool canPublishData = true;
  bool roomAdmin = false;
};

/// The claims of a peer access token.
struct AccessClaims {
  std::string room;         ///< claim "room": the one room this token opens
  std::string identity;     ///< claim "sub": the peer id
  std::string displayName;  ///< claim "name"
  Grants grants;            ///< claim "grants"
  int64_t issuedAt = 0;     ///< claim "iat", Unix seconds
  int64_t expiresAt = 0;    ///< claim "exp", Unix seconds
};

/// Audience of peer tokens (claim "aud"), so a control-link token never opens a room.
inline constexpr std::string_view PeerAudience = "rtc";

/// base64url without padding (RFC 4648 §5), as JWS requires (RFC 7515 §2).
std::string base64UrlEncode(std::string_view data);
/// Strict decoder: refuses padding, characters outside the URL alphabet and impossible lengths.
Result<std::string> base64UrlDecode(std::string_view text);

/// Signs any JSON object as an HS256 JWS. `payload` must be an object.
Result<std::string> signJwt(const nlohmann::json& payload, std::string_view secret);
/// Checks structure, alg and signature (not times) and returns the payload object.
Result<nlohmann::json> verifyJwt(std::string_view token, std::string_view secret);

/// Issues a peer token. `claims.issuedAt` and `expiresAt` must be set by the caller (time is
/// injected); room and identity must be non-empty.
Result<std::string> signAccessToken(const AccessClaims& claims, std::string_view secret);

/// Verifies a peer token at `nowSeconds` (Unix). `leewaySeconds` tolerates clock skew on iat.
Result<AccessClaims> verifyAccessToken(std::string_view token, std::string_view secret, int64_t nowSeconds,
                                       int64_t leewaySeconds = 60);

}  // namespace meeting::token
