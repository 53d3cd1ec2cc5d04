// The SQS adapter driven directly (no sockets, no signatures): both wire protocols over the
// same operations, their error shapes, and long polling without blocking.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/sqs_api.h"
#include "server/testing/test_support.h"

namespace orderflow::server {
namespace {

namespace json = boost::json;
using testing::contains;
using testing::header;

class SqsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(t_.engine);
    ctx_.request_id = "req-1";
    ctx_.region = "us-east-1";
    ctx_.access_key = "test";
    ctx_.base_url = "http://127.0.0.1:4566";
  }

  ApiResponse query(aws::QueryParams params, std::string_view path = "/") {
    testing::Reply reply;
    sqs_handle_query(*t_.engine, params, path, ctx_, reply.respond());
    return reply.get();
  }
  ApiResponse json_call(std::string_view op, std::string_view body) {
    testing::Reply reply;
    sqs_handle_json(*t_.engine, op, body, ctx_, reply.respond());
    return reply.get();
  }
  json::object json_ok(std::string_view op, const json::object& body) {
    ApiResponse r = json_call(op, json::serialize(body));
    EXPECT_EQ(r.status, 200) << r.body;
    auto v = json::parse(r.body);
    return v.is_object() ? v.get_object() : json::object();
  }
  std::string create(std::string name) {
    return std::string(json_ok("CreateQueue", {{"QueueName", name}}).at("QueueUrl").as_string());
  }

  testing::TestEngine t_;
  RequestContext ctx_;
};

TEST_F(SqsApiTest, QueryCreateQueueReadsFlattenedAttributesAndAnswersXml) {
  ApiResponse r = query({{"Action", "CreateQueue"}, {"QueueName", "orders"}, {"Attribute.1.Name", "VisibilityTimeout"},
                         {"Attribute.1.Value", "45"}, {"Tag.1.Key", "team"}, {"Tag.1.Value", "a&b"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(header(r, "Content-Type"), "text/xml");
  EXPECT_TRUE(contains(r.body, "<CreateQueueResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">"
                               "<CreateQueueResult><QueueUrl>http://127.0.0.1:4566/000000000000/orders</QueueUrl>"
                               "</CreateQueueResult><ResponseMetadata><RequestId>req-1</RequestId>"))
      << r.body;
  ApiResponse attrs = query({{"Action", "GetQueueAttributes"}, {"QueueUrl", "http://elsewhere/000000000000/orders"},
                             {"AttributeName.1", "VisibilityTimeout"}});
  EXPECT_TRUE(contains(attrs.body, "<Attribute><Name>VisibilityTimeout</Name><Value>45</Value></Attribute>")) << attrs.body;
  ApiResponse tags = query({{"Action", "ListQueueTags"}, {"QueueUrl", "/000000000000/orders"}});
  EXPECT_TRUE(contains(tags.body, "<Tag><Key>team</Key><Value>a&amp;b</Value></Tag>")) << tags.body;
}

TEST_F(SqsApiTest, OperationsWithoutOutputHaveNoResultElement) {
  create("q");
  ApiResponse r = query({{"Action", "PurgeQueue"}, {"QueueUrl", ctx_.base_url + "/000000000000/q"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(contains(r.body, "PurgeQueueResult"));
  EXPECT_TRUE(contains(r.body, "<PurgeQueueResponse"));
}

TEST_F(SqsApiTest, LegacyPathNamesTheQueue) {
  create("legacy");
  ApiResponse r = query({{"Action", "SendMessage"}, {"MessageBody", "hi"}}, "/000000000000/legacy");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(contains(r.body, "<MD5OfMessageBody>49f68a5c8493ec2c0bf489821c21fc3b</MD5OfMessageBody>"));
}

TEST_F(SqsApiTest, QuerySendAndJsonReceiveAgreeOnAttributesAndDigests) {
  std::string url = create("md5");
  ApiResponse sent = query({{"Action", "SendMessage"}, {"QueueUrl", url}, {"MessageBody", "Test message."},
                            {"MessageAttribute.1.Name", "attr1"}, {"MessageAttribute.1.Value.DataType", "Number"},
                            {"MessageAttribute.1.Value.StringValue", "99.12"}});
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_TRUE(contains(sent.body, "<MD5OfMessageBody>e4e68fb7bd0e697a0ae8f1bb342846b3</MD5OfMessageBody>"));
  EXPECT_TRUE(contains(sent.body, "<MD5OfMessageAttributes>d302007e9aa062660afc85fd0a482472</MD5OfMessageAttributes>"));
  json::object got = json_ok("ReceiveMessage", {{"QueueUrl", url},
                                                {"MessageAttributeNames", json::array{"All"}},
                                                {"AttributeNames", json::array{"SentTimestamp"}}});
  const auto& m = got.at("Messages").as_array().at(0).as_object();
  EXPECT_EQ(m.at("Body").as_string(), "Test message.");
  EXPECT_EQ(m.at("MD5OfMessageAttributes").as_string(), "d302007e9aa062660afc85fd0a482472");
  EXPECT_EQ(m.at("MessageAttributes").at("attr1").at("StringValue").as_string(), "99.12");
  EXPECT_EQ(m.at("Attributes").at("SentTimestamp").as_string(),
            std::to_string(to_epoch_ms(t_.clock.now())));
  EXPECT_FALSE(m.at("Attributes").as_object().contains("SenderId"));
}

TEST_F(SqsApiTest, ReceiveSelectsUserAttributesByPrefixAndDigestsOnlyThose) {
  std::string url = create("sel");
  json_ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "x"},
                          {"MessageAttributes", {{"a.one", {{"DataType", "String"}, {"StringValue", "1"}}},
                                                 {"b", {{"DataType", "Binary"}, {"BinaryValue", "AAEC"}}}}}});
  json::object got = json_ok("ReceiveMessage", {{"QueueUrl", url}, {"MessageAttributeNames", json::array{"a.*"}}});
  const auto& m = got.at("Messages").as_array().at(0).as_object();
  EXPECT_EQ(m.at("MessageAttributes").as_object().size(), 1u);
  engine::MessageAttributes only{{"a.one", {"String", "1", ""}}};
  EXPECT_EQ(m.at("MD5OfMessageAttributes").as_string(), engine::md5_of_message_attributes(only));
  EXPECT_FALSE(m.contains("Attributes"));
}

TEST_F(SqsApiTest, EmptyReceiveIsAnEmptyObjectAndAnEmptyResultElement) {
  std::string url = create("empty");
  EXPECT_EQ(json_call("ReceiveMessage", json::serialize(json::object{{"QueueUrl", url}})).body, "{}");
  ApiResponse r = query({{"Action", "ReceiveMessage"}, {"QueueUrl", url}});
  EXPECT_TRUE(contains(r.body, "<ReceiveMessageResult></ReceiveMessageResult>")) << r.body;
}

TEST_F(SqsApiTest, LongPollAnswersWhenAMessageArrivesWithoutBlockingTheCaller) {
  std::string url = create("poll");
  testing::Reply reply;
  sqs_handle_json(*t_.engine, "ReceiveMessage", json::serialize(json::object{{"QueueUrl", url}, {"WaitTimeSeconds", 20}}),
                  ctx_, reply.respond());
  EXPECT_FALSE(reply.ready(std::chrono::milliseconds(50))) << "returned before the wait without a message";
  json_ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "wake"}});
  ApiResponse r = reply.get();
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(contains(r.body, "\"Body\":\"wake\"")) << r.body;
}

