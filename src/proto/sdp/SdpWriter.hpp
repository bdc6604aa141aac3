#pragma once
// Writes a SessionDescription as SDP text in the order browsers produce and expect.
#include <string>

#include "proto/sdp/SessionDescription.hpp"

namespace meeting::proto::sdp {

/// Serializes `sd` with CRLF line endings: v=, o=, s=, c=, b=, t=, session attributes
/// (group, extmap-allow-mixed, msid-semantic, ice-lite, ICE, fingerprint, setup), then per
/// section m=, c=, b= and its attributes (ICE, DTLS, mid, extmap, direction, msid, rtcp-mux,
/// rtcp-rsize, rtpmap/rtcp-fb/fmtp per codec, ssrc-group, ssrc, rid, simulcast, SCTP,
/// candidates, end-of-candidates) and finally the unmodelled attributes in their order.
/// The model is trusted: the caller builds it from valid values (or from parse()).
std::string serialize(const SessionDescription& sd);

}  // namespace meeting::proto::sdp
