#include "proto/sdp/SessionDescription.hpp"

#include <algorithm>

#include "proto/sdp/SdpText.hpp"

namespace meeting::proto::sdp {

uint32_t Candidate::computePriority(uint32_t typePreference, uint32_t localPreference,
                                    uint32_t component) {
  // RFC 8445 §5.1.2.1; inputs are clamped to their field widths so the sum cannot wrap.
  typePreference = std::min<uint32_t>(typePreference, 126);
  localPreference = std::min<uint32_t>(localPreference, 65535);
  component = std::clamp<uint32_t>(component, 1, 256);
  return (typePreference << 24) + (localPreference << 8) + (256 - component);
}

std::optional<std::string_view> Codec::fmtpValue(std::string_view key) const {
  for (const Param& p : fmtp) {
    if (p.key == key) return std::string_view(p.value);
  }
  return std::nullopt;
}

std::optional<uint8_t> Codec::associatedPayloadType() const {
  auto apt = fmtpValue("apt");
  if (!apt) return std::nullopt;
  auto pt = text::parseUnsigned<uint32_t>(*apt);
  if (!pt || *pt > 127) return std::nullopt;
  return static_cast<uint8_t>(*pt);
}

std::string_view MediaSection::kindToken() const {
  switch (kind) {
    case MediaKind::Audio: return "audio";
    case MediaKind::Video: return "video";
    case MediaKind::Application: return "application";
    case MediaKind::Other: break;
  }
  return kindName;
}

bool MediaSection::isDataChannel() const {
  return protocol.find("SCTP") != std::string::npos;
}

const Codec* MediaSection::findCodec(std::string_view name, uint32_t clockRate) const {
  for (const Codec& c : codecs) {
    if (text::equalsIgnoreCase(c.name, name) && (clockRate == 0 || c.clockRate == clockRate)) return &c;
  }
  return nullptr;
}

const Codec* MediaSection::findCodec(uint8_t payloadType) const {
  for (const Codec& c : codecs) {
    if (c.payloadType == payloadType) return &c;
  }
  return nullptr;
}

const Codec* MediaSection::findRtxFor(uint8_t payloadType) const {
  for (const Codec& c : codecs) {
    if (text::equalsIgnoreCase(c.name, "rtx") && c.associatedPayloadType() == payloadType) return &c;
  }
  return nullptr;
}

std::optional<uint16_t> MediaSection::findExtmapId(std::string_view uri) const {
  for (const Extmap& e : extmaps) {
    if (e.uri == uri) return e.id;
  }
  return std::nullopt;
}

const Attribute* MediaSection::findAttribute(std::string_view name) const {
  for (const Attribute& a : otherAttributes) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

void MediaSection::addCodec(Codec codec) {
  formats.push_back(std::to_string(codec.payloadType));
  codecs.push_back(std::move(codec));
}

std::vector<SsrcStream> MediaSection::ssrcStreams() const {
  // RFC 5576 §4.2 groups: the first SSRC of FID (RFC 4588 §8) or FEC-FR (RFC 5956 §4.3) is
  // the media source, the following ones repair it.
  std::vector<SsrcStream> streams;
  std::vector<uint32_t> secondary;
  for (const SsrcGroup& g : ssrcGroups) {
    if ((g.semantics == "FID" || g.semantics == "FEC-FR") && g.ssrcs.size() >= 2) {
      secondary.insert(secondary.end(), g.ssrcs.begin() + 1, g.ssrcs.end());
    }
  }
  auto isSecondary = [&](uint32_t ssrc) {
    return std::find(secondary.begin(), secondary.end(), ssrc) != secondary.end();
  };
  auto findStream = [&](uint32_t ssrc) -> SsrcStream* {
    for (SsrcStream& s : streams) {
      if (s.ssrc == ssrc) return &s;
    }
    return nullptr;
  };
  auto addPrimary = [&](uint32_t ssrc) -> SsrcStream& {
    if (SsrcStream* s = findStream(ssrc)) return *s;
    streams.push_back(SsrcStream{ssrc, std::nullopt, std::nullopt, {}, {}});
    return streams.back();
  };
  for (const SsrcAttribute& a : ssrcs) {
    if (isSecondary(a.ssrc)) continue;
    SsrcStream& s = addPrimary(a.ssrc);
    if (a.attribute == "cname" && s.cname.empty()) s.cname = a.value;
    if (a.attribute == "msid" && s.msid.empty()) s.msid = a.value;
  }
  for (const SsrcGroup& g : ssrcGroups) {
    if ((g.semantics != "FID" && g.semantics != "FEC-FR") || g.ssrcs.size() < 2) continue;
    if (isSecondary(g.ssrcs[0])) continue;  // a malformed chain; keep the first reading
    SsrcStream& s = addPrimary(g.ssrcs[0]);
    (g.semantics == "FID" ? s.rtxSsrc : s.fecSsrc) = g.ssrcs[1];
  }
  return streams;
}

std::vector<std::vector<uint32_t>> MediaSection::simulcastSsrcGroups() const {
  std::vector<std::vector<uint32_t>> out;
  for (const SsrcGroup& g : ssrcGroups) {
    if (g.semantics == "SIM") out.push_back(g.ssrcs);
  }
  return out;
}

std::vector<SimulcastId> MediaSection::simulcastRids(RidDirection dir) const {
  std::vector<SimulcastId> out;
  if (simulcast) {
    const auto& streams = dir == RidDirection::Send ? simulcast->send : simulcast->recv;
    for (const auto& alternatives : streams) {
      if (!alternatives.empty()) out.push_back(alternatives.front());
    }
    return out;
  }
  for (const Rid& r : rids) {
    if (r.direction == dir) out.push_back(SimulcastId{r.id, false});
  }
  return out;
}

const Group* SessionDescription::findGroup(std::string_view semantics) const {
  for (const Group& g : groups) {
    if (g.semantics == semantics) return &g;
  }
  return nullptr;
}

const MediaSection* SessionDescription::findMedia(std::string_view mid) const {
  for (const MediaSection& m : media) {
    if (m.mid && *m.mid == mid) return &m;
  }
  return nullptr;
}

std::optional<IceCredentials> SessionDescription::effectiveIce(const MediaSection& section) const {
  // RFC 8839 §5.4: media-level ice-ufrag/ice-pwd override the session-level ones.
  const std::optional<std::string>& ufrag = section.iceUfrag ? section.iceUfrag : iceUfrag;
  const std::optional<std::string>& pwd = section.icePwd ? section.icePwd : icePwd;
  if (!ufrag || !pwd) return std::nullopt;
  const auto& options = section.iceOptions.empty() ? iceOptions : section.iceOptions;
  return IceCredentials{*ufrag, *pwd, options};
}

const std::vector<Fingerprint>& SessionDescription::effectiveFingerprints(const MediaSection& section) const {
  return section.fingerprints.empty() ? fingerprints : section.fingerprints;
}

std::optional<Setup> SessionDescription::effectiveSetup(const MediaSection& section) const {
  return section.setup ? section.setup : setup;
}

std::string_view toString(Direction direction) {
  switch (direction) {
    case Direction::SendRecv: return "sendrecv";
    case Direction::SendOnly: return "sendonly";
    case Direction::RecvOnly: return "recvonly";
    case Direction::Inactive: return "inactive";
  }
  return "sendrecv";
}

std::string_view toString(Setup setup) {
  switch (setup) {
    case Setup::ActPass: return "actpass";
    case Setup::Active: return "active";
    case Setup::Passive: return "passive";
    case Setup::HoldConn: return "holdconn";
  }
  return "actpass";
}

std::string_view toString(CandidateType type) {
  switch (type) {
    case CandidateType::Host: return "host";
    case CandidateType::Srflx: return "srflx";
    case CandidateType::Prflx: return "prflx";
    case CandidateType::Relay: return "relay";
  }
  return "host";
}

std::string_view toString(CandidateTransport transport) {
  return transport == CandidateTransport::Tcp ? "tcp" : "udp";
}

std::string_view toString(RidDirection direction) {
  return direction == RidDirection::Recv ? "recv" : "send";
}

}  // namespace meeting::proto::sdp
