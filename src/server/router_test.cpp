// The router driven directly: health, protocol detection, SigV4 refusal in each protocol's
// shape, and dispatch to the adapters. Requests are signed with aws::sign on the test clock.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "aws/sigv4.h"
#include "server/dynamodb_api.h"
#include "common/util.h"
#include "server/router.h"
#include "server/runtime_api.h"
#include "server/testing/test_support.h"
#include "server/wire.h"

namespace orderflow::server {
namespace {

namespace json = boost::json;
using testing::contains;
using testing::header;

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(t_.engine); }

  static aws::HttpRequest form(std::string body) {
    aws::HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"Host", "127.0.0.1:4566"}, {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    r.body = std::move(body);
    return r;
  }
  static aws::HttpRequest json_request(std::string target, std::string body) {
    aws::HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"Host", "localhost:9999"}, {"Content-Type", "application/x-amz-json-1.0"}, {"X-Amz-Target", target}};
    r.body = std::move(body);
    return r;
  }
  aws::HttpRequest& sign(aws::HttpRequest& r, std::string_view service, std::string secret = "test",
                         std::string key = "test") {
    aws::sign(r, aws::Credentials{key, secret, ""}, "eu-west-1", service, t_.clock.now());
    return r;
  }
  ApiResponse call(const aws::HttpRequest& r) {
    testing::Reply reply;
    handle(*t_.engine, r, options_, reply.respond());
    return reply.get();
  }
  static std::string json_type(const ApiResponse& r) {
    auto v = json::parse(r.body);
    return std::string(v.at("__type").as_string());
  }

  testing::TestEngine t_;
  RouterOptions options_;
};

TEST_F(RouterTest, HealthNeedsNoSignatureAndEveryAnswerCarriesIdAndDate) {
  aws::HttpRequest r;
  r.method = "GET";
  r.target = "/_orderflow/health";
  ApiResponse res = call(r);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"status":"ok"})");
  EXPECT_TRUE(header(res, "x-amzn-RequestId"));
  EXPECT_EQ(header(res, "Date"), aws::format_http_date(t_.clock.now()));
}

TEST_F(RouterTest, SigningCertUrlServesTheCertificateOfTheSnsKeyWithoutASignature) {
  aws::HttpRequest r;
  r.method = "GET";
  r.target = "/SimpleNotificationService-0000.pem";
  ApiResponse res = call(r);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(header(res, "Content-Type"), "application/x-x509-ca-cert");
  EXPECT_EQ(res.body, t_.engine->topics().signing_certificate_pem());
  EXPECT_TRUE(res.body.starts_with("-----BEGIN CERTIFICATE-----")) << res.body;
  r.method = "HEAD";
  EXPECT_EQ(call(r).body, "");
  // Only that file: other paths are API requests, which need a signature.
  r.method = "GET";
  r.target = "/SimpleNotificationService-0001.pem";
  EXPECT_EQ(call(r).status, 403);
}

TEST_F(RouterTest, SignedQueryRequestReachesSqsWithQueueUrlsFromTheHostHeader) {
  auto r = form("Action=CreateQueue&Version=2012-11-05&QueueName=routed");
  ApiResponse res = call(sign(r, "sqs"));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_TRUE(contains(res.body, "<QueueUrl>http://127.0.0.1:4566/000000000000/routed</QueueUrl>")) << res.body;
  auto id = header(res, "x-amzn-RequestId");
  ASSERT_TRUE(id);
  EXPECT_TRUE(contains(res.body, "<RequestId>" + *id + "</RequestId>"));
}

TEST_F(RouterTest, SignedJsonRequestReachesSqs) {
  auto r = json_request("AmazonSQS.CreateQueue", R"({"QueueName":"j"})");
  ApiResponse res = call(sign(r, "sqs"));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.body, R"({"QueueUrl":"http://localhost:9999/000000000000/j"})");
}

TEST_F(RouterTest, CredentialScopeSendsQueryRequestsToSns) {
  auto r = form("Action=ListTopics&Version=2010-03-31");
  ApiResponse res = call(sign(r, "sns"));
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_TRUE(contains(res.body, "http://sns.amazonaws.com/doc/2010-03-31/")) << res.body;
}

