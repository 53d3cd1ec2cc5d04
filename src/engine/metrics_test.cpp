// engine/metrics.h: EMF lines turned into metrics as CloudWatch does, REPORT durations, the
// function log ring, the history, and the engine's samples (queues, topics, tables). Also the
// queue peek and single-message redrive the dashboard uses.
#include "engine/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/engine.h"
#include "engine/testing/temp_dir.h"

namespace orderflow::engine {
namespace {

class RecordingSink final : public LogSink {
 public:
  void write(std::string_view group, std::string_view, TimePoint, std::string_view message) override {
    lines.emplace_back(std::string(group) + "|" + std::string(message));
  }
  std::vector<std::string> lines;
};

constexpr std::string_view kEmf =
    R"({"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"OrderFlow",)"
    R"("Dimensions":[["FunctionName"],[]],"Metrics":[{"Name":"OrdersStored","Unit":"Count"},)"
    R"({"Name":"ProcessingTime","Unit":"Milliseconds"},{"Name":"Plain"}]}]},)"
    R"("FunctionName":"ProcessOrderLambda","OrdersStored":3,"ProcessingTime":[1.5,2.5],"Plain":7})";

TEST(EmfTest, EveryDimensionSetAndValueBecomesADatum) {
  auto data = parse_emf(kEmf);
  // 2 dimension sets x (1 + 2 + 1 values).
  ASSERT_EQ(data.size(), 8u);
  EXPECT_EQ(data[0].name_space, "OrderFlow");
  EXPECT_EQ(data[0].metric, "OrdersStored");
  EXPECT_EQ(data[0].unit, "Count");
  ASSERT_EQ(data[0].dimensions.size(), 1u);
  EXPECT_EQ(data[0].dimensions[0], (std::pair<std::string, std::string>{"FunctionName", "ProcessOrderLambda"}));
  EXPECT_EQ(data[0].value, 3);
  EXPECT_TRUE(data[1].dimensions.empty());  // the empty dimension set
  EXPECT_EQ(data[2].metric, "ProcessingTime");
  EXPECT_EQ(data[2].value, 1.5);
  EXPECT_EQ(data[3].value, 2.5);
  EXPECT_EQ(data[3].dimensions.size(), 1u);
  EXPECT_TRUE(data[4].dimensions.empty());
  EXPECT_EQ(data[6].metric, "Plain");
  EXPECT_EQ(data[6].unit, "None");  // no Unit declared
}

TEST(EmfTest, InvalidDirectivesContributeNothing) {
  auto line = [](std::string_view directive, std::string_view root) {
    return std::string(R"({"_aws":{"Timestamp":1,"CloudWatchMetrics":[)") + std::string(directive) + "]}" +
           std::string(root) + "}";
  };
  // Valid baseline.
  EXPECT_EQ(parse_emf(line(R"({"Namespace":"N","Dimensions":[],"Metrics":[{"Name":"M"}]})", R"(,"M":1)")).size(), 1u);
  EXPECT_TRUE(parse_emf(line(R"({"Dimensions":[],"Metrics":[{"Name":"M"}]})", R"(,"M":1)")).empty());  // no NS
  EXPECT_TRUE(parse_emf(line(R"({"Namespace":"N","Dimensions":[["D"]],"Metrics":[{"Name":"M"}]})", R"(,"M":1)"))
                  .empty());  // dimension without a value
  EXPECT_TRUE(parse_emf(line(R"({"Namespace":"N","Dimensions":[],"Metrics":[{"Name":"M"}]})", R"(,"M":"1")"))
                  .empty());  // value not a number
  EXPECT_TRUE(parse_emf(line(R"({"Namespace":"N","Dimensions":[],"Metrics":[{"Name":"M"}]})", "")).empty());
  EXPECT_TRUE(parse_emf(line(R"({"Namespace":"N","Dimensions":[],"Metrics":[{"Name":"M"}]})", R"(,"M":[])"))
                  .empty());  // empty array
  std::string many = R"({"Namespace":"N","Dimensions":[],"Metrics":[)";
  for (int i = 0; i < 101; ++i) many += std::string(i ? "," : "") + R"({"Name":"M"})";
  many += "]}";
  EXPECT_TRUE(parse_emf(line(many, R"(,"M":1)")).empty());  // over 100 metrics
  EXPECT_TRUE(parse_emf(R"({"_aws":{"CloudWatchMetrics":[]},"M":1})").empty());  // no Timestamp
  EXPECT_TRUE(parse_emf("not json \"_aws\"").empty());
  EXPECT_TRUE(parse_emf(R"({"level":"info","orderId":"o-1"})").empty());
}

TEST(MetricsTest, ReportDurationAndPercentiles) {
  EXPECT_EQ(report_duration_ms("REPORT RequestId: abc\tDuration: 12.50 ms\tBilled Duration: 13 ms\t"), 12.5);
  EXPECT_FALSE(report_duration_ms("START RequestId: abc"));
  EXPECT_FALSE(report_duration_ms("REPORT RequestId: abc\tDuration: x ms"));
  EXPECT_TRUE(std::isnan(percentile({}, 50)));
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  EXPECT_EQ(percentile(v, 50), 50);
  EXPECT_EQ(percentile(v, 99), 99);
  EXPECT_EQ(percentile(v, 100), 100);
  EXPECT_EQ(percentile({7}, 99), 7);
}

TEST(MetricsTest, ForwardsEveryLineAndKeepsFunctionLinesAggregatesAndDurations) {
  RecordingSink sink;
  MetricsOptions o;
  o.log_lines = 3;
  Metrics m(sink, o);
  TimePoint t = from_epoch_ms(1000);
  m.write("/aws/lambda/fn", "s1", t, kEmf);
  m.write("/aws/lambda/fn", "s1", t, kEmf);
  m.write("/aws/lambda/fn", "s1", t, "REPORT RequestId: r1\tDuration: 4 ms\t");
  m.write("/aws/lambda/fn", "s1", t, "REPORT RequestId: r2\tDuration: 8 ms\t");
  m.write("/other/group", "s", t, kEmf);  // not a function's: forwarded only
  ASSERT_EQ(sink.lines.size(), 5u);
  EXPECT_EQ(sink.lines[4], "/other/group|" + std::string(kEmf));

  auto emf = m.emf();
  auto find = [&](std::string_view metric, bool with_dims) -> const EmfAggregate* {
    for (const auto& a : emf)
      if (a.metric == metric && a.dimensions.empty() != with_dims) return &a;
    return nullptr;
  };
  const EmfAggregate* stored = find("OrdersStored", true);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->count, 2u);
  EXPECT_EQ(stored->sum, 6);
  const EmfAggregate* time = find("ProcessingTime", false);
  ASSERT_TRUE(time);
  EXPECT_EQ(time->count, 4u);
  EXPECT_EQ(time->min, 1.5);
  EXPECT_EQ(time->max, 2.5);
  EXPECT_EQ(time->unit, "Milliseconds");

