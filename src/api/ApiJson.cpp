#include "api/ApiJson.hpp"

#include <algorithm>

#include "api/db/Storage.hpp"

namespace meeting::api {

using nlohmann::json;

namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Deepest nesting accepted in a request body. The parser is iterative, but serializing and
// walking a value recurse, so a 64 KiB body of '[' must not reach them.
constexpr int MaxDepth = 32;

bool nestedTooDeep(std::string_view text) {
  int depth = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\') ++i;
      else if (c == '"') inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > MaxDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

}  // namespace

net::HttpResponse errorResponse(http::status status, const std::string& code, const std::string& message,
                                const std::string& field) {
  json error = {{"code", code}, {"message", message}};
  if (!field.empty()) error["field"] = field;
  auto res = net::jsonResponse(status, dump(json{{"error", error}}));
  if (status == http::status::service_unavailable) res.set(http::field::retry_after, "5");
  return res;
}

net::HttpResponse fieldError(const std::string& field, const std::string& message) {
  return errorResponse(http::status::bad_request, "invalid_field", field + ": " + message, field);
}

net::HttpResponse storageError(const Error& error) {
  if (error.code == db::errc::NotFound) return errorResponse(http::status::not_found, error.code, error.message);
  if (error.code == db::errc::Conflict) return errorResponse(http::status::conflict, error.code, error.message);
  if (error.code == db::errc::InvalidField) {
    std::string field = error.message.substr(0, std::min(error.message.find(':'), error.message.size()));
    return errorResponse(http::status::bad_request, error.code, error.message, field);
  }
  if (error.code == db::errc::Unavailable) {
    return errorResponse(http::status::service_unavailable, error.code, error.message);
  }
  return errorResponse(http::status::internal_server_error, "internal", "internal error");
}

net::HttpResponse jsonOk(http::status status, const json& body) { return net::jsonResponse(status, dump(body)); }

std::optional<BodyReader> BodyReader::parse(const std::string& body, std::initializer_list<const char*> allowed,
                                            net::HttpResponse& error) {
  if (nestedTooDeep(body)) {
    error = errorResponse(http::status::bad_request, "invalid_json", "the body nests deeper than 32 levels");
    return std::nullopt;
  }
  json object = body.empty() ? json::object() : json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) {
    error = errorResponse(http::status::bad_request, "invalid_json", "the body is not valid JSON");
    return std::nullopt;
  }
  if (!object.is_object()) {
    error = errorResponse(http::status::bad_request, "invalid_json", "the body must be a JSON object");
    return std::nullopt;
  }
  for (const auto& [key, value] : object.items()) {
    if (std::none_of(allowed.begin(), allowed.end(), [&key = key](const char* a) { return key == a; })) {
      error = fieldError(key.size() > 64 ? key.substr(0, 64) : key, "unknown field");
      return std::nullopt;
    }
  }
  return BodyReader(std::move(object), "");
}

bool BodyReader::fail(const char* key, const std::string& message) {
  error_ = fieldError(prefix_ + key, message);
  return false;
}

const json* BodyReader::find(const char* key) const {
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool BodyReader::string(const char* key, std::optional<std::string>& out, size_t maxBytes) {
  const json* v = find(key);
  if (!v) return true;
  if (!v->is_string()) return fail(key, "must be a string");
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > maxBytes) return fail(key, "longer than " + std::to_string(maxBytes) + " bytes");
  out = s;
  return true;
}

bool BodyReader::integer(const char* key, std::optional<int64_t>& out, int64_t min, int64_t max) {
  const json* v = find(key);
  if (!v) return true;
  std::string range = "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!v->is_number_integer()) return fail(key, range);
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max)) return fail(key, range);
  int64_t n = v->get<int64_t>();
  if (n < min || n > max) return fail(key, range);
  out = n;
  return true;
}

bool BodyReader::boolean(const char* key, std::optional<bool>& out) {
  const json* v = find(key);
  if (!v) return true;
  if (!v->is_boolean()) return fail(key, "must be true or false");
  out = v->get<bool>();
  return true;
}

