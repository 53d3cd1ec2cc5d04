// The stack layer's template engine: reads a CloudFormation template (deploy/template.yaml),
// evaluates it, and deploys it through a ResourceProvider, keeping a StackState that says what
// exists. It knows nothing of the engine or HTTP: the provider that turns a resolved resource into
// a queue, topic, table... is written against the ResourceProvider interface below.
//
// Templates. YAML or JSON (JSON is read as YAML, of which it is a subset, except that a
// surrogate pair escape such as \ud83d\ude00 is refused: write the character itself), at most
// kMaxTemplateBytes of UTF-8, nesting at most kMaxNestingDepth, one document, no YAML aliases
// (CloudFormation has none either). The short tags (!Ref, !GetAtt "A.B" and [A, B], !Sub, !Join,
// !Select, !Split, !If, !Equals, !Not, !And, !Or, !Condition, !FindInMap, !Base64, !GetAZs,
// !Contains, !EachMemberEquals, !EachMemberIn, and the unsupported !ImportValue, !Cidr,
// !Transform ...) become the long form {"Ref": ...} / {"Fn::X": ...}. Sections:
// AWSTemplateFormatVersion, Description, Metadata, Parameters, Rules, Mappings, Conditions,
// Resources, Outputs. Transform (macros, SAM) is not supported.
//
// Scalars stay strings. yaml-cpp reads every scalar as text, and CloudFormation treats
// parameter values and most property values as strings, so `BatchSize: 10`, `Enabled: true` and
// `maxReceiveCount: 3` reach the provider as the strings "10", "true" and "3", exactly as written
// (`Period: 060` stays "060"). Empty values, `~` and `null` become JSON null. The only
// conversions are deliberate: Fn::Select parses its index, Number parameters are checked as
// numbers (their value stays a string, as Ref of a Number parameter is on AWS), list parameters
// become arrays of strings, and condition functions yield booleans. Providers read numbers and
// booleans with int_property() / bool_property(), which accept both strings and JSON numbers.
//
// Intrinsics: Ref, Fn::GetAtt, Fn::Sub (both forms, ${Param}, ${Resource}, ${Resource.Attr},
// ${AWS::Region}, ${!Literal}), Fn::Join, Fn::Select, Fn::Split, Fn::If, Fn::FindInMap,
// Fn::Base64, Fn::GetAZs (the context's region + a, b, c); in Conditions Fn::Equals, Fn::And,
// Fn::Or, Fn::Not and {"Condition": name}; in Rules also Fn::Contains, Fn::EachMemberEquals and
// Fn::EachMemberIn. Pseudo parameters: AWS::Region, AWS::AccountId, AWS::StackName,
// AWS::StackId, AWS::Partition, AWS::URLSuffix, AWS::NotificationARNs (empty) and AWS::NoValue,
// which removes the key (or list element) holding it. Anything else (Fn::ImportValue, Fn::Cidr,
// Fn::Transform, Fn::Length, Fn::ToJsonString, Fn::ValueOf, ...) is a validation_error.
//
// Parameters: Type String, Number, List<Number>, CommaDelimitedList (AWS-specific and SSM types
// are a validation_error); Default, AllowedValues, AllowedPattern (whole value, Perl syntax),
// MinLength/MaxLength, MinValue/MaxValue, NoEcho (the value is masked in StackState), at most
// kMaxParameterValueBytes per value. A parameter without value or Default, an override naming no
// parameter, or a value breaking a constraint is a validation_error naming the parameter.
// Overrides are not remembered between deployments: an omitted override takes the Default.
//
// Resources: Type, Properties, Condition, DependsOn (a name or a list), DeletionPolicy and
// UpdateReplacePolicy (Retain: the deployer leaves the resource in place when it would delete
// it; Delete and Snapshot: it deletes it - there are no snapshots locally), Metadata,
// CreationPolicy and UpdatePolicy (accepted, ignored). A resource depends on every resource its
// Properties reference (Ref, Fn::GetAtt, Fn::Sub; only the taken branch of an Fn::If counts) and
// on its DependsOn. Validation, before the provider is called at all: every referenced
// resource, parameter, mapping and condition exists, no resource references one whose Condition
// is false, no dependency cycle (the error names the resources of one cycle), every intrinsic is
// supported and well-formed, at most kMaxResources resources, kMaxParameters parameters,
// kMaxOutputs outputs, kMaxMappings mappings. Errors name the resource, output, condition or
// parameter where they are.
//
// What Ref and Fn::GetAtt return is the provider's (ResourceState::physical_id and
// ::attributes). The contract, as on AWS:
//   type                               Ref                       Fn::GetAtt
//   AWS::SQS::Queue                    queue URL                 Arn, QueueName, QueueUrl
//   AWS::SQS::QueuePolicy              generated id              Id
//   AWS::SNS::Topic                    topic ARN                 TopicArn, TopicName
//   AWS::SNS::Subscription             subscription ARN          -
//   AWS::DynamoDB::Table               table name                Arn, StreamArn (with a stream)
//   AWS::Lambda::Function              function name             Arn
//   AWS::Lambda::EventSourceMapping    mapping UUID              Id, EventSourceMappingArn
//   AWS::Logs::LogGroup                log group name            Arn (ends with ":*")
//   AWS::IAM::Role                     role name                 Arn, RoleId
//   AWS::IAM::Policy                   generated id              Id
//   AWS::IAM::ManagedPolicy            policy ARN                PolicyArn, PolicyId,
//   DefaultVersionId AWS::CloudWatch::Alarm             alarm name                Arn
// A resource type the provider does not support is the provider's error, from create().
//
// Thread-safety: functions are reentrant; deploy() calls the provider on the caller's thread,
// one call at a time.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace orderflow::stack {

