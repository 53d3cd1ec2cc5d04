// `orderflow demo`: see cli/demo.h.
//
// Phases: start the local cloud (LocalCloud, port 0, fresh data directory, short timeouts so a
// poison order is retried 3 times in seconds) -> publish on --concurrency threads, each with
// its own Stack (AwsClient is not thread-safe), while the main thread polls the queue's depth
// for the progress bar -> wait until everything is published and OrderQueue-CF is empty
// (a message leaves it only when the function stored it, found it a duplicate, or the third
// failure sent it to the DLQ), failing when nothing moves for --timeout seconds -> read the
// outcome back over the AWS APIs (Scan, ReceiveMessage on the DLQ, FilterLogEvents) -> stop
// the stack, remove the temporary data directory, print the summary.
#include "cli/demo.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "cli/commands.h"
#include "cli/dlq.h"
#include "cli/local_cloud.h"
#include "cli/logs.h"
#include "cli/orders.h"
#include "cli/output.h"
#include "cli/stack_client.h"
#include "common/util.h"

namespace orderflow::cli {

namespace bj = boost::json;

// ---- Pure pieces -----------------------------------------------------------------------

std::vector<InvalidOrder> invalid_orders(std::string_view run_id, std::int64_t created_at_ms) {
  const std::string id = "ord-" + std::string(run_id) + "-bad-";
  const std::string created = ",\"createdAt\":\"" + iso8601_ms(created_at_ms) + "\"}";
  return {
      {"not JSON", "order " + id + "json: 2 x SKU-00001, EUR 25.00 (plain text, not JSON)"},
      {"no orderId",
       R"({"customerId":"cust-0001","items":[{"sku":"SKU-00001","quantity":1,"unitPrice":9.99}],)"
       R"("currency":"USD","total":9.99)" +
           created},
      {"quantity 0",
       "{\"orderId\":\"" + id +
           "quantity\",\"customerId\":\"cust-0002\",\"items\":[{\"sku\":\"SKU-00002\","
           "\"quantity\":0,\"unitPrice\":5.00}],\"currency\":\"EUR\",\"total\":0.00" +
           created},
      {"total != items",
       "{\"orderId\":\"" + id +
           "total\",\"customerId\":\"cust-0003\",\"items\":[{\"sku\":\"SKU-00003\","
           "\"quantity\":2,\"unitPrice\":12.50}],\"currency\":\"GBP\",\"total\":99.99" +
           created},
      {"bad currency",
       "{\"orderId\":\"" + id +
           "currency\",\"customerId\":\"cust-0004\",\"items\":[{\"sku\":\"SKU-00004\","
           "\"quantity\":1,\"unitPrice\":20.00}],\"currency\":\"EURO\",\"total\":20.00" +
           created},
  };
}

std::vector<ExtraMessage> plan_extra_messages(std::uint64_t orders) {
  std::vector<ExtraMessage> out;
  if (orders == 0) return out;
  for (std::size_t k = 0; k < kDemoInvalidOrders; ++k) {
    std::uint64_t after = std::max<std::uint64_t>(1, (k + 1) * orders / (kDemoInvalidOrders + 1));
    out.push_back({ExtraMessage::Kind::invalid, after, k, 0});
  }
  const std::uint64_t gap = std::max<std::uint64_t>(1, orders / kDemoDuplicates);
  for (std::size_t j = 0; j < kDemoDuplicates; ++j) {
    std::uint64_t order = 1 + j * orders / kDemoDuplicates;
    out.push_back({ExtraMessage::Kind::duplicate, std::min(orders, order + gap), 0, order});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const ExtraMessage& a, const ExtraMessage& b) { return a.after < b.after; });
  return out;
}