bool BodyReader::stringList(const char* key, std::vector<std::string>& out, size_t maxItems, size_t maxBytes) {
  const json* v = find(key);
  if (!v) return true;
  if (!v->is_array()) return fail(key, "must be an array of strings");
  if (v->size() > maxItems) return fail(key, "more than " + std::to_string(maxItems) + " items");
  for (const auto& item : *v) {
    if (!item.is_string() || item.get_ref<const std::string&>().size() > maxBytes) {
      return fail(key, "items must be strings of at most " + std::to_string(maxBytes) + " bytes");
    }
    out.push_back(item.get<std::string>());
  }
  return true;
}

bool BodyReader::value(const char* key, json& out, size_t maxBytes) {
  const json* v = find(key);
  if (!v) return true;
  if (dump(*v).size() > maxBytes) return fail(key, "larger than " + std::to_string(maxBytes) + " bytes");
  out = *v;
  return true;
}

bool BodyReader::object(const char* key, std::optional<BodyReader>& out, std::initializer_list<const char*> allowed) {
  const json* v = find(key);
  if (!v) return true;
  if (!v->is_object()) return fail(key, "must be an object");
  for (const auto& [k, value] : v->items()) {
    if (std::none_of(allowed.begin(), allowed.end(), [&k = k](const char* a) { return k == a; })) {
      return fail((std::string(key) + "." + (k.size() > 64 ? k.substr(0, 64) : k)).c_str(), "unknown field");
    }
  }
  out = BodyReader(*v, prefix_ + key + ".");
  return true;
}

bool isValidId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
  });
}

bool isValidEmail(const std::string& email) {
  if (email.size() < 3 || email.size() > 254) return false;
  auto at = email.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= email.size() || email.find('@', at + 1) != std::string::npos) {
    return false;
  }
  return std::none_of(email.begin(), email.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';';
  });
}

json roomConfigJson(const db::Room& room) {
  auto optional = [](const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); };
  return {{"max_peers", optional(room.maxPeers)},
          {"video_codec", room.videoCodec.empty() ? json(nullptr) : json(room.videoCodec)},
          {"webhook_url", room.webhookUrl.empty() ? json(nullptr) : json(room.webhookUrl)},
          {"peerless_purge_timeout", optional(room.peerlessPurgeTimeout)},
          {"peer_disconnected_timeout", optional(room.peerDisconnectedTimeout)}};
}

json meetingJson(const db::Meeting& m, const std::string& joinUrl) {
  return {{"id", m.id},
          {"kind", m.beginAt == 0 && m.endAt == 0 ? "instant" : "scheduled"},
          {"room_id", m.roomId},
          {"title", m.title},
          {"owner_email", m.ownerEmail},
          {"begin_at", m.beginAt / 1000},
          {"end_at", m.endAt / 1000},
          {"invitees", m.invitees},
          {"join_code", m.joinCode},
          {"join_url", joinUrl},
          {"waiting_room", m.waitingRoom},
          {"sfu", m.sfu},
          {"turn", m.turn},
          {"created_at", m.createdAt},
          {"updated_at", m.updatedAt}};
}

json roomSessionJson(const db::RoomSession& s) {
  return {{"id", s.id}, {"room_id", s.roomId}, {"started_at", s.startedAt}, {"ended_at", s.endedAt == 0 ? json(nullptr) : json(s.endedAt)}};
}

json userSessionJson(const db::UserSession& s) {
  return {{"id", s.id},
          {"session_id", s.roomSessionId},
          {"peer_id", s.peerId},
          {"display_name", s.displayName},
          {"joined_at", s.joinedAt},
          {"left_at", s.leftAt == 0 ? json(nullptr) : json(s.leftAt)},
          {"leave_reason", s.leaveReason}};
}

json messageJson(const db::Message& m) {
  return {{"id", m.id}, {"session_id", m.roomSessionId}, {"room_id", m.roomId}, {"peer_id", m.peerId},
          {"display_name", m.displayName}, {"text", m.text}, {"sent_at", m.sentAt}};
}

json feedbackJson(const db::Feedback& f) {
  return {{"id", f.id}, {"session_id", f.roomSessionId}, {"peer_id", f.peerId},
          {"rating", f.rating}, {"comment", f.comment}, {"created_at", f.createdAt}};
}

}  // namespace meeting::api
