// ProcessOrder: one SQS batch (the event Lambda's SQS event source mapping delivers) in, one
// batch response out, through an OrderStore.
//
// For each record:
//   1. unwrap the body (SNS envelope or raw message, envelope.h),
//   2. parse and validate the order (order.h),
//   3. store it (receivedAt = the clock's now after step 2, messageId = the SNS MessageId, or
//      the SQS messageId for a raw body). The valid orders of the batch go to
//      OrderStore::put_all together, so a store may put them at once; a record whose orderId
//      an earlier record of the batch has goes in a later call, after that one is stored, so
//      the first delivery in the batch is the one stored and the later ones are duplicates,
//   4. write one JSON log line, in the batch's order:
//        {"level":"INFO|WARN|ERROR","orderId":"...","messageId":"<SQS messageId>",
//         "approximateReceiveCount":N,"outcome":"stored|duplicate|rejected|store_error|
//         not_attempted","reason":"..."}
//      (orderId absent when unknown, reason only for failures, "retryable" for store errors).
// A stored order and a duplicate (the orderId exists: an earlier delivery of the same order)
// succeed. A rejected order (bad envelope, bad JSON, failed validation), a store error
// (retryable or not) and a record not attempted because the deadline is near fail: the
// response lists their messageIds so only they are retried (and, after maxReceiveCount
// receives, dead-lettered).
//
// Response body (FunctionResponseTypes ReportBatchItemFailures):
//   {"batchItemFailures":[{"itemIdentifier":"<messageId>"},...]}
//
// Metrics: after the batch, one CloudWatch Embedded Metric Format line (namespace OrderFlow):
//   {"_aws":{"Timestamp":<epoch ms>,"CloudWatchMetrics":[{"Namespace":"OrderFlow",
//     "Dimensions":[[<dimension names>]],"Metrics":[{"Name":"OrdersStored","Unit":"Count"},
//     {"Name":"OrdersDuplicate","Unit":"Count"},{"Name":"OrdersRejected","Unit":"Count"},
//     {"Name":"StoreErrors","Unit":"Count"},{"Name":"ProcessingTime","Unit":"Milliseconds"}]}]},
//    <dimension name>:"<value>",...,"OrdersStored":n,...,"ProcessingTime":ms}
//
// An event that is not a JSON object with a "Records" array, or with a record that is not an
// object carrying a non-empty string "messageId", fails the whole invocation (InvalidEvent):
// no record is attempted and no failure list could name the bad record.
//
// Thread-safety: process_sqs_event is reentrant; the store, clock and sink must be safe for
// the way the caller shares them.
#pragma once

#include <cstddef>
#include <expected>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "orders/order.h"

namespace orderflow::orders {

struct StoreOutcome {
  enum class Kind { stored, duplicate, error };
  Kind kind = Kind::stored;
  std::string message;     // what failed (error only)
  bool retryable = false;  // the failure may pass on a later attempt (error only)

  static StoreOutcome stored() { return {Kind::stored, {}, false}; }
  static StoreOutcome duplicate() { return {Kind::duplicate, {}, false}; }
  static StoreOutcome error(std::string message, bool retryable) {
    return {Kind::error, std::move(message), retryable};
  }
};

// One order to store: what put_if_absent takes.
struct PutRequest {
  const Order* order = nullptr;
  std::string_view received_at;
  std::string_view message_id;
};

// Where orders go (DynamoDB in production, a fake in tests).
class OrderStore {
 public:
  virtual ~OrderStore() = default;
  // Stores `order` plus `received_at` and `message_id` unless an order with the same orderId
  // is stored already (then: duplicate, and the stored order is left unchanged).
  virtual StoreOutcome put_if_absent(const Order& order, std::string_view received_at,
                                     std::string_view message_id) = 0;

  // Stores each request as put_if_absent does; a store may run several at once, in any order
  // (so callers never pass two orders with the same orderId in one call). Before starting a
  // put it asks `may_start()` (possibly from several threads at once); a put it may not start
  // is left nullopt in the result, which has one entry per request. This default runs them
  // one after the other, stopping at the first `may_start()` that is false.
  virtual std::vector<std::optional<StoreOutcome>> put_all(
      std::span<const PutRequest> requests, const std::function<bool()>& may_start);
};

// Receives log lines: each one complete JSON document without a trailing newline.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void write(std::string_view line) = 0;
};

struct ProcessOptions {
  // When set, records not yet started once now >= deadline - margin are not attempted (they
  // fail, to be retried) so the batch answers before the function times out. The margin is
  // deadline_margin, or a quarter of the time left when the batch starts if that is less.
  std::optional<TimePoint> deadline;
  Millis deadline_margin{1000};
  // EMF dimensions (name, value), e.g. {"FunctionName", "ProcessOrderLambda"}; none by
  // default (one dimension set without keys).
  std::vector<std::pair<std::string, std::string>> metric_dimensions;
};

enum class RecordOutcome { stored, duplicate, rejected, store_error, not_attempted };
std::string_view to_string(RecordOutcome outcome);

struct RecordResult {
  std::string message_id;  // the SQS messageId
  std::optional<std::string> order_id;
  RecordOutcome outcome = RecordOutcome::stored;
  std::string reason;  // why it failed; empty on success
  bool succeeded() const {
    return outcome == RecordOutcome::stored || outcome == RecordOutcome::duplicate;
  }
};

struct BatchResult {
  std::vector<RecordResult> records;  // in event order
  std::size_t stored = 0, duplicates = 0, rejected = 0, store_errors = 0, not_attempted = 0;
  Millis processing_time{0};
  // The messageIds that failed, and the response body naming them.
  std::vector<std::string> failed_message_ids;
  std::string response_body;
};

struct InvalidEvent {
  std::string message;  // e.g. "event has no Records array"
};

std::expected<BatchResult, InvalidEvent> process_sqs_event(std::string_view event_json,
                                                           OrderStore& store, Clock& clock,
                                                           LogSink& log,
                                                           const ProcessOptions& options = {});

// The {"batchItemFailures":[...]} body for these messageIds.
std::string batch_response_body(const std::vector<std::string>& failed_message_ids);

}  // namespace orderflow::orders
