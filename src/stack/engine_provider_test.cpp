// deploy/template.yaml (and another template) provisioned into a real engine on a temp dir:
// every resource exists in the engine with the properties the template gives it, updates and
// deletions between two deployments reach the engine, and restart restores the functions and
// mappings.
#include "stack/engine_provider.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>

#include "common/clock.h"
#include "engine/testing/temp_dir.h"
#include "stack/local_stack.h"
#include "stack/testing/fake_provider.h"

namespace orderflow::stack {
namespace {

namespace json = boost::json;

class EngineProviderTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    engine::EngineOptions o;
    o.data_dir = dir_.path();
    o.sns_signing_key_bits = 1024;
    o.base_url = "http://127.0.0.1:4566";
    auto e = engine::Engine::open(o, clock_);
    ASSERT_TRUE(e) << e.error().message;
    engine_ = std::move(*e);
  }

  Deployment deploy_text(const std::string& text, ParameterOverrides params = {}, StackState previous = {}) {
    EngineProviderOptions po;
    po.function_executable = "/opt/orderflow/bootstrap";
    EngineProvider provider(*engine_, po);
    DeployContext ctx = testing::test_context("orderflow");
    return deploy(text, params, previous, provider, ctx);
  }

  std::string attribute(const std::string& queue, const std::string& name) {
    auto a = engine_->queues().get_attributes(queue, {name});
    EXPECT_TRUE(a) << queue;
    if (!a || !a->contains(name)) return "";
    return a->at(name);
  }

  RealClock clock_;
  orderflow::testing::TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
};

const ParameterOverrides kCode = {{"CodeS3Bucket", "local"}};

TEST_F(EngineProviderTest, ProvisionsEveryResourceOfTheSeedTemplate) {
  Deployment d = deploy_text(testing::read_source_file("deploy/template.yaml"), kCode);
  ASSERT_TRUE(d.status) << d.status.error().message;
  EXPECT_EQ(d.state.status, "CREATE_COMPLETE");

  // Queues: the DLQ and the source queue with its redrive policy (maxReceiveCount 3).
  ASSERT_TRUE(engine_->queues().exists("OrderQueue-CF"));
  ASSERT_TRUE(engine_->queues().exists("OrderQueueDLQ-CF"));
  auto redrive = json::parse(attribute("OrderQueue-CF", "RedrivePolicy")).as_object();
  EXPECT_EQ(redrive.at("deadLetterTargetArn").as_string(), engine_->queues().arn("OrderQueueDLQ-CF"));
  EXPECT_EQ(redrive.at("maxReceiveCount").to_number<int>(), 3);
  EXPECT_EQ(attribute("OrderQueue-CF", "VisibilityTimeout"), "180");
  // The queue policy lets the topic send.
  std::string policy = attribute("OrderQueue-CF", "Policy");
  EXPECT_NE(policy.find("arn:aws:sns:us-east-1:000000000000:OrderTopic"), std::string::npos) << policy;

  // The topic and its subscription to the queue (envelopes, not raw).
  std::string topic = "arn:aws:sns:us-east-1:000000000000:OrderTopic";
  auto subs = engine_->topics().list_subscriptions(topic, "", nullptr);
  ASSERT_TRUE(subs);
  ASSERT_EQ(subs->size(), 1u);
  EXPECT_EQ((*subs)[0].protocol, "sqs");
  EXPECT_EQ((*subs)[0].endpoint, engine_->queues().arn("OrderQueue-CF"));
  auto sub_attrs = engine_->topics().get_subscription_attributes((*subs)[0].subscription_arn);
  ASSERT_TRUE(sub_attrs);
  EXPECT_EQ(sub_attrs->at("RawMessageDelivery"), "false");

  // The table.
  auto table = engine_->tables().describe_table("Orders");
  ASSERT_TRUE(table);
  ASSERT_EQ(table->key_schema.size(), 1u);
  EXPECT_EQ(table->key_schema[0].attribute_name, "orderId");
  EXPECT_EQ(table->billing_mode, engine::BillingMode::pay_per_request);

  // The function, with the local bootstrap as its code.
  auto fn = engine_->lambda().functions().function_config("ProcessOrderLambda");
  ASSERT_TRUE(fn);
  EXPECT_EQ(fn->executable, "/opt/orderflow/bootstrap");
  EXPECT_EQ(fn->environment.at("ORDERS_TABLE"), "Orders");
  EXPECT_EQ(fn->timeout, Millis(30000));
  EXPECT_EQ(fn->memory_mb, 256);

  // The mapping.
  auto mappings = engine_->lambda().mappings();
  ASSERT_EQ(mappings.size(), 1u);
  EXPECT_EQ(mappings[0].config.queue, "OrderQueue-CF");
  EXPECT_EQ(mappings[0].config.function, "ProcessOrderLambda");
  EXPECT_EQ(mappings[0].config.batch_size, 10);
  EXPECT_TRUE(mappings[0].config.report_batch_item_failures);
  EXPECT_EQ(d.state.resources.at("OrderQueueEventSourceMapping").physical_id, mappings[0].uuid);

  // The log group with its retention.
  engine::DescribeLogGroupsRequest req;
  req.log_group_name_prefix = "/aws/lambda/ProcessOrderLambda";
  auto groups = engine_->logs().describe_log_groups(req);
  ASSERT_TRUE(groups);
  ASSERT_EQ(groups->log_groups.size(), 1u);
  EXPECT_EQ(groups->log_groups[0].retention_in_days, 14);

  // Ref / GetAtt values as CloudFormation gives them, in the outputs.
  std::map<std::string, std::string> outputs;
  for (const auto& o : d.state.outputs) outputs[o.key] = o.value;
  EXPECT_EQ(outputs.at("OrderQueueUrl"), "http://127.0.0.1:4566/000000000000/OrderQueue-CF");
  EXPECT_EQ(outputs.at("OrderTopicArn"), topic);
  EXPECT_EQ(outputs.at("OrdersTableName"), "Orders");
  EXPECT_EQ(outputs.at("ProcessOrderFunctionName"), "ProcessOrderLambda");
}

