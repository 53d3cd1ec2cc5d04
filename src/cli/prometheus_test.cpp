#include "cli/prometheus.h"

#include <gtest/gtest.h>

#include <cmath>

namespace orderflow::cli {
namespace {

TEST(Prometheus, ReadsSamplesWithAndWithoutLabels) {
  auto s = parse_metric_line(R"(orderflow_function_workers{function="ProcessOrderLambda"} 2)");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "orderflow_function_workers");
  EXPECT_EQ(s->labels.at("function"), "ProcessOrderLambda");
  EXPECT_EQ(s->value, 2);
  auto plain = parse_metric_line("up 1 1714566600000");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->name, "up");
  EXPECT_TRUE(plain->labels.empty());
  EXPECT_EQ(plain->value, 1);
}

TEST(Prometheus, ReadsEscapedLabelValuesAndSpecialValues) {
  auto s = parse_metric_line(R"(m{a="x\"y\\z\nw",b="2",} +Inf)");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->labels.at("a"), "x\"y\\z\nw");
  EXPECT_EQ(s->labels.at("b"), "2");
  EXPECT_TRUE(std::isinf(s->value));
  EXPECT_TRUE(std::isnan(parse_metric_line("m NaN")->value));
  EXPECT_EQ(parse_metric_line("m 1.5e3")->value, 1500);
}

TEST(Prometheus, SkipsCommentsBlankAndMalformedLines) {
  for (const char* line : {"# HELP x y", "# TYPE x counter", "", "   ", "{a=\"b\"} 1", "m{a=b} 1",
                           "m{a=\"b\" 1", "m", "m one", "m 1 2 3", "m 0x10", "m inf", "9m 1"}) {
    EXPECT_FALSE(parse_metric_line(line)) << line;
  }
}

TEST(Prometheus, FindsTheSampleWhoseLabelsMatch) {
  auto samples = parse_metrics(
      "# HELP orderflow_function_invocations_total Invocations\r\n"
      "# TYPE orderflow_function_invocations_total counter\n"
      "orderflow_function_invocations_total{function=\"Other\"} 5\n"
      "garbage line {\n"
      "orderflow_function_invocations_total{function=\"ProcessOrderLambda\",status=\"ok\"} 42\n"
      "orderflow_function_workers 3");
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(find_metric(samples, "orderflow_function_invocations_total",
                        {{"function", "ProcessOrderLambda"}}),
            42);
  EXPECT_EQ(find_metric(samples, "orderflow_function_workers"), 3);
  EXPECT_FALSE(find_metric(samples, "orderflow_function_workers", {{"function", "X"}}));
  EXPECT_FALSE(find_metric(samples, "orderflow_function_errors_total"));
  EXPECT_TRUE(parse_metrics("").empty());
}

}  // namespace
}  // namespace orderflow::cli
