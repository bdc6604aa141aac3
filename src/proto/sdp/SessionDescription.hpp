#pragma once
// The structured model of a WebRTC session description (RFC 8866 SDP with the JSEP/RFC 8829
// attributes browsers use). Plain value types: the parser fills them, the serializer writes them,
// and the SFU reads and builds them. Everything compares with == so a round trip can be checked.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meeting::proto::sdp {

/// `a=sendrecv` / `a=sendonly` / `a=recvonly` / `a=inactive` (RFC 8866 §6.7).
enum class Direction { SendRecv, SendOnly, RecvOnly, Inactive };

/// `a=setup` role of the DTLS endpoint (RFC 4145 §4, RFC 8842 §5).
enum class Setup { ActPass, Active, Passive, HoldConn };

/// The media type of an `m=` line.
enum class MediaKind { Audio, Video, Application, Other };

/// `typ` of an ICE candidate (RFC 8839 §5.1).
enum class CandidateType { Host, Srflx, Prflx, Relay };

/// Transport of an ICE candidate; only UDP and TCP (RFC 6544) are understood.
enum class CandidateTransport { Udp, Tcp };

/// `a=rid` direction (RFC 8851 §10).
enum class RidDirection { Send, Recv };

/// A generic `key[=value]` pair, used for fmtp parameters, rid restrictions and candidate
/// extensions. The order of a list of these is kept as written.
struct Param {
  std::string key;
  std::string value;
  bool operator==(const Param&) const = default;
};

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (RFC 8866 §5.2).
struct Origin {
  std::string username = "-";
  std::string sessionId = "0";  ///< Digits only; kept as text because it may exceed 64 bits.
  uint64_t sessionVersion = 0;
  std::string netType = "IN";
  std::string addrType = "IP4";
  std::string address = "127.0.0.1";
  bool operator==(const Origin&) const = default;
};

/// `t=<start> <stop>` (RFC 8866 §5.9); WebRTC always uses `t=0 0`.
struct Timing {
  uint64_t start = 0;
  uint64_t stop = 0;
  bool operator==(const Timing&) const = default;
};

/// `c=<nettype> <addrtype> <connection-address>` (RFC 8866 §5.7).
struct Connection {
  std::string netType = "IN";
  std::string addrType = "IP4";
  std::string address = "0.0.0.0";
  bool operator==(const Connection&) const = default;
};

/// `b=<bwtype>:<bandwidth>`, e.g. AS (kbit/s) or TIAS (bit/s, RFC 3890).
struct Bandwidth {
  std::string type;
  uint64_t value = 0;
  bool operator==(const Bandwidth&) const = default;
};

/// `a=fingerprint:<hash-func> <fingerprint>` (RFC 8122 §5), e.g. sha-256 and colon-separated hex.
struct Fingerprint {
  std::string hashFunc;
  std::string value;
  bool operator==(const Fingerprint&) const = default;
};

/// `a=group:<semantics> <mid>...` (RFC 5888 §5), e.g. BUNDLE (RFC 8843).
struct Group {
  std::string semantics;
  std::vector<std::string> mids;
  bool operator==(const Group&) const = default;
};

/// `a=msid-semantic:<semantic> <ids>` (legacy WMS line still written by Chromium and Firefox).
struct MsidSemantic {
  std::string semantic = "WMS";
  std::vector<std::string> ids;
  bool operator==(const MsidSemantic&) const = default;
};

/// An attribute the codec does not model, kept verbatim (name and text after the first colon).
struct Attribute {
  std::string name;
  std::optional<std::string> value;
  bool operator==(const Attribute&) const = default;
};

/// A session- or media-level line that is neither `a=` nor modelled (i=, u=, e=, p=, r=, z=, k=).
struct OtherLine {
  char type = 'i';
  std::string value;
  bool operator==(const OtherLine&) const = default;
};

/// An ICE candidate (RFC 8839 §5.1 grammar, RFC 6544 tcptype). Unmodelled extensions such as
/// generation, ufrag, network-id and network-cost are kept in order in `extensions`.
struct Candidate {
  std::string foundation;
  uint32_t component = 1;
  CandidateTransport transport = CandidateTransport::Udp;
  uint32_t priority = 0;
  std::string address;
  uint16_t port = 0;
  CandidateType type = CandidateType::Host;
  std::optional<std::string> relatedAddress;
  std::optional<uint16_t> relatedPort;
  std::optional<std::string> tcpType;  ///< "active", "passive" or "so" (RFC 6544 §4.5).
  std::vector<Param> extensions;
  bool operator==(const Candidate&) const = default;

  /// RFC 8445 §5.1.2.1: (2^24)*type preference + (2^8)*local preference + (256 - component).
  static uint32_t computePriority(uint32_t typePreference, uint32_t localPreference,
                                  uint32_t component);
};

/// `a=rtcp-fb:<pt> <type> [<param>]` (RFC 4585 §4.2), e.g. "nack" + "pli", "transport-cc".
struct RtcpFeedback {
  std::string type;
  std::string param;  ///< Empty when absent; may hold several space-separated words.
  bool operator==(const RtcpFeedback&) const = default;
};

