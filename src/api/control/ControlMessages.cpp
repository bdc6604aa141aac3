#include "api/control/ControlMessages.hpp"

#include "common/AccessToken.hpp"

namespace meeting::api::control {
namespace {

using nlohmann::json;

// Bounded field readers: a present field of the wrong type or over its size limit fails the message.
bool getString(const json& o, const char* key, std::string& out, size_t maxBytes = MaxKeyBytes) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > maxBytes) return false;
  out = s;
  return true;
}

bool getInt(const json& o, const char* key, int64_t& out, int64_t min = 0, int64_t max = INT64_MAX) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return true;
  if (!it->is_number_integer()) return false;
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return false;
  int64_t v = it->get<int64_t>();
  if (v < min || v > max) return false;
  out = v;
  return true;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

bool parseBody(ControlMessage& m, const std::string& type, const json& o) {
  using T = ControlMessage::Type;
  if (type == "register") {
    m.type = T::Register;
    int64_t version = 0;
    if (!getInt(o, "version", version, 0, 1000)) return false;
    m.version = static_cast<int>(version);
    return getString(o, "id", m.node.id) && !m.node.id.empty() && getString(o, "role", m.node.role) &&
           (m.node.role == "sfu" || m.node.role == "turn" || m.node.role == "fs") &&
           getString(o, "address", m.node.address) && getString(o, "ws_url", m.node.wsUrl, 1024) &&
           getInt(o, "capacity", m.node.capacity);
  }
  if (type == "registered") {
    m.type = T::Registered;
    return getInt(o, "heartbeat_ms", m.heartbeatMs, 1, 3'600'000) && getInt(o, "down_after_ms", m.downAfterMs, 1, 3'600'000);
  }
  if (type == "load") {
    m.type = T::Load;
    if (auto report = o.find("report"); report != o.end() && !report->is_null()) {
      if (!report->is_object()) return false;
      m.load.report = std::make_shared<const json>(*report);  // the message size bounds it
    }
    return getInt(o, "load", m.load.load) && getInt(o, "rooms", m.load.rooms) && getInt(o, "peers", m.load.peers);
  }
  if (type == "event") {
    m.type = T::Event;
    NodeEvent& e = m.event;
    if (!getString(o, "event", e.event) || e.event.empty() || !getString(o, "room", e.room) ||
        !getString(o, "peer", e.peer) || !getString(o, "display_name", e.displayName) ||
        !getString(o, "reason", e.reason) || !getString(o, "text", e.text, MaxTextBytes) ||
        !getInt(o, "sent_at", e.sentAt)) {
      return false;
    }
    if (auto t = o.find("track"); t != o.end() && !t->is_null()) {
      if (!t->is_object() || !getString(*t, "id", e.track.id) || !getString(*t, "kind", e.track.kind) ||
          !getString(*t, "source", e.track.source)) {
        return false;
      }
    }
    if (auto md = o.find("metadata"); md != o.end()) e.metadata = *md;
    return true;
  }
  if (type == "command") {
    m.type = T::Command;
    Command& c = m.command;
    int64_t id = 0;
    if (!getInt(o, "id", id) || !getString(o, "command", c.command) || c.command.empty() ||
        !getString(o, "room", c.room) || !getString(o, "peer", c.peer) ||
        !getString(o, "display_name", c.displayName)) {
      return false;
    }
    c.id = static_cast<uint64_t>(id);
    if (auto rc = o.find("room_config"); rc != o.end() && !rc->is_null()) {
      if (!rc->is_object()) return false;
      c.roomConfig = *rc;
    }
    if (auto md = o.find("metadata"); md != o.end()) c.metadata = *md;
    return true;
  }
  if (type == "ack") {
    m.type = T::Ack;
    int64_t id = 0;
    if (!getInt(o, "id", id) || !getString(o, "error", m.ack.error, MaxTextBytes)) return false;
    m.ack.id = static_cast<uint64_t>(id);
    auto ok = o.find("ok");
    if (ok == o.end() || !ok->is_boolean()) return false;
    m.ack.ok = ok->get<bool>();
    return true;
  }
  if (type == "error") {
    m.type = T::Error;
    return getString(o, "code", m.errorCode) && getString(o, "message", m.errorMessage, MaxTextBytes);
  }
  return false;
}

}  // namespace

