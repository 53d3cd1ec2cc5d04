#include "client/aws_client.h"

#include <gtest/gtest.h>

#include <deque>

#include "aws/sigv4.h"
#include "client/testing/loopback_http_server.h"

namespace orderflow::client {
namespace {

using testing::CannedResponse;
using testing::LoopbackHttpServer;
using testing::ReceivedRequest;

constexpr std::string_view kAccessKey = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

ClientConfig config_for(const std::string& url) {
  ClientConfig c;
  c.credentials = {std::string(kAccessKey), std::string(kSecret), ""};
  c.region = "us-east-1";
  c.endpoint_url = url;
  return c;
}

CannedResponse json_error(int status, const std::string& type, const std::string& message) {
  return {status,
          {{"Content-Type", "application/x-amz-json-1.0"}},
          R"({"__type":")" + type + R"(","message":")" + message + R"("})"};
}

// A client against a loopback server, with recorded sleeps and a fixed random draw.
class AwsClientTest : public ::testing::Test {
 protected:
  void serve(LoopbackHttpServer::Handler handler, ClientConfig config = {}) {
    server = LoopbackHttpServer::start(std::move(handler));
    ASSERT_NE(server, nullptr);
    if (config.region.empty()) config = config_for(server->url());
    config.endpoint_url = server->url();
    ClientDeps deps;
    deps.clock = &clock;
    deps.sleep = [this](Millis d) { sleeps.push_back(d); };
    deps.random = [] { return 0.5; };
    auto c = AwsClient::create(std::move(config), std::move(deps));
    ASSERT_TRUE(c.has_value()) << c.error().message;
    client = std::move(*c);
  }

  ManualClock clock{from_epoch_ms(1'700'000'000'000)};
  std::vector<Millis> sleeps;
  std::unique_ptr<LoopbackHttpServer> server;
  std::unique_ptr<AwsClient> client;
};

TEST_F(AwsClientTest, SignsRequestsSoTheServersVerifierAcceptsThem) {
  serve([](const ReceivedRequest&) { return CannedResponse{200, {}, "{}"}; });
  ASSERT_TRUE(client->call_json("dynamodb", "DynamoDB_20120810.ListTables", "{}").has_value());
  auto requests = server->requests();
  ASSERT_EQ(requests.size(), 1u);
  auto verified = aws::verify(
      requests[0].to_aws(),
      [](std::string_view key) -> std::optional<std::string> {
        if (key == kAccessKey) return std::string(kSecret);
        return std::nullopt;
      },
      clock.now());
  ASSERT_TRUE(verified.has_value()) << verified.error().message;
  EXPECT_EQ(verified->access_key, kAccessKey);
  EXPECT_EQ(verified->region, "us-east-1");
  EXPECT_EQ(verified->service, "dynamodb");
  EXPECT_EQ(verified->signed_at, clock.now());
}

TEST_F(AwsClientTest, ATamperedRequestFailsVerification) {
  serve([](const ReceivedRequest&) { return CannedResponse{200, {}, "{}"}; });
  ASSERT_TRUE(client->call_json("dynamodb", "DynamoDB_20120810.ListTables", "{}").has_value());
  auto req = server->requests()[0].to_aws();
  req.body = R"({"Limit":1})";
  auto verified = aws::verify(
      req, [](std::string_view) { return std::optional<std::string>(std::string(kSecret)); },
      clock.now());
  ASSERT_FALSE(verified.has_value());
  EXPECT_EQ(verified.error().failure, aws::AuthFailure::signature_does_not_match);
}

TEST_F(AwsClientTest, SendsTheSessionTokenWhenThereIsOne) {
  server = LoopbackHttpServer::start([](const ReceivedRequest&) { return CannedResponse{200, {}, "{}"}; });
  ASSERT_NE(server, nullptr);
  auto config = config_for(server->url());
  config.credentials.session_token = "session-token";
  ClientDeps deps;
  deps.clock = &clock;
  auto c = AwsClient::create(config, std::move(deps));
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE((*c)->call_json("dynamodb", "DynamoDB_20120810.ListTables", "{}").has_value());
  auto req = server->requests()[0];
  EXPECT_EQ(req.header("X-Amz-Security-Token"), "session-token");
  EXPECT_TRUE(aws::verify(req.to_aws(),
                          [](std::string_view) { return std::optional<std::string>(std::string(kSecret)); },
                          clock.now())
                  .has_value());
}

TEST_F(AwsClientTest, JsonCallsCarryTargetAndProtocolContentType) {
  serve([](const ReceivedRequest&) { return CannedResponse{200, {}, "{}"}; });
  ASSERT_TRUE(client->call_json("dynamodb", "DynamoDB_20120810.ListTables", R"({"Limit":1})").has_value());
  ASSERT_TRUE(client->call_json("logs", "Logs_20140328.DescribeLogGroups", "{}").has_value());
  auto requests = server->requests();
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/");
  EXPECT_EQ(requests[0].header("X-Amz-Target"), "DynamoDB_20120810.ListTables");
  EXPECT_EQ(requests[0].header("Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(requests[0].header("Host"), server->host_port());
  EXPECT_EQ(requests[0].body, R"({"Limit":1})");
  EXPECT_FALSE(requests[0].header("Expect").has_value());
  EXPECT_EQ(requests[1].header("Content-Type"), "application/x-amz-json-1.1");
}

TEST_F(AwsClientTest, ReusesOneConnectionForSuccessiveCalls) {
  serve([](const ReceivedRequest&) { return CannedResponse{200, {}, "{}"}; });
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client->call_json("dynamodb", "DynamoDB_20120810.ListTables", "{}").has_value());
  }
  EXPECT_EQ(server->requests().size(), 5u);
  EXPECT_EQ(server->connections_accepted(), 1);
}

TEST_F(AwsClientTest, RetriesThrottlingWithJitteredExponentialBackoff) {
  int calls = 0;
  serve([&calls](const ReceivedRequest&) {
    if (++calls < 3) {
      return json_error(400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                        "slow down");
    }
    return CannedResponse{200, {}, "{}"};
  });
  auto r = client->call_json("dynamodb", "DynamoDB_20120810.PutItem", "{}");
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(sleeps, (std::vector<Millis>{Millis(50), Millis(100)}));  // 0.5 * 100, 0.5 * 200
  // two retries took 5 + 5; the success refunds its last retry's 5, as botocore does
  EXPECT_EQ(client->retry_quota_available(), RetryQuota::kCapacity - 5);
}

TEST_F(AwsClientTest, GivesUpAfterThreeAttemptsOnServerErrors) {
  serve([](const ReceivedRequest&) { return json_error(503, "ServiceUnavailable", "busy"); });
  auto r = client->call_json("dynamodb", "DynamoDB_20120810.PutItem", "{}");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ClientError::Kind::service);
  EXPECT_EQ(r.error().code, "ServiceUnavailable");
  EXPECT_EQ(r.error().message, "busy");
  EXPECT_EQ(r.error().http_status, 503);
  EXPECT_TRUE(r.error().retryable);
  EXPECT_EQ(r.error().attempts, 3);
  EXPECT_EQ(server->requests().size(), 3u);
  EXPECT_EQ(sleeps.size(), 2u);
}

TEST_F(AwsClientTest, DoesNotRetryValidationErrors) {
  serve([](const ReceivedRequest&) {
    return json_error(400, "com.amazon.coral.validate#ValidationException", "bad item");
  });
  auto r = client->call_json("dynamodb", "DynamoDB_20120810.PutItem", "{}");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "ValidationException");
  EXPECT_FALSE(r.error().retryable);
  EXPECT_EQ(r.error().attempts, 1);
  EXPECT_TRUE(sleeps.empty());
}

