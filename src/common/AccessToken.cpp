#include "common/AccessToken.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

namespace meeting::token {
namespace {

using nlohmann::json;

constexpr char Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int decodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Serialization never throws: invalid UTF-8 in a claim is replaced rather than rejected.
std::string dumpCompact(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

std::array<unsigned char, 32> hmacSha256(std::string_view secret, std::string_view data) {
  std::array<unsigned char, 32> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac.data(), &length);
  return mac;
}

Error fail(const char* code, std::string message) { return makeError(code, std::move(message)); }

// Parses a base64url JSON object; empty optional-like Result on any defect.
Result<json> decodeObject(std::string_view part, const char* what) {
  auto raw = base64UrlDecode(part);
  if (!raw) return fail(errc::Malformed, std::string(what) + ": not base64url");
  json value = json::parse(raw->begin(), raw->end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) return fail(errc::Malformed, std::string(what) + ": not a JSON object");
  return value;
}

// Reads an optional field of the expected type; a present field of another type is malformed.
template <typename T>
bool readField(const json& object, const char* key, T& out, bool required) {
  auto it = object.find(key);
  if (it == object.end()) return !required;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return false;
    out = it->template get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return false;
    out = it->template get<bool>();
  } else {
    if (!it->is_number_integer()) return false;
    out = it->template get<int64_t>();
  }
  return true;
}

}  // namespace

std::string base64UrlEncode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(data[k])); };
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += Alphabet[v >> 18 & 63];
    out += Alphabet[v >> 12 & 63];
    out += Alphabet[v >> 6 & 63];
    out += Alphabet[v & 63];
  }
  size_t rest = data.size() - i;
  if (rest == 1) {
    uint32_t v = byte(i) << 16;
    out += Alphabet[v >> 18 & 63];
    out += Alphabet[v >> 12 & 63];
  } else if (rest == 2) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
    out += Alphabet[v >> 18 & 63];
    out += Alphabet[v >> 12 & 63];
    out += Alphabet[v >> 6 & 63];
  }
  return out;
}

Result<std::string> base64UrlDecode(std::string_view text) {
  // RFC 4648 §5 without padding: a final group of 1 character cannot encode a byte.
  if (text.size() % 4 == 1) return fail(errc::Malformed, "base64url: impossible length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = decodeChar(c);
    if (v < 0) return fail(errc::Malformed, "base64url: invalid character");
    acc = (acc << 6 | static_cast<uint32_t>(v)) & 0xFFFFFF;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>(acc >> bits & 0xFF);
    }
  }
  // Leftover bits must be zero, so every token has exactly one encoding (no malleability).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return fail(errc::Malformed, "base64url: non-canonical ending");
  return out;
}

Result<std::string> signJwt(const json& payload, std::string_view secret) {
  if (secret.empty()) return fail(errc::NoSecret, "no secret configured to sign tokens");
  if (!payload.is_object()) return fail(errc::Malformed, "payload must be a JSON object");
  static const std::string header = base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  std::string signingInput = header + "." + base64UrlEncode(dumpCompact(payload));
  auto mac = hmacSha256(secret, signingInput);
  return signingInput + "." +
         base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

Result<json> verifyJwt(std::string_view token, std::string_view secret) {
  if (secret.empty()) return fail(errc::NoSecret, "no secret configured to verify tokens");
  if (token.empty() || token.size() > MaxTokenBytes) return fail(errc::Malformed, "token empty or too long");
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return fail(errc::Malformed, "token must have three parts");
  }
  auto header = decodeObject(token.substr(0, first), "header");
  if (!header) return header.error();
  // RFC 8725 §3.1: the algorithm is fixed by us, never taken from the token.
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string()) return fail(errc::Malformed, "header: no alg");
  if (alg->get<std::string>() != "HS256") return fail(errc::WrongAlg, "alg must be HS256");
  auto signature = base64UrlDecode(token.substr(second + 1));
  if (!signature || signature->size() != 32) return fail(errc::Malformed, "signature: not a 32-byte base64url MAC");
  auto mac = hmacSha256(secret, token.substr(0, second));
  if (CRYPTO_memcmp(mac.data(), signature->data(), mac.size()) != 0) {
    return fail(errc::BadSignature, "signature does not match");
  }
  return decodeObject(token.substr(first + 1, second - first - 1), "payload");
}

Result<std::string> signAccessToken(const AccessClaims& claims, std::string_view secret) {
  if (claims.room.empty() || claims.identity.empty()) return fail(errc::Malformed, "room and identity are required");
  json payload = {
      {"aud", PeerAudience},
      {"room", claims.room},
      {"sub", claims.identity},
      {"name", claims.displayName},
      {"grants",
       {{"canPublish", claims.grants.canPublish},
        {"canSubscribe", claims.grants.canSubscribe},
        {"canPublishData", claims.grants.canPublishData},
        {"roomAdmin", claims.grants.roomAdmin}}},
      {"iat", claims.issuedAt},
      {"exp", claims.expiresAt},
  };
  return signJwt(payload, secret);
}

Result<AccessClaims> verifyAccessToken(std::string_view token, std::string_view secret, int64_t nowSeconds,
                                       int64_t leewaySeconds) {
  auto payload = verifyJwt(token, secret);
  if (!payload) return payload.error();
  const json& p = *payload;
  std::string audience;
  if (!readField(p, "aud", audience, true)) return fail(errc::Malformed, "aud: missing or not a string");
  if (audience != PeerAudience) return fail(errc::WrongAudience, "token is not a peer token");
  AccessClaims claims;
  if (!readField(p, "room", claims.room, true) || claims.room.empty()) return fail(errc::Malformed, "room: missing");
  if (!readField(p, "sub", claims.identity, true) || claims.identity.empty()) return fail(errc::Malformed, "sub: missing");
  if (!readField(p, "name", claims.displayName, false)) return fail(errc::Malformed, "name: not a string");
  if (!readField(p, "iat", claims.issuedAt, true)) return fail(errc::Malformed, "iat: missing or not an integer");
  if (!readField(p, "exp", claims.expiresAt, true)) return fail(errc::Malformed, "exp: missing or not an integer");
  auto grants = p.find("grants");
  if (grants != p.end()) {
    if (!grants->is_object()) return fail(errc::Malformed, "grants: not an object");
    Grants& g = claims.grants;
    if (!readField(*grants, "canPublish", g.canPublish, false) ||
        !readField(*grants, "canSubscribe", g.canSubscribe, false) ||
        !readField(*grants, "canPublishData", g.canPublishData, false) ||
        !readField(*grants, "roomAdmin", g.roomAdmin, false)) {
      return fail(errc::Malformed, "grants: values must be booleans");
    }
  }
  // RFC 7519 §4.1.4: reject at or after exp.
  if (nowSeconds >= claims.expiresAt) return fail(errc::Expired, "token expired");
  if (claims.issuedAt > nowSeconds + leewaySeconds) return fail(errc::NotYetValid, "token issued in the future");
  return claims;
}

}  // namespace meeting::token
