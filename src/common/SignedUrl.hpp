#pragma once
// Signed, expiring file URLs. The apiserver grants one operation on one resource (a file id or a
// room's minutes) with a size limit and an expiry, as query parameters MACed with HMAC-SHA256
// under the cluster --secret (design.md §6); the fsserver verifies them before touching disk.
//
//   op=upload&id=<32 hex>&room=<room>&max=<bytes>&exp=<unix seconds>[&sub=<who>]&sig=<base64url MAC>
//
// The MAC covers a canonical string of every field (version tag, op, id, room, max, exp and, when
// present, sub, joined by '\n'), so no field can be changed, dropped or moved to another URL. Verification is bounded,
// never throws, compares MACs in constant time and reports one stable code per failure.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/Result.hpp"

namespace meeting::signedurl {

/// What a URL lets its holder do.
/// Confirm: the apiserver recorded the upload (`POST /fs/v1/files/{id}/confirm`); uploads never
/// confirmed are removed by the fsserver after a bound (docs/fs.md).
enum class Operation { Upload, Download, Delete, MinutesRead, MinutesWrite, Confirm };

/// The grant carried by a signed URL.
struct Grant {
  Operation op = Operation::Download;
  std::string id;          ///< file id (FileIdLength lowercase hex) or "minutes"
  std::string room;        ///< the room the resource belongs to (quota, minutes)
  uint64_t maxBytes = 0;   ///< upload size limit; 0 for other operations
  int64_t expiresAt = 0;   ///< Unix seconds; the URL is refused from this second on
  /// Who the grant was made for (an upload's uploader, a minutes save's author), as the apiserver
  /// authenticated them; empty: nobody in particular. Signed like the rest, so the fsserver can
  /// record it as fact.
  std::string subject;
};

/// Stable error codes carried in Error::code.
namespace errc {
inline constexpr const char* Missing = "signature_missing";          ///< no sig (or no exp/op/id)
inline constexpr const char* Malformed = "signature_malformed";      ///< a field is out of its syntax
inline constexpr const char* BadSignature = "signature_invalid";     ///< MAC mismatch: tampered or other secret
inline constexpr const char* Expired = "signature_expired";          ///< now >= exp
inline constexpr const char* WrongOperation = "signature_wrong_operation";
inline constexpr const char* WrongResource = "signature_wrong_resource";  ///< signed for another id/room
inline constexpr const char* NoSecret = "signature_no_secret";       ///< empty secret: refuse to sign/verify
}  // namespace errc

inline constexpr size_t FileIdLength = 32;        ///< 128 random bits in hex
inline constexpr size_t MaxRoomBytes = 128;
inline constexpr size_t MaxSubjectBytes = 200;    ///< printable UTF-8 (no control characters)
inline constexpr size_t MaxQueryBytes = 2048;     ///< longer queries are refused before parsing
inline constexpr std::string_view MinutesId = "minutes";

std::string_view operationName(Operation op);
std::optional<Operation> parseOperation(std::string_view name);

/// True for a well-formed file id: exactly FileIdLength characters of [0-9a-f].
bool isValidFileId(std::string_view id);
/// True for a room id we accept in a grant: 1..MaxRoomBytes printable ASCII, no '/', '\\', '%'.
bool isValidRoom(std::string_view room);
/// True for a grant subject: at most MaxSubjectBytes, no control characters (empty is valid).
bool isValidSubject(std::string_view subject);

/// The signed query string for `grant` (without a leading '?'). Fails on an empty secret or a
/// grant whose fields are out of syntax.
Result<std::string> sign(const Grant& grant, std::string_view secret);

/// The raw fields of a query string, split on '&' and '=' and percent-decoded; unknown keys are
/// ignored, a repeated known key makes the query malformed.
struct Fields {
  std::optional<std::string> op, id, room, max, exp, sig, sub;
};
Result<Fields> parseQuery(std::string_view query);

/// Verifies `fields` for `expected` operation on resource `expectedId` at `nowSeconds`. The MAC is
/// checked before anything the URL claims (expiry, operation) is believed.
Result<Grant> verify(const Fields& fields, Operation expected, std::string_view expectedId,
                     std::string_view secret, int64_t nowSeconds);

/// parseQuery + verify.
Result<Grant> verifyQuery(std::string_view query, Operation expected, std::string_view expectedId,
                          std::string_view secret, int64_t nowSeconds);

/// A new random file id (OpenSSL RAND_bytes), FileIdLength hex characters.
std::string newFileId();

}  // namespace meeting::signedurl
