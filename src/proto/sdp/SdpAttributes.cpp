#include "proto/sdp/SdpAttributes.hpp"

#include "proto/sdp/SdpText.hpp"

namespace meeting::proto::sdp {

using text::nextWord;
using text::parseUnsigned;

namespace {

Error invalid(std::string message) { return Error{std::string(ErrorInvalid), std::move(message)}; }

std::string quoted(std::string_view s) {
  // Error messages quote at most a short prefix of the offending text.
  constexpr size_t MaxQuoted = 40;
  std::string out = "'";
  out.append(s.substr(0, MaxQuoted));
  if (s.size() > MaxQuoted) out.append("...");
  out.append("'");
  return out;
}

std::optional<uint8_t> parsePayloadType(std::string_view s) {
  // RFC 3551 §3: payload types are 7 bits.
  auto pt = parseUnsigned<uint32_t>(s);
  if (!pt || *pt > 127) return std::nullopt;
  return static_cast<uint8_t>(*pt);
}

bool isUpperHexPair(std::string_view s) {
  auto hex = [](char c) { return text::isDigit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); };
  return s.size() == 2 && hex(s[0]) && hex(s[1]);
}

Result<CandidateType> parseCandidateType(std::string_view s) {
  if (s == "host") return CandidateType::Host;
  if (s == "srflx") return CandidateType::Srflx;
  if (s == "prflx") return CandidateType::Prflx;
  if (s == "relay") return CandidateType::Relay;
  if (!text::isToken(s)) return invalid("candidate: bad type " + quoted(s));
  return Error{std::string(ErrorUnsupportedCandidate), "candidate: unsupported type " + quoted(s)};
}

// The part after "<foundation> ... typ <type>": raddr/rport/tcptype and extension pairs.
Result<void> parseCandidateTail(std::string_view rest, Candidate& c) {
  while (!rest.empty()) {
    std::string_view name = nextWord(rest);
    std::string_view value = nextWord(rest);
    if (value.empty()) return invalid("candidate: extension " + quoted(name) + " has no value");
    if (name == "raddr") {
      c.relatedAddress = std::string(value);
    } else if (name == "rport") {
      auto port = parseUnsigned<uint16_t>(value);
      if (!port) return invalid("candidate: bad rport " + quoted(value));
      c.relatedPort = *port;
    } else if (name == "tcptype") {
      // RFC 6544 §4.5
      if (value != "active" && value != "passive" && value != "so") {
        return invalid("candidate: bad tcptype " + quoted(value));
      }
      c.tcpType = std::string(value);
    } else {
      c.extensions.push_back(Param{std::string(name), std::string(value)});
    }
  }
  return {};
}

}  // namespace

// RFC 8839 §5.1:
// candidate-attribute = "candidate" ":" foundation SP component-id SP transport SP priority SP
//                       connection-address SP port SP cand-type [SP rel-addr] [SP rel-port]
//                       *(SP cand-extension)
Result<Candidate> parseCandidate(std::string_view value) {
  if (value.starts_with("a=")) value.remove_prefix(2);
  if (value.starts_with("candidate:")) value.remove_prefix(10);
  Candidate c;
  std::string_view rest = value;
  std::string_view foundation = nextWord(rest);
  if (foundation.empty() || foundation.size() > 32 || !text::isIceChars(foundation)) {
    return invalid("candidate: bad foundation " + quoted(foundation));
  }
  c.foundation = std::string(foundation);
  std::string_view component = nextWord(rest);
  auto comp = parseUnsigned<uint32_t>(component);
  if (!comp || *comp < 1 || *comp > 256) return invalid("candidate: bad component " + quoted(component));
  c.component = *comp;
  std::string_view transport = nextWord(rest);
  std::string_view priority = nextWord(rest);
  std::string_view address = nextWord(rest);
  std::string_view port = nextWord(rest);
  std::string_view typ = nextWord(rest);
  std::string_view type = nextWord(rest);
  if (!text::isToken(transport)) return invalid("candidate: bad transport " + quoted(transport));
  auto prio = parseUnsigned<uint32_t>(priority);
  if (!prio) return invalid("candidate: bad priority " + quoted(priority));
  c.priority = *prio;
  if (address.empty()) return invalid("candidate: missing address");
  c.address = std::string(address);
  auto portValue = parseUnsigned<uint16_t>(port);
  if (!portValue) return invalid("candidate: bad port " + quoted(port));
  c.port = *portValue;
  if (typ != "typ") return invalid("candidate: expected 'typ', got " + quoted(typ));
  auto candidateType = parseCandidateType(type);
  if (!candidateType) return candidateType.error();
  c.type = *candidateType;
  if (auto tail = parseCandidateTail(rest, c); !tail) return tail.error();
  // Checked last so a malformed candidate is reported as malformed, not unsupported.
  if (text::equalsIgnoreCase(transport, "udp")) {
    c.transport = CandidateTransport::Udp;
  } else if (text::equalsIgnoreCase(transport, "tcp")) {
    c.transport = CandidateTransport::Tcp;
  } else {
    return Error{std::string(ErrorUnsupportedCandidate), "candidate: unsupported transport " + quoted(transport)};
  }
  return c;
}