TEST_F(RouterTest, QueryProtocolAuthFailures) {
  auto unsigned_req = form("Action=ListQueues");
  ApiResponse missing = call(unsigned_req);
  EXPECT_EQ(missing.status, 403);
  EXPECT_TRUE(contains(missing.body, "<Code>MissingAuthenticationToken</Code>")) << missing.body;
  EXPECT_TRUE(contains(missing.body, "xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\""));

  auto wrong = form("Action=ListQueues");
  ApiResponse bad = call(sign(wrong, "sqs", "not-the-secret"));
  EXPECT_EQ(bad.status, 403);
  EXPECT_TRUE(contains(bad.body, "<Code>SignatureDoesNotMatch</Code>"));

  auto unknown = form("Action=ListQueues");
  ApiResponse who = call(sign(unknown, "sqs", "x", "nobody"));
  EXPECT_EQ(who.status, 403);
  EXPECT_TRUE(contains(who.body, "<Code>InvalidClientTokenId</Code>"));

  auto sns = form("Action=ListTopics");
  ApiResponse sns_bad = call(sign(sns, "sns", "wrong"));
  EXPECT_TRUE(contains(sns_bad.body, "xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"")) << sns_bad.body;

  auto tampered = form("Action=ListQueues");
  sign(tampered, "sqs");
  tampered.body = "Action=ListQueues&QueueNamePrefix=x";
  EXPECT_TRUE(contains(call(tampered).body, "<Code>SignatureDoesNotMatch</Code>"));

  auto partial = form("Action=ListQueues");
  partial.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request");
  ApiResponse incomplete = call(partial);
  EXPECT_EQ(incomplete.status, 400);
  EXPECT_TRUE(contains(incomplete.body, "<Code>IncompleteSignature</Code>")) << incomplete.body;
}

TEST_F(RouterTest, StaleSignaturesAreRefusedAsExpired) {
  auto r = form("Action=ListQueues");
  sign(r, "sqs");
  t_.clock.advance(std::chrono::minutes(16));
  ApiResponse res = call(r);
  EXPECT_EQ(res.status, 403);
  EXPECT_TRUE(contains(res.body, "<Code>SignatureDoesNotMatch</Code><Message>Signature expired:")) << res.body;

  auto d = json_request("DynamoDB_20120810.ListTables", "{}");
  sign(d, "dynamodb");
  t_.clock.advance(std::chrono::minutes(16));
  ApiResponse ddb = call(d);
  EXPECT_EQ(ddb.status, 400);
  EXPECT_EQ(json_type(ddb), "com.amazon.coral.service#InvalidSignatureException");
}

TEST_F(RouterTest, SqsJsonAuthFailuresCarryTheQueryCode) {
  auto r = json_request("AmazonSQS.ListQueues", "{}");
  ApiResponse missing = call(r);
  EXPECT_EQ(missing.status, 403);
  EXPECT_EQ(json_type(missing), "com.amazon.coral.service#MissingAuthenticationTokenException");
  EXPECT_EQ(header(missing, "x-amzn-query-error"), "MissingAuthenticationToken;Sender");
  auto u = json_request("AmazonSQS.ListQueues", "{}");
  ApiResponse unknown = call(sign(u, "sqs", "x", "nobody"));
  EXPECT_EQ(json_type(unknown), "com.amazon.coral.service#UnrecognizedClientException");
  EXPECT_EQ(header(unknown, "x-amzn-query-error"), "InvalidClientTokenId;Sender");
}

TEST_F(RouterTest, DynamoDbAuthFailuresAreCoral400s) {
  auto r = json_request("DynamoDB_20120810.ListTables", "{}");
  ApiResponse missing = call(r);
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(json_type(missing), "com.amazon.coral.service#MissingAuthenticationTokenException");
  EXPECT_FALSE(header(missing, "x-amzn-query-error"));
  auto u = json_request("DynamoDB_20120810.ListTables", "{}");
  EXPECT_EQ(json_type(call(sign(u, "dynamodb", "x", "nobody"))), "com.amazon.coral.service#UnrecognizedClientException");
  auto w = json_request("DynamoDB_20120810.ListTables", "{}");
  EXPECT_EQ(json_type(call(sign(w, "dynamodb", "wrong"))), "com.amazon.coral.service#InvalidSignatureException");
}

TEST_F(RouterTest, DynamoDbErrorsFromTheRouterCarryTheBodysCrc32) {
  auto check = [](const ApiResponse& res) {
    auto crc = header(res, "x-amz-crc32");
    ASSERT_TRUE(crc) << res.body;
    EXPECT_EQ(*crc, std::to_string(crc32(res.body)));
  };
  auto missing = json_request("DynamoDB_20120810.ListTables", "{}");
  check(call(missing));
  auto unknown_key = json_request("DynamoDB_20120810.ListTables", "{}");
  check(call(sign(unknown_key, "dynamodb", "x", "nobody")));
  auto bad_signature = json_request("DynamoDB_20120810.ListTables", "{}");
  check(call(sign(bad_signature, "dynamodb", "wrong")));
  auto wrong_scope = json_request("DynamoDB_20120810.ListTables", "{}");
  ApiResponse scoped = call(sign(wrong_scope, "sqs"));
  EXPECT_EQ(json_type(scoped), "com.amazon.coral.service#InvalidSignatureException");
  check(scoped);
  auto bad_target = json_request("DynamoDB_20120810.NoSuchOperation", "{}");
  ApiResponse unknown = call(sign(bad_target, "dynamodb"));
  EXPECT_EQ(unknown.status, 400);
  check(unknown);
}

TEST_F(RouterTest, RuntimeApiAndMetricsNeedNoSignature) {
  aws::HttpRequest metrics;
  metrics.method = "GET";
  metrics.target = "/metrics";
  ApiResponse m = call(metrics);
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("# TYPE orderflow_queue_messages gauge"), std::string::npos) << m.body;
  aws::HttpRequest next;
  next.method = "GET";
  next.target = "/_orderflow/lambda/nope/1/2018-06-01/runtime/invocation/next";
  ApiResponse n = call(next);
  EXPECT_EQ(n.status, 403);  // not a worker; answered by the Runtime API, not by SigV4
  EXPECT_NE(n.body.find("InvalidStateTransition"), std::string::npos) << n.body;
}

TEST_F(RouterTest, ScopeMustNameTheTargetService) {
  auto r = json_request("AmazonSQS.ListQueues", "{}");
  ApiResponse res = call(sign(r, "dynamodb"));
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(header(res, "x-amzn-query-error"), "SignatureDoesNotMatch;Sender");
}

TEST_F(RouterTest, SignedDynamoDbRequestReachesTheAdapter) {
  auto r = json_request("DynamoDB_20120810.ListTables", "{}");
  ApiResponse res = call(sign(r, "dynamodb"));
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_TRUE(header(res, "x-amz-crc32"));
}

TEST_F(RouterTest, UnknownTargetsAndLogs) {
  auto logs = json_request("Logs_20140328.DescribeLogGroups", "{}");
  logs.set_header("Content-Type", "application/x-amz-json-1.1");
  ApiResponse l = call(sign(logs, "logs"));
  EXPECT_EQ(l.status, 200) << l.body;
  EXPECT_EQ(l.body, R"({"logGroups":[]})");
  EXPECT_EQ(header(l, "Content-Type"), "application/x-amz-json-1.1");
  auto other = json_request("Something_2020.Op", "{}");
  EXPECT_EQ(json_type(call(sign(other, "something"))), "com.amazon.coral.service#UnknownOperationException");
}

TEST_F(RouterTest, MalformedFormBodiesAndMissingActions) {
  auto bad = form("Action=ListQueues&QueueNamePrefix=%zz");
  ApiResponse r = call(sign(bad, "sqs"));
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(contains(r.body, "<Code>MalformedQueryString</Code>")) << r.body;
  auto none = form("Version=2012-11-05");
  EXPECT_TRUE(contains(call(sign(none, "sqs")).body, "<Code>MissingAction</Code>"));
}

TEST_F(RouterTest, PresignedQueryStringRequestsAreAccepted) {
  aws::HttpRequest r;
  r.method = "GET";
  r.target = "/?Action=ListQueues&Version=2012-11-05";
  r.headers = {{"Host", "127.0.0.1:4566"}};
  aws::presign(r, aws::Credentials{"test", "test", ""}, "us-east-1", "sqs", t_.clock.now(), std::chrono::seconds(60));
  ApiResponse res = call(r);
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_TRUE(contains(res.body, "<ListQueuesResponse"));
}

// Found by the fuzzer (fuzz/regressions/http_request, fuzz/regressions/json_protocol): error
// messages that quote the request (an Authorization header, an operation name) must not carry
// its invalid UTF-8 into the answer, which would then not be JSON (or XML).
TEST_F(RouterTest, ErrorMessagesQuotingInvalidUtf8AreStillValidJsonAndXml) {
  const std::string bad = "con\xeb\xeb" "tent";
  auto unsigned_ddb = json_request("DynamoDB_20120810.GetItem", "{}");
  unsigned_ddb.headers.emplace_back(
      "Authorization", "AWS4-HMAC-SHA256 Credential=test/20240501/us-east-1/dynamodb/aws4_request, SignedHeaders=" + bad);
  ApiResponse a = call(unsigned_ddb);
  EXPECT_EQ(a.status, 400);
  ASSERT_NO_THROW(json::parse(a.body)) << a.body;
  EXPECT_TRUE(is_valid_utf8(a.body)) << a.body;

  auto op = json_request("DynamoDB_20120810.Describe\xff\xfe", "{}");
  ApiResponse b = call(sign(op, "dynamodb"));
  EXPECT_EQ(json_type(b), "com.amazon.coral.service#UnknownOperationException");
  EXPECT_TRUE(contains(b.body, "Describe\xef\xbf\xbd\xef\xbf\xbd")) << b.body;

  auto logs = json_request("Logs_20140328.Nope\xc3", "{}");
  ApiResponse c = call(sign(logs, "logs"));
  ASSERT_NO_THROW(json::parse(c.body)) << c.body;

  auto query = form("Action=ListQueues");
  query.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=test/2024\xf0\x9f/us-east-1/sqs/aws4_request");
  ApiResponse d = call(query);
  EXPECT_EQ(d.status, 400);
  EXPECT_TRUE(is_valid_utf8(d.body)) << d.body;
}

TEST(ValidUtf8, KeepsWellFormedTextAndReplacesEveryOtherByte) {
  EXPECT_EQ(valid_utf8("plain caf\xc3\xa9 \xf0\x9f\x98\x80"), "plain caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(valid_utf8("a\xff" "b"), "a\xef\xbf\xbd" "b");
  EXPECT_EQ(valid_utf8("\xc3"), "\xef\xbf\xbd");                          // truncated
  EXPECT_EQ(valid_utf8("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");          // overlong
  EXPECT_EQ(valid_utf8("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
  EXPECT_EQ(valid_utf8(""), "");
}

TEST_F(RouterTest, OnlyCallsThatNeverWaitRunInline) {
  for (const char* op : {"DynamoDB_20120810.PutItem", "DynamoDB_20120810.GetItem", "AmazonSQS.SendMessage",
                         "AmazonSQS.SendMessageBatch", "AmazonSQS.ReceiveMessage", "AmazonSQS.DeleteMessage",
                         "AmazonSQS.DeleteMessageBatch"})
    EXPECT_TRUE(runs_inline(json_request(op, "{}"))) << op;
  // Other operations may wait for the disk on the thread that runs them.
  EXPECT_FALSE(runs_inline(json_request("DynamoDB_20120810.UpdateItem", "{}")));
  EXPECT_FALSE(runs_inline(json_request("AmazonSQS.ChangeMessageVisibility", "{}")));
  EXPECT_FALSE(runs_inline(json_request("AmazonSQS.CreateQueue", "{}")));
  EXPECT_FALSE(runs_inline(form("Action=SendMessage")));
  auto other_path = json_request("DynamoDB_20120810.PutItem", "{}");
  other_path.target = "/2018-06-01/runtime/invocation/next";
  EXPECT_FALSE(runs_inline(other_path));
  // The function workers' Runtime API never waits: next parks, response and error hand over.
  auto next = json_request("", "");
  next.method = "GET";
  next.target = "/_orderflow/lambda/ProcessOrder/1/2018-06-01/runtime/invocation/next";
  ASSERT_TRUE(next.target.starts_with(kRuntimeApiPrefix));
  EXPECT_TRUE(runs_inline(next));
  auto response = json_request("", "{}");
  response.target = "/_orderflow/lambda/ProcessOrder/1/2018-06-01/runtime/invocation/abc/response";
  EXPECT_TRUE(runs_inline(response));
  auto get = json_request("DynamoDB_20120810.PutItem", "{}");
  get.method = "GET";
  EXPECT_FALSE(runs_inline(get));
}

TEST_F(RouterTest, PutItemAnswersThroughTheCallbackOnceDurable) {
  auto send = [&](std::string target, std::string body) {
    auto r = json_request(std::move(target), std::move(body));
    return call(sign(r, "dynamodb"));  // waits for the answer, from whichever thread gives it
  };
  auto created = send("DynamoDB_20120810.CreateTable",
                      R"({"TableName":"Tab","KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],)"
                      R"("AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],)"
                      R"("BillingMode":"PAY_PER_REQUEST"})");
  ASSERT_EQ(created.status, 200) << created.body;
  auto put = send("DynamoDB_20120810.PutItem",
                  R"J({"TableName":"Tab","Item":{"k":{"S":"a"}},"ConditionExpression":"attribute_not_exists(k)"})J");
  EXPECT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.body, "{}");
  auto again = send("DynamoDB_20120810.PutItem",
                    R"J({"TableName":"Tab","Item":{"k":{"S":"a"}},"ConditionExpression":"attribute_not_exists(k)"})J");
  EXPECT_EQ(again.status, 400);
  EXPECT_NE(again.body.find("ConditionalCheckFailedException"), std::string::npos) << again.body;
  auto missing = send("DynamoDB_20120810.PutItem", R"({"TableName":"Nope","Item":{"k":{"S":"a"}}})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("ResourceNotFoundException"), std::string::npos) << missing.body;
}

}  // namespace
}  // namespace orderflow::server