TEST_F(AwsClientTest, RetriesADroppedConnection) {
  int calls = 0;
  serve([&calls](const ReceivedRequest&) {
    CannedResponse r{200, {}, "{}"};
    r.drop_connection = ++calls == 1;
    return r;
  });
  auto r = client->call_json("dynamodb", "DynamoDB_20120810.PutItem", "{}");
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(server->connections_accepted(), 2);
}

TEST_F(AwsClientTest, ChecksDynamoDbCrc32AndRetriesAMismatch) {
  int calls = 0;
  serve([&calls](const ReceivedRequest&) {
    // crc32("{}") = 2745614147 (reference/aws-protocols.md 3.1)
    return CannedResponse{200, {{"x-amz-crc32", ++calls == 1 ? "1" : "2745614147"}}, "{}"};
  });
  auto r = client->call_json("dynamodb", "DynamoDB_20120810.PutItem", "{}");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->attempts, 2);
}

TEST_F(AwsClientTest, PutItemSendsTableItemAndCondition) {
  serve([](const ReceivedRequest&) { return CannedResponse{200, {}, "{}"}; });
  auto r = client->dynamodb_put_item("Orders", R"({"orderId":{"S":"o-1"}})",
                                     "attribute_not_exists(orderId)");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, PutItemOutcome::stored);
  auto req = server->requests()[0];
  EXPECT_EQ(req.header("X-Amz-Target"), "DynamoDB_20120810.PutItem");
  EXPECT_EQ(req.body,
            R"x({"TableName":"Orders","Item":{"orderId":{"S":"o-1"}},"ConditionExpression":"attribute_not_exists(orderId)"})x");
}

