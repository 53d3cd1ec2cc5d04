// A storage failure (a full disk, through the fault-injecting VFS of engine/fault_vfs.h) seen
// from the wire: each protocol answers its own 5xx server-fault error, and the same request
// succeeds once the disk has room again, without a restart. Requests go through the
// socket-free handle() of router.h, signed as a client would.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "aws/sigv4.h"
#include "engine/fault_vfs.h"
#include "server/router.h"
#include "server/testing/test_support.h"

namespace orderflow::server {
namespace {

namespace json = boost::json;
using testing::contains;
using testing::header;

engine::FaultVfs& vfs() {
  static std::unique_ptr<engine::FaultVfs> v = [] {
    auto r = engine::FaultVfs::install("orderflow-fault-server");
    if (!r) std::abort();
    return std::move(*r);
  }();
  return *v;
}

class StorageFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine::EngineOptions o;
    o.data_dir = dir_.path();
    o.sns_signing_key_bits = 1024;
    o.store.vfs = vfs().name();
    auto e = engine::Engine::open(o, clock_);
    ASSERT_TRUE(e) << e.error().message;
    engine_ = std::move(*e);
  }
  void TearDown() override {
    vfs().clear_faults();
    engine_.reset();
  }

  static aws::HttpRequest form(std::string body) {
    aws::HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"Host", "127.0.0.1:4566"},
                 {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    r.body = std::move(body);
    return r;
  }
  static aws::HttpRequest json_request(std::string target, std::string body,
                                       std::string content_type = "application/x-amz-json-1.0") {
    aws::HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"Host", "127.0.0.1:4566"}, {"Content-Type", content_type}, {"X-Amz-Target", target}};
    r.body = std::move(body);
    return r;
  }
  ApiResponse call(aws::HttpRequest r, std::string_view service) {
    aws::sign(r, aws::Credentials{"test", "test", ""}, "us-east-1", service, clock_.now());
    testing::Reply reply;
    handle(*engine_, r, options_, reply.respond());
    return reply.get();
  }
  // Sends `r` on a full disk (expecting `status` and a body containing `code`), then again with
  // room on the disk (expecting 200).
  void fails_then_recovers(const aws::HttpRequest& r, std::string_view service, int status,
                           std::string_view code) {
    vfs().set_disk_full(true);
    ApiResponse failed = call(r, service);
    EXPECT_EQ(failed.status, status) << failed.body;
    EXPECT_TRUE(contains(failed.body, code)) << failed.body;
    vfs().set_disk_full(false);
    ApiResponse ok = call(r, service);
    EXPECT_EQ(ok.status, 200) << ok.body;
  }

  orderflow::testing::TempDir dir_;
  ManualClock clock_{from_epoch_ms(1'800'000'000'000)};
  std::unique_ptr<engine::Engine> engine_;
  RouterOptions options_;
};

TEST_F(StorageFailureTest, SqsQueryAnswers500ReceiverFault) {
  ASSERT_TRUE(engine_->queues().create_queue("q", {}));
  auto r = form("Action=SendMessage&Version=2012-11-05&QueueUrl=http://127.0.0.1:4566/000000000000/q&MessageBody=hi");
  vfs().set_disk_full(true);
  ApiResponse failed = call(r, "sqs");
  EXPECT_EQ(failed.status, 500) << failed.body;
  EXPECT_TRUE(contains(failed.body, "<Type>Receiver</Type>")) << failed.body;
  EXPECT_TRUE(contains(failed.body, "<Code>InternalFailure</Code>")) << failed.body;
  vfs().set_disk_full(false);
  EXPECT_EQ(call(r, "sqs").status, 200);
}

TEST_F(StorageFailureTest, SqsJsonAnswers500WithTheQueryErrorHeader) {
  ASSERT_TRUE(engine_->queues().create_queue("q", {}));
  auto r = json_request("AmazonSQS.SendMessage",
                        R"({"QueueUrl":"http://127.0.0.1:4566/000000000000/q","MessageBody":"hi"})");
  vfs().set_disk_full(true);
  ApiResponse failed = call(r, "sqs");
  EXPECT_EQ(failed.status, 500) << failed.body;
  EXPECT_EQ(header(failed, "x-amzn-query-error"), "InternalFailure;Receiver");
  vfs().set_disk_full(false);
  EXPECT_EQ(call(r, "sqs").status, 200);
}

TEST_F(StorageFailureTest, SnsPublishAnswers500InternalError) {
  auto topic = engine_->topics().create_topic("t", {});
  ASSERT_TRUE(topic);
  ASSERT_TRUE(engine_->queues().create_queue("q", {}));
  ASSERT_TRUE(engine_->topics().subscribe(*topic, "sqs", engine_->queues().arn("q"), {}));
  fails_then_recovers(form("Action=Publish&Version=2010-03-31&TopicArn=" + *topic + "&Message=hi"), "sns",
                      500, "<Code>InternalError</Code>");
}

TEST_F(StorageFailureTest, DynamoDbPutItemAnswers500InternalServerError) {
  auto create = json_request("DynamoDB_20120810.CreateTable",
                             R"({"TableName":"items","KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],)"
                             R"("AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],)"
                             R"("BillingMode":"PAY_PER_REQUEST"})");
  auto created = call(create, "dynamodb");
  ASSERT_EQ(created.status, 200) << created.body;
  fails_then_recovers(json_request("DynamoDB_20120810.PutItem", R"({"TableName":"items","Item":{"k":{"S":"a"}}})"),
                      "dynamodb", 500, "com.amazonaws.dynamodb.v20120810#InternalServerError");
}

TEST_F(StorageFailureTest, LogsPutLogEventsAnswers500) {
  auto group = json_request("Logs_20140328.CreateLogGroup", R"({"logGroupName":"g"})",
                            "application/x-amz-json-1.1");
  ASSERT_EQ(call(group, "logs").status, 200);
  auto stream = json_request("Logs_20140328.CreateLogStream", R"({"logGroupName":"g","logStreamName":"s"})",
                             "application/x-amz-json-1.1");
  ASSERT_EQ(call(stream, "logs").status, 200);
  std::string events = R"({"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":)" +
                       std::to_string(to_epoch_ms(clock_.now())) + R"(,"message":"m"}]})";
  vfs().set_disk_full(true);
  ApiResponse failed = call(json_request("Logs_20140328.PutLogEvents", events, "application/x-amz-json-1.1"), "logs");
  EXPECT_GE(failed.status, 500) << failed.body;
  vfs().set_disk_full(false);
  ApiResponse ok = call(json_request("Logs_20140328.PutLogEvents", events, "application/x-amz-json-1.1"), "logs");
  EXPECT_EQ(ok.status, 200) << ok.body;
}

}  // namespace
}  // namespace orderflow::server