std::optional<std::uint64_t> order_number(std::string_view order_id, std::string_view run_id) {
  const std::string prefix = "ord-" + std::string(run_id) + "-";
  if (!order_id.starts_with(prefix)) return std::nullopt;
  std::string_view digits = order_id.substr(prefix.size());
  if (digits.empty() || digits.size() > 19 || digits[0] == '0') return std::nullopt;
  std::uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

std::int64_t percentile(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(std::ceil(p * n / 100.0));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

std::vector<std::string> find_problems(const DemoSummary& s) {
  std::vector<std::string> out;
  if (!s.failure.empty()) out.push_back(s.failure);
  if (!s.read_back) {
    if (out.empty()) out.push_back("the outcome was not read back");
    return out;
  }
  if (s.publish_failed > 0)
    out.push_back(plural(s.publish_failed, "message was", "messages were") + " not published");
  const auto expected = static_cast<std::int64_t>(s.orders);
  if (s.stored < expected) {
    std::string line = std::to_string(expected - s.stored) + " of " + std::to_string(expected) +
                       " orders not in " + s.table;
    if (!s.missing_sample.empty()) {
      line += " (";
      for (std::size_t i = 0; i < s.missing_sample.size(); ++i)
        line += (i ? ", " : "") + s.missing_sample[i];
      line +=
          expected - s.stored > static_cast<std::int64_t>(s.missing_sample.size()) ? ", ...)" : ")";
    }
    out.push_back(line);
  }
  if (s.unexpected > 0)
    out.push_back(plural(s.unexpected, "item", "items") + " in " + s.table +
                  " that are not one of the valid orders");
  if (s.duplicates_suppressed != static_cast<std::int64_t>(kDemoDuplicates))
    out.push_back(std::to_string(s.duplicates_suppressed) + " duplicates suppressed, expected " +
                  std::to_string(kDemoDuplicates));
  std::set<std::string> kinds;
  std::int64_t strangers = 0;
  for (const auto& d : s.dead_lettered) {
    if (d.kind.empty()) {
      ++strangers;
    } else {
      kinds.insert(d.kind);
    }
  }
  if (strangers > 0)
    out.push_back(plural(strangers, "message", "messages") + " in " + s.dlq +
                  " that are not one of the invalid orders");
  if (kinds.size() != kDemoInvalidOrders || s.dead_lettered.size() != kDemoInvalidOrders)
    out.push_back(std::to_string(kinds.size()) + " of the " + std::to_string(kDemoInvalidOrders) +
                  " invalid orders in " + s.dlq + " (" +
                  plural(static_cast<std::int64_t>(s.dead_lettered.size()), "message", "messages") +
                  " there)");
  if (s.queue_left > 0)
    out.push_back(plural(s.queue_left, "message", "messages") + " still in " + s.queue);
  return out;
}

namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string ms_text(const std::optional<std::int64_t>& v) {
  return v ? std::to_string(*v) + " ms" : "-";
}

// "  <label>" padded to 17 columns, then `text`, as one line of `out`.
void add_line(std::string& out, std::string_view label, const std::string& text) {
  std::string l = "  " + std::string(label);
  l.append(l.size() < 17 ? 17 - l.size() : 1, ' ');
  out += l + text + "\n";
}

// The lines about what came out of the pipeline.
void add_outcome(std::string& out, const DemoSummary& s) {
  const auto expected = static_cast<std::int64_t>(s.orders);
  add_line(
      out, "stored",
      std::to_string(s.stored) + " of " + std::to_string(expected) + " orders in " + s.table +
          (s.unexpected > 0 ? ", and " + std::to_string(s.unexpected) + " unexpected items" : ""));
  add_line(out, "duplicates",
           std::to_string(s.duplicates_suppressed) + " of " + std::to_string(kDemoDuplicates) +
               " re-published orders suppressed (already stored)");
  add_line(out, "dead-lettered",
           std::to_string(s.dead_lettered.size()) + " of " + std::to_string(kDemoInvalidOrders) +
               " invalid orders in " + s.dlq + (s.dead_lettered.empty() ? "" : ":"));
  if (!s.dead_lettered.empty()) {
    Table table({"INVALID", "ORDER ID", "RECEIVES", "REASON"});
    table.align_right(2);
    table.set_max_width(1, 40);
    table.set_max_width(3, 90);
    for (const auto& d : s.dead_lettered) {
      table.add_row({d.kind.empty() ? "?" : d.kind, d.order_id.value_or("-"),
                     std::to_string(d.receives), d.reason.empty() ? "-" : d.reason});
    }
    std::string rendered = table.render();
    for (std::size_t start = 0; start < rendered.size();) {
      std::size_t end = rendered.find('\n', start);
      if (end == std::string::npos) end = rendered.size();
      out += "    " + rendered.substr(start, end - start) + "\n";
      start = end + 1;
    }
  }
  add_line(out, "throughput",
           s.throughput_per_s
               ? fixed(*s.throughput_per_s, 0) + " orders/s (first publish to last stored)"
               : "-");
  add_line(out, "latency",
           "p50 " + ms_text(s.latency_p50_ms) + ", p99 " + ms_text(s.latency_p99_ms) + ", max " +
               ms_text(s.latency_max_ms) + " (publish to stored)");
}

}  // namespace

std::string format_summary(const DemoSummary& s) {
  const auto expected = static_cast<std::int64_t>(s.orders);
  std::string out = "orderflow demo: " + plural(expected, "order", "orders") + " through " +
                    s.topic + " -> " + s.queue + " -> " + s.function + " -> " + s.table + "\n";
  add_line(out, "published",
           plural(s.published, "message", "messages") + " in " + format_seconds(s.publish_seconds) +
               " (" + plural(expected, "valid order", "valid orders") + ", " +
               std::to_string(kDemoInvalidOrders) + " invalid, " + std::to_string(kDemoDuplicates) +
               " duplicates)" +
               (s.publish_failed > 0 ? ", " + std::to_string(s.publish_failed) + " failed" : ""));
  if (s.read_back) {
    add_outcome(out, s);
  } else {
    add_line(out, "outcome", "not read back: the run stopped early");
  }
  add_line(out, "took", format_seconds(s.seconds));
  if (!s.data_dir.empty())
    add_line(out, "data", (s.data_dir_kept ? "kept in " : "removed: ") + s.data_dir);
  auto problems = find_problems(s);
  add_line(out, "result", problems.empty() ? "OK" : "FAILED");
  for (const auto& p : problems) out += "    " + p + "\n";
  return out;
}

bj::object summary_json(const DemoSummary& s) {
  bj::array dead;
  for (const auto& d : s.dead_lettered) {
    bj::object entry{{"messageId", d.message_id},
                     {"kind", d.kind.empty() ? bj::value() : bj::value(d.kind)},
                     {"reason", d.reason.empty() ? bj::value() : bj::value(d.reason)},
                     {"receives", d.receives}};
    if (d.order_id) entry["orderId"] = *d.order_id;
    dead.push_back(std::move(entry));
  }
  bj::array problems;
  for (auto& p : find_problems(s)) problems.push_back(bj::value(p));
  bj::array missing;
  for (const auto& m : s.missing_sample) missing.push_back(bj::value(m));
  auto optional_int = [](const std::optional<std::int64_t>& v) {
    return v ? bj::value(*v) : bj::value();
  };
  return bj::object{
      {"ok", problems.empty()},
      {"read_back", s.read_back},
      {"expected", static_cast<std::int64_t>(s.orders)},
      {"stored", s.stored},
      {"unexpected", s.unexpected},
      {"missing", std::move(missing)},
      {"published", s.published},
      {"publish_failed", s.publish_failed},
      {"publish_seconds", std::round(s.publish_seconds * 1000) / 1000},
      {"duplicates_published", static_cast<std::int64_t>(kDemoDuplicates)},
      {"duplicates_suppressed", s.duplicates_suppressed},
      {"invalid_published", static_cast<std::int64_t>(kDemoInvalidOrders)},
      {"dead_lettered", std::move(dead)},
      {"queue_left", s.queue_left},
      {"throughput_per_s",
       s.throughput_per_s ? bj::value(std::round(*s.throughput_per_s * 10) / 10) : bj::value()},
      {"latency_ms", bj::object{{"p50", optional_int(s.latency_p50_ms)},
                                {"p99", optional_int(s.latency_p99_ms)},
                                {"max", optional_int(s.latency_max_ms)}}},
      {"seconds", std::round(s.seconds * 1000) / 1000},
      {"endpoint", s.endpoint},
      {"data_dir", s.data_dir},
      {"data_dir_kept", s.data_dir_kept},
      {"problems", std::move(problems)}};
}

// ---- The command -----------------------------------------------------------------------

namespace {

constexpr std::string_view kCommand = "demo";
constexpr auto kPollInterval = std::chrono::milliseconds(100);
// After the queue is empty, how long to let the logs catch up before a shortfall counts.
constexpr auto kSettleTime = std::chrono::seconds(5);
constexpr int kPeekVisibilitySeconds = 10;
constexpr std::size_t kMissingSample = 5;

struct DemoOptions {
  std::uint64_t orders = 1000;
  int concurrency = 4;
  std::string data_dir;  // empty: a fresh temporary directory
  bool keep_data = false;
  std::uint16_t port = 0;
  std::string template_path;
  std::vector<std::string> params;
  int timeout_seconds = 120;
  int max_workers = 8;
  bool json = false;
};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}


// The data directory: the one named (absent or empty: counts would be wrong otherwise), or a
// fresh temporary one. Returns the path and whether the demo made it up (and so removes it).
Result<std::pair<std::string, bool>> choose_data_dir(const std::string& named) {
  std::error_code ec;
  if (!named.empty()) {
    if (!std::filesystem::exists(named, ec)) return std::pair{named, false};
    if (!std::filesystem::is_directory(named, ec))
      return fail(ErrorCode::validation_error,
                  "--data-dir " + named + " exists and is not a directory");
    if (!std::filesystem::is_empty(named, ec) || ec)
      return fail(ErrorCode::validation_error,
                  "--data-dir " + named +
                      " is not empty: the demo needs a fresh stack (its counts would be wrong "
                      "otherwise); name an empty or new directory, or leave --data-dir out");
    return std::pair{named, false};
  }
  std::string pattern =
      (std::filesystem::temp_directory_path(ec) / "orderflow-demo-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    return fail(ErrorCode::internal_error, "cannot make a temporary data directory " + pattern);
  return std::pair{pattern, true};
}

// One message to publish.
struct DemoEntry {
  enum class What { valid, invalid, duplicate } what = What::valid;
  std::uint64_t order = 0;  // valid and duplicate: the order's number
  std::string message;
};

// Hands out the run's messages in order, in batches; thread-safe.
class DemoSource {
 public:
  DemoSource(std::uint64_t orders, SampleOrderOptions sample, std::vector<InvalidOrder> invalid)
      : orders_(orders),
        sample_(std::move(sample)),
        invalid_(std::move(invalid)),
        extras_(plan_extra_messages(orders)) {
    for (const auto& e : extras_)
      if (e.kind == ExtraMessage::Kind::duplicate) saved_[e.order];
  }

  // Fills `batch` (cleared first); false when every message has been handed out.
  bool next(std::vector<DemoEntry>& batch) {
    batch.clear();
    std::lock_guard g(mu_);
    const std::int64_t created = now_ms();
    while (batch.size() < kMaxBatchEntries) {
      if (next_extra_ < extras_.size() && extras_[next_extra_].after < next_order_) {
        const ExtraMessage& e = extras_[next_extra_++];
        if (e.kind == ExtraMessage::Kind::invalid) {
          batch.push_back({DemoEntry::What::invalid, 0, invalid_[e.index].message});
        } else {
          batch.push_back({DemoEntry::What::duplicate, e.order, saved_[e.order]});
        }
        continue;
      }
      if (next_order_ > orders_) break;
      std::string message = sample_order(sample_, next_order_, created);
      if (auto it = saved_.find(next_order_); it != saved_.end()) it->second = message;
      batch.push_back({DemoEntry::What::valid, next_order_, std::move(message)});
      ++next_order_;
    }
    return !batch.empty();
  }

 private:
  std::mutex mu_;
  const std::uint64_t orders_;
  const SampleOrderOptions sample_;
  const std::vector<InvalidOrder> invalid_;
  const std::vector<ExtraMessage> extras_;
  std::uint64_t next_order_ = 1;                // guarded by mu_
  std::size_t next_extra_ = 0;                  // guarded by mu_
  std::map<std::uint64_t, std::string> saved_;  // guarded by mu_: the originals duplicates repeat
};

// What publishing did; thread-safe.
class PublishLog {
 public:
  explicit PublishLog(std::uint64_t orders) : sent_ms_(orders + 1, 0) {}

  // `entry` was accepted with SNS `message_id` by a call sent at `sent_ms`.
  void published(const DemoEntry& entry, std::int64_t sent_ms, const std::string& message_id) {
    ++published_;
    if (entry.what == DemoEntry::What::valid) {
      sent_ms_[entry.order] = sent_ms;  // one writer per order: no lock needed
    } else if (entry.what == DemoEntry::What::duplicate) {
      std::lock_guard g(mu_);
      duplicate_sent_ms_[message_id] = sent_ms;
    }
  }
  void failed(std::int64_t n, std::string message) {
    failed_ += n;
    std::lock_guard g(mu_);
    if (first_failure_.empty()) first_failure_ = std::move(message);
  }
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }
  std::int64_t published_count() const { return published_; }
  std::int64_t failed_count() const { return failed_; }
  std::string first_failure() {
    std::lock_guard g(mu_);
    return first_failure_;
  }
  // When the stored order `order` with SNS `message_id` was sent; 0 when unknown. Call after
  // publishing ended.
  std::int64_t sent_ms(std::uint64_t order, const std::string& message_id) {
    std::lock_guard g(mu_);
    if (auto it = duplicate_sent_ms_.find(message_id); it != duplicate_sent_ms_.end())
      return it->second;
    return order < sent_ms_.size() ? sent_ms_[order] : 0;
  }

 private:
  std::atomic<std::int64_t> published_{0};
  std::atomic<std::int64_t> failed_{0};
  std::atomic<bool> stopped_{false};
  std::vector<std::int64_t> sent_ms_;  // by order number; each element written by one thread
  std::mutex mu_;
  std::map<std::string, std::int64_t> duplicate_sent_ms_;  // guarded by mu_
  std::string first_failure_;                              // guarded by mu_
};

void publish_worker(Stack& stack, const std::string& topic_arn, DemoSource& source,
                    PublishLog& log) {
  std::vector<DemoEntry> batch;
  std::vector<client::PublishBatchEntry> entries;
  while (!log.stopped() && source.next(batch)) {
    entries.clear();
    for (std::size_t i = 0; i < batch.size(); ++i)
      entries.push_back({"m" + std::to_string(i), batch[i].message, ""});
    const std::int64_t sent = now_ms();
    auto r = stack.client().sns_publish_batch(topic_arn, entries);
    if (!r) {
      // Locally a whole call failing means the stack is in trouble: stop the run.
      log.failed(static_cast<std::int64_t>(batch.size()),
                 stack.error(r.error(), "sns", "PublishBatch").message);
      log.stop();
      continue;
    }
    std::vector<bool> answered(batch.size(), false);
    for (const auto& s : r->successful) {
      std::size_t i = s.id.size() > 1 ? std::strtoul(s.id.c_str() + 1, nullptr, 10) : batch.size();
      if (i >= batch.size() || answered[i]) continue;
      answered[i] = true;
      log.published(batch[i], sent, s.message_id);
    }
    std::int64_t failed = 0;
    std::string why;
    for (bool a : answered) failed += a ? 0 : 1;
    if (!r->failed.empty())
      why = "PublishBatch: " + r->failed.front().code + ": " + r->failed.front().message;
    if (failed > 0)
      log.failed(failed, why.empty() ? "PublishBatch answered nothing for some entries" : why);
  }
}

// The table's items: which valid orders are stored, and their latencies.
struct TableScan {
  std::int64_t stored = 0;
  std::int64_t unexpected = 0;
  std::vector<std::string> missing_sample;
  std::vector<std::int64_t> latencies_ms;  // sorted
  std::int64_t last_received_ms = 0;
};

StackResult<TableScan> scan_orders(Stack& stack, const std::string& table, std::uint64_t orders,
                                   const std::string& run_id, PublishLog& log) {
  TableScan out;
  std::vector<bool> seen(orders + 1, false);
  bj::value last_key;
  do {
    bj::object request{{"TableName", table},
                       {"ProjectionExpression", "#o, #r, #m"},
                       {"ExpressionAttributeNames",
                        bj::object{{"#o", "orderId"}, {"#r", "receivedAt"}, {"#m", "messageId"}}}};
    if (!last_key.is_null()) request["ExclusiveStartKey"] = last_key;
    auto r = stack.json_call("dynamodb", "DynamoDB_20120810.Scan", request);
    if (!r) return std::unexpected(r.error());
    if (const auto* page = r->if_contains("Items"); page && page->is_array()) {
      for (const auto& v : page->get_array()) {
        if (!v.is_object()) continue;
        const auto& item = v.get_object();
        auto n = order_number(attribute_text(item, "orderId"), run_id);
        if (!n || *n < 1 || *n > orders || seen[*n]) {
          ++out.unexpected;
          continue;
        }
        seen[*n] = true;
        ++out.stored;
        auto received = parse_utc_ms(attribute_text(item, "receivedAt"));
        std::int64_t sent = log.sent_ms(*n, attribute_text(item, "messageId"));
        if (received && sent > 0) {
          out.latencies_ms.push_back(std::max<std::int64_t>(0, *received - sent));
          out.last_received_ms = std::max(out.last_received_ms, *received);
        }
      }
    }
    const bj::value* next = r->if_contains("LastEvaluatedKey");
    last_key =
        next != nullptr && next->is_object() && !next->get_object().empty() ? *next : bj::value();
  } while (!last_key.is_null());
  for (std::uint64_t n = 1; n <= orders && out.missing_sample.size() < kMissingSample; ++n)
    if (!seen[n]) out.missing_sample.push_back("ord-" + run_id + "-" + std::to_string(n));
  std::sort(out.latencies_ms.begin(), out.latencies_ms.end());
  return out;
}

// The function's JSON record in a log line (it starts at the first '{'), or nullopt.
std::optional<bj::object> function_record(const LogEvent& e) {
  std::string_view text = e.message;
  auto brace = text.find('{');
  if (brace == std::string_view::npos) return std::nullopt;
  bj::error_code ec;
  bj::value doc = bj::parse(text.substr(brace), ec);
  if (ec || !doc.is_object()) return std::nullopt;
  return std::move(doc.get_object());
}

// The log lines of the function whose outcome is "duplicate".
StackResult<std::int64_t> count_duplicates(Stack& stack, const std::string& log_group) {
  std::int64_t count = 0;
  FilterRequest request;
  request.log_group = log_group;
  request.filter_pattern = "\"duplicate\"";
  auto r = filter_log_events(stack, request, [&](std::vector<LogEvent> page) {
    for (const auto& e : page) {
      auto record = function_record(e);
      if (record && json_str(*record, "outcome") == "duplicate") ++count;
    }
  });
  if (!r) return std::unexpected(r.error());
  return count;
}

// The DLQ's messages, each with the function's reason for it, added to `seen` (by message id).
// A message received here stays invisible for kPeekVisibilitySeconds (it stays in the queue),
// so a later call does not see it again: `seen` keeps what earlier calls found, and the reason
// and receive count of each entry still without a reason are read (again) from the logs.
StackResult<std::vector<DeadLetter>> read_dead_letters(Stack& stack, const std::string& dlq_url,
                                                       const std::string& log_group,
                                                       const std::vector<InvalidOrder>& invalid,
                                                       std::map<std::string, std::int64_t>& peeks,
                                                       std::map<std::string, DeadLetter>& seen) {
  std::set<std::string> ids;
  for (int round = 0; round < 100; ++round) {
    auto r = stack.json_call("sqs", "AmazonSQS.ReceiveMessage",
                             {{"QueueUrl", dlq_url},
                              {"MaxNumberOfMessages", 10},
                              {"VisibilityTimeout", kPeekVisibilitySeconds},
                              {"WaitTimeSeconds", 0},
                              {"AttributeNames", bj::array{"All"}}});
    if (!r) return std::unexpected(r.error());
    std::size_t fresh = 0;
    const bj::value* list = r->if_contains("Messages");
    if (list == nullptr || !list->is_array()) break;
    for (const auto& v : list->get_array()) {
      if (!v.is_object()) continue;
      const auto& m = v.get_object();
      std::string id = json_str(m, "MessageId");
      if (id.empty() || !ids.insert(id).second) continue;
      ++fresh;
      std::int64_t mine = ++peeks[id];
      DeadLetter d;
      d.message_id = id;
      std::string message = message_in_body(json_str(m, "Body"));
      d.order_id = order_id_in_message(message);
      for (const auto& inv : invalid)
        if (inv.message == message) d.kind = inv.kind;
      if (const auto* attrs = m.if_contains("Attributes"); attrs && attrs->is_object())
        d.receives = std::max<std::int64_t>(
            0, json_int(attrs->get_object().if_contains("ApproximateReceiveCount")).value_or(0) -
                   mine);
      if (auto known = seen.find(id); known != seen.end() && !known->second.reason.empty())
        continue;  // seen before, reason and receives read then
      seen[id] = std::move(d);
    }
    if (fresh == 0) break;
  }
  for (auto& [id, d] : seen) {
    if (!d.reason.empty()) continue;
    std::vector<LogEvent> events;
    FilterRequest request;
    request.log_group = log_group;
    request.filter_pattern = message_id_filter(d.message_id);
    auto r = filter_log_events(stack, request, [&](std::vector<LogEvent> page) {
      for (auto& e : page) events.push_back(std::move(e));
    });
    if (!r) return std::unexpected(r.error());
    if (auto f = find_failure_reason(events, d.message_id)) d.reason = f->reason;
    // The receives the function saw: the highest count its lines about the message carry.
    // (The DLQ's own ApproximateReceiveCount is not used: the engine restarts it at 0 when it
    // moves a message there.)
    std::int64_t logged = 0;
    for (const auto& e : events) {
      auto record = function_record(e);
      if (!record || json_str(*record, "messageId") != d.message_id) continue;
      logged =
          std::max(logged, json_int(record->if_contains("approximateReceiveCount")).value_or(0));
    }
    if (logged > 0) d.receives = logged;
  }
  std::vector<DeadLetter> out;
  for (const auto& [id, d] : seen) out.push_back(d);
  return out;
}

// One run against a started stack. The steps fill the summary; a failure that stops the run
// goes to summary.failure.
class DemoRun {
 public:
  DemoRun(const DemoOptions& o, DemoSummary& s)
      : o_(o),
        s_(s),
        run_id_(
            make_run_id(std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32))),
        invalid_(invalid_orders(run_id_, now_ms())),
        log_(o.orders),
        progress_(stderr_is_terminal()) {}

  void run(const std::string& endpoint) {
    if (connect(endpoint) && publish_and_wait()) read_back();
    progress_.finish();
  }

 private:
  // One Stack per thread: stacks_[0] for the main thread, the others publish.
  bool connect(const std::string& endpoint) {
    const client::Environment env{{"AWS_ACCESS_KEY_ID", "test"},
                                  {"AWS_SECRET_ACCESS_KEY", "test"},
                                  {"AWS_REGION", "us-east-1"}};
    ConnectionOptions connection;
    connection.endpoint_url = endpoint;
    for (int i = 0; i <= o_.concurrency; ++i) {
      auto s = Stack::connect(connection, env);
      if (!s) return failed(s.error());
      stacks_.push_back(std::move(*s));
    }
    auto topic_arn = stacks_[0]->topic_arn(s_.topic);
    if (!topic_arn) return failed(topic_arn.error());
    topic_arn_ = *topic_arn;
    auto queue_url = stacks_[0]->queue_url(s_.queue);
    if (!queue_url) return failed(queue_url.error());
    queue_url_ = *queue_url;
    auto dlq_url = stacks_[0]->queue_url(s_.dlq);
    if (!dlq_url) return failed(dlq_url.error());
    dlq_url_ = *dlq_url;
    return true;
  }

  // Publishes on the other threads while this one polls the queue's depth, until everything
  // is published and the queue is empty. False when the run cannot go on.
  bool publish_and_wait() {
    Stack& stack = *stacks_[0];
    DemoSource source(o_.orders, SampleOrderOptions{run_id_, std::random_device{}()}, invalid_);
    const auto total = static_cast<std::int64_t>(o_.orders + kDemoInvalidOrders + kDemoDuplicates);
    progress_.note("orderflow demo: publishing " +
                   plural(static_cast<std::int64_t>(o_.orders), "order", "orders") + " (run " +
                   run_id_ + ") with " + std::to_string(kDemoInvalidOrders) + " invalid ones and " +
                   std::to_string(kDemoDuplicates) + " duplicates to " + s_.topic + " on " +
                   plural(o_.concurrency, "thread", "threads"));

    const auto started = std::chrono::steady_clock::now();
    first_publish_ms_ = now_ms();
    std::atomic<int> running{o_.concurrency};
    std::atomic<std::int64_t> publish_end_ns{0};
    std::vector<std::thread> workers;
    for (std::size_t i = 1; i < stacks_.size(); ++i) {
      workers.emplace_back([&, s = stacks_[i].get()] {
        publish_worker(*s, topic_arn_, source, log_);
        if (--running == 0) publish_end_ns = (std::chrono::steady_clock::now() - started).count();
      });
    }

    std::optional<StackError> poll_failure;
    auto last_move = std::chrono::steady_clock::now();
    auto last_plain = last_move;
    std::int64_t last_through = -1, last_published = -1;
    bool announced = false;
    for (;;) {
      std::this_thread::sleep_for(kPollInterval);
      const bool published_all = running.load() == 0;
      auto depth = stack.queue_depth(queue_url_);
      if (!depth) {
        poll_failure = depth.error();
        log_.stop();
        break;
      }
      const std::int64_t remaining = depth->visible + depth->in_flight + depth->delayed;
      const std::int64_t published = log_.published_count();
      const std::int64_t through = std::max<std::int64_t>(0, published - remaining);
      const auto now = std::chrono::steady_clock::now();
      const double seconds = std::chrono::duration<double>(now - started).count();
      std::string line =
          progress_line(through, total, seconds > 0 ? static_cast<double>(through) / seconds : 0,
                        "messages through");
      if (published_all) line += "  (" + std::to_string(remaining) + " in " + s_.queue + ")";
      progress_.update(std::move(line));
      if (published_all && !announced) {
        announced = true;
        progress_.note("orderflow demo: published " + plural(published, "message", "messages") +
                       " in " + format_seconds(static_cast<double>(publish_end_ns.load()) / 1e9) +
                       "; waiting for " + s_.queue + " to empty");
      }
      if (!progress_.enabled() && now - last_plain >= std::chrono::seconds(5)) {
        last_plain = now;
        progress_.note("orderflow demo: " + std::to_string(through) + "/" + std::to_string(total) +
                       " messages through " + s_.queue);
      }
      if (published_all && (log_.stopped() || remaining == 0)) break;
      if (through != last_through || published != last_published) {
        last_through = through;
        last_published = published;
        last_move = now;
      } else if (now - last_move >= std::chrono::seconds(o_.timeout_seconds)) {
        s_.failure = "nothing came through " + s_.queue + " for " +
                     std::to_string(o_.timeout_seconds) + " s (--timeout)";
        break;
      }
    }
    for (auto& w : workers) w.join();
    progress_.finish();
    s_.published = log_.published_count();
    s_.publish_failed = log_.failed_count();
    s_.publish_seconds = static_cast<double>(publish_end_ns.load()) / 1e9;
    if (poll_failure) return failed(*poll_failure);
    if (log_.failed_count() > 0) {
      // Locally, a publish that fails means the stack is in trouble (or was interrupted).
      s_.failure = "publishing failed: " + log_.first_failure();
      return false;
    }
    return true;  // on a --timeout too: what is missing is worth reading back
  }

  // Reads the outcome back over the APIs; while something is short, retries for a few seconds
  // (the function's last log lines may still be on their way).
  void read_back() {
    Stack& stack = *stacks_[0];
    const std::string log_group = "/aws/lambda/" + s_.function;
    std::map<std::string, std::int64_t> peeks;
    std::map<std::string, DeadLetter> dead_seen;  // every DLQ message found so far, by id
    const auto settle_until = std::chrono::steady_clock::now() + kSettleTime;
    for (;;) {
      auto scan = scan_orders(stack, s_.table, o_.orders, run_id_, log_);
      if (!scan) return void(failed(scan.error()));
      s_.stored = scan->stored;
      s_.unexpected = scan->unexpected;
      s_.missing_sample = scan->missing_sample;
      if (!scan->latencies_ms.empty()) {
        s_.latency_p50_ms = percentile(scan->latencies_ms, 50);
        s_.latency_p99_ms = percentile(scan->latencies_ms, 99);
        s_.latency_max_ms = scan->latencies_ms.back();
        double span = static_cast<double>(scan->last_received_ms - first_publish_ms_) / 1000.0;
        s_.throughput_per_s =
            static_cast<double>(scan->latencies_ms.size()) / std::max(span, 0.001);
      }
      auto duplicates = count_duplicates(stack, log_group);
      if (!duplicates) return void(failed(duplicates.error()));
      s_.duplicates_suppressed = *duplicates;
      auto dead = read_dead_letters(stack, dlq_url_, log_group, invalid_, peeks, dead_seen);
      if (!dead) return void(failed(dead.error()));
      s_.dead_lettered = std::move(*dead);
      auto rank = [&](const DeadLetter& d) {
        for (std::size_t i = 0; i < invalid_.size(); ++i)
          if (invalid_[i].kind == d.kind) return i;
        return invalid_.size();
      };
      std::stable_sort(s_.dead_lettered.begin(), s_.dead_lettered.end(),
                       [&](const DeadLetter& a, const DeadLetter& b) { return rank(a) < rank(b); });
      auto depth = stack.queue_depth(queue_url_);
      if (!depth) return void(failed(depth.error()));
      s_.queue_left = depth->visible + depth->in_flight + depth->delayed;
      s_.read_back = true;
      const bool reasons = std::all_of(s_.dead_lettered.begin(), s_.dead_lettered.end(),
                                       [](const DeadLetter& d) { return !d.reason.empty(); });
      if ((find_problems(s_).empty() && reasons) || !s_.failure.empty() ||
          std::chrono::steady_clock::now() >= settle_until)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }

  // Records `e` as the run's failure; returns false.
  bool failed(const StackError& e) {
    std::string message = e.message;
    if (e.unreachable())
      message = "the stack stopped answering (interrupted?): " + e.cause.describe();
    if (s_.failure.empty()) s_.failure = std::move(message);
    return false;
  }

  const DemoOptions& o_;
  DemoSummary& s_;
  const std::string run_id_;
  const std::vector<InvalidOrder> invalid_;
  PublishLog log_;
  Progress progress_;
  std::vector<std::unique_ptr<Stack>> stacks_;
  std::string topic_arn_, queue_url_, dlq_url_;
  std::int64_t first_publish_ms_ = 0;
};

int run_demo(const DemoOptions& o) {
  const auto started = std::chrono::steady_clock::now();
  // The demo's short timeouts: a poison order's 3 receives take ~6 s, not minutes.
  auto params = parse_parameter_overrides(o.params, {{"FunctionTimeout", "1"}, {"QueueVisibilityTimeout", "2"}});
  if (!params) {
    print_error(kCommand, params.error().message);
    return 2;
  }
  std::filesystem::path template_path =
      o.template_path.empty() ? default_template_path() : std::filesystem::path(o.template_path);
  if (template_path.empty()) {
    print_error(kCommand,
                "no deploy/template.yaml here or beside the binary; name one with --template FILE");
    return 2;
  }
  auto dir = choose_data_dir(o.data_dir);
  if (!dir) {
    print_error(kCommand, dir.error().message);
    return 2;
  }
  const auto& [data_dir, temporary] = *dir;

  DemoSummary summary;
  summary.orders = o.orders;
  summary.data_dir = data_dir;
  summary.data_dir_kept = !temporary || o.keep_data;

  LocalCloudOptions co;
  co.port = o.port;
  co.data_dir = data_dir;
  co.template_path = template_path;
  co.parameters = *params;
  co.max_workers = o.max_workers;
  co.handle_signals = true;  // Ctrl-C drains the stack; the run then fails and cleans up
  auto cloud = LocalCloud::start(co);
  if (!cloud) {
    print_error(kCommand, cloud.error().message);
    if (temporary && !o.keep_data) {
      std::error_code ec;
      std::filesystem::remove_all(data_dir, ec);
    }
    return 1;
  }
  summary.endpoint = (*cloud)->base_url();
  std::fprintf(stderr, "orderflow demo: stack up at %s (data dir %s)\n", summary.endpoint.c_str(),
               data_dir.c_str());
  DemoRun(o, summary).run((*cloud)->base_url());
  (*cloud)->stop();
  (*cloud)->wait();
  cloud->reset();
  if (temporary && !o.keep_data) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir, ec);
  }
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (o.json) {
    print_json(summary_json(summary));
  } else {
    std::string text = format_summary(summary);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
  return find_problems(summary).empty() ? 0 : 1;
}

}  // namespace

