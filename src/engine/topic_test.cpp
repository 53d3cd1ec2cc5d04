// Contract tests for SNS topics with sqs subscriptions (engine/topics.h).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>

#include "common/util.h"
#include "engine/queues.h"
#include "engine/sns/envelope.h"
#include "engine/testing/temp_dir.h"
#include "engine/topics.h"

namespace orderflow::engine {
namespace {

namespace json = boost::json;

class TopicTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen(bool key_in_background = false) {
    topics_.reset();
    queues_.reset();
    store_.reset();
    auto s = Store::open(dir_.path());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    auto q = Queues::open(*store_, clock_);
    ASSERT_TRUE(q) << q.error().message;
    queues_ = std::move(*q);
    TopicsOptions o;
    o.signing_key_bits = 1024;  // faster key generation in tests
    o.generate_key_in_background = key_in_background;
    auto t = Topics::open(*store_, clock_, *queues_, o);
    ASSERT_TRUE(t) << t.error().message;
    topics_ = std::move(*t);
  }

  std::string make_queue(const std::string& name) {
    auto r = queues_->create_queue(name, {});
    EXPECT_TRUE(r);
    return queues_->arn(name);
  }

  std::vector<ReceivedMessage> drain(const std::string& queue) {
    ReceiveRequest r;
    r.max_messages = 10;
    r.wait_seconds = 0;
    auto got = queues_->receive(queue, r);
    EXPECT_TRUE(got);
    return got ? *got : std::vector<ReceivedMessage>{};
  }

