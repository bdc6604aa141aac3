#include "common/SignedUrl.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>

#include "common/AccessToken.hpp"

namespace meeting::signedurl {

namespace {

// Bumped if the canonical string ever changes, so old URLs fail closed instead of meaning
// something else.
constexpr std::string_view CanonicalTag = "meeting-fs-v1";
// Grants with a subject get their own tag, so a v1 string (no subject line) can never be read as
// one with a subject or the other way round; grants without one keep the v1 string and old URLs.
constexpr std::string_view CanonicalSubjectTag = "meeting-fs-v2";
constexpr size_t MacBytes = 32;       // SHA-256
constexpr size_t MaxFieldBytes = 256;  // any one decoded value

Error fail(const char* code, std::string message) { return makeError(code, std::move(message)); }

bool isUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

std::string canonical(std::string_view op, std::string_view id, std::string_view room, uint64_t maxBytes,
                      int64_t expiresAt, std::string_view subject) {
  std::string s;
  s.reserve(CanonicalSubjectTag.size() + op.size() + id.size() + room.size() + subject.size() + 48);
  s.append(subject.empty() ? CanonicalTag : CanonicalSubjectTag).append("\n");
  s.append(op).append("\n").append(id).append("\n").append(room).append("\n");
  s.append(std::to_string(maxBytes)).append("\n").append(std::to_string(expiresAt));
  if (!subject.empty()) s.append("\n").append(subject);  // no '\n' inside: isValidSubject
  return s;
}

// RFC 3986 §2.1: everything outside the unreserved set is percent-encoded.
void appendEncoded(std::string& out, std::string_view value) {
  static constexpr char Hex[] = "0123456789ABCDEF";
  for (unsigned char c : value) {
    if (isUnreserved(static_cast<char>(c))) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(Hex[c >> 4]);
      out.push_back(Hex[c & 15]);
    }
  }
}

std::array<unsigned char, MacBytes> mac(std::string_view data, std::string_view secret) {
  std::array<unsigned char, MacBytes> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out.data(), &len);
  return out;
}

// Strict unsigned decimal: no sign, no leading zeros (except "0"), fits the type.
template <typename T>
bool parseDecimal(std::string_view text, T& out) {
  if (text.empty() || text.size() > 19 || (text.size() > 1 && text[0] == '0')) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding bounded by MaxFieldBytes; '+' is a space as in form encoding.
std::optional<std::string> decode(std::string_view text) {
  if (text.size() > MaxFieldBytes * 3) return std::nullopt;
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = hexValue(text[i + 1]), lo = hexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c == '+' ? ' ' : c);
    }
  }
  if (out.size() > MaxFieldBytes) return std::nullopt;
  return out;
}

}  // namespace

std::string_view operationName(Operation op) {
  switch (op) {
    case Operation::Upload: return "upload";
    case Operation::Download: return "download";
    case Operation::Delete: return "delete";
    case Operation::MinutesRead: return "minutes-read";
    case Operation::MinutesWrite: return "minutes-write";
    case Operation::Confirm: return "confirm";
  }
  return "?";
}

std::optional<Operation> parseOperation(std::string_view name) {
  for (auto op : {Operation::Upload, Operation::Download, Operation::Delete, Operation::MinutesRead,
                  Operation::MinutesWrite, Operation::Confirm}) {
    if (operationName(op) == name) return op;
  }
  return std::nullopt;
}

