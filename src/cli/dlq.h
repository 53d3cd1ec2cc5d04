// `orderflow dlq list` and `orderflow dlq redrive`: the dead-letter queue of the order queue.
//
// list   peeks at up to --limit messages: ReceiveMessage (10 at a time, all attributes) with
//        a short visibility timeout so each receive returns messages not yet seen, then
//        ChangeMessageVisibilityBatch back to 0 so they are visible again at once. (Receiving
//        with visibility 0 would return the same first messages every time on a queue that
//        hands them out in order.) Receiving counts: ApproximateReceiveCount includes the
//        receives on the source queue and every peek. For each message the failure reason is
//        the "reason" of the newest log line of the function for its messageId
//        (FilterLogEvents with the filter pattern "\"<messageId>\"").
// redrive  StartMessageMoveTask from the DLQ to the order queue, then ListMessageMoveTasks
//        until the task is COMPLETED, FAILED or CANCELLED, with progress.
//
// The pure pieces are here for tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/logs.h"

namespace orderflow::cli {

struct FailureReason {
  std::string reason;
  std::int64_t timestamp = 0;  // of the log event
  std::string outcome;         // the line's "outcome", when present
};

// The newest log line about `message_id` that carries a "reason": lines are the function's
// JSON records ({"level","orderId","messageId","approximateReceiveCount","outcome","reason",
// "retryable"}), possibly after a prefix (the JSON starts at the first '{'). Lines about other
// messages, lines that are not JSON and lines without a reason are passed over.
std::optional<FailureReason> find_failure_reason(const std::vector<LogEvent>& events,
                                                 std::string_view message_id);

// The filter pattern matching log lines that mention `message_id`: the quoted term.
std::string message_id_filter(std::string_view message_id);

}  // namespace orderflow::cli
