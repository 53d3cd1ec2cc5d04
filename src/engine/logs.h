// CloudWatch Logs, embedded: log groups, log streams and log events with the semantics of
// Amazon CloudWatch Logs (API 2014-03-28) without the wire format. Also the LogSink that the
// local Lambda runtime writes its workers' output to.
//
// Names. A log group name is 1..512 of [.-_/#A-Za-z0-9]; a log stream name 1..512 characters
// without ':' or '*'. Wherever a call takes a `log_group` it accepts the name or the group's ARN
// (`arn:aws:logs:<region>:<account>:log-group:<name>`, with or without a trailing ":*"), as
// AWS's logGroupIdentifier does. Invalid values get InvalidParameterException with AWS's text
// ("1 validation error detected: Value 'x' at 'logGroupName' failed to satisfy constraint: ...").
//
// Errors (catalogue entries, errors.def):
//   logs_resource_not_found       "The specified log group does not exist." / "... log stream ..."
//   logs_resource_already_exists  "The specified log group already exists" / "... log stream ..."
//   logs_invalid_parameter        bad names, limits, tokens, filter patterns, event batches
//   logs_validation               deleting a group or stream of a group with deletion protection
//   logs_too_many_tags            more than 50 tags on a group
//   internal_error                the store failed; it stays failed (store.h)
//
// Durability. Every API mutation (create, delete, put_log_events, retention, tags) is durable
// before it returns. LogSink::write() never waits for the disk: lines are buffered and a
// background thread submits them to the Store, each commit carrying every line written while
// the previous one was being committed (group commit), with Durability::committed (store.h:
// fsynced with the next synced write, at the latest Store::kCommittedSyncDelay later).
// flush() waits until what was written so far is fsynced.
// Every submission, the background one included, is made under the service mutex and carries
// the buffered lines first, so the order on disk is the order in memory (store.h contract).
// The destructor submits the remaining buffered lines and waits for them.
//
// Memory. Groups, streams and a compact index of every event (timestamp, sequence number,
// ingestion time, size: 32 bytes) stay in memory. Message text is kept only for the most
// recent events, up to options.message_cache_bytes (text plus kCacheEntryOverhead per
// message); older messages are read back from the store (Store::get, outside the mutex) when
// a query returns them. Only messages already durable are dropped from memory.
//
// Retention. Events whose timestamp is older than the group's retention are not returned by
// any query, and a periodic sweep (every options.sweep_interval on the injected Clock, or
// sweep_expired()) deletes them from memory and the store. Deleting a group deletes its
// streams and events; deleting a stream its events.
//
// On disk (store.h spaces, values in the engine codec, codec.h):
//   log_group   key: group name                 value: id, created, retention days (0 none),
//                                                      kms key, class, deletion protection, tags
//   log_stream  key: u64 group id + stream name value: id, created, first/last event ts,
//                                                      last ingestion (-1: none), uploads
//   log_event   key: u64 stream id + u64 seq    value: timestamp, ingestion time, message
//   counter     "logs.seq_reserved": sequence numbers are reserved in ranges, never reused.
//
// Threading: every public method is thread-safe. One mutex (Logs::Impl::mu) guards all state;
// store reads for evicted messages happen without it. The background thread (flush and sweep)
// takes the same mutex. Lock order: Logs::Impl::mu, then the Store's internal locks. LogSink
// callers (engine::Functions) call write() without holding their own lock.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "engine/functions.h"
#include "engine/store.h"