std::optional<ControlMessage> parseControlMessage(std::string_view text) {
  if (text.empty() || text.size() > MaxMessageBytes) return std::nullopt;
  json o = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (o.is_discarded() || !o.is_object()) return std::nullopt;
  auto type = o.find("type");
  if (type == o.end() || !type->is_string()) return std::nullopt;
  ControlMessage m;
  if (!parseBody(m, type->get<std::string>(), o)) return std::nullopt;
  return m;
}

std::string serializeControlMessage(const ControlMessage& m) {
  using T = ControlMessage::Type;
  json o;
  switch (m.type) {
    case T::Register:
      o = {{"type", "register"}, {"version", m.version}, {"id", m.node.id}, {"role", m.node.role},
           {"address", m.node.address}, {"ws_url", m.node.wsUrl}, {"capacity", m.node.capacity}};
      break;
    case T::Registered:
      o = {{"type", "registered"}, {"heartbeat_ms", m.heartbeatMs}, {"down_after_ms", m.downAfterMs}};
      break;
    case T::Load:
      o = {{"type", "load"}, {"load", m.load.load}, {"rooms", m.load.rooms}, {"peers", m.load.peers}};
      if (m.load.report) o["report"] = *m.load.report;
      break;
    case T::Event: {
      const NodeEvent& e = m.event;
      o = {{"type", "event"}, {"event", e.event}, {"room", e.room}};
      if (!e.peer.empty()) o["peer"] = e.peer;
      if (!e.displayName.empty()) o["display_name"] = e.displayName;
      if (!e.reason.empty()) o["reason"] = e.reason;
      if (!e.text.empty()) o["text"] = e.text;
      if (e.sentAt != 0) o["sent_at"] = e.sentAt;
      if (!e.track.id.empty()) o["track"] = {{"id", e.track.id}, {"kind", e.track.kind}, {"source", e.track.source}};
      if (!e.metadata.is_null()) o["metadata"] = e.metadata;
      break;
    }
    case T::Command: {
      const Command& c = m.command;
      o = {{"type", "command"}, {"id", c.id}, {"command", c.command}, {"room", c.room}};
      if (!c.peer.empty()) o["peer"] = c.peer;
      if (!c.displayName.empty()) o["display_name"] = c.displayName;
      if (!c.roomConfig.is_null()) o["room_config"] = c.roomConfig;
      if (!c.metadata.is_null()) o["metadata"] = c.metadata;
      break;
    }
    case T::Ack:
      o = {{"type", "ack"}, {"id", m.ack.id}, {"ok", m.ack.ok}};
      if (!m.ack.error.empty()) o["error"] = m.ack.error;
      break;
    case T::Error:
      o = {{"type", "error"}, {"code", m.errorCode}, {"message", m.errorMessage}};
      break;
  }
  return dump(o);
}

Result<std::string> makeControlToken(std::string_view secret, const std::string& nodeId, const std::string& role,
                                     int64_t nowSeconds, int64_t ttlSeconds) {
  json payload = {{"aud", "control"}, {"sub", nodeId}, {"role", role}, {"iat", nowSeconds}, {"exp", nowSeconds + ttlSeconds}};
  return token::signJwt(payload, secret);
}

Result<std::string> verifyControlToken(std::string_view tokenText, std::string_view secret, int64_t nowSeconds) {
  auto payload = token::verifyJwt(tokenText, secret);
  if (!payload) return payload.error();
  const json& p = *payload;
  auto aud = p.find("aud");
  if (aud == p.end() || !aud->is_string() || aud->get<std::string>() != "control") {
    return makeError(token::errc::WrongAudience, "not a control-link token");
  }
  auto sub = p.find("sub");
  auto exp = p.find("exp");
  auto iat = p.find("iat");
  if (sub == p.end() || !sub->is_string() || exp == p.end() || !exp->is_number_integer() || iat == p.end() ||
      !iat->is_number_integer()) {
    return makeError(token::errc::Malformed, "control token: sub, iat and exp are required");
  }
  if (nowSeconds >= exp->get<int64_t>()) return makeError(token::errc::Expired, "control token expired");
  if (iat->get<int64_t>() > nowSeconds + 60) return makeError(token::errc::NotYetValid, "control token issued in the future");
  return sub->get<std::string>();
}

}  // namespace meeting::api::control
