#include "cli/stack_client.h"

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

namespace orderflow::cli {

namespace bj = boost::json;

void add_connection_flags(CLI::App& command, ConnectionOptions& options) {
  auto* endpoint = command.add_option("--endpoint-url", options.endpoint_url,
                                      "Endpoint of the stack (default: AWS_ENDPOINT_URL, else " +
                                          std::string(kLocalEndpoint) + ")");
  auto* aws = command.add_flag("--aws", options.aws,
                               "Use AWS's regional endpoints (the stack deployed on AWS)");
  endpoint->excludes(aws);
  command.add_option("--region", options.region,
                     "Region (default: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1)");
}

void add_resource_flags(CLI::App& command, ResourceNames& names, unsigned flags) {
  if (flags & kTableFlag) {
    command.add_option("--table", names.table, "DynamoDB table of orders")
        ->envname("ORDERFLOW_TABLE")
        ->capture_default_str();
  }
  if (flags & kTopicFlag) {
    command.add_option("--topic", names.topic, "SNS topic orders are published to (name or ARN)")
        ->envname("ORDERFLOW_TOPIC")
        ->capture_default_str();
  }
  if (flags & kQueueFlag) {
    command.add_option("--queue", names.queue, "SQS queue the function reads")
        ->envname("ORDERFLOW_QUEUE")
        ->capture_default_str();
  }
  if (flags & kDlqFlag) {
    command.add_option("--dlq", names.dlq, "Dead-letter queue of the queue")
        ->envname("ORDERFLOW_DLQ")
        ->capture_default_str();
  }
  if (flags & kFunctionFlag) {
    command.add_option("--function", names.function, "Lambda function processing the queue")
        ->envname("ORDERFLOW_FUNCTION")
        ->capture_default_str();
  }
  if (flags & kLogGroupFlag) {
    command
        .add_option("--log-group", names.log_group,
                    "Log group of the function (default: /aws/lambda/<function>)")
        ->envname("ORDERFLOW_LOG_GROUP");
  }
}


namespace {

std::string lookup(const client::Environment& env, std::string_view name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

}  // namespace

client::ClientResult<client::ClientConfig> resolve_connection(const ConnectionOptions& options,
                                                              const client::Environment& env) {
  client::Environment e = env;
  // Region: the flag, then the SDK variables, then the default.
  std::string region = options.region;
  if (region.empty()) region = lookup(env, "AWS_REGION");
  if (region.empty()) region = lookup(env, "AWS_DEFAULT_REGION");
  if (region.empty()) region = std::string(kDefaultRegion);
  e["AWS_REGION"] = region;
  // The endpoint variables mean nothing with --aws or when the flag names the endpoint (and an
  // unusable one must not fail a command that does not use it).
  if (options.aws || !options.endpoint_url.empty())
    e["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
  const bool local = !options.aws;
  if (local &&
      (lookup(env, "AWS_ACCESS_KEY_ID").empty() || lookup(env, "AWS_SECRET_ACCESS_KEY").empty())) {
    e["AWS_ACCESS_KEY_ID"] = "test";
    e["AWS_SECRET_ACCESS_KEY"] = "test";
    e.erase("AWS_SESSION_TOKEN");
  }
  auto config = client::resolve_config(e);
  if (!config) return config;
  if (!options.endpoint_url.empty()) {
    if (auto ok = client::parse_endpoint(options.endpoint_url); !ok)
      return std::unexpected(ok.error());
    config->endpoint_url = options.endpoint_url;
    config->service_endpoints.clear();
  } else if (local && config->endpoint_url.empty()) {
    config->endpoint_url = std::string(kLocalEndpoint);
  }
  return config;
}

bool StackError::is(std::initializer_list<std::string_view> codes) const {
  for (std::string_view c : codes) {
    if (cause.code == c) return true;
  }
  return false;
}

std::string describe_failure(const client::ClientError& e, std::string_view endpoint,
                             std::string_view operation, bool aws) {
  using Kind = client::ClientError::Kind;
  switch (e.kind) {
    case Kind::config:
      return e.message;
    case Kind::transport:
      if (e.code == "connect" && !aws) {
        return "no orderflow at " + std::string(endpoint) +
               " \xE2\x80\x94 start it with `orderflow up`";
      }
      if (e.code == "timeout") {
        return std::string(endpoint) + " did not answer in time (" + std::string(operation) +
               "): " + e.message;
      }
      return "cannot reach " + std::string(endpoint) + " (" + std::string(operation) +
             "): " + e.message;
    case Kind::protocol:
      return std::string(operation) + ": unexpected answer from " + std::string(endpoint) + ": " +
             e.describe();
    case Kind::service:
      break;
  }
  return std::string(operation) + ": " + e.describe();
}

StackError stack_error(std::string code, std::string message) {
  StackError e;
  e.cause.kind = client::ClientError::Kind::service;
  e.cause.code = std::move(code);
  e.cause.message = message;
  e.message = std::move(message);
  return e;
}

std::optional<std::int64_t> json_int(const bj::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  if (v->is_string()) {
    const auto& s = v->get_string();
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && end == s.data() + s.size()) return n;
  }
  return std::nullopt;
}

std::string json_str(const bj::object& o, std::string_view name) {
  const bj::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->get_string());
}

// ---- Stack -----------------------------------------------------------------------------

StackResult<std::unique_ptr<Stack>> Stack::connect(const ConnectionOptions& options,
                                                   const client::Environment& env,
                                                   client::ClientDeps deps) {
  auto config = resolve_connection(options, env);
  if (!config) return std::unexpected(StackError{config.error(), config.error().message});
  auto made = client::AwsClient::create(std::move(*config), std::move(deps));
  if (!made) return std::unexpected(StackError{made.error(), made.error().message});
  return std::unique_ptr<Stack>(new Stack(std::move(*made), options.aws));
}

StackError Stack::error(const client::ClientError& e, std::string_view service,
                        std::string_view operation) const {
  return StackError{e, describe_failure(e, endpoint(service), operation, aws_)};
}

StackResult<bj::object> Stack::json_call(std::string_view service, std::string_view target,
                                         const bj::object& request) {
  std::string_view operation = target.substr(target.find('.') + 1);
  auto r = client_->call_json(service, target, bj::serialize(request));
  if (!r) return std::unexpected(error(r.error(), service, operation));
  bj::error_code ec;
  bj::value doc = bj::parse(r->body, ec);
  if (ec || !doc.is_object()) {
    client::ClientError e;
    e.kind = client::ClientError::Kind::protocol;
    e.code = "MalformedResponse";
    e.message = "the answer is not a JSON object";
    e.http_status = r->status;
    return std::unexpected(error(e, service, operation));
  }
  return std::move(doc.get_object());
}

StackResult<std::string> Stack::sns_call(const aws::QueryParams& params) {
  std::string operation = "SNS";
  for (const auto& [k, v] : params) {
    if (k == "Action") operation = v;
  }
  auto r = client_->call_query("sns", params);
  if (!r) return std::unexpected(error(r.error(), "sns", operation));
  return std::move(r->body);
}

StackResult<std::string> Stack::queue_url(std::string_view queue_name) {
  auto r = json_call("sqs", "AmazonSQS.GetQueueUrl", {{"QueueName", queue_name}});
  if (!r) {
    if (r.error().is({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})) {
      r.error().message = "queue " + std::string(queue_name) + " does not exist";
    }
    return std::unexpected(r.error());
  }
  std::string url = json_str(*r, "QueueUrl");
  if (url.empty())
    return std::unexpected(
        stack_error("MalformedResponse", "GetQueueUrl: no QueueUrl in the answer"));
  return url;
}

StackResult<std::map<std::string, std::string>> Stack::queue_attributes(
    std::string_view queue_url, const std::vector<std::string>& names) {
  bj::array list;
  for (const auto& n : names) list.emplace_back(n);
  auto r = json_call("sqs", "AmazonSQS.GetQueueAttributes",
                     {{"QueueUrl", queue_url}, {"AttributeNames", std::move(list)}});
  if (!r) return std::unexpected(r.error());
  std::map<std::string, std::string> out;
  if (const auto* attrs = r->if_contains("Attributes"); attrs && attrs->is_object()) {
    for (const auto& [k, v] : attrs->get_object()) {
      if (v.is_string()) out.emplace(std::string(k), std::string(v.get_string()));
    }
  }
  return out;
}

StackResult<QueueDepth> Stack::queue_depth(std::string_view queue_url) {
  auto attrs = queue_attributes(
      queue_url, {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                  "ApproximateNumberOfMessagesDelayed"});
  if (!attrs) return std::unexpected(attrs.error());
  auto number = [&](const char* name) -> std::int64_t {
    auto it = attrs->find(name);
    if (it == attrs->end()) return 0;
    bj::value v(it->second);
    return json_int(&v).value_or(0);
  };
  return QueueDepth{number("ApproximateNumberOfMessages"),
                    number("ApproximateNumberOfMessagesNotVisible"),
                    number("ApproximateNumberOfMessagesDelayed")};
}

StackResult<std::string> Stack::topic_arn(std::string_view name) {
  if (name.starts_with("arn:")) return std::string(name);
  std::string next;
  for (int page = 0; page < 1000; ++page) {
    aws::QueryParams params = {{"Action", "ListTopics"}, {"Version", "2010-03-31"}};
    if (!next.empty()) params.emplace_back("NextToken", next);
    auto body = sns_call(params);
    if (!body) return std::unexpected(body.error());
    for (std::string_view member : client::xml_elements(*body, "TopicArn")) {
      std::string arn = client::xml_unescape(member);
      std::string_view tail = arn;
      if (auto colon = tail.rfind(':'); colon != std::string_view::npos)
        tail.remove_prefix(colon + 1);
      if (tail == name) return arn;
    }
    next = client::xml_text(*body, "NextToken").value_or("");
    if (next.empty()) break;
  }
  return std::unexpected(stack_error("NotFound", "topic " + std::string(name) + " does not exist"));
}

StackResult<std::int64_t> Stack::subscription_count(std::string_view topic_arn) {
  std::int64_t count = 0;
  std::string next;
  for (int page = 0; page < 10000; ++page) {
    aws::QueryParams params = {{"Action", "ListSubscriptionsByTopic"},
                               {"Version", "2010-03-31"},
                               {"TopicArn", std::string(topic_arn)}};
    if (!next.empty()) params.emplace_back("NextToken", next);
    auto body = sns_call(params);
    if (!body) return std::unexpected(body.error());
    count += static_cast<std::int64_t>(client::xml_elements(*body, "SubscriptionArn").size());
    next = client::xml_text(*body, "NextToken").value_or("");
    if (next.empty()) break;
  }
  return count;
}

}  // namespace orderflow::cli
