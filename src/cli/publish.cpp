// `orderflow publish [FILE | --generate N]`: orders into the topic with PublishBatch.
//
// One reader hands out batches (up to 10 messages and 256 KiB) under a mutex; --concurrency
// worker threads each own a Stack (AwsClient is not thread-safe) and publish them. A line that
// is not JSON is published anyway (that is how poison orders are made on purpose), with a
// warning. Per-entry failures are collected and reported; a failure that stops every call
// (the stack unreachable, the topic gone, credentials refused) stops the run.
#include "cli/publish.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "cli/commands.h"
#include "cli/orders.h"
#include "cli/output.h"
#include "cli/stack_client.h"
#include "common/util.h"

namespace orderflow::cli {

namespace bj = boost::json;

// ---- Pure pieces -----------------------------------------------------------------------

namespace {

// splitmix64: a well-mixed 64-bit stream from a counter.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::string money(std::int64_t cents) {
  std::string frac = std::to_string(cents % 100);
  if (frac.size() < 2) frac.insert(0, "0");
  return std::to_string(cents / 100) + "." + frac;
}

constexpr std::string_view kCurrencies[] = {"USD", "EUR", "GBP", "JPY", "CAD"};

}  // namespace

std::string sample_order(const SampleOrderOptions& options, std::uint64_t n,
                         std::int64_t created_at_ms) {
  std::uint64_t state = mix(options.seed ^ mix(n));
  auto next = [&](std::uint64_t bound) {
    state = mix(state);
    return state % bound;
  };
  const std::uint64_t customer = 1 + next(9999);
  const std::uint64_t item_count = 1 + next(3);
  char customer_id[32];
  std::snprintf(customer_id, sizeof customer_id, "cust-%04llu",
                static_cast<unsigned long long>(customer));
  std::string json = "{\"orderId\":\"ord-" + options.run_id + "-" + std::to_string(n) +
                     "\",\"customerId\":\"" + customer_id + "\",\"items\":[";
  std::int64_t total_cents = 0;
  for (std::uint64_t i = 0; i < item_count; ++i) {
    char sku[32];
    std::snprintf(sku, sizeof sku, "SKU-%05llu", static_cast<unsigned long long>(next(100000)));
    auto quantity = static_cast<std::int64_t>(1 + next(5));
    auto unit_cents = static_cast<std::int64_t>(99 + next(19900));
    total_cents += quantity * unit_cents;
    if (i) json += ',';
    json += "{\"sku\":\"" + std::string(sku) + "\",\"quantity\":" + std::to_string(quantity) +
            ",\"unitPrice\":" + money(unit_cents) + "}";
  }
  // JPY has no minor unit in ISO 4217, but the order rules check only the code.
  std::string_view currency = kCurrencies[next(std::size(kCurrencies))];
  json += "],\"currency\":\"" + std::string(currency) + "\",\"total\":" + money(total_cents) +
          ",\"createdAt\":\"" + iso8601_ms(created_at_ms) + "\",\"email\":\"" + customer_id +
          "@example.com\"}";
  return json;
}

std::string make_run_id(std::uint64_t random) {
  constexpr std::string_view kDigits = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  for (int i = 0; i < 6; ++i) {
    out += kDigits[random % kDigits.size()];
    random /= kDigits.size();
  }
  return out;
}

bool is_json_text(std::string_view line) {
  bj::error_code ec;
  bj::parse(line, ec);
  return !ec;
}

bool fits_batch(std::size_t entries, std::size_t bytes, std::size_t next_bytes) {
  if (entries == 0) return true;
  return entries < kMaxBatchEntries && bytes + next_bytes <= kMaxBatchBytes;
}

// ---- The command -----------------------------------------------------------------------

