#pragma once
// The SDP the SFU writes (design.md §2-3): answers to a client's publish offer, and offers for
// the subscribe PeerConnection. Codecs pass through untouched, so negotiation is about choosing
// one codec per section (plus its RTX), keeping the header extensions the SFU reads, and
// describing our ICE-lite/DTLS side.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/Result.hpp"
#include "proto/sdp/SessionDescription.hpp"
#include "sfu/IceLite.hpp"
#include "sfu/WebRtcTransport.hpp"

namespace meeting::sfu {

/// Our side of one transport, as SDP shows it.
struct LocalTransportDescription {
  IceCredentials ice;
  std::string fingerprint;  ///< "sha-256 AB:..."
  std::vector<proto::sdp::Candidate> candidates;
};

/// Video codecs in the order the SFU prefers them when the room does not force one.
enum class VideoCodec : uint8_t { Any, Vp8, Vp9, H264, Av1 };
/// "vp8" / "vp9" / "h264" / "av1" (seed 004 `video_codec`); nullopt for anything else.
std::optional<VideoCodec> parseVideoCodec(std::string_view name);

struct AnswerOptions {
  VideoCodec videoCodec = VideoCodec::Any;
  uint64_t maxMessageSize = 256 * 1024;
};

/// One media section the SFU receives on a publish transport.
struct ReceivedMedia {
  std::string mid;
  proto::sdp::MediaKind kind = proto::sdp::MediaKind::Audio;
  proto::sdp::Codec codec;
  std::optional<proto::sdp::Codec> rtx;
  std::vector<proto::sdp::Extmap> extmaps;      ///< as negotiated (ids of the publisher)
  std::vector<proto::sdp::SsrcStream> ssrcs;    ///< from a=ssrc lines, when the offer has them
  std::vector<std::string> rids;                ///< simulcast layers, lowest first as offered
  std::string streamId;                         ///< msid stream and track of the sender
  std::string trackId;
};

struct PublishAnswer {
  proto::sdp::SessionDescription answer;
  RemoteTransportParameters remote;
  std::vector<ReceivedMedia> media;  ///< sections that will carry media to us
};

/// Answers a client's offer on its publish transport: media we receive (recvonly), data channels
/// accepted, sections we cannot use rejected (port 0) with a reason the caller may log.
Result<PublishAnswer> answerPublishOffer(const proto::sdp::SessionDescription& offer,
                                         const LocalTransportDescription& local, const AnswerOptions& options);

/// One track the SFU sends on a subscribe transport.
struct SentMedia {
  std::string mid;
  proto::sdp::MediaKind kind = proto::sdp::MediaKind::Audio;
  proto::sdp::Codec codec;
  std::optional<proto::sdp::Codec> rtx;
  std::vector<proto::sdp::Extmap> extmaps;
  uint32_t ssrc = 0;
  uint32_t rtxSsrc = 0;
  std::string cname;
  std::string streamId;
  std::string trackId;
  bool active = true;  ///< false: the section stays (mids are never reused) but is inactive
};

/// The server's offer for a subscribe transport (a=setup:actpass, sendonly sections).
proto::sdp::SessionDescription makeSubscribeOffer(const LocalTransportDescription& local,
                                                  const std::vector<SentMedia>& media, bool dataChannel,
                                                  uint64_t version);

/// ICE, DTLS and SCTP parameters of a remote description. `isAnswer` tells how to read
/// a=setup: in the client's answer to our actpass offer, "passive" makes us the DTLS client.
Result<RemoteTransportParameters> remoteTransportParameters(const proto::sdp::SessionDescription& sd, bool isAnswer);

}  // namespace meeting::sfu
