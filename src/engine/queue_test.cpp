// Contract tests for SQS standard-queue semantics (engine/queues.h), named as specifications.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "common/util.h"
#include "engine/queues.h"
#include "engine/testing/temp_dir.h"

namespace orderflow::engine {
namespace {

using namespace std::chrono_literals;

class QueueTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    queues_.reset();
    store_.reset();
    auto s = Store::open(dir_.path());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    auto q = Queues::open(*store_, clock_);
    ASSERT_TRUE(q) << q.error().message;
    queues_ = std::move(*q);
  }

  Queues& q() { return *queues_; }

  void create(const std::string& name, AttributeMap attrs = {}) {
    auto r = q().create_queue(name, attrs);
    ASSERT_TRUE(r) << r.error().message;
  }

  std::string send(const std::string& queue, std::string body, std::optional<int> delay = {}) {
    SendRequest r;
    r.body = std::move(body);
    r.delay_seconds = delay;
    r.sender_id = "AIDATEST";
    auto res = q().send(queue, std::move(r));
    EXPECT_TRUE(res) << res.error().message;
    return res ? res->message_id : "";
  }

  std::vector<ReceivedMessage> receive(const std::string& queue, int max = 10,
                                       std::optional<int> visibility = {}) {
    ReceiveRequest r;
    r.max_messages = max;
    r.visibility_timeout = visibility;
    r.wait_seconds = 0;
    auto res = q().receive(queue, r);
    EXPECT_TRUE(res) << res.error().message;
    return res ? *res : std::vector<ReceivedMessage>{};
  }

  std::string attr(const std::string& queue, const std::string& name) {
    auto a = q().get_attributes(queue, {name});
    EXPECT_TRUE(a) << a.error().message;
    return a && a->contains(name) ? a->at(name) : "";
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Queues> queues_;
};

TEST_F(QueueTest, AsyncSendsAndDeletesRefuseAtOnceWithoutALockAndAcknowledgeOnceDurable) {
  create("q");
  // Refusals come back before the call returns, with no lock held: the callbacks call back in.
  bool answered = false;
  SendRequest empty;
  q().send_async("q", empty, [&](Result<SendResult> r) {
    answered = true;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::missing_parameter);
    EXPECT_TRUE(q().exists("q"));
  });
  EXPECT_TRUE(answered);
  answered = false;
  SendRequest body;
  body.body = "hello";
  q().send_batch_async("missing", {{"a", body}}, [&](Result<BatchOutcome<SendResult>> r) {
    answered = true;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::queue_does_not_exist);
    EXPECT_TRUE(q().exists("q"));
  });
  EXPECT_TRUE(answered);
  answered = false;
  q().delete_message_batch_async("q", {}, [&](Result<BatchOutcome<bool>> r) {
    answered = true;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::empty_batch_request);
    EXPECT_TRUE(q().exists("q"));
  });
  EXPECT_TRUE(answered);

  // Accepted writes are acknowledged once durable (a reopened store has them), per entry.
  std::promise<Result<BatchOutcome<SendResult>>> sent;
  q().send_batch_async("q", {{"a", body}, {"b", empty}},
                       [&](Result<BatchOutcome<SendResult>> r) { sent.set_value(std::move(r)); });
  auto outcome = sent.get_future().get();
  ASSERT_TRUE(outcome) << outcome.error().message;
  ASSERT_EQ(outcome->successful.size(), 1u);
  ASSERT_EQ(outcome->failed.size(), 1u);
  EXPECT_EQ(outcome->failed.front().first, "b");
  reopen();
  auto got = receive("q");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got.front().body, "hello");
  std::promise<Result<BatchOutcome<bool>>> deleted;
  q().delete_message_batch_async("q", {{"d", got.front().receipt_handle}, {"e", "not-a-handle"}},
                                 [&](Result<BatchOutcome<bool>> r) { deleted.set_value(std::move(r)); });
  auto del = deleted.get_future().get();
  ASSERT_TRUE(del) << del.error().message;
  EXPECT_EQ(del->successful.size(), 1u);
  ASSERT_EQ(del->failed.size(), 1u);
  EXPECT_EQ(del->failed.front().second.code, ErrorCode::receipt_handle_is_invalid);
  reopen();
  EXPECT_EQ(attr("q", "ApproximateNumberOfMessages"), "0");
  EXPECT_EQ(attr("q", "ApproximateNumberOfMessagesNotVisible"), "0");
}