namespace {

constexpr std::string_view kCommand = "publish";
constexpr std::size_t kMaxWarnings = 10;
constexpr std::size_t kMaxReportedFailures = 20;

struct PublishOptions {
  ConnectionOptions connection;
  ResourceNames names;
  std::string file;  // "" or "-": stdin
  std::int64_t generate = 0;
  int concurrency = 4;
  bool json = false;
};

struct Entry {
  std::uint64_t line = 0;  // input line, or the generated order's number
  std::string message;
};

struct Failure {
  std::uint64_t line = 0;
  std::string order_id;
  std::string code;
  std::string message;
};

// What the run did; thread-safe.
class Tally {
 public:
  void published(std::int64_t n) { published_ += n; }
  void failed(const Entry& e, std::string code, std::string message) {
    ++failed_;
    std::lock_guard g(mu_);
    failures_.push_back(
        {e.line, order_id_in_message(e.message).value_or(""), std::move(code), std::move(message)});
  }
  // Stops the run with `message` (the first one wins).
  void stop(std::string message) {
    std::lock_guard g(mu_);
    if (fatal_.empty()) fatal_ = std::move(message);
    stopped_ = true;
  }
  bool stopped() const { return stopped_; }
  std::int64_t published_count() const { return published_; }
  std::int64_t failed_count() const { return failed_; }
  std::int64_t done() const { return published_ + failed_; }
  std::vector<Failure> failures() {
    std::lock_guard g(mu_);
    auto out = failures_;
    std::sort(out.begin(), out.end(),
              [](const Failure& a, const Failure& b) { return a.line < b.line; });
    return out;
  }
  std::string fatal() {
    std::lock_guard g(mu_);
    return fatal_;
  }

 private:
  std::atomic<std::int64_t> published_{0};
  std::atomic<std::int64_t> failed_{0};
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::vector<Failure> failures_;  // guarded by mu_
  std::string fatal_;              // guarded by mu_
};

// Hands out batches; thread-safe.
class OrderSource {
 public:
  OrderSource(std::istream* in, std::int64_t generate, SampleOrderOptions sample, Tally& tally,
              Progress& progress)
      : in_(in),
        generate_(generate),
        sample_(std::move(sample)),
        tally_(tally),
        progress_(progress) {}

  // Fills `batch` (cleared first); false when the input is exhausted.
  bool next(std::vector<Entry>& batch) {
    batch.clear();
    std::lock_guard g(mu_);
    if (in_ == nullptr) {
      std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
      while (batch.size() < kMaxBatchEntries &&
             next_number_ <= static_cast<std::uint64_t>(generate_)) {
        batch.push_back({next_number_, sample_order(sample_, next_number_, now_ms)});
        ++next_number_;
      }
      return !batch.empty();
    }
    std::size_t bytes = 0;
    if (pending_) {
      bytes += pending_->message.size();
      batch.push_back(std::move(*pending_));
      pending_.reset();
    }
    std::string line;
    while (batch.size() < kMaxBatchEntries && std::getline(*in_, line)) {
      ++line_number_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank
      Entry e{line_number_, std::move(line)};
      line = {};
      if (e.message.size() > kMaxBatchBytes) {
        tally_.failed(e, "TooLarge",
                      "the line is larger than 256 KiB, SNS's message limit: not published");
        continue;
      }
      if (!is_json_text(e.message)) warn_not_json(e.line);
      if (!fits_batch(batch.size(), bytes, e.message.size())) {
        pending_ = std::move(e);
        break;
      }
      bytes += e.message.size();
      batch.push_back(std::move(e));
    }
    return !batch.empty();
  }

 private:
  void warn_not_json(std::uint64_t line) {
    ++warnings_;
    if (warnings_ <= kMaxWarnings) {
      progress_.note("orderflow publish: warning: line " + std::to_string(line) +
                     " is not JSON; publishing it anyway (the function will reject it)");
    } else if (warnings_ == kMaxWarnings + 1) {
      progress_.note(
          "orderflow publish: warning: more lines are not JSON (not reported one by one)");
    }
  }

