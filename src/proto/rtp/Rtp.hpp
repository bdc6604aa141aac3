#pragma once
// Front door of the RTP codec (meeting::proto::rtp): the in-place packet view, header-extension
// readers and RFC 4588 RTX helpers.
#include "proto/rtp/RtpExtensions.hpp"  // IWYU pragma: export
#include "proto/rtp/RtpPacket.hpp"      // IWYU pragma: export
#include "proto/rtp/Rtx.hpp"            // IWYU pragma: export
