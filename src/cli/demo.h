// `orderflow demo`: the seed's scenario end to end, in one command. It starts the whole local
// cloud in this process (cli/local_cloud.h) on a fresh data directory, publishes N generated
// orders to OrderTopic through the SNS API -- among them 5 invalid orders and 10 re-published
// ones -- waits for them to come through OrderQueue-CF and ProcessOrderLambda, and reports
// what happened, read back over the AWS APIs only:
//   stored          Scan of Orders (orderId, receivedAt, messageId): every valid order once,
//                   nothing else;
//   duplicates      the function's log lines with outcome "duplicate" (FilterLogEvents);
//   dead-lettered   the messages of OrderQueueDLQ-CF, each with the reason the function
//                   logged for it (as `orderflow dlq list` finds it) and its receives;
//   throughput      valid orders / (last receivedAt - first publish);
//   latency         per stored order, receivedAt - the time its PublishBatch call was sent.
// Exit code 0 when everything came out as expected, 1 otherwise, 2 for bad arguments.
//
// The pure pieces are here for tests: the mix of orders, percentiles, RFC 3339 times, the
// verdict and the summary's text and JSON.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/publish.h"

namespace orderflow::cli {

inline constexpr std::size_t kDemoInvalidOrders = 5;
inline constexpr std::size_t kDemoDuplicates = 10;

// One invalid order of the demo: what is wrong with it, and the message published.
struct InvalidOrder {
  std::string kind;  // "not JSON", "no orderId", "quantity 0", "total != items", "bad currency"
  std::string message;
};

// The 5 invalid orders of a run (each breaks one rule of orders/order.h, so the function
// rejects it on every receive); their orderIds, when they have one, are "ord-<run>-bad-...".
std::vector<InvalidOrder> invalid_orders(std::string_view run_id, std::int64_t created_at_ms);

// A message published besides the valid orders, and where: right after valid order `after`.
struct ExtraMessage {
  enum class Kind { invalid, duplicate };
  Kind kind = Kind::invalid;
  std::uint64_t after = 0;  // 1..orders
  std::size_t index = 0;    // invalid: into invalid_orders()
  std::uint64_t order = 0;  // duplicate: the valid order it re-publishes (<= after)
};

// Where the 5 invalid orders and the 10 duplicates go among `orders` (>= 1) valid ones,
// sorted by `after`: invalid ones at 1/6, 2/6, ... 5/6 of the run; duplicate j re-publishes
// order 1 + j*orders/10, about a tenth of the run after the original (at the end at the
// latest). Small runs repeat orders (orders = 1: ten copies of order 1).
std::vector<ExtraMessage> plan_extra_messages(std::uint64_t orders);

// The order number n of "ord-<run_id>-<n>", or nullopt for any other id.
std::optional<std::uint64_t> order_number(std::string_view order_id, std::string_view run_id);


// The nearest-rank percentile `p` (0 < p <= 100) of `sorted` (ascending, non-empty).
std::int64_t percentile(const std::vector<std::int64_t>& sorted, double p);

struct DeadLetter {
  std::string message_id;
  std::optional<std::string> order_id;
  std::string kind;           // of the invalid order it is, "" when it is none of them
  std::string reason;         // "" when the function's logs give none
  std::int64_t receives = 0;  // on OrderQueue-CF (the demo's own peek not counted)
};

struct DemoSummary {
  std::uint64_t orders = 0;  // valid orders asked for
  std::string topic = "OrderTopic";
  std::string queue = "OrderQueue-CF";
  std::string dlq = "OrderQueueDLQ-CF";
  std::string function = "ProcessOrderLambda";
  std::string table = "Orders";

  std::int64_t published = 0;       // messages accepted by PublishBatch
  std::int64_t publish_failed = 0;  // messages refused
  double publish_seconds = 0;
  std::int64_t stored = 0;      // distinct valid orders in the table
  std::int64_t unexpected = 0;  // items in the table that are not one of the valid orders
  std::vector<std::string> missing_sample;  // a few orderIds not stored
  std::int64_t duplicates_suppressed = 0;
  std::vector<DeadLetter> dead_lettered;
  std::int64_t queue_left = 0;  // messages still in OrderQueue-CF at the end
  std::optional<double> throughput_per_s;
  std::optional<std::int64_t> latency_p50_ms;
  std::optional<std::int64_t> latency_p99_ms;
  std::optional<std::int64_t> latency_max_ms;
  double seconds = 0;    // the whole run, start of the stack to the verdict
  std::string endpoint;  // where the stack listened
  std::string data_dir;
  bool data_dir_kept = false;
  std::string failure;  // a failure that stopped the run early ("" when it ran to the end)
  bool read_back =
      false;  // the outcome (table, DLQ, logs) was read: the counts below mean something
};

// What did not come out as expected, one line each; empty means success. Expected: every
// message published, all `orders` stored and nothing else, kDemoDuplicates duplicates
// suppressed, exactly the kDemoInvalidOrders invalid orders dead-lettered, the queue empty.
// A run that stopped before reading the outcome back has its failure as the only problem.
std::vector<std::string> find_problems(const DemoSummary& s);

// The summary for people: a block of aligned lines ending with the verdict ("result  OK", or
// "result  FAILED" followed by the problems). Without read_back, only what is known.
std::string format_summary(const DemoSummary& s);

// The summary as one JSON object: stored, expected, duplicates_suppressed, dead_lettered
// [{messageId, orderId?, kind, reason, receives}], throughput_per_s, latency_ms {p50, p99,
// max}, seconds, ok, problems, and the rest of the counts.
boost::json::object summary_json(const DemoSummary& s);

}  // namespace orderflow::cli
