// A server DtlsSession fed hostile datagrams: the input is split into datagrams by 2-byte length
// prefixes. Nothing may crash, leak or overrun, whatever the state machine makes of it.
#include "sfu/DtlsSession.hpp"

namespace {
const meeting::sfu::DtlsCertificate& certificate() {
  static auto cert = meeting::sfu::DtlsCertificate::generate();
  return **cert;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  meeting::sfu::DtlsCallbacks cb;
  size_t sent = 0;
  cb.onSend = [&sent](std::span<const uint8_t> d) { sent += d.size(); };
  auto session = meeting::sfu::DtlsSession::create(certificate(), {}, std::move(cb));
  if (!session.ok()) return 0;
  (void)(*session)->setRemoteFingerprint(certificate().fingerprintSdp());
  const meeting::TimePoint now{};
  (*session)->start(now);
  size_t pos = 0;
  while (pos + 2 <= size) {
    const size_t len = std::min<size_t>(static_cast<size_t>(data[pos] << 8 | data[pos + 1]), size - pos - 2);
    (*session)->receive({data + pos + 2, len}, now);
    (*session)->onTimeout(now);
    pos += 2 + len;
  }
  (*session)->close();
  return 0;
}