TEST_F(SqsApiTest, LongPollExpiresEmptyOnTheClock) {
  std::string url = create("expire");
  testing::Reply reply;
  sqs_handle_query(*t_.engine, {{"Action", "ReceiveMessage"}, {"QueueUrl", url}, {"WaitTimeSeconds", "5"}}, "/", ctx_,
                   reply.respond());
  EXPECT_FALSE(reply.ready(std::chrono::milliseconds(20)));
  t_.clock.advance(Seconds(6));
  ApiResponse r = reply.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(contains(r.body, "<Message>"));
}

TEST_F(SqsApiTest, BatchPartialFailureRendersBothListsInBothProtocols) {
  std::string url = create("batch");
  ApiResponse x = query({{"Action", "SendMessageBatch"}, {"QueueUrl", url},
                         {"SendMessageBatchRequestEntry.1.Id", "ok"}, {"SendMessageBatchRequestEntry.1.MessageBody", "a"},
                         {"SendMessageBatchRequestEntry.2.Id", "bad"}, {"SendMessageBatchRequestEntry.2.MessageBody", "b"},
                         {"SendMessageBatchRequestEntry.2.DelaySeconds", "901"}});
  ASSERT_EQ(x.status, 200) << x.body;
  EXPECT_TRUE(contains(x.body, "<SendMessageBatchResultEntry><Id>ok</Id><MessageId>")) << x.body;
  EXPECT_TRUE(contains(x.body, "<BatchResultErrorEntry><Id>bad</Id><SenderFault>true</SenderFault>"
                               "<Code>InvalidParameterValue</Code>"))
      << x.body;
  json::object j = json_ok("DeleteMessageBatch", {{"QueueUrl", url},
                                                  {"Entries", json::array{json::object{{"Id", "g"}, {"ReceiptHandle", "garbage"}}}}});
  EXPECT_TRUE(j.at("Successful").as_array().empty());
  EXPECT_EQ(j.at("Failed").as_array().at(0).at("Code").as_string(), "ReceiptHandleIsInvalid");
}