/// One RTP payload format: `a=rtpmap`, its `a=fmtp` parameters and its `a=rtcp-fb` lines.
struct Codec {
  uint8_t payloadType = 0;
  std::string name;        ///< Encoding name as written (opus, VP8, H264, rtx, red, ulpfec...).
  uint32_t clockRate = 0;
  uint32_t channels = 0;   ///< 0 when the rtpmap has no channel count.
  std::vector<Param> fmtp; ///< In written order; a value-less token (e.g. "0-15") has key only.
  std::vector<RtcpFeedback> feedback;
  bool operator==(const Codec&) const = default;

  /// The fmtp value for `key` (e.g. "apt", "profile-level-id"), if present.
  std::optional<std::string_view> fmtpValue(std::string_view key) const;
  /// The payload type this RTX/RED codec repairs (fmtp `apt=`), if any.
  std::optional<uint8_t> associatedPayloadType() const;
};

/// `a=extmap:<id>[/<direction>] <uri> [<attributes>]` (RFC 8285 §8).
struct Extmap {
  uint16_t id = 0;
  std::optional<Direction> direction;
  std::string uri;
  std::string attributes;  ///< Extension attributes as written, empty when none.
  bool operator==(const Extmap&) const = default;
};

/// `a=ssrc:<ssrc> <attribute>[:<value>]` (RFC 5576 §4.1), e.g. cname or msid.
struct SsrcAttribute {
  uint32_t ssrc = 0;
  std::string attribute;
  std::string value;
  bool operator==(const SsrcAttribute&) const = default;
};

/// `a=ssrc-group:<semantics> <ssrc>...` (RFC 5576 §4.2): FID (RTX), SIM, FEC-FR.
struct SsrcGroup {
  std::string semantics;
  std::vector<uint32_t> ssrcs;
  bool operator==(const SsrcGroup&) const = default;
};

/// `a=rid:<id> <send|recv> [pt=<fmt>,...;][<restriction>=<value>;...]` (RFC 8851 §10).
struct Rid {
  std::string id;
  RidDirection direction = RidDirection::Send;
  std::vector<uint8_t> payloadTypes;  ///< From the `pt=` list; empty means all.
  std::vector<Param> restrictions;    ///< max-width, max-height, max-fps, max-br, depend...
  bool operator==(const Rid&) const = default;
};

/// One RTP stream id in an `a=simulcast` list; `~` marks it paused (RFC 8853 §5.1).
struct SimulcastId {
  std::string rid;
  bool paused = false;
  bool operator==(const SimulcastId&) const = default;
};

/// `a=simulcast:` (RFC 8853 §5.1). Each stream is a list of alternative rids (the `,` list);
/// streams are separated by `;` and ordered by preference.
struct Simulcast {
  std::vector<std::vector<SimulcastId>> send;
  std::vector<std::vector<SimulcastId>> recv;
  bool operator==(const Simulcast&) const = default;

  /// The same streams with send and recv swapped: what an answerer writes back.
  Simulcast reversed() const { return Simulcast{recv, send}; }
};

/// `a=msid:<stream id> [<track id>]` (RFC 8830 §2).
struct Msid {
  std::string streamId;
  std::string trackId;  ///< Empty when absent.
  bool operator==(const Msid&) const = default;
};

/// Legacy `a=sctpmap:<port> <app> [<streams>]` (draft-ietf-mmusic-sctp-sdp-05).
struct Sctpmap {
  uint16_t number = 5000;
  std::string app = "webrtc-datachannel";
  std::optional<uint32_t> streams;
  bool operator==(const Sctpmap&) const = default;
};

/// A primary SSRC with its repair SSRCs and source attributes, as listed by ssrcStreams().
struct SsrcStream {
  uint32_t ssrc = 0;
  std::optional<uint32_t> rtxSsrc;  ///< FID partner (RFC 4588 RTX).
  std::optional<uint32_t> fecSsrc;  ///< FEC-FR partner (RFC 5956).
  std::string cname;
  std::string msid;
  bool operator==(const SsrcStream&) const = default;
};

/// ICE credentials of a section, resolved from media level or session level.
struct IceCredentials {
  std::string ufrag;
  std::string pwd;
  std::vector<std::string> options;
  bool operator==(const IceCredentials&) const = default;
};

/// One `m=` section with everything that belongs to it.
struct MediaSection {
  MediaKind kind = MediaKind::Audio;
  std::string kindName;  ///< The media token when kind is Other (e.g. "text").
  uint16_t port = 9;
  uint16_t portCount = 0;  ///< The `/<n>` after the port; 0 when absent.
  std::string protocol = "UDP/TLS/RTP/SAVPF";
  std::vector<std::string> formats;  ///< Payload types, or "webrtc-datachannel" for SCTP.

  std::optional<Connection> connection;
  std::vector<Bandwidth> bandwidths;
  std::vector<OtherLine> otherLines;