  std::mutex mu_;
  std::istream* const in_;  // guarded by mu_; nullptr: generate
  const std::int64_t generate_;
  const SampleOrderOptions sample_;
  Tally& tally_;
  Progress& progress_;
  std::uint64_t next_number_ = 1;  // guarded by mu_
  std::uint64_t line_number_ = 0;  // guarded by mu_
  std::optional<Entry> pending_;   // guarded by mu_: read but did not fit the last batch
  std::size_t warnings_ = 0;       // guarded by mu_
};

// A whole-call failure that every other call would repeat.
bool stops_the_run(const StackError& e) {
  using Kind = client::ClientError::Kind;
  return e.cause.kind == Kind::transport || e.cause.kind == Kind::config ||
         e.cause.http_status == 403 || e.cause.http_status == 404 ||
         e.is({"NotFound", "AuthorizationError", "InvalidClientTokenId", "SignatureDoesNotMatch"});
}

void publish_worker(Stack& stack, const std::string& topic_arn, OrderSource& source, Tally& tally) {
  std::vector<Entry> batch;
  std::vector<client::PublishBatchEntry> entries;
  while (!tally.stopped() && source.next(batch)) {
    entries.clear();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      entries.push_back({"m" + std::to_string(i), batch[i].message, ""});
    }
    auto r = stack.client().sns_publish_batch(topic_arn, entries);
    if (!r) {
      StackError e = stack.error(r.error(), "sns", "PublishBatch");
      for (const auto& entry : batch) tally.failed(entry, e.cause.code, e.cause.message);
      if (stops_the_run(e)) tally.stop(e.message);
      continue;
    }
    tally.published(static_cast<std::int64_t>(r->successful.size()));
    for (const auto& f : r->failed) {
      std::size_t index =
          f.id.size() > 1 ? std::strtoul(f.id.c_str() + 1, nullptr, 10) : batch.size();
      Entry unknown{0, ""};
      tally.failed(index < batch.size() ? batch[index] : unknown, f.code, f.message);
    }
    // Entries the answer mentions neither way (a broken service) count as failed.
    std::size_t answered = r->successful.size() + r->failed.size();
    for (std::size_t i = answered; i < batch.size(); ++i) {
      tally.failed(batch[i], "NoResult", "PublishBatch answered nothing for this entry");
    }
  }
}

// Non-empty lines of a regular file (the progress bar's total), or nullopt for a stream.
std::optional<std::int64_t> count_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::int64_t n = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) ++n;
  }
  return n;
}

