#include "engine/event_source_mapping.h"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "common/util.h"

namespace orderflow::engine {

namespace json = boost::json;

namespace {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 0xf]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void append_field(std::string& out, std::string_view key, std::string_view value, bool comma = true) {
  if (comma) out.push_back(',');
  append_json_string(out, key);
  out.push_back(':');
  append_json_string(out, value);
}

std::string region_of_arn(std::string_view arn) {
  // arn:aws:sqs:<region>:<account>:<name>
  std::size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string_view::npos) return {};
    ++pos;
  }
  auto end = arn.find(':', pos);
  return std::string(arn.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
}

constexpr std::size_t kEventOverhead = sizeof("{\"Records\":[]}");

}  // namespace

std::string sqs_event_record(const ReceivedMessage& m, std::string_view queue_arn, std::string_view region) {
  std::string out;
  out.reserve(m.body.size() + 512);
  out.push_back('{');
  append_field(out, "messageId", m.message_id, false);
  append_field(out, "receiptHandle", m.receipt_handle);
  append_field(out, "body", m.body);
  out += ",\"attributes\":{";
  append_field(out, "ApproximateReceiveCount", std::to_string(m.receive_count), false);
  append_field(out, "SentTimestamp", std::to_string(m.sent_timestamp_ms));
  append_field(out, "SenderId", m.sender_id);
  append_field(out, "ApproximateFirstReceiveTimestamp", std::to_string(m.first_receive_timestamp_ms));
  if (!m.trace_header.empty()) append_field(out, "AWSTraceHeader", m.trace_header);
  out += "},\"messageAttributes\":{";
  bool first = true;
  for (const auto& [name, v] : m.attributes) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, name);
    out += ":{";
    if (v.is_binary()) append_field(out, "binaryValue", base64_encode(v.binary_value), false);
    else append_field(out, "stringValue", v.string_value, false);
    out += ",\"stringListValues\":[],\"binaryListValues\":[]";
    append_field(out, "dataType", v.data_type);
    out.push_back('}');
  }
  out += "},\"md5OfMessageAttributes\":";
  std::string md5_attrs = md5_of_message_attributes(m.attributes);
  if (md5_attrs.empty()) out += "null";
  else append_json_string(out, md5_attrs);
  append_field(out, "md5OfBody", m.md5_of_body);
  append_field(out, "eventSource", "aws:sqs");
  append_field(out, "eventSourceARN", queue_arn);
  append_field(out, "awsRegion", region);
  out.push_back('}');
  return out;
}

std::string sqs_event(const std::vector<std::string>& records) {
  std::size_t n = kEventOverhead;
  for (const auto& r : records) n += r.size() + 1;
  std::string out;
  out.reserve(n);
  out += "{\"Records\":[";
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += records[i];
  }
  out += "]}";
  return out;
}

std::vector<std::size_t> messages_to_delete(const InvocationResult& result, bool report_batch_item_failures,
                                            const std::vector<ReceivedMessage>& batch) {
  std::vector<std::size_t> all(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) all[i] = i;
  if (!result.ok()) return {};
  if (!report_batch_item_failures) return all;
  std::string_view p = result.payload;
  while (!p.empty() && (p.front() == ' ' || p.front() == '\n' || p.front() == '\r' || p.front() == '\t'))
    p.remove_prefix(1);
  if (p.empty()) return all;
  boost::system::error_code ec;
  json::value v = json::parse(p, ec);
  if (ec) return {};
  if (v.is_null()) return all;
  if (!v.is_object()) return {};
  const json::value* failures = v.as_object().if_contains("batchItemFailures");
  if (failures == nullptr || failures->is_null()) return all;
  if (!failures->is_array()) return {};
  std::set<std::string_view> failed;
  for (const auto& entry : failures->as_array()) {
    if (!entry.is_object()) return {};
    const json::value* id = entry.as_object().if_contains("itemIdentifier");
    if (id == nullptr || !id->is_string() || id->as_string().empty()) return {};
    std::string_view sid(id->as_string().data(), id->as_string().size());
    bool known = std::any_of(batch.begin(), batch.end(), [&](const ReceivedMessage& m) { return m.message_id == sid; });
    if (!known) return {};
    failed.insert(sid);
  }
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (!failed.contains(batch[i].message_id)) out.push_back(i);
  return out;
}

