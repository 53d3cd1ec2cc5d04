// Specifications of the SQS event source mapping (engine/event_source_mapping.h): real Queues
// on a temporary store, a ManualClock, and a scripted Invoker standing in for the function.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <mutex>
#include <thread>

#include "engine/event_source_mapping.h"
#include "engine/testing/temp_dir.h"

namespace orderflow::engine {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

template <class Pred>
bool eventually(Pred pred, std::chrono::seconds limit = 10s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

InvocationResult success(std::string payload) {
  return InvocationResult{InvocationResult::Kind::success, std::move(payload), {}, {}};
}
InvocationResult function_error() {
  return InvocationResult{InvocationResult::Kind::function_error, R"({"errorType":"E","errorMessage":"m"})", "E", "m"};
}

// An Invoker that answers with `script(event)` at once, or, in hold mode, keeps the callbacks
// until the test releases them.
class ScriptedInvoker final : public Invoker {
 public:
  std::function<InvocationResult(const json::object& event)> script = [](const json::object&) { return success(""); };
  bool hold = false;
  int max_workers = 10;
  Millis timeout{3000};

  void invoke_async(std::string_view function, std::string payload, InvokeCallback done) override {
    json::object event = json::parse(payload).as_object();
    {
      std::lock_guard g(mu_);
      EXPECT_EQ(function, "fn");
      events_.push_back(event);
      if (hold) {
        held_.emplace_back(std::move(event), std::move(done));
        return;
      }
    }
    done(script(event));
  }
  std::optional<Millis> function_timeout(std::string_view function) const override {
    if (function != "fn") return std::nullopt;
    return timeout;
  }
  std::optional<int> max_concurrency(std::string_view) const override { return max_workers; }

  std::size_t invocations() const {
    std::lock_guard g(mu_);
    return events_.size();
  }
  std::vector<json::object> events() const {
    std::lock_guard g(mu_);
    return events_;
  }
  std::size_t held() const {
    std::lock_guard g(mu_);
    return held_.size();
  }
  // Answers the oldest held invocation with the script.
  void release_one() {
    std::pair<json::object, InvokeCallback> h;
    {
      std::lock_guard g(mu_);
      h = std::move(held_.front());
      held_.erase(held_.begin());
    }
    h.second(script(h.first));
  }

 private:
  mutable std::mutex mu_;
  std::vector<json::object> events_;
  std::vector<std::pair<json::object, InvokeCallback>> held_;
};

std::string message_id(const json::object& event, std::size_t i) {
  return std::string(event.at("Records").as_array().at(i).as_object().at("messageId").as_string());
}
std::size_t records(const json::object& event) { return event.at("Records").as_array().size(); }

class MappingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::open(dir_.path());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    auto q = Queues::open(*store_, clock_);
    ASSERT_TRUE(q) << q.error().message;
    queues_ = std::move(*q);
    ASSERT_TRUE(queues_->create_queue("dlq", {}));
    ASSERT_TRUE(queues_->create_queue(
        "orders", {{"VisibilityTimeout", "30"},
                   {"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":3})"}}));
  }
  void TearDown() override {
    mapping_.reset();
    queues_.reset();
    store_.reset();
  }

  void start(EventSourceMappingConfig c = {}) {
    c.queue = "orders";
    c.function = "fn";
    auto m = EventSourceMapping::create(*queues_, invoker_, clock_, c);
    ASSERT_TRUE(m) << m.error().message;
    mapping_ = std::move(*m);
  }

  std::string send(std::string body) {
    SendRequest r;
    r.body = std::move(body);
    r.sender_id = "AIDATEST";
    auto res = queues_->send("orders", std::move(r));
    EXPECT_TRUE(res) << res.error().message;
    return res ? res->message_id : "";
  }

  QueueCounts counts(const std::string& q = "orders") {
    auto c = queues_->counts(q);
    EXPECT_TRUE(c);
    return c ? *c : QueueCounts{};
  }

  // Waits until `n` invocations have been applied (their deletes done).
  bool applied(std::uint64_t n) {
    return eventually([&] {
      auto s = mapping_->stats();
      return s.invocations >= n && s.in_flight == 0;
    });
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Queues> queues_;
  ScriptedInvoker invoker_;
  std::unique_ptr<EventSourceMapping> mapping_;
};

TEST(SqsEvent, RecordIsByteCompatibleWithAws) {
  ReceivedMessage m;
  m.message_id = "059f36b4-87a3-44ab-83d2-661975830a7d";
  m.receipt_handle = "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a";
  m.body = "Test message.\n\"quoted\"";
  m.md5_of_body = "e4e68fb7bd0e697a0ae8f1bb342846b3";
  m.sender_id = "AIDAIENQZJOLO23YVJ4VO";
  m.sent_timestamp_ms = 1545082649183;
  m.first_receive_timestamp_ms = 1545082649185;
  m.receive_count = 1;
  m.attributes["Author"] = MessageAttributeValue{"String", "John Grisham", ""};
  m.attributes["Pic"] = MessageAttributeValue{"Binary", "", "\x01\x02"};
  std::string md5 = md5_of_message_attributes(m.attributes);
  EXPECT_EQ(sqs_event_record(m, "arn:aws:sqs:us-east-2:123456789012:my-queue", "us-east-2"),
            R"({"messageId":"059f36b4-87a3-44ab-83d2-661975830a7d","receiptHandle":"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",)"
            R"("body":"Test message.\n\"quoted\"","attributes":{"ApproximateReceiveCount":"1","SentTimestamp":"1545082649183",)"
            R"("SenderId":"AIDAIENQZJOLO23YVJ4VO","ApproximateFirstReceiveTimestamp":"1545082649185"},)"
            R"("messageAttributes":{"Author":{"stringValue":"John Grisham","stringListValues":[],"binaryListValues":[],"dataType":"String"},)"
            R"("Pic":{"binaryValue":"AQI=","stringListValues":[],"binaryListValues":[],"dataType":"Binary"}},)"
            R"("md5OfMessageAttributes":")" + md5 + R"(","md5OfBody":"e4e68fb7bd0e697a0ae8f1bb342846b3",)"
            R"("eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-2:123456789012:my-queue","awsRegion":"us-east-2"})");
  m.attributes.clear();
  std::string plain = sqs_event_record(m, "arn", "r");
  EXPECT_NE(plain.find(R"("messageAttributes":{},"md5OfMessageAttributes":null,)"), std::string::npos);
  EXPECT_EQ(sqs_event({"{}", "{}"}), R"({"Records":[{},{}]})");
}

std::vector<ReceivedMessage> batch_of(std::vector<std::string> ids) {
  std::vector<ReceivedMessage> out;
  for (auto& id : ids) {
    ReceivedMessage m;
    m.message_id = id;
    out.push_back(m);
  }
  return out;
}

TEST(BatchResponse, FollowsAwsRulesForReportBatchItemFailures) {
  auto b = batch_of({"a", "b", "c"});
  std::vector<std::size_t> all{0, 1, 2}, none{};
  // Without ReportBatchItemFailures any success deletes everything, whatever the payload.
  EXPECT_EQ(messages_to_delete(success(R"({"batchItemFailures":[{"itemIdentifier":"a"}]})"), false, b), all);
  EXPECT_EQ(messages_to_delete(function_error(), false, b), none);
  // Complete success.
  for (const char* p : {"", "  ", "null", "{}", R"({"batchItemFailures":null})", R"({"batchItemFailures":[]})",
                        R"({"statusCode":200})"})
    EXPECT_EQ(messages_to_delete(success(p), true, b), all) << p;
  // Partial.
  EXPECT_EQ(messages_to_delete(success(R"({"batchItemFailures":[{"itemIdentifier":"b"}]})"), true, b),
            (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(messages_to_delete(success(R"({"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"c"},)"
                                       R"({"itemIdentifier":"a"}]})"),
                               true, b),
            (std::vector<std::size_t>{1}));
  // Complete failure.
  for (const char* p : {"not json", "{", R"("ok")", "[]", "42", R"({"batchItemFailures":"a"})",
                        R"({"batchItemFailures":[{"itemIdentifier":""}]})",
                        R"({"batchItemFailures":[{"itemIdentifier":null}]})",
                        R"({"batchItemFailures":[{"foo":"a"}]})",
                        R"({"batchItemFailures":[{"itemIdentifier":"zzz"}]})",
                        R"({"batchItemFailures":[{"itemIdentifier":7}]})",
                        R"({"batchItemFailures":["a"]})",
                        R"({"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"nope"}]})"})
    EXPECT_EQ(messages_to_delete(success(p), true, b), none) << p;
  EXPECT_EQ(messages_to_delete(function_error(), true, b), none);
  EXPECT_EQ(messages_to_delete(InvocationResult{InvocationResult::Kind::timeout, "", "Sandbox.Timedout", ""}, true, b), none);
  EXPECT_EQ(messages_to_delete(InvocationResult{InvocationResult::Kind::crash, "", "Runtime.ExitError", ""}, true, b), none);
}

TEST_F(MappingTest, WakesOnSendWithoutClockAdvanceAndDeletesASuccessfulBatch) {
  start();
  std::string id = send("hello");
  ASSERT_TRUE(applied(1));
  auto e = invoker_.events().at(0);
  ASSERT_EQ(records(e), 1u);
  auto rec = e.at("Records").as_array().at(0).as_object();
  EXPECT_EQ(rec.at("messageId").as_string(), id);
  EXPECT_EQ(rec.at("body").as_string(), "hello");
  EXPECT_EQ(rec.at("eventSource").as_string(), "aws:sqs");
  EXPECT_EQ(rec.at("eventSourceARN").as_string(), "arn:aws:sqs:us-east-1:000000000000:orders");
  EXPECT_EQ(rec.at("awsRegion").as_string(), "us-east-1");
  EXPECT_EQ(rec.at("attributes").as_object().at("ApproximateReceiveCount").as_string(), "1");
  EXPECT_EQ(rec.at("attributes").as_object().at("SenderId").as_string(), "AIDATEST");
  auto c = counts();
  EXPECT_EQ(c.visible + c.not_visible, 0);
  EXPECT_EQ(mapping_->stats().messages_deleted, 1u);
}

TEST_F(MappingTest, ReportedItemFailuresStayAndTheRestIsDeleted) {
  invoker_.script = [](const json::object& e) {
    return success(R"({"batchItemFailures":[{"itemIdentifier":")" + message_id(e, 0) + R"("}]})");
  };
  for (int i = 0; i < 3; ++i) send("m" + std::to_string(i));
  start({.report_batch_item_failures = true});
  ASSERT_TRUE(applied(1));
  EXPECT_EQ(records(invoker_.events()[0]), 3u);
  auto c = counts();
  EXPECT_EQ(c.not_visible, 1);
  EXPECT_EQ(c.visible, 0);
  EXPECT_EQ(mapping_->stats().partial_batches, 1u);
}

TEST_F(MappingTest, MalformedResponseFailsTheWholeBatch) {
  invoker_.script = [](const json::object&) { return success("{not json"); };
  for (int i = 0; i < 3; ++i) send("m" + std::to_string(i));
  start({.report_batch_item_failures = true});
  ASSERT_TRUE(applied(1));
  EXPECT_EQ(counts().not_visible, 3);
  EXPECT_EQ(mapping_->stats().failed_batches, 1u);
}

TEST_F(MappingTest, UnknownItemIdentifierFailsTheWholeBatch) {
  invoker_.script = [](const json::object&) {
    return success(R"({"batchItemFailures":[{"itemIdentifier":"not-in-batch"}]})");
  };
  for (int i = 0; i < 2; ++i) send("m" + std::to_string(i));
  start({.report_batch_item_failures = true});
  ASSERT_TRUE(applied(1));
  EXPECT_EQ(counts().not_visible, 2);
}

TEST_F(MappingTest, EmptyBatchItemFailuresDeletesEverything) {
  invoker_.script = [](const json::object&) { return success(R"({"batchItemFailures":[]})"); };
  for (int i = 0; i < 2; ++i) send("m" + std::to_string(i));
  start({.report_batch_item_failures = true});
  ASSERT_TRUE(applied(1));
  auto c = counts();
  EXPECT_EQ(c.visible + c.not_visible, 0);
}

TEST_F(MappingTest, FunctionErrorDeletesNothing) {
  invoker_.script = [](const json::object&) { return function_error(); };
  for (int i = 0; i < 2; ++i) send("m" + std::to_string(i));
  start({.report_batch_item_failures = true});
  ASSERT_TRUE(applied(1));
  EXPECT_EQ(counts().not_visible, 2);
}

TEST_F(MappingTest, FailingMessageIsAttemptedExactlyThreeTimesThenDeadLettered) {
  invoker_.script = [](const json::object&) { return function_error(); };
  start();
  send("poison");
  for (std::uint64_t attempt = 1; attempt <= 3; ++attempt) {
    ASSERT_TRUE(applied(attempt)) << attempt;
    auto e = invoker_.events().at(attempt - 1);
    EXPECT_EQ(e.at("Records").as_array().at(0).as_object().at("attributes").as_object().at("ApproximateReceiveCount").as_string(),
              std::to_string(attempt));
    EXPECT_EQ(counts().not_visible, 1);
    clock_.advance(30s);  // the visibility timeout runs out; the queue wakes the mapping
  }
  ASSERT_TRUE(eventually([&] { return counts("dlq").visible == 1; }));
  EXPECT_EQ(invoker_.invocations(), 3u);
  auto c = counts();
  EXPECT_EQ(c.visible + c.not_visible, 0);
}

TEST_F(MappingTest, BatchSizeLimitsRecordsPerInvocation) {
  for (int i = 0; i < 10; ++i) send("m" + std::to_string(i));
  start({.batch_size = 4});
  ASSERT_TRUE(eventually([&] {
    auto c = counts();
    return c.visible + c.not_visible == 0 && mapping_->stats().in_flight == 0;
  }));
  std::size_t total = 0;
  for (auto& e : invoker_.events()) {
    EXPECT_LE(records(e), 4u);
    total += records(e);
  }
  EXPECT_EQ(total, 10u);
  EXPECT_EQ(mapping_->stats().largest_batch, 4u);
}

TEST_F(MappingTest, BatchesLargerThanTenAreReceivedInChunks) {
  for (int i = 0; i < 25; ++i) send("m" + std::to_string(i));
  start({.batch_size = 25, .maximum_batching_window_seconds = 1});
  ASSERT_TRUE(applied(1));
  EXPECT_EQ(records(invoker_.events().at(0)), 25u);
}

TEST_F(MappingTest, BatchingWindowWaitsForMoreMessagesUntilItEnds) {
  start({.batch_size = 20, .maximum_batching_window_seconds = 2});
  for (int i = 0; i < 5; ++i) send("a" + std::to_string(i));
  ASSERT_TRUE(eventually([&] { return counts().not_visible == 5; }));
  for (int i = 0; i < 5; ++i) send("b" + std::to_string(i));
  ASSERT_TRUE(eventually([&] { return counts().not_visible == 10; }));
  EXPECT_EQ(invoker_.invocations(), 0u);
  clock_.advance(2s);
  ASSERT_TRUE(applied(1));
  EXPECT_EQ(records(invoker_.events().at(0)), 10u);
}

TEST_F(MappingTest, MaximumConcurrencyCapsInvocationsInFlight) {
  invoker_.hold = true;
  for (int i = 0; i < 5; ++i) send("m" + std::to_string(i));
  start({.batch_size = 1, .maximum_concurrency = 2});
  ASSERT_TRUE(eventually([&] { return invoker_.held() == 2; }));
  EXPECT_EQ(counts().visible, 3);  // not received while the mapping is at its limit
  invoker_.release_one();
  ASSERT_TRUE(eventually([&] { return invoker_.invocations() == 3; }));
  while (invoker_.invocations() < 5 || invoker_.held() > 0) {
    if (invoker_.held() > 0) invoker_.release_one();
    else std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(applied(5));
  EXPECT_EQ(mapping_->stats().max_in_flight, 2);
  auto c = counts();
  EXPECT_EQ(c.visible + c.not_visible, 0);
}

TEST_F(MappingTest, DisabledMappingDoesNotReceive) {
  start({.enabled = false});
  send("x");
  mapping_->set_enabled(true);
  ASSERT_TRUE(applied(1));
}

TEST_F(MappingTest, RejectsInvalidSettings) {
  auto make = [&](EventSourceMappingConfig c) {
    if (c.queue.empty()) c.queue = "orders";
    if (c.function.empty()) c.function = "fn";
    return EventSourceMapping::create(*queues_, invoker_, clock_, c);
  };
  EXPECT_FALSE(make({.batch_size = 0}));
  EXPECT_FALSE(make({.batch_size = 10001, .maximum_batching_window_seconds = 1}));
  EXPECT_FALSE(make({.batch_size = 11}));  // > 10 needs a batching window
  EXPECT_FALSE(make({.maximum_batching_window_seconds = 301}));
  EXPECT_FALSE(make({.maximum_concurrency = 1}));
  EXPECT_FALSE(make({.queue = "missing"}));
  EXPECT_FALSE(make({.function = "missing"}));
  invoker_.timeout = Millis(60'000);  // longer than the queue's 30 s visibility timeout
  EXPECT_FALSE(make({}));
}

}  // namespace
}  // namespace orderflow::engine
