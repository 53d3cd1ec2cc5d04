// The engine's metrics, for the dashboard and GET /metrics: what CloudWatch would hold for this
// stack, kept in memory.
//
//  - Embedded Metric Format. Every line a function prints goes through Metrics (a LogSink that
//    forwards to CloudWatch Logs). A line that is an EMF document becomes metrics as CloudWatch
//    turns it into metrics: for each CloudWatchMetrics directive, each dimension set and each
//    metric it names, one datum per value (a number or an array of numbers at the root, under
//    the metric's name) in the directive's Namespace, with the dimension set's values (strings
//    at the root) and the declared Unit ("None" when absent). A directive that is not valid EMF
//    (no Namespace, a dimension without a value, a metric without a numeric value, more than
//    100 metrics or 30 dimensions) contributes nothing, as CloudWatch rejects it; the line is
//    still logged. Aggregates (count, sum, min, max) are kept per namespace, metric, dimension
//    values and unit for the life of the process.
//  - Function durations. The platform's REPORT lines give each invocation's duration; they are
//    collected per function until the next sample takes them (p50/p99 per second).
//  - Recent log lines of functions (groups /aws/lambda/...): the newest `log_lines` lines with
//    a sequence number, for a live tail.
//  - History: one sample per second (sample_engine(), run by the Engine's sampler thread),
//    `history` samples kept (15 minutes): for every queue its visible/in flight/delayed counts,
//    for every topic the messages published in the second, for every table its item count and
//    the items added in the second, for every function its invocations, errors, busy and live
//    workers in the second and the p50/p99 duration of the invocations that ended in it, for
//    every event source mapping (named by its queue) the batches, messages deleted and failed
//    batches in the second and the invocations in flight.
//    Series are named "<kind>:<resource>:<measure>", e.g. "queue:OrderQueue-CF:visible".
//
// Thread-safety: every method is thread-safe; one mutex guards the state. write() is called by
// the functions service without its own lock held, and forwards to `next` outside the mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "engine/functions.h"
#include "engine/tables.h"

namespace orderflow::engine {

class Engine;

// One metric value from an EMF line.
struct EmfDatum {
  std::string name_space;
  std::string metric;
  std::string unit;                                              // "None" when not declared
  std::vector<std::pair<std::string, std::string>> dimensions;  // in the directive's order
  double value = 0;
};

// The data of an EMF line; empty when the line is not EMF or carries nothing valid.
std::vector<EmfDatum> parse_emf(std::string_view line);

// The Duration of a platform REPORT line, in milliseconds.
std::optional<double> report_duration_ms(std::string_view line);

struct EmfAggregate {
  std::string name_space, metric, unit;
  std::vector<std::pair<std::string, std::string>> dimensions;
  std::uint64_t count = 0;
  double sum = 0, min = 0, max = 0;
};

struct FunctionLogLine {
  std::uint64_t seq = 0;  // 1, 2, ... in the order written
  std::string function;   // from the group /aws/lambda/<function>
  std::string stream;
  std::int64_t timestamp = 0;  // epoch ms
  std::string message;
};

struct MetricsSample {
  std::int64_t time = 0;                   // epoch ms
  std::map<std::string, double> values;  // series name -> value
};

struct MetricsOptions {
  std::size_t history = 900;     // samples kept (15 minutes at one per second)
  std::size_t log_lines = 1000;  // recent function log lines kept
  std::size_t emf_series = 10'000;  // distinct EMF aggregates kept; data beyond are dropped
};

class Metrics final : public LogSink {
 public:
  // `next` receives every line, unchanged; it must outlive Metrics.
  Metrics(LogSink& next, MetricsOptions options = {}) : next_(next), options_(options) {}

  void write(std::string_view group, std::string_view stream, TimePoint time, std::string_view message) override;

  std::vector<EmfAggregate> emf() const;
  // Function log lines with seq > after, oldest first, at most `max`.
  std::vector<FunctionLogLine> logs_after(std::uint64_t after, std::size_t max) const;
  std::uint64_t last_log_seq() const;
  // The durations (ms) of the function's invocations that ended since the last call.
  std::vector<double> take_durations(std::string_view function);

  void add_sample(MetricsSample sample);
  // Samples with time > since, oldest first.
  std::vector<MetricsSample> history(std::int64_t since = 0) const;
  std::optional<MetricsSample> latest() const;

 private:
  LogSink& next_;
  MetricsOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, EmfAggregate, std::less<>> emf_;                  // guarded by mu_
  std::map<std::string, std::vector<double>, std::less<>> durations_;     // guarded by mu_
  std::deque<FunctionLogLine> logs_;                                      // guarded by mu_
  std::uint64_t log_seq_ = 0;                                             // guarded by mu_
  std::deque<MetricsSample> history_;                                     // guarded by mu_
};

// Per-resource counters that the sample turns into rates.
struct SampleState {
  std::map<std::string, double, std::less<>> totals;  // "topic:<arn>" -> published so far, ...
};

// Reads the engine's gauges and counters into one sample (see "History" above); `state` carries
// the previous totals so that counters become per-interval deltas.
MetricsSample sample_engine(Engine& engine, Metrics& metrics, SampleState& state);

// The description of every table (ListTables page by page), for the samples and /metrics.
std::vector<TableDescription> describe_all_tables(Engine& engine);

// p-th percentile (0..100) by nearest rank; NaN for an empty set.
double percentile(std::vector<double> values, double p);

}  // namespace orderflow::engine
