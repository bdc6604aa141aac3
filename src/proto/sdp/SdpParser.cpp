#include "proto/sdp/SdpParser.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "proto/sdp/SdpAttributes.hpp"
#include "proto/sdp/SdpText.hpp"

namespace meeting::proto::sdp {

using text::nextWord;
using text::parseUnsigned;

namespace {

Error invalid(std::string message) { return Error{std::string(ErrorInvalid), std::move(message)}; }

// Prefixes an attribute parser's message with "a=" so it reads "a=rtpmap: bad payload type".
Error attributeError(const Error& e) { return Error{e.code, "a=" + e.message}; }

bool isRtpProtocol(std::string_view protocol) { return protocol.find("RTP/") != std::string_view::npos; }

// RFC 8866 §5 fixes the order of the non-attribute lines; the writer emits `otherLines` by
// this rank (i/u/e/p before c=, then r=, z=, k=), so the parser keeps them sorted the same way.
int otherLineRank(char type) {
  switch (type) {
    case 'r': return 1;
    case 'z': return 2;
    case 'k': return 3;
    default: return 0;
  }
}

void sortOtherLines(std::vector<OtherLine>& lines) {
  std::stable_sort(lines.begin(), lines.end(), [](const OtherLine& a, const OtherLine& b) {
    return otherLineRank(a.type) < otherLineRank(b.type);
  });
}

Result<Connection> parseConnection(std::string_view value) {
  std::string_view rest = value;
  std::string_view netType = nextWord(rest);
  std::string_view addrType = nextWord(rest);
  std::string_view address = nextWord(rest);
  if (!text::isToken(netType) || !text::isToken(addrType) || address.empty() || !rest.empty()) {
    return invalid("c= must be '<nettype> <addrtype> <address>'");
  }
  return Connection{std::string(netType), std::string(addrType), std::string(address)};
}

Result<Bandwidth> parseBandwidth(std::string_view value) {
  std::string_view rest = value;
  std::string_view type = text::splitAt(rest, ':');
  auto bw = parseUnsigned<uint64_t>(rest);
  if (!text::isToken(type) || !bw) return invalid("b= must be '<bwtype>:<bandwidth>'");
  return Bandwidth{std::string(type), *bw};
}

Result<Origin> parseOrigin(std::string_view value) {
  std::string_view rest = value;
  std::string_view words[6];
  for (auto& w : words) w = nextWord(rest);
  if (words[5].empty() || !rest.empty()) return invalid("o= must have 6 fields");
  Origin o;
  o.username = std::string(words[0]);
  // RFC 8866 §5.2: sess-id = 1*DIGIT; kept as text since browsers use up to 64 bits and more.
  bool digits = words[1].size() <= 32 &&
                std::all_of(words[1].begin(), words[1].end(), [](char c) { return text::isDigit(c); });
  if (!digits) return invalid("o= bad session id '" + std::string(words[1].substr(0, 40)) + "'");
  o.sessionId = std::string(words[1]);
  auto version = parseUnsigned<uint64_t>(words[2]);
  if (!version) return invalid("o= bad session version '" + std::string(words[2].substr(0, 40)) + "'");
  o.sessionVersion = *version;
  if (!text::isToken(words[3]) || !text::isToken(words[4])) return invalid("o= bad network or address type");
  o.netType = std::string(words[3]);
  o.addrType = std::string(words[4]);
  o.address = std::string(words[5]);
  return o;
}

Result<Timing> parseTiming(std::string_view value) {
  std::string_view rest = value;
  auto start = parseUnsigned<uint64_t>(nextWord(rest));
  auto stop = parseUnsigned<uint64_t>(nextWord(rest));
  if (!start || !stop || !rest.empty()) return invalid("t= must be '<start> <stop>'");
  return Timing{*start, *stop};
}

// m=<media> <port>[/<number of ports>] <proto> <fmt> ...   (RFC 8866 §5.14)
Result<MediaSection> parseMediaLine(std::string_view value) {
  MediaSection m;
  std::string_view rest = value;
  std::string_view kind = nextWord(rest);
  if (!text::isToken(kind)) return invalid("m= bad media type");
  if (kind == "audio") {
    m.kind = MediaKind::Audio;
  } else if (kind == "video") {
    m.kind = MediaKind::Video;
  } else if (kind == "application") {
    m.kind = MediaKind::Application;
  } else {
    m.kind = MediaKind::Other;
    m.kindName = std::string(kind);
  }
  std::string_view portText = nextWord(rest);
  bool hasCount = false;
  std::string_view portOnly = text::splitAt(portText, '/', &hasCount);
  auto port = parseUnsigned<uint16_t>(portOnly);
  if (!port) return invalid("m= bad port '" + std::string(portOnly.substr(0, 40)) + "'");
  m.port = *port;
  if (hasCount) {
    auto count = parseUnsigned<uint16_t>(portText);
    if (!count || *count == 0) return invalid("m= bad port count");
    m.portCount = *count;
  }
  std::string_view protocol = nextWord(rest);
  if (protocol.empty()) return invalid("m= missing protocol");
  for (char c : protocol) {
    if (!text::isTokenChar(c) && c != '/') return invalid("m= bad protocol");
  }
  m.protocol = std::string(protocol);
  bool rtp = isRtpProtocol(protocol);
  while (!rest.empty()) {
    std::string_view fmt = nextWord(rest);
    if (m.formats.size() >= MaxCodecsPerSection) return invalid("m= more than 256 formats");
    if (rtp) {
      auto pt = parseUnsigned<uint32_t>(fmt);
      if (!pt || *pt > 127) return invalid("m= bad payload type '" + std::string(fmt.substr(0, 40)) + "'");
      m.formats.push_back(std::to_string(*pt));  // normalised so "096" and "96" compare equal
    } else {
      if (!text::isToken(fmt)) return invalid("m= bad format '" + std::string(fmt.substr(0, 40)) + "'");
      m.formats.emplace_back(fmt);
    }
  }
  if (m.formats.empty()) return invalid("m= needs at least one format");
  return m;
}

class Parser {
 public:
  Result<SessionDescription> run(std::string_view sdp);

