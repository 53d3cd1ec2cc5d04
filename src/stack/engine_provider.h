// The ResourceProvider that provisions a template's resources in the embedded engine: what
// `orderflow up` deploys deploy/template.yaml (or any template using these types) with.
//
//   AWS::SQS::Queue                 Queues::create_queue (attributes from the properties of the
//                                   same names; RedrivePolicy / RedriveAllowPolicy as objects or
//                                   JSON text; Tags). FifoQueue is refused (standard queues only).
//                                   QueueName change: replacement; else SetQueueAttributes, a
//                                   removed property going back to its default.
//   AWS::SQS::QueuePolicy           the Policy attribute of each queue in Queues (URLs)
//   AWS::SNS::Topic                 Topics::create_topic (DisplayName, Tags, inline Subscription)
//   AWS::SNS::Subscription          Topics::subscribe for protocol sqs (RawMessageDelivery,
//                                   FilterPolicy, FilterPolicyScope, RedrivePolicy); other
//                                   protocols (email, https, ...) are recorded, not delivered
//   AWS::DynamoDB::Table            Tables::create_table (KeySchema, AttributeDefinitions,
//                                   BillingMode, ProvisionedThroughput); an existing table with
//                                   the same key schema is adopted (a run interrupted after
//                                   creating it); TableName / KeySchema change: replacement
//   AWS::Lambda::Function           Functions::put_function with the local `bootstrap` as the
//                                   code (Runtime must be a custom runtime, provided.*):
//                                   Environment.Variables, Timeout (3), MemorySize (128),
//                                   ReservedConcurrentExecutions caps the workers
//   AWS::Lambda::EventSourceMapping Lambda::put_mapping for an SQS EventSourceArn: BatchSize,
//                                   MaximumBatchingWindowInSeconds, FunctionResponseTypes,
//                                   Enabled, ScalingConfig.MaximumConcurrency
//   AWS::Logs::LogGroup             Logs::create_log_group (RetentionInDays, Tags); an existing
//                                   group is adopted
//   AWS::IAM::Role, AWS::IAM::Policy, AWS::IAM::ManagedPolicy, AWS::CloudWatch::Alarm
//                                   recorded in the stack (names, ARNs), no local effect
// Any other type is an error naming the type and the resource.
//
// Functions and event source mappings live in memory (engine/lambda.h): restore() re-creates
// them from a stored StackState when `up` starts again, before deploy() compares the template
// with that state. Everything else is durable in the engine.
//
// Thread-safety: one deployment at a time (the deployer calls it from one thread).
#pragma once

#include <string>

#include "common/result.h"
#include "engine/engine.h"
#include "stack/template.h"

namespace orderflow::stack {

struct EngineProviderOptions {
  // The executable every AWS::Lambda::Function runs (the locally built bootstrap).
  std::string function_executable;
  // Base URL of queue URLs (Ref of a queue), e.g. "http://127.0.0.1:4566".
  std::string base_url = "http://127.0.0.1:4566";
  // Workers per function when ReservedConcurrentExecutions does not say.
  int default_max_workers = 8;
};

class EngineProvider final : public ResourceProvider {
 public:
  EngineProvider(engine::Engine& engine, EngineProviderOptions options)
      : engine_(engine), options_(std::move(options)) {}

  Result<ResourceState> create(const DeployContext& ctx, const ResourceSpec& spec) override;
  Result<UpdateOutcome> update(const DeployContext& ctx, const ResourceState& current,
                               const ResourceSpec& desired) override;
  Status remove(const DeployContext& ctx, const ResourceState& state) override;

  // Re-creates the in-memory resources (functions, then mappings) of `state`.
  Status restore(const StackState& state);

 private:
  engine::Engine& engine_;
  EngineProviderOptions options_;
};

}  // namespace orderflow::stack
