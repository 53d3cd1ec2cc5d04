#include "orders/processor.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "orders/dynamodb_item.h"
#include "orders/json.h"

namespace orderflow::orders {
namespace {

// Stores orders in memory, like the table with attribute_not_exists(orderId) would; an
// orderId listed in `failures` fails with the given outcome instead.
class FakeStore final : public OrderStore {
 public:
  StoreOutcome put_if_absent(const Order& order, std::string_view received_at,
                             std::string_view message_id) override {
    ++calls;
    if (auto f = failures.find(order.order_id); f != failures.end()) return f->second;
    if (items.contains(order.order_id)) return StoreOutcome::duplicate();
    items[order.order_id] = to_json(to_dynamodb_item(order, received_at, message_id));
    return StoreOutcome::stored();
  }
  std::vector<std::optional<StoreOutcome>> put_all(std::span<const PutRequest> requests,
                                                    const std::function<bool()>& may_start) override {
    std::vector<std::string> ids;
    for (const auto& r : requests) ids.push_back(r.order->order_id);
    put_all_calls.push_back(ids);
    return OrderStore::put_all(requests, may_start);
  }
  std::map<std::string, std::string> items;  // orderId -> item JSON
  std::map<std::string, StoreOutcome> failures;
  int calls = 0;
  std::vector<std::vector<std::string>> put_all_calls;  // the orderIds of each call
};

class CapturingLog final : public LogSink {
 public:
  void write(std::string_view line) override { lines.emplace_back(line); }
  std::vector<std::string> lines;
};

std::string escape(const std::string& s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

// One SQS record, with the body as given (already the text SQS holds).
std::string record(const std::string& message_id, const std::string& body, int receive_count = 1) {
  return R"({"messageId":)" + escape(message_id) + R"(,"receiptHandle":"rh-)" + message_id +
         R"(","body":)" + escape(body) +
         R"(,"attributes":{"ApproximateReceiveCount":")" + std::to_string(receive_count) +
         R"(","SentTimestamp":"1545082649183","SenderId":"AIDAIENQZJOLO23YVJ4VO",)"
         R"("ApproximateFirstReceiveTimestamp":"1545082649185"},"messageAttributes":{},)"
         R"("md5OfMessageAttributes":null,"md5OfBody":"e4e68fb7bd0e697a0ae8f1bb342846b3",)"
         R"("eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:000000000000:OrderQueue-CF",)"
         R"("awsRegion":"us-east-1"})";
}

// The body SNS puts into the queue for a published `message`.
std::string sns_envelope(const std::string& message, const std::string& sns_id = "sns-1") {
  return R"({
  "Type" : "Notification",
  "MessageId" : ")" + sns_id + R"(",
  "TopicArn" : "arn:aws:sns:us-east-1:000000000000:OrderTopic",
  "Message" : )" + escape(message) + R"(,
  "Timestamp" : "2024-05-01T12:00:00.000Z",
  "SignatureVersion" : "1",
  "Signature" : "EXAMPLE",
  "SigningCertURL" : "http://127.0.0.1:4566/SimpleNotificationService-0000.pem",
  "UnsubscribeURL" : "http://127.0.0.1:4566/?Action=Unsubscribe"
})";
}

std::string event(const std::vector<std::string>& records) {
  std::string out = R"({"Records":[)";
  for (std::size_t i = 0; i < records.size(); ++i) out += (i ? "," : "") + records[i];
  return out + "]}";
}

class Processor : public ::testing::Test {
 protected:
  std::expected<BatchResult, InvalidEvent> run(const std::string& event_json,
                                               const ProcessOptions& options = {}) {
    return process_sqs_event(event_json, store, clock, log, options);
  }
  // The JSON log lines about records (everything but the EMF line), parsed.
  std::vector<JsonValue> record_logs() const {
    std::vector<JsonValue> out;
    for (const auto& l : log.lines) {
      auto v = parse_json(l);
      EXPECT_TRUE(v.has_value()) << l;
      if (v && v->find("_aws") == nullptr) out.push_back(*v);
    }
    return out;
  }
  const std::string& emf() const { return log.lines.back(); }

