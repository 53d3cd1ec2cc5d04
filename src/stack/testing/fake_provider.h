// Test-only: a ResourceProvider that keeps resources in memory, records every call, invents
// AWS-looking physical ids and attributes (per the Ref/GetAtt table in stack/template.h), and
// fails on request. Plus helpers to find files of the source tree.
#pragma once

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "stack/template.h"

namespace orderflow::stack::testing {

// A context whose generated names are deterministic: "<stack>-<Id>-RAND000000001", ...
inline DeployContext test_context(std::string stack_name = "teststack") {
  DeployContext ctx;
  ctx.stack_name = std::move(stack_name);
  ctx.stack_id =
      "arn:aws:cloudformation:us-east-1:000000000000:stack/" + ctx.stack_name + "/fixed-id";
  auto counter = std::make_shared<int>(0);
  ctx.random_chars = [counter](std::size_t n) {
    std::string s = "RAND" + std::to_string(++*counter);
    s.insert(4, n > s.size() ? n - s.size() : 0, '0');
    return s.substr(0, n);
  };
  return ctx;
}

class FakeProvider final : public ResourceProvider {
 public:
  struct Call {
    std::string op;  // create, update, remove
    std::string logical_id;
    std::string type;
    boost::json::object properties;  // desired (create/update) or current (remove)
    std::string physical_id;         // the resource's (remove, update: the current one)
  };

  std::vector<Call> calls;
  // Physical ids of the resources that exist.
  std::set<std::string> live;
  // Properties whose change makes update() replace the resource, by type.
  std::map<std::string, std::set<std::string>> replace_on = {
      {"AWS::SQS::Queue", {"QueueName", "FifoQueue"}},
      {"AWS::SNS::Topic", {"TopicName"}},
      {"AWS::DynamoDB::Table", {"TableName", "KeySchema"}},
      {"AWS::Lambda::Function", {"FunctionName"}},
      {"AWS::Logs::LogGroup", {"LogGroupName"}},
      {"AWS::SNS::Subscription", {"Endpoint", "Protocol", "TopicArn"}},
      {"Test::Thing", {"Name"}},
  };

  // Makes `op` ("create", "update", "remove") of `logical_id` fail (every time until cleared).
  void fail_on(std::string op, std::string logical_id) {
    failures_.insert({std::move(op), std::move(logical_id)});
  }
  void clear_failures() { failures_.clear(); }

  std::vector<std::string> ops() const {
    std::vector<std::string> out;
    for (const auto& c : calls) out.push_back(c.op + " " + c.logical_id);
    return out;
  }
  const Call* last(std::string_view op, std::string_view logical_id) const {
    for (auto it = calls.rbegin(); it != calls.rend(); ++it) {
      if (it->op == op && it->logical_id == logical_id) return &*it;
    }
    return nullptr;
  }

  Result<ResourceState> create(const DeployContext& ctx, const ResourceSpec& spec) override {
    calls.push_back(Call{"create", spec.logical_id, spec.type, spec.properties, ""});
    if (failures_.contains({"create", spec.logical_id})) {
      return fail(ErrorCode::internal_error, "injected failure");
    }
    auto made = make(ctx, spec);
    if (!made) return made;
    calls.back().physical_id = made->physical_id;
    live.insert(made->physical_id);
    return made;
  }

  Result<UpdateOutcome> update(const DeployContext& ctx, const ResourceState& current,
                               const ResourceSpec& desired) override {
    calls.push_back(
        Call{"update", desired.logical_id, desired.type, desired.properties, current.physical_id});
    if (failures_.contains({"update", desired.logical_id})) {
      return fail(ErrorCode::internal_error, "injected failure");
    }
    bool replace = false;
    for (const auto& key : replace_on[desired.type]) {
      const boost::json::value* a = current.properties.if_contains(key);
      const boost::json::value* b = desired.properties.if_contains(key);
      if ((a == nullptr) != (b == nullptr) || (a != nullptr && *a != *b)) replace = true;
    }
    if (replace) {
      auto made = make(ctx, desired);
      if (!made) return std::unexpected(made.error());
      live.insert(made->physical_id);
      return UpdateOutcome{std::move(*made), true};
    }
    return UpdateOutcome{current, false};  // in place: same id, same attributes
  }

  Status remove(const DeployContext&, const ResourceState& state) override {
    calls.push_back(
        Call{"remove", state.logical_id, state.type, state.properties, state.physical_id});
    if (failures_.contains({"remove", state.logical_id})) {
      return fail(ErrorCode::internal_error, "injected failure");
    }
    live.erase(state.physical_id);
    return {};
  }

 private:
  static std::string prop(const ResourceSpec& spec, std::string_view key) {
    auto v = string_property(spec.properties, key);
    return v && *v ? **v : std::string();
  }

