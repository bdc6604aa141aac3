// Fuzzes the webhook helpers that see foreign bytes: the Meeting-Signature parser (what a
// receiver feeds it) and the body builder (chat text from clients). Never crash; a header this
// code signed always verifies.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/webhook/WebhookEvent.hpp"
#include "api/webhook/WebhookSignature.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t split = input.find('\n');
  std::string_view header = input.substr(0, split);
  std::string_view body = split == std::string_view::npos ? std::string_view{} : input.substr(split + 1);
  (void)meeting::api::webhook::verifySignatureHeader("key", header, body, 1'700'000'000);
  const std::string signed_ = meeting::api::webhook::signatureHeader("key", 1'700'000'000, body);
  if (!meeting::api::webhook::verifySignatureHeader("key", signed_, body, 1'700'000'000)) __builtin_trap();
  meeting::api::webhook::WebhookEvent event;
  event.type = "chat_message";
  event.room = std::string(header);
  event.text = std::string(body);
  (void)meeting::api::webhook::webhookBody(event, "id", 1);
  return 0;
}