bool isValidFileId(std::string_view id) {
  if (id.size() != FileIdLength) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool isValidRoom(std::string_view room) {
  // The apiserver's id alphabet (RFC 3986 unreserved). "." and ".." are refused because the
  // fsserver names a directory after the room.
  if (room.empty() || room.size() > MaxRoomBytes || room == "." || room == "..") return false;
  for (char c : room) {
    if (!isUnreserved(c)) return false;
  }
  return true;
}

bool isValidSubject(std::string_view subject) {
  if (subject.size() > MaxSubjectBytes) return false;
  for (unsigned char c : subject) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

static bool isValidResource(std::string_view id) { return id == MinutesId || isValidFileId(id); }

Result<std::string> sign(const Grant& grant, std::string_view secret) {
  if (secret.empty()) return fail(errc::NoSecret, "refusing to sign with an empty secret");
  if (!isValidResource(grant.id)) return fail(errc::Malformed, "id: not a file id or \"minutes\"");
  if (!isValidRoom(grant.room)) return fail(errc::Malformed, "room: not a valid room id");
  if (grant.expiresAt <= 0) return fail(errc::Malformed, "exp: must be positive");
  if (!isValidSubject(grant.subject)) return fail(errc::Malformed, "sub: too long or has control characters");
  auto op = operationName(grant.op);
  auto m = mac(canonical(op, grant.id, grant.room, grant.maxBytes, grant.expiresAt, grant.subject), secret);
  std::string sig = token::base64UrlEncode(std::string_view(reinterpret_cast<const char*>(m.data()), m.size()));
  std::string q;
  q.append("op=").append(op).append("&id=").append(grant.id).append("&room=").append(grant.room);
  q.append("&max=").append(std::to_string(grant.maxBytes)).append("&exp=").append(std::to_string(grant.expiresAt));
  if (!grant.subject.empty()) appendEncoded(q.append("&sub="), grant.subject);
  q.append("&sig=").append(sig);
  return q;
}

Result<Fields> parseQuery(std::string_view query) {
  if (query.size() > MaxQueryBytes) return fail(errc::Malformed, "query longer than " + std::to_string(MaxQueryBytes));
  Fields f;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::optional<std::string>* slot = nullptr;
    if (key == "op") slot = &f.op;
    else if (key == "id") slot = &f.id;
    else if (key == "room") slot = &f.room;
    else if (key == "max") slot = &f.max;
    else if (key == "exp") slot = &f.exp;
    else if (key == "sig") slot = &f.sig;
    else if (key == "sub") slot = &f.sub;
    if (!slot) continue;  // other parameters (e.g. a file name) are not ours to judge
    if (slot->has_value()) return fail(errc::Malformed, std::string(key) + ": given twice");
    auto value = decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!value) return fail(errc::Malformed, std::string(key) + ": bad percent-encoding or too long");
    *slot = std::move(*value);
  }
  return f;
}

Result<Grant> verify(const Fields& f, Operation expected, std::string_view expectedId, std::string_view secret,
                     int64_t nowSeconds) {
  if (secret.empty()) return fail(errc::NoSecret, "refusing to verify with an empty secret");
  if (!f.sig || !f.op || !f.id || !f.room || !f.exp || !f.max) {
    return fail(errc::Missing, "the URL is not signed (needs op, id, room, max, exp and sig)");
  }
  Grant g;
  auto op = parseOperation(*f.op);
  if (!op) return fail(errc::Malformed, "op: unknown operation");
  g.op = *op;
  if (!isValidResource(*f.id)) return fail(errc::Malformed, "id: not a file id");
  if (!isValidRoom(*f.room)) return fail(errc::Malformed, "room: not a valid room id");
  if (!parseDecimal(*f.max, g.maxBytes)) return fail(errc::Malformed, "max: not a decimal size");
  if (!parseDecimal(*f.exp, g.expiresAt)) return fail(errc::Malformed, "exp: not a decimal time");
  // An empty sub= is not a way to a second spelling of "no subject": refused.
  if (f.sub && (f.sub->empty() || !isValidSubject(*f.sub))) return fail(errc::Malformed, "sub: not a valid subject");
  const std::string_view subject = f.sub ? std::string_view(*f.sub) : std::string_view{};
  auto given = token::base64UrlDecode(*f.sig);
  if (!given || given->size() != MacBytes) return fail(errc::Malformed, "sig: not a base64url HMAC-SHA256");
  auto want = mac(canonical(*f.op, *f.id, *f.room, g.maxBytes, g.expiresAt, subject), secret);
  // RFC 2104 §5 / timing: CRYPTO_memcmp takes the same time wherever the first difference is.
  if (CRYPTO_memcmp(want.data(), given->data(), MacBytes) != 0) {
    return fail(errc::BadSignature, "the signature does not match the URL");
  }
  g.id = *f.id;
  g.room = *f.room;
  g.subject = std::string(subject);
  if (nowSeconds >= g.expiresAt) return fail(errc::Expired, "the URL expired");
  if (g.op != expected) {
    return fail(errc::WrongOperation, "the URL grants " + std::string(operationName(g.op)) + ", not " +
                                          std::string(operationName(expected)));
  }
  if (g.id != expectedId) return fail(errc::WrongResource, "the URL was signed for another resource");
  return g;
}

Result<Grant> verifyQuery(std::string_view query, Operation expected, std::string_view expectedId,
                          std::string_view secret, int64_t nowSeconds) {
  auto fields = parseQuery(query);
  if (!fields) return fields.error();
  return verify(*fields, expected, expectedId, secret, nowSeconds);
}

std::string newFileId() {
  std::array<unsigned char, FileIdLength / 2> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    // The CSPRNG failing is not recoverable: an id must never be guessable.
    std::abort();
  }
  static constexpr char Hex[] = "0123456789abcdef";
  std::string id;
  id.reserve(FileIdLength);
  for (auto b : raw) {
    id.push_back(Hex[b >> 4]);
    id.push_back(Hex[b & 15]);
  }
  return id;
}

}  // namespace meeting::signedurl
