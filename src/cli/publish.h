// `orderflow publish`: orders into the stack's SNS topic with PublishBatch, from a file, from
// stdin (one JSON document per line) or generated (--generate N), on several threads.
//
// The pure pieces are here for tests: sample orders and the batching rule.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace orderflow::cli {

// SNS PublishBatch limits: entries per call, and bytes of all messages together.
inline constexpr std::size_t kMaxBatchEntries = 10;
inline constexpr std::size_t kMaxBatchBytes = 256 * 1024;

struct SampleOrderOptions {
  std::string run_id;      // makes orderIds unique per run: "ord-<run_id>-<n>"
  std::uint64_t seed = 0;  // the same seed and n give the same order (createdAt aside)
};

// Order `n` of a generated run, as one line of JSON. It is a valid order (orders/order.h):
// orderId "ord-<run>-<n>", customerId, 1 to 3 items with sku, integer quantity and a
// two-decimal unitPrice, currency, total = the exact sum, createdAt (`created_at_ms`, RFC 3339
// UTC), email.
std::string sample_order(const SampleOrderOptions& options, std::uint64_t n,
                         std::int64_t created_at_ms);

// A short run id: 6 characters of [0-9a-z] taken from `random`.
std::string make_run_id(std::uint64_t random);

// True when `line` parses as JSON (any value).
bool is_json_text(std::string_view line);

// Whether a message of `next_bytes` joins a batch holding `entries` messages of `bytes` in
// total. An empty batch takes any message (an oversized one then fails on its own).
bool fits_batch(std::size_t entries, std::size_t bytes, std::size_t next_bytes);

}  // namespace orderflow::cli