TEST_F(SqsApiTest, ErrorsHaveEachProtocolsShape) {
  ApiResponse x = query({{"Action", "GetQueueUrl"}, {"QueueName", "nope"}});
  EXPECT_EQ(x.status, 400);
  EXPECT_TRUE(contains(x.body, "<Error><Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>"
                               "<Message>The specified queue does not exist for this wsdl version.</Message><Detail/>"
                               "</Error><RequestId>req-1</RequestId></ErrorResponse>"))
      << x.body;
  ApiResponse j = json_call("GetQueueUrl", R"({"QueueName":"nope"})");
  EXPECT_EQ(j.status, 400);
  EXPECT_EQ(header(j, "x-amzn-query-error"), "AWS.SimpleQueueService.NonExistentQueue;Sender");
  EXPECT_EQ(json::parse(j.body).at("__type").as_string(), "com.amazonaws.sqs#QueueDoesNotExist");
  EXPECT_EQ(header(j, "Content-Type"), "application/x-amz-json-1.0");
}

TEST_F(SqsApiTest, MissingAndMistypedParameters) {
  ApiResponse missing = json_call("SendMessage", R"({"MessageBody":"x"})");
  EXPECT_EQ(json::parse(missing.body).at("__type").as_string(), "com.amazonaws.sqs#MissingRequiredParameterException");
  std::string url = create("types");
  ApiResponse typed = json_call("ReceiveMessage", R"({"QueueUrl":")" + url + R"(","MaxNumberOfMessages":"10"})");
  EXPECT_EQ(header(typed, "x-amzn-query-error"), "InvalidParameterValue;Sender");
  ApiResponse q = query({{"Action", "ReceiveMessage"}, {"QueueUrl", url}, {"MaxNumberOfMessages", "ten"}});
  EXPECT_TRUE(contains(q.body, "<Code>InvalidParameterValue</Code>")) << q.body;
  ApiResponse huge = json_call("ReceiveMessage", R"({"QueueUrl":")" + url + R"(","VisibilityTimeout":99999999999999})");
  EXPECT_EQ(header(huge, "x-amzn-query-error"), "InvalidParameterValue;Sender");
  ApiResponse badb64 = json_call("SendMessage", R"({"QueueUrl":")" + url +
                                                     R"(","MessageBody":"x","MessageAttributes":{"b":{"DataType":"Binary","BinaryValue":"!!"}}})");
  EXPECT_EQ(header(badb64, "x-amzn-query-error"), "InvalidParameterValue;Sender");
}

TEST_F(SqsApiTest, MalformedJsonIsASerializationError) {
  for (std::string body : {std::string("{"), std::string("[]"), std::string(100, '[') + std::string(100, ']'),
                           std::string("{\"QueueName\":\"\xff\"}")}) {
    ApiResponse r = json_call("ListQueues", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(json::parse(r.body).at("__type").as_string(), "com.amazon.coral.service#SerializationException") << body;
  }
  EXPECT_EQ(json_call("ListQueues", "").status, 200) << "an empty body is an empty input";
}

TEST_F(SqsApiTest, UnknownActionsAndBadQueueUrls) {
  ApiResponse a = query({{"Action", "Nope"}});
  EXPECT_TRUE(contains(a.body, "<Code>InvalidAction</Code>"));
  ApiResponse b = json_call("Nope", "{}");
  EXPECT_EQ(header(b, "x-amzn-query-error"), "InvalidAction;Sender");
  ApiResponse c = json_call("GetQueueAttributes", R"({"QueueUrl":"garbage"})");
  EXPECT_EQ(json::parse(c.body).at("__type").as_string(), "com.amazonaws.sqs#InvalidAddress");
  ApiResponse d = json_call("GetQueueAttributes", R"({"QueueUrl":"http://h/123456789012/q"})");
  EXPECT_EQ(json::parse(d.body).at("__type").as_string(), "com.amazonaws.sqs#QueueDoesNotExist");
}

TEST_F(SqsApiTest, XmlEscapesBodiesIncludingCarriageReturns) {
  std::string url = create("esc");
  json_ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "a<b>&\"c\"\r\n"}});
  ApiResponse r = query({{"Action", "ReceiveMessage"}, {"QueueUrl", url}});
  EXPECT_TRUE(contains(r.body, "<Body>a&lt;b&gt;&amp;&quot;c&quot;&#xD;\n</Body>")) << r.body;
}

TEST_F(SqsApiTest, ListQueuesPagesOnlyWhenMaxResultsIsGiven) {
  for (const char* n : {"p1", "p2", "p3"}) create(n);
  json::object first = json_ok("ListQueues", {{"QueueNamePrefix", "p"}, {"MaxResults", 2}});
  EXPECT_EQ(first.at("QueueUrls").as_array().size(), 2u);
  ASSERT_TRUE(first.contains("NextToken"));
  json::object second = json_ok("ListQueues", {{"QueueNamePrefix", "p"}, {"MaxResults", 2}, {"NextToken", first.at("NextToken")}});
  EXPECT_EQ(second.at("QueueUrls").as_array().size(), 1u);
  EXPECT_FALSE(second.contains("NextToken"));
  EXPECT_FALSE(json_ok("ListQueues", {{"QueueNamePrefix", "p"}}).contains("NextToken"));
}

}  // namespace
}  // namespace orderflow::server
