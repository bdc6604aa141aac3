#pragma once
// Helpers shared by the RTCP tests.
#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <vector>

#include "proto/rtcp/RtcpPacket.hpp"

namespace meeting::proto::rtcp::testing {

/// The single packet in `bytes`; fails the test when the walk does not yield exactly one.
inline RtcpPacketView onlyPacket(std::span<const uint8_t> bytes) {
  CompoundReader reader(bytes);
  RtcpPacketView view;
  EXPECT_TRUE(reader.next(view));
  RtcpPacketView extra;
  EXPECT_FALSE(reader.next(extra));
  EXPECT_FALSE(reader.failed());
  return view;
}

/// All packets of a compound; `ok` tells whether the walk ended cleanly.
inline std::vector<RtcpPacketView> allPackets(std::span<const uint8_t> bytes, bool& ok) {
  std::vector<RtcpPacketView> out;
  CompoundReader reader(bytes);
  RtcpPacketView view;
  while (reader.next(view)) out.push_back(view);
  ok = !reader.failed();
  return out;
}

}  // namespace meeting::proto::rtcp::testing
