#include "engine/queues.h"

#include <absl/container/btree_map.h>
#include <absl/container/btree_set.h>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <future>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/await.h"
#include "common/util.h"
#include "engine/codec.h"

namespace orderflow::engine {
namespace json = boost::json;

namespace {

constexpr int kMaxBatchEntries = 10;
constexpr std::int64_t kMaxBatchBytes = 1'048'576;
constexpr int kMaxVisibility = 43'200;
constexpr std::int64_t kMaxInflight = 120'000;
constexpr std::uint64_t kSeqReserveStep = 1'000'000;

// ---- validation helpers ----

std::optional<long long> parse_int(std::string_view s) {
  long long v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool valid_queue_name(std::string_view name) {
  if (name.empty() || name.size() > 80) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

bool valid_batch_id(std::string_view id) { return valid_queue_name(id); }

Error queue_missing() {
  return Error{ErrorCode::queue_does_not_exist, "The specified queue does not exist."};
}

Error invalid_param(std::string_view value, std::string_view param, std::string_view reason) {
  return Error{ErrorCode::invalid_parameter_value, "Value " + std::string(value) + " for parameter " +
                                                       std::string(param) + " is invalid. Reason: " +
                                                       std::string(reason)};
}

// Checks shared by every *Batch call: 1..10 entries, distinct well-formed ids.
template <class Entries>
Status validate_batch(const Entries& entries, std::string_view entry_kind) {
  if (entries.empty())
    return fail(ErrorCode::empty_batch_request,
                "There should be at least one " + std::string(entry_kind) + " in the request.");
  if (entries.size() > kMaxBatchEntries)
    return fail(ErrorCode::too_many_entries_in_batch_request,
                "Maximum number of entries per request are 10. You have sent " +
                    std::to_string(entries.size()) + ".");
  std::set<std::string_view> seen;
  for (const auto& [id, _] : entries) {
    if (!valid_batch_id(id))
      return fail(ErrorCode::invalid_batch_entry_id,
                  "A batch entry id can only contain alphanumeric characters, hyphens and "
                  "underscores. It can be at most 80 letters long.");
    if (!seen.insert(id).second)
      return fail(ErrorCode::batch_entry_ids_not_distinct, "Id " + std::string(id) + " repeated.");
  }
  return {};
}

// ---- configuration ----

struct RedrivePolicy {
  std::string dead_letter_target_arn;
  int max_receive_count = 10;
};

struct Config {
  int visibility_timeout = 30;
  int delay_seconds = 0;
  int retention_seconds = 345'600;
  int maximum_message_size = 1'048'576;
  int receive_wait_seconds = 0;
  std::optional<RedrivePolicy> redrive;
  std::string redrive_allow_policy;  // normalized JSON, empty = allowAll
  std::string policy;
  std::string kms_master_key_id;
  int kms_data_key_reuse_period = 300;
  bool sqs_managed_sse = true;
};

struct IntAttr {
  const char* name;
  int Config::*field;
  long long lo, hi;
};
constexpr IntAttr kIntAttrs[] = {
    {"VisibilityTimeout", &Config::visibility_timeout, 0, kMaxVisibility},
    {"DelaySeconds", &Config::delay_seconds, 0, 900},
    {"MessageRetentionPeriod", &Config::retention_seconds, 60, 1'209'600},
    {"MaximumMessageSize", &Config::maximum_message_size, 1024, 1'048'576},
    {"ReceiveMessageWaitTimeSeconds", &Config::receive_wait_seconds, 0, 20},
    {"KmsDataKeyReusePeriodSeconds", &Config::kms_data_key_reuse_period, 60, 86'400},
};

std::string redrive_json(const RedrivePolicy& r) {
  json::object o;
  o["deadLetterTargetArn"] = r.dead_letter_target_arn;
  o["maxReceiveCount"] = r.max_receive_count;
  return json::serialize(o);
}

Error bad_attr_value(std::string_view name) {
  return Error{ErrorCode::invalid_attribute_value,
               "Invalid value for the parameter " + std::string(name) + "."};
}

Result<RedrivePolicy> parse_redrive(std::string_view text) {
  std::error_code ec;
  json::value v = json::parse(text, ec);
  auto bad = [&](std::string_view reason) {
    return std::unexpected(Error{ErrorCode::invalid_parameter_value,
                                 "Value " + std::string(text) +
                                     " for parameter RedrivePolicy is invalid. Reason: " +
                                     std::string(reason)});
  };
  if (ec || !v.is_object()) return bad("Redrive policy is not a valid JSON map.");
  const auto& o = v.as_object();
  RedrivePolicy r;
  auto* arn = o.if_contains("deadLetterTargetArn");
  if (arn == nullptr || !arn->is_string())
    return bad("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.");
  r.dead_letter_target_arn = std::string(arn->as_string());
  auto* mrc = o.if_contains("maxReceiveCount");
  if (mrc == nullptr) return bad("Redrive policy does not contain mandatory attribute: maxReceiveCount.");
  std::optional<long long> n;
  if (mrc->is_int64()) n = mrc->as_int64();
  else if (mrc->is_uint64() && mrc->as_uint64() < 100000) n = static_cast<long long>(mrc->as_uint64());
  else if (mrc->is_string()) n = parse_int(std::string(mrc->as_string()));
  if (!n || *n < 1 || *n > 1000) return bad("Invalid value for maxReceiveCount: must be between 1 and 1000.");
  r.max_receive_count = static_cast<int>(*n);
  for (const auto& kv : o) {
    if (kv.key() != "deadLetterTargetArn" && kv.key() != "maxReceiveCount")
      return bad("Only following attributes are supported: [deadLetterTargetArn, maxReceiveCount].");
  }
  return r;
}

struct AllowPolicy {
  std::string permission = "allowAll";
  std::vector<std::string> sources;
};

Result<AllowPolicy> parse_allow(std::string_view text) {
  std::error_code ec;
  json::value v = json::parse(text, ec);
  auto bad = [&](std::string_view reason) {
    return std::unexpected(Error{ErrorCode::invalid_parameter_value,
                                 "Value " + std::string(text) +
                                     " for parameter RedriveAllowPolicy is invalid. Reason: " +
                                     std::string(reason)});
  };
  if (ec || !v.is_object()) return bad("Amazon SQS can't parse the redrive allow policy.");
  const auto& o = v.as_object();
  AllowPolicy p;
  auto* perm = o.if_contains("redrivePermission");
  if (perm == nullptr || !perm->is_string()) return bad("Redrive permission is missing.");
  p.permission = std::string(perm->as_string());
  if (p.permission != "allowAll" && p.permission != "denyAll" && p.permission != "byQueue")
    return bad("Redrive permission must be one of allowAll, denyAll, byQueue.");
  if (auto* src = o.if_contains("sourceQueueArns")) {
    if (p.permission != "byQueue")
      return bad("Only byQueue redrive permission can have source queue ARNs.");
    if (!src->is_array()) return bad("sourceQueueArns must be a list.");
    for (const auto& a : src->as_array()) {
      if (!a.is_string()) return bad("sourceQueueArns must contain strings.");
      p.sources.emplace_back(a.as_string());
    }
    if (p.sources.empty() || p.sources.size() > 10)
      return bad("sourceQueueArns must contain between 1 and 10 ARNs.");
  } else if (p.permission == "byQueue") {
    return bad("byQueue redrive permission requires sourceQueueArns.");
  }
  return p;
}

// ---- messages ----

// Message ids are UUIDs kept as 16 raw bytes.
using MessageIdBytes = std::array<unsigned char, 16>;

MessageIdBytes new_message_id() {
  std::string b = random_bytes(16);
  MessageIdBytes id;
  for (std::size_t i = 0; i < 16; ++i) id[i] = static_cast<unsigned char>(b[i]);
  id[6] = static_cast<unsigned char>((id[6] & 0x0f) | 0x40);
  id[8] = static_cast<unsigned char>((id[8] & 0x3f) | 0x80);
  return id;
}

std::string format_id(const MessageIdBytes& id) {
  std::string h = hex_encode(std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

bool parse_id(std::string_view text, MessageIdBytes& id) {
  std::string hex;
  for (char c : text)
    if (c != '-') hex.push_back(c);
  if (hex.size() != 32) return false;
  for (std::size_t i = 0; i < 16; ++i) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, v, 16);
    if (ec != std::errc() || p != hex.data() + 2 * i + 2) return false;
    id[i] = static_cast<unsigned char>(v);
  }
  return true;
}

// Rarely present parts of a message, kept out of line so a plain message stays small.
struct MsgExtras {
  MessageAttributes attributes;
  std::string trace_header;
  std::string dlq_source_arn;
};

// One message in memory. The body is cached in memory only while it is young (see
// Impl::cache_body); otherwise it is read back from the store when the message is received.
struct Msg {
  std::uint64_t seq = 0;
  MessageIdBytes id{};
  std::uint32_t sender = 0;  // index into Impl::senders
  std::int32_t receive_count = 0;
  std::string body;  // empty when not cached (an SQS body is never empty)
  std::unique_ptr<MsgExtras> extras;
  std::int64_t sent_ms = 0;
  std::int64_t initial_visible_ms = 0;  // sent_ms + delay
  // receive state
  std::int64_t first_receive_ms = 0;
  std::int64_t received_ms = 0;
  std::int64_t visible_ms = 0;
  // The last receive was by a consumer inside this process (an event source mapping): if the
  // process stops before the message is deleted, that receive is refunded on the next open.
  bool in_process = false;

  MsgExtras& ext() {
    if (!extras) extras = std::make_unique<MsgExtras>();
    return *extras;
  }
  const MessageAttributes& attributes() const {
    static const MessageAttributes kNone;
    return extras ? extras->attributes : kNone;
  }
  std::string_view dlq_source_arn() const { return extras ? std::string_view(extras->dlq_source_arn) : ""; }
  std::string_view trace_header() const { return extras ? std::string_view(extras->trace_header) : ""; }
};

std::string encode_message(const Msg& m, std::string_view body, std::string_view sender) {
  Encoder e;
  e.str(format_id(m.id)).str(body).str(sender).str(m.trace_header()).str(m.dlq_source_arn());
  const auto& attrs = m.attributes();
  e.i64(m.sent_ms).i64(m.initial_visible_ms).u64(attrs.size());
  for (const auto& [name, v] : attrs) e.str(name).str(v.data_type).str(v.string_value).str(v.binary_value);
  return e.take();
}

// Decodes a message record; the body goes to `body` and the sender id to `sender`.
bool decode_message(std::string_view in, Msg& m, std::string& body, std::string& sender) {
  Decoder d(in);
  std::uint64_t n = 0;
  std::string id, trace, dlq;
  if (!(d.str(id) && d.str(body) && d.str(sender) && d.str(trace) && d.str(dlq) && d.i64(m.sent_ms) &&
        d.i64(m.initial_visible_ms) && d.u64(n)))
    return false;
  if (!parse_id(id, m.id)) return false;
  if (!trace.empty()) m.ext().trace_header = std::move(trace);
  if (!dlq.empty()) m.ext().dlq_source_arn = std::move(dlq);
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string name;
    MessageAttributeValue v;
    if (!(d.str(name) && d.str(v.data_type) && d.str(v.string_value) && d.str(v.binary_value))) return false;
    m.ext().attributes.emplace(std::move(name), std::move(v));
  }
  return d.done();
}

std::string encode_state(const Msg& m) {
  Encoder e;
  e.i64(m.receive_count).i64(m.first_receive_ms).i64(m.received_ms).i64(m.visible_ms);
  if (m.in_process) e.i64(1);  // optional trailing field (records without it: false)
  return e.take();
}

bool decode_state(std::string_view in, Msg& m) {
  Decoder d(in);
  std::int64_t count = 0;
  if (!(d.i64(count) && d.i64(m.first_receive_ms) && d.i64(m.received_ms) && d.i64(m.visible_ms)))
    return false;
  m.receive_count = static_cast<int>(count);
  m.in_process = false;
  if (d.done()) return true;
  std::int64_t flag = 0;
  if (!d.i64(flag)) return false;
  m.in_process = flag != 0;
  return d.done();
}

std::string message_key(std::uint32_t queue_id, std::uint64_t seq) {
  std::string k;
  k.push_back(static_cast<char>((queue_id >> 24) & 0xff));
  k.push_back(static_cast<char>((queue_id >> 16) & 0xff));
  k.push_back(static_cast<char>((queue_id >> 8) & 0xff));
  k.push_back(static_cast<char>(queue_id & 0xff));
  put_u64_be(k, seq);
  return k;
}

struct Waiter {
  std::uint64_t id = 0;
  int max = 1;
  int visibility = 30;
  bool in_process = false;
  TimePoint deadline;
  Queues::ReceiveCallback done;
};

struct Queue {
  std::uint32_t id = 0;
  std::string name;
  Config cfg;
  AttributeMap raw_policy_attrs;  // unused placeholder for future attributes
  TagMap tags;
  std::int64_t created_ms = 0;
  std::int64_t modified_ms = 0;
  std::int64_t last_purge_ms = std::numeric_limits<std::int64_t>::min() / 2;

  // B-trees keep the per-message overhead small (a backlog of millions stays in memory).
  // Iterators and references into them are invalidated by inserts and erases.
  absl::btree_map<std::uint64_t, Msg> msgs;
  absl::btree_set<std::uint64_t> ready;                              // visible now, in send order
  absl::btree_set<std::pair<std::int64_t, std::uint64_t>> pending;   // (visible_ms, seq): delayed or in flight
  absl::btree_set<std::pair<std::int64_t, std::uint64_t>> by_age;    // (sent_ms, seq): for retention
  std::int64_t delayed = 0;  // messages in `pending` never received
  std::deque<Waiter> waiters;
  std::vector<std::function<void()>> listeners;
};

struct TaskState {
  MoveTask task;
  std::string source_queue;
  std::int64_t next_tick_ms = 0;
};

}  // namespace

struct Queues::Impl {
  Store& store;
  Clock& clock;
  QueuesOptions options;

  mutable std::mutex mu;
  std::condition_variable timer_cv;
  // Everything below is guarded by mu.
  std::map<std::string, Queue, std::less<>> queues;
  std::map<std::string, std::int64_t, std::less<>> deleted_at;  // name -> deletion time
  std::map<std::string, TaskState, std::less<>> tasks;
  std::uint32_t next_queue_id = 1;
  std::uint64_t next_seq = 1;
  std::uint64_t seq_reserved = 0;
  std::string handle_secret;
  std::uint64_t next_waiter_id = 1;
  std::unordered_map<std::uint32_t, Queue*> by_id;  // queue id -> queue in `queues`
  // Sender ids are few (one per access key, plus SNS): messages keep an index.
  std::vector<std::string> senders;
  std::map<std::string, std::uint32_t, std::less<>> sender_index;
  // Bodies cached in memory, by sequence number (oldest first), and their total size.
  absl::btree_map<std::uint64_t, std::uint32_t> cached;  // seq -> queue id
  std::size_t cached_bytes = 0;
  // Every sequence number <= durable_seq is in a committed batch (written by the store's
  // writer thread, hence atomic).
  std::atomic<std::uint64_t> durable_seq{0};
  std::vector<std::function<void()>> notifications;  // to run after unlocking
  bool stopping = false;
  std::thread timer;

  Impl(Store& s, Clock& c, QueuesOptions o) : store(s), clock(c), options(std::move(o)) {}

  std::int64_t now_ms() const { return to_epoch_ms(clock.now()); }

  std::string queue_arn(std::string_view name) const {
    return "arn:aws:sqs:" + options.region + ":" + options.account_id + ":" + std::string(name);
  }

  Queue* find(std::string_view name) {
    auto it = queues.find(name);
    return it == queues.end() ? nullptr : &it->second;
  }
  const Queue* find(std::string_view name) const {
    auto it = queues.find(name);
    return it == queues.end() ? nullptr : &it->second;
  }
  Queue* find_by_arn(std::string_view arn) {
    std::string prefix = queue_arn("");
    if (arn.substr(0, prefix.size()) != prefix) return nullptr;
    return find(arn.substr(prefix.size()));
  }

  // Runs queued notifications; call without holding mu.
  void flush_notifications() {
    std::vector<std::function<void()>> todo;
    {
      std::lock_guard g(mu);
      todo.swap(notifications);
    }
    for (auto& fn : todo) fn();
  }

  void notify_available(Queue& q) {
    for (auto& fn : q.listeners) notifications.push_back(fn);
  }

  // ---- persistence of queue records ----
  std::string encode_queue(const Queue& q) const {
    json::object o;
    o["id"] = q.id;
    o["created"] = q.created_ms;
    o["modified"] = q.modified_ms;
    json::object attrs;
    for (const auto& [k, v] : config_attributes(q.cfg)) attrs[k] = v;
    o["attributes"] = std::move(attrs);
    json::object tags;
    for (const auto& [k, v] : q.tags) tags[k] = v;
    o["tags"] = std::move(tags);
    return json::serialize(o);
  }

  static AttributeMap config_attributes(const Config& c) {
    AttributeMap m;
    for (const auto& a : kIntAttrs) m[a.name] = std::to_string(c.*(a.field));
    if (c.redrive) m["RedrivePolicy"] = redrive_json(*c.redrive);
    if (!c.redrive_allow_policy.empty()) m["RedriveAllowPolicy"] = c.redrive_allow_policy;
    if (!c.policy.empty()) m["Policy"] = c.policy;
    if (!c.kms_master_key_id.empty()) m["KmsMasterKeyId"] = c.kms_master_key_id;
    m["SqsManagedSseEnabled"] = c.sqs_managed_sse ? "true" : "false";
    return m;
  }

  void persist_queue(const Queue& q, WriteBatch& b) const {
    b.put(Space::queue, q.name, encode_queue(q));
  }

  // Allocates a message sequence number, reserving ranges durably so numbers are never reused
  // after a restart (a stale receipt handle must never match a newer message).
  std::uint64_t allocate_seq(WriteBatch& b) {
    std::uint64_t s = next_seq++;
    if (s >= seq_reserved) {
      seq_reserved = s + kSeqReserveStep;
      std::string v;
      put_u64_be(v, seq_reserved);
      b.put(Space::counter, "seq_reserved", v);
    }
    return s;
  }

  // ---- receipt handles: queue id, seq, receive count, MAC ----
  std::string make_handle(std::uint32_t qid, std::uint64_t seq, int count) const {
    std::string raw = message_key(qid, seq);
    put_u64_be(raw, static_cast<std::uint64_t>(count));
    raw += hmac_sha256(handle_secret, raw).substr(0, 12);
    return base64_encode(raw);
  }

  struct HandleParts {
    std::uint32_t qid;
    std::uint64_t seq;
    int count;
  };
  std::optional<HandleParts> parse_handle(std::string_view handle) const {
    auto raw = base64_decode(handle);
    if (!raw || raw->size() != 32) return std::nullopt;
    std::string_view body(raw->data(), 20);
    if (hmac_sha256(handle_secret, body).substr(0, 12) != raw->substr(20)) return std::nullopt;
    HandleParts p;
    p.qid = (static_cast<std::uint32_t>(static_cast<std::uint8_t>(body[0])) << 24) |
            (static_cast<std::uint32_t>(static_cast<std::uint8_t>(body[1])) << 16) |
            (static_cast<std::uint32_t>(static_cast<std::uint8_t>(body[2])) << 8) |
            static_cast<std::uint32_t>(static_cast<std::uint8_t>(body[3]));
    p.seq = get_u64_be(body.substr(4, 8));
    p.count = static_cast<int>(get_u64_be(body.substr(12, 8)));
    return p;
  }

  Error invalid_handle(std::string_view handle) const {
    return Error{ErrorCode::receipt_handle_is_invalid,
                 "The input receipt handle \"" + std::string(handle) + "\" is not a valid receipt handle."};
  }

  // ---- in-memory index maintenance ----
  void index_insert(Queue& q, Msg& m, std::int64_t now) {
    q.by_age.emplace(m.sent_ms, m.seq);
    if (m.visible_ms > now) {
      q.pending.emplace(m.visible_ms, m.seq);
      if (m.receive_count == 0) ++q.delayed;
    } else {
      q.ready.insert(m.seq);
    }
  }

  void index_erase(Queue& q, const Msg& m) {
    q.by_age.erase({m.sent_ms, m.seq});
    if (q.ready.erase(m.seq) == 0) {
      if (q.pending.erase({m.visible_ms, m.seq}) > 0 && m.receive_count == 0) --q.delayed;
    }
  }

  void erase_message(Queue& q, absl::btree_map<std::uint64_t, Msg>::iterator it, WriteBatch& b) {
    std::string key = message_key(q.id, it->first);
    b.erase(Space::message, key);
    b.erase(Space::message_state, std::move(key));
    index_erase(q, it->second);
    uncache_body(it->second);
    q.msgs.erase(it);
  }

  // ---- the body cache: young bodies stay in memory, older ones are read back from disk ----
  std::uint32_t intern_sender(std::string_view sender) {
    auto it = sender_index.find(sender);
    if (it != sender_index.end()) return it->second;
    auto idx = static_cast<std::uint32_t>(senders.size());
    senders.emplace_back(sender);
    sender_index.emplace(std::string(sender), idx);
    return idx;
  }

  void cache_body(Msg& m, std::uint32_t qid) {
    cached_bytes += m.body.size();
    cached.emplace(m.seq, qid);
  }

  void uncache_body(Msg& m) {
    if (m.body.empty()) return;
    cached_bytes -= m.body.size();
    cached.erase(m.seq);
    std::string().swap(m.body);
  }

  // Drops cached bodies, oldest first, while over budget. Only bodies already durable may go.
  void evict_bodies() {
    std::uint64_t durable = durable_seq.load();
    while (cached_bytes > options.body_cache_bytes && !cached.empty()) {
      auto [seq, qid] = *cached.begin();
      if (seq > durable) return;
      auto q = by_id.find(qid);
      if (q != by_id.end()) {
        auto m = q->second->msgs.find(seq);
        if (m != q->second->msgs.end()) {
          uncache_body(m->second);
          continue;
        }
      }
      cached.erase(cached.begin());  // stale: should not happen, but never loop forever
    }
  }

  // Submits `b`; once durable, every sequence number handed out so far is durable.
  void submit(WriteBatch b, Store::Done done = nullptr, Durability durability = Durability::synced) {
    std::uint64_t upto = next_seq - 1;
    store.submit(
        std::move(b),
        [this, upto, done = std::move(done)](const Status& st) {
          if (st) {
            std::uint64_t cur = durable_seq.load();
            while (cur < upto && !durable_seq.compare_exchange_weak(cur, upto)) {
            }
          }
          if (done) done(st);
        },
        durability);
  }

  // When a call that changed state is answered.
  enum class Answer {
    once_synced,     // once its batch is durable (fsynced): what the call changed is acknowledged
    once_committed,  // once its batch is committed (Durability::committed): a receive, which
                     // changes only in-flight state (see Queues::receive_async)
    at_once,         // at once, the batch committed behind it (Durability::committed): calls of
                     // this process's own event source mappings (ReceiveRequest::in_process)
  };

  // submit(), then `done` gets `value` as `how` says, or the store's error. Call with `lk` (the
  // lock on mu) held when given: it is released before an answer given at once.
  template <class T>
  void submit_answer(WriteBatch b, T value, std::function<void(Result<T>)> done, Answer how = Answer::once_synced,
                     std::unique_lock<std::mutex>* lk = nullptr) {
    if (how == Answer::at_once) {
      if (!b.empty()) submit(std::move(b), nullptr, Durability::committed);
      if (lk != nullptr) lk->unlock();
      return done(std::move(value));
    }
    submit(
        std::move(b),
        [value = std::move(value), done = std::move(done)](const Status& st) mutable {
          if (!st) return done(std::unexpected(st.error()));
          done(std::move(value));
        },
        how == Answer::once_committed ? Durability::committed : Durability::synced);
  }

  // submit(), and a future that holds the outcome once `b` is durable.
  std::future<Status> submit_and_get(WriteBatch b) {
    auto p = std::make_shared<std::promise<Status>>();
    auto f = p->get_future();
    submit(std::move(b), [p](const Status& st) { p->set_value(st); });
    return f;
  }

  // The body in a message's durable record (nullptr: there is no record).
  static Result<std::string> body_in(const std::string* record) {
    if (record == nullptr) return fail(ErrorCode::internal_error, "message record missing from the store");
    Msg tmp;
    std::string body, sender;
    if (!decode_message(*record, tmp, body, sender))
      return fail(ErrorCode::internal_error, "corrupt message record in the store");
    return body;
  }

  // The body of `m`, from memory or from its durable record.
  Result<std::string> body_of(const Queue& q, const Msg& m) const {
    if (!m.body.empty()) return m.body;
    auto rec = store.get(Space::message, message_key(q.id, m.seq));
    if (!rec) return std::unexpected(rec.error());
    return body_in(*rec ? &**rec : nullptr);
  }

  // Makes due messages visible and drops expired ones. Returns how many became visible.
  std::size_t refresh(Queue& q, std::int64_t now, WriteBatch& b) {
    std::size_t promoted = 0;
    while (!q.pending.empty() && q.pending.begin()->first <= now) {
      auto [vis, seq] = *q.pending.begin();
      q.pending.erase(q.pending.begin());
      auto& m = q.msgs.at(seq);
      if (m.receive_count == 0) --q.delayed;
      q.ready.insert(seq);
      ++promoted;
    }
    std::int64_t retention_ms = static_cast<std::int64_t>(q.cfg.retention_seconds) * 1000;
    while (!q.by_age.empty() && q.by_age.begin()->first + retention_ms <= now) {
      auto it = q.msgs.find(q.by_age.begin()->second);
      erase_message(q, it, b);
    }
    if (promoted > 0) notify_available(q);
    return promoted;
  }

  // Enqueues a validated message (with its body in memory); the caller submits `b`.
  Msg& enqueue(Queue& q, Msg m, std::int64_t now, WriteBatch& b) {
    std::string key = message_key(q.id, m.seq);
    b.put(Space::message, key, encode_message(m, m.body, senders[m.sender]));
    if (m.receive_count > 0 || m.visible_ms != m.initial_visible_ms)
      b.put(Space::message_state, key, encode_state(m));
    std::uint64_t seq = m.seq;
    evict_bodies();  // older durable bodies make room for this one
    auto [it, _] = q.msgs.emplace(seq, std::move(m));
    cache_body(it->second, q.id);
    index_insert(q, it->second, now);
    if (it->second.visible_ms <= now) notify_available(q);
    return it->second;
  }

  Result<Msg> prepare_send(Queue& q, SendRequest&& r, std::int64_t now, WriteBatch& b) {
    if (r.body.empty())
      return fail(ErrorCode::missing_parameter, "The request must contain the parameter MessageBody.");
    if (!is_valid_sqs_body(r.body))
      return fail(ErrorCode::invalid_message_contents,
                  "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to "
                  "#xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF");
    if (auto st = validate_sqs_message_attributes(r.attributes); !st) return std::unexpected(st.error());
    std::size_t size = r.body.size() + message_attributes_size(r.attributes);
    if (size > static_cast<std::size_t>(q.cfg.maximum_message_size))
      return fail(ErrorCode::invalid_parameter_value,
                  "One or more parameters are invalid. Reason: Message must be shorter than " +
                      std::to_string(q.cfg.maximum_message_size) + " bytes.");
    int delay = q.cfg.delay_seconds;
    if (r.delay_seconds) {
      if (*r.delay_seconds < 0 || *r.delay_seconds > 900)
        return std::unexpected(invalid_param(std::to_string(*r.delay_seconds), "DelaySeconds",
                                             "DelaySeconds must be >= 0 and <= 900."));
      delay = *r.delay_seconds;
    }
    Msg m;
    m.seq = allocate_seq(b);
    m.id = new_message_id();
    m.body = std::move(r.body);
    if (!r.attributes.empty()) m.ext().attributes = std::move(r.attributes);
    m.sender = intern_sender(r.sender_id);
    if (!r.trace_header.empty()) m.ext().trace_header = std::move(r.trace_header);
    m.sent_ms = now;
    m.initial_visible_ms = now + static_cast<std::int64_t>(delay) * 1000;
    m.visible_ms = m.initial_visible_ms;
    return m;
  }

  static SendResult send_result(const Msg& m) {
    const auto& attrs = m.attributes();
    return SendResult{format_id(m.id), md5_hex(m.body),
                      attrs.empty() ? std::string() : md5_of_message_attributes(attrs)};
  }

  // The bodies of the messages `seqs` of `q`, in that order: from memory, and those no longer
  // there from their durable records, neighbours (the oldest messages of a backlog) in one read.
  Result<std::vector<std::string>> bodies_of(const Queue& q, const std::vector<std::uint64_t>& seqs) const {
    std::vector<std::string> out(seqs.size());
    std::uint64_t lo = std::numeric_limits<std::uint64_t>::max(), hi = 0;
    std::size_t stored = 0;
    for (std::size_t i = 0; i < seqs.size(); ++i) {
      const Msg& m = q.msgs.at(seqs[i]);
      if (!m.body.empty()) {
        out[i] = m.body;
        continue;
      }
      ++stored;
      lo = std::min(lo, seqs[i]);
      hi = std::max(hi, seqs[i]);
    }
    if (stored == 0) return out;
    if (hi - lo >= 4 * stored) {  // far apart: one read each
      for (std::size_t i = 0; i < seqs.size(); ++i) {
        if (!out[i].empty()) continue;
        auto body = body_of(q, q.msgs.at(seqs[i]));
        if (!body) return std::unexpected(body.error());
        out[i] = std::move(*body);
      }
      return out;
    }
    auto recs = store.get_range(Space::message, message_key(q.id, lo), message_key(q.id, hi), hi - lo + 1);
    if (!recs) return std::unexpected(recs.error());
    for (std::size_t i = 0; i < seqs.size(); ++i) {
      if (!out[i].empty()) continue;
      std::string key = message_key(q.id, seqs[i]);
      auto it = std::lower_bound(recs->begin(), recs->end(), key,  // the records are in key order
                                 [](const auto& rec, const std::string& k) { return rec.first < k; });
      auto body = body_in(it != recs->end() && it->first == key ? &it->second : nullptr);
      if (!body) return std::unexpected(body.error());
      out[i] = std::move(*body);
    }
    return out;
  }

  Result<ReceivedMessage> snapshot(const Queue& q, const Msg& m) const {
    auto body = body_of(q, m);
    if (!body) return std::unexpected(body.error());
    return snapshot(q, m, std::move(*body));
  }

  ReceivedMessage snapshot(const Queue& q, const Msg& m, std::string body) const {
    ReceivedMessage r;
    r.message_id = format_id(m.id);
    r.receipt_handle = make_handle(q.id, m.seq, m.receive_count);
    r.body = std::move(body);
    r.md5_of_body = md5_hex(r.body);
    r.attributes = m.attributes();
    r.sender_id = senders[m.sender];
    r.sent_timestamp_ms = m.sent_ms;
    r.first_receive_timestamp_ms = m.first_receive_ms;
    r.receive_count = m.receive_count;
    r.trace_header = m.trace_header();
    r.dead_letter_source_arn = m.dlq_source_arn();
    return r;
  }

  // Re-enqueues message `seq` of `from` into `to` under a new sequence number. `fresh` gives it
  // a new id and enqueue time (a move task's re-send); otherwise it keeps both (a DLQ move) and
  // records where it came from.
  Status transfer(Queue& from, std::uint64_t seq, Queue& to, bool fresh, std::int64_t now, WriteBatch& b) {
    auto it = from.msgs.find(seq);
    auto body = body_of(from, it->second);
    if (!body) return std::unexpected(body.error());
    uncache_body(it->second);
    Msg m = std::move(it->second);  // the moved-from entry keeps the scalars erase_message needs
    m.body = std::move(*body);
    erase_message(from, it, b);
    m.seq = allocate_seq(b);
    if (fresh) {
      // A move task starts the message a new life: new id, sent now, never received.
      m.id = new_message_id();
      m.sent_ms = now;
      if (m.extras) m.extras->dlq_source_arn.clear();
      m.receive_count = 0;
      m.first_receive_ms = 0;
    } else {
      // Dead-lettered: the same message, with its receive count and first receive time (as
      // SQS keeps them: a DLQ consumer sees how often the source queue handed it out).
      m.ext().dlq_source_arn = queue_arn(from.name);
    }
    m.received_ms = 0;
    m.in_process = false;
    m.initial_visible_ms = now;
    m.visible_ms = now;
    enqueue(to, std::move(m), now, b);
    return {};
  }

  // Takes up to `max` visible messages, making each invisible for `visibility` seconds; moves
  // those past maxReceiveCount to the dead-letter queue instead.
  // A storage read failure ends the call with that error; messages already taken stay in flight
  // and reappear after their visibility timeout.
  Result<std::vector<ReceivedMessage>> take(Queue& q, int max, int visibility, std::int64_t now, WriteBatch& b,
                                            bool in_process = false) {
    std::vector<ReceivedMessage> out;
    std::vector<std::uint64_t> taken;  // message sequence numbers (a DLQ move reshapes q.msgs)
    refresh(q, now, b);
    Queue* dlq = nullptr;
    if (q.cfg.redrive) {
      dlq = find_by_arn(q.cfg.redrive->dead_letter_target_arn);
      if (dlq == &q) dlq = nullptr;
    }
    while (static_cast<int>(taken.size()) < max && !q.ready.empty()) {
      std::uint64_t seq = *q.ready.begin();
      Msg& m = q.msgs.at(seq);
      if (dlq != nullptr && m.receive_count >= q.cfg.redrive->max_receive_count) {
        if (auto st = transfer(q, seq, *dlq, /*fresh=*/false, now, b); !st) return std::unexpected(st.error());
        continue;
      }
      q.ready.erase(q.ready.begin());
      ++m.receive_count;
      if (m.first_receive_ms == 0) m.first_receive_ms = now;
      m.received_ms = now;
      m.in_process = in_process;
      m.visible_ms = now + static_cast<std::int64_t>(visibility) * 1000;
      q.pending.emplace(m.visible_ms, seq);
      b.put(Space::message_state, message_key(q.id, seq), encode_state(m));
      taken.push_back(seq);
    }
    auto bodies = bodies_of(q, taken);
    if (!bodies) return std::unexpected(bodies.error());
    for (std::size_t i = 0; i < taken.size(); ++i)
      out.push_back(snapshot(q, q.msgs.at(taken[i]), std::move((*bodies)[i])));
    return out;
  }

  // Serves long-poll waiters of `q` while messages are available.
  void serve_waiters(Queue& q, std::int64_t now) {
    while (!q.waiters.empty()) {
      WriteBatch b;
      Waiter& w = q.waiters.front();
      auto got = take(q, w.max, w.visibility, now, b, w.in_process);
      if (got && got->empty()) {
        if (!b.empty()) submit(std::move(b));
        return;
      }
      auto done = std::move(w.done);
      q.waiters.pop_front();
      // A receive is answered once committed (see Queues::receive_async); never at once here,
      // under mu, so that no callback runs with the lock held.
      submit(
          std::move(b),
          [done = std::move(done), got = std::move(got)](const Status& st) mutable {
            if (st) done(std::move(got));
            else done(std::unexpected(st.error()));
          },
          Durability::committed);
    }
  }

  // ---- timer ----
  void run_timer() {
    std::unique_lock lk(mu);
    while (!stopping) {
      std::int64_t now = now_ms();
      std::int64_t next = std::numeric_limits<std::int64_t>::max();
      std::vector<std::pair<Queues::ReceiveCallback, bool>> expired;
      for (auto& [name, q] : queues) {
        if (q.waiters.empty() && q.listeners.empty()) continue;
        WriteBatch b;
        refresh(q, now, b);
        if (!b.empty()) submit(std::move(b));
        serve_waiters(q, now);
        while (!q.waiters.empty() && to_epoch_ms(q.waiters.front().deadline) <= now) {
          expired.emplace_back(std::move(q.waiters.front().done), true);
          q.waiters.pop_front();
        }
        // Waiters are FIFO but deadlines may differ; expire any that are due.
        for (auto it = q.waiters.begin(); it != q.waiters.end();) {
          if (to_epoch_ms(it->deadline) <= now) {
            expired.emplace_back(std::move(it->done), true);
            it = q.waiters.erase(it);
          } else {
            next = std::min(next, to_epoch_ms(it->deadline));
            ++it;
          }
        }
        if (!q.pending.empty()) next = std::min(next, q.pending.begin()->first);
      }
      for (auto& [handle, ts] : tasks) {
        if (ts.task.status != "RUNNING") continue;
        if (ts.next_tick_ms <= now) run_task(ts, now);
        if (ts.task.status == "RUNNING") next = std::min(next, ts.next_tick_ms);
      }
      auto notes = std::move(notifications);
      notifications.clear();
      if (!expired.empty() || !notes.empty()) {
        lk.unlock();
        for (auto& [cb, _] : expired) cb(std::vector<ReceivedMessage>{});
        for (auto& fn : notes) fn();
        lk.lock();
        continue;  // state may have changed while unlocked
      }
      if (next == std::numeric_limits<std::int64_t>::max()) {
        timer_cv.wait(lk);
      } else {
        clock.wait_until(lk, timer_cv, from_epoch_ms(next));
      }
    }
  }

  // ---- move tasks ----
  std::string encode_task(const MoveTask& t) const {
    json::object o;
    o["TaskHandle"] = t.task_handle;
    o["Status"] = t.status;
    o["SourceArn"] = t.source_arn;
    o["DestinationArn"] = t.destination_arn;
    if (t.max_per_second) o["MaxNumberOfMessagesPerSecond"] = *t.max_per_second;
    o["Moved"] = t.moved;
    o["ToMove"] = t.to_move;
    o["FailureReason"] = t.failure_reason;
    o["Started"] = t.started_ms;
    return json::serialize(o);
  }

  void persist_task(const TaskState& ts, WriteBatch& b) const {
    b.put(Space::move_task, ts.task.task_handle, encode_task(ts.task));
  }

  // Moves the next slice of messages of a running task.
  void run_task(TaskState& ts, std::int64_t now) {
    WriteBatch b;
    Queue* src = find(ts.source_queue);
    auto finish = [&](std::string status, std::string reason) {
      ts.task.status = std::move(status);
      ts.task.failure_reason = std::move(reason);
    };
    if (src == nullptr) {
      finish("FAILED", "The source queue no longer exists.");
    } else {
      refresh(*src, now, b);
      int budget = ts.task.max_per_second ? *ts.task.max_per_second : 1000;
      while (budget-- > 0 && !src->ready.empty() && ts.task.moved < ts.task.to_move) {
        std::uint64_t seq = *src->ready.begin();
        Msg& m = src->msgs.at(seq);
        std::string dest_arn =
            ts.task.destination_arn.empty() ? std::string(m.dlq_source_arn()) : ts.task.destination_arn;
        Queue* dest = find_by_arn(dest_arn);
        if (dest == nullptr || dest == src) {
          finish("FAILED", "Destination queue " + dest_arn + " does not exist.");
          break;
        }
        if (auto st = transfer(*src, seq, *dest, /*fresh=*/true, now, b); !st) {
          finish("FAILED", st.error().message);
          break;
        }
        ++ts.task.moved;
      }
      if (ts.task.status == "RUNNING" && (src->ready.empty() || ts.task.moved >= ts.task.to_move))
        finish("COMPLETED", "");
    }
    ts.next_tick_ms = now + (ts.task.max_per_second ? 1000 : 0);
    persist_task(ts, b);
    submit(std::move(b));
  }

  // ---- loading ----
  Status load() {
    Status bad;
    auto corrupt = [&](std::string what) {
      if (bad) bad = fail(ErrorCode::internal_error, "corrupt record in data directory: " + what);
    };
    if (auto s = store.scan(Space::counter, [&](std::string_view k, std::string_view v) {
          if (k == "seq_reserved") seq_reserved = get_u64_be(v);
          if (k == "next_queue_id") next_queue_id = static_cast<std::uint32_t>(get_u64_be(v));
          if (k == "receipt_secret") handle_secret = std::string(v);
        });
        !s)
      return s;
    next_seq = seq_reserved;  // never reuse a number handed out before the restart
    if (auto s = store.scan(Space::queue, [&](std::string_view k, std::string_view v) {
          std::error_code ec;
          json::value j = json::parse(v, ec);
          if (ec || !j.is_object()) return corrupt("queue " + std::string(k));
          const auto& o = j.as_object();
          Queue q;
          q.name = std::string(k);
          q.id = static_cast<std::uint32_t>(o.at("id").to_number<std::int64_t>());
          q.created_ms = o.at("created").to_number<std::int64_t>();
          q.modified_ms = o.at("modified").to_number<std::int64_t>();
          AttributeMap attrs;
          for (const auto& kv : o.at("attributes").as_object())
            attrs[std::string(kv.key())] = std::string(kv.value().as_string());
          for (const auto& kv : o.at("tags").as_object())
            q.tags[std::string(kv.key())] = std::string(kv.value().as_string());
          queues.emplace(q.name, std::move(q));
          pending_attrs.emplace(std::string(k), std::move(attrs));
        });
        !s)
      return s;
    // Apply attributes after every queue exists (redrive targets refer to other queues).
    for (auto& [name, attrs] : pending_attrs) {
      Queue& q = queues.at(name);
      auto cfg = apply_attributes(q.cfg, attrs, &q, /*creating=*/true);
      if (!cfg) return fail(ErrorCode::internal_error, "stored attributes of " + name + ": " + cfg.error().message);
      q.cfg = *cfg;
      by_id[q.id] = &q;
      next_queue_id = std::max(next_queue_id, q.id + 1);
    }
    pending_attrs.clear();
    std::int64_t now = now_ms();
    if (auto s = store.scan(Space::message, [&](std::string_view k, std::string_view v) {
          if (k.size() != 12) return corrupt("message key");
          std::uint32_t qid = static_cast<std::uint32_t>(get_u64_be(std::string(4, '\0') + std::string(k.substr(0, 4))));
          auto qit = by_id.find(qid);
          if (qit == by_id.end()) return;  // orphan of a deleted queue
          Msg m;
          m.seq = get_u64_be(k.substr(4));
          std::string body, sender;  // the body stays on disk until the message is received
          if (!decode_message(v, m, body, sender)) return corrupt("message");
          m.sender = intern_sender(sender);
          m.visible_ms = m.initial_visible_ms;
          qit->second->msgs.emplace(m.seq, std::move(m));
        });
        !s)
      return s;
    if (auto s = store.scan(Space::message_state, [&](std::string_view k, std::string_view v) {
          if (k.size() != 12) return corrupt("message state key");
          std::uint32_t qid = static_cast<std::uint32_t>(get_u64_be(std::string(4, '\0') + std::string(k.substr(0, 4))));
          auto qit = by_id.find(qid);
          if (qit == by_id.end()) return;
          auto mit = qit->second->msgs.find(get_u64_be(k.substr(4)));
          if (mit == qit->second->msgs.end()) return;
          if (!decode_state(v, mit->second)) return corrupt("message state");
        });
        !s)
      return s;
    // Receives by a consumer of the previous process (an event source mapping) that neither
    // deleted nor released its messages did not complete: refund them, visible at once, so a
    // crash of the whole process does not count as a failed attempt (and cannot dead-letter
    // a message that was never really tried three times). Persisted before anything else runs,
    // so a second restart does not refund twice.
    WriteBatch refunds;
    for (auto& [id, q] : by_id)
      for (auto& [seq, m] : q->msgs) {
        if (m.in_process && m.receive_count > 0) {
          --m.receive_count;
          if (m.receive_count == 0) m.first_receive_ms = 0;
          m.visible_ms = std::min(m.visible_ms, now);
          m.in_process = false;
          refunds.put(Space::message_state, message_key(q->id, seq), encode_state(m));
        }
        index_insert(*q, m, now);
      }
    if (!refunds.empty()) {
      if (auto s = store.commit(std::move(refunds)); !s) return s;
    }
    if (auto s = store.scan(Space::move_task, [&](std::string_view k, std::string_view v) {
          std::error_code ec;
          json::value j = json::parse(v, ec);
          if (ec || !j.is_object()) return corrupt("move task");
          const auto& o = j.as_object();
          TaskState ts;
          ts.task.task_handle = std::string(k);
          ts.task.status = std::string(o.at("Status").as_string());
          ts.task.source_arn = std::string(o.at("SourceArn").as_string());
          ts.task.destination_arn = std::string(o.at("DestinationArn").as_string());
          if (auto* m = o.if_contains("MaxNumberOfMessagesPerSecond"))
            ts.task.max_per_second = static_cast<int>(m->to_number<std::int64_t>());
          ts.task.moved = o.at("Moved").to_number<std::int64_t>();
          ts.task.to_move = o.at("ToMove").to_number<std::int64_t>();
          ts.task.failure_reason = std::string(o.at("FailureReason").as_string());
          ts.task.started_ms = o.at("Started").to_number<std::int64_t>();
          std::string prefix = queue_arn("");
          ts.source_queue = ts.task.source_arn.substr(std::min(prefix.size(), ts.task.source_arn.size()));
          if (ts.task.status == "CANCELLING") ts.task.status = "CANCELLED";
          tasks.emplace(ts.task.task_handle, std::move(ts));
        });
        !s)
      return s;
    if (!bad) return bad;
    if (handle_secret.empty()) {
      handle_secret = random_bytes(32);
      WriteBatch b;
      b.put(Space::counter, "receipt_secret", handle_secret);
      if (auto s = store.commit(std::move(b)); !s) return s;
    }
    return {};
  }
  std::map<std::string, AttributeMap> pending_attrs;  // only during load()

  // ---- attributes ----
  // Validates `attrs` and returns `base` with them applied. `self` is the queue being changed
  // (null while creating a new one).
  Result<Config> apply_attributes(Config base, const AttributeMap& attrs, const Queue* self, bool creating) {
    for (const auto& [name, value] : attrs) {
      bool handled = false;
      for (const auto& a : kIntAttrs) {
        if (name != a.name) continue;
        handled = true;
        auto n = parse_int(value);
        if (!n || *n < a.lo || *n > a.hi) return std::unexpected(bad_attr_value(name));
        base.*(a.field) = static_cast<int>(*n);
      }
      if (handled) continue;
      if (name == "RedrivePolicy") {
        if (value.empty()) {
          base.redrive.reset();
          continue;
        }
        auto r = parse_redrive(value);
        if (!r) return std::unexpected(r.error());
        const Queue* target = find_by_arn(r->dead_letter_target_arn);
        if (target == nullptr)
          return std::unexpected(invalid_param(value, "RedrivePolicy",
                                               "Dead-letter target does not exist."));
        if (self != nullptr && target == self)
          return std::unexpected(invalid_param(value, "RedrivePolicy",
                                               "Dead-letter target cannot be the queue itself."));
        if (!creating || self == nullptr) {
          // Honour the target's RedriveAllowPolicy.
          if (!target->cfg.redrive_allow_policy.empty()) {
            auto allow = parse_allow(target->cfg.redrive_allow_policy);
            std::string self_arn = self != nullptr ? queue_arn(self->name) : pending_name_arn;
            bool ok = allow && (allow->permission == "allowAll" ||
                                (allow->permission == "byQueue" &&
                                 std::find(allow->sources.begin(), allow->sources.end(), self_arn) !=
                                     allow->sources.end()));
            if (!ok)
              return std::unexpected(invalid_param(value, "RedrivePolicy",
                                                   "Queue " + r->dead_letter_target_arn +
                                                       " does not allow this queue as a source queue."));
          }
        }
        base.redrive = *r;
      } else if (name == "RedriveAllowPolicy") {
        if (value.empty()) {
          base.redrive_allow_policy.clear();
          continue;
        }
        auto p = parse_allow(value);
        if (!p) return std::unexpected(p.error());
        json::object o;
        o["redrivePermission"] = p->permission;
        if (!p->sources.empty()) {
          json::array a;
          for (auto& s : p->sources) a.emplace_back(s);
          o["sourceQueueArns"] = std::move(a);
        }
        base.redrive_allow_policy = json::serialize(o);
      } else if (name == "Policy") {
        if (!value.empty()) {
          std::error_code ec;
          json::value v = json::parse(value, ec);
          if (ec || !v.is_object())
            return fail(ErrorCode::invalid_attribute_value,
                        "Invalid value for the parameter Policy. Reason: the policy is not valid JSON.");
        }
        base.policy = value;
      } else if (name == "KmsMasterKeyId") {
        base.kms_master_key_id = value;
      } else if (name == "SqsManagedSseEnabled") {
        if (value != "true" && value != "false") return std::unexpected(bad_attr_value(name));
        base.sqs_managed_sse = value == "true";
      } else if (name == "FifoQueue") {
        if (value == "true")
          return fail(ErrorCode::invalid_attribute_value,
                      "FIFO queues are not supported by this orderflow engine; create a standard queue.");
        if (value != "false") return std::unexpected(bad_attr_value(name));
        if (!creating)
          return fail(ErrorCode::invalid_attribute_name, "Unknown Attribute FifoQueue.");
      } else {
        return fail(ErrorCode::invalid_attribute_name, "Unknown Attribute " + name + ".");
      }
    }
    return base;
  }
  std::string pending_name_arn;  // ARN of the queue being created, for RedriveAllowPolicy checks

  AttributeMap all_attributes(Queue& q, std::int64_t now) {
    WriteBatch b;
    refresh(q, now, b);
    if (!b.empty()) submit(std::move(b));
    AttributeMap m = config_attributes(q.cfg);
    if (q.cfg.kms_master_key_id.empty()) m.erase("KmsDataKeyReusePeriodSeconds");
    m["QueueArn"] = queue_arn(q.name);
    m["ApproximateNumberOfMessages"] = std::to_string(q.ready.size());
    m["ApproximateNumberOfMessagesNotVisible"] =
        std::to_string(static_cast<std::int64_t>(q.pending.size()) - q.delayed);
    m["ApproximateNumberOfMessagesDelayed"] = std::to_string(q.delayed);
    m["CreatedTimestamp"] = std::to_string(q.created_ms / 1000);
    m["LastModifiedTimestamp"] = std::to_string(q.modified_ms / 1000);
    return m;
  }
};

// Runs queued notifications when a public call returns.
#define OF_NOTIFY_ON_EXIT \
  struct NotifyGuard {    \
    Impl* i;              \
    ~NotifyGuard() { i->flush_notifications(); } \
  } notify_guard{impl_.get()}

Queues::Queues(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Queues::~Queues() {
  {
    std::lock_guard g(impl_->mu);
    impl_->stopping = true;
  }
  impl_->timer_cv.notify_all();
  if (impl_->timer.joinable()) impl_->timer.join();
  // Fail outstanding long polls so their owners are not left waiting.
  std::vector<ReceiveCallback> waiting;
  {
    std::lock_guard g(impl_->mu);
    for (auto& [n, q] : impl_->queues)
      for (auto& w : q.waiters) waiting.push_back(std::move(w.done));
  }
  for (auto& cb : waiting) cb(std::vector<ReceivedMessage>{});
  // Batches submitted without waiting (receives, visibility changes, ...) call back into impl_
  // on the store's writer thread once durable: an empty batch returns once they all have.
  (void)impl_->store.commit({});
}

Result<std::unique_ptr<Queues>> Queues::open(Store& store, Clock& clock, QueuesOptions options) {
  auto impl = std::make_unique<Impl>(store, clock, std::move(options));
  if (auto s = impl->load(); !s) return std::unexpected(s.error());
  Impl* raw = impl.get();
  raw->timer = named_thread("of-sqs-timer", [raw] { raw->run_timer(); });
  return std::unique_ptr<Queues>(new Queues(std::move(impl)));
}

Result<std::string> Queues::create_queue(std::string_view name, const AttributeMap& attributes,
                                         const TagMap& tags) {
  if (!valid_queue_name(name))
    return fail(ErrorCode::invalid_parameter_value,
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length");
  std::unique_lock lk(impl_->mu);
  std::int64_t now = impl_->now_ms();
  impl_->pending_name_arn = impl_->queue_arn(name);
  if (Queue* q = impl_->find(name)) {
    auto cfg = impl_->apply_attributes(q->cfg, attributes, q, true);
    if (!cfg) return std::unexpected(cfg.error());
    auto now_attrs = Impl::config_attributes(q->cfg);
    auto want = Impl::config_attributes(*cfg);
    for (const auto& [k, v] : attributes) {
      if (k == "FifoQueue") continue;
      if (now_attrs[k] != want[k])
        return fail(ErrorCode::queue_already_exists,
                    "A queue already exists with the same name and a different value for attribute " + k);
    }
    return std::string(name);
  }
  if (auto it = impl_->deleted_at.find(name);
      it != impl_->deleted_at.end() && now - it->second < impl_->options.deleted_name_hold.count())
    return fail(ErrorCode::queue_deleted_recently,
                "You must wait 60 seconds after deleting a queue before you can create another with "
                "the same name.");
  auto cfg = impl_->apply_attributes(Config{}, attributes, nullptr, true);
  if (!cfg) return std::unexpected(cfg.error());
  if (tags.size() > 50) return fail(ErrorCode::invalid_parameter_value, "Too many tags added for queue " + std::string(name) + ".");
  Queue q;
  WriteBatch b;
  q.id = impl_->next_queue_id++;
  {
    std::string v;
    put_u64_be(v, impl_->next_queue_id);
    b.put(Space::counter, "next_queue_id", v);  // ids are never reused, even after a restart
  }
  q.name = std::string(name);
  q.cfg = *cfg;
  q.tags = tags;
  q.created_ms = q.modified_ms = now;
  impl_->persist_queue(q, b);
  auto [qit, _] = impl_->queues.emplace(q.name, std::move(q));
  impl_->by_id[qit->second.id] = &qit->second;
  impl_->deleted_at.erase(std::string(name));
  lk.unlock();
  if (auto s = impl_->store.commit(std::move(b)); !s) return std::unexpected(s.error());
  return std::string(name);
}

Status Queues::delete_queue(std::string_view name) {
  std::vector<ReceiveCallback> waiting;
  WriteBatch b;
  {
    std::lock_guard g(impl_->mu);
    auto it = impl_->queues.find(name);
    if (it == impl_->queues.end()) return std::unexpected(queue_missing());
    Queue& q = it->second;
    for (auto& [seq, m] : q.msgs) {
      std::string key = message_key(q.id, seq);
      b.erase(Space::message, key);
      b.erase(Space::message_state, key);
    }
    for (auto& w : q.waiters) waiting.push_back(std::move(w.done));
    b.erase(Space::queue, q.name);
    impl_->deleted_at[q.name] = impl_->now_ms();
    for (auto& [seq, m] : q.msgs) impl_->uncache_body(m);
    impl_->by_id.erase(q.id);
    impl_->queues.erase(it);
    impl_->submit(std::move(b));
  }
  for (auto& cb : waiting) cb(std::unexpected(queue_missing()));
  return impl_->store.commit({});
}

Result<std::vector<std::string>> Queues::list_queues(std::string_view prefix, std::size_t max_results,
                                                     std::string_view after) const {
  if (max_results < 1 || max_results > 1000)
    return std::unexpected(invalid_param(std::to_string(max_results), "MaxResults",
                                         "MaxResults must be an integer between 1 and 1000."));
  std::lock_guard g(impl_->mu);
  std::vector<std::string> out;
  for (auto it = after.empty() ? impl_->queues.begin() : impl_->queues.upper_bound(after);
       it != impl_->queues.end() && out.size() < max_results; ++it) {
    if (it->first.starts_with(prefix)) out.push_back(it->first);
  }
  return out;
}

bool Queues::exists(std::string_view name) const {
  std::lock_guard g(impl_->mu);
  return impl_->find(name) != nullptr;
}

Result<AttributeMap> Queues::get_attributes(std::string_view name, const std::vector<std::string>& names) const {
  std::lock_guard g(impl_->mu);
  Queue* q = const_cast<Impl&>(*impl_).find(name);
  if (q == nullptr) return std::unexpected(queue_missing());
  AttributeMap all = const_cast<Impl&>(*impl_).all_attributes(*q, impl_->now_ms());
  static const std::set<std::string, std::less<>> kKnown = {
      "All", "Policy", "VisibilityTimeout", "MaximumMessageSize", "MessageRetentionPeriod",
      "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "CreatedTimestamp",
      "LastModifiedTimestamp", "QueueArn", "ApproximateNumberOfMessagesDelayed", "DelaySeconds",
      "ReceiveMessageWaitTimeSeconds", "RedrivePolicy", "FifoQueue", "ContentBasedDeduplication",
      "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "DeduplicationScope", "FifoThroughputLimit",
      "RedriveAllowPolicy", "SqsManagedSseEnabled"};
  AttributeMap out;
  for (const auto& n : names) {
    if (!kKnown.contains(n)) return fail(ErrorCode::invalid_attribute_name, "Unknown Attribute " + n + ".");
    if (n == "All") return all;
    if (auto it = all.find(n); it != all.end()) out.insert(*it);
  }
  return out;
}

Status Queues::set_attributes(std::string_view name, const AttributeMap& attributes) {
  OF_NOTIFY_ON_EXIT;
  WriteBatch b;
  std::unique_lock lk(impl_->mu);
  Queue* q = impl_->find(name);
  if (q == nullptr) return std::unexpected(queue_missing());
  if (attributes.empty())
    return fail(ErrorCode::missing_parameter, "The request must contain the parameter Attribute.Name.");
  auto cfg = impl_->apply_attributes(q->cfg, attributes, q, false);
  if (!cfg) return std::unexpected(cfg.error());
  q->cfg = *cfg;
  q->modified_ms = impl_->now_ms();
  impl_->persist_queue(*q, b);
  impl_->timer_cv.notify_all();
  lk.unlock();
  return impl_->store.commit(std::move(b));
}

Result<QueueCounts> Queues::counts(std::string_view name) const {
  std::lock_guard g(impl_->mu);
  Queue* q = const_cast<Impl&>(*impl_).find(name);
  if (q == nullptr) return std::unexpected(queue_missing());
  WriteBatch b;
  const_cast<Impl&>(*impl_).refresh(*q, impl_->now_ms(), b);
  if (!b.empty()) impl_->submit(std::move(b));
  return QueueCounts{static_cast<std::int64_t>(q->ready.size()),
                     static_cast<std::int64_t>(q->pending.size()) - q->delayed, q->delayed};
}

std::string Queues::arn(std::string_view name) const { return impl_->queue_arn(name); }

std::optional<std::string> Queues::name_from_arn(std::string_view arn) const {
  std::string prefix = impl_->queue_arn("");
  if (!arn.starts_with(prefix) || arn.size() == prefix.size()) return std::nullopt;
  return std::string(arn.substr(prefix.size()));
}

Result<std::vector<std::string>> Queues::dead_letter_sources(std::string_view name) const {
  std::lock_guard g(impl_->mu);
  if (impl_->find(name) == nullptr) return std::unexpected(queue_missing());
  std::string arn = impl_->queue_arn(name);
  std::vector<std::string> out;
  for (const auto& [n, q] : impl_->queues)
    if (q.cfg.redrive && q.cfg.redrive->dead_letter_target_arn == arn) out.push_back(n);
  return out;
}

Status Queues::tag(std::string_view name, const TagMap& tags) {
  WriteBatch b;
  {
    std::lock_guard g(impl_->mu);
    Queue* q = impl_->find(name);
    if (q == nullptr) return std::unexpected(queue_missing());
    if (tags.empty()) return fail(ErrorCode::missing_parameter, "The request must contain the parameter Tags.");
    TagMap merged = q->tags;
    for (const auto& [k, v] : tags) {
      if (k.empty() || k.size() > 128 || v.size() > 256)
        return fail(ErrorCode::invalid_parameter_value, "Tag keys must be 1 to 128 characters and values at most 256.");
      merged[k] = v;
    }
    if (merged.size() > 50) return fail(ErrorCode::invalid_parameter_value, "Too many tags added for queue " + std::string(name) + ".");
    q->tags = std::move(merged);
    impl_->persist_queue(*q, b);
    impl_->submit(std::move(b));
  }
  return impl_->store.commit({});
}

Status Queues::untag(std::string_view name, const std::vector<std::string>& keys) {
  WriteBatch b;
  {
    std::lock_guard g(impl_->mu);
    Queue* q = impl_->find(name);
    if (q == nullptr) return std::unexpected(queue_missing());
    if (keys.empty()) return fail(ErrorCode::missing_parameter, "The request must contain the parameter TagKeys.");
    for (const auto& k : keys) q->tags.erase(k);
    impl_->persist_queue(*q, b);
    impl_->submit(std::move(b));
  }
  return impl_->store.commit({});
}

Result<TagMap> Queues::tags(std::string_view name) const {
  std::lock_guard g(impl_->mu);
  const Queue* q = impl_->find(name);
  if (q == nullptr) return std::unexpected(queue_missing());
  return q->tags;
}

void Queues::send_async(std::string_view queue, SendRequest request, SendCallback done) {
  OF_NOTIFY_ON_EXIT;
  std::unique_lock lk(impl_->mu);
  auto refuse = [&](Error e) {
    lk.unlock();  // `done` runs without the lock
    done(std::unexpected(std::move(e)));
  };
  Queue* q = impl_->find(queue);
  if (q == nullptr) return refuse(queue_missing());
  WriteBatch b;
  std::int64_t now = impl_->now_ms();
  auto m = impl_->prepare_send(*q, std::move(request), now, b);
  if (!m) return refuse(m.error());
  SendResult r = Impl::send_result(*m);
  impl_->enqueue(*q, std::move(*m), now, b);
  impl_->submit_answer(std::move(b), std::move(r), std::move(done));
  impl_->serve_waiters(*q, now);
}

Result<SendResult> Queues::send(std::string_view queue, SendRequest request) {
  return await_answer<Result<SendResult>>([&](SendCallback done) { send_async(queue, std::move(request), done); });
}

void Queues::send_batch_async(std::string_view queue, std::vector<std::pair<std::string, SendRequest>> entries,
                              SendBatchCallback done) {
  if (auto s = validate_batch(entries, "SendMessageBatchRequestEntry"); !s) return done(std::unexpected(s.error()));
  std::int64_t total = 0;
  for (const auto& [id, r] : entries)
    total += static_cast<std::int64_t>(r.body.size() + message_attributes_size(r.attributes));
  if (total > kMaxBatchBytes)
    return done(fail(ErrorCode::batch_request_too_long,
                     "Batch requests cannot be longer than 1048576 bytes. You have sent " + std::to_string(total) +
                         " bytes."));
  OF_NOTIFY_ON_EXIT;
  BatchOutcome<SendResult> out;
  std::unique_lock lk(impl_->mu);
  Queue* q = impl_->find(queue);
  if (q == nullptr) {
    lk.unlock();
    return done(std::unexpected(queue_missing()));
  }
  WriteBatch b;
  std::int64_t now = impl_->now_ms();
  for (auto& [id, r] : entries) {
    auto m = impl_->prepare_send(*q, std::move(r), now, b);
    if (!m) {
      out.failed.emplace_back(id, m.error());
      continue;
    }
    out.successful.emplace_back(id, Impl::send_result(*m));
    impl_->enqueue(*q, std::move(*m), now, b);
  }
  impl_->submit_answer(std::move(b), std::move(out), std::move(done));
  impl_->serve_waiters(*q, now);
}

Result<BatchOutcome<SendResult>> Queues::send_batch(std::string_view queue,
                                                    std::vector<std::pair<std::string, SendRequest>> entries) {
  return await_answer<Result<BatchOutcome<SendResult>>>(
      [&](SendBatchCallback done) { send_batch_async(queue, std::move(entries), done); });
}

Result<std::size_t> Queues::deliver_all(std::vector<Delivery> deliveries) {
  OF_NOTIFY_ON_EXIT;
  std::unique_lock lk(impl_->mu);
  std::int64_t now = impl_->now_ms();
  WriteBatch b;
  std::vector<Queue*> touched;
  std::size_t delivered = 0;
  for (auto& d : deliveries) {
    Queue* q = impl_->find(d.queue);
    if (q == nullptr) continue;
    auto m = impl_->prepare_send(*q, std::move(d.request), now, b);
    if (!m) continue;
    impl_->enqueue(*q, std::move(*m), now, b);
    touched.push_back(q);
    ++delivered;
  }
  auto durable = impl_->submit_and_get(std::move(b));
  for (Queue* q : touched) impl_->serve_waiters(*q, now);
  lk.unlock();
  if (auto s = durable.get(); !s) return std::unexpected(s.error());
  return delivered;
}

void Queues::receive_async(std::string_view queue, ReceiveRequest request, ReceiveCallback done) {
  auto reject = [&](Error e) { done(std::unexpected(std::move(e))); };
  if (request.max_messages < 1 || request.max_messages > 10)
    return reject(invalid_param(std::to_string(request.max_messages), "MaxNumberOfMessages",
                                "Must be between 1 and 10, if provided."));
  if (request.wait_seconds && (*request.wait_seconds < 0 || *request.wait_seconds > 20))
    return reject(invalid_param(std::to_string(*request.wait_seconds), "WaitTimeSeconds",
                                "Must be >= 0 and <= 20, if provided."));
  if (request.visibility_timeout && (*request.visibility_timeout < 0 || *request.visibility_timeout > kMaxVisibility))
    return reject(invalid_param(std::to_string(*request.visibility_timeout), "VisibilityTimeout",
                                "Must be >= 0 and <= 43200, if provided."));
  OF_NOTIFY_ON_EXIT;
  std::unique_lock lk(impl_->mu);
  Queue* q = impl_->find(queue);
  if (q == nullptr) {
    lk.unlock();
    return reject(queue_missing());
  }
  int wait = request.wait_seconds.value_or(q->cfg.receive_wait_seconds);
  int vis = request.visibility_timeout.value_or(q->cfg.visibility_timeout);
  std::int64_t now = impl_->now_ms();
  WriteBatch b;
  impl_->refresh(*q, now, b);
  std::int64_t inflight = static_cast<std::int64_t>(q->pending.size()) - q->delayed;
  if (wait == 0 && inflight >= kMaxInflight && !q->ready.empty()) {
    impl_->submit(std::move(b));
    lk.unlock();
    return reject(Error{ErrorCode::over_limit, "Too many messages are in flight for this queue."});
  }
  impl_->serve_waiters(*q, now);  // earlier long polls come first
  auto taken = impl_->take(*q, request.max_messages, vis, now, b, request.in_process);
  if (!taken) {
    impl_->submit(std::move(b));
    lk.unlock();
    return reject(taken.error());
  }
  std::vector<ReceivedMessage> got = std::move(*taken);
  if (got.empty() && wait > 0) {
    Waiter w;
    w.id = impl_->next_waiter_id++;
    w.max = request.max_messages;
    w.visibility = vis;
    w.in_process = request.in_process;
    w.deadline = from_epoch_ms(now + static_cast<std::int64_t>(wait) * 1000);
    w.done = std::move(done);
    q->waiters.push_back(std::move(w));
    if (!b.empty()) impl_->submit(std::move(b));
    impl_->serve_waiters(*q, now);
    impl_->timer_cv.notify_all();
    return;
  }
  if (got.empty() && b.empty()) {
    lk.unlock();
    return done(std::vector<ReceivedMessage>{});  // nothing changed, nothing to make durable
  }
  // New visibility deadlines: the timer must wake listeners when they pass.
  if (!got.empty() && !q->listeners.empty()) impl_->timer_cv.notify_all();
  impl_->submit_answer(std::move(b), std::move(got), std::move(done),
                       request.in_process ? Impl::Answer::at_once : Impl::Answer::once_committed, &lk);
}

Result<std::vector<ReceivedMessage>> Queues::receive(std::string_view queue, ReceiveRequest request) {
  return await_answer<Result<std::vector<ReceivedMessage>>>(
      [&](ReceiveCallback done) { receive_async(queue, request, done); });
}

Status Queues::delete_message(std::string_view queue, std::string_view receipt_handle) {
  auto r = delete_message_batch(queue, {{"single", std::string(receipt_handle)}});
  if (!r) return std::unexpected(r.error());
  if (!r->failed.empty()) return std::unexpected(r->failed.front().second);
  return {};
}

void Queues::delete_message_batch_async(std::string_view queue,
                                        const std::vector<std::pair<std::string, std::string>>& entries,
                                        DeleteBatchCallback done, bool in_process) {
  if (auto s = validate_batch(entries, "DeleteMessageBatchRequestEntry"); !s) return done(std::unexpected(s.error()));
  BatchOutcome<bool> out;
  std::unique_lock lk(impl_->mu);
  Queue* q = impl_->find(queue);
  if (q == nullptr) {
    lk.unlock();
    return done(std::unexpected(queue_missing()));
  }
  WriteBatch b;
  for (const auto& [id, handle] : entries) {
    auto h = impl_->parse_handle(handle);
    if (!h || h->qid != q->id) {
      out.failed.emplace_back(id, impl_->invalid_handle(handle));
      continue;
    }
    // An older handle of the same message still deletes it; a deleted message is a no-op.
    if (auto it = q->msgs.find(h->seq); it != q->msgs.end()) impl_->erase_message(*q, it, b);
    out.successful.emplace_back(id, true);
  }
  impl_->submit_answer(std::move(b), std::move(out), std::move(done),
                       in_process ? Impl::Answer::at_once : Impl::Answer::once_synced, &lk);
}

Result<BatchOutcome<bool>> Queues::delete_message_batch(
    std::string_view queue, const std::vector<std::pair<std::string, std::string>>& entries, bool in_process) {
  return await_answer<Result<BatchOutcome<bool>>>(
      [&](DeleteBatchCallback done) { delete_message_batch_async(queue, entries, done, in_process); });
}

Status Queues::change_visibility(std::string_view queue, std::string_view receipt_handle, int timeout) {
  auto r = change_visibility_batch(queue, {{"single", ChangeVisibilityEntry{std::string(receipt_handle), timeout}}});
  if (!r) return std::unexpected(r.error());
  if (!r->failed.empty()) return std::unexpected(r->failed.front().second);
  return {};
}

Result<BatchOutcome<bool>> Queues::change_visibility_batch(
    std::string_view queue, const std::vector<std::pair<std::string, ChangeVisibilityEntry>>& entries) {
  if (auto s = validate_batch(entries, "ChangeMessageVisibilityBatchRequestEntry"); !s)
    return std::unexpected(s.error());
  OF_NOTIFY_ON_EXIT;
  BatchOutcome<bool> out;
  std::future<Status> durable;
  {
    std::lock_guard g(impl_->mu);
    Queue* q = impl_->find(queue);
    if (q == nullptr) return std::unexpected(queue_missing());
    std::int64_t now = impl_->now_ms();
    WriteBatch b;
    impl_->refresh(*q, now, b);
    for (const auto& [id, e] : entries) {
      const auto& handle = e.receipt_handle;
      if (e.visibility_timeout < 0 || e.visibility_timeout > kMaxVisibility) {
        out.failed.emplace_back(id, invalid_param(std::to_string(e.visibility_timeout), "VisibilityTimeout",
                                                  "VisibilityTimeout must be an integer between 0 and 43200"));
        continue;
      }
      auto h = impl_->parse_handle(handle);
      if (!h || h->qid != q->id) {
        out.failed.emplace_back(id, impl_->invalid_handle(handle));
        continue;
      }
      auto it = q->msgs.find(h->seq);
      if (it == q->msgs.end()) {
        out.failed.emplace_back(id, invalid_param(handle, "ReceiptHandle",
                                                  "Message does not exist or is not available for visibility timeout change."));
        continue;
      }
      Msg& m = it->second;
      bool inflight = m.receive_count > 0 && q->pending.contains({m.visible_ms, m.seq});
      if (!inflight) {
        out.failed.emplace_back(id, Error{ErrorCode::message_not_inflight,
                                          "Value " + handle + " for parameter ReceiptHandle is invalid. Reason: Message is not in flight."});
        continue;
      }
      std::int64_t new_visible = now + static_cast<std::int64_t>(e.visibility_timeout) * 1000;
      if (new_visible - m.received_ms > static_cast<std::int64_t>(kMaxVisibility) * 1000) {
        out.failed.emplace_back(id, invalid_param(std::to_string(e.visibility_timeout), "VisibilityTimeout",
                                                  "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"));
        continue;
      }
      q->pending.erase({m.visible_ms, m.seq});
      m.visible_ms = new_visible;
      if (new_visible <= now) {
        q->ready.insert(m.seq);
        impl_->notify_available(*q);
      } else {
        q->pending.emplace(m.visible_ms, m.seq);
      }
      b.put(Space::message_state, message_key(q->id, m.seq), encode_state(m));
      out.successful.emplace_back(id, true);
    }
    durable = impl_->submit_and_get(std::move(b));
    impl_->serve_waiters(*q, now);
    impl_->timer_cv.notify_all();
  }
  if (auto s = durable.get(); !s) return std::unexpected(s.error());
  return out;
}

Status Queues::purge(std::string_view queue) {
  {
    std::lock_guard g(impl_->mu);
    Queue* q = impl_->find(queue);
    if (q == nullptr) return std::unexpected(queue_missing());
    std::int64_t now = impl_->now_ms();
    if (now - q->last_purge_ms < 60'000)
      return fail(ErrorCode::purge_queue_in_progress,
                  "Only one PurgeQueue operation on " + q->name + " is allowed every 60 seconds.");
    q->last_purge_ms = now;
    WriteBatch b;
    while (!q->msgs.empty()) impl_->erase_message(*q, q->msgs.begin(), b);
    impl_->submit(std::move(b));
  }
  return impl_->store.commit({});
}

Result<std::vector<ReceivedMessage>> Queues::peek(std::string_view queue, std::size_t max) const {
  std::lock_guard g(impl_->mu);
  const Queue* q = const_cast<Impl&>(*impl_).find(queue);
  if (q == nullptr) return std::unexpected(queue_missing());
  std::vector<ReceivedMessage> out;
  for (const auto& [seq, m] : q->msgs) {
    if (out.size() >= max) break;
    auto snap = impl_->snapshot(*q, m);
    if (!snap) return std::unexpected(snap.error());
    snap->receipt_handle.clear();
    out.push_back(std::move(*snap));
  }
  return out;
}

Status Queues::redrive_message(std::string_view queue, std::string_view message_id) {
  OF_NOTIFY_ON_EXIT;
  std::future<Status> done;
  {
    std::lock_guard g(impl_->mu);
    Queue* q = impl_->find(queue);
    if (q == nullptr) return std::unexpected(queue_missing());
    MessageIdBytes id{};
    if (!parse_id(message_id, id))
      return std::unexpected(Error{ErrorCode::sqs_resource_not_found, "No message with this MessageId."});
    std::int64_t now = impl_->now_ms();
    WriteBatch b;
    impl_->refresh(*q, now, b);
    auto it = std::find_if(q->msgs.begin(), q->msgs.end(), [&](const auto& e) { return e.second.id == id; });
    if (it == q->msgs.end()) {
      if (!b.empty()) impl_->submit(std::move(b));
      return std::unexpected(Error{ErrorCode::sqs_resource_not_found, "No message with this MessageId."});
    }
    std::uint64_t seq = it->first;
    Queue* dest = nullptr;
    Status st = [&]() -> Status {
      if (!q->ready.contains(seq))
        return std::unexpected(Error{ErrorCode::invalid_parameter_value, "The message is in flight or delayed."});
      dest = impl_->find_by_arn(it->second.dlq_source_arn());
      if (dest == nullptr || dest == q)
        return std::unexpected(
            Error{ErrorCode::invalid_parameter_value, "The message's source queue is unknown or no longer exists."});
      return impl_->transfer(*q, seq, *dest, /*fresh=*/true, now, b);
    }();
    if (!st) {
      if (!b.empty()) impl_->submit(std::move(b));
      return st;
    }
    done = impl_->submit_and_get(std::move(b));
    impl_->serve_waiters(*dest, now);
  }
  return done.get();
}

Result<std::string> Queues::start_move_task(std::string_view source_arn, std::string_view destination_arn,
                                            std::optional<int> max_per_second) {
  if (max_per_second && (*max_per_second < 1 || *max_per_second > 500))
    return std::unexpected(invalid_param(std::to_string(*max_per_second), "MaxNumberOfMessagesPerSecond",
                                         "Must be between 1 and 500."));
  std::string handle;
  {
    std::lock_guard g(impl_->mu);
    Queue* src = impl_->find_by_arn(source_arn);
    if (src == nullptr)
      return fail(ErrorCode::sqs_resource_not_found,
                  "The resource that you specified for the SourceArn parameter doesn't exist.");
    bool is_dlq = false;
    std::string arn = impl_->queue_arn(src->name);
    for (const auto& [n, q] : impl_->queues)
      if (q.cfg.redrive && q.cfg.redrive->dead_letter_target_arn == arn) is_dlq = true;
    if (!is_dlq)
      return fail(ErrorCode::invalid_parameter_value, "Source queue must be configured as a Dead Letter Queue.");
    if (!destination_arn.empty()) {
      Queue* dst = impl_->find_by_arn(destination_arn);
      if (dst == nullptr)
        return fail(ErrorCode::sqs_resource_not_found,
                    "The resource that you specified for the DestinationArn parameter doesn't exist.");
      if (dst == src)
        return fail(ErrorCode::invalid_parameter_value, "Source and destination queues must be different.");
    }
    for (const auto& [h, ts] : impl_->tasks)
      if (ts.task.source_arn == source_arn && (ts.task.status == "RUNNING" || ts.task.status == "CANCELLING"))
        return fail(ErrorCode::invalid_parameter_value,
                    "There is already a task running. Only one active task is allowed for a source queue "
                    "arn at a given time.");
    std::int64_t now = impl_->now_ms();
    WriteBatch b;
    impl_->refresh(*src, now, b);
    TaskState ts;
    json::object ho;
    ho["taskId"] = uuid4();
    ho["sourceArn"] = std::string(source_arn);
    handle = base64_encode(json::serialize(ho));
    ts.task.task_handle = handle;
    ts.task.status = "RUNNING";
    ts.task.source_arn = std::string(source_arn);
    ts.task.destination_arn = std::string(destination_arn);
    ts.task.max_per_second = max_per_second;
    ts.task.to_move = static_cast<std::int64_t>(src->ready.size());
    ts.task.started_ms = now;
    ts.source_queue = src->name;
    ts.next_tick_ms = now;
    impl_->persist_task(ts, b);
    impl_->tasks.emplace(handle, std::move(ts));
    impl_->submit(std::move(b));
    impl_->timer_cv.notify_all();
  }
  if (auto s = impl_->store.commit({}); !s) return std::unexpected(s.error());
  return handle;
}

Result<std::vector<MoveTask>> Queues::list_move_tasks(std::string_view source_arn, int max_results) const {
  if (max_results < 1 || max_results > 10)
    return std::unexpected(invalid_param(std::to_string(max_results), "MaxResults", "Must be between 1 and 10."));
  std::lock_guard g(impl_->mu);
  if (const_cast<Impl&>(*impl_).find_by_arn(source_arn) == nullptr)
    return fail(ErrorCode::sqs_resource_not_found,
                "The resource that you specified for the SourceArn parameter doesn't exist.");
  std::vector<MoveTask> out;
  for (const auto& [h, ts] : impl_->tasks)
    if (ts.task.source_arn == source_arn) out.push_back(ts.task);
  std::sort(out.begin(), out.end(), [](const MoveTask& a, const MoveTask& b) { return a.started_ms > b.started_ms; });
  if (out.size() > static_cast<std::size_t>(max_results)) out.resize(static_cast<std::size_t>(max_results));
  return out;
}

Result<std::int64_t> Queues::cancel_move_task(std::string_view task_handle) {
  std::int64_t moved = 0;
  {
    std::lock_guard g(impl_->mu);
    auto it = impl_->tasks.find(task_handle);
    if (it == impl_->tasks.end())
      return fail(ErrorCode::sqs_resource_not_found, "Task does not exist.");
    auto& ts = it->second;
    if (ts.task.status != "RUNNING")
      return fail(ErrorCode::invalid_parameter_value, "Only active tasks can be cancelled.");
    ts.task.status = "CANCELLED";
    moved = ts.task.moved;
    WriteBatch b;
    impl_->persist_task(ts, b);
    impl_->submit(std::move(b));
  }
  if (auto s = impl_->store.commit({}); !s) return std::unexpected(s.error());
  return moved;
}

void Queues::on_message_available(std::string_view queue, std::function<void()> fn) {
  std::lock_guard g(impl_->mu);
  if (Queue* q = impl_->find(queue)) {
    q->listeners.push_back(std::move(fn));
    impl_->timer_cv.notify_all();
  }
}

}  // namespace orderflow::engine