TEST_F(EngineProviderTest, ParameterChangesUpdateTheEngineInPlace) {
  std::string text = testing::read_source_file("deploy/template.yaml");
  Deployment first = deploy_text(text, kCode);
  ASSERT_TRUE(first.status) << first.status.error().message;
  std::string uuid = engine_->lambda().mappings().at(0).uuid;
  ParameterOverrides changed = kCode;
  changed["BatchSize"] = "5";
  changed["FunctionTimeout"] = "10";
  changed["QueueVisibilityTimeout"] = "60";
  changed["LogRetentionDays"] = "30";
  Deployment second = deploy_text(text, changed, first.state);
  ASSERT_TRUE(second.status) << second.status.error().message;
  EXPECT_EQ(second.state.status, "UPDATE_COMPLETE");
  EXPECT_EQ(attribute("OrderQueue-CF", "VisibilityTimeout"), "60");
  EXPECT_EQ(engine_->lambda().functions().function_config("ProcessOrderLambda")->timeout, Millis(10000));
  auto mappings = engine_->lambda().mappings();
  ASSERT_EQ(mappings.size(), 1u);
  EXPECT_EQ(mappings[0].uuid, uuid);  // updated in place: same mapping id
  EXPECT_EQ(mappings[0].config.batch_size, 5);
  engine::DescribeLogGroupsRequest req;
  req.log_group_name_prefix = "/aws/lambda/ProcessOrderLambda";
  EXPECT_EQ(engine_->logs().describe_log_groups(req)->log_groups.at(0).retention_in_days, 30);
}