TEST_F(QueueTest, CreateQueueIsIdempotentForIdenticalAttributes) {
  create("orders", {{"VisibilityTimeout", "60"}});
  auto again = q().create_queue("orders", {{"VisibilityTimeout", "60"}});
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, "orders");
}

TEST_F(QueueTest, CreateQueueWithDifferentAttributesFailsWithQueueAlreadyExists) {
  create("orders", {{"VisibilityTimeout", "60"}});
  auto again = q().create_queue("orders", {{"VisibilityTimeout", "61"}});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::queue_already_exists);
}

TEST_F(QueueTest, NewQueueHasAwsDefaultAttributes) {
  create("orders");
  auto a = q().get_attributes("orders", {"All"});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->at("VisibilityTimeout"), "30");
  EXPECT_EQ(a->at("DelaySeconds"), "0");
  EXPECT_EQ(a->at("MessageRetentionPeriod"), "345600");
  EXPECT_EQ(a->at("MaximumMessageSize"), "1048576");
  EXPECT_EQ(a->at("ReceiveMessageWaitTimeSeconds"), "0");
  EXPECT_EQ(a->at("QueueArn"), "arn:aws:sqs:us-east-1:000000000000:orders");
  EXPECT_EQ(a->at("ApproximateNumberOfMessages"), "0");
  EXPECT_FALSE(a->contains("RedrivePolicy"));
}

TEST_F(QueueTest, RejectsOutOfRangeAttributeWithInvalidAttributeValue) {
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"VisibilityTimeout", "43201"}, {"DelaySeconds", "901"}, {"MessageRetentionPeriod", "59"},
           {"MaximumMessageSize", "1023"}, {"ReceiveMessageWaitTimeSeconds", "21"}, {"VisibilityTimeout", "abc"}}) {
    auto r = q().create_queue("q1", {{name, value}});
    ASSERT_FALSE(r) << name << "=" << value;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_attribute_value) << name;
  }
  EXPECT_FALSE(q().exists("q1"));
}

TEST_F(QueueTest, RejectsUnknownAttributeWithInvalidAttributeName) {
  auto r = q().create_queue("q1", {{"Colour", "blue"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_attribute_name);
  create("q2");
  auto g = q().get_attributes("q2", {"Colour"});
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, ErrorCode::invalid_attribute_name);
}

TEST_F(QueueTest, RejectsInvalidQueueNames) {
  for (const std::string& name : std::vector<std::string>{"", "has space", std::string(81, 'a'), "dot.name"}) {
    auto r = q().create_queue(name, {});
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_parameter_value);
  }
}

TEST_F(QueueTest, ListQueuesFiltersByPrefix) {
  create("orders");
  create("orders-dlq");
  create("payments");
  auto l = q().list_queues("orders");
  ASSERT_TRUE(l);
  EXPECT_EQ(*l, (std::vector<std::string>{"orders", "orders-dlq"}));
  auto page = q().list_queues("", 2);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->size(), 2u);
  auto rest = q().list_queues("", 2, page->back());
  ASSERT_TRUE(rest);
  EXPECT_EQ(*rest, (std::vector<std::string>{"payments"}));
}

TEST_F(QueueTest, SendThenReceiveReturnsBodyWithAwsMd5AndSystemAttributes) {
  create("orders");
  std::string id = send("orders", "Test message.");
  auto got = receive("orders");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message_id, id);
  EXPECT_EQ(got[0].body, "Test message.");
  EXPECT_EQ(got[0].md5_of_body, "e4e68fb7bd0e697a0ae8f1bb342846b3");
  EXPECT_EQ(got[0].receive_count, 1);
  EXPECT_EQ(got[0].sender_id, "AIDATEST");
  EXPECT_EQ(got[0].sent_timestamp_ms, to_epoch_ms(clock_.now()));
  EXPECT_EQ(got[0].first_receive_timestamp_ms, to_epoch_ms(clock_.now()));
}

TEST_F(QueueTest, SendRejectsEmptyBodyAndInvalidCharacters) {
  create("orders");
  SendRequest r;
  auto e = q().send("orders", r);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::missing_parameter);
  r.body = std::string("bad\x01", 4);
  e = q().send("orders", r);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::invalid_message_contents);
}

