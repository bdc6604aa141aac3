#pragma once
// JSON in and out of the REST API: error bodies that name the offending field, a bounded reader
// for request bodies that refuses unknown fields and wrong types, and the resource views.
#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "api/db/Records.hpp"
#include "common/Result.hpp"
#include "net/HttpRouter.hpp"

namespace meeting::api {

namespace http = net::http;

/// `{"error": {"code", "message"[, "field"]}}`; 503s carry Retry-After.
net::HttpResponse errorResponse(http::status status, const std::string& code, const std::string& message,
                                const std::string& field = {});
/// 400 invalid_field naming `field`.
net::HttpResponse fieldError(const std::string& field, const std::string& message);
/// Maps a storage / allocation Error to its HTTP status (not_found 404, conflict 409,
/// invalid_field 400, unavailable 503 + Retry-After, anything else 500).
net::HttpResponse storageError(const Error& error);
net::HttpResponse jsonOk(http::status status, const nlohmann::json& body);

/// Reads a JSON object body field by field. Every accessor returns false once a field is bad;
/// `error()` then holds the 400 response naming it.
class BodyReader {
 public:
  /// Parses `body` ("" counts as {}); fails on invalid JSON, a non-object, or a field not in `allowed`.
  static std::optional<BodyReader> parse(const std::string& body, std::initializer_list<const char*> allowed,
                                         net::HttpResponse& error);

  bool string(const char* key, std::optional<std::string>& out, size_t maxBytes);
  bool integer(const char* key, std::optional<int64_t>& out, int64_t min, int64_t max);
  bool boolean(const char* key, std::optional<bool>& out);
  bool stringList(const char* key, std::vector<std::string>& out, size_t maxItems, size_t maxBytes);
  /// Any JSON value, serialized to at most `maxBytes`.
  bool value(const char* key, nlohmann::json& out, size_t maxBytes);
  /// A nested object, for sub-readers.
  bool object(const char* key, std::optional<BodyReader>& out, std::initializer_list<const char*> allowed);

  const net::HttpResponse& error() const { return error_; }

 private:
  BodyReader(nlohmann::json object, std::string prefix) : object_(std::move(object)), prefix_(std::move(prefix)) {}
  bool fail(const char* key, const std::string& message);
  const nlohmann::json* find(const char* key) const;

  nlohmann::json object_;
  std::string prefix_;  // "room." for nested objects, so errors name the full path
  net::HttpResponse error_;
};

/// Identifiers in paths and bodies: 1..128 bytes of [A-Za-z0-9._~-] (URL-safe, log-safe).
bool isValidId(const std::string& id);
/// A plausible e-mail address (one '@', non-empty parts, no spaces or controls, <= 254 bytes).
bool isValidEmail(const std::string& email);

nlohmann::json roomConfigJson(const db::Room& room);
nlohmann::json meetingJson(const db::Meeting& meeting, const std::string& joinUrl);
nlohmann::json roomSessionJson(const db::RoomSession& session);
nlohmann::json userSessionJson(const db::UserSession& session);
nlohmann::json messageJson(const db::Message& message);
nlohmann::json feedbackJson(const db::Feedback& feedback);

}  // namespace meeting::api
