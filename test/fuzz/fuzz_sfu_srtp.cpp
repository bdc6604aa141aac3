// SRTP/SRTCP unprotect of hostile packets for both profiles: only status codes, never a crash
// or a read outside the buffer.
#include <vector>

#include "sfu/SrtpSession.hpp"

namespace {
using meeting::sfu::SrtpProfile;
using meeting::sfu::SrtpSession;

std::unique_ptr<SrtpSession> make(SrtpProfile p) {
  std::vector<uint8_t> key(meeting::sfu::srtpKeyingLength(p), 0x5a);
  return std::move(SrtpSession::create(SrtpSession::Direction::Inbound, p, key).value());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto gcm = make(SrtpProfile::AeadAes128Gcm);
  static auto cm = make(SrtpProfile::AesCm128HmacSha1_80);
  if (size == 0) return 0;
  SrtpSession& s = (data[0] & 1) ? *gcm : *cm;
  // Exact-size heap copy so ASan sees any overrun.
  std::vector<uint8_t> buf(data + 1, data + size);
  size_t len = buf.size();
  if (data[0] & 2)
    (void)s.unprotectRtcp(buf.data(), len);
  else
    (void)s.unprotectRtp(buf.data(), len);
  return 0;
}
