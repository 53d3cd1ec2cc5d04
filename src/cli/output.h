// What the client subcommands print (STYLE.md item 13): aligned tables for people, one JSON
// document for scripts (--json), a progress line on stderr when stderr is a terminal, and
// errors as one line on stderr.
//
//   stdout   the result: a table, a JSON document, or the lines asked for (logs)
//   stderr   progress, warnings and the error line "orderflow <command>: <message>"
//
// Thread-safety: the pure functions are; Progress serializes its own writes to stderr.
#pragma once

#include <boost/json/fwd.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderflow::cli {

// ---- Text ------------------------------------------------------------------------------

// Columns `s` takes on a terminal: one per UTF-8 code point (continuation bytes do not count).
std::size_t display_width(std::string_view s);
// `s` cut to at most `width` columns, ending in "…" when cut; whole code points only.
std::string truncate_to_width(std::string_view s, std::size_t width);
// `s` on one line: every control character (newline, tab, ESC, ...) becomes a space, so a
// message body cannot break a table or drive the terminal.
std::string one_line(std::string_view s);

// "2024-05-01T12:30:00.250Z" (UTC, milliseconds), or "-" for 0 (unknown).
std::string format_epoch_ms(std::int64_t epoch_ms);
// "0.42 s", "12.3 s", "2 min 05 s"
std::string format_seconds(double seconds);
// "1 order", "2 orders"
std::string plural(std::int64_t n, std::string_view singular, std::string_view plural_form);

// ---- Tables ----------------------------------------------------------------------------

// A table of text cells rendered with aligned columns separated by two spaces, headers first.
// Cells are made one-line (one_line) and cut to their column's maximum width, if any; the last
// column is not padded (no trailing spaces).
class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // Limits column `column` to `width` columns (cut with "…").
  void set_max_width(std::size_t column, std::size_t width);
  // Right-aligns column `column` (numbers).
  void align_right(std::size_t column);
  // A row; missing cells are empty, extra cells are dropped.
  void add_row(std::vector<std::string> cells);

  std::size_t rows() const { return rows_.size(); }
  // Every line ends with '\n'.
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::optional<std::size_t>> max_width_;
  std::vector<bool> right_;
};

// ---- JSON ------------------------------------------------------------------------------

// One JSON document and a newline on stdout (flushed).
void print_json(const boost::json::value& document);
// Two-space indented JSON text of `document`, no trailing newline.
std::string pretty_json(const boost::json::value& document);

// ---- Errors and warnings ---------------------------------------------------------------

// "orderflow <command>: <message>" on stderr.
void print_error(std::string_view command, std::string_view message);
// "orderflow <command>: warning: <message>" on stderr.
void print_warning(std::string_view command, std::string_view message);

// ---- Progress --------------------------------------------------------------------------

// The progress line for `done` of `total` (when known) at `rate` per second, e.g.
//   "[##########----------]  50% 1000/2000 orders  812/s"
//   "1000 orders  812/s"                                         (total unknown)
std::string progress_line(std::int64_t done, std::optional<std::int64_t> total, double rate,
                          std::string_view unit, std::size_t bar_width = 30);

bool stderr_is_terminal();

// A progress line redrawn in place on stderr ("\r" + line), only when `enabled` (pass
// stderr_is_terminal()). Redraws are rate-limited to 10 per second unless forced. note() prints
// a line of its own above the progress line. finish() clears the line.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {}
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress() { finish(); }

  bool enabled() const { return enabled_; }
  void update(std::string line, bool force = false);
  void note(std::string_view line);
  void finish();

 private:
  void clear_locked();

  const bool enabled_;
  std::mutex mu_;
  std::string shown_;                                  // guarded by mu_
  std::chrono::steady_clock::time_point last_draw_{};  // guarded by mu_
};

}  // namespace orderflow::cli