std::string formatCandidate(const Candidate& c) {
  std::string out = "candidate:";
  out += c.foundation;
  out += ' ';
  out += std::to_string(c.component);
  out += ' ';
  out += toString(c.transport);
  out += ' ';
  out += std::to_string(c.priority);
  out += ' ';
  out += c.address;
  out += ' ';
  out += std::to_string(c.port);
  out += " typ ";
  out += toString(c.type);
  if (c.relatedAddress) out += " raddr " + *c.relatedAddress;
  if (c.relatedPort) out += " rport " + std::to_string(*c.relatedPort);
  if (c.tcpType) out += " tcptype " + *c.tcpType;
  for (const Param& ext : c.extensions) {
    out += ' ';
    out += ext.key;
    out += ' ';
    out += ext.value;
  }
  return out;
}

// RFC 8851 §10: rid-syntax = "a=rid:" rid-id SP rid-dir [ rid-pt-param-list / rid-param-list ]
Result<Rid> parseRid(std::string_view value) {
  Rid rid;
  std::string_view rest = value;
  std::string_view id = nextWord(rest);
  if (!text::isRidId(id)) return invalid("rid: bad id " + quoted(id));
  rid.id = std::string(id);
  std::string_view dir = nextWord(rest);
  if (dir == "send") {
    rid.direction = RidDirection::Send;
  } else if (dir == "recv") {
    rid.direction = RidDirection::Recv;
  } else {
    return invalid("rid: direction must be send or recv, got " + quoted(dir));
  }
  while (!rest.empty()) {
    std::string_view param = text::trim(text::splitAt(rest, ';'));
    if (param.empty()) continue;
    std::string_view paramValue = param;
    std::string_view key = text::trim(text::splitAt(paramValue, '='));
    paramValue = text::trim(paramValue);
    if (!text::isToken(key)) return invalid("rid: bad parameter " + quoted(param));
    if (key == "pt") {
      while (!paramValue.empty()) {
        std::string_view fmt = text::trim(text::splitAt(paramValue, ','));
        auto pt = parsePayloadType(fmt);
        if (!pt) return invalid("rid: bad payload type " + quoted(fmt));
        rid.payloadTypes.push_back(*pt);
      }
    } else {
      if (!paramValue.empty() && !text::isWord(paramValue)) {
        return invalid("rid: bad value of " + quoted(key));
      }
      rid.restrictions.push_back(Param{std::string(key), std::string(paramValue)});
    }
  }
  return rid;
}