void register_demo(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "Run the order pipeline end to end on a fresh local stack and report what happened");
  cmd->footer(
      "Starts the whole stack in this process (deploy/template.yaml with FunctionTimeout=1 and\n"
      "QueueVisibilityTimeout=2, so an invalid order is retried 3 times in about 6 s), publishes\n"
      "N sample orders to OrderTopic with 5 invalid ones and 10 duplicates among them, waits\n"
      "until the valid ones are stored and the invalid ones are in the dead-letter queue, and\n"
      "prints what was stored, suppressed and dead-lettered (with the reasons), the throughput\n"
      "and the publish-to-stored latency. Exit code 0 when all came out as expected, else 1.");
  cmd->add_option("--orders,-n", o->orders, "Valid orders to publish")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000}))
      ->capture_default_str();
  cmd->add_option("--concurrency,-c", o->concurrency, "Threads publishing at once")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option(
      "--data-dir", o->data_dir,
      "Data directory (must be new or empty; default: a fresh temporary one, removed after)");
  cmd->add_flag("--keep-data", o->keep_data,
                "Keep the temporary data directory (its path is printed)");
  cmd->add_option("--port", o->port, "Port of the stack (0: any free port)")->capture_default_str();
  cmd->add_option("--template", o->template_path,
                  "CloudFormation template (default: deploy/template.yaml)");
  cmd->add_option("--param", o->params,
                  "Template parameter override Key=Value (repeatable; defaults FunctionTimeout=1, "
                  "QueueVisibilityTimeout=2)")
      ->delimiter(',');
  cmd->add_option("--max-workers", o->max_workers, "Worker processes of the function")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--timeout", o->timeout_seconds,
                  "Give up when nothing has come through the queue for this many seconds")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print the summary as one JSON object");
  cmd->callback([o, &exit_code] { exit_code = run_demo(*o); });
}

}  // namespace orderflow::cli
