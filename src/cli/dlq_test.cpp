#include "cli/dlq.h"

#include <gtest/gtest.h>

namespace orderflow::cli {
namespace {

LogEvent line(std::int64_t ts, std::string message) {
  return {ts, 0, "stream", std::move(message), ""};
}

TEST(FailureReason, IsTheReasonOfTheNewestLineAboutTheMessage) {
  std::vector<LogEvent> events = {
      line(
          3000,
          R"({"level":"WARN","orderId":"o1","messageId":"m1","approximateReceiveCount":3,"outcome":"rejected","reason":"third","retryable":false})"),
      line(
          1000,
          R"({"level":"WARN","messageId":"m1","approximateReceiveCount":1,"outcome":"rejected","reason":"first"})"),
      line(4000,
           R"({"level":"WARN","messageId":"m2","outcome":"rejected","reason":"another message"})"),
      line(5000, R"({"level":"INFO","messageId":"m1","outcome":"stored"})"),  // no reason
  };
  auto r = find_failure_reason(events, "m1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "third");
  EXPECT_EQ(r->timestamp, 3000);
  EXPECT_EQ(r->outcome, "rejected");
}

TEST(FailureReason, ReadsLinesWithAPrefixAndSkipsOthers) {
  std::vector<LogEvent> events = {
      line(1, "START RequestId: 1 Version: $LATEST"),
      line(2, "not json at all {"),
      line(3,
           "2024-05-01T12:00:00.000Z\treq-1\t{\"messageId\":\"m1\",\"outcome\":\"store_error\","
           "\"reason\":\"timeout\"}\n"),
      line(4, R"({"messageId":"m1","reason":7})"),
      line(5, R"({"_aws":{"Timestamp":1},"OrdersRejected":1})"),
  };
  auto r = find_failure_reason(events, "m1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "timeout");
  EXPECT_EQ(r->outcome, "store_error");
  EXPECT_FALSE(find_failure_reason(events, "m9"));
  EXPECT_FALSE(find_failure_reason({}, "m1"));
}

TEST(FailureReason, OnATieTheLaterLineWins) {
  std::vector<LogEvent> events = {line(7, R"({"messageId":"m","reason":"a"})"),
                                  line(7, R"({"messageId":"m","reason":"b"})")};
  EXPECT_EQ(find_failure_reason(events, "m")->reason, "b");
}

TEST(FailureReason, FilterPatternQuotesTheMessageId) {
  EXPECT_EQ(message_id_filter("0f4c6a1e-1111-2222-3333-444455556666"),
            "\"0f4c6a1e-1111-2222-3333-444455556666\"");
  EXPECT_EQ(message_id_filter(R"(a"b\c)"), R"("a\"b\\c")");
}

}  // namespace
}  // namespace orderflow::cli