TEST_F(AwsClientTest, PutItemReportsAFailedConditionAsAnOutcome) {
  serve([](const ReceivedRequest&) {
    return json_error(400, "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                      "The conditional request failed");
  });
  auto r = client->dynamodb_put_item("Orders", R"({"orderId":{"S":"o-1"}})", "attribute_not_exists(orderId)");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, PutItemOutcome::condition_failed);
  EXPECT_EQ(server->requests().size(), 1u);
}

TEST_F(AwsClientTest, PutItemReportsOtherErrors) {
  serve([](const ReceivedRequest&) {
    return json_error(400, "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                      "Requested resource not found");
  });
  auto r = client->dynamodb_put_item("Missing", R"({"orderId":{"S":"o-1"}})");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().describe(), "ResourceNotFoundException: Requested resource not found");
  EXPECT_EQ(server->requests()[0].body, R"({"TableName":"Missing","Item":{"orderId":{"S":"o-1"}}})");
}

TEST_F(AwsClientTest, SnsPublishSendsAQueryRequestAndReadsTheMessageId) {
  serve([](const ReceivedRequest&) {
    return CannedResponse{200, {{"Content-Type", "text/xml"}},
                          R"(<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">)"
                          R"(<PublishResult><MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult>)"
                          R"(<ResponseMetadata><RequestId>f187a3c1</RequestId></ResponseMetadata></PublishResponse>)"};
  });
  auto r = client->sns_publish("arn:aws:sns:us-east-1:000000000000:OrderTopic", R"({"orderId":"o 1"})");
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(*r, "94f20ce6-13c5-43a0-9a9e-ca52d816e90b");
  auto req = server->requests()[0];
  EXPECT_EQ(req.header("Content-Type"), "application/x-www-form-urlencoded; charset=utf-8");
  auto params = aws::parse_query(req.body);
  ASSERT_TRUE(params.has_value());
  EXPECT_EQ(*params, (aws::QueryParams{{"Action", "Publish"},
                                       {"Version", "2010-03-31"},
                                       {"TopicArn", "arn:aws:sns:us-east-1:000000000000:OrderTopic"},
                                       {"Message", R"({"orderId":"o 1"})"}}));
  auto verified = aws::verify(req.to_aws(),
                              [](std::string_view) { return std::optional<std::string>(std::string(kSecret)); },
                              clock.now());
  ASSERT_TRUE(verified.has_value());
  EXPECT_EQ(verified->service, "sns");
}

TEST_F(AwsClientTest, SnsErrorsAreReadFromTheXmlErrorResponse) {
  serve([](const ReceivedRequest&) {
    return CannedResponse{404, {{"Content-Type", "text/xml"}},
                          R"(<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>)"
                          R"(<Code>NotFound</Code><Message>Topic does not exist &amp; never did</Message></Error>)"
                          R"(<RequestId>r</RequestId></ErrorResponse>)"};
  });
  auto r = client->sns_publish("arn:aws:sns:us-east-1:000000000000:Nope", "m");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "NotFound");
  EXPECT_EQ(r.error().message, "Topic does not exist & never did");
  EXPECT_FALSE(r.error().retryable);
}

TEST_F(AwsClientTest, SnsPublishBatchReportsSuccessesAndFailures) {
  serve([](const ReceivedRequest&) {
    return CannedResponse{
        200, {},
        R"(<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult>)"
        R"(<Successful><member><Id>a</Id><MessageId>m-a</MessageId></member></Successful>)"
        R"(<Failed><member><Id>b</Id><Code>InvalidParameter</Code><Message>too big</Message>)"
        R"(<SenderFault>true</SenderFault></member></Failed></PublishBatchResult></PublishBatchResponse>)"};
  });
  auto r = client->sns_publish_batch("arn:t", {{"a", "one", ""}, {"b", "two", "subject"}});
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->successful.size(), 1u);
  EXPECT_EQ(r->successful[0].id, "a");
  EXPECT_EQ(r->successful[0].message_id, "m-a");
  ASSERT_EQ(r->failed.size(), 1u);
  EXPECT_EQ(r->failed[0].id, "b");
  EXPECT_EQ(r->failed[0].code, "InvalidParameter");
  EXPECT_TRUE(r->failed[0].sender_fault);
  auto params = *aws::parse_query(server->requests()[0].body);
  EXPECT_EQ(params, (aws::QueryParams{{"Action", "PublishBatch"},
                                      {"Version", "2010-03-31"},
                                      {"TopicArn", "arn:t"},
                                      {"PublishBatchRequestEntries.member.1.Id", "a"},
                                      {"PublishBatchRequestEntries.member.1.Message", "one"},
                                      {"PublishBatchRequestEntries.member.2.Id", "b"},
                                      {"PublishBatchRequestEntries.member.2.Message", "two"},
                                      {"PublishBatchRequestEntries.member.2.Subject", "subject"}}));
}

