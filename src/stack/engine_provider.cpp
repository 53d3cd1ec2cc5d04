#include "stack/engine_provider.h"

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/util.h"

namespace orderflow::stack {
namespace {

namespace json = boost::json;

Error invalid(std::string message) { return Error{ErrorCode::validation_error, std::move(message)}; }

// ---- property readers (everything arrives as strings, objects and arrays) ----

Result<std::string> required_string(const json::object& p, std::string_view name) {
  auto v = string_property(p, name);
  if (!v) return std::unexpected(v.error());
  if (!*v || (*v)->empty()) return std::unexpected(invalid("Property " + std::string(name) + " is required."));
  return **v;
}

std::optional<std::string> opt_string(const json::object& p, std::string_view name, Status& st) {
  auto v = string_property(p, name);
  if (!v) {
    st = std::unexpected(v.error());
    return std::nullopt;
  }
  return *v;
}

// Scalars as text; objects and arrays as compact JSON with scalar strings that look like numbers
// turned into numbers where AWS documents numbers (maxReceiveCount).
std::string json_text(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  return json::serialize(v);
}

std::string redrive_policy_text(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (!v.is_object()) return json::serialize(v);
  json::object o = v.as_object();
  if (auto* c = o.if_contains("maxReceiveCount"); c && c->is_string()) {
    std::string s(c->as_string());
    bool digits = !s.empty() && s.size() < 10 && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    if (digits) *c = std::stoll(s);
  }
  return json::serialize(o);
}

Result<std::map<std::string, std::string>> tags_of(const json::object& p) {
  std::map<std::string, std::string> tags;
  auto* t = p.if_contains("Tags");
  if (t == nullptr || t->is_null()) return tags;
  if (!t->is_array()) return std::unexpected(invalid("Property Tags must be a list of {Key, Value}."));
  for (const auto& e : t->as_array()) {
    if (!e.is_object()) return std::unexpected(invalid("Property Tags must be a list of {Key, Value}."));
    auto k = string_property(e.as_object(), "Key");
    auto v = string_property(e.as_object(), "Value");
    if (!k || !v || !*k) return std::unexpected(invalid("Each tag needs a Key and a Value."));
    tags[**k] = v->value_or("");
  }
  return tags;
}

bool changed(const json::object& a, const json::object& b, std::string_view key) {
  const json::value* x = a.if_contains(key);
  const json::value* y = b.if_contains(key);
  if (x == nullptr || y == nullptr) return x != y;
  return *x != *y;
}

// ---- queues ----

constexpr std::string_view kQueueAttributes[] = {
    "DelaySeconds",      "MaximumMessageSize",       "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout", "KmsMasterKeyId",           "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled",
    "RedrivePolicy",     "RedriveAllowPolicy"};

// What a removed property goes back to (SetQueueAttributes cannot "unset").
const std::map<std::string, std::string, std::less<>>& queue_defaults() {
  static const std::map<std::string, std::string, std::less<>> d = {
      {"DelaySeconds", "0"},       {"MaximumMessageSize", "262144"}, {"MessageRetentionPeriod", "345600"},
      {"ReceiveMessageWaitTimeSeconds", "0"}, {"VisibilityTimeout", "30"}, {"RedrivePolicy", ""},
      {"RedriveAllowPolicy", ""}};
  return d;
}

Result<engine::AttributeMap> queue_attributes(const json::object& p) {
  if (auto fifo = bool_property(p, "FifoQueue"); fifo && *fifo && **fifo)
    return std::unexpected(invalid("FIFO queues are not supported by orderflow (FifoQueue: true)."));
  for (const auto& [k, v] : p) {
    bool known = k == "QueueName" || k == "Tags" || k == "FifoQueue" || k == "ContentBasedDeduplication" ||
                 k == "DeduplicationScope" || k == "FifoThroughputLimit";
    for (auto a : kQueueAttributes) known = known || k == a;
    if (!known) return std::unexpected(invalid("Unknown property " + std::string(k) + " of AWS::SQS::Queue."));
  }
  engine::AttributeMap attrs;
  for (auto a : kQueueAttributes) {
    const json::value* v = p.if_contains(a);
    if (v == nullptr || v->is_null()) continue;
    attrs[std::string(a)] = (a == "RedrivePolicy" || a == "RedriveAllowPolicy") ? redrive_policy_text(*v) : json_text(*v);
  }
  return attrs;
}

std::string queue_url(const EngineProviderOptions& o, const DeployContext& ctx, std::string_view name) {
  return o.base_url + "/" + ctx.account_id + "/" + std::string(name);
}

// "http://host:port/000000000000/Name" -> "Name"
std::string queue_name_from_url(std::string_view url) {
  auto slash = url.rfind('/');
  return std::string(slash == std::string_view::npos ? url : url.substr(slash + 1));
}

// ---- functions ----

Result<engine::FunctionConfig> function_config(const EngineProviderOptions& o, const DeployContext& ctx,
                                               const json::object& p, std::string name) {
  auto runtime = required_string(p, "Runtime");
  if (!runtime) return std::unexpected(runtime.error());
  if (!runtime->starts_with("provided"))
    return std::unexpected(invalid("Runtime " + *runtime +
                                   " does not run locally: orderflow runs custom runtimes (provided.al2023, "
                                   "provided.al2) as native processes."));
  if (!p.contains("Code")) return std::unexpected(invalid("Property Code is required."));
  if (!p.contains("Role")) return std::unexpected(invalid("Property Role is required."));
  engine::FunctionConfig c;
  c.name = std::move(name);
  c.executable = o.function_executable;
  auto handler = string_property(p, "Handler");
  if (!handler) return std::unexpected(handler.error());
  c.handler = handler->value_or("bootstrap");
  auto timeout = int_property(p, "Timeout");
  if (!timeout) return std::unexpected(timeout.error());
  c.timeout = Millis(timeout->value_or(3) * 1000);
  auto memory = int_property(p, "MemorySize");
  if (!memory) return std::unexpected(memory.error());
  c.memory_mb = static_cast<int>(memory->value_or(128));
  auto reserved = int_property(p, "ReservedConcurrentExecutions");
  if (!reserved) return std::unexpected(reserved.error());
  c.max_workers = o.default_max_workers;
  if (*reserved) {
    if (**reserved < 1) return std::unexpected(invalid("ReservedConcurrentExecutions 0 would never run the function."));
    c.max_workers = static_cast<int>(std::min<std::int64_t>(**reserved, 1000));
  }
  if (const json::value* env = p.if_contains("Environment"); env && env->is_object()) {
    if (const json::value* vars = env->as_object().if_contains("Variables"); vars && !vars->is_null()) {
      if (!vars->is_object()) return std::unexpected(invalid("Environment.Variables must be a map."));
      for (const auto& [k, v] : vars->as_object()) c.environment[std::string(k)] = json_text(v);
    }
  }
  (void)ctx;
  return c;
}

// Function name from a name, a full or partial ARN (qualifier dropped).
std::string function_name_of(std::string_view ref) {
  if (auto pos = ref.find(":function:"); pos != std::string_view::npos) ref = ref.substr(pos + 10);
  if (auto colon = ref.find(':'); colon != std::string_view::npos) ref = ref.substr(0, colon);
  return std::string(ref);
}

Result<engine::EventSourceMappingConfig> mapping_config(engine::Engine& engine, const json::object& p) {
  auto source = required_string(p, "EventSourceArn");
  if (!source) return std::unexpected(source.error());
  auto queue = engine.queues().name_from_arn(*source);
  if (!queue)
    return std::unexpected(invalid("EventSourceArn " + *source +
                                   " is not a queue of this stack's account and region: orderflow maps SQS queues only."));
  auto fn = required_string(p, "FunctionName");
  if (!fn) return std::unexpected(fn.error());
  engine::EventSourceMappingConfig c;
  c.queue = *queue;
  c.function = function_name_of(*fn);
  auto batch = int_property(p, "BatchSize");
  if (!batch) return std::unexpected(batch.error());
  c.batch_size = static_cast<int>(batch->value_or(10));
  auto window = int_property(p, "MaximumBatchingWindowInSeconds");
  if (!window) return std::unexpected(window.error());
  c.maximum_batching_window_seconds = static_cast<int>(window->value_or(0));
  auto enabled = bool_property(p, "Enabled");
  if (!enabled) return std::unexpected(enabled.error());
  c.enabled = enabled->value_or(true);
  if (const json::value* types = p.if_contains("FunctionResponseTypes"); types && !types->is_null()) {
    if (!types->is_array()) return std::unexpected(invalid("FunctionResponseTypes must be a list."));
    for (const auto& t : types->as_array()) {
      if (!t.is_string() || t.as_string() != "ReportBatchItemFailures")
        return std::unexpected(invalid("FunctionResponseTypes may only contain ReportBatchItemFailures."));
      c.report_batch_item_failures = true;
    }
  }
  if (const json::value* sc = p.if_contains("ScalingConfig"); sc && sc->is_object()) {
    auto max = int_property(sc->as_object(), "MaximumConcurrency");
    if (!max) return std::unexpected(max.error());
    if (*max) c.maximum_concurrency = static_cast<int>(**max);
  }
  return c;
}

// ---- log groups ----

Status apply_retention(engine::Logs& logs, const std::string& group, const json::object& p) {
  auto days = int_property(p, "RetentionInDays");
  if (!days) return std::unexpected(days.error());
  if (*days) return logs.put_retention_policy(group, static_cast<int>(**days));
  return logs.delete_retention_policy(group);
}

std::string random_upper(std::size_t n) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string bytes = random_bytes(n);
  std::string out;
  for (unsigned char b : bytes) out += kAlphabet[b % 36];
  return out;
}

}  // namespace

