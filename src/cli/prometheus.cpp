#include "cli/prometheus.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace orderflow::cli {

namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

void skip_spaces(std::string_view& s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
}

std::optional<std::string> read_name(std::string_view& s) {
  if (s.empty() || !is_name_start(s.front())) return std::nullopt;
  std::size_t n = 1;
  while (n < s.size() && is_name_char(s[n])) ++n;
  std::string name(s.substr(0, n));
  s.remove_prefix(n);
  return name;
}

// A quoted label value with its escapes; `s` starts after the opening quote.
std::optional<std::string> read_label_value(std::string_view& s) {
  std::string out;
  while (!s.empty()) {
    char c = s.front();
    s.remove_prefix(1);
    if (c == '"') return out;
    if (c == '\\') {
      if (s.empty()) return std::nullopt;
      char e = s.front();
      s.remove_prefix(1);
      out += e == 'n' ? '\n' : e;  // \\ and \" stand for themselves
    } else {
      out += c;
    }
  }
  return std::nullopt;  // unterminated
}

std::optional<double> read_value(std::string_view token) {
  if (token == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (token == "+Inf" || token == "Inf") return std::numeric_limits<double>::infinity();
  if (token == "-Inf") return -std::numeric_limits<double>::infinity();
  if (token.empty() || token.size() > 64) return std::nullopt;
  std::string text(token);
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  // strtod also reads hex floats and "inf"/"nan" spellings the format does not have.
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) {
      return std::nullopt;
    }
  }
  return v;
}

}  // namespace

std::optional<MetricSample> parse_metric_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  skip_spaces(line);
  if (line.empty() || line.front() == '#') return std::nullopt;
  MetricSample sample;
  auto name = read_name(line);
  if (!name) return std::nullopt;
  sample.name = std::move(*name);
  skip_spaces(line);
  if (!line.empty() && line.front() == '{') {
    line.remove_prefix(1);
    for (;;) {
      skip_spaces(line);
      if (!line.empty() && line.front() == '}') {
        line.remove_prefix(1);
        break;
      }
      auto label = read_name(line);
      if (!label) return std::nullopt;
      skip_spaces(line);
      if (line.empty() || line.front() != '=') return std::nullopt;
      line.remove_prefix(1);
      skip_spaces(line);
      if (line.empty() || line.front() != '"') return std::nullopt;
      line.remove_prefix(1);
      auto value = read_label_value(line);
      if (!value) return std::nullopt;
      sample.labels[*label] = std::move(*value);
      skip_spaces(line);
      if (!line.empty() && line.front() == ',')
        line.remove_prefix(1);
      else if (line.empty() || line.front() != '}')
        return std::nullopt;
    }
  }
  skip_spaces(line);
  std::string_view token = line.substr(0, line.find_first_of(" \t"));
  auto value = read_value(token);
  if (!value) return std::nullopt;
  sample.value = *value;
  line.remove_prefix(token.size());
  skip_spaces(line);
  if (!line.empty()) {  // an optional integer timestamp, nothing else
    for (char c : line) {
      if (!((c >= '0' && c <= '9') || c == '-')) return std::nullopt;
    }
  }
  return sample;
}

std::vector<MetricSample> parse_metrics(std::string_view text) {
  std::vector<MetricSample> out;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (auto s = parse_metric_line(line)) out.push_back(std::move(*s));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

std::optional<double> find_metric(const std::vector<MetricSample>& samples, std::string_view name,
                                  const std::map<std::string, std::string>& labels) {
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) {
        match = false;
        break;
      }
    }
    if (match) return s.value;
  }
  return std::nullopt;
}

}  // namespace orderflow::cli
