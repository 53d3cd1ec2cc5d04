#include "cli/demo.h"

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "common/util.h"
#include "orders/order.h"

namespace orderflow::cli {
namespace {

constexpr std::int64_t kCreated = 1'714'566'600'250;  // 2024-05-01T12:30:00.250Z

TEST(DemoInvalidOrders, AreFiveOrdersTheFunctionRejectsForFiveDifferentReasons) {
  auto invalid = invalid_orders("abc123", kCreated);
  ASSERT_EQ(invalid.size(), kDemoInvalidOrders);
  std::set<std::string> kinds, reasons;
  for (const auto& inv : invalid) {
    auto order = orders::parse_order(inv.message);
    ASSERT_FALSE(order.has_value()) << inv.kind << ": " << inv.message;
    kinds.insert(inv.kind);
    reasons.insert(order.error().reason);
  }
  EXPECT_EQ(kinds.size(), kDemoInvalidOrders);
  EXPECT_EQ(reasons.size(), kDemoInvalidOrders);
  EXPECT_EQ(
      orders::parse_order(invalid[0].message).error().reason.rfind("order is not valid JSON", 0),
      0u);
  EXPECT_EQ(orders::parse_order(invalid[1].message).error().reason, "orderId is required");
}

TEST(DemoInvalidOrders, HaveOrderIdsThatAreNotValidOrderNumbers) {
  for (const auto& inv : invalid_orders("abc123", kCreated)) {
    auto order = orders::parse_order(inv.message);
    if (order.error().order_id) {
      EXPECT_FALSE(order_number(*order.error().order_id, "abc123").has_value());
    }
  }
}

TEST(DemoPlan, PutsFiveInvalidOrdersAndTenDuplicatesAmongTheValidOnes) {
  for (std::uint64_t orders : {1ull, 3ull, 10ull, 50ull, 1000ull, 1'000'000ull}) {
    auto plan = plan_extra_messages(orders);
    std::size_t invalid = 0, duplicates = 0;
    std::set<std::size_t> indexes;
    for (std::size_t i = 0; i < plan.size(); ++i) {
      const auto& e = plan[i];
      EXPECT_GE(e.after, 1u);
      EXPECT_LE(e.after, orders);
      if (i > 0) {
        EXPECT_LE(plan[i - 1].after, e.after) << "sorted by position";
      }
      if (e.kind == ExtraMessage::Kind::invalid) {
        ++invalid;
        indexes.insert(e.index);
      } else {
        ++duplicates;
        EXPECT_GE(e.order, 1u);
        EXPECT_LE(e.order, e.after) << "a duplicate follows its original";
      }
    }
    EXPECT_EQ(invalid, kDemoInvalidOrders) << orders;
    EXPECT_EQ(indexes.size(), kDemoInvalidOrders) << orders;
    EXPECT_EQ(duplicates, kDemoDuplicates) << orders;
  }
}

TEST(DemoPlan, SpreadsDuplicatesOverTheRun) {
  auto plan = plan_extra_messages(1000);
  std::set<std::uint64_t> originals;
  for (const auto& e : plan)
    if (e.kind == ExtraMessage::Kind::duplicate) originals.insert(e.order);
  EXPECT_EQ(originals, (std::set<std::uint64_t>{1, 101, 201, 301, 401, 501, 601, 701, 801, 901}));
}

TEST(DemoOrderNumber, ReadsTheNumberOfThisRunsOrdersOnly) {
  EXPECT_EQ(order_number("ord-abc123-1", "abc123"), 1u);
  EXPECT_EQ(order_number("ord-abc123-1000000", "abc123"), 1'000'000u);
  EXPECT_FALSE(order_number("ord-zzz999-1", "abc123"));
  EXPECT_FALSE(order_number("ord-abc123-", "abc123"));
  EXPECT_FALSE(order_number("ord-abc123-01", "abc123"));
  EXPECT_FALSE(order_number("ord-abc123-bad-total", "abc123"));
  EXPECT_FALSE(order_number("ord-abc123-99999999999999999999", "abc123"));
}

TEST(DemoTime, ParsesTheFunctionsReceivedAt) {
  EXPECT_EQ(parse_utc_ms("2024-05-01T12:30:00.250Z"), kCreated);
  EXPECT_EQ(parse_utc_ms("2024-05-01T12:30:00Z"), kCreated - 250);
  EXPECT_EQ(parse_utc_ms("2024-05-01T12:30:00.2Z"), kCreated - 50);
  EXPECT_EQ(parse_utc_ms("2024-05-01T12:30:00.250999Z"), kCreated);
  EXPECT_EQ(parse_utc_ms("1970-01-01T00:00:00.000Z"), 0);
  for (std::int64_t ms : {std::int64_t{0}, kCreated, std::int64_t{951'782'400'001}})  // 2000-02-29
    EXPECT_EQ(parse_utc_ms(iso8601_ms(ms)), ms);
}

TEST(DemoTime, RefusesAnythingElse) {
  for (const char* bad :
       {"", "2024-05-01", "2024-05-01T12:30:00", "2024-05-01T12:30:00.Z",
        "2024-05-01T12:30:00+02:00", "2024-02-30T00:00:00Z", "2024-05-01T24:00:00Z",
        "2024-05-01 12:30:00Z", "2024-05-01T12:30:00.250Zx"})
    EXPECT_FALSE(parse_utc_ms(bad).has_value()) << bad;
}

TEST(DemoPercentile, IsTheNearestRank) {
  std::vector<std::int64_t> hundred;
  for (int i = 1; i <= 100; ++i) hundred.push_back(i);
  EXPECT_EQ(percentile(hundred, 50), 50);
  EXPECT_EQ(percentile(hundred, 99), 99);
  EXPECT_EQ(percentile(hundred, 100), 100);
  EXPECT_EQ(percentile(hundred, 0.1), 1);
  std::vector<std::int64_t> thousand;
  for (int i = 1; i <= 1000; ++i) thousand.push_back(i);
  EXPECT_EQ(percentile(thousand, 99), 990);
  EXPECT_EQ(percentile({7}, 50), 7);
  EXPECT_EQ(percentile({7}, 99), 7);
  EXPECT_EQ(percentile({1, 2, 3}, 50), 2);
  EXPECT_EQ(percentile({1, 2, 3, 4}, 50), 2);
  EXPECT_EQ(percentile({1, 2, 3, 4}, 99), 4);
}

DemoSummary good_summary() {
  DemoSummary s;
  s.orders = 1000;
  s.published = 1015;
  s.publish_seconds = 1.5;
  s.stored = 1000;
  s.duplicates_suppressed = 10;
  for (const auto& inv : invalid_orders("abc123", kCreated)) {
    DeadLetter d;
    d.message_id = "m-" + inv.kind;
    d.kind = inv.kind;
    d.reason = "reason of " + inv.kind;
    d.receives = 3;
    if (inv.kind == "quantity 0") {
      d.order_id = "ord-abc123-bad-quantity";
    }
    s.dead_lettered.push_back(d);
  }
  s.throughput_per_s = 812.4;
  s.latency_p50_ms = 14;
  s.latency_p99_ms = 230;
  s.latency_max_ms = 300;
  s.seconds = 7.9;
  s.data_dir = "/tmp/orderflow-demo-x";
  s.read_back = true;
  return s;
}

TEST(DemoVerdict, AllAsExpectedHasNoProblems) {
  EXPECT_TRUE(find_problems(good_summary()).empty());
}

TEST(DemoVerdict, NamesEachShortfall) {
  auto s = good_summary();
  s.stored = 998;
  s.missing_sample = {"ord-abc123-7", "ord-abc123-9"};
  s.unexpected = 1;
  s.duplicates_suppressed = 9;
  s.dead_lettered.pop_back();
  s.queue_left = 2;
  s.publish_failed = 1;
  auto p = find_problems(s);
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[0], "1 message was not published");
  EXPECT_EQ(p[1], "2 of 1000 orders not in Orders (ord-abc123-7, ord-abc123-9)");
  EXPECT_EQ(p[2], "1 item in Orders that are not one of the valid orders");
  EXPECT_EQ(p[3], "9 duplicates suppressed, expected 10");
  EXPECT_EQ(p[4], "4 of the 5 invalid orders in OrderQueueDLQ-CF (4 messages there)");
  EXPECT_EQ(p[5], "2 messages still in OrderQueue-CF");
}

TEST(DemoVerdict, AStrangerInTheDlqOrAFailureIsAProblem) {
  auto s = good_summary();
  s.dead_lettered[0].kind = "";
  auto p = find_problems(s);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], "1 message in OrderQueueDLQ-CF that are not one of the invalid orders");
  s = good_summary();
  s.failure = "nothing came through OrderQueue-CF for 120 s (--timeout)";
  EXPECT_EQ(find_problems(s), std::vector<std::string>{s.failure});
}

TEST(DemoVerdict, ARunStoppedBeforeReadingBackFailsWithItsReasonOnly) {
  DemoSummary s;
  s.orders = 1000;
  EXPECT_EQ(find_problems(s), std::vector<std::string>{"the outcome was not read back"});
  s.failure = "the stack stopped answering (interrupted?): connect: refused";
  EXPECT_EQ(find_problems(s), std::vector<std::string>{s.failure});
  std::string text = format_summary(s);
  EXPECT_EQ(text.find("stored"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  outcome        not read back: the run stopped early\n"),
            std::string::npos)
      << text;
  EXPECT_TRUE(text.ends_with("\n  result         FAILED\n    " + s.failure + "\n")) << text;
}

TEST(DemoSummaryText, ReportsEachOutcomeOnItsOwnLine) {
  std::string text = format_summary(good_summary());
  EXPECT_NE(text.find("orderflow demo: 1000 orders through OrderTopic -> OrderQueue-CF -> "
                      "ProcessOrderLambda -> Orders\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n  published      1015 messages in 1.50 s (1000 valid orders, 5 invalid, "
                      "10 duplicates)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n  stored         1000 of 1000 orders in Orders\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\n  duplicates     10 of 10 re-published orders suppressed"),
            std::string::npos);
  EXPECT_NE(text.find("\n  dead-lettered  5 of 5 invalid orders in OrderQueueDLQ-CF:\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("    quantity 0      ord-abc123-bad-quantity         3  reason of quantity 0\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("\n  throughput     812 orders/s (first publish to last stored)\n"),
            std::string::npos);
  EXPECT_NE(text.find("\n  latency        p50 14 ms, p99 230 ms, max 300 ms (publish to stored)\n"),
            std::string::npos);
  EXPECT_NE(text.find("\n  data           removed: /tmp/orderflow-demo-x\n"), std::string::npos);
  EXPECT_TRUE(text.ends_with("\n  result         OK\n")) << text;
}

TEST(DemoSummaryText, EndsWithTheProblemsWhenItFailed) {
  auto s = good_summary();
  s.duplicates_suppressed = 0;
  s.latency_p50_ms.reset();
  s.latency_p99_ms.reset();
  s.latency_max_ms.reset();
  s.throughput_per_s.reset();
  std::string text = format_summary(s);
  EXPECT_NE(text.find("\n  latency        p50 -, p99 -, max - (publish to stored)\n"),
            std::string::npos);
  EXPECT_NE(text.find("\n  throughput     -\n"), std::string::npos);
  EXPECT_TRUE(
      text.ends_with("\n  result         FAILED\n    0 duplicates suppressed, expected 10\n"))
      << text;
}

TEST(DemoSummaryJson, CarriesTheCountsAndTheVerdict) {
  auto j = summary_json(good_summary());
  EXPECT_EQ(j.at("ok"), true);
  EXPECT_EQ(j.at("stored"), 1000);
  EXPECT_EQ(j.at("expected"), 1000);
  EXPECT_EQ(j.at("duplicates_suppressed"), 10);
  EXPECT_EQ(j.at("dead_lettered").as_array().size(), 5u);
  const auto& q = j.at("dead_lettered").as_array()[2].as_object();
  EXPECT_EQ(q.at("orderId"), "ord-abc123-bad-quantity");
  EXPECT_EQ(q.at("reason"), "reason of quantity 0");
  EXPECT_EQ(q.at("receives"), 3);
  EXPECT_FALSE(j.at("dead_lettered").as_array()[0].as_object().contains("orderId"));
  EXPECT_EQ(j.at("throughput_per_s"), 812.4);
  EXPECT_EQ(j.at("latency_ms").as_object().at("p50"), 14);
  EXPECT_EQ(j.at("latency_ms").as_object().at("p99"), 230);
  EXPECT_EQ(j.at("seconds"), 7.9);
  EXPECT_TRUE(j.at("problems").as_array().empty());

  auto s = good_summary();
  s.stored = 999;
  auto failed = summary_json(s);
  EXPECT_EQ(failed.at("ok"), false);
  EXPECT_EQ(failed.at("problems").as_array().size(), 1u);
}

}  // namespace
}  // namespace orderflow::cli
