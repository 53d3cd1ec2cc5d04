#include "cli/logs.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <ctime>
#include <deque>
#include <memory>

#include "cli/commands.h"
#include "cli/output.h"

namespace orderflow::cli {

namespace bj = boost::json;

// ---- Pure pieces -----------------------------------------------------------------------

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  constexpr std::int64_t kMax = 10LL * 366 * 24 * 3600;
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t n = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > kMax) return std::nullopt;
      ++i;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    std::int64_t unit = 1;
    if (i < text.size()) {
      switch (text[i]) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        case 'w':
          unit = 7 * 86400;
          break;
        default:
          return std::nullopt;
      }
      ++i;
    } else if (total != 0) {
      return std::nullopt;  // "1h30": a bare number only on its own
    }
    total += n * unit;
    if (total > kMax) return std::nullopt;
  }
  return std::chrono::seconds(total);
}

std::vector<LogEvent> events_of(const bj::object& answer) {
  std::vector<LogEvent> out;
  const bj::value* events = answer.if_contains("events");
  if (events == nullptr || !events->is_array()) return out;
  for (const auto& v : events->get_array()) {
    if (!v.is_object()) continue;
    const auto& o = v.get_object();
    LogEvent e;
    e.timestamp = json_int(o.if_contains("timestamp")).value_or(0);
    e.ingestion_time = json_int(o.if_contains("ingestionTime")).value_or(0);
    e.stream = json_str(o, "logStreamName");
    e.message = json_str(o, "message");
    e.event_id = json_str(o, "eventId");
    out.push_back(std::move(e));
  }
  return out;
}

bool EventDeduper::first_time(const LogEvent& e) {
  std::string key = !e.event_id.empty()
                        ? e.event_id
                        : std::to_string(e.timestamp) + '\0' + e.stream + '\0' + e.message;
  if (!seen_.insert(key).second) return false;
  by_time_.emplace(e.timestamp, std::move(key));
  if (e.timestamp > newest_) newest_ = e.timestamp;
  // Forget what no later poll can return again.
  while (!by_time_.empty() && by_time_.begin()->first < newest_ - horizon_ms_) {
    seen_.erase(by_time_.begin()->second);
    by_time_.erase(by_time_.begin());
  }
  return true;
}

std::string format_event(const LogEvent& e) {
  std::string_view message = e.message;
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r'))
    message.remove_suffix(1);
  return format_epoch_ms(e.timestamp) + " " + e.stream + " " + std::string(message);
}

StackResult<void> filter_log_events(Stack& stack, const FilterRequest& request,
                                    const std::function<void(std::vector<LogEvent>)>& on_page) {
  std::string next;
  for (std::size_t page = 0; page < request.max_pages; ++page) {
    bj::object body{{"logGroupName", request.log_group}};
    if (!request.filter_pattern.empty()) body["filterPattern"] = request.filter_pattern;
    if (request.start_time_ms > 0) body["startTime"] = request.start_time_ms;
    if (!next.empty()) body["nextToken"] = next;
    auto r = stack.json_call("logs", "Logs_20140328.FilterLogEvents", body);
    if (!r) {
      StackError e = r.error();
      if (e.is({"ResourceNotFoundException"})) {
        e.message =
            "log group " + request.log_group + " does not exist (has the function run yet?)";
      }
      return std::unexpected(std::move(e));
    }
    on_page(events_of(*r));
    std::string token = json_str(*r, "nextToken");
    if (token.empty() || token == next) break;
    next = std::move(token);
  }
  return {};
}

// ---- The command -----------------------------------------------------------------------

namespace {

constexpr std::string_view kCommand = "logs";

struct LogsOptions {
  ConnectionOptions connection;
  ResourceNames names;
  bool follow = false;
  std::string filter;
  std::string since = "1h";
  std::size_t limit = 0;
  bool json = false;
};

bj::object event_json(const LogEvent& e) {
  return bj::object{{"timestamp", e.timestamp},
                    {"time", format_epoch_ms(e.timestamp)},
                    {"logStreamName", e.stream},
                    {"message", e.message},
                    {"eventId", e.event_id}};
}

void print_event(const LogEvent& e, bool json_lines) {
  if (json_lines) {
    print_json(event_json(e));
    return;
  }
  std::string line = format_event(e) + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int run_logs(const LogsOptions& o) {
  auto since = parse_duration(o.since);  // checked by the option's validator
  auto stack = Stack::connect(o.connection, process_environment());
  if (!stack) {
    print_error(kCommand, stack.error().message);
    return 1;
  }
  // With --follow, SIGINT and SIGTERM are taken synchronously (sigtimedwait is the poll's
  // pause), so the command ends cleanly with exit code 0.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  if (o.follow) pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  FilterRequest request;
  request.log_group = o.names.function_log_group();
  request.filter_pattern = o.filter;
  request.start_time_ms =
      now_ms() - std::chrono::milliseconds(since.value_or(std::chrono::hours(1))).count();

  EventDeduper seen;
  std::deque<LogEvent> shown;  // the initial events, the last `limit` of them
  auto first = filter_log_events(**stack, request, [&](std::vector<LogEvent> page) {
    for (auto& e : page) {
      if (!seen.first_time(e)) continue;
      shown.push_back(std::move(e));
      if (o.limit > 0 && shown.size() > o.limit) shown.pop_front();
    }
  });
  if (!first) {
    print_error(kCommand, first.error().message);
    return 1;
  }
  if (o.json && !o.follow) {
    bj::array list;
    for (const auto& e : shown) list.push_back(event_json(e));
    print_json(list);
    return 0;
  }
  for (const auto& e : shown) print_event(e, o.json);
  std::fflush(stdout);
  if (!o.follow) return 0;

  for (;;) {
    timespec pause{1, 0};
    if (sigtimedwait(&stop_signals, nullptr, &pause) > 0) return 0;
    if (seen.newest() > 0) request.start_time_ms = seen.newest();
    auto polled = filter_log_events(**stack, request, [&](std::vector<LogEvent> page) {
      for (const auto& e : page) {
        if (seen.first_time(e)) print_event(e, o.json);
      }
      std::fflush(stdout);
    });
    if (!polled) {
      print_error(kCommand, polled.error().message);
      return 1;
    }
  }
}

}  // namespace

void register_logs(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<LogsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "logs", "Print the function's log events (CloudWatch Logs FilterLogEvents), oldest first");
  cmd->footer(
      "Each event is printed as '<time UTC> <stream> <message>'. With --follow the log group\n"
      "is polled every second for new events until Ctrl-C (exit code 0).");
  cmd->add_flag("--follow,-f", o->follow, "Keep printing new events until Ctrl-C");
  cmd->add_option("--filter", o->filter,
                  "CloudWatch Logs filter pattern, e.g. ERROR or '\"ord-123\"'");
  cmd->add_option("--since", o->since, "How far back to start: 30s, 10m, 1h, 2d, 1h30m")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            return parse_duration(text) ? "" : "not a duration like 30s, 10m, 1h or 2d: " + text;
          },
          "DURATION"))
      ->capture_default_str();
  cmd->add_option("--limit", o->limit, "Print at most the last N events found (0: all)")
      ->capture_default_str();
  cmd->add_flag("--json", o->json,
                "A JSON array of events (with --follow: one JSON object per line)");
  add_resource_flags(*cmd, o->names, kFunctionFlag | kLogGroupFlag);
  add_connection_flags(*cmd, o->connection);
  cmd->callback([o, &exit_code] { exit_code = run_logs(*o); });
}

}  // namespace orderflow::cli
