#include "turn/PeerPolicy.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace meeting::turn {
namespace {

Address addr(const char* text) {
  auto r = IpRange::parse(text);
  EXPECT_TRUE(r) << text;
  return r ? r->base : Address{};
}

TEST(PeerPolicy, DefaultRefusesSpecialPurposeRanges) {
  PeerPolicy p;
  for (const char* bad : {"127.0.0.1", "127.9.9.9", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1",
                          "169.254.169.254", "224.0.0.1", "239.1.2.3", "255.255.255.255", "0.0.0.0", "0.1.2.3",
                          "100.64.0.1", "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1",
                          "::ffff:127.0.0.1", "::ffff:10.0.0.1"}) {
    EXPECT_FALSE(p.isAllowed(addr(bad))) << bad;
  }
  for (const char* good : {"8.8.8.8", "172.32.0.1", "172.15.255.255", "192.169.0.1", "1.1.1.1", "2001:4860::8888",
                           "::ffff:8.8.8.8", "11.0.0.1"}) {
    EXPECT_TRUE(p.isAllowed(addr(good))) << good;
  }
}

TEST(PeerPolicy, LoopbackSwitchAllowsOnlyLoopback) {
  PeerPolicy p;
  p.setAllowLoopback(true);
  EXPECT_TRUE(p.isAllowed(addr("127.0.0.1")));
  EXPECT_TRUE(p.isAllowed(addr("::1")));
  EXPECT_TRUE(p.isAllowed(addr("::ffff:127.0.0.1")));
  EXPECT_FALSE(p.isAllowed(addr("10.0.0.1")));
  EXPECT_FALSE(p.isAllowed(addr("169.254.169.254")));
}

TEST(PeerPolicy, AllowAndDenyLists) {
  PeerPolicy p;
  p.addAllowed(*IpRange::parse("10.20.0.0/16"));
  p.addDenied(*IpRange::parse("10.20.30.0/24"));
  p.addDenied(*IpRange::parse("8.8.4.4"));
  EXPECT_TRUE(p.isAllowed(addr("10.20.1.1")));
  EXPECT_FALSE(p.isAllowed(addr("10.20.30.1")));
  EXPECT_FALSE(p.isAllowed(addr("10.21.0.1")));
  EXPECT_FALSE(p.isAllowed(addr("8.8.4.4")));
  EXPECT_TRUE(p.isAllowed(addr("8.8.8.8")));
}

TEST(PeerPolicy, OwnAddressesAreRefused) {
  PeerPolicy p;
  Address own = addr("203.0.113.9");
  own.port = 3478;
  p.addOwnAddress(own);
  Address other = addr("203.0.113.9");
  other.port = 22;  // any port of the server itself
  EXPECT_FALSE(p.isAllowed(other));
  EXPECT_TRUE(p.isAllowed(addr("203.0.113.10")));
}

TEST(IpRange, ParseAndContains) {
  EXPECT_FALSE(IpRange::parse(""));
  EXPECT_FALSE(IpRange::parse("10.0.0.0/33"));
  EXPECT_FALSE(IpRange::parse("10.0.0.0/"));
  EXPECT_FALSE(IpRange::parse("10.0.0/8"));
  EXPECT_FALSE(IpRange::parse("fc00::/129"));
  auto r = IpRange::parse("172.16.0.0/12");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->prefix, 12);
  EXPECT_TRUE(r->contains(addr("172.20.1.1")));
  EXPECT_FALSE(r->contains(addr("172.32.0.0")));
  auto any = IpRange::parse("0.0.0.0/0");
  ASSERT_TRUE(any);
  EXPECT_TRUE(any->contains(addr("1.2.3.4")));
  EXPECT_FALSE(any->contains(addr("::1")));
}

}  // namespace
}  // namespace meeting::turn
