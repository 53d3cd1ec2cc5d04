#include "server/metrics.h"

#include <cstdio>
#include <utility>

namespace orderflow::server {
namespace {

std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

class Writer {
 public:
  // Writes # HELP and # TYPE once per metric name.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              double value) {
    out_ += name;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        out_ += escape_label(v);
        out_ += '"';
      }
      out_ += '}';
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, " %.17g\n", value);
    out_ += buf;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string render_metrics(engine::Engine& engine) {
  Writer w;
  // Queues.
  std::vector<std::pair<std::string, engine::QueueCounts>> queues;
  if (auto names = engine.queues().list_queues("")) {
    for (const auto& name : *names)
      if (auto c = engine.queues().counts(name)) queues.emplace_back(name, *c);
  }
  w.family("orderflow_queue_messages", "gauge", "Messages in a queue by state.");
  for (const auto& [name, c] : queues) {
    w.sample("orderflow_queue_messages", {{"queue", name}, {"state", "visible"}}, static_cast<double>(c.visible));
    w.sample("orderflow_queue_messages", {{"queue", name}, {"state", "in_flight"}},
             static_cast<double>(c.not_visible));
    w.sample("orderflow_queue_messages", {{"queue", name}, {"state", "delayed"}}, static_cast<double>(c.delayed));
  }
  // Topics.
  w.family("orderflow_topic_messages_published_total", "counter", "Messages published to a topic since start.");
  for (const auto& [arn, count] : engine.topics().published_counts())
    w.sample("orderflow_topic_messages_published_total", {{"topic", arn.substr(arn.rfind(':') + 1)}},
             static_cast<double>(count));
  // Tables.
  w.family("orderflow_table_items", "gauge", "Items in a table.");
  for (const auto& d : engine::describe_all_tables(engine))
    w.sample("orderflow_table_items", {{"table", d.table_name}}, static_cast<double>(d.item_count));
  // Functions.
  engine::Functions& fns = engine.lambda().functions();
  std::vector<std::pair<std::string, engine::Functions::Stats>> stats;
  for (const auto& name : fns.function_names()) stats.emplace_back(name, fns.stats(name));
  struct FnMetric {
    std::string_view name, type, help;
    double (*get)(const engine::Functions::Stats&);
  };
  static constexpr FnMetric kFn[] = {
      {"orderflow_function_workers", "gauge", "Function worker processes alive.",
       [](const engine::Functions::Stats& s) { return static_cast<double>(s.workers); }},
      {"orderflow_function_busy_workers", "gauge", "Workers running an invocation.",
       [](const engine::Functions::Stats& s) { return static_cast<double>(s.busy); }},
      {"orderflow_function_queued_invocations", "gauge", "Invocations waiting for a worker.",
       [](const engine::Functions::Stats& s) { return static_cast<double>(s.queued); }},
      {"orderflow_function_invocations_total", "counter", "Invocations ended, any outcome.",
       [](const engine::Functions::Stats& s) { return static_cast<double>(s.invocations); }},
      {"orderflow_function_errors_total", "counter", "Invocations that failed (error, timeout, crash).",
       [](const engine::Functions::Stats& s) { return static_cast<double>(s.errors); }},
      {"orderflow_function_timeouts_total", "counter", "Invocations that timed out.",
       [](const engine::Functions::Stats& s) { return static_cast<double>(s.timeouts); }},
      {"orderflow_function_crashes_total", "counter", "Invocations whose worker exited.",
       [](const engine::Functions::Stats& s) { return static_cast<double>(s.crashes); }},
      {"orderflow_function_workers_started_total", "counter", "Worker processes started.",
       [](const engine::Functions::Stats& s) { return static_cast<double>(s.started); }},
      {"orderflow_function_duration_seconds_total", "counter", "Sum of invocation durations.",
       [](const engine::Functions::Stats& s) { return static_cast<double>(s.total_duration.count()) / 1000.0; }},
  };
  for (const auto& m : kFn) {
    w.family(m.name, m.type, m.help);
    for (const auto& [name, s] : stats) w.sample(m.name, {{"function", name}}, m.get(s));
  }
  // Event source mappings.
  auto mappings = engine.lambda().mappings();
  struct EsmMetric {
    std::string_view name, type, help;
    double (*get)(const engine::EventSourceMapping::Stats&);
  };
  static constexpr EsmMetric kEsm[] = {
      {"orderflow_event_source_mapping_invocations_total", "counter", "Batches handed to the function.",
       [](const engine::EventSourceMapping::Stats& s) { return static_cast<double>(s.invocations); }},
      {"orderflow_event_source_mapping_messages_deleted_total", "counter", "Messages deleted after success.",
       [](const engine::EventSourceMapping::Stats& s) { return static_cast<double>(s.messages_deleted); }},
      {"orderflow_event_source_mapping_failed_batches_total", "counter", "Batches of which nothing was deleted.",
       [](const engine::EventSourceMapping::Stats& s) { return static_cast<double>(s.failed_batches); }},
      {"orderflow_event_source_mapping_in_flight", "gauge", "Invocations in flight.",
       [](const engine::EventSourceMapping::Stats& s) { return static_cast<double>(s.in_flight); }},
  };
  for (const auto& m : kEsm) {
    w.family(m.name, m.type, m.help);
    for (const auto& info : mappings)
      w.sample(m.name, {{"uuid", info.uuid}, {"queue", info.config.queue}, {"function", info.config.function}},
               m.get(info.stats));
  }
  // Embedded Metric Format: what the functions reported, as CloudWatch would aggregate it.
  // One series per namespace, metric, unit and dimension values ("k=v,k=v" in the directive's
  // order).
  auto emf = engine.metrics().emf();
  std::vector<std::string> dims(emf.size());
  for (std::size_t i = 0; i < emf.size(); ++i)
    for (const auto& [k, v] : emf[i].dimensions) dims[i] += (dims[i].empty() ? "" : ",") + k + "=" + v;
  struct EmfMetric {
    std::string_view name, type, help;
    double (*get)(const engine::EmfAggregate&);
  };
  static constexpr EmfMetric kEmf[] = {
      {"orderflow_emf_count", "counter", "Embedded Metric Format values printed by functions.",
       [](const engine::EmfAggregate& a) { return static_cast<double>(a.count); }},
      {"orderflow_emf_sum", "counter", "Sum of the Embedded Metric Format values.",
       [](const engine::EmfAggregate& a) { return a.sum; }},
      {"orderflow_emf_min", "gauge", "Smallest Embedded Metric Format value.",
       [](const engine::EmfAggregate& a) { return a.min; }},
      {"orderflow_emf_max", "gauge", "Largest Embedded Metric Format value.",
       [](const engine::EmfAggregate& a) { return a.max; }},
  };
  for (const auto& m : kEmf) {
    w.family(m.name, m.type, m.help);
    for (std::size_t i = 0; i < emf.size(); ++i)
      w.sample(m.name,
               {{"namespace", emf[i].name_space}, {"metric", emf[i].metric}, {"unit", emf[i].unit},
                {"dimensions", dims[i]}},
               m.get(emf[i]));
  }
  return w.take();
}

void respond_metrics(engine::Engine& engine, const aws::HttpRequest& req, const Respond& respond) {
  ApiResponse r;
  r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  r.body = req.method == "HEAD" ? "" : render_metrics(engine);
  respond(std::move(r));
}

}  // namespace orderflow::server
