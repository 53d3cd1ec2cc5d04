// An SQS event source mapping, run locally: a queue triggers a function with batches of
// messages, as Lambda's SQS poller does.
//
// Polling. The mapping wakes through Queues::on_message_available (a message was sent or became
// visible again), never on a fixed interval. It then receives up to BatchSize messages in
// chunks of at most 10 (ReceiveMessage's limit), waiting up to MaximumBatchingWindowInSeconds
// (from the first message of the batch) for more while the batch is not full; a batch is also
// cut when its event would pass 6 MB (the messages left over open the next batch). While
// invocations are in flight up to the concurrency limit -- ScalingConfig.MaximumConcurrency,
// and never more than the function's max_concurrency() -- it does not receive. Messages are
// received with the queue's visibility timeout, or with window + function timeout + 30 s when
// window + function timeout exceed it (as Lambda does). After a failed receive (e.g. the queue
// was deleted) it retries after 1 s of clock time. When it leaves messages undeleted it also
// receives again once their visibility timeout has run out (it knows that deadline; it does
// not depend on the queue noticing it, see the report on Queues' timer).
//
// Results (AWS's rules):
//   function error, timeout, crash                      -> nothing deleted
//   success without ReportBatchItemFailures             -> every message deleted
//   with ReportBatchItemFailures, a response that is empty, null, an object without
//   batchItemFailures (or with it null) or {"batchItemFailures":[]}  -> every message deleted
//   {"batchItemFailures":[{"itemIdentifier":"<messageId>"},...]}    -> all but those deleted
//   invalid JSON, a non-object response, batchItemFailures not an array, an entry that is not
//   an object or whose itemIdentifier is missing, null, empty, not a string or not a message of
//   the batch                                                        -> nothing deleted
// Messages not deleted stay invisible until their visibility timeout runs out; the queue's
// receive count and RedrivePolicy then move them to the dead-letter queue.
//
// The event is byte-compatible with AWS's (see sqs_event_record()).
//
// Threading. Each mapping runs two threads: a poller (receives, invokes) and a completer
// (applies results: deletes). Public methods are thread-safe. State is guarded by
// State::mu; no callback into Queues or the Invoker is made with it held. Destruction stops
// both threads; results of invocations still running are then dropped (their messages come
// back after the visibility timeout, nothing is lost).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "engine/functions.h"
#include "engine/queues.h"

namespace orderflow::engine {

struct EventSourceMappingConfig {
  std::string queue;     // queue name (Queues::name_from_arn turns an EventSourceArn into it)
  std::string function;  // function name
  int batch_size = 10;                       // 1..10000; > 10 needs a batching window >= 1 s
  int maximum_batching_window_seconds = 0;   // 0..300
  bool report_batch_item_failures = false;   // FunctionResponseTypes ["ReportBatchItemFailures"]
  std::optional<int> maximum_concurrency;    // ScalingConfig.MaximumConcurrency, 2..1000
  bool enabled = true;
};

inline constexpr std::size_t kMaxSyncPayloadBytes = 6 * 1024 * 1024;

class EventSourceMapping {
 public:
  // Validates `config` (InvalidParameterValue: ranges above; the queue or function does not
  // exist; the queue's visibility timeout is shorter than the function's timeout) and starts
  // polling when enabled. `queues`, `invoker` and `clock` must outlive the mapping.
  static Result<std::unique_ptr<EventSourceMapping>> create(Queues& queues, Invoker& invoker, Clock& clock,
                                                            EventSourceMappingConfig config);
  ~EventSourceMapping();
  EventSourceMapping(const EventSourceMapping&) = delete;
  EventSourceMapping& operator=(const EventSourceMapping&) = delete;

  // Disabling stops new receives; invocations in flight still complete and are applied.
  void set_enabled(bool enabled);
  EventSourceMappingConfig config() const;

  struct Stats {
    std::uint64_t invocations = 0;       // batches handed to the function
    std::uint64_t failed_batches = 0;    // nothing deleted
    std::uint64_t partial_batches = 0;   // some messages reported as failures
    std::uint64_t messages_deleted = 0;
    int in_flight = 0;
    int max_in_flight = 0;               // highest in_flight seen
    std::size_t largest_batch = 0;
  };
  Stats stats() const;

 private:
  struct State;
  explicit EventSourceMapping(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

// One record of the SQS event, in AWS's field order:
// {"messageId","receiptHandle","body","attributes":{"ApproximateReceiveCount","SentTimestamp",
//  "SenderId","ApproximateFirstReceiveTimestamp"[,"AWSTraceHeader"]},"messageAttributes":{name:
//  {"stringValue"|"binaryValue"(base64),"stringListValues":[],"binaryListValues":[],"dataType"}},
//  "md5OfMessageAttributes":"..."|null,"md5OfBody","eventSource":"aws:sqs","eventSourceARN",
//  "awsRegion"}
std::string sqs_event_record(const ReceivedMessage& message, std::string_view queue_arn, std::string_view region);
// {"Records":[record,...]}
std::string sqs_event(const std::vector<std::string>& records);

// Indexes (into `batch`) of the messages to delete after `result`, by the rules above.
std::vector<std::size_t> messages_to_delete(const InvocationResult& result, bool report_batch_item_failures,
                                            const std::vector<ReceivedMessage>& batch);

}  // namespace orderflow::engine