  // The state of `spec` as the resource would be on AWS.
  Result<ResourceState> make(const DeployContext& ctx, const ResourceSpec& spec) {
    const std::string arn_tail = ctx.region + ":" + ctx.account_id + ":";
    auto name_or = [&](std::string_view key, std::size_t max) {
      std::string n = prop(spec, key);
      return n.empty() ? ctx.generated_name(spec.logical_id, max) : n;
    };
    ResourceState s;
    auto& a = s.attributes;
    const std::string& t = spec.type;
    std::string id;
    if (t == "AWS::SQS::Queue") {
      std::string name = name_or("QueueName", 80);
      if (id.empty())
        id = "https://sqs." + ctx.region + ".amazonaws.com/" + ctx.account_id + "/" + name;
      a["Arn"] = "arn:aws:sqs:" + arn_tail + name;
      a["QueueName"] = name;
      a["QueueUrl"] = id;
    } else if (t == "AWS::SNS::Topic") {
      std::string name = name_or("TopicName", 256);
      if (id.empty()) id = "arn:aws:sns:" + arn_tail + name;
      a["TopicArn"] = id;
      a["TopicName"] = name;
    } else if (t == "AWS::SNS::Subscription") {
      if (id.empty()) id = prop(spec, "TopicArn") + ":sub-" + std::to_string(++serial_);
    } else if (t == "AWS::SQS::QueuePolicy" || t == "AWS::IAM::Policy") {
      if (id.empty()) id = ctx.generated_name(spec.logical_id, 128);
      a["Id"] = id;
    } else if (t == "AWS::DynamoDB::Table") {
      std::string name = name_or("TableName", 255);
      if (id.empty()) id = name;
      a["Arn"] = "arn:aws:dynamodb:" + arn_tail + "table/" + name;
      if (spec.properties.contains("StreamSpecification")) {
        a["StreamArn"] =
            "arn:aws:dynamodb:" + arn_tail + "table/" + name + "/stream/2024-01-01T00:00:00.000";
      }
    } else if (t == "AWS::Lambda::Function") {
      std::string name = name_or("FunctionName", 64);
      if (id.empty()) id = name;
      a["Arn"] = "arn:aws:lambda:" + arn_tail + "function:" + name;
    } else if (t == "AWS::Lambda::EventSourceMapping") {
      if (id.empty()) {
        std::string n = std::to_string(++serial_);
        id = "00000000-0000-4000-8000-" + std::string(12 - n.size(), '0') + n;
      }
      a["Id"] = id;
      a["EventSourceMappingArn"] = "arn:aws:lambda:" + arn_tail + "event-source-mapping:" + id;
    } else if (t == "AWS::Logs::LogGroup") {
      std::string name = name_or("LogGroupName", 512);
      if (id.empty()) id = name;
      a["Arn"] = "arn:aws:logs:" + arn_tail + "log-group:" + name + ":*";
    } else if (t == "AWS::IAM::Role") {
      std::string name = name_or("RoleName", 64);
      if (id.empty()) id = name;
      a["Arn"] = "arn:aws:iam::" + ctx.account_id + ":role/" + name;
      a["RoleId"] = "AROA" + std::to_string(++serial_);
    } else if (t == "AWS::CloudWatch::Alarm") {
      std::string name = name_or("AlarmName", 255);
      if (id.empty()) id = name;
      a["Arn"] = "arn:aws:cloudwatch:" + arn_tail + "alarm:" + name;
    } else if (t == "Test::Thing") {
      // For intrinsic tests: Ref is Name (or a generated one); attributes Arn, Name, List.
      std::string name = name_or("Name", 64);
      if (id.empty()) id = name;
      a["Arn"] = "arn:test:" + name;
      a["Name"] = name;
      a["List"] = boost::json::array{"x", "y"};
      a["Dotted.Attr"] = "dotted-" + name;
    } else {
      return fail(ErrorCode::validation_error, "unsupported resource type " + t);
    }
    s.physical_id = id;
    return s;
  }

  std::set<std::pair<std::string, std::string>> failures_;
  int serial_ = 0;
};

// A file of the source tree: $ORDERFLOW_SOURCE_DIR/<relative>, else under the source tree the
// test was built from (ORDERFLOW_TEST_SOURCE_DIR, CMake), else found by walking up from the
// test binary's directory. Empty when not found.
inline std::string read_source_file(const std::string& relative) {
  namespace fs = std::filesystem;
  std::vector<fs::path> roots;
  if (const char* dir = std::getenv("ORDERFLOW_SOURCE_DIR")) roots.emplace_back(dir);
#ifdef ORDERFLOW_TEST_SOURCE_DIR
  roots.emplace_back(ORDERFLOW_TEST_SOURCE_DIR);
#endif
  std::error_code ec;
  for (fs::path p = fs::read_symlink("/proc/self/exe", ec).parent_path(); !ec && !p.empty();
       p = p.parent_path()) {
    roots.push_back(p);
    if (p == p.root_path()) break;
  }
  for (const auto& root : roots) {
    std::ifstream in(root / relative, std::ios::binary);
    if (!in) continue;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  return {};
}

}  // namespace orderflow::stack::testing
