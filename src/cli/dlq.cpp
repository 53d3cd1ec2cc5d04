#include "cli/dlq.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "cli/commands.h"
#include "cli/orders.h"
#include "cli/output.h"
#include "common/function_log.h"

namespace orderflow::cli {

namespace bj = boost::json;

// ---- Pure pieces -----------------------------------------------------------------------

std::optional<FailureReason> find_failure_reason(const std::vector<LogEvent>& events,
                                                 std::string_view message_id) {
  std::optional<FailureReason> best;
  for (const auto& e : events) {
    auto record = parse_function_log_line(e.message);
    if (!record || record->message_id != message_id || record->reason.empty()) continue;
    if (best && e.timestamp < best->timestamp) continue;  // ties: the later line wins
    best = FailureReason{std::move(record->reason), e.timestamp, std::move(record->outcome)};
  }
  return best;
}

std::string message_id_filter(std::string_view message_id) {
  std::string out = "\"";
  for (char c : message_id) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

// ---- The commands ----------------------------------------------------------------------

namespace {

// How long peeked messages stay hidden at most, should the command die before it makes them
// visible again.
constexpr int kPeekVisibilitySeconds = 30;
constexpr std::size_t kMaxLogPagesPerMessage = 100;

struct DlqOptions {
  ConnectionOptions connection;
  ResourceNames names;
  bool json = false;
  int limit = 100;
  int max_per_second = 0;  // 0: the service's pace
};

struct Peeked {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  std::map<std::string, std::string> attributes;
  std::optional<FailureReason> failure;

  std::int64_t attribute_int(const char* name) const {
    auto it = attributes.find(name);
    if (it == attributes.end()) return 0;
    bj::value v(it->second);
    return json_int(&v).value_or(0);
  }
};

std::vector<Peeked> messages_of(const bj::object& answer) {
  std::vector<Peeked> out;
  const bj::value* list = answer.if_contains("Messages");
  if (list == nullptr || !list->is_array()) return out;
  for (const auto& v : list->get_array()) {
    if (!v.is_object()) continue;
    const auto& m = v.get_object();
    Peeked p;
    p.message_id = json_str(m, "MessageId");
    p.receipt_handle = json_str(m, "ReceiptHandle");
    p.body = json_str(m, "Body");
    if (const auto* attrs = m.if_contains("Attributes"); attrs && attrs->is_object()) {
      for (const auto& [k, a] : attrs->get_object()) {
        if (a.is_string()) p.attributes.emplace(std::string(k), std::string(a.get_string()));
      }
    }
    if (!p.message_id.empty()) out.push_back(std::move(p));
  }
  return out;
}

// Makes peeked messages visible again; failures are warnings (the messages reappear when
// their visibility timeout runs out anyway).
void make_visible(Stack& stack, std::string_view queue_url, const std::vector<Peeked>& messages,
                  std::string_view command) {
  for (std::size_t start = 0; start < messages.size(); start += 10) {
    bj::array entries;
    for (std::size_t i = start; i < messages.size() && i < start + 10; ++i) {
      entries.push_back(bj::object{{"Id", "m" + std::to_string(i)},
                                   {"ReceiptHandle", messages[i].receipt_handle},
                                   {"VisibilityTimeout", 0}});
    }
    auto r = stack.json_call("sqs", "AmazonSQS.ChangeMessageVisibilityBatch",
                             {{"QueueUrl", queue_url}, {"Entries", std::move(entries)}});
    if (!r) {
      print_warning(command, r.error().message + " (the messages become visible again within " +
                                 std::to_string(kPeekVisibilitySeconds) + " s)");
      return;
    }
    if (const auto* failed = r->if_contains("Failed");
        failed && failed->is_array() && !failed->get_array().empty()) {
      print_warning(command, std::to_string(failed->get_array().size()) +
                                 " messages could not be made visible again at once (they will "
                                 "be within " +
                                 std::to_string(kPeekVisibilitySeconds) + " s)");
    }
  }
}

std::string short_time(std::int64_t epoch_ms) {
  std::string t = format_epoch_ms(epoch_ms);
  if (t.size() == 24) t = t.substr(0, 10) + " " + t.substr(11, 8);  // "2024-05-01 12:30:00"
  return t;
}

int run_list(const DlqOptions& o) {
  constexpr std::string_view kCommand = "dlq list";
  auto stack_made = Stack::connect(o.connection, process_environment());
  if (!stack_made) {
    print_error(kCommand, stack_made.error().message);
    return 1;
  }
  Stack& stack = **stack_made;
  auto url = stack.queue_url(o.names.dlq);
  if (!url) {
    print_error(kCommand, url.error().message);
    return 1;
  }

  std::vector<Peeked> messages;
  std::set<std::string> ids;
  std::optional<StackError> failed;
  const auto limit = static_cast<std::size_t>(o.limit);
  while (messages.size() < limit) {
    auto want = static_cast<std::int64_t>(std::min<std::size_t>(10, limit - messages.size()));
    auto r = stack.json_call("sqs", "AmazonSQS.ReceiveMessage",
                             {{"QueueUrl", *url},
                              {"MaxNumberOfMessages", want},
                              {"VisibilityTimeout", kPeekVisibilitySeconds},
                              {"WaitTimeSeconds", 0},
                              {"AttributeNames", bj::array{"All"}},
                              {"MessageSystemAttributeNames", bj::array{"All"}}});
    if (!r) {
      failed = r.error();
      break;
    }
    std::size_t fresh = 0;
    for (auto& m : messages_of(*r)) {
      if (ids.insert(m.message_id).second) {
        messages.push_back(std::move(m));
        ++fresh;
      } else {  // seen already: its newer receipt handle is the one that works
        for (auto& known : messages) {
          if (known.message_id == m.message_id) known.receipt_handle = m.receipt_handle;
        }
      }
    }
    if (fresh == 0) break;
  }
  make_visible(stack, *url, messages, kCommand);
  if (failed) {
    print_error(kCommand, failed->message);
    return 1;
  }

  // The failure reasons, from the function's log group.
  const std::string log_group = o.names.function_log_group();
  for (auto& m : messages) {
    std::vector<LogEvent> events;
    FilterRequest request;
    request.log_group = log_group;
    request.filter_pattern = message_id_filter(m.message_id);
    request.max_pages = kMaxLogPagesPerMessage;
    auto r = filter_log_events(stack, request, [&](std::vector<LogEvent> page) {
      for (auto& e : page) events.push_back(std::move(e));
    });
    if (!r) {
      if (r.error().unreachable()) {
        print_error(kCommand, r.error().message);
        return 1;
      }
      print_warning(kCommand, "no failure reasons: " + r.error().message);
      break;
    }
    m.failure = find_failure_reason(events, m.message_id);
  }

  if (o.json) {
    bj::array list;
    for (const auto& m : messages) {
      std::string message = message_in_body(m.body);
      auto order_id = order_id_in_message(message);
      auto source = m.attributes.find("DeadLetterQueueSourceArn");
      list.push_back(bj::object{
          {"messageId", m.message_id},
          {"orderId", order_id ? bj::value(*order_id) : bj::value()},
          {"body", m.body},
          {"message", message},
          {"receiveCount", m.attribute_int("ApproximateReceiveCount")},
          {"sentTimestamp", m.attribute_int("SentTimestamp")},
          {"firstReceiveTimestamp", m.attribute_int("ApproximateFirstReceiveTimestamp")},
          {"lastAttemptTimestamp", m.failure ? bj::value(m.failure->timestamp) : bj::value()},
          {"reason", m.failure ? bj::value(m.failure->reason) : bj::value()},
          {"sourceQueueArn",
           source != m.attributes.end() ? bj::value(source->second) : bj::value()}});
    }
    print_json(list);
    return 0;
  }
  if (messages.empty()) {
    std::printf("%s is empty\n", o.names.dlq.c_str());
    return 0;
  }
  Table table({"MESSAGE ID", "ORDER ID", "RECEIVES", "SENT", "FIRST RECEIVE", "LAST TRY", "REASON",
               "BODY"});
  table.align_right(2);
  table.set_max_width(1, 32);
  table.set_max_width(6, 60);
  table.set_max_width(7, 40);
  for (const auto& m : messages) {
    std::string message = message_in_body(m.body);
    table.add_row({m.message_id, order_id_in_message(message).value_or("-"),
                   std::to_string(m.attribute_int("ApproximateReceiveCount")),
                   short_time(m.attribute_int("SentTimestamp")),
                   short_time(m.attribute_int("ApproximateFirstReceiveTimestamp")),
                   m.failure ? short_time(m.failure->timestamp) : "-",
                   m.failure ? m.failure->reason : "-", message});
  }
  std::string text = table.render();
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::printf("%s in %s (times UTC; receives include this listing's)\n",
              plural(static_cast<std::int64_t>(messages.size()), "message", "messages").c_str(),
              o.names.dlq.c_str());
  std::fflush(stdout);
  return 0;
}

struct TaskState {
  std::string status;
  std::int64_t moved = 0;
  std::optional<std::int64_t> to_move;
  std::string failure_reason;
};

std::optional<TaskState> task_of(const bj::object& answer, std::string_view handle) {
  const bj::value* results = answer.if_contains("Results");
  if (results == nullptr || !results->is_array() || results->get_array().empty())
    return std::nullopt;
  const bj::object* chosen = nullptr;
  for (const auto& v : results->get_array()) {  // newest first; RUNNING ones carry the handle
    if (!v.is_object()) continue;
    if (chosen == nullptr) chosen = &v.get_object();
    if (json_str(v.get_object(), "TaskHandle") == handle) {
      chosen = &v.get_object();
      break;
    }
  }
  if (chosen == nullptr) return std::nullopt;
  TaskState t;
  t.status = json_str(*chosen, "Status");
  t.moved = json_int(chosen->if_contains("ApproximateNumberOfMessagesMoved")).value_or(0);
  t.to_move = json_int(chosen->if_contains("ApproximateNumberOfMessagesToMove"));
  t.failure_reason = json_str(*chosen, "FailureReason");
  return t;
}

int run_redrive(const DlqOptions& o) {
  constexpr std::string_view kCommand = "dlq redrive";
  auto stack_made = Stack::connect(o.connection, process_environment());
  if (!stack_made) {
    print_error(kCommand, stack_made.error().message);
    return 1;
  }
  Stack& stack = **stack_made;
  auto fail = [&](const StackError& e) {
    print_error(kCommand, e.message);
    return 1;
  };
  auto dlq_url = stack.queue_url(o.names.dlq);
  if (!dlq_url) return fail(dlq_url.error());
  auto dlq_attrs = stack.queue_attributes(*dlq_url, {"QueueArn", "ApproximateNumberOfMessages",
                                                     "ApproximateNumberOfMessagesNotVisible"});
  if (!dlq_attrs) return fail(dlq_attrs.error());
  auto queue_url = stack.queue_url(o.names.queue);
  if (!queue_url) return fail(queue_url.error());
  auto queue_attrs = stack.queue_attributes(*queue_url, {"QueueArn"});
  if (!queue_attrs) return fail(queue_attrs.error());
  const std::string source_arn = (*dlq_attrs)["QueueArn"];
  const std::string destination_arn = (*queue_attrs)["QueueArn"];

  auto report = [&](std::string_view status, std::int64_t moved,
                    std::optional<std::int64_t> to_move, std::string_view reason) {
    if (!o.json) return;
    print_json(bj::object{{"status", status},
                          {"moved", moved},
                          {"toMove", to_move ? bj::value(*to_move) : bj::value()},
                          {"failureReason", reason.empty() ? bj::value() : bj::value(reason)},
                          {"sourceArn", source_arn},
                          {"destinationArn", destination_arn}});
  };

  bj::value visible_text((*dlq_attrs)["ApproximateNumberOfMessages"]);
  bj::value in_flight_text((*dlq_attrs)["ApproximateNumberOfMessagesNotVisible"]);
  const std::int64_t visible = json_int(&visible_text).value_or(0);
  const std::int64_t in_flight = json_int(&in_flight_text).value_or(0);
  if (visible == 0) {
    report("NOTHING_TO_MOVE", 0, 0, "");
    if (!o.json) {
      std::printf("nothing to redrive: %s has no visible messages", o.names.dlq.c_str());
      if (in_flight > 0)
        std::printf(" (%lld in flight: try again when they are visible)",
                    static_cast<long long>(in_flight));
      std::printf("\n");
    }
    return 0;
  }

  bj::object start{{"SourceArn", source_arn}, {"DestinationArn", destination_arn}};
  if (o.max_per_second > 0) start["MaxNumberOfMessagesPerSecond"] = o.max_per_second;
  auto started = stack.json_call("sqs", "AmazonSQS.StartMessageMoveTask", start);
  if (!started) return fail(started.error());
  const std::string handle = json_str(*started, "TaskHandle");

  Progress progress(stderr_is_terminal());
  const auto began = std::chrono::steady_clock::now();
  TaskState task;
  for (;;) {
    auto listed = stack.json_call("sqs", "AmazonSQS.ListMessageMoveTasks",
                                  {{"SourceArn", source_arn}, {"MaxResults", 10}});
    if (!listed) {
      progress.finish();
      return fail(listed.error());
    }
    if (auto t = task_of(*listed, handle)) task = std::move(*t);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    progress.update(
        progress_line(task.moved, task.to_move,
                      seconds > 0 ? static_cast<double>(task.moved) / seconds : 0.0, "messages"),
        true);
    if (task.status == "COMPLETED" || task.status == "FAILED" || task.status == "CANCELLED") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  progress.finish();
  report(task.status, task.moved, task.to_move, task.failure_reason);
  if (task.status == "FAILED") {
    print_error(kCommand,
                "the move task failed after moving " + std::to_string(task.moved) + ": " +
                    (task.failure_reason.empty() ? "no reason given" : task.failure_reason));
    return 1;
  }
  if (task.status == "CANCELLED") {
    print_error(kCommand, "the move task was cancelled after moving " + std::to_string(task.moved));
    return 1;
  }
  if (!o.json) {
    std::printf("moved %s from %s to %s\n", plural(task.moved, "message", "messages").c_str(),
                o.names.dlq.c_str(), o.names.queue.c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

void register_dlq(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<DlqOptions>();
  CLI::App* dlq = app.add_subcommand("dlq", "Inspect and redrive the dead-letter queue");
  dlq->require_subcommand(1);

  CLI::App* list =
      dlq->add_subcommand("list", "List the DLQ's messages with the failure reason from the logs");
  list->footer(
      "The messages stay in the DLQ: they are received (hidden for at most 30 s) and made\n"
      "visible again at once. Each listing is a receive, so it adds one to RECEIVES, which also\n"
      "counts the receives on the source queue. REASON and LAST TRY come from the function's\n"
      "newest log line about the message. Times are UTC.");
  list->add_option("--limit", o->limit, "At most this many messages")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  list->add_flag("--json", o->json, "A JSON array of the messages instead of a table");
  add_resource_flags(*list, o->names, kDlqFlag | kFunctionFlag | kLogGroupFlag);
  add_connection_flags(*list, o->connection);
  list->callback([o, &exit_code] { exit_code = run_list(*o); });

  CLI::App* redrive = dlq->add_subcommand(
      "redrive", "Move the DLQ's messages back to the order queue (a message move task)");
  redrive->footer(
      "Starts StartMessageMoveTask from the DLQ to --queue and follows it with\n"
      "ListMessageMoveTasks until it is COMPLETED (exit 0), FAILED or CANCELLED (exit 1).\n"
      "Interrupting the command does not stop the task.");
  redrive
      ->add_option("--max-per-second", o->max_per_second,
                   "Move at most N messages per second (default: as fast as the service goes)")
      ->check(CLI::Range(1, 500));
  redrive->add_flag("--json", o->json, "Print the task's outcome as JSON");
  add_resource_flags(*redrive, o->names, kQueueFlag | kDlqFlag);
  add_connection_flags(*redrive, o->connection);
  redrive->callback([o, &exit_code] { exit_code = run_redrive(*o); });
}

}  // namespace orderflow::cli