TEST_F(QueueTest, SendRejectsMessageLargerThanMaximumMessageSize) {
  create("small", {{"MaximumMessageSize", "1024"}});
  SendRequest r;
  r.body = std::string(1025, 'x');
  auto e = q().send("small", r);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::invalid_parameter_value);
  EXPECT_NE(e.error().message.find("Message must be shorter than 1024 bytes"), std::string::npos);
}

TEST_F(QueueTest, SendToMissingQueueFailsWithQueueDoesNotExist) {
  SendRequest r;
  r.body = "x";
  auto e = q().send("nope", r);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::queue_does_not_exist);
}

TEST_F(QueueTest, ReceivedMessageStaysInvisibleUntilVisibilityTimeoutExpires) {
  create("orders");
  send("orders", "a");
  ASSERT_EQ(receive("orders").size(), 1u);
  clock_.advance(29s);
  EXPECT_TRUE(receive("orders").empty());
  EXPECT_EQ(attr("orders", "ApproximateNumberOfMessagesNotVisible"), "1");
  clock_.advance(2s);
  auto again = receive("orders");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].receive_count, 2);
}

TEST_F(QueueTest, ReceiveVisibilityOverrideIsHonoured) {
  create("orders");
  send("orders", "a");
  ASSERT_EQ(receive("orders", 1, 5).size(), 1u);
  clock_.advance(5s);
  EXPECT_EQ(receive("orders").size(), 1u);
}

TEST_F(QueueTest, EveryReceiveGivesANewReceiptHandle) {
  create("orders");
  send("orders", "a");
  auto first = receive("orders", 1, 0);
  auto second = receive("orders", 1, 0);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(first[0].receipt_handle, second[0].receipt_handle);
}

TEST_F(QueueTest, MovesToDeadLetterQueueAfterMaxReceiveCount) {
  create("dlq");
  create("orders", {{"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":3})"},
                    {"VisibilityTimeout", "10"}});
  send("orders", "poison");
  for (int expected = 1; expected <= 3; ++expected) {
    auto got = receive("orders");
    ASSERT_EQ(got.size(), 1u) << "receive " << expected;
    EXPECT_EQ(got[0].receive_count, expected);
    clock_.advance(10s);
  }
  EXPECT_TRUE(receive("orders").empty()) << "the 4th receive moves the message instead";
  auto dead = receive("dlq");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].body, "poison");
  EXPECT_EQ(dead[0].receive_count, 4) << "the 3 receives on the source queue count, then this one";
  EXPECT_EQ(dead[0].dead_letter_source_arn, "arn:aws:sqs:us-east-1:000000000000:orders");
  EXPECT_EQ(attr("orders", "ApproximateNumberOfMessages"), "0");
}

TEST_F(QueueTest, DeadLetterMoveKeepsMessageIdAttributesAndSentTimestamp) {
  create("dlq");
  create("orders", {{"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"1"})"}});
  SendRequest r;
  r.body = "x";
  r.attributes["kind"] = MessageAttributeValue{"String", "order", ""};
  auto sent = q().send("orders", r);
  ASSERT_TRUE(sent);
  std::int64_t sent_at = to_epoch_ms(clock_.now());
  ASSERT_EQ(receive("orders", 1, 0).size(), 1u);
  clock_.advance(1s);
  EXPECT_TRUE(receive("orders").empty());
  auto dead = receive("dlq");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].message_id, sent->message_id);
  EXPECT_EQ(dead[0].sent_timestamp_ms, sent_at);
  ASSERT_TRUE(dead[0].attributes.contains("kind"));
  EXPECT_EQ(dead[0].attributes.at("kind").string_value, "order");
}

