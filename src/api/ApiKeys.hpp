#pragma once
// API keys outside the HTTP path: which database the flags name, the all-in-one's first-start key
// (kept in the data folder), and the `meeting ctl apikey` commands.
#include <iosfwd>
#include <string>
#include <vector>

#include "api/db/Storage.hpp"
#include "common/Config.hpp"

namespace meeting::api {

/// `sqlite:<data>/meeting.db`, or `mysql://user:password@host:port/database` from the flags.
std::string storageUrl(const Config& config);

/// Name of the file in the data folder that holds the all-in-one's generated key.
inline constexpr const char* DefaultKeyFile = "api-key";

/// When the database has no valid key, creates one named "default", writes its secret to
/// `<dataDir>/api-key` (mode 0600) and prints it to `out`. Otherwise prints where the key is.
Result<void> ensureDefaultApiKey(db::ApiKeyStore& keys, const std::string& dataDir, std::ostream& out);

/// `meeting ctl apikey create NAME | list | revoke ID` against the database named by `config`.
/// Returns the exit code; output goes to `out`, errors to `err`.
int runApiKeyCommand(const std::vector<std::string>& args, const Config& config, std::ostream& out, std::ostream& err);

/// `meeting ctl files ROOM` against the database named by `config`: the room's live files, one
/// per line (id, name, type, size, SHA-256, uploader, created). Returns the exit code.
int runFilesCommand(const std::string& room, const Config& config, std::ostream& out, std::ostream& err);

}  // namespace meeting::api
