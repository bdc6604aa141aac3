#include "proto/sdp/SdpWriter.hpp"

#include "proto/sdp/SdpAttributes.hpp"

namespace meeting::proto::sdp {

namespace {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  // One "<type>=<parts...>\r\n" line.
  template <typename... Parts>
  void line(char type, const Parts&... parts) {
    out_ += type;
    out_ += '=';
    (append(parts), ...);
    out_ += "\r\n";
  }

 private:
  void append(std::string_view s) { out_ += s; }
  void append(const std::string& s) { out_ += s; }
  void append(const char* s) { out_ += s; }
  void append(char c) { out_ += c; }
  void append(uint64_t v) { out_ += std::to_string(v); }
  void append(uint32_t v) { out_ += std::to_string(v); }
  void append(uint16_t v) { out_ += std::to_string(v); }
  void append(uint8_t v) { out_ += std::to_string(v); }

  std::string& out_;
};

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) {
    out += ' ';
    out += w;
  }
  return out;
}

void writeConnection(Writer& w, const Connection& c) { w.line('c', c.netType, ' ', c.addrType, ' ', c.address); }

void writeOtherLines(Writer& w, const std::vector<OtherLine>& lines, bool early) {
  // i=, u=, e=, p= come before c=; r=, z=, k= after t= (RFC 8866 §5).
  for (const OtherLine& l : lines) {
    bool isEarly = l.type != 'r' && l.type != 'z' && l.type != 'k';
    if (isEarly == early) w.line(l.type, l.value);
  }
}

void writeBandwidths(Writer& w, const std::vector<Bandwidth>& bandwidths) {
  for (const Bandwidth& b : bandwidths) w.line('b', b.type, ':', b.value);
}

void writeAttributes(Writer& w, const std::vector<Attribute>& attributes) {
  for (const Attribute& a : attributes) {
    if (a.value) {
      w.line('a', a.name, ':', *a.value);
    } else {
      w.line('a', a.name);
    }
  }
}

// ICE and DTLS attributes, shared by the session and media levels.
template <typename Level>
void writeTransport(Writer& w, const Level& level) {
  if (level.iceUfrag) w.line('a', "ice-ufrag:", *level.iceUfrag);
  if (level.icePwd) w.line('a', "ice-pwd:", *level.icePwd);
  if (!level.iceOptions.empty()) w.line('a', "ice-options:", joined(level.iceOptions).substr(1));
  for (const Fingerprint& f : level.fingerprints) w.line('a', "fingerprint:", f.hashFunc, ' ', f.value);
  if (level.setup) w.line('a', "setup:", toString(*level.setup));
}

void writeCodec(Writer& w, const Codec& c) {
  if (!c.name.empty()) {
    if (c.channels != 0) {
      w.line('a', "rtpmap:", c.payloadType, ' ', c.name, '/', c.clockRate, '/', c.channels);
    } else {
      w.line('a', "rtpmap:", c.payloadType, ' ', c.name, '/', c.clockRate);
    }
  }
  for (const RtcpFeedback& fb : c.feedback) {
    if (fb.param.empty()) {
      w.line('a', "rtcp-fb:", c.payloadType, ' ', fb.type);
    } else {
      w.line('a', "rtcp-fb:", c.payloadType, ' ', fb.type, ' ', fb.param);
    }
  }
  if (!c.fmtp.empty()) {
    std::string params;
    for (const Param& p : c.fmtp) {
      if (!params.empty()) params += ';';
      params += p.key;
      if (!p.value.empty()) {
        params += '=';
        params += p.value;
      }
    }
    w.line('a', "fmtp:", c.payloadType, ' ', params);
  }
}

void writeRtp(Writer& w, const MediaSection& m) {
  for (const Codec& c : m.codecs) writeCodec(w, c);
  for (const RtcpFeedback& fb : m.feedbackAll) {
    if (fb.param.empty()) {
      w.line('a', "rtcp-fb:* ", fb.type);
    } else {
      w.line('a', "rtcp-fb:* ", fb.type, ' ', fb.param);
    }
  }
  for (const SsrcGroup& g : m.ssrcGroups) {
    std::string ssrcs;
    for (uint32_t s : g.ssrcs) ssrcs += ' ' + std::to_string(s);
    w.line('a', "ssrc-group:", g.semantics, ssrcs);
  }
  for (const SsrcAttribute& s : m.ssrcs) {
    if (s.value.empty()) {
      w.line('a', "ssrc:", s.ssrc, ' ', s.attribute);
    } else {
      w.line('a', "ssrc:", s.ssrc, ' ', s.attribute, ':', s.value);
    }
  }
  for (const Rid& r : m.rids) w.line('a', "rid:", formatRid(r));
  if (m.simulcast && (!m.simulcast->send.empty() || !m.simulcast->recv.empty())) {
    w.line('a', "simulcast:", formatSimulcast(*m.simulcast));
  }
}