  FakeStore store;
  ManualClock clock;
  CapturingLog log;
};

TEST_F(Processor, StoresAnOrderDeliveredInAnSnsEnvelope) {
  auto r = run(event({record("m-1", sns_envelope(R"({"orderId":"o-1","total":12.50})", "sns-9"))}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->response_body, R"({"batchItemFailures":[]})");
  EXPECT_EQ(r->stored, 1u);
  ASSERT_TRUE(store.items.contains("o-1"));
  EXPECT_EQ(store.items["o-1"],
            R"({"orderId":{"S":"o-1"},"total":{"N":"12.50"},"receivedAt":{"S":"2023-11-14T22:13:20.000Z"},)"
            R"("messageId":{"S":"sns-9"}})");
}

TEST_F(Processor, StoresAnOrderDeliveredAsARawBodyWithTheSqsMessageId) {
  auto r = run(event({record("m-raw", R"({"orderId":"o-2"})")}));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->failed_message_ids.empty());
  EXPECT_NE(store.items["o-2"].find(R"("messageId":{"S":"m-raw"})"), std::string::npos);
}

TEST_F(Processor, WritesOneStructuredLogLinePerRecord) {
  auto r = run(event({record("m-1", sns_envelope(R"({"orderId":"o-1"})"), 2),
                      record("m-2", sns_envelope(R"({"orderId":"o-2","currency":"usd"})"), 3)}));
  ASSERT_TRUE(r.has_value());
  auto logs = record_logs();
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(to_json(logs[0]),
            R"({"level":"INFO","orderId":"o-1","messageId":"m-1","approximateReceiveCount":2,"outcome":"stored"})");
  EXPECT_EQ(to_json(logs[1]),
            R"({"level":"WARN","orderId":"o-2","messageId":"m-2","approximateReceiveCount":3,)"
            R"("outcome":"rejected","reason":"currency must be an ISO 4217 code of three uppercase letters, like USD"})");
}

