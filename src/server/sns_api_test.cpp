// The SNS adapter (server/sns_api.h) driven directly, without sockets: decoding of SNS's
// query encoding, the XML it answers with, its errors, and deliveries into SQS queues.
#include "server/sns_api.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/clock.h"
#include "common/util.h"
#include "engine/engine.h"
#include "engine/testing/temp_dir.h"
#include "server/xml.h"

namespace orderflow::server {
namespace {

namespace json = boost::json;

constexpr std::string_view kNs = R"( xmlns="http://sns.amazonaws.com/doc/2010-03-31/")";

struct Reply {
  int status = 0;
  std::string body;
  std::string content_type;
  bool has(std::string_view fragment) const { return body.find(fragment) != std::string::npos; }
  // `text` as it appears in character data (quotes are escaped).
  bool has_text(std::string_view text) const { return has(xml::escape(text)); }
};

class SnsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine::EngineOptions o;
    o.data_dir = dir_.path();
    o.sns_signing_key_bits = 1024;
    auto e = engine::Engine::open(o, clock_);
    ASSERT_TRUE(e) << e.error().message;
    engine_ = std::move(*e);
    ctx_.request_id = "req-1";
    ctx_.region = "us-east-1";
    ctx_.access_key = "test";
    ctx_.base_url = "http://127.0.0.1:4566";
  }

  Reply call(aws::QueryParams params) {
    params.emplace_back("Version", "2010-03-31");
    int calls = 0;
    Reply out;
    sns_handle(*engine_, params, ctx_, [&](ApiResponse r) {
      ++calls;
      out.status = r.status;
      out.body = r.body;
      for (const auto& [k, v] : r.headers)
        if (k == "Content-Type") out.content_type = v;
    });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(out.content_type, "text/xml");
    return out;
  }

  std::string create_topic(const std::string& name) {
    auto r = call({{"Action", "CreateTopic"}, {"Name", name}});
    EXPECT_EQ(r.status, 200) << r.body;
    return "arn:aws:sns:us-east-1:000000000000:" + name;
  }

  std::string create_queue(const std::string& name) {
    EXPECT_TRUE(engine_->queues().create_queue(name, {}));
    return engine_->queues().arn(name);
  }

  std::string subscribe(const std::string& topic, const std::string& queue_arn,
                        aws::QueryParams extra = {}) {
    aws::QueryParams p{
        {"Action", "Subscribe"}, {"TopicArn", topic}, {"Protocol", "sqs"}, {"Endpoint", queue_arn}};
    p.insert(p.end(), extra.begin(), extra.end());
    auto r = call(p);
    EXPECT_EQ(r.status, 200) << r.body;
    auto start = r.body.find("<SubscriptionArn>") + 17;
    return r.body.substr(start, r.body.find("</SubscriptionArn>") - start);
  }

  std::vector<engine::ReceivedMessage> receive(const std::string& queue) {
    engine::ReceiveRequest r;
    r.max_messages = 10;
    r.wait_seconds = 0;
    auto got = engine_->queues().receive(queue, r);
    EXPECT_TRUE(got);
    return got ? *got : std::vector<engine::ReceivedMessage>{};
  }