TEST_F(QueueTest, RedrivePolicyRequiresExistingTargetAndValidCount) {
  auto r = q().create_queue("orders", {{"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:missing","maxReceiveCount":3})"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_parameter_value);
  create("dlq");
  r = q().create_queue("orders", {{"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":0})"}});
  ASSERT_FALSE(r);
  r = q().create_queue("orders", {{"RedrivePolicy", "not json"}});
  ASSERT_FALSE(r);
  create("orders", {{"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"5"})"}});
  EXPECT_EQ(attr("orders", "RedrivePolicy"),
            R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":5})");
}

TEST_F(QueueTest, RedriveAllowPolicyDenyAllRefusesSourceQueues) {
  create("dlq", {{"RedriveAllowPolicy", R"({"redrivePermission":"denyAll"})"}});
  auto r = q().create_queue("orders", {{"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":3})"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_parameter_value);
}

TEST_F(QueueTest, ListDeadLetterSourceQueuesNamesQueuesThatTargetTheDlq) {
  create("dlq");
  std::string policy = R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":3})";
  create("a", {{"RedrivePolicy", policy}});
  create("b", {{"RedrivePolicy", policy}});
  create("c");
  auto s = q().dead_letter_sources("dlq");
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (std::vector<std::string>{"a", "b"}));
}

TEST_F(QueueTest, DelayedMessageIsHiddenAndCountedUntilItsDelayPasses) {
  create("orders");
  send("orders", "later", 10);
  EXPECT_TRUE(receive("orders").empty());
  EXPECT_EQ(attr("orders", "ApproximateNumberOfMessagesDelayed"), "1");
  clock_.advance(10s);
  EXPECT_EQ(attr("orders", "ApproximateNumberOfMessagesDelayed"), "0");
  EXPECT_EQ(receive("orders").size(), 1u);
}

TEST_F(QueueTest, QueueDelaySecondsAppliesWhenMessageHasNone) {
  create("orders", {{"DelaySeconds", "5"}});
  send("orders", "a");
  EXPECT_TRUE(receive("orders").empty());
  clock_.advance(5s);
  EXPECT_EQ(receive("orders").size(), 1u);
}

TEST_F(QueueTest, PerMessageDelayOutOfRangeIsRejected) {
  create("orders");
  SendRequest r;
  r.body = "x";
  r.delay_seconds = 901;
  auto e = q().send("orders", r);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::invalid_parameter_value);
}

TEST_F(QueueTest, MessagesExpireAfterRetentionPeriod) {
  create("orders", {{"MessageRetentionPeriod", "60"}});
  send("orders", "old");
  clock_.advance(30s);
  send("orders", "new");
  clock_.advance(30s);
  auto got = receive("orders");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "new");
}

TEST_F(QueueTest, LongPollReturnsAsSoonAsAMessageArrives) {
  create("orders");
  std::promise<Result<std::vector<ReceivedMessage>>> p;
  ReceiveRequest r;
  r.wait_seconds = 20;
  q().receive_async("orders", r, [&](Result<std::vector<ReceivedMessage>> got) { p.set_value(std::move(got)); });
  auto f = p.get_future();
  EXPECT_EQ(f.wait_for(0ms), std::future_status::timeout) << "must wait while the queue is empty";
  send("orders", "wake");
  auto got = f.get();  // no clock advance: the send itself wakes the poller
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].body, "wake");
}

TEST_F(QueueTest, LongPollReturnsEmptyWhenTheWaitExpires) {
  create("orders");
  std::promise<Result<std::vector<ReceivedMessage>>> p;
  ReceiveRequest r;
  r.wait_seconds = 20;
  q().receive_async("orders", r, [&](Result<std::vector<ReceivedMessage>> got) { p.set_value(std::move(got)); });
  auto f = p.get_future();
  clock_.advance(19s);
  EXPECT_EQ(f.wait_for(50ms), std::future_status::timeout);
  clock_.advance(1s);
  auto got = f.get();
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->empty());
}

TEST_F(QueueTest, LongPollWakesWhenAnInFlightMessageBecomesVisibleAgain) {
  create("orders", {{"VisibilityTimeout", "5"}});
  send("orders", "a");
  ASSERT_EQ(receive("orders").size(), 1u);
  std::promise<Result<std::vector<ReceivedMessage>>> p;
  ReceiveRequest r;
  r.wait_seconds = 20;
  q().receive_async("orders", r, [&](Result<std::vector<ReceivedMessage>> got) { p.set_value(std::move(got)); });
  auto f = p.get_future();
  clock_.advance(5s);
  auto got = f.get();
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].receive_count, 2);
}

TEST_F(QueueTest, ReceiveRejectsOutOfRangeParameters) {
  create("orders");
  ReceiveRequest r;
  r.max_messages = 11;
  auto e = q().receive("orders", r);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::invalid_parameter_value);
  EXPECT_NE(e.error().message.find("Must be between 1 and 10, if provided."), std::string::npos);
  r.max_messages = 1;
  r.wait_seconds = 21;
  e = q().receive("orders", r);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("Value 21 for parameter WaitTimeSeconds is invalid"), std::string::npos);
}

