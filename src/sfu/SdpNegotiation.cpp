#include "sfu/SdpNegotiation.hpp"

#include "proto/rtp/RtpExtensions.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace meeting::sfu {
namespace sdp = proto::sdp;

namespace {

// Header extensions the SFU reads or passes through. transport-cc is accepted because the
// transport sends transport-wide feedback for it (TransportCcFeedback): without feedback the
// browser's send-side estimate would starve.
constexpr std::array<std::string_view, 7> KnownExtensions = {
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "urn:3gpp:video-orientation",
    proto::rtp::uri::TransportWideCc,
};

constexpr std::string_view TransportCcFeedbackType = "transport-cc";
constexpr std::string_view RembFeedbackType = "goog-remb";

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string randomDigits(size_t count) {
  std::array<unsigned char, 32> bytes{};
  RAND_bytes(bytes.data(), static_cast<int>(std::min(count, bytes.size())));
  std::string out;
  for (size_t i = 0; i < count && i < bytes.size(); ++i) out += static_cast<char>('0' + bytes[i] % 10);
  if (!out.empty() && out[0] == '0') out[0] = '1';
  return out;
}

// Keeps the feedback the SFU honours: transport-cc (it sends transport-wide feedback), and for
// video NACK (it retransmits from its cache), PLI and FIR (it asks the publisher for a keyframe).
sdp::Codec filteredCodec(const sdp::Codec& codec, sdp::MediaKind kind) {
  sdp::Codec out = codec;
  out.feedback.clear();
  for (const auto& fb : codec.feedback) {
    const bool video = kind == sdp::MediaKind::Video;
    if ((fb.type == TransportCcFeedbackType && fb.param.empty()) ||
        (video && fb.type == "nack" && (fb.param.empty() || fb.param == "pli")) ||
        (video && fb.type == "ccm" && fb.param == "fir")) {
      out.feedback.push_back(fb);
    }
  }
  return out;
}

void addFeedback(sdp::Codec& codec, std::string_view type) {
  for (const auto& fb : codec.feedback) {
    if (fb.type == type && fb.param.empty()) return;
  }
  codec.feedback.push_back(sdp::RtcpFeedback{std::string(type), {}});
}

// One transport-wide-cc id for the whole subscribe transport (BUNDLE: an id means the same
// extension in every section, RFC 8843 §9.1): the id the first section already uses (the
// publisher's, which forwarded packets carry, so the transport rewrites the value in place),
// else the lowest one-byte id no section uses.
uint16_t subscribeTransportCcId(const std::vector<SentMedia>& media) {
  for (const auto& track : media) {
    for (const auto& extmap : track.extmaps) {
      if (extmap.uri == proto::rtp::uri::TransportWideCc && extmap.id >= 1 && extmap.id <= 255) return extmap.id;
    }
  }
  for (uint16_t id = 1; id <= 14; ++id) {
    bool used = false;
    for (const auto& track : media) {
      for (const auto& extmap : track.extmaps) used = used || extmap.id == id;
    }
    if (!used) return id;
  }
  return 0;  // fourteen other extensions everywhere: offer none
}

// The section's extmaps with transport-cc at `id` (added or moved there); another extension
// holding `id` gives way, since transport-wide numbering matters more than any one of them.
std::vector<sdp::Extmap> withTransportCc(const std::vector<sdp::Extmap>& extmaps, uint16_t id) {
  std::vector<sdp::Extmap> out;
  for (const auto& extmap : extmaps) {
    if (extmap.uri == proto::rtp::uri::TransportWideCc || extmap.id == id) continue;
    out.push_back(extmap);
  }
  if (id != 0) out.push_back(sdp::Extmap{id, std::nullopt, std::string(proto::rtp::uri::TransportWideCc), {}});
  return out;
}

const sdp::Codec* chooseVideoCodec(const sdp::MediaSection& section, VideoCodec wanted) {
  auto find = [&section](VideoCodec codec) -> const sdp::Codec* {
    switch (codec) {
      case VideoCodec::Vp8: return section.findCodec("VP8", 90000);
      case VideoCodec::Av1: return section.findCodec("AV1", 90000);
      case VideoCodec::Vp9: {
        for (const auto& c : section.codecs) {  // profile 0 decodes everywhere
          if (equalsIgnoreCase(c.name, "VP9") && c.fmtpValue("profile-id").value_or("0") == "0") return &c;
        }
        return section.findCodec("VP9", 90000);
      }
      case VideoCodec::H264: {
        const sdp::Codec* any = nullptr;
        for (const auto& c : section.codecs) {
          if (!equalsIgnoreCase(c.name, "H264")) continue;
          if (c.fmtpValue("packetization-mode").value_or("0") != "1") continue;
          auto profile = c.fmtpValue("profile-level-id").value_or("");
          if (profile.substr(0, 4) == "42e0") return &c;  // constrained baseline: every decoder has it
          if (!any) any = &c;
        }
        return any;
      }
      case VideoCodec::Any: return nullptr;
    }
    return nullptr;
  };
  if (wanted != VideoCodec::Any) return find(wanted);
  for (auto codec : {VideoCodec::Vp8, VideoCodec::H264, VideoCodec::Vp9, VideoCodec::Av1}) {
    if (const auto* c = find(codec)) return c;
  }
  return nullptr;
}

sdp::MediaSection rejectedSection(const sdp::MediaSection& offered) {
  sdp::MediaSection out;
  out.kind = offered.kind;
  out.kindName = offered.kindName;
  out.port = 0;
  out.protocol = offered.protocol;
  out.formats = offered.formats.empty() ? std::vector<std::string>{"0"} : std::vector<std::string>{offered.formats[0]};
  out.mid = offered.mid;
  out.direction = sdp::Direction::Inactive;
  return out;
}

void addTransport(sdp::MediaSection& section, const LocalTransportDescription& local, sdp::Setup setup) {
  section.connection = sdp::Connection{};
  section.rtcpMux = section.kind != sdp::MediaKind::Application;
  section.iceUfrag = local.ice.ufrag;
  section.icePwd = local.ice.pwd;
  auto space = local.fingerprint.find(' ');
  section.fingerprints = {sdp::Fingerprint{local.fingerprint.substr(0, space), local.fingerprint.substr(space + 1)}};
  section.setup = setup;
  section.candidates = local.candidates;
  section.endOfCandidates = true;
}

sdp::SessionDescription newSession(uint64_t version) {
  sdp::SessionDescription sd;
  sd.origin.username = "meeting";
  sd.origin.sessionId = randomDigits(18);
  sd.origin.sessionVersion = version;
  sd.iceLite = true;  // RFC 8445 §2.5: we only answer checks
  sd.msidSemantic = sdp::MsidSemantic{"WMS", {"*"}};
  return sd;
}

}  // namespace

