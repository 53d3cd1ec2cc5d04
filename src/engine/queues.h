// SQS standard queues, embedded: the semantics of Amazon SQS without the wire format.
//
// Every mutation is durable before it is acknowledged (see store.h). Queue configuration
// travels as AWS attribute maps (name -> string value), validated here with AWS's ranges and
// error codes, so protocol adapters pass them through unchanged.
//
// Time: all deadlines (visibility, delay, retention, long-poll waits, move-task pacing) are
// read from the injected Clock; nothing here sleeps on its own. A single timer thread wakes
// long-poll waiters when their wait expires or when a message becomes visible.
//
// Thread-safety: every public method is thread-safe. One mutex (Queues::Impl::mu) guards all
// queue state; store submissions are made while holding it (store.h ordering contract).
// Callbacks passed to the *_async calls run on the store's threads, the timer thread or the
// caller's (in process, answered at once), never with the mutex held; they must return quickly.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "engine/message_attributes.h"
#include "engine/store.h"

namespace orderflow::engine {

struct QueuesOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // How long a deleted queue's name stays reserved (AWS: 60 s).
  Millis deleted_name_hold = Millis(60'000);
  // Message bodies younger than this many bytes (all queues together) stay in memory; older
  // ones are read back from the store when received.
  std::size_t body_cache_bytes = 32u << 20;
};

using AttributeMap = std::map<std::string, std::string>;
using TagMap = std::map<std::string, std::string>;

struct SendRequest {
  std::string body;
  std::optional<int> delay_seconds;  // overrides the queue's DelaySeconds
  MessageAttributes attributes;
  std::string trace_header;  // MessageSystemAttribute AWSTraceHeader, empty if none
  std::string sender_id;     // who sent it (SenderId attribute)
};

struct SendResult {
  std::string message_id;
  std::string md5_of_body;
  std::string md5_of_attributes;  // empty when the message has no attributes
};

template <class T>
struct BatchOutcome {
  std::vector<std::pair<std::string, T>> successful;      // entry id, result
  std::vector<std::pair<std::string, Error>> failed;      // entry id, error
};

struct ReceiveRequest {
  int max_messages = 1;                    // 1..10
  std::optional<int> visibility_timeout;   // 0..43200, else the queue's
  std::optional<int> wait_seconds;         // 0..20, else the queue's ReceiveMessageWaitTimeSeconds
  // The receiver lives in this process (an event source mapping). If the process stops before
  // the messages are deleted, the next open refunds this receive: the messages are visible at
  // once with their receive count as before it. (A crash of the whole local cloud is not a
  // failed attempt of the function.) So the receive is answered at once, without waiting for
  // the disk: its writes are committed with Durability::committed (store.h), and a power loss
  // that loses them loses only what the refund would undo anyway. Receives through the API
  // never set it.
  bool in_process = false;
};

struct ReceivedMessage {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  std::string md5_of_body;
  MessageAttributes attributes;
  std::string sender_id;
  std::int64_t sent_timestamp_ms = 0;
  std::int64_t first_receive_timestamp_ms = 0;
  int receive_count = 0;
  std::string trace_header;
  std::string dead_letter_source_arn;  // set on messages moved into a DLQ
};

struct ChangeVisibilityEntry {
  std::string receipt_handle;
  int visibility_timeout = 0;
};

struct MoveTask {
  std::string task_handle;
  std::string status;  // RUNNING, COMPLETED, CANCELLING, CANCELLED, FAILED
  std::string source_arn;
  std::string destination_arn;  // empty: each message's original source queue
  std::optional<int> max_per_second;
  std::int64_t moved = 0;
  std::int64_t to_move = 0;
  std::string failure_reason;
  std::int64_t started_ms = 0;
};

struct QueueCounts {
  std::int64_t visible = 0;
  std::int64_t not_visible = 0;  // received and in flight
  std::int64_t delayed = 0;
};

class Queues {
 public:
  static Result<std::unique_ptr<Queues>> open(Store& store, Clock& clock, QueuesOptions options = {});
  ~Queues();
  Queues(const Queues&) = delete;
  Queues& operator=(const Queues&) = delete;

  // ---- queues ----
  // Idempotent for identical attributes; QueueAlreadyExists otherwise. Returns the queue name.
  Result<std::string> create_queue(std::string_view name, const AttributeMap& attributes,
                                   const TagMap& tags = {});
  Status delete_queue(std::string_view name);
  // Names starting with `prefix`, sorted; at most `max_results` (1..1000) after `after` (exclusive).
  Result<std::vector<std::string>> list_queues(std::string_view prefix, std::size_t max_results = 1000,
                                               std::string_view after = {}) const;
  bool exists(std::string_view name) const;
  // `names` may contain "All". Unknown names -> InvalidAttributeName.
  Result<AttributeMap> get_attributes(std::string_view name, const std::vector<std::string>& names) const;
  Status set_attributes(std::string_view name, const AttributeMap& attributes);
  Result<QueueCounts> counts(std::string_view name) const;
  std::string arn(std::string_view name) const;
  // The queue named by an SQS ARN of this account/region, if it is one.
  std::optional<std::string> name_from_arn(std::string_view arn) const;
  // Source queues whose RedrivePolicy targets `name`.
  Result<std::vector<std::string>> dead_letter_sources(std::string_view name) const;