int run_publish(const PublishOptions& o) {
  const bool from_stdin = o.generate == 0 && (o.file.empty() || o.file == "-");
  std::ifstream file;
  std::istream* in = nullptr;
  std::optional<std::int64_t> total;
  if (o.generate > 0) {
    total = o.generate;
  } else if (from_stdin) {
    in = &std::cin;
  } else {
    file.open(o.file);
    if (!file) {
      print_error(kCommand, "cannot read " + o.file + ": " + std::strerror(errno));
      return 1;
    }
    in = &file;
    total = count_lines(o.file);
  }

  const client::Environment env = process_environment();
  auto stack = Stack::connect(o.connection, env);
  if (!stack) {
    print_error(kCommand, stack.error().message);
    return 1;
  }
  auto topic_arn = (*stack)->topic_arn(o.names.topic);
  if (!topic_arn) {
    print_error(kCommand, topic_arn.error().message);
    return 1;
  }
  std::vector<std::unique_ptr<Stack>> stacks;
  stacks.push_back(std::move(*stack));
  for (int i = 1; i < o.concurrency; ++i) {
    auto s = Stack::connect(o.connection, env);
    if (!s) {
      print_error(kCommand, s.error().message);
      return 1;
    }
    stacks.push_back(std::move(*s));
  }

  Progress progress(stderr_is_terminal());
  if (from_stdin && ::isatty(STDIN_FILENO) == 1) {
    progress.note(
        "orderflow publish: reading orders from stdin, one JSON document per line (end with "
        "Ctrl-D)");
  }
  Tally tally;
  SampleOrderOptions sample{
      make_run_id(std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32)),
      std::random_device{}()};
  OrderSource source(in, o.generate, sample, tally, progress);

  const auto start = std::chrono::steady_clock::now();
  auto rate = [&] {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return seconds > 0 ? static_cast<double>(tally.published_count()) / seconds : 0.0;
  };
  std::mutex done_mu;
  std::condition_variable done_cv;
  int running = static_cast<int>(stacks.size());
  std::vector<std::thread> workers;
  for (auto& s : stacks) {
    workers.emplace_back([&, stack_ptr = s.get()] {
      publish_worker(*stack_ptr, *topic_arn, source, tally);
      std::lock_guard g(done_mu);
      --running;
      done_cv.notify_all();
    });
  }
  {
    std::unique_lock lock(done_mu);
    while (running > 0) {
      done_cv.wait_for(lock, std::chrono::milliseconds(100));
      progress.update(progress_line(tally.done(), total, rate(), "orders"));
    }
  }
  for (auto& w : workers) w.join();
  progress.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double achieved =
      seconds > 0 ? static_cast<double>(tally.published_count()) / seconds : 0.0;

  if (std::string fatal = tally.fatal(); !fatal.empty()) {
    print_error(kCommand,
                fatal + " (" + std::to_string(tally.published_count()) + " published before that)");
    return 1;
  }
  auto failures = tally.failures();
  if (o.json) {
    bj::array list;
    for (const auto& f : failures) {
      bj::object entry{{"line", f.line}, {"code", f.code}, {"message", f.message}};
      if (!f.order_id.empty()) entry["orderId"] = f.order_id;
      list.push_back(std::move(entry));
    }
    print_json(bj::object{{"topicArn", *topic_arn},
                          {"published", tally.published_count()},
                          {"failed", tally.failed_count()},
                          {"milliseconds", static_cast<std::int64_t>(seconds * 1000)},
                          {"ratePerSecond", static_cast<std::int64_t>(achieved + 0.5)},
                          {"failures", std::move(list)}});
  } else {
    for (std::size_t i = 0; i < failures.size() && i < kMaxReportedFailures; ++i) {
      const auto& f = failures[i];
      std::string where = (o.generate > 0 ? "order " : "line ") + std::to_string(f.line);
      if (!f.order_id.empty()) where += " (" + f.order_id + ")";
      print_error(kCommand,
                  where + " failed: " + (f.code.empty() ? f.message : f.code + ": " + f.message));
    }
    if (failures.size() > kMaxReportedFailures) {
      print_error(kCommand, "... and " + std::to_string(failures.size() - kMaxReportedFailures) +
                                " more failures");
    }
    char rate_text[32];
    std::snprintf(rate_text, sizeof rate_text, "%.1f", achieved);
    std::printf("published %s to %s in %s (%s orders/s), %lld failed\n",
                plural(tally.published_count(), "order", "orders").c_str(), o.names.topic.c_str(),
                format_seconds(seconds).c_str(), rate_text,
                static_cast<long long>(tally.failed_count()));
    std::fflush(stdout);
  }
  return tally.failed_count() > 0 ? 1 : 0;
}

}  // namespace

void register_publish(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<PublishOptions>();
  CLI::App* cmd = app.add_subcommand(
      "publish", "Publish orders to the topic: from a file, stdin or --generate N");
  cmd->footer(
      "Each line of FILE (or stdin) is one order and is published as it is. A line that is\n"
      "not JSON is published too, with a warning: the function rejects it (poison orders on\n"
      "purpose). PublishBatch, 10 orders a call, --concurrency calls at once; a progress bar on\n"
      "stderr when it is a terminal. Exit code 1 when any order was not published.");
  auto* file =
      cmd->add_option("file", o->file, "File of orders, one JSON per line ('-' or none: stdin)");
  auto* generate =
      cmd->add_option("--generate,-n", o->generate, "Publish N generated sample orders")
          ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}));
  file->excludes(generate);
  cmd->add_option("--concurrency,-c", o->concurrency, "Threads publishing at once")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print the summary as JSON");
  add_resource_flags(*cmd, o->names, kTopicFlag);
  add_connection_flags(*cmd, o->connection);
  cmd->callback([o, &exit_code] { exit_code = run_publish(*o); });
}

}  // namespace orderflow::cli