inline constexpr std::size_t kMaxTemplateBytes = 1
                                                 << 20;  // CloudFormation's limit for S3 templates
inline constexpr int kMaxNestingDepth = 100;             // maps and lists inside each other
inline constexpr std::size_t kMaxResources = 500;
inline constexpr std::size_t kMaxParameters = 200;
inline constexpr std::size_t kMaxOutputs = 200;
inline constexpr std::size_t kMaxMappings = 200;
inline constexpr std::size_t kMaxParameterValueBytes = 4096;
// Bytes that Fn::Sub, Fn::Join, Fn::Base64 and Fn::Split may produce in one deployment: bounds
// the work a small template with large parameters can cause.
inline constexpr std::size_t kMaxEvaluatedBytes = 16 << 20;

// Parameter name -> value as given (a list parameter as its comma-separated text).
using ParameterOverrides = std::map<std::string, std::string>;

// What the deployer and the provider know about the deployment. Pseudo parameters come from
// here (and the stack id from StackState).
struct DeployContext {
  std::string stack_name;  // AWS::StackName: [A-Za-z][-A-Za-z0-9]*, at most 128 characters
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  std::string partition = "aws";
  std::string url_suffix = "amazonaws.com";
  // AWS::StackId, arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>. deploy()
  // sets it (from the previous StackState, else new) in the context it passes to the provider.
  std::string stack_id;
  // n random characters from [A-Z0-9]; empty: cryptographically random. Tests inject a fixed one.
  std::function<std::string(std::size_t n)> random_chars;

  // A CloudFormation-style physical name for a resource without an explicit name:
  // "<stack>-<LogicalId>-<13 random [A-Z0-9]>", at most max_length characters (>= 16). When too
  // long, the stack name and then the logical id are shortened (each keeps at least half of the
  // room left for them, when it needs it), never the random part. Providers append fixed
  // suffixes themselves (".fifo": ask for max_length - 5) and lowercase where a service must.
  std::string generated_name(std::string_view logical_id, std::size_t max_length) const;
};

// A resource as the template wants it: Properties fully resolved (no intrinsics left,
// AWS::NoValue removed; scalars are strings, see above).
struct ResourceSpec {
  std::string logical_id;
  std::string type;
  boost::json::object properties;
};

// A resource that exists. The provider fills physical_id and attributes; the deployer fills the
// rest (the provider's values for them are overwritten).
struct ResourceState {
  std::string logical_id;
  std::string type;
  std::string physical_id;         // what Ref returns
  boost::json::object properties;  // the resolved properties it was last created/updated with
  std::map<std::string, boost::json::value> attributes;  // what Fn::GetAtt returns, by name
  std::vector<std::string> depends_on;     // logical ids it depended on: deletion runs in reverse
  std::string deletion_policy = "Delete";  // or "Retain"
  std::string update_replace_policy = "Delete";  // or "Retain"

  friend bool operator==(const ResourceState&, const ResourceState&) = default;
};

struct UpdateOutcome {
  ResourceState state;  // the resource after the update
  // True when `state` is a new physical resource replacing `current`; the deployer deletes the
  // old one (through remove()) after the whole deployment, unless UpdateReplacePolicy is Retain.
  bool replaced = false;
};

// Turns resolved resources into real ones. Implementations decide which property changes need a
// replacement (as CloudFormation's "Update requires: Replacement") and report unsupported types
// and invalid properties as errors (their own error codes pass through, message prefixed with
// the resource). Called on the deploying thread, one call at a time.
class ResourceProvider {
 public:
  virtual ~ResourceProvider() = default;
  // Creates the resource. On error nothing may have been created.
  virtual Result<ResourceState> create(const DeployContext& ctx, const ResourceSpec& spec) = 0;
  // Called only when the type is the same and the resolved properties differ. Updates in place,
  // or creates a replacement (replaced = true) and leaves `current` alone. On error `current`
  // must be as it was (it stays in the stack).
  virtual Result<UpdateOutcome> update(const DeployContext& ctx, const ResourceState& current,
                                       const ResourceSpec& desired) = 0;
  // Deletes the resource. A resource that is already gone is a success.
  virtual Status remove(const DeployContext& ctx, const ResourceState& state) = 0;
};

struct StackOutput {
  std::string key;
  std::string value;
  std::string description;
  friend bool operator==(const StackOutput&, const StackOutput&) = default;
};