std::string formatRid(const Rid& rid) {
  std::string out = rid.id;
  out += ' ';
  out += toString(rid.direction);
  char sep = ' ';
  if (!rid.payloadTypes.empty()) {
    out += " pt=";
    for (size_t i = 0; i < rid.payloadTypes.size(); ++i) {
      if (i > 0) out += ',';
      out += std::to_string(rid.payloadTypes[i]);
    }
    sep = ';';
  }
  for (const Param& p : rid.restrictions) {
    out += sep;
    out += p.key;
    if (!p.value.empty()) {
      out += '=';
      out += p.value;
    }
    sep = ';';
  }
  return out;
}

namespace {

// sc-str-list = sc-alt-list *( ";" sc-alt-list ); sc-alt-list = sc-id *( "," sc-id )
Result<std::vector<std::vector<SimulcastId>>> parseSimulcastList(std::string_view list) {
  std::vector<std::vector<SimulcastId>> streams;
  bool more = true;
  while (more) {
    std::string_view alternatives = text::splitAt(list, ';', &more);
    std::vector<SimulcastId> stream;
    bool moreAlt = true;
    while (moreAlt) {
      std::string_view id = text::splitAt(alternatives, ',', &moreAlt);
      SimulcastId sid;
      if (id.starts_with('~')) {
        sid.paused = true;
        id.remove_prefix(1);
      }
      if (!text::isRidId(id)) return invalid("simulcast: bad rid " + quoted(id));
      sid.rid = std::string(id);
      stream.push_back(std::move(sid));
    }
    streams.push_back(std::move(stream));
  }
  return streams;
}

void appendSimulcastList(std::string& out, const std::vector<std::vector<SimulcastId>>& streams) {
  for (size_t i = 0; i < streams.size(); ++i) {
    if (i > 0) out += ';';
    for (size_t j = 0; j < streams[i].size(); ++j) {
      if (j > 0) out += ',';
      if (streams[i][j].paused) out += '~';
      out += streams[i][j].rid;
    }
  }
}

}  // namespace

// RFC 8853 §5.1: sc-value = ( sc-send [SP sc-recv] ) / ( sc-recv [SP sc-send] )
Result<Simulcast> parseSimulcast(std::string_view value) {
  Simulcast sc;
  std::string_view rest = value;
  bool seenSend = false;
  bool seenRecv = false;
  if (text::trim(rest).empty()) return invalid("simulcast: empty value");
  while (!rest.empty()) {
    std::string_view dir = nextWord(rest);
    std::string_view list = nextWord(rest);
    bool isSend = dir == "send";
    if (!isSend && dir != "recv") return invalid("simulcast: expected send or recv, got " + quoted(dir));
    if ((isSend && seenSend) || (!isSend && seenRecv)) return invalid("simulcast: direction repeated");
    if (list.empty()) return invalid("simulcast: " + std::string(dir) + " has no stream list");
    auto streams = parseSimulcastList(list);
    if (!streams) return streams.error();
    (isSend ? sc.send : sc.recv) = std::move(*streams);
    (isSend ? seenSend : seenRecv) = true;
  }
  return sc;
}

std::string formatSimulcast(const Simulcast& sc) {
  std::string out;
  if (!sc.send.empty()) {
    out += "send ";
    appendSimulcastList(out, sc.send);
  }
  if (!sc.recv.empty()) {
    if (!out.empty()) out += ' ';
    out += "recv ";
    appendSimulcastList(out, sc.recv);
  }
  return out;
}

Result<Codec> parseRtpmap(std::string_view value) {
  std::string_view rest = value;
  std::string_view ptText = nextWord(rest);
  auto pt = parsePayloadType(ptText);
  if (!pt) return invalid("rtpmap: bad payload type " + quoted(ptText));
  std::string_view encoding = rest;
  if (encoding.empty() || !text::isWord(encoding)) return invalid("rtpmap: bad encoding " + quoted(encoding));
  Codec codec;
  codec.payloadType = *pt;
  std::string_view name = text::splitAt(encoding, '/');
  if (!text::isToken(name)) return invalid("rtpmap: bad encoding name " + quoted(name));
  codec.name = std::string(name);
  bool hasChannels = false;
  std::string_view clock = text::splitAt(encoding, '/', &hasChannels);
  auto clockRate = parseUnsigned<uint32_t>(clock);
  if (!clockRate) return invalid("rtpmap: bad clock rate " + quoted(clock));
  codec.clockRate = *clockRate;
  if (hasChannels) {
    auto channels = parseUnsigned<uint32_t>(encoding);
    if (!channels) return invalid("rtpmap: bad channel count " + quoted(encoding));
    codec.channels = *channels;
  }
  return codec;
}

