#include "cli/stack_client.h"

#include <gtest/gtest.h>

#include <deque>

namespace orderflow::cli {
namespace {

TEST(Connection, DefaultsToTheLocalStackWithTestCredentials) {
  auto c = resolve_connection({}, {});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->endpoint_for("sqs"), "http://127.0.0.1:4566");
  EXPECT_EQ(c->endpoint_for("logs"), "http://127.0.0.1:4566");
  EXPECT_EQ(c->region, "us-east-1");
  EXPECT_EQ(c->credentials.access_key, "test");
  EXPECT_EQ(c->credentials.secret_key, "test");
}

TEST(Connection, TakesEndpointCredentialsAndRegionFromTheEnvironment) {
  client::Environment env{{"AWS_ENDPOINT_URL", "http://localhost:9000"},
                          {"AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:8000"},
                          {"AWS_ACCESS_KEY_ID", "AKID"},
                          {"AWS_SECRET_ACCESS_KEY", "secret"},
                          {"AWS_SESSION_TOKEN", "token"},
                          {"AWS_DEFAULT_REGION", "eu-west-1"}};
  auto c = resolve_connection({}, env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->endpoint_for("sqs"), "http://localhost:9000");
  EXPECT_EQ(c->endpoint_for("dynamodb"), "http://localhost:8000");
  EXPECT_EQ(c->credentials.access_key, "AKID");
  EXPECT_EQ(c->credentials.session_token, "token");
  EXPECT_EQ(c->region, "eu-west-1");
  env["AWS_REGION"] = "eu-central-1";
  EXPECT_EQ(resolve_connection({}, env)->region, "eu-central-1");
}

TEST(Connection, FlagsWinOverTheEnvironment) {
  client::Environment env{{"AWS_ENDPOINT_URL", "http://localhost:9000"},
                          {"AWS_ENDPOINT_URL_SQS", "http://localhost:9001"},
                          {"AWS_REGION", "eu-west-1"}};
  ConnectionOptions o;
  o.endpoint_url = "http://127.0.0.1:5000";
  o.region = "ap-south-1";
  auto c = resolve_connection(o, env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->endpoint_for("sqs"), "http://127.0.0.1:5000");
  EXPECT_EQ(c->endpoint_for("sns"), "http://127.0.0.1:5000");
  EXPECT_EQ(c->region, "ap-south-1");
}

TEST(Connection, AwsUsesRegionalEndpointsAndRealCredentialsOnly) {
  ConnectionOptions o;
  o.aws = true;
  client::Environment env{{"AWS_ENDPOINT_URL", "http://localhost:9000"}};
  auto missing = resolve_connection(o, env);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
  env["AWS_ACCESS_KEY_ID"] = "AKID";
  env["AWS_SECRET_ACCESS_KEY"] = "secret";
  auto c = resolve_connection(o, env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->endpoint_for("sqs"), "https://sqs.us-east-1.amazonaws.com");
  EXPECT_EQ(c->endpoint_for("logs"), "https://logs.us-east-1.amazonaws.com");
}

TEST(Connection, AnUnusableEndpointIsAConfigurationError) {
  ConnectionOptions o;
  o.endpoint_url = "ftp://x";
  auto c = resolve_connection(o, {});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, client::ClientError::Kind::config);
}

TEST(Failure, ARefusedConnectionSaysToStartTheStack) {
  client::ClientError e;
  e.kind = client::ClientError::Kind::transport;
  e.code = "connect";
  e.message = "Couldn't connect to server";
  EXPECT_EQ(describe_failure(e, "http://127.0.0.1:4566", "GetItem", false),
            "no orderflow at http://127.0.0.1:4566 \xE2\x80\x94 start it with `orderflow up`");
  EXPECT_EQ(
      describe_failure(e, "https://sqs.us-east-1.amazonaws.com", "GetQueueUrl", true),
      "cannot reach https://sqs.us-east-1.amazonaws.com (GetQueueUrl): Couldn't connect to server");
}

TEST(Failure, AServiceErrorNamesTheOperationCodeAndMessage) {
  client::ClientError e;
  e.kind = client::ClientError::Kind::service;
  e.code = "ResourceNotFoundException";
  e.message = "Requested resource not found";
  EXPECT_EQ(describe_failure(e, "http://x", "GetItem", false),
            "GetItem: ResourceNotFoundException: Requested resource not found");
}

// ---- Stack over a scripted transport ----

