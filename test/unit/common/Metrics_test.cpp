#include "common/Metrics.hpp"

#include <gtest/gtest.h>

TEST(Metrics, RendersPrometheusText) {
  meeting::MetricsRegistry r;
  r.counter("meeting_test_total", "A test counter", {{"route", "/a\"b"}}).inc(3);
  r.gauge("meeting_test_gauge", "A gauge").set(2.5);
  auto& h = r.histogram("meeting_test_seconds", "A histogram", {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  auto text = r.render();
  EXPECT_NE(text.find("# TYPE meeting_test_total counter\nmeeting_test_total{route=\"/a\\\"b\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("meeting_test_gauge 2.5\n"), std::string::npos);
  EXPECT_NE(text.find("meeting_test_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("meeting_test_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("meeting_test_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("meeting_test_seconds_count 3\n"), std::string::npos);
}

TEST(Metrics, SameNameAndLabelsIsTheSameCounter) {
  meeting::MetricsRegistry r;
  auto& a = r.counter("x_total", "x", {{"k", "v"}});
  auto& b = r.counter("x_total", "x", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
}