// ---------------------------------------------------------------------------------------------

struct EventSourceMapping::State : std::enable_shared_from_this<State> {
  State(Queues& q, Invoker& i, Clock& c, EventSourceMappingConfig cfg)
      : queues(q), invoker(i), clock(c), config(std::move(cfg)) {}

  Queues& queues;
  Invoker& invoker;
  Clock& clock;
  std::string queue_arn;
  std::string region;

  struct Completion {
    std::vector<ReceivedMessage> batch;
    InvocationResult result;
    TimePoint visible_again{};  // when messages not deleted can be received again
  };

  mutable std::mutex mu;
  std::condition_variable poll_cv;      // wakes the poller; with mu
  std::condition_variable complete_cv;  // wakes the completer; with mu
  EventSourceMappingConfig config;      // guarded by mu (enabled changes)
  bool stopping = false;                // guarded by mu
  bool wake = true;                     // guarded by mu: messages may be available
  int in_flight = 0;                    // guarded by mu
  // Guarded by mu: when to receive again without a notification -- after a failed receive,
  // and when messages left undeleted become visible again (the mapping knows when; it does not
  // rely on the queue's notification for messages it received itself).
  std::optional<TimePoint> recheck_at;
  std::deque<Completion> completions;   // guarded by mu
  Stats stats;                          // guarded by mu
  std::vector<ReceivedMessage> carry;   // poller thread only: received, not yet in a batch
  std::optional<TimePoint> carry_since; // poller thread only: when `carry` was received
  int carry_visibility = 0;             // poller thread only

  void recheck_by(TimePoint t) {  // mu held
    if (!recheck_at || t < *recheck_at) recheck_at = t;
  }
  std::thread poller, completer;

  int limit() const {
    int l = config.maximum_concurrency.value_or(1000);
    if (auto m = invoker.max_concurrency(config.function)) l = std::min(l, *m);
    return std::max(l, 1);
  }

  int visibility_timeout() {
    int vis = 30;
    auto attrs = queues.get_attributes(config.queue, {"VisibilityTimeout"});
    if (attrs && attrs->contains("VisibilityTimeout")) {
      const std::string& s = attrs->at("VisibilityTimeout");
      std::from_chars(s.data(), s.data() + s.size(), vis);
    }
    auto timeout = invoker.function_timeout(config.function).value_or(Millis(3000));
    int needed = config.maximum_batching_window_seconds +
                 static_cast<int>((timeout.count() + 999) / 1000);
    if (needed > vis) vis = std::min(needed + 30, 43200);
    return vis;
  }

  void on_available() {
    std::lock_guard g(mu);
    wake = true;
    poll_cv.notify_all();
  }

  struct Gathered {
    std::vector<ReceivedMessage> batch;
    TimePoint visible_again = TimePoint::max();  // earliest visibility deadline in the batch
  };

