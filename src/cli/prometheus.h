// A reader for the Prometheus text exposition format (version 0.0.4), enough to pick single
// samples out of `orderflow up`'s GET /metrics:
//
//   # HELP / # TYPE lines and other comments      ignored
//   name value [timestamp]                        a sample without labels
//   name{label="value",...} value [timestamp]     label values with \\ \" \n escapes
//
// Lines that do not parse are skipped (the reader is used for optional information and must
// not fail on a line it does not know). Values: decimal or exponent floats, NaN, +Inf, -Inf.
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderflow::cli {

struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// The sample of one line, or nullopt for comments, blank and malformed lines.
std::optional<MetricSample> parse_metric_line(std::string_view line);
// Every sample of a document.
std::vector<MetricSample> parse_metrics(std::string_view text);
// The value of the first sample named `name` whose labels include all of `labels`.
std::optional<double> find_metric(const std::vector<MetricSample>& samples, std::string_view name,
                                  const std::map<std::string, std::string>& labels = {});

}  // namespace orderflow::cli