  std::string error_xml(std::string_view type, std::string_view code, std::string_view message) {
    return "<ErrorResponse" + std::string(kNs) + "><Error><Type>" + std::string(type) +
           "</Type><Code>" + std::string(code) + "</Code><Message>" + xml::escape(message) +
           "</Message></Error><RequestId>req-1</RequestId></ErrorResponse>";
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<engine::Engine> engine_;
  RequestContext ctx_;
};

TEST(Xml, WriterEscapesTextAndNests) {
  xml::Writer w;
  w.open("A", "urn:x").element("B", "a<b>&\"c'\r\n").open("C").text("").close();
  EXPECT_EQ(w.finish(), R"(<A xmlns="urn:x"><B>a&lt;b&gt;&amp;&quot;c&apos;&#xD;)"
                        "\n</B><C></C></A>");
  EXPECT_EQ(xml::escape("plain ü"), "plain ü");
  // C0 controls that XML 1.0 cannot carry become U+FFFD; tab and LF stay.
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(xml::escape(std::string("a\x01" "b\0c\x1f" "\td\n", 9)), "a" + fffd + "b" + fffd + "c" + fffd + "\td\n");
}

TEST_F(SnsApiTest, CreateTopicAnswersTheArnInSnsXml) {
  auto r = call({{"Action", "CreateTopic"}, {"Name", "OrderTopic"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(
      r.body,
      "<CreateTopicResponse" + std::string(kNs) +
          "><CreateTopicResult><TopicArn>arn:aws:sns:us-east-1:000000000000:OrderTopic</TopicArn>"
          "</CreateTopicResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
          "</CreateTopicResponse>");
}

TEST_F(SnsApiTest, CreateTopicDecodesAttributesAndTags) {
  auto r = call({{"Action", "CreateTopic"},
                 {"Name", "t1"},
                 {"Attributes.entry.1.key", "DisplayName"},
                 {"Attributes.entry.1.value", "Orders & <more>"},
                 {"Tags.member.1.Key", "team"},
                 {"Tags.member.1.Value", "core"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto a = call(
      {{"Action", "GetTopicAttributes"}, {"TopicArn", "arn:aws:sns:us-east-1:000000000000:t1"}});
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_TRUE(a.has("<GetTopicAttributesResponse" + std::string(kNs) +
                    "><GetTopicAttributesResult><Attributes><entry>"));
  EXPECT_TRUE(
      a.has("<entry><key>DisplayName</key><value>Orders &amp; &lt;more&gt;</value></entry>"))
      << a.body;
  EXPECT_TRUE(a.has("<entry><key>Owner</key><value>000000000000</value></entry>"));
  EXPECT_TRUE(a.has(
      "<entry><key>TopicArn</key><value>arn:aws:sns:us-east-1:000000000000:t1</value></entry>"));
  EXPECT_TRUE(a.has("</Attributes></GetTopicAttributesResult><ResponseMetadata>"));
  // Same name, different attributes: InvalidParameter.
  auto again = call({{"Action", "CreateTopic"},
                     {"Name", "t1"},
                     {"Attributes.entry.1.key", "DisplayName"},
                     {"Attributes.entry.1.value", "other"}});
  EXPECT_EQ(again.status, 400);
  EXPECT_TRUE(again.has("<Code>InvalidParameter</Code>"));
  auto tag = call({{"Action", "CreateTopic"}, {"Name", "t2"}, {"Tags.member.1.Key", "k"}});
  EXPECT_EQ(tag.status, 400);
  EXPECT_TRUE(tag.has("<Code>ValidationError</Code>"));
}

TEST_F(SnsApiTest, MissingRequiredParametersAreValidationErrors) {
  auto r = call({{"Action", "CreateTopic"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(
      r.body,
      error_xml("Sender", "ValidationError",
                "1 validation error detected: Value null at 'name' failed to satisfy constraint: "
                "Member must not be null"));
  auto g = call({{"Action", "GetTopicAttributes"}});
  EXPECT_TRUE(
      g.has_text("Value null at 'topicArn' failed to satisfy constraint: Member must not be null"));
  auto s = call({{"Action", "Subscribe"}});
  EXPECT_TRUE(s.has_text(
      "2 validation errors detected: Value null at 'topicArn' failed to satisfy constraint: Member "
      "must not be null; Value null at 'protocol' failed to satisfy constraint: Member must not be "
      "null"))
      << s.body;
  auto p = call({{"Action", "Publish"}, {"Message", "x"}});
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(
      p.body,
      error_xml(
          "Sender", "InvalidParameter",
          "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"));
  auto m = call({{"Action", "Publish"}, {"TopicArn", create_topic("t")}});
  EXPECT_TRUE(m.has_text("Value null at 'message' failed to satisfy constraint"));
  EXPECT_TRUE(
      call({{"Action", "PublishBatch"}, {"TopicArn", "arn:aws:sns:us-east-1:000000000000:t"}})
          .has_text("Value null at 'publishBatchRequestEntries'"));
}

TEST_F(SnsApiTest, UnknownOrMissingActionIsInvalidAction) {
  auto r = call({{"Action", "FlyToTheMoon"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(r.has("<Type>Sender</Type><Code>InvalidAction</Code>"));
  EXPECT_TRUE(r.has("<RequestId>req-1</RequestId></ErrorResponse>"));
  EXPECT_EQ(call({}).status, 400);
}

TEST_F(SnsApiTest, InvalidUtf8IsRefused) {
  auto r = call({{"Action", "CreateTopic"}, {"Name", "bad\xff"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(r.has("<Code>InvalidParameter</Code>"));
  EXPECT_TRUE(r.has("not valid UTF-8"));
}

TEST_F(SnsApiTest, ListTopicsPagesWithNextToken) {
  for (int i = 0; i < 105; ++i) create_topic("topic-" + std::to_string(1000 + i));
  auto r = call({{"Action", "ListTopics"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.has(
      "<ListTopicsResult><Topics><member><TopicArn>arn:aws:sns:us-east-1:000000000000:topic-1000"
      "</TopicArn></member><member>"));
  auto start = r.body.find("<NextToken>");
  ASSERT_NE(start, std::string::npos);
  std::string token = r.body.substr(start + 11, r.body.find("</NextToken>") - start - 11);
  auto r2 = call({{"Action", "ListTopics"}, {"NextToken", token}});
  EXPECT_TRUE(r2.has("topic-1104</TopicArn></member></Topics></ListTopicsResult>")) << r2.body;
  EXPECT_FALSE(r2.has("<NextToken>"));
  auto bad = call({{"Action", "ListTopics"}, {"NextToken", "%%%"}});
  EXPECT_EQ(bad.status, 400);
}

TEST_F(SnsApiTest, EmptyListsAreEmptyElements) {
  auto r = call({{"Action", "ListTopics"}});
  EXPECT_TRUE(r.has("<ListTopicsResult><Topics></Topics></ListTopicsResult>")) << r.body;
  auto s = call({{"Action", "ListSubscriptions"}});
  EXPECT_TRUE(
      s.has("<ListSubscriptionsResult><Subscriptions></Subscriptions></ListSubscriptionsResult>"));
}

TEST_F(SnsApiTest, SetTopicAttributesAndDeleteTopicAreVoid) {
  std::string topic = create_topic("t");
  auto s = call({{"Action", "SetTopicAttributes"},
                 {"TopicArn", topic},
                 {"AttributeName", "DisplayName"},
                 {"AttributeValue", "line\r\nbreak"}});
  EXPECT_EQ(s.body, "<SetTopicAttributesResponse" + std::string(kNs) +
                        "><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
                        "</SetTopicAttributesResponse>");
  auto g = call({{"Action", "GetTopicAttributes"}, {"TopicArn", topic}});
  EXPECT_TRUE(g.has("<value>line&#xD;\nbreak</value>"));
  auto bad =
      call({{"Action", "SetTopicAttributes"}, {"TopicArn", topic}, {"AttributeName", "Nope"}});
  EXPECT_TRUE(bad.has("<Code>InvalidParameter</Code>"));
  auto d = call({{"Action", "DeleteTopic"}, {"TopicArn", topic}});
  EXPECT_EQ(d.body, "<DeleteTopicResponse" + std::string(kNs) +
                        "><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></"
                        "DeleteTopicResponse>");
  auto missing = call({{"Action", "GetTopicAttributes"}, {"TopicArn", topic}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, error_xml("Sender", "NotFound", "Topic does not exist"));
  auto short_arn = call({{"Action", "GetTopicAttributes"}, {"TopicArn", "arn:aws:sns:x"}});
  EXPECT_EQ(short_arn.status, 400);
  EXPECT_TRUE(short_arn.has("<Code>InvalidParameter</Code>"));
}

TEST_F(SnsApiTest, SubscriptionsAreListedAndConfigured) {
  std::string topic = create_topic("t");
  std::string other = create_topic("u");
  std::string q = create_queue("q1");
  std::string sub = subscribe(
      topic, q,
      {{"Attributes.entry.1.key", "RawMessageDelivery"}, {"Attributes.entry.1.value", "true"}});
  EXPECT_TRUE(sub.starts_with(topic + ":")) << sub;
  subscribe(other, q);
  auto all = call({{"Action", "ListSubscriptions"}});
  EXPECT_TRUE(all.has("<member><SubscriptionArn>" + sub +
                      "</SubscriptionArn><Owner>000000000000</Owner>"
                      "<Protocol>sqs</Protocol><Endpoint>" +
                      q + "</Endpoint><TopicArn>" + topic + "</TopicArn></member>"))
      << all.body;
  auto by = call({{"Action", "ListSubscriptionsByTopic"}, {"TopicArn", topic}});
  EXPECT_TRUE(by.has("<ListSubscriptionsByTopicResult><Subscriptions><member>"));
  EXPECT_FALSE(by.has(other + ":"));
  auto attrs = call({{"Action", "GetSubscriptionAttributes"}, {"SubscriptionArn", sub}});
  EXPECT_TRUE(attrs.has("<entry><key>RawMessageDelivery</key><value>true</value></entry>"));
  EXPECT_TRUE(attrs.has("<entry><key>Protocol</key><value>sqs</value></entry>"));
  auto set = call({{"Action", "SetSubscriptionAttributes"},
                   {"SubscriptionArn", sub},
                   {"AttributeName", "RawMessageDelivery"},
                   {"AttributeValue", "false"}});
  EXPECT_EQ(set.status, 200) << set.body;
  EXPECT_TRUE(call({{"Action", "GetSubscriptionAttributes"}, {"SubscriptionArn", sub}})
                  .has("<entry><key>RawMessageDelivery</key><value>false</value></entry>"));
  auto bad = call({{"Action", "SetSubscriptionAttributes"},
                   {"SubscriptionArn", sub},
                   {"AttributeName", "FilterPolicy"},
                   {"AttributeValue", "{not json"}});
  EXPECT_EQ(bad.status, 400);
  auto un = call({{"Action", "Unsubscribe"}, {"SubscriptionArn", sub}});
  EXPECT_EQ(un.body, "<UnsubscribeResponse" + std::string(kNs) +
                         "><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></"
                         "UnsubscribeResponse>");
  auto again = call({{"Action", "GetSubscriptionAttributes"}, {"SubscriptionArn", sub}});
  EXPECT_EQ(again.status, 404);
  EXPECT_TRUE(again.has("<Code>NotFound</Code><Message>Subscription does not exist</Message>"));
  auto bad_proto =
      call({{"Action", "Subscribe"}, {"TopicArn", topic}, {"Protocol", "carrier-pigeon"}});
  EXPECT_TRUE(bad_proto.has("<Code>InvalidParameter</Code>"));
}

TEST_F(SnsApiTest, PublishDeliversTheEnvelopeWithMessageAttributes) {
  std::string topic = create_topic("OrderTopic");
  create_queue("q");
  subscribe(topic, engine_->queues().arn("q"));
  auto r = call({{"Action", "Publish"},
                 {"TopicArn", topic},
                 {"Message", R"({"orderId":"o-1"})"},
                 {"Subject", "New order"},
                 {"MessageAttributes.entry.1.Name", "store"},
                 {"MessageAttributes.entry.1.Value.DataType", "String"},
                 {"MessageAttributes.entry.1.Value.StringValue", "example_corp"},
                 {"MessageAttributes.entry.2.Name", "blob"},
                 {"MessageAttributes.entry.2.Value.DataType", "Binary"},
                 {"MessageAttributes.entry.2.Value.BinaryValue", base64_encode("\x01\x02")}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.has("<PublishResponse" + std::string(kNs) + "><PublishResult><MessageId>"));
  auto start = r.body.find("<MessageId>") + 11;
  std::string id = r.body.substr(start, r.body.find("</MessageId>") - start);
  auto got = receive("q");
  ASSERT_EQ(got.size(), 1U);
  json::value env = json::parse(got[0].body);
  EXPECT_EQ(env.at("Type").as_string(), "Notification");
  EXPECT_EQ(env.at("MessageId").as_string(), id);
  EXPECT_EQ(env.at("TopicArn").as_string(), topic);
  EXPECT_EQ(env.at("Subject").as_string(), "New order");
  EXPECT_EQ(env.at("Message").as_string(), R"({"orderId":"o-1"})");
  EXPECT_EQ(env.at("MessageAttributes").at("store").at("Type").as_string(), "String");
  EXPECT_EQ(env.at("MessageAttributes").at("store").at("Value").as_string(), "example_corp");
  EXPECT_EQ(env.at("MessageAttributes").at("blob").at("Value").as_string(),
            base64_encode("\x01\x02"));
  EXPECT_TRUE(got[0].attributes.empty());
}

TEST_F(SnsApiTest, RawDeliveryCarriesAttributesAsSqsAttributes) {
  std::string topic = create_topic("t");
  create_queue("raw");
  subscribe(
      topic, engine_->queues().arn("raw"),
      {{"Attributes.entry.1.key", "RawMessageDelivery"}, {"Attributes.entry.1.value", "true"}});
  auto r = call({{"Action", "Publish"},
                 {"TargetArn", topic},
                 {"Message", "hello <raw>"},
                 {"MessageAttributes.entry.1.Name", "n"},
                 {"MessageAttributes.entry.1.Value.DataType", "Number"},
                 {"MessageAttributes.entry.1.Value.StringValue", "42"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto got = receive("raw");
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].body, "hello <raw>");
  ASSERT_TRUE(got[0].attributes.contains("n"));
  EXPECT_EQ(got[0].attributes.at("n").data_type, "Number");
  EXPECT_EQ(got[0].attributes.at("n").string_value, "42");
}

TEST_F(SnsApiTest, FilterPoliciesSelectDeliveries) {
  std::string topic = create_topic("t");
  create_queue("big");
  create_queue("all");
  subscribe(topic, engine_->queues().arn("big"),
            {{"Attributes.entry.1.key", "FilterPolicy"},
             {"Attributes.entry.1.value", R"({"total":[{"numeric":[">",100]}]})"}});
  subscribe(topic, engine_->queues().arn("all"));
  for (std::string total : {"50", "500"}) {
    auto r = call({{"Action", "Publish"},
                   {"TopicArn", topic},
                   {"Message", "order " + total},
                   {"MessageAttributes.entry.1.Name", "total"},
                   {"MessageAttributes.entry.1.Value.DataType", "Number"},
                   {"MessageAttributes.entry.1.Value.StringValue", total}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  auto big = receive("big");
  ASSERT_EQ(big.size(), 1U);
  EXPECT_EQ(json::parse(big[0].body).at("Message").as_string(), "order 500");
  EXPECT_EQ(receive("all").size(), 2U);
}

TEST_F(SnsApiTest, PublishErrors) {
  std::string topic = create_topic("t");
  auto missing = call({{"Action", "Publish"}, {"TopicArn", topic + "-nope"}, {"Message", "x"}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, error_xml("Sender", "NotFound", "Topic does not exist"));
  auto empty = call({{"Action", "Publish"}, {"TopicArn", topic}, {"Message", ""}});
  EXPECT_EQ(empty.status, 400);
  EXPECT_TRUE(empty.has("<Code>InvalidParameter</Code>"));
  auto no_type = call({{"Action", "Publish"},
                       {"TopicArn", topic},
                       {"Message", "x"},
                       {"MessageAttributes.entry.1.Name", "a"},
                       {"MessageAttributes.entry.1.Value.StringValue", "v"}});
  EXPECT_TRUE(no_type.has("<Code>ValidationError</Code>")) << no_type.body;
  auto bad_b64 = call({{"Action", "Publish"},
                       {"TopicArn", topic},
                       {"Message", "x"},
                       {"MessageAttributes.entry.1.Name", "a"},
                       {"MessageAttributes.entry.1.Value.DataType", "Binary"},
                       {"MessageAttributes.entry.1.Value.BinaryValue", "***"}});
  EXPECT_TRUE(bad_b64.has("<Code>InvalidParameter</Code>"));
  auto structure = call({{"Action", "Publish"},
                         {"TopicArn", topic},
                         {"Message", "not json"},
                         {"MessageStructure", "json"}});
  EXPECT_TRUE(structure.has("JSON message body failed to parse"));
  auto fifo =
      call({{"Action", "Publish"}, {"TopicArn", topic}, {"Message", "x"}, {"MessageGroupId", "g"}});
  EXPECT_TRUE(fifo.has("<Code>InvalidParameter</Code>"));
}

TEST_F(SnsApiTest, PublishBatchReportsSuccessesAndFailures) {
  std::string topic = create_topic("t");
  create_queue("q");
  subscribe(topic, engine_->queues().arn("q"));
  auto r = call(
      {{"Action", "PublishBatch"},
       {"TopicArn", topic},
       {"PublishBatchRequestEntries.member.1.Id", "one"},
       {"PublishBatchRequestEntries.member.1.Message", "first"},
       {"PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name", "k"},
       {"PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.DataType", "String"},
       {"PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.StringValue", "v"},
       {"PublishBatchRequestEntries.member.2.Id", "two"},
       {"PublishBatchRequestEntries.member.2.Message", ""},
       {"PublishBatchRequestEntries.member.3.Id", "three"},
       {"PublishBatchRequestEntries.member.3.Message", "third"},
       {"PublishBatchRequestEntries.member.3.Subject", "s"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.has("<PublishBatchResponse" + std::string(kNs) +
                    "><PublishBatchResult><Successful><member><Id>one"
                    "</Id><MessageId>"));
  EXPECT_TRUE(r.has(
      "<Failed><member><Id>two</Id><Code>InvalidParameter</Code><Message>Invalid parameter: Empty "
      "message</Message><SenderFault>true</SenderFault></member></Failed></PublishBatchResult>"))
      << r.body;
  auto got = receive("q");
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(json::parse(got[0].body).at("MessageAttributes").at("k").at("Value").as_string(), "v");

  aws::QueryParams eleven{{"Action", "PublishBatch"}, {"TopicArn", topic}};
  for (int i = 1; i <= 11; ++i) {
    eleven.emplace_back("PublishBatchRequestEntries.member." + std::to_string(i) + ".Id",
                        "e" + std::to_string(i));
    eleven.emplace_back("PublishBatchRequestEntries.member." + std::to_string(i) + ".Message", "m");
  }
  auto too_many = call(eleven);
  EXPECT_EQ(too_many.status, 400);
  EXPECT_TRUE(too_many.has("<Code>TooManyEntriesInBatchRequest</Code>"));
  auto dup = call({{"Action", "PublishBatch"},
                   {"TopicArn", topic},
                   {"PublishBatchRequestEntries.member.1.Id", "a"},
                   {"PublishBatchRequestEntries.member.1.Message", "m"},
                   {"PublishBatchRequestEntries.member.2.Id", "a"},
                   {"PublishBatchRequestEntries.member.2.Message", "m"}});
  EXPECT_TRUE(dup.has("<Code>BatchEntryIdsNotDistinct</Code>"));
  auto empty =
      call({{"Action", "PublishBatch"}, {"TopicArn", topic}, {"PublishBatchRequestEntries", ""}});
  EXPECT_TRUE(empty.has("<Code>EmptyBatchRequest</Code>")) << empty.body;
}

}  // namespace
}  // namespace orderflow::server