  // Receives one batch (poller thread, mu not held). Empty when nothing is available.
  Gathered gather(int batch_size, int window_seconds) {
    Gathered g;
    std::vector<ReceivedMessage>& batch = g.batch;
    std::size_t bytes = kEventOverhead;
    TimePoint received_at{};
    int vis = 0;
    auto take = [&](ReceivedMessage m) {
      std::size_t size = sqs_event_record(m, queue_arn, region).size() + 1;
      if (!batch.empty() && bytes + size > kMaxSyncPayloadBytes) {
        if (!carry_since) {
          carry_since = received_at;
          carry_visibility = vis;
        }
        carry.push_back(std::move(m));
        return false;
      }
      bytes += size;
      batch.push_back(std::move(m));
      return true;
    };
    if (!carry.empty()) {
      // Left over from the previous batch: they open this one.
      g.visible_again = *carry_since + Seconds(carry_visibility);
      received_at = *carry_since;
      vis = carry_visibility;
      std::vector<ReceivedMessage> held = std::move(carry);
      carry.clear();
      carry_since.reset();
      for (auto& m : held) {
        if (static_cast<int>(batch.size()) >= batch_size || !carry.empty()) {
          if (!carry_since) {
            carry_since = received_at;
            carry_visibility = vis;
          }
          carry.push_back(std::move(m));
        } else {
          take(std::move(m));
        }
      }
      if (!carry.empty()) return g;
    }
    vis = visibility_timeout();
    std::optional<TimePoint> deadline;
    if (!batch.empty() && window_seconds > 0) deadline = clock.now() + Seconds(window_seconds);
    while (static_cast<int>(batch.size()) < batch_size) {
      int n = std::min(10, batch_size - static_cast<int>(batch.size()));
      ReceiveRequest req;
      req.max_messages = n;
      req.visibility_timeout = vis;
      req.wait_seconds = 0;
      req.in_process = true;  // a crash of this process is not a failed attempt
      received_at = clock.now();
      auto got = queues.receive(config.queue, req);
      if (!got) {
        std::lock_guard lk(mu);
        recheck_by(clock.now() + Seconds(1));
        break;
      }
      if (!got->empty()) g.visible_again = std::min(g.visible_again, received_at + Seconds(vis));
      bool full = false;
      for (auto& m : *got) {
        if (!carry.empty()) {
          carry.push_back(std::move(m));
          full = true;
        } else if (!take(std::move(m))) {
          full = true;
        }
      }
      if (full) break;
      if (static_cast<int>(got->size()) == n) continue;  // maybe more right away
      // The queue is drained for now.
      if (batch.empty() || window_seconds == 0) break;
      if (!deadline) deadline = clock.now() + Seconds(window_seconds);
      std::unique_lock lk(mu);
      while (!wake && !stopping && clock.now() < *deadline) clock.wait_until(lk, poll_cv, *deadline);
      if (stopping || !wake) break;  // window over
      wake = false;
    }
    return g;
  }
  void poll_loop() {
    std::unique_lock lk(mu);
    while (!stopping) {
      if (recheck_at && clock.now() >= *recheck_at) {
        recheck_at.reset();
        wake = true;
      }
      if (!config.enabled || !wake || in_flight >= limit()) {
        if (recheck_at) clock.wait_until(lk, poll_cv, *recheck_at);
        else poll_cv.wait(lk);
        continue;
      }
      wake = false;
      int batch_size = config.batch_size;
      int window = config.maximum_batching_window_seconds;
      lk.unlock();
      Gathered g = gather(batch_size, window);
      std::vector<ReceivedMessage>& batch = g.batch;
      lk.lock();
      if (batch.empty()) continue;
      if (static_cast<int>(batch.size()) == batch_size || !carry.empty()) wake = true;  // maybe more
      ++in_flight;
      ++stats.invocations;
      stats.max_in_flight = std::max(stats.max_in_flight, in_flight);
      stats.largest_batch = std::max(stats.largest_batch, batch.size());
      lk.unlock();
      invoke(std::move(batch), g.visible_again);
      lk.lock();
    }
  }

  void invoke(std::vector<ReceivedMessage> batch, TimePoint visible_again) {
    std::vector<std::string> records;
    records.reserve(batch.size());
    for (const auto& m : batch) records.push_back(sqs_event_record(m, queue_arn, region));
    std::string event = sqs_event(records);
    std::weak_ptr<State> weak = weak_from_this();
    invoker.invoke_async(config.function, std::move(event),
                         [weak, batch = std::move(batch), visible_again](InvocationResult result) mutable {
                           auto self = weak.lock();
                           if (!self) return;
                           std::lock_guard g(self->mu);
                           self->completions.push_back(Completion{std::move(batch), std::move(result), visible_again});
                           self->complete_cv.notify_all();
                         });
  }