  Status tag(std::string_view name, const TagMap& tags);
  Status untag(std::string_view name, const std::vector<std::string>& keys);
  Result<TagMap> tags(std::string_view name) const;

  // ---- messages ----
  // The *_async forms answer through their callback without waiting for the disk: at once, on
  // the calling thread, when the request is refused; else on the store's thread once the write
  // is durable. Never with a lock of this Queues held. The plain forms wait for that answer.
  Result<SendResult> send(std::string_view queue, SendRequest request);
  using SendCallback = std::function<void(Result<SendResult>)>;
  void send_async(std::string_view queue, SendRequest request, SendCallback done);
  // Entries are (id, request); validates the batch as a whole (count, ids, total size), then each
  // entry; failed entries don't stop the others; all successes are committed together.
  Result<BatchOutcome<SendResult>> send_batch(std::string_view queue,
                                              std::vector<std::pair<std::string, SendRequest>> entries);
  using SendBatchCallback = std::function<void(Result<BatchOutcome<SendResult>>)>;
  void send_batch_async(std::string_view queue, std::vector<std::pair<std::string, SendRequest>> entries,
                        SendBatchCallback done);

  using ReceiveCallback = std::function<void(Result<std::vector<ReceivedMessage>>)>;
  // Long polling without blocking: `done` runs as soon as a message is available or when the
  // wait expires (with no messages). A receive changes only in-flight state (visibility, receive
  // count, receipt handle), so it is answered once committed (Durability::committed, store.h),
  // not after an fsync of its own: a process crash loses nothing of it; a power loss within
  // Store::kCommittedSyncDelay may, and then the messages become visible again with the receive
  // count they had (as if their visibility timeout had passed, one ApproximateReceiveCount
  // lower). Sends, deletes and everything else that is acknowledged wait for the fsync.
  void receive_async(std::string_view queue, ReceiveRequest request, ReceiveCallback done);
  // Blocking wrapper of receive_async.
  Result<std::vector<ReceivedMessage>> receive(std::string_view queue, ReceiveRequest request);

  Status delete_message(std::string_view queue, std::string_view receipt_handle);
  // `in_process`: the deleter is this process (an event source mapping, after its function
  // succeeded), which nobody outside waits on: answered at once, committed with
  // Durability::committed (store.h). A power loss within Store::kCommittedSyncDelay may then
  // bring the messages back, to be delivered again (at least once, as SQS).
  Result<BatchOutcome<bool>> delete_message_batch(
      std::string_view queue, const std::vector<std::pair<std::string, std::string>>& entries,
      bool in_process = false);
  using DeleteBatchCallback = std::function<void(Result<BatchOutcome<bool>>)>;
  void delete_message_batch_async(std::string_view queue,
                                  const std::vector<std::pair<std::string, std::string>>& entries,
                                  DeleteBatchCallback done, bool in_process = false);
  Status change_visibility(std::string_view queue, std::string_view receipt_handle, int timeout);
  Result<BatchOutcome<bool>> change_visibility_batch(
      std::string_view queue, const std::vector<std::pair<std::string, ChangeVisibilityEntry>>& entries);
  Status purge(std::string_view queue);

  // Up to `max` messages of the queue in the order they were enqueued, visible or not, without
  // receiving them: no receive count, visibility or receipt handle changes (receipt_handle is
  // empty). For the dashboard's DLQ view; SQS has no such call.
  Result<std::vector<ReceivedMessage>> peek(std::string_view queue, std::size_t max) const;
  // Moves the message with `message_id` from `queue` to the queue it was dead-lettered from, as
  // a message move task does for every message (a new message id, sent now, never received).
  // Fails with sqs_resource_not_found when no such message is in the queue, and with
  // invalid_parameter_value when it is in flight (received and not yet visible again) or its
  // source queue is unknown or gone. Durable before it returns.
  Status redrive_message(std::string_view queue, std::string_view message_id);

  // ---- message move tasks (DLQ redrive) ----
  Result<std::string> start_move_task(std::string_view source_arn, std::string_view destination_arn,
                                      std::optional<int> max_per_second);
  Result<std::vector<MoveTask>> list_move_tasks(std::string_view source_arn, int max_results) const;
  Result<std::int64_t> cancel_move_task(std::string_view task_handle);

  // Called by Topics to enqueue to several queues in ONE durable batch (never a partial
  // fan-out). A delivery to a missing queue, or one the queue would reject (size, attributes),
  // is skipped, as SNS drops deliveries its publisher never hears of. Returns how many were
  // enqueued; fails only when the batch could not be made durable.
  struct Delivery {
    std::string queue;
    SendRequest request;
  };
  Result<std::size_t> deliver_all(std::vector<Delivery> deliveries);

  // Registers `fn` to be called (without locks held) whenever a message is enqueued to or made
  // visible in `queue`. Used by event source mappings to wake without polling.
  void on_message_available(std::string_view queue, std::function<void()> fn);

 private:
  struct Impl;
  explicit Queues(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderflow::engine