TEST_F(QueueTest, ConcurrentReceiversNeverGetTheSameMessageWhileItIsInvisible) {
  create("orders");
  constexpr int kMessages = 400;
  for (int i = 0; i < kMessages; i += 10) {
    std::vector<std::pair<std::string, SendRequest>> batch;
    for (int j = 0; j < 10; ++j) {
      SendRequest r;
      r.body = "m" + std::to_string(i + j);
      batch.emplace_back("e" + std::to_string(j), r);
    }
    ASSERT_TRUE(q().send_batch("orders", batch));
  }
  std::mutex mu;
  std::multiset<std::string> seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (;;) {
        auto got = receive("orders", 10);
        if (got.empty()) return;
        std::lock_guard g(mu);
        for (auto& m : got) seen.insert(m.message_id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kMessages));
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "a message was delivered twice while invisible";
}

TEST_F(QueueTest, OlderReceiptHandleStillDeletesTheMessage) {
  create("orders");
  send("orders", "a");
  auto first = receive("orders", 1, 0);
  auto second = receive("orders", 1, 30);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  ASSERT_TRUE(q().delete_message("orders", first[0].receipt_handle));
  clock_.advance(31s);
  EXPECT_TRUE(receive("orders").empty());
  EXPECT_TRUE(q().delete_message("orders", second[0].receipt_handle)) << "deleting twice succeeds";
}

TEST_F(QueueTest, GarbageReceiptHandleIsInvalid) {
  create("orders");
  auto e = q().delete_message("orders", "garbage");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::receipt_handle_is_invalid);
  EXPECT_EQ(e.error().message, "The input receipt handle \"garbage\" is not a valid receipt handle.");
}

TEST_F(QueueTest, ReceiptHandleOfAnotherQueueIsInvalid) {
  create("a");
  create("b");
  send("a", "x");
  auto got = receive("a");
  ASSERT_EQ(got.size(), 1u);
  auto e = q().delete_message("b", got[0].receipt_handle);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::receipt_handle_is_invalid);
}

TEST_F(QueueTest, ChangeVisibilityToZeroMakesTheMessageVisibleNow) {
  create("orders");
  send("orders", "a");
  auto got = receive("orders");
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(q().change_visibility("orders", got[0].receipt_handle, 0));
  EXPECT_EQ(receive("orders").size(), 1u);
}

TEST_F(QueueTest, ChangeVisibilityExtendsFromTheTimeOfTheCall) {
  create("orders");
  send("orders", "a");
  auto got = receive("orders");
  clock_.advance(20s);
  ASSERT_TRUE(q().change_visibility("orders", got[0].receipt_handle, 30));
  clock_.advance(29s);
  EXPECT_TRUE(receive("orders").empty());
  clock_.advance(1s);
  EXPECT_EQ(receive("orders").size(), 1u);
}

TEST_F(QueueTest, ChangeVisibilityOfDeletedMessageFails) {
  create("orders");
  send("orders", "a");
  auto got = receive("orders");
  ASSERT_TRUE(q().delete_message("orders", got[0].receipt_handle));
  auto e = q().change_visibility("orders", got[0].receipt_handle, 10);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::invalid_parameter_value);
  EXPECT_NE(e.error().message.find("Message does not exist or is not available for visibility timeout change"),
            std::string::npos);
}

TEST_F(QueueTest, ChangeVisibilityCannotExceedTwelveHoursFromReceive) {
  create("orders");
  send("orders", "a");
  auto got = receive("orders", 1, 7200);
  clock_.advance(std::chrono::hours(1));
  auto e = q().change_visibility("orders", got[0].receipt_handle, 43200);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::invalid_parameter_value);
  EXPECT_TRUE(q().change_visibility("orders", got[0].receipt_handle, 39600));
}

TEST_F(QueueTest, SendBatchReportsPerEntryFailuresAndKeepsTheRest) {
  create("orders");
  std::vector<std::pair<std::string, SendRequest>> batch;
  SendRequest ok;
  ok.body = "fine";
  SendRequest bad;
  bad.body = "";
  batch.emplace_back("one", ok);
  batch.emplace_back("two", bad);
  batch.emplace_back("three", ok);
  auto r = q().send_batch("orders", batch);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->successful.size(), 2u);
  ASSERT_EQ(r->failed.size(), 1u);
  EXPECT_EQ(r->failed[0].first, "two");
  EXPECT_TRUE(r->failed[0].second.info().sender_fault);
  EXPECT_EQ(receive("orders").size(), 2u);
}