std::optional<VideoCodec> parseVideoCodec(std::string_view name) {
  if (equalsIgnoreCase(name, "vp8")) return VideoCodec::Vp8;
  if (equalsIgnoreCase(name, "vp9")) return VideoCodec::Vp9;
  if (equalsIgnoreCase(name, "h264")) return VideoCodec::H264;
  if (equalsIgnoreCase(name, "av1")) return VideoCodec::Av1;
  return std::nullopt;
}

Result<PublishAnswer> answerPublishOffer(const sdp::SessionDescription& offer, const LocalTransportDescription& local,
                                         const AnswerOptions& options) {
  auto remote = remoteTransportParameters(offer, false);
  if (!remote) return remote.error();
  PublishAnswer result;
  result.remote = *remote;
  auto& answer = result.answer;
  answer = newSession(1);
  sdp::Group bundle{"BUNDLE", {}};
  // We answer passive (DTLS server) unless the browser insists on being passive itself.
  sdp::Setup setup = remote->dtlsRole == DtlsRole::Server ? sdp::Setup::Passive : sdp::Setup::Active;

  for (const auto& offered : offer.media) {
    if (!offered.mid || offered.port == 0) {
      answer.media.push_back(rejectedSection(offered));
      continue;
    }
    if (offered.kind == sdp::MediaKind::Application) {
      if (!offered.isDataChannel()) {
        answer.media.push_back(rejectedSection(offered));
        continue;
      }
      sdp::MediaSection section;
      section.kind = sdp::MediaKind::Application;
      section.protocol = offered.protocol;
      section.formats = {"webrtc-datachannel"};
      section.mid = offered.mid;
      section.sctpPort = 5000;
      section.maxMessageSize = options.maxMessageSize;
      addTransport(section, local, setup);
      bundle.mids.push_back(*offered.mid);
      answer.media.push_back(std::move(section));
      continue;
    }
    if (offered.kind != sdp::MediaKind::Audio && offered.kind != sdp::MediaKind::Video) {
      answer.media.push_back(rejectedSection(offered));
      continue;
    }
    const sdp::Codec* codec = offered.kind == sdp::MediaKind::Audio ? offered.findCodec("opus", 48000)
                                                                    : chooseVideoCodec(offered, options.videoCodec);
    if (!codec) {
      answer.media.push_back(rejectedSection(offered));
      continue;
    }
    sdp::MediaSection section;
    section.kind = offered.kind;
    section.protocol = offered.protocol;
    section.mid = offered.mid;
    section.rtcpRsize = offered.rtcpRsize;
    section.extmapAllowMixed = offered.extmapAllowMixed;
    auto offeredDirection = offered.effectiveDirection();
    bool receives = offeredDirection == sdp::Direction::SendOnly || offeredDirection == sdp::Direction::SendRecv;
    section.direction = receives ? sdp::Direction::RecvOnly : sdp::Direction::Inactive;
    section.addCodec(filteredCodec(*codec, offered.kind));
    const sdp::Codec* rtx = offered.kind == sdp::MediaKind::Video ? offered.findRtxFor(codec->payloadType) : nullptr;
    if (rtx) section.addCodec(filteredCodec(*rtx, offered.kind));
    for (const auto& extmap : offered.extmaps) {
      if (std::find(KnownExtensions.begin(), KnownExtensions.end(), extmap.uri) == KnownExtensions.end()) continue;
      sdp::Extmap accepted = extmap;
      accepted.direction.reset();
      section.extmaps.push_back(accepted);
    }
    // Simulcast (RFC 8853 §5.3): accept the offered layers by answering with recv rids.
    if (auto rids = offered.simulcastRids(sdp::RidDirection::Send); !rids.empty() && receives) {
      for (const auto& rid : rids) section.rids.push_back(sdp::Rid{rid.rid, sdp::RidDirection::Recv, {}, {}});
      if (offered.simulcast) {
        section.simulcast = offered.simulcast->reversed();
      } else {
        sdp::Simulcast simulcast;
        for (const auto& rid : rids) simulcast.recv.push_back({sdp::SimulcastId{rid.rid, false}});
        section.simulcast = simulcast;
      }
    }
    addTransport(section, local, setup);
    bundle.mids.push_back(*offered.mid);

    if (receives) {
      ReceivedMedia media;
      media.mid = *offered.mid;
      media.kind = offered.kind;
      media.codec = section.codecs.front();
      if (rtx) media.rtx = section.codecs.back();
      media.extmaps = section.extmaps;
      media.ssrcs = offered.ssrcStreams();
      for (const auto& rid : section.rids) media.rids.push_back(rid.id);
      if (!offered.msids.empty()) {
        media.streamId = offered.msids.front().streamId;
        media.trackId = offered.msids.front().trackId;
      }
      result.media.push_back(std::move(media));
    }
    answer.media.push_back(std::move(section));
  }
  if (bundle.mids.empty()) return makeError("invalid_sdp", "the offer has no section the server can accept");
  answer.groups.push_back(bundle);
  return result;
}

