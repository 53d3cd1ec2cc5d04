#include "engine/metrics.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "engine/engine.h"

namespace orderflow::engine {
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxEmfMetrics = 100;    // per directive (CloudWatch's limit)
constexpr std::size_t kMaxEmfDimensions = 30;  // per dimension set
constexpr std::size_t kMaxEmfValues = 100;     // per metric
constexpr std::string_view kLambdaGroupPrefix = "/aws/lambda/";

std::optional<double> number_of(const json::value& v) {
  if (v.is_double()) return std::isfinite(v.get_double()) ? std::optional(v.get_double()) : std::nullopt;
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

// The values under a metric's name: a number or a non-empty array of numbers.
std::optional<std::vector<double>> values_of(const json::value* v) {
  if (!v) return std::nullopt;
  if (auto n = number_of(*v)) return std::vector<double>{*n};
  if (!v->is_array() || v->get_array().empty() || v->get_array().size() > kMaxEmfValues) return std::nullopt;
  std::vector<double> out;
  for (const auto& e : v->get_array()) {
    auto n = number_of(e);
    if (!n) return std::nullopt;
    out.push_back(*n);
  }
  return out;
}

// One directive's data, or nothing when it is not valid EMF.
std::vector<EmfDatum> directive_data(const json::object& root, const json::value& directive) {
  if (!directive.is_object()) return {};
  const auto& d = directive.get_object();
  const auto* ns = d.if_contains("Namespace");
  const auto* dims = d.if_contains("Dimensions");
  const auto* metrics = d.if_contains("Metrics");
  if (!ns || !ns->is_string() || ns->get_string().empty() || ns->get_string().size() > 1024) return {};
  if (!dims || !dims->is_array() || !metrics || !metrics->is_array()) return {};
  if (metrics->get_array().size() > kMaxEmfMetrics) return {};
  std::vector<std::vector<std::pair<std::string, std::string>>> sets;
  for (const auto& set : dims->get_array()) {
    if (!set.is_array() || set.get_array().size() > kMaxEmfDimensions) return {};
    std::vector<std::pair<std::string, std::string>> one;
    for (const auto& name : set.get_array()) {
      if (!name.is_string()) return {};
      const auto* value = root.if_contains(name.get_string());
      if (!value || !value->is_string()) return {};
      one.emplace_back(std::string(name.get_string()), std::string(value->get_string()));
    }
    sets.push_back(std::move(one));
  }
  if (sets.empty()) sets.emplace_back();  // no dimension sets: the metric without dimensions
  std::vector<EmfDatum> out;
  for (const auto& m : metrics->get_array()) {
    if (!m.is_object()) return {};
    const auto* name = m.get_object().if_contains("Name");
    if (!name || !name->is_string() || name->get_string().empty() || name->get_string().size() > 1024) return {};
    std::string unit = "None";
    if (const auto* u = m.get_object().if_contains("Unit")) {
      if (!u->is_string()) return {};
      unit = std::string(u->get_string());
    }
    auto values = values_of(root.if_contains(name->get_string()));
    if (!values) return {};
    for (const auto& set : sets)
      for (double v : *values)
        out.push_back(EmfDatum{std::string(ns->get_string()), std::string(name->get_string()), unit, set, v});
  }
  return out;
}

std::string emf_key(const EmfDatum& d) {
  std::string key = d.name_space + '\x1f' + d.metric + '\x1f' + d.unit;
  for (const auto& [k, v] : d.dimensions) key += '\x1f' + k + '\x1e' + v;
  return key;
}

}  // namespace

std::vector<EmfDatum> parse_emf(std::string_view line) {
  // Cheap reject first: most lines are not EMF.
  if (line.find("\"_aws\"") == std::string_view::npos) return {};
  std::size_t start = line.find('{');
  if (start == std::string_view::npos) return {};
  boost::system::error_code ec;
  json::value doc = json::parse(line.substr(start), ec);
  if (ec || !doc.is_object()) return {};
  const auto& root = doc.get_object();
  const auto* aws = root.if_contains("_aws");
  if (!aws || !aws->is_object()) return {};
  const auto* ts = aws->get_object().if_contains("Timestamp");
  const auto* directives = aws->get_object().if_contains("CloudWatchMetrics");
  if (!ts || !number_of(*ts) || !directives || !directives->is_array()) return {};
  std::vector<EmfDatum> out;
  for (const auto& d : directives->get_array()) {
    auto data = directive_data(root, d);
    out.insert(out.end(), std::make_move_iterator(data.begin()), std::make_move_iterator(data.end()));
  }
  return out;
}

std::optional<double> report_duration_ms(std::string_view line) {
  if (!line.starts_with("REPORT RequestId: ")) return std::nullopt;
  constexpr std::string_view kDuration = "\tDuration: ";
  std::size_t at = line.find(kDuration);
  if (at == std::string_view::npos) return std::nullopt;
  std::string text(line.substr(at + kDuration.size(), 32));
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(v) || v < 0) return std::nullopt;
  return v;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

void Metrics::write(std::string_view group, std::string_view stream, TimePoint time, std::string_view message) {
  if (group.starts_with(kLambdaGroupPrefix)) {
    std::string_view function = group.substr(kLambdaGroupPrefix.size());
    auto duration = report_duration_ms(message);
    auto data = parse_emf(message);
    std::lock_guard g(mu_);
    if (duration) {
      auto& d = durations_[std::string(function)];
      if (d.size() < 100'000) d.push_back(*duration);  // bounded if nobody samples
    }
    for (const auto& datum : data) {
      std::string key = emf_key(datum);
      auto it = emf_.find(key);
      if (it == emf_.end()) {
        if (emf_.size() >= options_.emf_series) continue;
        EmfAggregate a{datum.name_space, datum.metric, datum.unit, datum.dimensions, 0, 0, datum.value, datum.value};
        it = emf_.emplace(std::move(key), std::move(a)).first;
      }
      EmfAggregate& a = it->second;
      ++a.count;
      a.sum += datum.value;
      a.min = std::min(a.min, datum.value);
      a.max = std::max(a.max, datum.value);
    }
    logs_.push_back(FunctionLogLine{++log_seq_, std::string(function), std::string(stream), to_epoch_ms(time),
                                    std::string(message)});
    while (logs_.size() > options_.log_lines) logs_.pop_front();
  }
  next_.write(group, stream, time, message);
}

std::vector<EmfAggregate> Metrics::emf() const {
  std::lock_guard g(mu_);
  std::vector<EmfAggregate> out;
  out.reserve(emf_.size());
  for (const auto& [k, a] : emf_) out.push_back(a);
  return out;
}

std::vector<FunctionLogLine> Metrics::logs_after(std::uint64_t after, std::size_t max) const {
  std::lock_guard g(mu_);
  std::vector<FunctionLogLine> out;
  auto it = std::partition_point(logs_.begin(), logs_.end(), [&](const FunctionLogLine& l) { return l.seq <= after; });
  for (; it != logs_.end() && out.size() < max; ++it) out.push_back(*it);
  return out;
}

std::uint64_t Metrics::last_log_seq() const {
  std::lock_guard g(mu_);
  return log_seq_;
}

std::vector<double> Metrics::take_durations(std::string_view function) {
  std::lock_guard g(mu_);
  auto it = durations_.find(function);
  if (it == durations_.end()) return {};
  return std::exchange(it->second, {});
}

void Metrics::add_sample(MetricsSample sample) {
  std::lock_guard g(mu_);
  history_.push_back(std::move(sample));
  while (history_.size() > options_.history) history_.pop_front();
}

std::vector<MetricsSample> Metrics::history(std::int64_t since) const {
  std::lock_guard g(mu_);
  std::vector<MetricsSample> out;
  for (const auto& s : history_)
    if (s.time > since) out.push_back(s);
  return out;
}

std::optional<MetricsSample> Metrics::latest() const {
  std::lock_guard g(mu_);
  if (history_.empty()) return std::nullopt;
  return history_.back();
}

std::vector<TableDescription> describe_all_tables(Engine& engine) {
  std::vector<TableDescription> out;
  std::optional<std::string> start;
  for (int pages = 0; pages < 100; ++pages) {
    ListTablesRequest req;
    req.exclusive_start_table_name = start;
    auto page = engine.tables().list_tables(req);
    if (!page) break;
    for (const auto& t : page->table_names)
      if (auto d = engine.tables().describe_table(t)) out.push_back(std::move(*d));
    if (!page->last_evaluated_table_name) break;
    start = page->last_evaluated_table_name;
  }
  return out;
}

MetricsSample sample_engine(Engine& engine, Metrics& metrics, SampleState& state) {
  MetricsSample s;
  s.time = to_epoch_ms(engine.clock().now());
  // A counter's increase since the previous sample. The counters of topics, functions and
  // mappings count from the process's start, so the first time one is seen all of it is new;
  // a table's item count survives restarts, so its first sight is no increase (not the whole
  // table as one spike).
  auto delta = [&](const std::string& key, double total, bool persistent = false) {
    auto [it, fresh] = state.totals.try_emplace(key, persistent ? total : 0.0);
    double d = std::max(0.0, total - it->second);
    it->second = total;
    return d;
  };
  if (auto names = engine.queues().list_queues("")) {
    for (const auto& q : *names) {
      auto c = engine.queues().counts(q);
      if (!c) continue;
      s.values["queue:" + q + ":visible"] = static_cast<double>(c->visible);
      s.values["queue:" + q + ":in_flight"] = static_cast<double>(c->not_visible);
      s.values["queue:" + q + ":delayed"] = static_cast<double>(c->delayed);
    }
  }
  for (const auto& [arn, count] : engine.topics().published_counts()) {
    std::string name = arn.substr(arn.rfind(':') + 1);
    s.values["topic:" + name + ":published"] = delta("topic:" + arn, static_cast<double>(count));
  }
  for (const auto& d : describe_all_tables(engine)) {
    auto items = static_cast<double>(d.item_count);
    s.values["table:" + d.table_name + ":items"] = items;
    s.values["table:" + d.table_name + ":stored"] = delta("table:" + d.table_name, items, /*persistent=*/true);
  }
  Functions& fns = engine.lambda().functions();
  for (const auto& f : fns.function_names()) {
    auto st = fns.stats(f);
    s.values["function:" + f + ":invocations"] = delta("fn.inv:" + f, static_cast<double>(st.invocations));
    s.values["function:" + f + ":errors"] = delta("fn.err:" + f, static_cast<double>(st.errors));
    s.values["function:" + f + ":busy"] = st.busy;
    s.values["function:" + f + ":workers"] = st.workers;
    auto durations = metrics.take_durations(f);
    if (!durations.empty()) {
      s.values["function:" + f + ":p50_ms"] = percentile(durations, 50);
      s.values["function:" + f + ":p99_ms"] = percentile(std::move(durations), 99);
    }
  }
  // Event source mappings, named by their queue: batches, messages deleted after success,
  // failed batches (each per second) and invocations in flight.
  for (const auto& m : engine.lambda().mappings()) {
    const std::string k = "mapping:" + m.config.queue + ":";
    s.values[k + "batches"] = delta("esm.inv:" + m.uuid, static_cast<double>(m.stats.invocations));
    s.values[k + "deleted"] = delta("esm.del:" + m.uuid, static_cast<double>(m.stats.messages_deleted));
    s.values[k + "failed_batches"] = delta("esm.fail:" + m.uuid, static_cast<double>(m.stats.failed_batches));
    s.values[k + "in_flight"] = m.stats.in_flight;
  }
  return s;
}

}  // namespace orderflow::engine
