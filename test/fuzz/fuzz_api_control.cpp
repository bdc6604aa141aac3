// Fuzzes the control-link codec (what an sfu/turn/fs server or an apiserver receives) and the
// REST body reader: never crash, and whatever parses re-serializes to something that parses.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/ApiJson.hpp"
#include "api/control/ControlMessages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  if (auto message = meeting::api::control::parseControlMessage(input)) {
    auto again = meeting::api::control::parseControlMessage(meeting::api::control::serializeControlMessage(*message));
    if (!again || again->type != message->type) __builtin_trap();
  }
  meeting::net::HttpResponse error;
  if (auto body = meeting::api::BodyReader::parse(input, {"room_id", "max_peers", "metadata", "invitees", "grants"}, error)) {
    std::optional<std::string> id;
    std::optional<int64_t> maxPeers;
    nlohmann::json metadata;
    std::vector<std::string> invitees;
    std::optional<meeting::api::BodyReader> grants;
    (void)(body->string("room_id", id, 128) && body->integer("max_peers", maxPeers, 1, 100'000) &&
           body->value("metadata", metadata, 4096) && body->stringList("invitees", invitees, 500, 254) &&
           body->object("grants", grants, {"can_publish"}));
    if (id) (void)meeting::api::isValidId(*id);
  }
  return 0;
}