// A transport that answers from a script, for failures a socket cannot easily produce.
class ScriptedTransport final : public HttpTransport {
 public:
  explicit ScriptedTransport(std::deque<TransportResult> script) : script_(std::move(script)) {}
  TransportResult send(const OutboundRequest& request) override {
    sent.push_back(request);
    if (script_.size() > 1) {
      auto r = std::move(script_.front());
      script_.pop_front();
      return r;
    }
    return script_.front();  // the last entry repeats
  }
  std::vector<OutboundRequest> sent;

 private:
  std::deque<TransportResult> script_;
};

struct ScriptedClient {
  ScriptedTransport* transport;
  std::unique_ptr<AwsClient> client;
  std::vector<Millis> sleeps;
};

std::unique_ptr<ScriptedClient> scripted(std::deque<TransportResult> script, int max_attempts = 3) {
  auto out = std::make_unique<ScriptedClient>();
  auto transport = std::make_unique<ScriptedTransport>(std::move(script));
  out->transport = transport.get();
  auto config = config_for("http://127.0.0.1:1");
  config.retry.max_attempts = max_attempts;
  ClientDeps deps;
  deps.transport = std::move(transport);
  deps.sleep = [raw = out.get()](Millis d) { raw->sleeps.push_back(d); };
  deps.random = [] { return 1.0; };
  out->client = std::move(*AwsClient::create(config, std::move(deps)));
  return out;
}

TEST(AwsClientRetries, RetriesConnectionFailuresAndTimeouts) {
  auto s = scripted({std::unexpected(TransportError{TransportError::Kind::connect, "refused"}),
                     std::unexpected(TransportError{TransportError::Kind::timeout, "slow"}),
                     HttpResponse{200, {}, "{}"}});
  auto r = s->client->call_json("dynamodb", "DynamoDB_20120810.PutItem", "{}");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(s->sleeps, (std::vector<Millis>{Millis(100), Millis(200)}));
  EXPECT_EQ(s->transport->sent.size(), 3u);
  EXPECT_EQ(s->transport->sent[0].url, "http://127.0.0.1:1/");
  EXPECT_EQ(s->transport->sent[0].timeout, Millis(10'000));
}

TEST(AwsClientRetries, DoesNotRetryTlsFailures) {
  auto s = scripted({std::unexpected(TransportError{TransportError::Kind::tls, "bad certificate"})});
  auto r = s->client->call_json("dynamodb", "DynamoDB_20120810.PutItem", "{}");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ClientError::Kind::transport);
  EXPECT_EQ(r.error().code, "tls");
  EXPECT_EQ(r.error().attempts, 1);
}

TEST(AwsClientRetries, StopsRetryingWhenTheRetryQuotaIsExhausted) {
  auto s = scripted({HttpResponse{503, {}, ""}}, /*max_attempts=*/1000);
  auto r = s->client->call_json("dynamodb", "DynamoDB_20120810.PutItem", "{}");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().attempts, 101);  // 500 tokens / 5 per retry
  EXPECT_EQ(s->client->retry_quota_available(), 0);
  EXPECT_NE(r.error().message.find("retry quota exhausted"), std::string::npos);
  EXPECT_EQ(s->sleeps.back(), Millis(20'000));  // capped
}

TEST(AwsClientRetries, ReadsTheErrorTypeHeaderWhenTheBodyHasNone) {
  auto s = scripted({HttpResponse{400, {{"x-amzn-ErrorType", "ResourceNotFoundException:http://internal.amazon.com/"}}, ""}});
  auto r = s->client->call_json("logs", "Logs_20140328.GetLogEvents", "{}");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "ResourceNotFoundException");
  EXPECT_EQ(r.error().message, "HTTP 400");
}

TEST(AwsClientHelpers, Crc32MatchesZlib) {
  EXPECT_EQ(crc32("{}"), 2745614147u);
  EXPECT_EQ(crc32("healthy: dynamodb.us-east-1.amazonaws.com "), 3128867991u);
  EXPECT_EQ(crc32(""), 0u);
}

TEST(AwsClientHelpers, XmlReadersFindElementsAndDecodeEntities) {
  std::string_view xml = R"(<a><MessageId>x</MessageId><MessageIds>no</MessageIds><Code/><Message>a&lt;b&#xD;&#10;&#233;&bogus;</Message></a>)";
  EXPECT_EQ(xml_text(xml, "MessageId"), "x");
  EXPECT_EQ(xml_text(xml, "Code"), "");
  EXPECT_EQ(xml_text(xml, "Message"), "a<b\r\n\xC3\xA9&bogus;");
  EXPECT_FALSE(xml_text(xml, "Missing").has_value());
  EXPECT_EQ(xml_elements("<m>1</m><m>2</m>", "m").size(), 2u);
}

}  // namespace
}  // namespace orderflow::client