class ScriptedTransport final : public client::HttpTransport {
 public:
  explicit ScriptedTransport(std::deque<client::TransportResult> script,
                             std::vector<client::OutboundRequest>* seen)
      : script_(std::move(script)), seen_(seen) {}
  client::TransportResult send(const client::OutboundRequest& request) override {
    seen_->push_back(request);
    if (script_.empty())
      return std::unexpected(
          client::TransportError{client::TransportError::Kind::connect, "refused"});
    auto r = std::move(script_.front());
    script_.pop_front();
    return r;
  }

 private:
  std::deque<client::TransportResult> script_;
  std::vector<client::OutboundRequest>* seen_;
};

class StackTest : public ::testing::Test {
 protected:
  std::unique_ptr<Stack> make(std::deque<client::TransportResult> script) {
    client::ClientDeps deps;
    deps.transport = std::make_unique<ScriptedTransport>(std::move(script), &seen);
    deps.clock = &clock;
    deps.sleep = [](Millis) {};
    deps.random = [] { return 0.5; };
    auto s = Stack::connect({}, {}, std::move(deps));
    EXPECT_TRUE(s.has_value());
    return s ? std::move(*s) : nullptr;
  }
  static client::HttpResponse ok(std::string body) { return {200, {}, std::move(body)}; }

  ManualClock clock;
  std::vector<client::OutboundRequest> seen;
};

TEST_F(StackTest, AStoppedStackGivesTheOneLineError) {
  auto stack = make({});
  auto r = stack->queue_url("OrderQueue-CF");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().unreachable());
  EXPECT_EQ(r.error().message,
            "no orderflow at http://127.0.0.1:4566 \xE2\x80\x94 start it with `orderflow up`");
}

TEST_F(StackTest, FindsTheTopicByTheNameAfterTheLastColonAcrossPages) {
  auto stack = make(
      {ok("<ListTopicsResponse><ListTopicsResult><Topics>"
          "<member><TopicArn>arn:aws:sns:us-east-1:000000000000:OrderTopicOld</TopicArn></member>"
          "</Topics><NextToken>p2</NextToken></ListTopicsResult></ListTopicsResponse>"),
       ok("<ListTopicsResponse><ListTopicsResult><Topics>"
          "<member><TopicArn>arn:aws:sns:us-east-1:000000000000:OrderTopic</TopicArn></member>"
          "</Topics></ListTopicsResult></ListTopicsResponse>")});
  auto arn = stack->topic_arn("OrderTopic");
  ASSERT_TRUE(arn) << arn.error().message;
  EXPECT_EQ(*arn, "arn:aws:sns:us-east-1:000000000000:OrderTopic");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_NE(seen[1].body.find("NextToken=p2"), std::string::npos);
  EXPECT_EQ(*stack->topic_arn("arn:aws:sns:eu-west-1:1:T"), "arn:aws:sns:eu-west-1:1:T");
}

TEST_F(StackTest, AMissingTopicIsNotFound) {
  auto stack = make({ok(
      "<ListTopicsResponse><ListTopicsResult><Topics/></ListTopicsResult></ListTopicsResponse>")});
  auto arn = stack->topic_arn("OrderTopic");
  ASSERT_FALSE(arn);
  EXPECT_TRUE(arn.error().is({"NotFound"}));
  EXPECT_EQ(arn.error().message, "topic OrderTopic does not exist");
}

TEST_F(StackTest, AMissingQueueIsNamed) {
  client::HttpResponse missing{
      400,
      {{"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"}},
      R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})"};
  auto stack = make({missing});
  auto r = stack->queue_url("OrderQueueDLQ-CF");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "queue OrderQueueDLQ-CF does not exist");
}

TEST_F(StackTest, ReadsQueueDepths) {
  auto stack = make({ok(
      R"({"Attributes":{"ApproximateNumberOfMessages":"3","ApproximateNumberOfMessagesNotVisible":"2","ApproximateNumberOfMessagesDelayed":"1"}})")});
  auto d = stack->queue_depth("http://127.0.0.1:4566/000000000000/q");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->visible, 3);
  EXPECT_EQ(d->in_flight, 2);
  EXPECT_EQ(d->delayed, 1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].body.find("ApproximateNumberOfMessagesDelayed"), std::string::npos);
}

TEST_F(StackTest, AnAnswerThatIsNotJsonIsAProtocolError) {
  auto stack = make({ok("<html>")});
  auto r =
      stack->json_call("dynamodb", "DynamoDB_20120810.DescribeTable", {{"TableName", "Orders"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().cause.kind, client::ClientError::Kind::protocol);
  EXPECT_NE(r.error().message.find("DescribeTable"), std::string::npos);
}

}  // namespace
}  // namespace orderflow::cli