void writeMedia(Writer& w, const MediaSection& m) {
  std::string port = std::to_string(m.port);
  if (m.portCount != 0) port += '/' + std::to_string(m.portCount);
  w.line('m', m.kindToken(), ' ', port, ' ', m.protocol, joined(m.formats));
  writeOtherLines(w, m.otherLines, true);
  if (m.connection) writeConnection(w, *m.connection);
  writeBandwidths(w, m.bandwidths);
  writeOtherLines(w, m.otherLines, false);
  writeTransport(w, m);
  if (m.mid) w.line('a', "mid:", *m.mid);
  for (const Extmap& e : m.extmaps) {
    std::string entry = std::to_string(e.id);
    if (e.direction) {
      entry += '/';
      entry += toString(*e.direction);
    }
    if (e.attributes.empty()) {
      w.line('a', "extmap:", entry, ' ', e.uri);
    } else {
      w.line('a', "extmap:", entry, ' ', e.uri, ' ', e.attributes);
    }
  }
  if (m.direction) w.line('a', toString(*m.direction));
  for (const Msid& id : m.msids) {
    if (id.trackId.empty()) {
      w.line('a', "msid:", id.streamId);
    } else {
      w.line('a', "msid:", id.streamId, ' ', id.trackId);
    }
  }
  if (m.rtcpMux) w.line('a', "rtcp-mux");
  if (m.rtcpMuxOnly) w.line('a', "rtcp-mux-only");
  if (m.rtcpRsize) w.line('a', "rtcp-rsize");
  if (m.extmapAllowMixed) w.line('a', "extmap-allow-mixed");
  writeRtp(w, m);
  if (m.sctpPort) w.line('a', "sctp-port:", *m.sctpPort);
  if (m.maxMessageSize) w.line('a', "max-message-size:", *m.maxMessageSize);
  if (m.sctpmap) {
    if (m.sctpmap->streams) {
      w.line('a', "sctpmap:", m.sctpmap->number, ' ', m.sctpmap->app, ' ', *m.sctpmap->streams);
    } else {
      w.line('a', "sctpmap:", m.sctpmap->number, ' ', m.sctpmap->app);
    }
  }
  for (const Candidate& c : m.candidates) w.line('a', formatCandidate(c));
  if (m.endOfCandidates) w.line('a', "end-of-candidates");
  writeAttributes(w, m.otherAttributes);
}

}  // namespace

std::string serialize(const SessionDescription& sd) {
  std::string out;
  out.reserve(1024 + sd.media.size() * 2048);
  Writer w(out);
  const Origin& o = sd.origin;
  w.line('v', sd.version);
  w.line('o', o.username, ' ', o.sessionId, ' ', o.sessionVersion, ' ', o.netType, ' ', o.addrType, ' ', o.address);
  w.line('s', sd.sessionName);
  writeOtherLines(w, sd.otherLines, true);
  if (sd.connection) writeConnection(w, *sd.connection);
  writeBandwidths(w, sd.bandwidths);
  for (const Timing& t : sd.timings) w.line('t', t.start, ' ', t.stop);
  writeOtherLines(w, sd.otherLines, false);
  for (const Group& g : sd.groups) w.line('a', "group:", g.semantics, joined(g.mids));
  if (sd.extmapAllowMixed) w.line('a', "extmap-allow-mixed");
  if (sd.msidSemantic) w.line('a', "msid-semantic:", sd.msidSemantic->semantic, joined(sd.msidSemantic->ids));
  if (sd.iceLite) w.line('a', "ice-lite");
  writeTransport(w, sd);
  if (sd.direction) w.line('a', toString(*sd.direction));
  writeAttributes(w, sd.otherAttributes);
  for (const MediaSection& m : sd.media) writeMedia(w, m);
  return out;
}

}  // namespace meeting::proto::sdp
