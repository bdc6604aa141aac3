#include "api/webhook/WebhookEvent.hpp"

namespace meeting::api::webhook {

std::string webhookBody(const WebhookEvent& e, const std::string& id, int64_t timeMs) {
  nlohmann::json body = {{"id", id}, {"type", e.type}, {"time", timeMs}, {"room", e.room}};
  if (!e.peer.empty()) body["peer"] = e.peer;
  if (!e.track.is_null()) body["track"] = e.track;
  if (!e.text.empty()) body["text"] = e.text;
  // replace: strings come from clients (chat, names); invalid UTF-8 must not throw here.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace meeting::api::webhook