Result<std::pair<uint8_t, std::vector<Param>>> parseFmtp(std::string_view value) {
  std::string_view rest = value;
  std::string_view ptText = nextWord(rest);
  auto pt = parsePayloadType(ptText);
  if (!pt) return invalid("fmtp: bad payload type " + quoted(ptText));
  std::vector<Param> params;
  while (!rest.empty()) {
    std::string_view param = text::trim(text::splitAt(rest, ';'));
    if (param.empty()) continue;
    std::string_view paramValue = param;
    std::string_view key = text::trim(text::splitAt(paramValue, '='));
    if (key.empty()) return invalid("fmtp: parameter without a name " + quoted(param));
    params.push_back(Param{std::string(key), std::string(text::trim(paramValue))});
  }
  return std::pair{*pt, std::move(params)};
}

Result<std::pair<std::optional<uint8_t>, RtcpFeedback>> parseRtcpFeedback(std::string_view value) {
  std::string_view rest = value;
  std::string_view ptText = nextWord(rest);
  std::optional<uint8_t> pt;
  if (ptText != "*") {
    pt = parsePayloadType(ptText);
    if (!pt) return invalid("rtcp-fb: bad payload type " + quoted(ptText));
  }
  std::string_view type = nextWord(rest);
  if (!text::isToken(type)) return invalid("rtcp-fb: bad feedback type " + quoted(type));
  return std::pair{pt, RtcpFeedback{std::string(type), std::string(rest)}};
}

// RFC 8285 §8: extmap = mapentry SP extensionname [SP extensionattributes]
Result<Extmap> parseExtmap(std::string_view value) {
  std::string_view rest = value;
  std::string_view entry = nextWord(rest);
  bool hasDirection = false;
  std::string_view idText = text::splitAt(entry, '/', &hasDirection);
  auto id = parseUnsigned<uint16_t>(idText);
  // RFC 8285 §5: 1-14 one-byte, 1-255 two-byte; 4096-4351 only while negotiating.
  if (!id || *id == 0 || (*id > 255 && (*id < 4096 || *id > 4351))) {
    return invalid("extmap: bad id " + quoted(idText));
  }
  Extmap ext;
  ext.id = *id;
  if (hasDirection) {
    ext.direction = parseDirection(entry);
    if (!ext.direction) return invalid("extmap: bad direction " + quoted(entry));
  }
  std::string_view uri = nextWord(rest);
  if (uri.empty()) return invalid("extmap: missing URI");
  ext.uri = std::string(uri);
  ext.attributes = std::string(rest);
  return ext;
}

// RFC 5576 §4.1: ssrc-attr = "ssrc:" ssrc-id SP attribute
Result<SsrcAttribute> parseSsrc(std::string_view value) {
  std::string_view rest = value;
  std::string_view idText = nextWord(rest);
  auto ssrc = parseUnsigned<uint32_t>(idText);
  if (!ssrc) return invalid("ssrc: bad SSRC " + quoted(idText));
  std::string_view attrValue = rest;
  std::string_view name = text::splitAt(attrValue, ':');
  if (!text::isToken(name)) return invalid("ssrc: bad attribute " + quoted(name));
  return SsrcAttribute{*ssrc, std::string(name), std::string(attrValue)};
}