TEST_F(QueueTest, BatchValidationErrors) {
  create("orders");
  SendRequest m;
  m.body = "x";
  std::vector<std::pair<std::string, SendRequest>> batch;
  auto r = q().send_batch("orders", batch);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::empty_batch_request);
  for (int i = 0; i < 11; ++i) batch.emplace_back("id" + std::to_string(i), m);
  r = q().send_batch("orders", batch);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::too_many_entries_in_batch_request);
  EXPECT_EQ(r.error().message, "Maximum number of entries per request are 10. You have sent 11.");
  batch = {{"a", m}, {"a", m}};
  r = q().send_batch("orders", batch);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::batch_entry_ids_not_distinct);
  batch = {{"bad id!", m}};
  r = q().send_batch("orders", batch);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_batch_entry_id);
  SendRequest big;
  big.body = std::string(600'000, 'x');
  batch = {{"a", big}, {"b", big}};
  r = q().send_batch("orders", batch);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::batch_request_too_long);
  EXPECT_EQ(attr("orders", "ApproximateNumberOfMessages"), "0") << "a failed batch changes nothing";
}

TEST_F(QueueTest, DeleteAndChangeVisibilityBatchesReportPerEntry) {
  create("orders");
  send("orders", "a");
  send("orders", "b");
  auto got = receive("orders", 10);
  ASSERT_EQ(got.size(), 2u);
  auto d = q().delete_message_batch("orders", {{"x", got[0].receipt_handle}, {"y", "garbage"}});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->successful.size(), 1u);
  ASSERT_EQ(d->failed.size(), 1u);
  EXPECT_EQ(d->failed[0].second.code, ErrorCode::receipt_handle_is_invalid);
  auto c = q().change_visibility_batch("orders", {{"x", {got[1].receipt_handle, 0}}, {"y", {"garbage", 0}}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->successful.size(), 1u);
  EXPECT_EQ(c->failed.size(), 1u);
  auto again = receive("orders");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].body, "b");
}

TEST_F(QueueTest, PurgeRemovesEverythingAndIsLimitedToOncePerMinute) {
  create("orders");
  send("orders", "a");
  send("orders", "b", 30);
  ASSERT_TRUE(q().purge("orders"));
  EXPECT_EQ(attr("orders", "ApproximateNumberOfMessages"), "0");
  EXPECT_EQ(attr("orders", "ApproximateNumberOfMessagesDelayed"), "0");
  auto e = q().purge("orders");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::purge_queue_in_progress);
  clock_.advance(60s);
  EXPECT_TRUE(q().purge("orders"));
}

TEST_F(QueueTest, DeletedQueueNameCannotBeReusedForSixtySeconds) {
  create("orders");
  ASSERT_TRUE(q().delete_queue("orders"));
  EXPECT_FALSE(q().exists("orders"));
  auto r = q().create_queue("orders", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::queue_deleted_recently);
  clock_.advance(60s);
  create("orders");
}

TEST_F(QueueTest, SetAttributesChangesBehaviour) {
  create("orders");
  ASSERT_TRUE(q().set_attributes("orders", {{"VisibilityTimeout", "2"}}));
  EXPECT_EQ(attr("orders", "VisibilityTimeout"), "2");
  send("orders", "a");
  ASSERT_EQ(receive("orders").size(), 1u);
  clock_.advance(2s);
  EXPECT_EQ(receive("orders").size(), 1u);
  auto e = q().set_attributes("orders", {{"VisibilityTimeout", "-1"}});
  ASSERT_FALSE(e);
  EXPECT_EQ(attr("orders", "VisibilityTimeout"), "2") << "a failed call changes nothing";
}

TEST_F(QueueTest, MessageAttributesRoundTripWithAwsMd5) {
  create("orders");
  SendRequest r;
  r.body = "x";
  r.attributes["attr1"] = MessageAttributeValue{"Number", "99.12", ""};
  auto sent = q().send("orders", r);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->md5_of_attributes, "d302007e9aa062660afc85fd0a482472");
  auto got = receive("orders");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].attributes.at("attr1").string_value, "99.12");
}

TEST_F(QueueTest, TagsAreAddedListedAndRemoved) {
  create("orders");
  ASSERT_TRUE(q().tag("orders", {{"team", "a"}, {"env", "dev"}}));
  ASSERT_TRUE(q().untag("orders", {"env"}));
  auto t = q().tags("orders");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, (TagMap{{"team", "a"}}));
}

