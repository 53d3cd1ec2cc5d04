// How the client subcommands (publish, orders, dlq, logs, status) reach a running stack: only
// over its AWS APIs, with the project's AwsClient, so the same commands work against
// `orderflow up` and against the stack deployed on AWS.
//
// Connection (resolve_connection):
//   endpoint     --endpoint-url, else AWS_ENDPOINT_URL_<SERVICE> / AWS_ENDPOINT_URL (as the
//                SDKs resolve them, see client/config.h), else http://127.0.0.1:4566;
//                --aws uses AWS's regional endpoints and ignores the variables.
//   credentials  AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); when absent
//                and the endpoint is not AWS, test/test (what `orderflow up` accepts).
//   region       --region, else AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1.
// Resource names default to the seed's; each has a flag and an ORDERFLOW_* variable.
//
// Errors: every call returns StackError, whose `message` is the one line to print. A stack
// that cannot be reached reads "no orderflow at <endpoint> — start it with `orderflow up`";
// a service error reads "<Operation>: <Code>: <message>".
//
// Thread-safety: a Stack wraps one AwsClient and is used by one thread at a time.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/aws_client.h"
#include "client/config.h"

namespace CLI {
class App;
}

namespace orderflow::cli {

inline constexpr std::string_view kLocalEndpoint = "http://127.0.0.1:4566";
inline constexpr std::string_view kDefaultRegion = "us-east-1";

struct ConnectionOptions {
  std::string endpoint_url;  // --endpoint-url; empty: from the environment or the default
  bool aws = false;          // --aws: AWS's regional endpoints
  std::string region;        // --region; empty: from the environment or the default
};

// The stack's resources; defaults are the seed's names (deploy/template.yaml).
struct ResourceNames {
  std::string table = "Orders";
  std::string topic = "OrderTopic";  // a name (looked up with ListTopics) or a topic ARN
  std::string queue = "OrderQueue-CF";
  std::string dlq = "OrderQueueDLQ-CF";
  std::string function = "ProcessOrderLambda";
  std::string log_group;  // empty: "/aws/lambda/<function>"

  std::string function_log_group() const {
    return log_group.empty() ? "/aws/lambda/" + function : log_group;
  }
};

// Which resource flags a subcommand takes.
enum ResourceFlag : unsigned {
  kTableFlag = 1,
  kTopicFlag = 2,
  kQueueFlag = 4,
  kDlqFlag = 8,
  kFunctionFlag = 16,
  kLogGroupFlag = 32,
};

// Adds --endpoint-url, --aws and --region to `command`.
void add_connection_flags(CLI::App& command, ConnectionOptions& options);
// Adds --table (ORDERFLOW_TABLE), --topic (ORDERFLOW_TOPIC), --queue (ORDERFLOW_QUEUE),
// --dlq (ORDERFLOW_DLQ), --function (ORDERFLOW_FUNCTION), --log-group (ORDERFLOW_LOG_GROUP),
// as chosen by `flags` (a ResourceFlag mask).
void add_resource_flags(CLI::App& command, ResourceNames& names, unsigned flags);

// The process environment as a map (read once, at the start of a command).
using client::process_environment;

// The client configuration by the rules above. Errors name the problem (Kind::config).
client::ClientResult<client::ClientConfig> resolve_connection(const ConnectionOptions& options,
                                                              const client::Environment& env);

struct StackError {
  client::ClientError cause;
  std::string message;  // the one line to print

  // The AWS error code is one of `codes`.
  bool is(std::initializer_list<std::string_view> codes) const;
  bool unreachable() const { return cause.kind == client::ClientError::Kind::transport; }
};

template <class T>
using StackResult = std::expected<T, StackError>;

struct QueueDepth {
  std::int64_t visible = 0;    // ApproximateNumberOfMessages
  std::int64_t in_flight = 0;  // ApproximateNumberOfMessagesNotVisible
  std::int64_t delayed = 0;    // ApproximateNumberOfMessagesDelayed
};

class Stack {
 public:
  // Makes the client (no call is made yet).
  static StackResult<std::unique_ptr<Stack>> connect(const ConnectionOptions& options,
                                                     const client::Environment& env,
                                                     client::ClientDeps deps = {});

  const client::ClientConfig& config() const { return client_->config(); }
  bool is_aws() const { return aws_; }
  // The endpoint URL calls to `service` go to.
  std::string endpoint(std::string_view service) const { return config().endpoint_for(service); }

  // A JSON-protocol call; `service` "sqs", "dynamodb" or "logs", `target` e.g.
  // "AmazonSQS.GetQueueUrl". The answer must be a JSON object.
  StackResult<boost::json::object> json_call(std::string_view service, std::string_view target,
                                             const boost::json::object& request);
  // A query-protocol call to SNS; the answer is the XML body.
  StackResult<std::string> sns_call(const aws::QueryParams& params);

  // ---- Typed calls ----
  StackResult<std::string> queue_url(std::string_view queue_name);
  // GetQueueAttributes: attribute name -> value.
  StackResult<std::map<std::string, std::string>> queue_attributes(
      std::string_view queue_url, const std::vector<std::string>& names);
  StackResult<QueueDepth> queue_depth(std::string_view queue_url);
  // The ARN of the topic named `name` (the part after the last ':'), found with ListTopics;
  // an ARN is returned as it is. Not found: code "NotFound".
  StackResult<std::string> topic_arn(std::string_view name);
  // The number of subscriptions of a topic (ListSubscriptionsByTopic, all pages).
  StackResult<std::int64_t> subscription_count(std::string_view topic_arn);

  // The client for calls without a typed helper (publish uses sns_publish_batch).
  client::AwsClient& client() { return *client_; }

  // The one-line message for a failure of `operation` on `service`.
  StackError error(const client::ClientError& e, std::string_view service,
                   std::string_view operation) const;

 private:
  Stack(std::unique_ptr<client::AwsClient> client, bool aws)
      : client_(std::move(client)), aws_(aws) {}

  std::unique_ptr<client::AwsClient> client_;
  bool aws_ = false;
};

// The one-line message for a client failure (exposed for tests): unreachable endpoints get
// the "no orderflow at ..." line unless `aws`; service errors "<operation>: <code>: <message>".
std::string describe_failure(const client::ClientError& e, std::string_view endpoint,
                             std::string_view operation, bool aws);

// A StackError from a plain message (not from a call).
StackError stack_error(std::string code, std::string message);

// Reads an integer from a JSON number or a decimal string; nullopt otherwise.
std::optional<std::int64_t> json_int(const boost::json::value* v);
// The string member `name` of `o`, or "" when absent or not a string.
std::string json_str(const boost::json::object& o, std::string_view name);

}  // namespace orderflow::cli