TEST_F(Processor, ADuplicateDeliveryCountsAsSuccess) {
  std::string order = R"({"orderId":"o-1"})";
  auto r = run(event({record("m-1", sns_envelope(order, "s1")), record("m-2", sns_envelope(order, "s2"))}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->response_body, R"({"batchItemFailures":[]})");
  EXPECT_EQ(r->stored, 1u);
  EXPECT_EQ(r->duplicates, 1u);
  EXPECT_EQ(store.items.size(), 1u);
  EXPECT_NE(store.items["o-1"].find(R"("messageId":{"S":"s1"})"), std::string::npos);  // first wins
  EXPECT_EQ(to_json(*record_logs()[1].find("outcome")), R"("duplicate")");
}

TEST_F(Processor, ReportsOnlyTheFailedRecordsOfAPartiallyFailedBatch) {
  auto r = run(event({record("m-ok", sns_envelope(R"({"orderId":"a"})")),
                      record("m-json", sns_envelope("{not json")),
                      record("m-noid", sns_envelope(R"({"customerId":"c-1","total":5})")),
                      record("m-ok2", R"({"orderId":"b"})"),
                      record("m-total", R"({"orderId":"c","total":3,"items":[{"sku":"A","quantity":1,"unitPrice":2}]})")}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->response_body,
            R"({"batchItemFailures":[{"itemIdentifier":"m-json"},{"itemIdentifier":"m-noid"},{"itemIdentifier":"m-total"}]})");
  EXPECT_EQ(r->stored, 2u);
  EXPECT_EQ(r->rejected, 3u);
  EXPECT_EQ(store.calls, 2);
  auto logs = record_logs();
  ASSERT_EQ(logs.size(), 5u);
  EXPECT_EQ(logs[2].find("reason")->as_string(), "orderId is required");
  EXPECT_EQ(logs[2].find("orderId"), nullptr);
  EXPECT_EQ(logs[4].find("orderId")->as_string(), "c");
}

TEST_F(Processor, RejectsAnEnvelopeWithoutAMessage) {
  auto r = run(event({record("m-1", R"({"Type":"Notification","MessageId":"s","TopicArn":"t"})")}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->failed_message_ids, std::vector<std::string>{"m-1"});
  EXPECT_EQ(r->records[0].reason, "SNS notification has no Message string");
}

TEST_F(Processor, ARetryableStoreErrorFailsTheRecord) {
  store.failures["o-1"] = StoreOutcome::error("ProvisionedThroughputExceededException: slow down", true);
  auto r = run(event({record("m-1", sns_envelope(R"({"orderId":"o-1"})")),
                      record("m-2", sns_envelope(R"({"orderId":"o-2"})"))}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->response_body, R"({"batchItemFailures":[{"itemIdentifier":"m-1"}]})");
  EXPECT_EQ(r->store_errors, 1u);
  auto logs = record_logs();
  EXPECT_EQ(to_json(logs[0]),
            R"({"level":"ERROR","orderId":"o-1","messageId":"m-1","approximateReceiveCount":1,)"
            R"("outcome":"store_error","reason":"ProvisionedThroughputExceededException: slow down","retryable":true})");
}

TEST_F(Processor, ANonRetryableStoreErrorAlsoFailsTheRecord) {
  store.failures["o-1"] = StoreOutcome::error("ValidationException: Item size has exceeded the maximum allowed size", false);
  auto r = run(event({record("m-1", sns_envelope(R"({"orderId":"o-1"})"))}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->failed_message_ids, std::vector<std::string>{"m-1"});
  EXPECT_EQ(record_logs()[0].find("retryable")->as_bool(), false);
}

TEST_F(Processor, RejectsARecordWithoutABodyOrFromAnotherSource) {
  auto r = run(R"({"Records":[{"messageId":"m-1","eventSource":"aws:sqs"},)"
               R"({"messageId":"m-2","body":"{\"orderId\":\"o\"}","eventSource":"aws:kinesis"}]})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->failed_message_ids, (std::vector<std::string>{"m-1", "m-2"}));
  EXPECT_EQ(r->records[0].reason, "record has no body string");
  EXPECT_EQ(r->records[1].reason, "record is not from SQS (eventSource is not \"aws:sqs\")");
  EXPECT_EQ(store.calls, 0);
}

TEST_F(Processor, AMalformedEventFailsTheWholeInvocation) {
  for (const char* bad : {"", "not json", "[]", "{}", R"({"Records":{}})", R"({"records":[]})",
                          R"({"Records":["x"]})", R"({"Records":[{"body":"{}"}]})",
                          R"({"Records":[{"messageId":""}]})", R"({"Records":[{"messageId":7}]})"}) {
    auto r = run(bad);
    EXPECT_FALSE(r.has_value()) << bad;
  }
  EXPECT_EQ(run("{}").error().message, "event has no Records array");
  EXPECT_EQ(run(R"({"Records":[{"messageId":"a"},{"body":""}]})").error().message,
            "Records[1] is not an object with a messageId string");
  EXPECT_EQ(store.calls, 0);
  EXPECT_TRUE(log.lines.empty());
}

TEST_F(Processor, AnEmptyBatchSucceeds) {
  auto r = run(R"({"Records":[]})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->response_body, R"({"batchItemFailures":[]})");
}

TEST_F(Processor, LeavesRecordsUnattemptedWhenTheDeadlineIsNear) {
  ProcessOptions options;
  options.deadline = clock.now();  // already due
  options.deadline_margin = Millis(1000);
  auto r = run(event({record("m-1", R"({"orderId":"o-1"})")}), options);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->failed_message_ids, std::vector<std::string>{"m-1"});
  EXPECT_EQ(r->not_attempted, 1u);
  EXPECT_EQ(store.calls, 0);
  EXPECT_EQ(record_logs()[0].find("outcome")->as_string(), "not_attempted");
}

TEST_F(Processor, PutsTheBatchTogetherAndTheFirstDeliveryOfAnOrderIdWins) {
  auto r = run(event({record("m-1", sns_envelope(R"({"orderId":"a","v":1})", "sns-a1")),
                      record("m-2", sns_envelope(R"({"orderId":"b"})", "sns-b")),
                      record("m-3", sns_envelope(R"({"orderId":"a","v":2})", "sns-a2")),
                      record("m-4", "not json"),
                      record("m-5", sns_envelope(R"({"orderId":"a","v":3})", "sns-a3")),
                      record("m-6", sns_envelope(R"({"orderId":"c"})", "sns-c"))}));
  ASSERT_TRUE(r.has_value());
  // One call per occurrence of the most repeated orderId, none holding an orderId twice.
  EXPECT_EQ(store.put_all_calls, (std::vector<std::vector<std::string>>{{"a", "b", "c"}, {"a"}, {"a"}}));
  EXPECT_NE(store.items["a"].find("sns-a1"), std::string::npos) << store.items["a"];
  EXPECT_EQ(r->stored, 3u);
  EXPECT_EQ(r->duplicates, 2u);
  EXPECT_EQ(r->failed_message_ids, std::vector<std::string>{"m-4"});
  // Log lines and results in the batch's order.
  auto logs = record_logs();
  ASSERT_EQ(logs.size(), 6u);
  const char* expected[] = {"stored", "stored", "duplicate", "rejected", "duplicate", "stored"};
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(logs[i].find("messageId")->as_string(), "m-" + std::to_string(i + 1));
    EXPECT_EQ(logs[i].find("outcome")->as_string(), expected[i]) << i;
    EXPECT_EQ(r->records[i].message_id, "m-" + std::to_string(i + 1));
  }
}

TEST_F(Processor, PutsNotStartedBeforeTheDeadlineAreNotAttempted) {
  // Each put takes 400 ms of the clock; the deadline leaves 1 s minus the 250 ms margin (a
  // quarter of the second left), so the first two puts start and the third does not.
  class SlowStore final : public OrderStore {
   public:
    explicit SlowStore(ManualClock& c) : clock(c) {}
    StoreOutcome put_if_absent(const Order&, std::string_view, std::string_view) override {
      ++calls;
      clock.advance(Millis(400));
      return StoreOutcome::stored();
    }
    ManualClock& clock;
    int calls = 0;
  } slow(clock);
  ProcessOptions options;
  options.deadline = clock.now() + Millis(1000);
  auto r = process_sqs_event(event({record("m-1", R"({"orderId":"a"})"), record("m-2", R"({"orderId":"b"})"),
                                    record("m-3", R"({"orderId":"c"})")}),
                             slow, clock, log, options);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(slow.calls, 2);
  EXPECT_EQ(r->stored, 2u);
  EXPECT_EQ(r->not_attempted, 1u);
  EXPECT_EQ(r->failed_message_ids, std::vector<std::string>{"m-3"});
  EXPECT_EQ(record_logs()[2].find("outcome")->as_string(), "not_attempted");
}

TEST_F(Processor, AShortTimeoutStillLeavesTimeToWork) {
  // A 1 s function timeout with the default 1 s margin: the margin shrinks to a quarter.
  ProcessOptions options;
  options.deadline = clock.now() + Millis(1000);
  auto r = run(event({record("m-1", R"({"orderId":"o-1"})")}), options);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->failed_message_ids.empty());
  EXPECT_EQ(r->not_attempted, 0u);
  EXPECT_EQ(store.calls, 1);
}