  void complete_loop() {
    std::unique_lock lk(mu);
    while (true) {
      if (completions.empty()) {
        if (stopping) return;
        complete_cv.wait(lk);
        continue;
      }
      Completion c = std::move(completions.front());
      completions.pop_front();
      bool rbif = config.report_batch_item_failures;
      lk.unlock();
      std::vector<std::size_t> del = messages_to_delete(c.result, rbif, c.batch);
      std::uint64_t deleted = 0;
      for (std::size_t i = 0; i < del.size(); i += 10) {
        std::vector<std::pair<std::string, std::string>> entries;
        for (std::size_t j = i; j < std::min(del.size(), i + 10); ++j)
          entries.emplace_back(std::to_string(j), c.batch[del[j]].receipt_handle);
        auto r = queues.delete_message_batch(config.queue, entries, /*in_process=*/true);
        if (r) deleted += r->successful.size();
      }
      lk.lock();
      stats.messages_deleted += deleted;
      if (del.empty()) ++stats.failed_batches;
      else if (del.size() < c.batch.size()) ++stats.partial_batches;
      if (del.size() < c.batch.size()) recheck_by(c.visible_again);
      --in_flight;
      poll_cv.notify_all();
    }
  }

  void stop() {
    {
      std::lock_guard g(mu);
      stopping = true;
      poll_cv.notify_all();
      complete_cv.notify_all();
    }
    if (poller.joinable()) poller.join();
    if (completer.joinable()) completer.join();
  }
};

EventSourceMapping::EventSourceMapping(std::shared_ptr<State> state) : state_(std::move(state)) {}

Result<std::unique_ptr<EventSourceMapping>> EventSourceMapping::create(Queues& queues, Invoker& invoker, Clock& clock,
                                                                       EventSourceMappingConfig config) {
  auto invalid = [](std::string m) { return fail(ErrorCode::invalid_parameter_value, std::move(m)); };
  if (config.batch_size < 1 || config.batch_size > 10000)
    return invalid("BatchSize must be between 1 and 10000.");
  if (config.maximum_batching_window_seconds < 0 || config.maximum_batching_window_seconds > 300)
    return invalid("MaximumBatchingWindowInSeconds must be between 0 and 300.");
  if (config.batch_size > 10 && config.maximum_batching_window_seconds < 1)
    return invalid("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10");
  if (config.maximum_concurrency && (*config.maximum_concurrency < 2 || *config.maximum_concurrency > 1000))
    return invalid("MaximumConcurrency must be between 2 and 1000.");
  if (!queues.exists(config.queue)) return invalid("Error occurred while ReceiveMessage. SQS Error Code: "
                                                   "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: "
                                                   "The specified queue does not exist.");
  auto timeout = invoker.function_timeout(config.function);
  if (!timeout) return invalid("Function not found: " + config.function);
  auto attrs = queues.get_attributes(config.queue, {"VisibilityTimeout"});
  if (!attrs) return std::unexpected(attrs.error());
  int vis = 30;
  if (attrs->contains("VisibilityTimeout")) {
    const std::string& s = attrs->at("VisibilityTimeout");
    std::from_chars(s.data(), s.data() + s.size(), vis);
  }
  if (Millis(static_cast<std::int64_t>(vis) * 1000) < *timeout)
    return invalid("Queue visibility timeout: " + std::to_string(vis) + " seconds is less than Function timeout: " +
                   std::to_string(timeout->count() / 1000) + " seconds");

  auto state = std::make_shared<State>(queues, invoker, clock, std::move(config));
  state->queue_arn = queues.arn(state->config.queue);
  state->region = region_of_arn(state->queue_arn);
  std::weak_ptr<State> weak = state;
  queues.on_message_available(state->config.queue, [weak] {
    if (auto s = weak.lock()) s->on_available();
  });
  state->poller = named_thread("of-esm-poll", [raw = state.get()] { raw->poll_loop(); });
  state->completer = named_thread("of-esm-complete", [raw = state.get()] { raw->complete_loop(); });
  return std::unique_ptr<EventSourceMapping>(new EventSourceMapping(std::move(state)));
}

EventSourceMapping::~EventSourceMapping() { state_->stop(); }

void EventSourceMapping::set_enabled(bool enabled) {
  std::lock_guard g(state_->mu);
  state_->config.enabled = enabled;
  if (enabled) state_->wake = true;
  state_->poll_cv.notify_all();
}

EventSourceMappingConfig EventSourceMapping::config() const {
  std::lock_guard g(state_->mu);
  return state_->config;
}

EventSourceMapping::Stats EventSourceMapping::stats() const {
  std::lock_guard g(state_->mu);
  Stats s = state_->stats;
  s.in_flight = state_->in_flight;
  return s;
}

}  // namespace orderflow::engine