Result<ResourceState> EngineProvider::create(const DeployContext& ctx, const ResourceSpec& spec) {
  const json::object& p = spec.properties;
  ResourceState st;
  st.logical_id = spec.logical_id;
  st.type = spec.type;
  st.properties = p;
  Status bad;
  const std::string region = ctx.region, account = ctx.account_id;

  if (spec.type == "AWS::SQS::Queue") {
    std::string name = opt_string(p, "QueueName", bad).value_or("");
    if (!bad) return std::unexpected(bad.error());
    if (name.empty()) name = ctx.generated_name(spec.logical_id, 80);
    auto attrs = queue_attributes(p);
    if (!attrs) return std::unexpected(attrs.error());
    auto tags = tags_of(p);
    if (!tags) return std::unexpected(tags.error());
    // An existing queue (a run interrupted after creating it) is brought to the template's
    // attributes rather than refused.
    if (engine_.queues().exists(name)) {
      if (auto s = engine_.queues().set_attributes(name, *attrs); !s) return std::unexpected(s.error());
      if (!tags->empty()) {
        if (auto s = engine_.queues().tag(name, *tags); !s) return std::unexpected(s.error());
      }
    } else {
      auto created = engine_.queues().create_queue(name, *attrs, *tags);
      if (!created) return std::unexpected(created.error());
    }
    st.physical_id = queue_url(options_, ctx, name);
    st.attributes["Arn"] = engine_.queues().arn(name);
    st.attributes["QueueName"] = name;
    st.attributes["QueueUrl"] = st.physical_id;
    return st;
  }
  if (spec.type == "AWS::SQS::QueuePolicy") {
    const json::value* queues = p.if_contains("Queues");
    const json::value* doc = p.if_contains("PolicyDocument");
    if (queues == nullptr || !queues->is_array() || queues->as_array().empty())
      return std::unexpected(invalid("Property Queues (a list of queue URLs) is required."));
    if (doc == nullptr || doc->is_null()) return std::unexpected(invalid("Property PolicyDocument is required."));
    std::string policy = json_text(*doc);
    for (const auto& q : queues->as_array()) {
      if (!q.is_string()) return std::unexpected(invalid("Queues must be a list of queue URLs."));
      std::string name = queue_name_from_url(q.as_string());
      if (auto s = engine_.queues().set_attributes(name, {{"Policy", policy}}); !s) return std::unexpected(s.error());
    }
    st.physical_id = ctx.stack_name + "-" + spec.logical_id + "-" + random_upper(13);
    st.attributes["Id"] = st.physical_id;
    return st;
  }
  if (spec.type == "AWS::SNS::Topic") {
    std::string name = opt_string(p, "TopicName", bad).value_or("");
    if (!bad) return std::unexpected(bad.error());
    if (name.empty()) name = ctx.generated_name(spec.logical_id, 256);
    if (auto fifo = bool_property(p, "FifoTopic"); fifo && *fifo && **fifo)
      return std::unexpected(invalid("FIFO topics are not supported by orderflow (FifoTopic: true)."));
    engine::AttributeMap attrs;
    if (auto dn = opt_string(p, "DisplayName", bad); dn) attrs["DisplayName"] = *dn;
    if (!bad) return std::unexpected(bad.error());
    auto tags = tags_of(p);
    if (!tags) return std::unexpected(tags.error());
    auto arn = engine_.topics().create_topic(name, attrs, *tags);
    if (!arn) return std::unexpected(arn.error());
    if (const json::value* subs = p.if_contains("Subscription"); subs && subs->is_array()) {
      for (const auto& s : subs->as_array()) {
        if (!s.is_object()) return std::unexpected(invalid("Subscription entries need Endpoint and Protocol."));
        auto proto = required_string(s.as_object(), "Protocol");
        auto endpoint = required_string(s.as_object(), "Endpoint");
        if (!proto || !endpoint) return std::unexpected(invalid("Subscription entries need Endpoint and Protocol."));
        if (*proto != "sqs") continue;  // recorded in the properties; not delivered locally
        if (auto r = engine_.topics().subscribe(*arn, *proto, *endpoint, {}); !r) return std::unexpected(r.error());
      }
    }
    st.physical_id = *arn;
    st.attributes["TopicArn"] = *arn;
    st.attributes["TopicName"] = name;
    return st;
  }
  if (spec.type == "AWS::SNS::Subscription") {
    auto topic = required_string(p, "TopicArn");
    if (!topic) return std::unexpected(topic.error());
    auto proto = required_string(p, "Protocol");
    if (!proto) return std::unexpected(proto.error());
    auto endpoint = string_property(p, "Endpoint");
    if (!endpoint) return std::unexpected(endpoint.error());
    if (*proto != "sqs") {
      // Email, HTTP(S), Lambda ...: part of the stack, but nothing here delivers to them.
      st.physical_id = *topic + ":" + uuid4();
      return st;
    }
    engine::AttributeMap attrs;
    if (auto raw = bool_property(p, "RawMessageDelivery"); !raw) return std::unexpected(raw.error());
    else if (*raw) attrs["RawMessageDelivery"] = **raw ? "true" : "false";
    if (const json::value* fp = p.if_contains("FilterPolicy"); fp && !fp->is_null()) attrs["FilterPolicy"] = json_text(*fp);
    if (auto scope = opt_string(p, "FilterPolicyScope", bad); scope) attrs["FilterPolicyScope"] = *scope;
    if (const json::value* rp = p.if_contains("RedrivePolicy"); rp && !rp->is_null()) attrs["RedrivePolicy"] = json_text(*rp);
    if (!bad) return std::unexpected(bad.error());
    auto arn = engine_.topics().subscribe(*topic, *proto, endpoint->value_or(""), attrs);
    if (!arn) return std::unexpected(arn.error());
    st.physical_id = *arn;
    return st;
  }
  if (spec.type == "AWS::DynamoDB::Table") {
    engine::CreateTableRequest req;
    req.table_name = opt_string(p, "TableName", bad).value_or("");
    if (!bad) return std::unexpected(bad.error());
    if (req.table_name.empty()) req.table_name = ctx.generated_name(spec.logical_id, 255);
    const json::value* ks = p.if_contains("KeySchema");
    if (ks == nullptr || !ks->is_array()) return std::unexpected(invalid("Property KeySchema is required."));
    for (const auto& e : ks->as_array()) {
      if (!e.is_object()) return std::unexpected(invalid("KeySchema entries need AttributeName and KeyType."));
      auto n = required_string(e.as_object(), "AttributeName");
      auto t = required_string(e.as_object(), "KeyType");
      if (!n || !t) return std::unexpected(invalid("KeySchema entries need AttributeName and KeyType."));
      auto kt = engine::parse_key_type(*t);
      if (!kt) return std::unexpected(kt.error());
      req.key_schema.push_back({*n, *kt});
    }
    if (const json::value* ad = p.if_contains("AttributeDefinitions"); ad && ad->is_array()) {
      for (const auto& e : ad->as_array()) {
        if (!e.is_object()) return std::unexpected(invalid("AttributeDefinitions entries need AttributeName and AttributeType."));
        auto n = required_string(e.as_object(), "AttributeName");
        auto t = required_string(e.as_object(), "AttributeType");
        if (!n || !t) return std::unexpected(invalid("AttributeDefinitions entries need AttributeName and AttributeType."));
        auto st2 = engine::parse_scalar_type(*t);
        if (!st2) return std::unexpected(st2.error());
        req.attribute_definitions.push_back({*n, *st2});
      }
    }
    if (p.contains("GlobalSecondaryIndexes") || p.contains("LocalSecondaryIndexes"))
      return std::unexpected(invalid("Secondary indexes are not supported by orderflow's tables."));
    auto billing = opt_string(p, "BillingMode", bad);
    if (!bad) return std::unexpected(bad.error());
    if (billing) {
      auto m = engine::parse_billing_mode(*billing);
      if (!m) return std::unexpected(m.error());
      req.billing_mode = *m;
    }
    if (const json::value* pt = p.if_contains("ProvisionedThroughput"); pt && pt->is_object()) {
      auto r = int_property(pt->as_object(), "ReadCapacityUnits");
      auto w = int_property(pt->as_object(), "WriteCapacityUnits");
      if (!r || !w || !*r || !*w)
        return std::unexpected(invalid("ProvisionedThroughput needs ReadCapacityUnits and WriteCapacityUnits."));
      req.provisioned_throughput = engine::ProvisionedThroughput{**r, **w};
    }
    if (auto dp = bool_property(p, "DeletionProtectionEnabled"); dp && *dp) req.deletion_protection_enabled = **dp;
    auto created = engine_.tables().create_table(req);
    std::string arn;
    if (!created) {
      // Adopt a table left by an interrupted run when its key schema is the template's.
      auto existing = engine_.tables().describe_table(req.table_name);
      if (created.error().code != ErrorCode::ddb_resource_in_use || !existing) return std::unexpected(created.error());
      bool same = existing->key_schema.size() == req.key_schema.size();
      for (std::size_t i = 0; same && i < req.key_schema.size(); ++i)
        same = existing->key_schema[i].attribute_name == req.key_schema[i].attribute_name &&
               existing->key_schema[i].key_type == req.key_schema[i].key_type;
      if (!same) return std::unexpected(created.error());
      arn = existing->table_arn;
    } else {
      arn = created->table_arn;
    }
    st.physical_id = req.table_name;
    st.attributes["Arn"] = arn;
    if (const json::value* ss = p.if_contains("StreamSpecification"); ss && !ss->is_null())
      st.attributes["StreamArn"] = arn + "/stream/" + iso8601_ms(to_epoch_ms(engine_.clock().now())).substr(0, 23);
    return st;
  }
  if (spec.type == "AWS::Lambda::Function") {
    std::string name = opt_string(p, "FunctionName", bad).value_or("");
    if (!bad) return std::unexpected(bad.error());
    if (name.empty()) name = ctx.generated_name(spec.logical_id, 64);
    auto config = function_config(options_, ctx, p, name);
    if (!config) return std::unexpected(config.error());
    if (auto s = engine_.lambda().functions().put_function(*config); !s) return std::unexpected(s.error());
    st.physical_id = name;
    st.attributes["Arn"] = engine_.lambda().functions().function_arn(name);
    return st;
  }
  if (spec.type == "AWS::Lambda::EventSourceMapping") {
    auto config = mapping_config(engine_, p);
    if (!config) return std::unexpected(config.error());
    auto uuid = engine_.lambda().create_mapping(*config);
    if (!uuid) return std::unexpected(uuid.error());
    st.physical_id = *uuid;
    st.attributes["Id"] = *uuid;
    st.attributes["EventSourceMappingArn"] = engine_.lambda().mapping_arn(*uuid);
    return st;
  }
  if (spec.type == "AWS::Logs::LogGroup") {
    std::string name = opt_string(p, "LogGroupName", bad).value_or("");
    if (!bad) return std::unexpected(bad.error());
    if (name.empty()) name = ctx.generated_name(spec.logical_id, 512);
    engine::CreateLogGroupRequest req;
    req.log_group_name = name;
    auto tags = tags_of(p);
    if (!tags) return std::unexpected(tags.error());
    req.tags = *tags;
    if (auto cls = opt_string(p, "LogGroupClass", bad); cls) req.log_group_class = *cls;
    if (!bad) return std::unexpected(bad.error());
    auto created = engine_.logs().create_log_group(req);
    if (!created && created.error().code != ErrorCode::logs_resource_already_exists)
      return std::unexpected(created.error());
    if (auto s = apply_retention(engine_.logs(), name, p); !s) return std::unexpected(s.error());
    st.physical_id = name;
    st.attributes["Arn"] = "arn:" + ctx.partition + ":logs:" + region + ":" + account + ":log-group:" + name + ":*";
    return st;
  }
  if (spec.type == "AWS::IAM::Role") {
    if (!p.contains("AssumeRolePolicyDocument"))
      return std::unexpected(invalid("Property AssumeRolePolicyDocument is required."));
    std::string name = opt_string(p, "RoleName", bad).value_or("");
    if (!bad) return std::unexpected(bad.error());
    if (name.empty()) name = ctx.generated_name(spec.logical_id, 64);
    auto path = opt_string(p, "Path", bad).value_or("/");
    st.physical_id = name;
    st.attributes["Arn"] = "arn:" + ctx.partition + ":iam::" + account + ":role" + path + name;
    st.attributes["RoleId"] = "AROA" + random_upper(17);
    return st;
  }
  if (spec.type == "AWS::IAM::Policy") {
    if (!p.contains("PolicyDocument") || !p.contains("PolicyName"))
      return std::unexpected(invalid("Properties PolicyDocument and PolicyName are required."));
    st.physical_id = ctx.stack_name + "-" + spec.logical_id + "-" + random_upper(13);
    st.attributes["Id"] = st.physical_id;
    return st;
  }
  if (spec.type == "AWS::IAM::ManagedPolicy") {
    if (!p.contains("PolicyDocument")) return std::unexpected(invalid("Property PolicyDocument is required."));
    std::string name = opt_string(p, "ManagedPolicyName", bad).value_or("");
    if (!bad) return std::unexpected(bad.error());
    if (name.empty()) name = ctx.generated_name(spec.logical_id, 128);
    st.physical_id = "arn:" + ctx.partition + ":iam::" + account + ":policy/" + name;
    st.attributes["PolicyArn"] = st.physical_id;
    st.attributes["PolicyId"] = "ANPA" + random_upper(17);
    st.attributes["DefaultVersionId"] = "v1";
    return st;
  }
  if (spec.type == "AWS::CloudWatch::Alarm") {
    auto op = required_string(p, "ComparisonOperator");
    if (!op) return std::unexpected(op.error());
    auto periods = int_property(p, "EvaluationPeriods");
    if (!periods || !*periods) return std::unexpected(invalid("Property EvaluationPeriods is required."));
    std::string name = opt_string(p, "AlarmName", bad).value_or("");
    if (!bad) return std::unexpected(bad.error());
    if (name.empty()) name = ctx.generated_name(spec.logical_id, 255);
    st.physical_id = name;
    st.attributes["Arn"] = "arn:" + ctx.partition + ":cloudwatch:" + region + ":" + account + ":alarm:" + name;
    return st;
  }
  return std::unexpected(invalid("Resource type " + spec.type + " (resource " + spec.logical_id +
                                 ") is not supported by orderflow's local stack."));
}