TEST_F(Processor, LogsNullReceiveCountWhenTheAttributeIsMissing) {
  auto r = run(R"({"Records":[{"messageId":"m-1","body":"{\"orderId\":\"o\"}"}]})");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(record_logs()[0].find("approximateReceiveCount")->is_null());
}

TEST_F(Processor, EmitsOneEmbeddedMetricFormatLinePerInvocation) {
  store.failures["bad"] = StoreOutcome::error("boom", true);
  auto r = run(event({record("m-1", R"({"orderId":"a"})"), record("m-2", R"({"orderId":"a"})"),
                      record("m-3", "{}"), record("m-4", R"({"orderId":"bad"})")}));
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(log.lines.size(), 5u);
  auto emf_doc = parse_json(emf());
  ASSERT_TRUE(emf_doc.has_value());
  EXPECT_EQ(emf(),
            R"({"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"OrderFlow","Dimensions":[[]],)"
            R"("Metrics":[{"Name":"OrdersStored","Unit":"Count"},{"Name":"OrdersDuplicate","Unit":"Count"},)"
            R"({"Name":"OrdersRejected","Unit":"Count"},{"Name":"StoreErrors","Unit":"Count"},)"
            R"({"Name":"ProcessingTime","Unit":"Milliseconds"}]}]},)"
            R"("OrdersStored":1,"OrdersDuplicate":1,"OrdersRejected":1,"StoreErrors":1,"ProcessingTime":0})");
}