namespace orderflow::engine {

// The values retentionInDays may take (AWS's list).
inline constexpr std::array<int, 22> kLogRetentionDays = {
    1,   3,   5,   7,   14,   30,   60,   90,   120,  150,  180,
    365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};

// AWS's PutLogEvents and query limits.
inline constexpr std::size_t kMaxLogEventsPerBatch = 10'000;
inline constexpr std::size_t kMaxLogBatchBytes = 1'048'576;  // messages (UTF-8) + 26 per event
inline constexpr std::size_t kLogEventOverheadBytes = 26;
inline constexpr std::size_t kMaxLogResponseBytes =
    1'048'576;  // per GetLogEvents/FilterLogEvents page
inline constexpr Millis kMaxLogEventAge = Millis(14LL * 24 * 3600 * 1000);
inline constexpr Millis kMaxLogEventFuture = Millis(2LL * 3600 * 1000);
inline constexpr Millis kMaxLogBatchSpan = Millis(24LL * 3600 * 1000);
inline constexpr std::size_t kMaxLogGroupTags = 50;
// LogSink lines longer than this are truncated (Lambda's own limit per event).
inline constexpr std::size_t kMaxSinkMessageBytes = 256 * 1024;
// Bytes a cached message is charged besides its text (map node and string header).
inline constexpr std::size_t kCacheEntryOverhead = 64;

struct LogsOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // Message text kept in memory, all groups together (see "Memory" above).
  std::size_t message_cache_bytes = 32u << 20;
  // LogSink lines waiting for their commit, at most this many bytes of text; lines beyond it
  // are dropped (stats().dropped_lines) until the store catches up.
  std::size_t max_pending_bytes = 64u << 20;
  // How often the retention sweep runs, on the injected clock.
  Millis sweep_interval = Millis(60'000);
};

using LogTags = std::map<std::string, std::string>;

struct LogGroupInfo {
  std::string log_group_name;
  std::int64_t creation_time = 0;        // epoch ms
  std::optional<int> retention_in_days;  // none: never expire
  int metric_filter_count = 0;
  std::string arn;                // arn:aws:logs:<region>:<acct>:log-group:<name>:*
  std::string log_group_arn;      // the same without ":*"
  std::int64_t stored_bytes = 0;  // message bytes of the events retained
  std::string kms_key_id;         // empty: none
  std::string log_group_class = "STANDARD";
  bool deletion_protection_enabled = false;
};

struct LogStreamInfo {
  std::string log_stream_name;
  std::int64_t creation_time = 0;
  // Absent until the stream has had an event.
  std::optional<std::int64_t> first_event_timestamp;
  std::optional<std::int64_t> last_event_timestamp;
  std::optional<std::int64_t> last_ingestion_time;
  std::optional<std::string> upload_sequence_token;
  std::string arn;                // ...:log-group:<group>:log-stream:<stream>
  std::int64_t stored_bytes = 0;  // always 0, as AWS reports for streams since 2019
};

struct CreateLogGroupRequest {
  std::string log_group_name;
  std::string kms_key_id;  // kept and reported, not used
  LogTags tags;
  std::string log_group_class = "STANDARD";  // STANDARD | INFREQUENT_ACCESS | DELIVERY
  bool deletion_protection_enabled = false;
};

struct DescribeLogGroupsRequest {
  std::optional<std::string> log_group_name_prefix;
  std::optional<std::string> log_group_name_pattern;  // case-sensitive substring
  std::optional<std::string> log_group_class;
  std::vector<std::string> log_group_identifiers;  // names or ARNs; empty: every group
  std::optional<int> limit;                        // 1..50, default 50
  std::optional<std::string> next_token;
};

struct DescribeLogGroupsResult {
  std::vector<LogGroupInfo> log_groups;  // sorted by name
  std::optional<std::string> next_token;
};

enum class LogStreamOrder { log_stream_name, last_event_time };

struct DescribeLogStreamsRequest {
  std::string log_group;                              // name or ARN
  std::optional<std::string> log_stream_name_prefix;  // not with last_event_time
  LogStreamOrder order_by = LogStreamOrder::log_stream_name;
  bool descending = false;
  std::optional<int> limit;  // 1..50, default 50
  std::optional<std::string> next_token;
};

struct DescribeLogStreamsResult {
  std::vector<LogStreamInfo> log_streams;
  std::optional<std::string> next_token;
};

struct InputLogEvent {
  std::int64_t timestamp = 0;  // epoch ms
  std::string message;         // 1 or more bytes
};

struct PutLogEventsResult {
  std::string next_sequence_token;
  // Rejected events, as AWS reports them: [start, n) too new, [0, end) too old or expired.
  std::optional<int> too_new_log_event_start_index;
  std::optional<int> too_old_log_event_end_index;
  std::optional<int> expired_log_event_end_index;
};

struct OutputLogEvent {
  std::int64_t timestamp = 0;
  std::string message;
  std::int64_t ingestion_time = 0;
};

struct GetLogEventsRequest {
  std::string log_group;  // name or ARN
  std::string log_stream_name;
  std::optional<std::int64_t> start_time;  // inclusive
  std::optional<std::int64_t> end_time;    // exclusive
  std::optional<std::string> next_token;   // "f/..." or "b/..." from an earlier answer
  std::optional<int> limit;                // 1..10000; default: as many as fit in 1 MB
  bool start_from_head = false;            // without a token: oldest first, else the newest
};

// Tokens are never empty. A call that finds nothing beyond a token answers that same token,
// which is how paginating callers know they are done.
struct GetLogEventsResult {
  std::vector<OutputLogEvent> events;  // always in ascending time order
  std::string next_forward_token;
  std::string next_backward_token;
};

struct FilteredLogEvent {
  std::string log_stream_name;
  std::int64_t timestamp = 0;
  std::string message;
  std::int64_t ingestion_time = 0;
  std::string event_id;  // 56 digits, unique per event
};

struct SearchedLogStream {
  std::string log_stream_name;
  bool searched_completely = false;
};

struct FilterLogEventsRequest {
  std::string log_group;                              // name or ARN
  std::vector<std::string> log_stream_names;          // 1..100 names; empty: every stream
  std::optional<std::string> log_stream_name_prefix;  // not together with names
  std::optional<std::int64_t> start_time;             // inclusive
  std::optional<std::int64_t> end_time;               // inclusive
  std::string filter_pattern;                         // see FilterPattern; empty: every event
  std::optional<std::string> next_token;
  std::optional<int> limit;             // 1..10000, default 10000
  std::optional<bool> start_from_head;  // false: newest first (default true)
};

// Events of every selected stream interleaved by (timestamp, ingestion order). next_token is
// absent when there is nothing more; a page may be short (or empty) with a token when the
// 1 MB page size or the per-call scan budget ran out. searched_log_streams is empty, as AWS
// has answered since 2020.
struct FilterLogEventsResult {
  std::vector<FilteredLogEvent> events;
  std::vector<SearchedLogStream> searched_log_streams;
  std::optional<std::string> next_token;
};

// A CloudWatch Logs filter pattern, for FilterLogEvents:
//   ""                       every event
//   ERROR                    events containing "ERROR" (case-sensitive substring)
//   ERROR Exception          events containing both terms
//   "Out of memory"          a quoted phrase (\" and \\ escape inside quotes)
//   ?ERROR ?WARN             events containing any of the ?-terms (plus every plain term)
//   ERROR -Exiting           events containing ERROR but not Exiting
//   { $.level = "error" }    JSON events: selectors $.a.b / $.a[0] / $.a[*]; = and != on
//                            strings (with * wildcards) and numbers, < <= > >= on numbers,
//                            IS TRUE | IS FALSE | IS NULL, NOT EXISTS, && || and parentheses
// Anything else (unbalanced quotes or braces, an empty quoted term, stray characters, the
// space-delimited [..] and %regex% forms, which orderflow does not implement) is
// InvalidParameterException "Invalid filter pattern".
class FilterPattern {
 public:
  static Result<FilterPattern> parse(std::string_view pattern);
  bool matches(std::string_view message) const;
  bool matches_everything() const;

