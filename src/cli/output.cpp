#include "cli/output.h"

#include <unistd.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <cstdio>

#include "common/util.h"

namespace orderflow::cli {

namespace bj = boost::json;

std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string truncate_to_width(std::string_view s, std::size_t width) {
  if (display_width(s) <= width) return std::string(s);
  if (width == 0) return {};
  // Keep width - 1 code points, then the ellipsis.
  std::size_t kept = 0;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (kept == width - 1) break;
      ++kept;
    }
  }
  return std::string(s.substr(0, i)) + "\xE2\x80\xA6";
}

std::string one_line(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = ' ';
  }
  return out;
}

std::string format_epoch_ms(std::int64_t epoch_ms) {
  if (epoch_ms <= 0) return "-";
  return iso8601_ms(epoch_ms);
}

std::string format_seconds(double seconds) {
  char buf[64];
  if (seconds < 10) {
    std::snprintf(buf, sizeof buf, "%.2f s", seconds);
  } else if (seconds < 120) {
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  } else {
    auto whole = static_cast<long long>(seconds);
    std::snprintf(buf, sizeof buf, "%lld min %02lld s", whole / 60, whole % 60);
  }
  return buf;
}

std::string plural(std::int64_t n, std::string_view singular, std::string_view plural_form) {
  return std::to_string(n) + " " + std::string(n == 1 ? singular : plural_form);
}

// ---- Table -----------------------------------------------------------------------------

Table::Table(std::vector<std::string> headers)
    : headers_(std::move(headers)), max_width_(headers_.size()), right_(headers_.size(), false) {}

void Table::set_max_width(std::size_t column, std::size_t width) {
  if (column < max_width_.size()) max_width_[column] = width;
}

void Table::align_right(std::size_t column) {
  if (column < right_.size()) right_[column] = true;
}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (std::size_t c = 0; c < cells.size(); ++c) {
    cells[c] = one_line(cells[c]);
    if (max_width_[c]) cells[c] = truncate_to_width(cells[c], *max_width_[c]);
  }
  rows_.push_back(std::move(cells));
}

std::string Table::render() const {
  std::vector<std::size_t> widths(headers_.size());
  for (std::size_t c = 0; c < headers_.size(); ++c) widths[c] = display_width(headers_[c]);
  for (const auto& row : rows_) {
    for (std::size_t c = 0; c < row.size(); ++c)
      widths[c] = std::max(widths[c], display_width(row[c]));
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c) line += "  ";
      std::size_t pad = widths[c] - display_width(cells[c]);
      bool last = c + 1 == cells.size();
      if (right_[c]) line.append(pad, ' ');
      line += cells[c];
      if (!right_[c] && !last) line.append(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  emit(headers_);
  for (const auto& row : rows_) emit(row);
  return out;
}

// ---- JSON ------------------------------------------------------------------------------

void print_json(const bj::value& document) {
  std::string text = bj::serialize(document);
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

namespace {

void pretty(const bj::value& v, std::string& out, int depth) {
  auto newline = [&](int d) {
    out += '\n';
    out.append(static_cast<std::size_t>(d) * 2, ' ');
  };
  if (v.is_object()) {
    const auto& o = v.get_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    bool first = true;
    for (const auto& member : o) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      out += bj::serialize(bj::string_view(member.key()));
      out += ": ";
      pretty(member.value(), out, depth + 1);
    }
    newline(depth);
    out += '}';
  } else if (v.is_array()) {
    const auto& a = v.get_array();
    if (a.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    bool first = true;
    for (const auto& element : a) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      pretty(element, out, depth + 1);
    }
    newline(depth);
    out += ']';
  } else {
    out += bj::serialize(v);
  }
}

}  // namespace

std::string pretty_json(const bj::value& document) {
  std::string out;
  pretty(document, out, 0);
  return out;
}

// ---- Errors ----------------------------------------------------------------------------

void print_error(std::string_view command, std::string_view message) {
  std::string line = "orderflow " + std::string(command) + ": " + one_line(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void print_warning(std::string_view command, std::string_view message) {
  print_error(command, "warning: " + std::string(message));
}

// ---- Progress --------------------------------------------------------------------------

std::string progress_line(std::int64_t done, std::optional<std::int64_t> total, double rate,
                          std::string_view unit, std::size_t bar_width) {
  char rate_text[48];
  std::snprintf(rate_text, sizeof rate_text, "%.0f/s", std::isfinite(rate) ? rate : 0.0);
  if (!total || *total <= 0) {
    return std::to_string(done) + " " + std::string(unit) + "  " + rate_text;
  }
  double fraction = std::clamp(static_cast<double>(done) / static_cast<double>(*total), 0.0, 1.0);
  auto filled = static_cast<std::size_t>(fraction * static_cast<double>(bar_width));
  std::string line = "[";
  line.append(filled, '#');
  line.append(bar_width - filled, '-');
  char percent[16];
  std::snprintf(percent, sizeof percent, "] %3d%% ", static_cast<int>(fraction * 100));
  line += percent;
  line += std::to_string(done) + "/" + std::to_string(*total) + " " + std::string(unit) + "  " +
          rate_text;
  return line;
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

void Progress::update(std::string line, bool force) {
  if (!enabled_) return;
  std::lock_guard g(mu_);
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  clear_locked();
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  shown_ = std::move(line);
}

void Progress::note(std::string_view line) {
  std::lock_guard g(mu_);
  std::string saved = shown_;
  clear_locked();
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fputc('\n', stderr);
  if (!saved.empty()) {
    std::fputs(saved.c_str(), stderr);
    shown_ = std::move(saved);
  }
  std::fflush(stderr);
}

void Progress::finish() {
  std::lock_guard g(mu_);
  clear_locked();
  std::fflush(stderr);
}

void Progress::clear_locked() {
  if (shown_.empty()) return;
  std::fputc('\r', stderr);
  std::fputs(std::string(display_width(shown_), ' ').c_str(), stderr);
  std::fputc('\r', stderr);
  shown_.clear();
}

}  // namespace orderflow::cli
