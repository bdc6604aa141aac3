#pragma once
// Random identifiers and hashes for the storage layer, all from OpenSSL (no home-made crypto).
#include <string>
#include <string_view>

namespace meeting::api::db::secrets {

/// RFC 9562 §5.4 version-4 UUID in lower-case text form.
std::string uuid4();
/// `length` characters drawn uniformly from `alphabet` using OpenSSL's CSPRNG.
std::string randomString(size_t length, std::string_view alphabet);
/// Lower-case hex SHA-256 of `data`.
std::string sha256Hex(std::string_view data);

}  // namespace meeting::api::db::secrets