Result<UpdateOutcome> EngineProvider::update(const DeployContext& ctx, const ResourceState& current,
                                             const ResourceSpec& desired) {
  const json::object& was = current.properties;
  const json::object& now = desired.properties;
  auto replace = [&]() -> Result<UpdateOutcome> {
    auto created = create(ctx, desired);
    if (!created) return std::unexpected(created.error());
    return UpdateOutcome{std::move(*created), true};
  };
  auto in_place = [&](auto&& apply) -> Result<UpdateOutcome> {
    ResourceState st = current;
    st.properties = now;
    if (auto s = apply(st); !s) return std::unexpected(s.error());
    return UpdateOutcome{std::move(st), false};
  };

  if (desired.type == "AWS::SQS::Queue") {
    if (changed(was, now, "QueueName") || changed(was, now, "FifoQueue")) return replace();
    return in_place([&](ResourceState& st) -> Status {
      auto attrs = queue_attributes(now);
      if (!attrs) return std::unexpected(attrs.error());
      for (const auto& [k, v] : queue_defaults())
        if (!attrs->contains(k) && was.contains(k)) (*attrs)[k] = v;
      std::string name(st.attributes.at("QueueName").as_string());
      if (auto s = engine_.queues().set_attributes(name, *attrs); !s) return s;
      auto tags = tags_of(now);
      if (!tags) return std::unexpected(tags.error());
      auto old = engine_.queues().tags(name);
      if (old) {
        std::vector<std::string> gone;
        for (const auto& [k, v] : *old)
          if (!tags->contains(k)) gone.push_back(k);
        if (!gone.empty()) engine_.queues().untag(name, gone);
      }
      if (!tags->empty()) return engine_.queues().tag(name, *tags);
      return {};
    });
  }
  if (desired.type == "AWS::SNS::Topic") {
    if (changed(was, now, "TopicName") || changed(was, now, "FifoTopic") || changed(was, now, "Subscription"))
      return replace();
    return in_place([&](ResourceState& st) -> Status {
      Status bad;
      auto dn = opt_string(now, "DisplayName", bad);
      if (!bad) return bad;
      return engine_.topics().set_topic_attribute(st.physical_id, "DisplayName", dn.value_or(""));
    });
  }
  if (desired.type == "AWS::SNS::Subscription") {
    if (changed(was, now, "TopicArn") || changed(was, now, "Protocol") || changed(was, now, "Endpoint")) return replace();
    if (auto proto = string_property(now, "Protocol"); !proto || !*proto || **proto != "sqs") {
      return in_place([](ResourceState&) -> Status { return {}; });
    }
    return in_place([&](ResourceState& st) -> Status {
      auto raw = bool_property(now, "RawMessageDelivery");
      if (!raw) return std::unexpected(raw.error());
      if (auto s = engine_.topics().set_subscription_attribute(st.physical_id, "RawMessageDelivery",
                                                               raw->value_or(false) ? "true" : "false");
          !s)
        return s;
      for (std::string_view key : {"FilterPolicy", "RedrivePolicy", "FilterPolicyScope"}) {
        if (!changed(was, now, key)) continue;
        const json::value* v = now.if_contains(key);
        std::string text = v == nullptr || v->is_null() ? "" : json_text(*v);
        if (key == "FilterPolicyScope" && text.empty()) text = "MessageAttributes";
        if (auto s = engine_.topics().set_subscription_attribute(st.physical_id, key, text); !s) return s;
      }
      return {};
    });
  }
  if (desired.type == "AWS::DynamoDB::Table") {
    if (changed(was, now, "TableName") || changed(was, now, "KeySchema") || changed(was, now, "AttributeDefinitions"))
      return replace();
    return in_place([&](ResourceState& st) -> Status {
      engine::UpdateTableRequest req;
      req.table_name = st.physical_id;
      if (auto b = string_property(now, "BillingMode"); b && *b) {
        auto m = engine::parse_billing_mode(**b);
        if (!m) return std::unexpected(m.error());
        req.billing_mode = *m;
      }
      if (const json::value* pt = now.if_contains("ProvisionedThroughput"); pt && pt->is_object()) {
        auto r = int_property(pt->as_object(), "ReadCapacityUnits");
        auto w = int_property(pt->as_object(), "WriteCapacityUnits");
        if (r && w && *r && *w) req.provisioned_throughput = engine::ProvisionedThroughput{**r, **w};
      }
      if (auto dp = bool_property(now, "DeletionProtectionEnabled"); dp && *dp) req.deletion_protection_enabled = **dp;
      if (!req.billing_mode && !req.provisioned_throughput && !req.deletion_protection_enabled) return {};
      auto r = engine_.tables().update_table(req);
      if (!r) return std::unexpected(r.error());
      return {};
    });
  }
  if (desired.type == "AWS::Lambda::Function") {
    if (changed(was, now, "FunctionName")) return replace();
    return in_place([&](ResourceState& st) -> Status {
      auto config = function_config(options_, ctx, now, st.physical_id);
      if (!config) return std::unexpected(config.error());
      return engine_.lambda().functions().put_function(*config);
    });
  }
  if (desired.type == "AWS::Lambda::EventSourceMapping") {
    if (changed(was, now, "EventSourceArn")) return replace();
    return in_place([&](ResourceState& st) -> Status {
      auto config = mapping_config(engine_, now);
      if (!config) return std::unexpected(config.error());
      return engine_.lambda().put_mapping(st.physical_id, *config);
    });
  }
  if (desired.type == "AWS::Logs::LogGroup") {
    if (changed(was, now, "LogGroupName") || changed(was, now, "LogGroupClass")) return replace();
    return in_place([&](ResourceState& st) -> Status { return apply_retention(engine_.logs(), st.physical_id, now); });
  }
  if (desired.type == "AWS::SQS::QueuePolicy") {
    if (changed(was, now, "Queues")) return replace();
    return in_place([&](ResourceState&) -> Status {
      std::string policy = json_text(now.at("PolicyDocument"));
      for (const auto& q : now.at("Queues").as_array()) {
        if (!q.is_string()) return std::unexpected(invalid("Queues must be a list of queue URLs."));
        if (auto s = engine_.queues().set_attributes(queue_name_from_url(q.as_string()), {{"Policy", policy}}); !s)
          return s;
      }
      return {};
    });
  }
  if (desired.type == "AWS::IAM::Role") {
    if (changed(was, now, "RoleName") || changed(was, now, "Path")) return replace();
    return in_place([](ResourceState&) -> Status { return {}; });
  }
  if (desired.type == "AWS::IAM::ManagedPolicy") {
    if (changed(was, now, "ManagedPolicyName")) return replace();
    return in_place([](ResourceState&) -> Status { return {}; });
  }
  if (desired.type == "AWS::CloudWatch::Alarm") {
    if (changed(was, now, "AlarmName")) return replace();
    return in_place([](ResourceState&) -> Status { return {}; });
  }
  if (desired.type == "AWS::IAM::Policy") return in_place([](ResourceState&) -> Status { return {}; });
  return std::unexpected(invalid("Resource type " + desired.type + " (resource " + desired.logical_id +
                                 ") is not supported by orderflow's local stack."));
}