  EXPECT_EQ(m.take_durations("fn"), (std::vector<double>{4, 8}));
  EXPECT_TRUE(m.take_durations("fn").empty());  // taken

  // The ring keeps the newest 3 function lines, numbered in order.
  EXPECT_EQ(m.last_log_seq(), 4u);
  auto lines = m.logs_after(0, 100);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].seq, 2u);
  EXPECT_EQ(lines[2].message, "REPORT RequestId: r2\tDuration: 8 ms\t");
  EXPECT_EQ(lines[2].function, "fn");
  EXPECT_EQ(m.logs_after(3, 100).size(), 1u);
  EXPECT_EQ(m.logs_after(0, 1).size(), 1u);
}

TEST(MetricsTest, HistoryIsBounded) {
  RecordingSink sink;
  MetricsOptions o;
  o.history = 4;
  Metrics m(sink, o);
  for (int i = 1; i <= 6; ++i) m.add_sample(MetricsSample{i * 1000, {{"x", double(i)}}});
  auto h = m.history();
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h.front().time, 3000);
  EXPECT_EQ(m.history(5000).size(), 1u);
  EXPECT_EQ(m.latest()->values.at("x"), 6);
}

class EngineMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions o;
    o.data_dir = dir_.path();
    o.sns_signing_key_bits = 1024;
    o.metrics_interval = Millis(0);  // sampled by hand
    auto e = Engine::open(o, clock_);
    ASSERT_TRUE(e) << e.error().message;
    engine_ = std::move(*e);
  }
  double value(const MetricsSample& s, const std::string& key) {
    auto it = s.values.find(key);
    return it == s.values.end() ? -1 : it->second;
  }
  orderflow::testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineMetricsTest, SamplesQueueGaugesAndTopicRates) {
  ASSERT_TRUE(engine_->queues().create_queue("q", {}));
  auto topic = engine_->topics().create_topic("t", {});
  ASSERT_TRUE(topic);
  ASSERT_TRUE(engine_->topics().subscribe(*topic, "sqs", engine_->queues().arn("q"), {{"RawMessageDelivery", "true"}}));
  PublishRequest before;
  before.message = "before the first sample";
  ASSERT_TRUE(engine_->topics().publish(*topic, before));
  engine_->sample_metrics();  // first sight of the topic: everything since the start is new
  EXPECT_EQ(value(*engine_->metrics().latest(), "topic:t:published"), 1);
  for (int i = 0; i < 3; ++i) {
    PublishRequest p;
    p.message = "m" + std::to_string(i);
    ASSERT_TRUE(engine_->topics().publish(*topic, p));
  }
  clock_.advance(Millis(1000));
  engine_->sample_metrics();
  auto s = engine_->metrics().latest();
  ASSERT_TRUE(s);
  EXPECT_EQ(value(*s, "topic:t:published"), 3);
  EXPECT_EQ(value(*s, "queue:q:visible"), 4);
  EXPECT_EQ(value(*s, "queue:q:in_flight"), 0);
  ReceiveRequest r;
  r.max_messages = 2;
  ASSERT_EQ(engine_->queues().receive("q", r)->size(), 2u);
  clock_.advance(Millis(1000));
  engine_->sample_metrics();
  s = engine_->metrics().latest();
  EXPECT_EQ(value(*s, "topic:t:published"), 0);  // none in this second
  EXPECT_EQ(value(*s, "queue:q:visible"), 2);
  EXPECT_EQ(value(*s, "queue:q:in_flight"), 2);
  EXPECT_EQ(engine_->metrics().history().size(), 3u);
  EXPECT_EQ(engine_->topics().published_counts().at(*topic), 4u);
}

