#pragma once
// Front door of the SDP codec (meeting::proto::sdp): the model, parse(), serialize() and the
// per-attribute helpers (parseCandidate/formatCandidate for trickle ICE).
#include "proto/sdp/SdpAttributes.hpp"
#include "proto/sdp/SdpParser.hpp"
#include "proto/sdp/SdpWriter.hpp"
#include "proto/sdp/SessionDescription.hpp"