  std::optional<std::string> mid;
  std::optional<Direction> direction;
  bool rtcpMux = false;
  bool rtcpMuxOnly = false;
  bool rtcpRsize = false;
  bool extmapAllowMixed = false;

  std::optional<std::string> iceUfrag;
  std::optional<std::string> icePwd;
  std::vector<std::string> iceOptions;
  std::vector<Fingerprint> fingerprints;
  std::optional<Setup> setup;
  std::vector<Candidate> candidates;
  bool endOfCandidates = false;

  std::vector<Codec> codecs;                 ///< In m= line format order.
  std::vector<RtcpFeedback> feedbackAll;     ///< `a=rtcp-fb:*` lines.
  std::vector<Extmap> extmaps;
  std::vector<Msid> msids;
  std::vector<SsrcGroup> ssrcGroups;
  std::vector<SsrcAttribute> ssrcs;
  std::vector<Rid> rids;
  std::optional<Simulcast> simulcast;

  std::optional<uint16_t> sctpPort;
  std::optional<uint64_t> maxMessageSize;
  std::optional<Sctpmap> sctpmap;

  std::vector<Attribute> otherAttributes;  ///< Unmodelled `a=` lines, in written order.

  bool operator==(const MediaSection&) const = default;

  /// The media token of the m= line ("audio", "video", "application" or kindName).
  std::string_view kindToken() const;
  /// True for an SCTP (data channel) section.
  bool isDataChannel() const;
  /// First codec whose name matches case-insensitively (and clock rate, when non-zero).
  const Codec* findCodec(std::string_view name, uint32_t clockRate = 0) const;
  /// The codec with this payload type, if mapped.
  const Codec* findCodec(uint8_t payloadType) const;
  /// The RTX codec whose `apt=` names `payloadType`.
  const Codec* findRtxFor(uint8_t payloadType) const;
  /// The extmap id negotiated for a header extension URI.
  std::optional<uint16_t> findExtmapId(std::string_view uri) const;
  /// The first unmodelled attribute with this name.
  const Attribute* findAttribute(std::string_view name) const;
  /// Appends a codec and its payload type to the m= line formats.
  void addCodec(Codec codec);
  /// The direction, defaulting to sendrecv when no direction attribute is present (RFC 8866 §6.7).
  Direction effectiveDirection() const { return direction.value_or(Direction::SendRecv); }
  /// The primary SSRCs in first-seen order, paired with their FID/FEC-FR partners, cname and msid.
  std::vector<SsrcStream> ssrcStreams() const;
  /// The SSRC lists of the `a=ssrc-group:SIM` lines (legacy SSRC simulcast).
  std::vector<std::vector<uint32_t>> simulcastSsrcGroups() const;
  /// The rids of a simulcast section for `direction`: from a=simulcast when present (in stream
  /// order, first alternative of each stream), otherwise from the a=rid lines.
  std::vector<SimulcastId> simulcastRids(RidDirection direction) const;
};

/// A whole offer or answer.
struct SessionDescription {
  uint32_t version = 0;
  Origin origin;
  std::string sessionName = "-";
  std::optional<Connection> connection;
  std::vector<Bandwidth> bandwidths;
  std::vector<Timing> timings{Timing{}};
  std::vector<OtherLine> otherLines;

  std::vector<Group> groups;
  bool iceLite = false;
  std::optional<std::string> iceUfrag;
  std::optional<std::string> icePwd;
  std::vector<std::string> iceOptions;
  std::vector<Fingerprint> fingerprints;
  std::optional<Setup> setup;
  std::optional<Direction> direction;
  std::optional<MsidSemantic> msidSemantic;
  bool extmapAllowMixed = false;
  std::vector<Attribute> otherAttributes;

  std::vector<MediaSection> media;

  bool operator==(const SessionDescription&) const = default;

  /// The group with these semantics (e.g. "BUNDLE"), if any.
  const Group* findGroup(std::string_view semantics) const;
  /// The section with this mid.
  const MediaSection* findMedia(std::string_view mid) const;
  /// ICE ufrag/pwd/options of `section`, media level first, then session level (RFC 8839 §5.4).
  /// Empty when no ufrag or pwd is found at either level.
  std::optional<IceCredentials> effectiveIce(const MediaSection& section) const;
  /// Fingerprints of `section`, media level first, then session level (RFC 8122 §5).
  const std::vector<Fingerprint>& effectiveFingerprints(const MediaSection& section) const;
  /// The DTLS setup role of `section`, media level first, then session level.
  std::optional<Setup> effectiveSetup(const MediaSection& section) const;
};

/// Lower-case token of an enum, as written in SDP ("sendrecv", "actpass", "host", "udp", "send").
std::string_view toString(Direction direction);
std::string_view toString(Setup setup);
std::string_view toString(CandidateType type);
std::string_view toString(CandidateTransport transport);
std::string_view toString(RidDirection direction);

}  // namespace meeting::proto::sdp