TEST_F(QueueTest, MoveTaskReturnsDeadLettersToTheirSourceQueue) {
  create("dlq");
  create("orders", {{"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":1})"}});
  for (int i = 0; i < 3; ++i) send("orders", "m" + std::to_string(i));
  ASSERT_EQ(receive("orders", 10, 0).size(), 3u);
  EXPECT_TRUE(receive("orders", 10).empty());
  ASSERT_EQ(attr("dlq", "ApproximateNumberOfMessages"), "3");
  auto bad = q().start_move_task(q().arn("orders"), "", std::nullopt);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "Source queue must be configured as a Dead Letter Queue.");
  auto h = q().start_move_task(q().arn("dlq"), "", std::nullopt);
  ASSERT_TRUE(h) << h.error().message;
  for (int i = 0; i < 200 && attr("orders", "ApproximateNumberOfMessages") != "3"; ++i)
    std::this_thread::sleep_for(5ms);  // the timer thread runs the task; poll for the condition
  EXPECT_EQ(attr("orders", "ApproximateNumberOfMessages"), "3");
  EXPECT_EQ(attr("dlq", "ApproximateNumberOfMessages"), "0");
  auto tasks = q().list_move_tasks(q().arn("dlq"), 10);
  ASSERT_TRUE(tasks);
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].status, "COMPLETED");
  EXPECT_EQ((*tasks)[0].moved, 3);
  auto again = receive("orders");
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].receive_count, 1) << "moved messages start over";
}

TEST_F(QueueTest, MoveTaskWithRateLimitMovesAtMostThatManyPerSecond) {
  create("dlq");
  create("orders", {{"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":1})"}});
  for (int i = 0; i < 5; ++i) send("orders", "m");
  ASSERT_EQ(receive("orders", 10, 0).size(), 5u);
  EXPECT_TRUE(receive("orders", 10).empty());
  auto h = q().start_move_task(q().arn("dlq"), "", 2);
  ASSERT_TRUE(h);
  for (int i = 0; i < 200 && attr("orders", "ApproximateNumberOfMessages") != "2"; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(attr("orders", "ApproximateNumberOfMessages"), "2") << "first second's quota only";
  auto c = q().cancel_move_task(*h);
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, 2);
  clock_.advance(5s);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(attr("orders", "ApproximateNumberOfMessages"), "2") << "a cancelled task moves nothing more";
  auto tasks = q().list_move_tasks(q().arn("dlq"), 1);
  ASSERT_TRUE(tasks);
  EXPECT_EQ((*tasks)[0].status, "CANCELLED");
}

TEST_F(QueueTest, RestartRestoresMessagesWithVisibilityDeadlinesAndReceiveCounts) {
  create("dlq");
  create("orders", {{"VisibilityTimeout", "10"},
                    {"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":3})"}});
  send("orders", "inflight");
  auto got = receive("orders");
  ASSERT_EQ(got.size(), 1u);
  send("orders", "visible");
  send("orders", "delayed", 100);
  reopen();
  EXPECT_EQ(attr("orders", "ApproximateNumberOfMessages"), "1");
  EXPECT_EQ(attr("orders", "ApproximateNumberOfMessagesNotVisible"), "1");
  EXPECT_EQ(attr("orders", "ApproximateNumberOfMessagesDelayed"), "1");
  EXPECT_EQ(attr("orders", "VisibilityTimeout"), "10");
  auto v = receive("orders");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].body, "visible");
  clock_.advance(10s);
  auto again = receive("orders", 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].body, "inflight");
  EXPECT_EQ(again[0].receive_count, 2) << "receive count survives the restart";
  ASSERT_TRUE(q().delete_message("orders", got[0].receipt_handle)) << "handles survive the restart";
}

TEST_F(QueueTest, AnInProcessReceiveIsRefundedOnceWhenTheProcessStops) {
  create("orders", {{"VisibilityTimeout", "300"}});
  send("orders", "m");
  auto api = receive("orders");  // an API consumer: its receive counts, restart or not
  ASSERT_EQ(api.size(), 1u);
  clock_.advance(300s);
  ReceiveRequest r;
  r.max_messages = 1;
  r.wait_seconds = 0;
  r.in_process = true;  // as the event source mapping receives
  auto esm = q().receive("orders", r);
  ASSERT_TRUE(esm);
  ASSERT_EQ(esm->size(), 1u);
  EXPECT_EQ((*esm)[0].receive_count, 2);
  reopen();  // the process stopped with the message in flight
  EXPECT_EQ(attr("orders", "ApproximateNumberOfMessages"), "1") << "visible at once, not after 300 s";
  reopen();  // a second restart refunds nothing more
  auto after = receive("orders");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].receive_count, 2) << "the API receive counted, the interrupted one did not";
  reopen();
  EXPECT_EQ(attr("orders", "ApproximateNumberOfMessagesNotVisible"), "1") << "an API receive is not refunded";
}

}  // namespace
}  // namespace orderflow::engine