// What exists, after a deployment (or before the first: all empty). The caller stores it
// (to_json) and passes it to the next deploy().
struct StackState {
  std::string stack_name;
  std::string stack_id;
  // CREATE_COMPLETE, UPDATE_COMPLETE, CREATE_FAILED, UPDATE_FAILED, DELETE_COMPLETE,
  // DELETE_FAILED; empty before the first deployment.
  std::string status;
  std::string status_reason;                       // the error of a failed deployment
  std::map<std::string, std::string> parameters;   // values used; NoEcho ones as "****"
  std::map<std::string, ResourceState> resources;  // by logical id
  // Replaced resources not deleted yet (a deployment failed after replacing them): deleted by
  // the next deployment's cleanup.
  std::vector<ResourceState> retired;
  std::vector<StackOutput> outputs;  // in template order; empty unless the status is *_COMPLETE

  friend bool operator==(const StackState&, const StackState&) = default;
};

// JSON form of StackState: {"format": 1, "stack_name", "stack_id", "status", "status_reason",
// "parameters": {name: value}, "resources": [state...], "retired": [state...],
// "outputs": [{"key", "value", "description"}]}; a state is {"logical_id", "type",
// "physical_id", "properties", "attributes", "depends_on", "deletion_policy",
// "update_replace_policy"}. from_json rejects anything else with validation_error.
boost::json::value to_json(const StackState& state);
Result<StackState> stack_state_from_json(const boost::json::value& json);

enum class ChangeAction { created, updated, replaced, unchanged, deleted, retained };
std::string_view to_string(ChangeAction action);

struct Change {
  std::string logical_id;
  std::string type;
  ChangeAction action;
  std::string physical_id;  // the new one for created/updated/replaced; the old one otherwise
  friend bool operator==(const Change&, const Change&) = default;
};

struct Deployment {
  // Always what exists after the call, to be stored whether or not status is ok.
  StackState state;
  Status status;                // ok, or the first error
  std::vector<Change> changes;  // what was done, in order
};

// Deploys `template_text` over `previous` (an empty StackState for a new stack):
//  1. Parse and validate the whole template with the overrides (see above). Any error here
//     returns `previous` unchanged and no provider call is made.
//  2. In dependency order (ties in template order), for each resource whose Condition holds:
//     resolve its Properties against the resources already done in this run (errors that
//     depend on values, such as an Fn::Select index out of range or an attribute the provider
//     did not return, show here and fail the deployment at that resource), then
//       - not in `previous`: create();
//       - same type and equal resolved properties: nothing (its state is reused for Ref/GetAtt);
//       - same type, other properties: update(); a replacement retires the old resource;
//       - other type: create() a new one and retire the old one.
//  3. Cleanup, in reverse dependency order: remove() every resource of `previous` that is no
//     longer in the template (or whose Condition is now false) and every retired resource,
//     except those whose DeletionPolicy (resp. UpdateReplacePolicy) is Retain: they are left
//     in place and forgotten.
//  4. Resolve the Outputs whose Condition holds; status CREATE_COMPLETE or UPDATE_COMPLETE.
// Failure part way: nothing is rolled back (unlike CloudFormation, which rolls back; like
// `--disable-rollback`). The error names the resource (and keeps the provider's error code);
// state.resources holds exactly what exists: what this run created or updated, and what it did
// not get to, as it was; retired resources not yet deleted are in state.retired; status is
// CREATE_FAILED or UPDATE_FAILED and outputs are empty. Deploying again continues: it skips
// what is done, retries the rest and finishes the cleanup.
Deployment deploy(std::string_view template_text, const ParameterOverrides& overrides,
                  const StackState& previous, ResourceProvider& provider, const DeployContext& ctx);

// Deletes every resource of the stack (and every retired one) in reverse dependency order,
// honouring DeletionPolicy Retain. On failure the remaining resources stay in the state
// (DELETE_FAILED) and calling again continues; on success the state is empty but for its
// name, id and status DELETE_COMPLETE.
Deployment destroy(const StackState& previous, ResourceProvider& provider,
                   const DeployContext& ctx);

// The template as JSON in the long form (short tags converted), without evaluating it.
Result<boost::json::object> parse_template(std::string_view template_text);

// Steps 1 of deploy() alone (as `aws cloudformation validate-template` with parameters): the
// logical ids of the resources that would be deployed, in dependency order.
Result<std::vector<std::string>> validate_template(std::string_view template_text,
                                                   const ParameterOverrides& overrides,
                                                   const DeployContext& ctx);

// Property access for providers. Absent (or null) is nullopt; a value of the wrong shape is a
// validation_error naming the property. Numbers and booleans are accepted as strings ("10",
// "true", "false", as scalars stay strings) and as JSON numbers/booleans.
Result<std::optional<std::string>> string_property(const boost::json::object& properties,
                                                   std::string_view name);
Result<std::optional<std::int64_t>> int_property(const boost::json::object& properties,
                                                 std::string_view name);
Result<std::optional<bool>> bool_property(const boost::json::object& properties,
                                          std::string_view name);

}  // namespace orderflow::stack