  std::string publish(const std::string& topic, std::string message, MessageAttributes attrs = {}) {
    PublishRequest p;
    p.message = std::move(message);
    p.attributes = std::move(attrs);
    auto r = topics_->publish(topic, p);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : "";
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Queues> queues_;
  std::unique_ptr<Topics> topics_;
};

TEST_F(TopicTest, CreateTopicIsIdempotentAndReturnsAnAwsArn) {
  auto a = topics_->create_topic("OrderTopic", {});
  auto b = topics_->create_topic("OrderTopic", {});
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, "arn:aws:sns:us-east-1:000000000000:OrderTopic");
  EXPECT_EQ(*a, *b);
  auto bad = topics_->create_topic("bad name", {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::sns_invalid_parameter);
}

TEST_F(TopicTest, ListTopicsPagesByOneHundred) {
  for (int i = 0; i < 150; ++i) ASSERT_TRUE(topics_->create_topic("t" + std::to_string(i), {}));
  auto p1 = topics_->list_topics("");
  ASSERT_TRUE(p1);
  EXPECT_EQ(p1->items.size(), 100u);
  ASSERT_FALSE(p1->next_token.empty());
  auto p2 = topics_->list_topics(p1->next_token);
  ASSERT_TRUE(p2);
  EXPECT_EQ(p2->items.size(), 50u);
  EXPECT_TRUE(p2->next_token.empty());
}

TEST_F(TopicTest, PublishDeliversTheSnsEnvelopeToSubscribedQueue) {
  auto topic = *topics_->create_topic("OrderTopic", {});
  auto qarn = make_queue("orders");
  auto sub = topics_->subscribe(topic, "sqs", qarn, {});
  ASSERT_TRUE(sub) << sub.error().message;
  std::string id = publish(topic, R"({"orderId":"o-1"})", {{"kind", {"String", "order", ""}}});
  auto got = drain("orders");
  ASSERT_EQ(got.size(), 1u);
  json::value env = json::parse(got[0].body);
  const auto& o = env.as_object();
  EXPECT_EQ(o.at("Type").as_string(), "Notification");
  EXPECT_EQ(o.at("MessageId").as_string(), id);
  EXPECT_EQ(o.at("TopicArn").as_string(), topic);
  EXPECT_EQ(o.at("Message").as_string(), R"({"orderId":"o-1"})");
  EXPECT_EQ(o.at("SignatureVersion").as_string(), "1");
  EXPECT_FALSE(o.contains("Subject"));
  EXPECT_EQ(o.at("MessageAttributes").at("kind").at("Type").as_string(), "String");
  EXPECT_EQ(o.at("MessageAttributes").at("kind").at("Value").as_string(), "order");
  EXPECT_TRUE(std::string(o.at("UnsubscribeURL").as_string()).find(*sub) != std::string::npos);
  EXPECT_TRUE(got[0].attributes.empty()) << "envelope delivery carries no SQS attributes";
}

TEST_F(TopicTest, EnvelopeSignatureVerifiesWithTheServedCertificate) {
  auto topic = *topics_->create_topic("OrderTopic", {});
  ASSERT_TRUE(topics_->subscribe(topic, "sqs", make_queue("orders"), {}));
  publish(topic, "hello");
  auto got = drain("orders");
  ASSERT_EQ(got.size(), 1u);
  json::value env = json::parse(got[0].body);
  const auto& o = env.as_object();
  sns::Notification n;
  n.message_id = std::string(o.at("MessageId").as_string());
  n.topic_arn = topic;
  n.message = "hello";
  std::string ts(o.at("Timestamp").as_string());
  std::string to_sign = "Message\nhello\nMessageId\n" + n.message_id + "\nTimestamp\n" + ts + "\nTopicArn\n" + topic +
                        "\nType\nNotification\n";
  auto sig = base64_decode(std::string(o.at("Signature").as_string()));
  ASSERT_TRUE(sig);
  EXPECT_TRUE(sns::verify_signature(topics_->signing_certificate_pem(), to_sign, *sig, sns::SignatureVersion::v1));
}

TEST_F(TopicTest, RawDeliveryPassesBodyAndMessageAttributes) {
  auto topic = *topics_->create_topic("OrderTopic", {});
  ASSERT_TRUE(topics_->subscribe(topic, "sqs", make_queue("orders"), {{"RawMessageDelivery", "true"}}));
  publish(topic, "raw body", {{"n", {"Number", "42", ""}}});
  auto got = drain("orders");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "raw body");
  ASSERT_TRUE(got[0].attributes.contains("n"));
  EXPECT_EQ(got[0].attributes.at("n").data_type, "Number");
  EXPECT_EQ(got[0].attributes.at("n").string_value, "42");
}

TEST_F(TopicTest, FilterPolicyOnAttributesSelectsSubscriptions) {
  auto topic = *topics_->create_topic("OrderTopic", {});
  ASSERT_TRUE(topics_->subscribe(topic, "sqs", make_queue("big"),
                                 {{"FilterPolicy", R"({"total":[{"numeric":[">=",100]}]})"}, {"RawMessageDelivery", "true"}}));
  ASSERT_TRUE(topics_->subscribe(topic, "sqs", make_queue("all"), {{"RawMessageDelivery", "true"}}));
  publish(topic, "small", {{"total", {"Number", "5", ""}}});
  publish(topic, "large", {{"total", {"Number", "500", ""}}});
  publish(topic, "none");
  auto big = drain("big");
  ASSERT_EQ(big.size(), 1u);
  EXPECT_EQ(big[0].body, "large");
  EXPECT_EQ(drain("all").size(), 3u);
}

TEST_F(TopicTest, FilterPolicyOnMessageBodySelectsByNestedKeys) {
  auto topic = *topics_->create_topic("OrderTopic", {});
  ASSERT_TRUE(topics_->subscribe(topic, "sqs", make_queue("eu"),
                                 {{"FilterPolicyScope", "MessageBody"},
                                  {"FilterPolicy", R"({"customer":{"region":["eu"]}})"},
                                  {"RawMessageDelivery", "true"}}));
  publish(topic, R"({"customer":{"region":"eu"},"id":1})");
  publish(topic, R"({"customer":{"region":"us"},"id":2})");
  publish(topic, "not json");
  auto got = drain("eu");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, R"({"customer":{"region":"eu"},"id":1})");
}

TEST_F(TopicTest, InvalidFilterPolicyIsRejectedAndChangesNothing) {
  auto topic = *topics_->create_topic("OrderTopic", {});
  auto sub = topics_->subscribe(topic, "sqs", make_queue("q"), {{"RawMessageDelivery", "true"}});
  ASSERT_TRUE(sub);
  auto e = topics_->set_subscription_attribute(*sub, "FilterPolicy", "{not json");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::sns_invalid_parameter);
  auto attrs = topics_->get_subscription_attributes(*sub);
  ASSERT_TRUE(attrs);
  EXPECT_FALSE(attrs->contains("FilterPolicy"));
  EXPECT_EQ(attrs->at("RawMessageDelivery"), "true");
}

