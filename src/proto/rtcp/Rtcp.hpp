#pragma once
// Front door of the RTCP codec (meeting::proto::rtcp): the compound-packet walk and one class
// per packet type, each with parse(), serialize() and, where the SFU sends it, build().
#include "proto/rtcp/App.hpp"                // IWYU pragma: export
#include "proto/rtcp/Bye.hpp"                // IWYU pragma: export
#include "proto/rtcp/Fir.hpp"                // IWYU pragma: export
#include "proto/rtcp/Nack.hpp"               // IWYU pragma: export
#include "proto/rtcp/Pli.hpp"                // IWYU pragma: export
#include "proto/rtcp/ReceiverReport.hpp"     // IWYU pragma: export
#include "proto/rtcp/Remb.hpp"               // IWYU pragma: export
#include "proto/rtcp/ReportBlock.hpp"        // IWYU pragma: export
#include "proto/rtcp/RtcpPacket.hpp"         // IWYU pragma: export
#include "proto/rtcp/Sdes.hpp"               // IWYU pragma: export
#include "proto/rtcp/SenderReport.hpp"       // IWYU pragma: export
#include "proto/rtcp/TransportFeedback.hpp"  // IWYU pragma: export
#include "proto/rtcp/Xr.hpp"                 // IWYU pragma: export