TEST_F(EngineMetricsTest, PeekChangesNothingAndRedriveMovesOneMessageBack) {
  ASSERT_TRUE(engine_->queues().create_queue("dlq", {}));
  std::string policy = R"({"deadLetterTargetArn":")" + engine_->queues().arn("dlq") + R"(","maxReceiveCount":"1"})";
  ASSERT_TRUE(engine_->queues().create_queue("src", {{"RedrivePolicy", policy}, {"VisibilityTimeout", "0"}}));
  for (std::string body : {"a", "b"}) {
    SendRequest sr;
    sr.body = body;
    ASSERT_TRUE(engine_->queues().send("src", sr));
  }
  ReceiveRequest r;
  r.max_messages = 10;
  r.visibility_timeout = 0;
  ASSERT_EQ(engine_->queues().receive("src", r)->size(), 2u);
  EXPECT_TRUE(engine_->queues().receive("src", r)->empty());  // both moved to the DLQ on this receive

  auto peeked = engine_->queues().peek("dlq", 10);
  ASSERT_TRUE(peeked);
  ASSERT_EQ(peeked->size(), 2u);
  EXPECT_EQ((*peeked)[0].body, "a");
  EXPECT_EQ((*peeked)[0].receive_count, 1);
  EXPECT_TRUE((*peeked)[0].receipt_handle.empty());
  EXPECT_EQ((*peeked)[0].dead_letter_source_arn, engine_->queues().arn("src"));
  // Peeking again sees the same, unchanged.
  auto again = engine_->queues().peek("dlq", 1);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].receive_count, 1);
  EXPECT_EQ(engine_->queues().counts("dlq")->visible, 2);

  // Errors: unknown id, bad id, unknown queue.
  EXPECT_EQ(engine_->queues().redrive_message("dlq", "00000000-0000-4000-8000-000000000000").error().code,
            ErrorCode::sqs_resource_not_found);
  EXPECT_FALSE(engine_->queues().redrive_message("dlq", "not-an-id"));
  EXPECT_EQ(engine_->queues().redrive_message("nope", (*peeked)[0].message_id).error().code,
            ErrorCode::queue_does_not_exist);

  ASSERT_TRUE(engine_->queues().redrive_message("dlq", (*peeked)[0].message_id));
  EXPECT_EQ(engine_->queues().counts("dlq")->visible, 1);
  EXPECT_EQ(engine_->queues().counts("src")->visible, 1);
  auto back = engine_->queues().receive("src", r);
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].body, "a");
  EXPECT_EQ((*back)[0].receive_count, 1);  // a new life, as a move task gives it
  EXPECT_NE((*back)[0].message_id, (*peeked)[0].message_id);

  // A message in flight is not moved.
  ReceiveRequest hide;
  hide.visibility_timeout = 60;
  auto held = engine_->queues().receive("dlq", hide);
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ(engine_->queues().redrive_message("dlq", (*held)[0].message_id).error().code,
            ErrorCode::invalid_parameter_value);
}

}  // namespace
}  // namespace orderflow::engine