TEST_F(TopicTest, FanOutReachesEverySubscribedQueue) {
  auto topic = *topics_->create_topic("OrderTopic", {});
  for (auto name : {"a", "b", "c"}) ASSERT_TRUE(topics_->subscribe(topic, "sqs", make_queue(name), {}));
  publish(topic, "x");
  for (auto name : {"a", "b", "c"}) EXPECT_EQ(drain(name).size(), 1u) << name;
}

TEST_F(TopicTest, DeliveryToAMissingQueueIsDroppedWithoutFailingThePublish) {
  auto topic = *topics_->create_topic("OrderTopic", {});
  ASSERT_TRUE(topics_->subscribe(topic, "sqs", "arn:aws:sqs:us-east-1:000000000000:ghost", {}));
  ASSERT_TRUE(topics_->subscribe(topic, "sqs", make_queue("real"), {}));
  publish(topic, "x");
  EXPECT_EQ(drain("real").size(), 1u);
}

TEST_F(TopicTest, PublishBatchDeliversEachSuccessfulEntryAndReportsFailures) {
  auto topic = *topics_->create_topic("OrderTopic", {});
  ASSERT_TRUE(topics_->subscribe(topic, "sqs", make_queue("orders"), {{"RawMessageDelivery", "true"}}));
  std::vector<std::pair<std::string, PublishRequest>> entries;
  entries.emplace_back("a", PublishRequest{"one", {}, "", {}});
  entries.emplace_back("b", PublishRequest{"", {}, "", {}});
  entries.emplace_back("c", PublishRequest{"three", {}, "", {}});
  auto r = topics_->publish_batch(topic, entries);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->successful.size(), 2u);
  ASSERT_EQ(r->failed.size(), 1u);
  EXPECT_EQ(r->failed[0].first, "b");
  EXPECT_EQ(drain("orders").size(), 2u);
  entries.clear();
  for (int i = 0; i < 11; ++i) entries.emplace_back("e" + std::to_string(i), PublishRequest{"m", {}, "", {}});
  auto big = topics_->publish_batch(topic, entries);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::sns_too_many_entries_in_batch_request);
}

TEST_F(TopicTest, PublishErrors) {
  auto topic = *topics_->create_topic("OrderTopic", {});
  PublishRequest p;
  p.message = "x";
  auto missing = topics_->publish("arn:aws:sns:us-east-1:000000000000:nope", p);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::sns_not_found);
  auto malformed = topics_->publish("arn:aws:sns:nope", p);
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code, ErrorCode::sns_invalid_parameter);
  p.message = "";
  auto empty = topics_->publish(topic, p);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "Invalid parameter: Empty message");
  p.message = std::string(262145, 'x');
  auto big = topics_->publish(topic, p);
  ASSERT_FALSE(big);
}

TEST_F(TopicTest, MessageStructureJsonDeliversTheSqsOrDefaultEntry) {
  auto topic = *topics_->create_topic("OrderTopic", {});
  ASSERT_TRUE(topics_->subscribe(topic, "sqs", make_queue("orders"), {{"RawMessageDelivery", "true"}}));
  PublishRequest p;
  p.message_structure = "json";
  p.message = R"({"default":"d","sqs":"for sqs"})";
  ASSERT_TRUE(topics_->publish(topic, p));
  p.message = R"({"default":"only default"})";
  ASSERT_TRUE(topics_->publish(topic, p));
  p.message = R"({"sqs":"no default"})";
  EXPECT_FALSE(topics_->publish(topic, p));
  auto got = drain("orders");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].body, "for sqs");
  EXPECT_EQ(got[1].body, "only default");
}

TEST_F(TopicTest, DeleteTopicRemovesItsSubscriptions) {
  auto topic = *topics_->create_topic("OrderTopic", {});
  auto sub = topics_->subscribe(topic, "sqs", make_queue("orders"), {});
  ASSERT_TRUE(sub);
  ASSERT_TRUE(topics_->delete_topic(topic));
  auto attrs = topics_->get_subscription_attributes(*sub);
  ASSERT_FALSE(attrs);
  EXPECT_EQ(attrs.error().code, ErrorCode::sns_not_found);
  std::string next;
  auto subs = topics_->list_subscriptions("", "", &next);
  ASSERT_TRUE(subs);
  EXPECT_TRUE(subs->empty());
}