sdp::SessionDescription makeSubscribeOffer(const LocalTransportDescription& local, const std::vector<SentMedia>& media,
                                           bool dataChannel, uint64_t version) {
  auto offer = newSession(version);
  sdp::Group bundle{"BUNDLE", {}};
  const uint16_t transportCcId = subscribeTransportCcId(media);
  for (const auto& track : media) {
    sdp::MediaSection section;
    section.kind = track.kind;
    section.mid = track.mid;
    section.rtcpRsize = true;
    section.direction = track.active ? sdp::Direction::SendOnly : sdp::Direction::Inactive;
    // The subscriber's congestion feedback: transport-wide (the transport numbers what it
    // sends) and REMB for video (draft-alvestrand-rmcat-remb-03) as the fallback. RTX needs
    // none of its own.
    sdp::Codec codec = track.codec;
    if (transportCcId != 0) addFeedback(codec, TransportCcFeedbackType);
    if (track.kind == sdp::MediaKind::Video) addFeedback(codec, RembFeedbackType);
    section.addCodec(codec);
    if (track.rtx) section.addCodec(*track.rtx);
    section.extmaps = withTransportCc(track.extmaps, transportCcId);
    if (track.active) {
      section.msids.push_back(sdp::Msid{track.streamId, track.trackId});
      section.ssrcs.push_back(sdp::SsrcAttribute{track.ssrc, "cname", track.cname});
      section.ssrcs.push_back(sdp::SsrcAttribute{track.ssrc, "msid", track.streamId + " " + track.trackId});
      if (track.rtx && track.rtxSsrc != 0) {
        section.ssrcGroups.push_back(sdp::SsrcGroup{"FID", {track.ssrc, track.rtxSsrc}});
        section.ssrcs.push_back(sdp::SsrcAttribute{track.rtxSsrc, "cname", track.cname});
        section.ssrcs.push_back(sdp::SsrcAttribute{track.rtxSsrc, "msid", track.streamId + " " + track.trackId});
      }
    }
    addTransport(section, local, sdp::Setup::ActPass);
    bundle.mids.push_back(track.mid);
    offer.media.push_back(std::move(section));
  }
  if (dataChannel) {
    sdp::MediaSection section;
    section.kind = sdp::MediaKind::Application;
    section.protocol = "UDP/DTLS/SCTP";
    section.formats = {"webrtc-datachannel"};
    section.mid = "data";
    section.sctpPort = 5000;
    section.maxMessageSize = 256 * 1024;
    addTransport(section, local, sdp::Setup::ActPass);
    bundle.mids.push_back("data");
    offer.media.push_back(std::move(section));
  }
  offer.groups.push_back(bundle);
  return offer;
}