TEST_F(EngineProviderTest, AnotherTemplateProvisionsItsOwnNamesAndRemovedResourcesAreDeleted) {
  std::string text = testing::read_source_file("src/stack/testdata/two_queues.yaml");
  Deployment prod = deploy_text(text, {{"Stage", "prod"}});
  ASSERT_TRUE(prod.status) << prod.status.error().message;
  ASSERT_TRUE(engine_->queues().exists("orderflow-work-prod"));
  EXPECT_EQ(attribute("orderflow-work-prod", "VisibilityTimeout"), "300");
  auto redrive = json::parse(attribute("orderflow-work-prod", "RedrivePolicy")).as_object();
  EXPECT_EQ(redrive.at("maxReceiveCount").to_number<int>(), 10);
  std::string audit_url = prod.state.resources.at("Audit").physical_id;
  std::string audit = audit_url.substr(audit_url.rfind('/') + 1);
  EXPECT_TRUE(audit.starts_with("orderflow-Audit-")) << audit;  // a generated name
  EXPECT_TRUE(engine_->tables().describe_table("orderflow-archive"));
  std::string topic = prod.state.resources.at("Events").physical_id;
  EXPECT_EQ(engine_->topics().list_subscriptions(topic, "", nullptr)->size(), 2u);

  // dev: the audit subscription goes, the table is retained (DeletionPolicy Retain), the work
  // queue is replaced (its name changes).
  Deployment dev = deploy_text(text, {{"Stage", "dev"}}, prod.state);
  ASSERT_TRUE(dev.status) << dev.status.error().message;
  EXPECT_EQ(engine_->topics().list_subscriptions(topic, "", nullptr)->size(), 1u);
  EXPECT_TRUE(engine_->tables().describe_table("orderflow-archive"));
  EXPECT_TRUE(engine_->queues().exists("orderflow-work-dev"));
  EXPECT_FALSE(engine_->queues().exists("orderflow-work-prod"));
  EXPECT_EQ(attribute("orderflow-work-dev", "VisibilityTimeout"), "30");
}

TEST_F(EngineProviderTest, AnUnsupportedTypeIsAnErrorNamingTheResource) {
  Deployment d = deploy_text(R"(
Resources:
  Bucket:
    Type: AWS::S3::Bucket
)");
  ASSERT_FALSE(d.status);
  EXPECT_NE(d.status.error().message.find("AWS::S3::Bucket"), std::string::npos) << d.status.error().message;
  EXPECT_NE(d.status.error().message.find("Bucket"), std::string::npos);
  EXPECT_EQ(d.state.status, "CREATE_FAILED");
}

TEST_F(EngineProviderTest, NonCustomRuntimesAndFifoQueuesAreRefusedClearly) {
  Deployment py = deploy_text(R"(
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Role: arn:aws:iam::000000000000:role/r
      Code: {ZipFile: "x"}
)");
  ASSERT_FALSE(py.status);
  EXPECT_NE(py.status.error().message.find("python3.12"), std::string::npos) << py.status.error().message;
  Deployment fifo = deploy_text(R"(
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties: {QueueName: q.fifo, FifoQueue: true}
)");
  ASSERT_FALSE(fifo.status);
  EXPECT_NE(fifo.status.error().message.find("FIFO"), std::string::npos);
}

TEST_F(EngineProviderTest, DeployLocalStoresTheStackAndRestoresFunctionsAfterARestart) {
  auto path = dir_.path() / "template.yaml";
  {
    std::ofstream out(path);
    out << testing::read_source_file("deploy/template.yaml");
  }
  LocalStackOptions lo;
  lo.template_path = path;
  lo.provider.function_executable = "/opt/orderflow/bootstrap";
  Deployment d = deploy_local(*engine_, lo);  // CodeS3Bucket gets its local placeholder
  ASSERT_TRUE(d.status) << d.status.error().message;
  std::string uuid = engine_->lambda().mappings().at(0).uuid;

  // Restart: functions and mappings live in memory; the stored stack brings them back.
  engine_.reset();
  open();
  EXPECT_FALSE(engine_->lambda().functions().exists("ProcessOrderLambda"));
  auto stored = load_stack_state(dir_.path());
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->status, "CREATE_COMPLETE");
  Deployment again = deploy_local(*engine_, lo);
  ASSERT_TRUE(again.status) << again.status.error().message;
  EXPECT_TRUE(engine_->lambda().functions().exists("ProcessOrderLambda"));
  ASSERT_EQ(engine_->lambda().mappings().size(), 1u);
  EXPECT_EQ(engine_->lambda().mappings()[0].uuid, uuid);
  for (const auto& c : again.changes) EXPECT_EQ(c.action, ChangeAction::unchanged) << c.logical_id;
}

}  // namespace
}  // namespace orderflow::stack