 private:
  enum class Stage { Version, Origin, Name, Session, Media };

  Result<void> line(char type, std::string_view value);
  Result<void> sessionLine(char type, std::string_view value);
  Result<void> mediaLine(char type, std::string_view value);
  Result<void> sessionAttribute(std::string_view name, std::optional<std::string_view> value);
  Result<void> mediaAttribute(std::string_view name, std::optional<std::string_view> value);
  Result<void> codecAttribute(std::string_view name, std::string_view value);
  Result<void> finishSession();
  Result<void> finishMedia();
  Codec* codecFor(uint8_t payloadType);

  template <typename Level>
  Result<void> commonAttribute(Level& level, std::string_view name, std::optional<std::string_view> value,
                               bool& handled);

  SessionDescription sd_;
  MediaSection* media_ = nullptr;
  Stage stage_ = Stage::Version;
  bool sawTiming_ = false;
};

Error lineError(size_t lineNo, const Error& e) {
  return Error{e.code, "line " + std::to_string(lineNo) + ": " + e.message};
}

Result<SessionDescription> Parser::run(std::string_view sdp) {
  if (sdp.size() > MaxSdpBytes) {
    // Name the line where the limit is crossed, so the message is as useful as the others.
    size_t lineNo = 1 + static_cast<size_t>(std::count(sdp.begin(), sdp.begin() + MaxSdpBytes, '\n'));
    return Error{std::string(ErrorTooLarge), "line " + std::to_string(lineNo) + ": SDP is " +
                                                 std::to_string(sdp.size()) + " bytes, more than " +
                                                 std::to_string(MaxSdpBytes)};
  }
  size_t lineNo = 0;
  std::string_view rest = sdp;
  while (!rest.empty()) {
    std::string_view raw = text::splitAt(rest, '\n');
    ++lineNo;
    if (lineNo > MaxSdpLines) {
      return Error{std::string(ErrorTooLarge),
                   "line " + std::to_string(lineNo) + ": more than " + std::to_string(MaxSdpLines) + " lines"};
    }
    if (raw.ends_with('\r')) raw.remove_suffix(1);
    if (raw.size() > MaxLineBytes) {
      return Error{std::string(ErrorTooLarge), "line " + std::to_string(lineNo) + ": line is " +
                                                   std::to_string(raw.size()) + " bytes, more than " +
                                                   std::to_string(MaxLineBytes)};
    }
    for (char c : raw) {
      // RFC 8866 §9: text excludes NUL, CR and LF; other control characters are refused too.
      if (c == '\0') return lineError(lineNo, invalid("NUL byte"));
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') return lineError(lineNo, invalid("control character"));
    }
    std::string_view content = raw;
    while (!content.empty() && text::isSpace(content.back())) content.remove_suffix(1);
    if (content.empty()) continue;  // tolerate blank lines, e.g. a trailing one
    if (content.size() < 2 || content[1] != '=' || content[0] < 'a' || content[0] > 'z') {
      return lineError(lineNo, invalid("expected '<type>=<value>'"));
    }
    if (auto r = line(content[0], content.substr(2)); !r) return lineError(lineNo, r.error());
  }
  if (stage_ != Stage::Session && stage_ != Stage::Media) {
    return lineError(lineNo + 1, invalid(stage_ == Stage::Version ? "missing v= line"
                                         : stage_ == Stage::Origin ? "missing o= line"
                                                                   : "missing s= line"));
  }
  if (stage_ == Stage::Session) {
    if (auto r = finishSession(); !r) return lineError(lineNo, r.error());
  } else if (auto r = finishMedia(); !r) {
    return lineError(lineNo, r.error());
  }
  return std::move(sd_);
}

Result<void> Parser::line(char type, std::string_view value) {
  switch (stage_) {
    case Stage::Version: {
      if (type != 'v') return invalid("expected v= as the first line");
      auto version = parseUnsigned<uint32_t>(value);
      if (!version || *version != 0) return invalid("v= must be 0");  // RFC 8866 §5.1
      sd_.version = 0;
      stage_ = Stage::Origin;
      return {};
    }
    case Stage::Origin: {
      if (type != 'o') return invalid("expected o= after v=");
      auto origin = parseOrigin(value);
      if (!origin) return origin.error();
      sd_.origin = std::move(*origin);
      stage_ = Stage::Name;
      return {};
    }
    case Stage::Name:
      if (type != 's') return invalid("expected s= after o=");
      sd_.sessionName = std::string(value);
      stage_ = Stage::Session;
      return {};
    case Stage::Session:
      return sessionLine(type, value);
    case Stage::Media:
      return mediaLine(type, value);
  }
  return {};
}

Result<void> Parser::sessionLine(char type, std::string_view value) {
  switch (type) {
    case 'm': {
      if (auto r = finishSession(); !r) return r;
      stage_ = Stage::Media;
      return mediaLine(type, value);
    }
    case 'c': {
      auto c = parseConnection(value);
      if (!c) return c.error();
      sd_.connection = std::move(*c);
      return {};
    }
    case 'b': {
      auto b = parseBandwidth(value);
      if (!b) return b.error();
      sd_.bandwidths.push_back(std::move(*b));
      return {};
    }
    case 't': {
      auto t = parseTiming(value);
      if (!t) return t.error();
      if (!sawTiming_) sd_.timings.clear();
      sawTiming_ = true;
      sd_.timings.push_back(*t);
      return {};
    }
    case 'i': case 'u': case 'e': case 'p': case 'r': case 'z': case 'k':
      sd_.otherLines.push_back(OtherLine{type, std::string(value)});
      return {};
    case 'a': {
      std::string_view rest = value;
      bool hasValue = false;
      std::string_view name = text::splitAt(rest, ':', &hasValue);
      return sessionAttribute(name, hasValue ? std::optional(rest) : std::nullopt);
    }
    default:
      // RFC 8866 §5: a description with an unknown type letter must be ignored as a whole.
      return invalid(std::string("unknown line type '") + type + "='");
  }
}

Result<void> Parser::finishSession() {
  if (!sawTiming_) return invalid("missing t= line in the session section");
  sortOtherLines(sd_.otherLines);
  return {};
}

Result<void> Parser::mediaLine(char type, std::string_view value) {
  switch (type) {
    case 'm': {
      if (media_ != nullptr) {
        if (auto r = finishMedia(); !r) return r;
      }
      if (sd_.media.size() >= MaxMediaSections) return invalid("more than 64 media sections");
      auto m = parseMediaLine(value);
      if (!m) return m.error();
      sd_.media.push_back(std::move(*m));
      media_ = &sd_.media.back();
      return {};
    }
    case 'c': {
      auto c = parseConnection(value);
      if (!c) return c.error();
      media_->connection = std::move(*c);
      return {};
    }
    case 'b': {
      auto b = parseBandwidth(value);
      if (!b) return b.error();
      media_->bandwidths.push_back(std::move(*b));
      return {};
    }
    case 'i': case 'k':
      media_->otherLines.push_back(OtherLine{type, std::string(value)});
      return {};
    case 'a': {
      std::string_view rest = value;
      bool hasValue = false;
      std::string_view name = text::splitAt(rest, ':', &hasValue);
      return mediaAttribute(name, hasValue ? std::optional(rest) : std::nullopt);
    }
    default:
      if (type == 'v' || type == 'o' || type == 's' || type == 't' || type == 'u' || type == 'e' ||
          type == 'p' || type == 'r' || type == 'z') {
        return invalid(std::string("'") + type + "=' is not allowed in a media section");
      }
      return invalid(std::string("unknown line type '") + type + "='");
  }
}

Result<void> Parser::finishMedia() {
  MediaSection& m = *media_;
  for (const MediaSection& other : sd_.media) {
    if (&other != &m && m.mid && other.mid == m.mid) return invalid("duplicate mid '" + *m.mid + "'");
  }
  // Codecs follow the m= line's preference order; any not listed there go last, as written.
  if (isRtpProtocol(m.protocol)) {
    std::array<uint16_t, 128> rank;  // payload types are 7 bits; formats were checked to be
    rank.fill(UINT16_MAX);           // numbers below 128 when the m= line was parsed
    for (size_t i = m.formats.size(); i-- > 0;) {
      if (auto pt = parseUnsigned<uint8_t>(m.formats[i]); pt && *pt < rank.size()) rank[*pt] = static_cast<uint16_t>(i);
    }
    std::stable_sort(m.codecs.begin(), m.codecs.end(), [&rank](const Codec& a, const Codec& b) {
      return rank[a.payloadType & 0x7f] < rank[b.payloadType & 0x7f];
    });
  }
  sortOtherLines(m.otherLines);
  return {};
}

Codec* Parser::codecFor(uint8_t payloadType) {
  for (Codec& c : media_->codecs) {
    if (c.payloadType == payloadType) return &c;
  }
  if (media_->codecs.size() >= MaxCodecsPerSection) return nullptr;
  media_->codecs.push_back(Codec{});
  media_->codecs.back().payloadType = payloadType;
  return &media_->codecs.back();
}

Result<void> requireValue(std::string_view name, std::optional<std::string_view> value) {
  if (!value || text::trim(*value).empty()) return invalid("a=" + std::string(name) + " needs a value");
  return {};
}

// Attributes allowed at session and media level (RFC 8839 §5.4, RFC 8122 §5, RFC 8866 §6.7).
template <typename Level>
Result<void> Parser::commonAttribute(Level& level, std::string_view name, std::optional<std::string_view> value,
                                     bool& handled) {
  handled = true;
  if (auto direction = parseDirection(name)) {
    level.direction = direction;
    return {};
  }
  if (name == "extmap-allow-mixed") {  // RFC 8285 §6
    level.extmapAllowMixed = true;
    return {};
  }
  bool needsValue = name == "ice-ufrag" || name == "ice-pwd" || name == "ice-options" ||
                    name == "fingerprint" || name == "setup";
  if (!needsValue) {
    handled = false;
    return {};
  }
  if (auto r = requireValue(name, value); !r) return r;
  std::string_view v = text::trim(*value);
  if (name == "ice-ufrag") {
    // RFC 8839 §5.4: ice-ufrag = 4*256ice-char, ice-pwd = 22*256ice-char
    if (v.size() < 4 || v.size() > 256 || !text::isIceChars(v)) return invalid("a=ice-ufrag: bad ufrag");
    level.iceUfrag = std::string(v);
  } else if (name == "ice-pwd") {
    if (v.size() < 22 || v.size() > 256 || !text::isIceChars(v)) return invalid("a=ice-pwd: bad password");
    level.icePwd = std::string(v);
  } else if (name == "ice-options") {
    level.iceOptions.clear();
    while (!v.empty()) level.iceOptions.emplace_back(nextWord(v));
  } else if (name == "fingerprint") {
    auto fp = parseFingerprint(v);
    if (!fp) return attributeError(fp.error());
    level.fingerprints.push_back(std::move(*fp));
  } else {
    auto setup = parseSetup(v);
    if (!setup) return invalid("a=setup: bad role '" + std::string(v.substr(0, 40)) + "'");
    level.setup = setup;
  }
  return {};
}

Result<void> Parser::sessionAttribute(std::string_view name, std::optional<std::string_view> value) {
  bool handled = false;
  if (auto r = commonAttribute(sd_, name, value, handled); !r || handled) return r;
  if (name == "ice-lite") {
    sd_.iceLite = true;
  } else if (name == "group") {
    if (auto r = requireValue(name, value); !r) return r;
    auto group = parseGroup(*value);
    if (!group) return attributeError(group.error());
    sd_.groups.push_back(std::move(*group));
  } else if (name == "msid-semantic") {
    if (auto r = requireValue(name, value); !r) return r;
    auto ms = parseMsidSemantic(*value);
    if (!ms) return attributeError(ms.error());
    sd_.msidSemantic = std::move(*ms);
  } else {
    sd_.otherAttributes.push_back(Attribute{std::string(name), value ? std::optional<std::string>(*value) : std::nullopt});
  }
  return {};
}

Result<void> Parser::codecAttribute(std::string_view name, std::string_view value) {
  if (name == "rtpmap") {
    auto parsed = parseRtpmap(value);
    if (!parsed) return attributeError(parsed.error());
    Codec* codec = codecFor(parsed->payloadType);
    if (codec == nullptr) return invalid("more than 256 codecs in the section");
    codec->name = std::move(parsed->name);
    codec->clockRate = parsed->clockRate;
    codec->channels = parsed->channels;
  } else if (name == "fmtp") {
    auto parsed = parseFmtp(value);
    if (!parsed) return attributeError(parsed.error());
    if (parsed->second.empty()) {
      // "a=fmtp:<pt>" alone carries nothing; do not invent a codec for it.
      for (Codec& c : media_->codecs) {
        if (c.payloadType == parsed->first) c.fmtp.clear();
      }
      return {};
    }
    Codec* codec = codecFor(parsed->first);
    if (codec == nullptr) return invalid("more than 256 codecs in the section");
    codec->fmtp = std::move(parsed->second);
  } else {
    auto parsed = parseRtcpFeedback(value);
    if (!parsed) return attributeError(parsed.error());
    if (!parsed->first) {
      media_->feedbackAll.push_back(std::move(parsed->second));
      return {};
    }
    Codec* codec = codecFor(*parsed->first);
    if (codec == nullptr) return invalid("more than 256 codecs in the section");
    codec->feedback.push_back(std::move(parsed->second));
  }
  return {};
}

Result<void> Parser::mediaAttribute(std::string_view name, std::optional<std::string_view> value) {
  MediaSection& m = *media_;
  bool handled = false;
  if (auto r = commonAttribute(m, name, value, handled); !r || handled) return r;
  if (name == "rtcp-mux") {
    m.rtcpMux = true;
    return {};
  }
  if (name == "rtcp-mux-only") {
    m.rtcpMuxOnly = true;
    return {};
  }
  if (name == "rtcp-rsize") {
    m.rtcpRsize = true;
    return {};
  }
  if (name == "end-of-candidates") {
    m.endOfCandidates = true;
    return {};
  }
  auto keep = [&m, name, value]() -> Result<void> {
    m.otherAttributes.push_back(Attribute{std::string(name), value ? std::optional<std::string>(*value) : std::nullopt});
    return {};
  };
  static constexpr std::string_view Valued[] = {
      "mid", "candidate", "rtpmap", "fmtp", "rtcp-fb", "extmap", "ssrc", "ssrc-group", "rid",
      "simulcast", "msid", "sctp-port", "max-message-size", "sctpmap"};
  if (std::find(std::begin(Valued), std::end(Valued), name) == std::end(Valued)) return keep();
  if (auto r = requireValue(name, value); !r) return r;
  std::string_view v = text::trim(*value);

  if (name == "rtpmap" || name == "fmtp" || name == "rtcp-fb") {
    // Payload formats only mean something in RTP sections; elsewhere they are kept verbatim.
    if (!isRtpProtocol(m.protocol)) return keep();
    return codecAttribute(name, v);
  }
  if (name == "mid") {
    if (!text::isWord(v)) return invalid("a=mid: bad identification tag");
    m.mid = std::string(v);
  } else if (name == "candidate") {
    auto c = parseCandidate(v);
    if (!c && c.error().code == ErrorUnsupportedCandidate) return keep();  // RFC 8839 §5.1: ignore
    if (!c) return attributeError(c.error());
    m.candidates.push_back(std::move(*c));
  } else if (name == "extmap") {
    auto e = parseExtmap(v);
    if (!e) return attributeError(e.error());
    m.extmaps.push_back(std::move(*e));
  } else if (name == "ssrc") {
    auto s = parseSsrc(v);
    if (!s) return attributeError(s.error());
    m.ssrcs.push_back(std::move(*s));
  } else if (name == "ssrc-group") {
    auto g = parseSsrcGroup(v);
    if (!g) return attributeError(g.error());
    m.ssrcGroups.push_back(std::move(*g));
  } else if (name == "rid") {
    auto rid = parseRid(v);
    if (!rid) return attributeError(rid.error());
    m.rids.push_back(std::move(*rid));
  } else if (name == "simulcast") {
    auto sc = parseSimulcast(v);
    if (!sc) return attributeError(sc.error());
    m.simulcast = std::move(*sc);
  } else if (name == "msid") {
    auto msid = parseMsid(v);
    if (!msid) return attributeError(msid.error());
    m.msids.push_back(std::move(*msid));
  } else if (name == "sctp-port") {  // RFC 8841 §5
    auto port = parseUnsigned<uint16_t>(v);
    if (!port) return invalid("a=sctp-port: bad port");
    m.sctpPort = *port;
  } else if (name == "max-message-size") {  // RFC 8841 §6
    auto size = parseUnsigned<uint64_t>(v);
    if (!size) return invalid("a=max-message-size: bad size");
    m.maxMessageSize = *size;
  } else {
    auto map = parseSctpmap(v);
    if (!map) return attributeError(map.error());
    m.sctpmap = std::move(*map);
  }
  return {};
}

}  // namespace

Result<SessionDescription> parse(std::string_view sdp) {
  Parser parser;
  return parser.run(sdp);
}

}  // namespace meeting::proto::sdp