  struct Impl;

 private:
  explicit FilterPattern(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

struct LogsStats {
  std::uint64_t groups = 0;
  std::uint64_t streams = 0;
  std::uint64_t events = 0;  // retained in the index
  std::uint64_t cached_messages = 0;
  std::uint64_t cached_bytes = 0;    // charged bytes (text + kCacheEntryOverhead each)
  std::uint64_t store_reads = 0;     // messages read back from the store
  std::uint64_t dropped_lines = 0;   // LogSink lines not kept (bad names, backlog, failed store)
  std::uint64_t expired_events = 0;  // deleted by retention sweeps
};

class Logs final : public LogSink {
 public:
  // Loads every group, stream and event index from `store` (which must outlive the Logs) and
  // starts the background thread.
  static Result<std::unique_ptr<Logs>> open(Store& store, Clock& clock, LogsOptions options = {});
  // Stops the background thread after submitting buffered LogSink lines and waiting for them.
  ~Logs() override;
  Logs(const Logs&) = delete;
  Logs& operator=(const Logs&) = delete;

  // ---- log groups ----
  Status create_log_group(const CreateLogGroupRequest& request);
  Status delete_log_group(std::string_view log_group);
  Result<DescribeLogGroupsResult> describe_log_groups(
      const DescribeLogGroupsRequest& request) const;
  // `days` must be one of kLogRetentionDays.
  Status put_retention_policy(std::string_view log_group, int days);
  Status delete_retention_policy(std::string_view log_group);
  Status put_deletion_protection(std::string_view log_group, bool enabled);
  // Tags: keys 1..128, values 0..256 of letters, digits, spaces and _.:/=+-@; at most 50.
  Status tag_log_group(std::string_view log_group, const LogTags& tags);
  Status untag_log_group(std::string_view log_group, const std::vector<std::string>& keys);
  Result<LogTags> list_tags(std::string_view log_group) const;
  // The group ARN with ":*" (what DescribeLogGroups calls `arn`).
  std::string log_group_arn(std::string_view name) const;

  // ---- log streams ----
  Status create_log_stream(std::string_view log_group, std::string_view log_stream);
  Status delete_log_stream(std::string_view log_group, std::string_view log_stream);
  Result<DescribeLogStreamsResult> describe_log_streams(
      const DescribeLogStreamsRequest& request) const;

  // ---- events ----
  // AWS's rules: 1..10000 events in chronological order, at most 1,048,576 bytes (26 per event
  // plus the messages), accepted events spanning at most 24 h. Events more than 2 h in the
  // future, older than 14 days or older than the retention are skipped and reported. Durable
  // before it returns.
  Result<PutLogEventsResult> put_log_events(std::string_view log_group, std::string_view log_stream,
                                            const std::vector<InputLogEvent>& events);
  Result<GetLogEventsResult> get_log_events(const GetLogEventsRequest& request) const;
  Result<FilterLogEventsResult> filter_log_events(const FilterLogEventsRequest& request) const;

  // ---- LogSink ----
  // Appends one line, creating the group and the stream on first use as Lambda does. Never
  // waits for the disk. Lines for invalid names, or written after a storage failure or while
  // the backlog is over options.max_pending_bytes, are dropped and counted.
  void write(std::string_view group, std::string_view stream, TimePoint time,
             std::string_view message) override;

  // Submits the buffered LogSink lines and waits until everything written before is durable.
  Status flush();
  // Runs the retention sweep now and waits for its deletions to be durable.
  Status sweep_expired();
  LogsStats stats() const;

  struct Impl;

 private:
  explicit Logs(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderflow::engine
