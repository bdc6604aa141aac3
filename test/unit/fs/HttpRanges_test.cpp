#include "fs/HttpRanges.hpp"

#include <gtest/gtest.h>

using namespace meeting::fs;
using Kind = RangeRequest::Kind;

TEST(HttpRanges, SingleSuffixOpenAndClamped) {
  auto r = parseRange("bytes=0-9", 100);
  ASSERT_EQ(r.kind, Kind::Satisfiable);
  EXPECT_EQ(r.ranges[0].first, 0u);
  EXPECT_EQ(r.ranges[0].last, 9u);
  r = parseRange("bytes=-10", 100);
  ASSERT_EQ(r.kind, Kind::Satisfiable);
  EXPECT_EQ(r.ranges[0].first, 90u);
  EXPECT_EQ(r.ranges[0].last, 99u);
  r = parseRange("bytes=-1000", 100);  // suffix longer than the file: the whole file
  EXPECT_EQ(r.ranges[0].first, 0u);
  r = parseRange("bytes=95-", 100);
  EXPECT_EQ(r.ranges[0].last, 99u);
  r = parseRange("bytes=95-1000", 100);
  EXPECT_EQ(r.ranges[0].last, 99u);
}

TEST(HttpRanges, MultipleAndUnsatisfiable) {
  auto r = parseRange("bytes=0-1, 5-6 ,, -1", 10);
  ASSERT_EQ(r.kind, Kind::Satisfiable);
  ASSERT_EQ(r.ranges.size(), 3u);
  EXPECT_EQ(r.ranges[2].first, 9u);
  EXPECT_EQ(parseRange("bytes=10-", 10).kind, Kind::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=-0", 10).kind, Kind::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=0-", 0).kind, Kind::Unsatisfiable);
  // One satisfiable range among unsatisfiable ones is enough.
  EXPECT_EQ(parseRange("bytes=50-60,0-0", 10).kind, Kind::Satisfiable);
}

TEST(HttpRanges, InvalidOrExcessiveIsIgnored) {
  for (const char* h : {"", "bytes", "bytes=", "items=0-1", "bytes=a-b", "bytes=5-1", "bytes=1", "bytes=--1",
                        "bytes=0-1x", "bytes=99999999999999999999-"}) {
    EXPECT_EQ(parseRange(h, 100).kind, Kind::Ignore) << h;
  }
  std::string many = "bytes=0-0";
  for (int i = 1; i <= 16; ++i) many += "," + std::to_string(i) + "-" + std::to_string(i);
  EXPECT_EQ(parseRange(many, 100).kind, Kind::Ignore);
}

TEST(HttpRanges, IfNoneMatch) {
  EXPECT_TRUE(ifNoneMatchMatches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(ifNoneMatchMatches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(ifNoneMatchMatches("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(ifNoneMatchMatches("*", "\"abc\""));
  EXPECT_FALSE(ifNoneMatchMatches("\"abd\"", "\"abc\""));
  EXPECT_FALSE(ifNoneMatchMatches("", "\"abc\""));
}

TEST(HttpRanges, ContentDispositionIsSafe) {
  EXPECT_EQ(contentDisposition("report.pdf", false), "attachment; filename=\"report.pdf\"");
  EXPECT_EQ(contentDisposition("../../etc/passwd", false), "attachment; filename=\"passwd\"");
  EXPECT_EQ(contentDisposition("C:\\x\\a.png", true), "inline; filename=\"a.png\"");
  auto injected = contentDisposition("a\"b\r\nSet-Cookie: x=1;.txt", false);
  EXPECT_EQ(injected.find('\r'), std::string::npos);
  EXPECT_EQ(injected.find('\n'), std::string::npos);
  EXPECT_NE(injected.find("filename=\"a_bSet-Cookie: x=1_.txt\""), std::string::npos) << injected;
  EXPECT_EQ(contentDisposition("Протокол встречи.md", false),
            "attachment; filename=\"________ _______.md\"; "
            "filename*=UTF-8''%D0%9F%D1%80%D0%BE%D1%82%D0%BE%D0%BA%D0%BE%D0%BB%20%D0%B2%D1%81%D1%82%D1%80%D0%B5%D1%87%D0%B8.md");
  EXPECT_EQ(contentDisposition("", false), "attachment; filename=\"file\"");
  EXPECT_EQ(contentDisposition(".htaccess", false), "attachment; filename=\"htaccess\"");
  EXPECT_EQ(contentDisposition(std::string("a\0b", 3), false), "attachment; filename=\"ab\"");
}