TEST_F(TopicTest, SubscribeIsIdempotentAndValidatesProtocolAndEndpoint) {
  auto topic = *topics_->create_topic("OrderTopic", {});
  auto q = make_queue("orders");
  auto a = topics_->subscribe(topic, "sqs", q, {});
  auto b = topics_->subscribe(topic, "sqs", q, {});
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
  EXPECT_FALSE(topics_->subscribe(topic, "carrier-pigeon", q, {}));
  EXPECT_FALSE(topics_->subscribe(topic, "sqs", "not-an-arn", {}));
  auto missing = topics_->subscribe("arn:aws:sns:us-east-1:000000000000:nope", "sqs", q, {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::sns_not_found);
}

TEST_F(TopicTest, TopicAttributesReportSubscriptionsAndSettableValues) {
  auto topic = *topics_->create_topic("OrderTopic", {{"DisplayName", "Orders"}});
  ASSERT_TRUE(topics_->subscribe(topic, "sqs", make_queue("orders"), {}));
  ASSERT_TRUE(topics_->set_topic_attribute(topic, "DisplayName", "Orders!"));
  EXPECT_FALSE(topics_->set_topic_attribute(topic, "Colour", "blue"));
  auto a = topics_->get_topic_attributes(topic);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->at("DisplayName"), "Orders!");
  EXPECT_EQ(a->at("SubscriptionsConfirmed"), "1");
  EXPECT_EQ(a->at("TopicArn"), topic);
  EXPECT_EQ(a->at("Owner"), "000000000000");
}

TEST_F(TopicTest, AKeyGeneratedInTheBackgroundSignsTheFirstPublishAndIsKept) {
  // A fresh data directory whose key is generated while open() has already returned.
  topics_.reset();
  queues_.reset();
  store_.reset();
  std::filesystem::remove_all(dir_.path());
  std::filesystem::create_directories(dir_.path());
  reopen(/*key_in_background=*/true);
  auto topic = *topics_->create_topic("OrderTopic", {});
  make_queue("q");
  ASSERT_TRUE(topics_->subscribe(topic, "sqs", queues_->arn("q"), {}));
  publish(topic, "first");  // waits for the key
  auto got = drain("q");
  ASSERT_EQ(got.size(), 1u);
  auto env = json::parse(got[0].body).as_object();
  std::string cert = topics_->signing_certificate_pem();
  ASSERT_FALSE(cert.empty());
  std::string to_sign = "Message\nfirst\nMessageId\n" + std::string(env.at("MessageId").as_string()) +
                        "\nTimestamp\n" + std::string(env.at("Timestamp").as_string()) + "\nTopicArn\n" + topic +
                        "\nType\nNotification\n";
  auto sig = base64_decode(std::string(env.at("Signature").as_string()));
  ASSERT_TRUE(sig);
  EXPECT_TRUE(sns::verify_signature(cert, to_sign, *sig, sns::SignatureVersion::v1));
  reopen(/*key_in_background=*/true);
  EXPECT_EQ(topics_->signing_certificate_pem(), cert) << "the key was stored before it was used";
}

TEST_F(TopicTest, RestartKeepsTopicsSubscriptionsAndFilterPolicies) {
  auto topic = *topics_->create_topic("OrderTopic", {});
  ASSERT_TRUE(topics_->subscribe(topic, "sqs", make_queue("big"),
                                 {{"FilterPolicy", R"({"total":[{"numeric":[">=",100]}]})"}, {"RawMessageDelivery", "true"}}));
  std::string cert = topics_->signing_certificate_pem();
  reopen();
  EXPECT_EQ(topics_->signing_certificate_pem(), cert) << "the signing key survives restarts";
  publish(topic, "small", {{"total", {"Number", "5", ""}}});
  publish(topic, "large", {{"total", {"Number", "500", ""}}});
  auto got = drain("big");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "large");
}

}  // namespace
}  // namespace orderflow::engine