// RFC 5576 §4.2: ssrc-group-attr = "ssrc-group:" semantics *(SP ssrc-id)
Result<SsrcGroup> parseSsrcGroup(std::string_view value) {
  std::string_view rest = value;
  std::string_view semantics = nextWord(rest);
  if (!text::isToken(semantics)) return invalid("ssrc-group: bad semantics " + quoted(semantics));
  SsrcGroup group{std::string(semantics), {}};
  while (!rest.empty()) {
    std::string_view idText = nextWord(rest);
    auto ssrc = parseUnsigned<uint32_t>(idText);
    if (!ssrc) return invalid("ssrc-group: bad SSRC " + quoted(idText));
    group.ssrcs.push_back(*ssrc);
  }
  if (group.ssrcs.empty()) return invalid("ssrc-group: no SSRCs");
  return group;
}

Result<Msid> parseMsid(std::string_view value) {
  std::string_view rest = value;
  std::string_view stream = nextWord(rest);
  std::string_view track = nextWord(rest);
  if (stream.empty()) return invalid("msid: missing stream id");
  if (!rest.empty()) return invalid("msid: more than two ids");
  return Msid{std::string(stream), std::string(track)};
}

// RFC 8122 §5: fingerprint = hash-func SP 2UHEX *(":" 2UHEX)
Result<Fingerprint> parseFingerprint(std::string_view value) {
  std::string_view rest = value;
  std::string_view hashFunc = nextWord(rest);
  std::string_view hex = nextWord(rest);
  if (!text::isToken(hashFunc)) return invalid("fingerprint: bad hash function " + quoted(hashFunc));
  if (hex.empty() || !rest.empty()) return invalid("fingerprint: expected '<hash> <hex>'");
  std::string_view check = hex;
  bool more = true;
  while (more) {
    std::string_view pair = text::splitAt(check, ':', &more);
    if (!isUpperHexPair(pair)) return invalid("fingerprint: bad hex " + quoted(hex));
  }
  return Fingerprint{std::string(hashFunc), std::string(hex)};
}

Result<Group> parseGroup(std::string_view value) {
  std::string_view rest = value;
  std::string_view semantics = nextWord(rest);
  if (!text::isToken(semantics)) return invalid("group: bad semantics " + quoted(semantics));
  Group group{std::string(semantics), {}};
  while (!rest.empty()) group.mids.emplace_back(nextWord(rest));
  return group;
}

Result<MsidSemantic> parseMsidSemantic(std::string_view value) {
  std::string_view rest = value;
  std::string_view semantic = nextWord(rest);
  if (!text::isToken(semantic)) return invalid("msid-semantic: bad semantic " + quoted(semantic));
  MsidSemantic ms{std::string(semantic), {}};
  while (!rest.empty()) ms.ids.emplace_back(nextWord(rest));
  return ms;
}

Result<Sctpmap> parseSctpmap(std::string_view value) {
  std::string_view rest = value;
  std::string_view numberText = nextWord(rest);
  std::string_view app = nextWord(rest);
  std::string_view streamsText = nextWord(rest);
  auto number = parseUnsigned<uint16_t>(numberText);
  if (!number) return invalid("sctpmap: bad port " + quoted(numberText));
  if (!text::isToken(app)) return invalid("sctpmap: bad protocol " + quoted(app));
  Sctpmap map{*number, std::string(app), std::nullopt};
  if (!streamsText.empty()) {
    map.streams = parseUnsigned<uint32_t>(streamsText);
    if (!map.streams) return invalid("sctpmap: bad stream count " + quoted(streamsText));
  }
  if (!rest.empty()) return invalid("sctpmap: trailing text");
  return map;
}

std::optional<Setup> parseSetup(std::string_view value) {
  if (value == "actpass") return Setup::ActPass;
  if (value == "active") return Setup::Active;
  if (value == "passive") return Setup::Passive;
  if (value == "holdconn") return Setup::HoldConn;
  return std::nullopt;
}

std::optional<Direction> parseDirection(std::string_view token) {
  if (token == "sendrecv") return Direction::SendRecv;
  if (token == "sendonly") return Direction::SendOnly;
  if (token == "recvonly") return Direction::RecvOnly;
  if (token == "inactive") return Direction::Inactive;
  return std::nullopt;
}

}  // namespace meeting::proto::sdp
