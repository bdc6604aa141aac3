#pragma once
// What the HTTP access log may print (implemented in HttpServer.cpp, which writes the log).
#include <string>
#include <string_view>

namespace meeting::net {

/// A request target as the access log prints it: the segment after /monitoring/ (the report
/// password) and the values of the token, access_token and sig query parameters (bearer
/// credentials) become "<redacted>", so log files hold no secret.
std::string redactTargetForLog(std::string_view target);

}  // namespace meeting::net