Status EngineProvider::remove(const DeployContext&, const ResourceState& st) {
  const std::string& type = st.type;
  auto ignore_missing = [](Status s, ErrorCode missing) -> Status {
    if (!s && s.error().code == missing) return {};
    return s;
  };
  if (type == "AWS::SQS::Queue") {
    auto it = st.attributes.find("QueueName");
    std::string name = it != st.attributes.end() ? std::string(it->second.as_string()) : queue_name_from_url(st.physical_id);
    return ignore_missing(engine_.queues().delete_queue(name), ErrorCode::queue_does_not_exist);
  }
  if (type == "AWS::SQS::QueuePolicy") {
    if (const json::value* qs = st.properties.if_contains("Queues"); qs && qs->is_array())
      for (const auto& q : qs->as_array())
        if (q.is_string()) {
          std::string name = queue_name_from_url(q.as_string());
          if (engine_.queues().exists(name)) engine_.queues().set_attributes(name, {{"Policy", ""}});
        }
    return {};
  }
  if (type == "AWS::SNS::Topic") return engine_.topics().delete_topic(st.physical_id);
  if (type == "AWS::SNS::Subscription") {
    auto proto = string_property(st.properties, "Protocol");
    if (proto && *proto && **proto != "sqs") return {};
    return ignore_missing(engine_.topics().unsubscribe(st.physical_id), ErrorCode::sns_not_found);
  }
  if (type == "AWS::DynamoDB::Table") {
    auto r = engine_.tables().delete_table(st.physical_id);
    if (!r && r.error().code != ErrorCode::ddb_resource_not_found) return std::unexpected(r.error());
    return {};
  }
  if (type == "AWS::Lambda::Function")
    return ignore_missing(engine_.lambda().functions().remove_function(st.physical_id),
                          ErrorCode::lambda_resource_not_found);
  if (type == "AWS::Lambda::EventSourceMapping")
    return ignore_missing(engine_.lambda().delete_mapping(st.physical_id), ErrorCode::lambda_resource_not_found);
  if (type == "AWS::Logs::LogGroup")
    return ignore_missing(engine_.logs().delete_log_group(st.physical_id), ErrorCode::logs_resource_not_found);
  return {};  // IAM, alarms: recorded only
}

Status EngineProvider::restore(const StackState& state) {
  DeployContext ctx;
  ctx.stack_name = state.stack_name;
  for (const auto& [id, st] : state.resources) {
    if (st.type != "AWS::Lambda::Function") continue;
    auto config = function_config(options_, ctx, st.properties, st.physical_id);
    if (!config) return std::unexpected(Error{config.error().code, id + ": " + config.error().message});
    if (auto s = engine_.lambda().functions().put_function(*config); !s)
      return std::unexpected(Error{s.error().code, id + ": " + s.error().message});
  }
  for (const auto& [id, st] : state.resources) {
    if (st.type != "AWS::Lambda::EventSourceMapping") continue;
    auto config = mapping_config(engine_, st.properties);
    if (!config) return std::unexpected(Error{config.error().code, id + ": " + config.error().message});
    if (auto s = engine_.lambda().put_mapping(st.physical_id, *config); !s)
      return std::unexpected(Error{s.error().code, id + ": " + s.error().message});
  }
  return {};
}

}  // namespace orderflow::stack