TEST_F(Processor, EmfMetricsNameRootMembersAndDimensionsAreRootStrings) {
  ProcessOptions options;
  options.metric_dimensions = {{"FunctionName", "ProcessOrderLambda"}};
  ASSERT_TRUE(run(event({record("m-1", R"({"orderId":"a"})")}), options).has_value());
  auto doc = parse_json(emf());
  ASSERT_TRUE(doc.has_value());
  const JsonValue& directive = doc->find("_aws")->find("CloudWatchMetrics")->as_array()[0];
  EXPECT_EQ(directive.find("Namespace")->as_string(), "OrderFlow");
  for (const auto& set : directive.find("Dimensions")->as_array()) {
    for (const auto& key : set.as_array()) {
      ASSERT_NE(doc->find(key.as_string()), nullptr);
      EXPECT_TRUE(doc->find(key.as_string())->is_string());
    }
  }
  EXPECT_EQ(doc->find("FunctionName")->as_string(), "ProcessOrderLambda");
  for (const auto& metric : directive.find("Metrics")->as_array()) {
    const JsonValue* value = doc->find(metric.find("Name")->as_string());
    ASSERT_NE(value, nullptr) << metric.find("Name")->as_string();
    EXPECT_TRUE(value->is_number());
  }
}

TEST_F(Processor, MeasuresProcessingTimeWithTheInjectedClock) {
  class SlowStore final : public OrderStore {
   public:
    explicit SlowStore(ManualClock& c) : clock(c) {}
    StoreOutcome put_if_absent(const Order&, std::string_view, std::string_view) override {
      clock.advance(Millis(25));
      return StoreOutcome::stored();
    }
    ManualClock& clock;
  } slow(clock);
  auto r = process_sqs_event(event({record("m-1", R"({"orderId":"a"})"), record("m-2", R"({"orderId":"b"})")}),
                             slow, clock, log);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->processing_time, Millis(50));
  EXPECT_NE(emf().find(R"("ProcessingTime":50})"), std::string::npos);
  EXPECT_NE(emf().find(R"("Timestamp":1700000000050,)"), std::string::npos);
}

TEST(BatchResponse, EscapesMessageIds) {
  EXPECT_EQ(batch_response_body({"a\"b"}), R"({"batchItemFailures":[{"itemIdentifier":"a\"b"}]})");
  EXPECT_EQ(batch_response_body({}), R"({"batchItemFailures":[]})");
}

}  // namespace
}  // namespace orderflow::orders