namespace orderflow::engine {
namespace {

// Queues with no body cache: every body lives only on disk.
class QueueBodyCache : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::open(dir_.path());
    ASSERT_TRUE(s);
    store_ = std::move(*s);
    QueuesOptions o;
    o.body_cache_bytes = 0;
    auto qs = Queues::open(*store_, clock_, o);
    ASSERT_TRUE(qs);
    queues_ = std::move(*qs);
  }
  void TearDown() override {
    queues_.reset();
    store_.reset();
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Queues> queues_;
};

// Receives, dead-letter moves and move tasks must read a body kept only on disk back exactly.
TEST_F(QueueBodyCache, BodiesKeptOnlyOnDiskAreReadBackExactly) {
  using namespace std::chrono_literals;
  Queues& q = *queues_;
  ASSERT_TRUE(q.create_queue("dlq", {}));
  ASSERT_TRUE(q.create_queue("orders", {{"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":1})"}}));
  for (int i = 0; i < 30; ++i) {
    SendRequest r;
    r.body = "body-" + std::to_string(i) + std::string(static_cast<std::size_t>(i * 100), 'x');
    ASSERT_TRUE(q.send("orders", r));
  }
  ReceiveRequest rr;
  rr.max_messages = 10;
  rr.visibility_timeout = 0;
  std::vector<std::string> bodies;
  for (int round = 0; round < 3; ++round) {
    auto got = q.receive("orders", rr);
    ASSERT_TRUE(got);
    for (auto& m : *got) {
      bodies.push_back(m.body);
      EXPECT_EQ(m.md5_of_body, md5_hex(m.body));
    }
  }
  ASSERT_EQ(bodies.size(), 30u);
  for (int i = 0; i < 30; ++i)
    EXPECT_EQ(bodies[static_cast<std::size_t>(i)], "body-" + std::to_string(i) + std::string(static_cast<std::size_t>(i * 100), 'x'));
  auto none = q.receive("orders", rr);  // every message is now past maxReceiveCount: all move
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(q.start_move_task(q.arn("dlq"), "", std::nullopt));
  for (int i = 0; i < 400; ++i) {
    auto c = q.counts("orders");
    if (c && c->visible == 30) break;
    std::this_thread::sleep_for(5ms);
  }
  std::set<std::string> back;
  for (int round = 0; round < 3; ++round) {
    auto got = q.receive("orders", rr);
    ASSERT_TRUE(got);
    for (auto& m : *got) back.insert(m.body);
  }
  EXPECT_EQ(back, std::set<std::string>(bodies.begin(), bodies.end()));
}

// Bodies read back for one receive may be neighbours on disk or far apart (other messages of
// the queue delayed or in flight between them): each comes back as it was sent.
TEST_F(QueueBodyCache, BodiesOfScatteredMessagesAreReadBackExactly) {
  Queues& q = *queues_;
  for (int every : {1, 3, 7}) {  // every `every`th message is ready, the others delayed
    SCOPED_TRACE("every " + std::to_string(every));
    std::string name = "q" + std::to_string(every);
    ASSERT_TRUE(q.create_queue(name, {}));
    std::set<std::string> ready;
    for (int i = 0; i < 10 * every; ++i) {
      SendRequest r;
      r.body = "m" + std::to_string(i) + std::string(static_cast<std::size_t>(i * 37 % 500), 'b');
      if (i % every != 0) r.delay_seconds = 900;
      else ready.insert(r.body);
      ASSERT_TRUE(q.send(name, r));
    }
    ReceiveRequest rr;
    rr.max_messages = 10;
    auto got = q.receive(name, rr);
    ASSERT_TRUE(got) << got.error().message;
    std::set<std::string> bodies;
    for (auto& m : *got) {
      bodies.insert(m.body);
      EXPECT_EQ(m.md5_of_body, md5_hex(m.body));
    }
    EXPECT_EQ(bodies, ready);
  }
}

}  // namespace
}  // namespace orderflow::engine
