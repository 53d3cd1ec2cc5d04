// `orderflow logs [--follow] [--filter TERM] [--since 1h]`: the function's log group, read
// with CloudWatch Logs FilterLogEvents (Logs_20140328, JSON 1.1), as `aws logs tail` does:
// the events since a time, oldest first, each printed as "<timestamp> <stream> <message>";
// --follow polls every second from the newest timestamp seen, dropping events already shown
// (by eventId), until SIGINT or SIGTERM.
//
// The pure pieces are here for tests; filter_log_events is shared with `dlq list`.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cli/stack_client.h"

namespace orderflow::cli {

// "90s", "10m", "1h", "2d", "1w" and sums of them ("1h30m"); a bare number is seconds.
// nullopt for anything else (empty, negative, unknown unit, overflow past 10 years).
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

struct LogEvent {
  std::int64_t timestamp = 0;       // ms since the epoch
  std::int64_t ingestion_time = 0;  // ms since the epoch; 0 when absent
  std::string stream;
  std::string message;
  std::string event_id;
};

// The events of a FilterLogEvents answer ("events": [...]); members missing or of the wrong
// type are left empty.
std::vector<LogEvent> events_of(const boost::json::object& answer);

// Remembers which events were shown, so polls that overlap (startTime = newest timestamp
// seen, inclusive) print each event once. Events without an id are keyed by their timestamp,
// stream and message. Memory is bounded: ids older than the newest timestamp minus `horizon`
// are forgotten (a poll never asks for them again).
class EventDeduper {
 public:
  explicit EventDeduper(std::chrono::milliseconds horizon = std::chrono::minutes(5))
      : horizon_ms_(horizon.count()) {}

  // True the first time an event is offered.
  bool first_time(const LogEvent& e);
  // The newest timestamp offered so far (0 before any).
  std::int64_t newest() const { return newest_; }
  std::size_t remembered() const { return by_time_.size(); }

 private:
  std::int64_t horizon_ms_;
  std::int64_t newest_ = 0;
  std::set<std::string> seen_;
  std::multimap<std::int64_t, std::string> by_time_;
};

// "<timestamp> <stream> <message>" without the message's trailing newline.
std::string format_event(const LogEvent& e);

struct FilterRequest {
  std::string log_group;
  std::string filter_pattern;      // empty: every event
  std::int64_t start_time_ms = 0;  // 0: none
  std::size_t max_pages = 10000;
};

// FilterLogEvents over all pages, calling `on_page` with each page's events (oldest first).
// A missing log group is ResourceNotFoundException with a message naming it.
StackResult<void> filter_log_events(Stack& stack, const FilterRequest& request,
                                    const std::function<void(std::vector<LogEvent>)>& on_page);

}  // namespace orderflow::cli
