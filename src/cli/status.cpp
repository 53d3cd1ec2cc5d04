// `orderflow status`: the stack's resources at a glance, over the AWS APIs only:
//   queue, DLQ   GetQueueUrl + GetQueueAttributes (visible, in flight, delayed)
//   topic        ListTopics + ListSubscriptionsByTopic (subscription count)
//   table        DescribeTable (status, ItemCount)
//   log group    DescribeLogGroups (exists or not)
//   function     `orderflow up`'s GET /metrics (Prometheus text): workers, busy workers,
//                invocations, errors; "n/a" on AWS or when the lines are absent
// A missing resource is shown as missing; only an unreachable stack (or refused credentials)
// fails the command.
#include <CLI/CLI.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/prometheus.h"
#include "cli/stack_client.h"
#include "client/transport.h"

namespace orderflow::cli {

namespace {

namespace bj = boost::json;

constexpr std::string_view kCommand = "status";

struct StatusOptions {
  ConnectionOptions connection;
  ResourceNames names;
  bool json = false;
};

// A resource's state: present (with details), missing, or unknown (the API is not there).
struct Row {
  std::string kind;
  std::string name;
  std::string state;  // "ok", "missing", "n/a", or the service's status ("ACTIVE")
  std::string details;
};

// Errors that mean "the whole stack is not usable": reported as the command's failure.
bool is_fatal(const StackError& e) {
  return e.unreachable() || e.cause.kind == client::ClientError::Kind::config ||
         e.is({"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch",
               "InvalidSignatureException", "MissingAuthenticationToken",
               "MissingAuthenticationTokenException", "IncompleteSignature",
               "IncompleteSignatureException"});
}

bj::value optional_number(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return static_cast<std::int64_t>(*v);
}

std::string number_text(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return "n/a";
  return std::to_string(static_cast<std::int64_t>(*v));
}

// GET <endpoint>/metrics; nullopt when not served (AWS, an older orderflow, any failure).
std::optional<std::vector<MetricSample>> fetch_metrics(const Stack& stack) {
  if (stack.is_aws() || stack.config().endpoint_url.empty()) return std::nullopt;
  auto endpoint = client::parse_endpoint(stack.config().endpoint_url);
  if (!endpoint) return std::nullopt;
  client::TransportOptions options;
  options.connect_timeout = stack.config().connect_timeout;
  options.ca_file = stack.config().ca_file;
  options.max_response_bytes = 16u << 20;
  auto transport = client::make_default_transport(options);
  client::OutboundRequest req;
  req.method = "GET";
  req.url = endpoint->url("/metrics");
  req.headers.emplace_back("Accept", "text/plain");
  req.timeout = stack.config().request_timeout;
  auto r = transport->send(req);
  if (!r || r->status != 200) return std::nullopt;
  return parse_metrics(r->body);
}

int run_status(const StatusOptions& o) {
  auto made = Stack::connect(o.connection, process_environment());
  if (!made) {
    print_error(kCommand, made.error().message);
    return 1;
  }
  Stack& stack = **made;
  std::optional<StackError> fatal;
  auto check = [&](const StackError& e) {
    if (is_fatal(e) && !fatal) fatal = e;
  };
  std::vector<Row> rows;
  bj::object doc{
      {"endpoint", stack.config().endpoint_url.empty() ? bj::value("aws")
                                                       : bj::value(stack.config().endpoint_url)},
      {"region", stack.config().region}};

  // Queues.
  auto queue = [&](const std::string& name, std::string_view kind, std::string_view key) {
    bj::object q{{"name", name}};
    Row row{std::string(kind), name, "missing", ""};
    auto url = stack.queue_url(name);
    if (!url) {
      check(url.error());
      q["exists"] = false;
      if (!url.error().is({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})) {
        row.state = "error";
        row.details = url.error().message;
        q["error"] = url.error().message;
      }
    } else if (auto depth = stack.queue_depth(*url); !depth) {
      check(depth.error());
      q["exists"] = true;
      q["url"] = *url;
      row.state = "error";
      row.details = depth.error().message;
      q["error"] = depth.error().message;
    } else {
      q["exists"] = true;
      q["url"] = *url;
      q["visible"] = depth->visible;
      q["inFlight"] = depth->in_flight;
      q["delayed"] = depth->delayed;
      row.state = "ok";
      row.details = std::to_string(depth->visible) + " visible, " +
                    std::to_string(depth->in_flight) + " in flight, " +
                    std::to_string(depth->delayed) + " delayed";
    }
    rows.push_back(std::move(row));
    doc[key] = std::move(q);
  };
  queue(o.names.queue, "queue", "queue");
  if (fatal) {
    print_error(kCommand, fatal->message);
    return 1;
  }
  queue(o.names.dlq, "dlq", "dlq");

  // Topic.
  {
    bj::object t{{"name", o.names.topic}};
    Row row{"topic", o.names.topic, "missing", ""};
    auto arn = stack.topic_arn(o.names.topic);
    if (!arn) {
      check(arn.error());
      t["exists"] = false;
      if (!arn.error().is({"NotFound"})) {
        row.state = "error";
        row.details = arn.error().message;
        t["error"] = arn.error().message;
      }
    } else {
      t["exists"] = true;
      t["arn"] = *arn;
      row.state = "ok";
      if (auto n = stack.subscription_count(*arn); n) {
        t["subscriptions"] = *n;
        row.details = plural(*n, "subscription", "subscriptions");
      } else {
        check(n.error());
        row.details = n.error().message;
      }
    }
    rows.push_back(std::move(row));
    doc["topic"] = std::move(t);
  }

  // Table.
  {
    bj::object t{{"name", o.names.table}};
    Row row{"table", o.names.table, "missing", ""};
    auto r = stack.json_call("dynamodb", "DynamoDB_20120810.DescribeTable",
                             {{"TableName", o.names.table}});
    if (!r) {
      check(r.error());
      t["exists"] = false;
      if (!r.error().is({"ResourceNotFoundException"})) {
        row.state = "error";
        row.details = r.error().message;
        t["error"] = r.error().message;
      }
    } else {
      const bj::value* desc = r->if_contains("Table");
      const bj::object empty;
      const bj::object& d = desc != nullptr && desc->is_object() ? desc->get_object() : empty;
      auto count = json_int(d.if_contains("ItemCount"));
      t["exists"] = true;
      t["status"] = json_str(d, "TableStatus");
      t["itemCount"] = count ? bj::value(*count) : bj::value();
      row.state = json_str(d, "TableStatus");
      if (row.state.empty()) row.state = "ok";
      row.details = count ? plural(*count, "item", "items") : "";
      if (stack.is_aws()) row.details += " (AWS updates ItemCount about every 6 hours)";
    }
    rows.push_back(std::move(row));
    doc["table"] = std::move(t);
  }

  // Function: from /metrics when the stack serves it.
  {
    auto metrics = fetch_metrics(stack);
    std::map<std::string, std::string> label{{"function", o.names.function}};
    std::optional<double> workers, busy, invocations, errors;
    if (metrics) {
      workers = find_metric(*metrics, "orderflow_function_workers", label);
      busy = find_metric(*metrics, "orderflow_function_busy_workers", label);
      invocations = find_metric(*metrics, "orderflow_function_invocations_total", label);
      errors = find_metric(*metrics, "orderflow_function_errors_total", label);
    }
    bool known = workers || busy || invocations || errors;
    doc["function"] = bj::object{{"name", o.names.function},
                                 {"workers", optional_number(workers)},
                                 {"busyWorkers", optional_number(busy)},
                                 {"invocations", optional_number(invocations)},
                                 {"errors", optional_number(errors)}};
    Row row{"function", o.names.function, known ? "ok" : "n/a", ""};
    if (known) {
      row.details = number_text(workers) + " workers (" + number_text(busy) + " busy), " +
                    number_text(invocations) + " invocations, " + number_text(errors) + " errors";
    } else {
      row.details = stack.is_aws()
                        ? "see the Lambda console or CloudWatch metrics"
                        : "no function metrics at " + stack.config().endpoint_url + "/metrics";
    }
    rows.push_back(std::move(row));
  }

  // Log group.
  {
    const std::string group = o.names.function_log_group();
    bj::object g{{"name", group}};
    Row row{"log group", group, "missing", ""};
    auto r = stack.json_call("logs", "Logs_20140328.DescribeLogGroups",
                             {{"logGroupNamePrefix", group}, {"limit", 50}});
    if (!r) {
      check(r.error());
      g["exists"] = nullptr;
      row.state = "n/a";
      row.details = r.error().message;
    } else {
      bool exists = false;
      std::optional<std::int64_t> stored;
      if (const auto* groups = r->if_contains("logGroups"); groups && groups->is_array()) {
        for (const auto& v : groups->get_array()) {
          if (v.is_object() && json_str(v.get_object(), "logGroupName") == group) {
            exists = true;
            stored = json_int(v.get_object().if_contains("storedBytes"));
          }
        }
      }
      g["exists"] = exists;
      if (exists) {
        row.state = "ok";
        if (stored) row.details = std::to_string(*stored) + " bytes stored";
      }
    }
    rows.push_back(std::move(row));
    doc["logGroup"] = std::move(g);
  }

  if (fatal) {
    print_error(kCommand, fatal->message);
    return 1;
  }
  if (o.json) {
    print_json(doc);
    return 0;
  }
  std::printf("orderflow at %s (region %s)\n\n",
              stack.config().endpoint_url.empty() ? "AWS" : stack.config().endpoint_url.c_str(),
              stack.config().region.c_str());
  Table table({"RESOURCE", "NAME", "STATE", "DETAILS"});
  table.set_max_width(3, 100);
  for (const auto& r : rows) table.add_row({r.kind, r.name, r.state, r.details});
  std::string text = table.render();
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace

void register_status(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<StatusOptions>();
  CLI::App* cmd = app.add_subcommand(
      "status", "Show the stack's resources: queue depths, DLQ depth, topic, table, function");
  cmd->add_flag("--json", o->json, "One JSON object instead of a table");
  add_resource_flags(
      *cmd, o->names,
      kTableFlag | kTopicFlag | kQueueFlag | kDlqFlag | kFunctionFlag | kLogGroupFlag);
  add_connection_flags(*cmd, o->connection);
  cmd->callback([o, &exit_code] { exit_code = run_status(*o); });
}

}  // namespace orderflow::cli