Result<RemoteTransportParameters> remoteTransportParameters(const sdp::SessionDescription& sd, bool isAnswer) {
  const sdp::MediaSection* first = nullptr;
  for (const auto& section : sd.media) {
    if (section.port != 0) {
      first = &section;
      break;
    }
  }
  if (!first) return makeError("invalid_sdp", "the description has no active media section");
  RemoteTransportParameters out;
  auto ice = sd.effectiveIce(*first);
  if (!ice) return makeError("invalid_sdp", "the description has no a=ice-ufrag/a=ice-pwd");
  out.iceUfrag = ice->ufrag;
  out.icePwd = ice->pwd;
  const auto& fingerprints = sd.effectiveFingerprints(*first);
  if (fingerprints.empty()) return makeError("invalid_sdp", "the description has no a=fingerprint");
  const sdp::Fingerprint* chosen = &fingerprints.front();
  for (const auto& f : fingerprints) {
    if (equalsIgnoreCase(f.hashFunc, "sha-256")) chosen = &f;
  }
  out.fingerprint = chosen->hashFunc + " " + chosen->value;
  // One transport-wide-cc id per BUNDLE transport: the first active media section that has it.
  for (const auto& section : sd.media) {
    if (section.port == 0 || (section.kind != sdp::MediaKind::Audio && section.kind != sdp::MediaKind::Video)) continue;
    if (auto id = section.findExtmapId(proto::rtp::uri::TransportWideCc); id && *id >= 1 && *id <= 255) {
      out.transportCcId = static_cast<uint8_t>(*id);
      break;
    }
  }
  auto setup = sd.effectiveSetup(*first).value_or(isAnswer ? sdp::Setup::Active : sdp::Setup::ActPass);
  if (isAnswer && setup == sdp::Setup::ActPass) return makeError("invalid_sdp", "an answer must not say a=setup:actpass");
  out.dtlsRole = setup == sdp::Setup::Passive ? DtlsRole::Client : DtlsRole::Server;
  for (const auto& section : sd.media) {
    if (section.port == 0 || !section.isDataChannel()) continue;
    out.dataChannels = true;
    out.sctpPort = section.sctpPort.value_or(section.sctpmap ? section.sctpmap->number : 5000);
    // RFC 8841 §6: without a=max-message-size the peer accepts 64 KiB.
    out.maxMessageSize = static_cast<size_t>(std::min<uint64_t>(section.maxMessageSize.value_or(65536), 1 << 20));
    if (out.maxMessageSize == 0) out.maxMessageSize = 1 << 20;  // 0 means "no limit": keep ours
  }
  return out;
}

}  // namespace meeting::sfu
