// The engine's Queues and a tiny reference model of SQS standard-queue semantics, run side by
// side under the same random operations and clock ticks (STYLE.md item 9, after leveldb's
// ModelDB). Every step compares counts, and every receive compares exactly which messages came
// back, in which order, with which receive counts.
//
// Replay: a failure names its seed; ORDERFLOW_SEED=<n> runs that one iteration again.
// ORDERFLOW_MODEL_ITERATIONS and ORDERFLOW_MODEL_STEPS change the amount of work.
//
// What the model assumes about the engine (checked in queues.cpp, and so compared exactly):
// - a receive returns the currently visible messages in the order they entered the queue
//   (send order; a message moved to the dead-letter queue enters it at the end), skipping
//   nothing: SQS only promises best-effort order, the engine is strict;
// - a message whose receive count has reached maxReceiveCount is moved to the dead-letter queue
//   when a receive reaches it, keeping its id and sent time, visible at once, receive count 0;
//   it does not count towards the receive's maximum;
// - retention is counted from the original sent time, with the queue's current retention;
// - a stale receipt handle of a message still deletes it and still changes its visibility;
// - the 60 s purge hold is kept in memory only: a restart forgets it.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/queues.h"
#include "engine/testing/temp_dir.h"

namespace orderflow::engine {
namespace {

constexpr std::int64_t kSecond = 1000;
constexpr int kMaxVisibility = 43'200;
const std::string kMain = "main";
const std::string kDeadLetter = "dlq";

// ---- the reference model ----

// Where a message went; everything but `live` is gone for good.
enum class Fate { live, deleted, purged, expired, moved };

const char* to_string(Fate f) {
  switch (f) {
    case Fate::live: return "live";
    case Fate::deleted: return "deleted";
    case Fate::purged: return "purged";
    case Fate::expired: return "expired";
    case Fate::moved: return "moved to the dead-letter queue";
  }
  return "?";
}

struct ModelMessage {
  std::string id;    // learnt from the engine's SendResult; kept across a dead-letter move
  std::string body;  // unique within a run
  std::int64_t sent_ms = 0;
  std::int64_t visible_at_ms = 0;
  int receive_count = 0;
  std::int64_t first_receive_ms = 0;
  std::int64_t received_ms = 0;
  std::string dead_letter_source_arn;
  Fate fate = Fate::live;
  bool gone() const { return fate != Fate::live; }
};

struct ModelQueue {
  std::string name;
  std::string arn;
  int visibility_timeout = 30;
  int delay_seconds = 0;
  int retention_seconds = 345'600;
  int max_receive_count = 0;  // 0: no RedrivePolicy
  ModelQueue* dead_letter = nullptr;
  std::optional<std::int64_t> last_purge_ms;
  std::vector<ModelMessage> messages;  // in the order they entered the queue

  void expire(std::int64_t now) {
    for (auto& m : messages)
      if (!m.gone() && m.sent_ms + retention_seconds * kSecond <= now) m.fate = Fate::expired;
  }

  QueueCounts counts(std::int64_t now) {
    expire(now);
    QueueCounts c;
    for (const auto& m : messages) {
      if (m.gone()) continue;
      if (m.visible_at_ms <= now) ++c.visible;
      else if (m.receive_count > 0) ++c.not_visible;
      else ++c.delayed;
    }
    return c;
  }

  std::size_t send(std::string id, std::string body, std::optional<int> delay, std::int64_t now) {
    ModelMessage m;
    m.id = std::move(id);
    m.body = std::move(body);
    m.sent_ms = now;
    m.visible_at_ms = now + delay.value_or(delay_seconds) * kSecond;
    messages.push_back(std::move(m));
    return messages.size() - 1;
  }

  // Indices of the messages a receive returns, updating their state.
  std::vector<std::size_t> receive(int max, int visibility, std::int64_t now) {
    expire(now);
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < messages.size() && static_cast<int>(out.size()) < max; ++i) {
      ModelMessage& m = messages[i];
      if (m.gone() || m.visible_at_ms > now) continue;
      if (dead_letter != nullptr && m.receive_count >= max_receive_count) {
        ModelMessage moved;
        moved.id = m.id;
        moved.body = m.body;
        moved.sent_ms = m.sent_ms;
        moved.visible_at_ms = now;
        moved.receive_count = m.receive_count;  // kept by a dead-letter move, as SQS does
        moved.first_receive_ms = m.first_receive_ms;
        moved.dead_letter_source_arn = arn;
        m.fate = Fate::moved;
        dead_letter->messages.push_back(std::move(moved));
        continue;
      }
      ++m.receive_count;
      if (m.first_receive_ms == 0) m.first_receive_ms = now;
      m.received_ms = now;
      m.visible_at_ms = now + visibility * kSecond;
      out.push_back(i);
    }
    return out;
  }

  // The error a ChangeMessageVisibility of message `i` to `timeout` fails with, if any.
  std::optional<ErrorCode> change_visibility(std::size_t i, int timeout, std::int64_t now) {
    expire(now);
    ModelMessage& m = messages[i];
    if (m.gone()) return ErrorCode::invalid_parameter_value;
    if (m.receive_count == 0 || m.visible_at_ms <= now) return ErrorCode::message_not_inflight;
    std::int64_t visible_at = now + timeout * kSecond;
    if (visible_at - m.received_ms > kMaxVisibility * kSecond) return ErrorCode::invalid_parameter_value;
    m.visible_at_ms = visible_at;
    return std::nullopt;
  }

  void erase(std::size_t i) {
    if (!messages[i].gone()) messages[i].fate = Fate::deleted;
  }

  std::optional<ErrorCode> purge(std::int64_t now) {
    if (last_purge_ms && now - *last_purge_ms < 60 * kSecond) return ErrorCode::purge_queue_in_progress;
    last_purge_ms = now;
    for (auto& m : messages)
      if (!m.gone()) m.fate = Fate::purged;
    return std::nullopt;
  }
};

// A receipt handle the engine returned, and the model message it names.
struct HandleRef {
  std::string handle;
  ModelQueue* queue;
  std::size_t index;
};

// ---- one run: the engine and the model under the same operations ----

class ModelRun {
 public:
  ModelRun(std::uint64_t seed, int steps) : seed_(seed), steps_(steps), rng_(seed) {}

  // Returns false after the first mismatch (reported through gtest).
  bool run() {
    reopen();
    if (!ok()) return false;
    configure();
    if (!ok()) return false;
    for (step_ = 0; step_ < steps_; ++step_) {
      one_step();
      if (ok()) check_counts();
      if (!ok()) return false;
    }
    step_ = steps_;
    op_ = "final drain";
    drain(main_);
    if (ok()) drain(dead_letter_);
    if (ok()) check_counts();
    return ok();
  }

  int restarts() const { return restarts_; }
  int receives() const { return receives_; }
  std::int64_t messages() const { return next_body_; }
  // How many messages of both queues ended in each Fate (a moved message counts twice: as
  // moved in the source and under its final fate in the dead-letter queue).
  void tally(std::map<Fate, std::int64_t>& out) const {
    for (const ModelQueue* mq : {&main_, &dead_letter_})
      for (const auto& m : mq->messages) ++out[m.fate];
  }

 private:
  bool ok() const { return !::testing::Test::HasFailure(); }

  // Everything a failure message needs to replay and understand the step.
  std::string where() const {
    std::ostringstream o;
    o << "replay with ORDERFLOW_SEED=" << seed_ << " (step " << step_ << ": " << op_ << ")\nrecent steps:";
    for (const auto& h : history_) o << "\n  " << h;
    return o.str();
  }

  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return uniform(1, 100) <= percent; }
  std::int64_t now() const { return to_epoch_ms(clock_.now()); }

  void note(std::string op) {
    op_ = std::move(op);
    history_.push_back("#" + std::to_string(step_) + " t+" + std::to_string((now() - start_ms_) / kSecond) +
                       "s " + op_);
    if (history_.size() > 25) history_.pop_front();
  }

  void reopen() {
    queues_.reset();
    store_.reset();
    // Throwaway data, and the process never dies here: no fsync needed.
    auto s = Store::open(dir_.path(), StoreOptions{.sync = false});
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    // Half the runs keep no message body in memory, so every receive reads it from disk.
    QueuesOptions o;
    if (seed_ % 2 == 1) o.body_cache_bytes = 0;
    auto q = Queues::open(*store_, clock_, o);
    ASSERT_TRUE(q) << q.error().message;
    queues_ = std::move(*q);
  }

  void configure() {
    start_ms_ = now();
    dead_letter_.name = kDeadLetter;
    dead_letter_.arn = queues_->arn(kDeadLetter);
    dead_letter_.visibility_timeout = uniform(0, 60);
    dead_letter_.retention_seconds = uniform(60, 1200);
    main_.name = kMain;
    main_.arn = queues_->arn(kMain);
    main_.visibility_timeout = chance(20) ? 0 : uniform(0, 60);
    main_.delay_seconds = chance(50) ? 0 : uniform(0, 30);
    main_.retention_seconds = uniform(60, 900);
    if (chance(80)) {
      main_.max_receive_count = uniform(1, 5);
      main_.dead_letter = &dead_letter_;
    }
    auto dlq = queues_->create_queue(kDeadLetter, {{"VisibilityTimeout", std::to_string(dead_letter_.visibility_timeout)},
                                                   {"MessageRetentionPeriod", std::to_string(dead_letter_.retention_seconds)}});
    ASSERT_TRUE(dlq) << dlq.error().message;
    AttributeMap attrs{{"VisibilityTimeout", std::to_string(main_.visibility_timeout)},
                       {"DelaySeconds", std::to_string(main_.delay_seconds)},
                       {"MessageRetentionPeriod", std::to_string(main_.retention_seconds)}};
    if (main_.dead_letter != nullptr)
      attrs["RedrivePolicy"] = R"({"deadLetterTargetArn":")" + dead_letter_.arn + R"(","maxReceiveCount":)" +
                               std::to_string(main_.max_receive_count) + "}";
    auto q = queues_->create_queue(kMain, attrs);
    ASSERT_TRUE(q) << q.error().message;
  }

  void one_step() {
    int pick = uniform(1, 100);
    if ((pick -= 19) <= 0) return op_send();
    if ((pick -= 8) <= 0) return op_send_batch();
    if ((pick -= 19) <= 0) return op_receive(main_);
    if ((pick -= 6) <= 0) return op_receive(dead_letter_);
    if ((pick -= 9) <= 0) return op_delete();
    if ((pick -= 3) <= 0) return op_delete_batch();
    if ((pick -= 1) <= 0) return op_delete_on_wrong_queue();
    if ((pick -= 9) <= 0) return op_change_visibility();
    if ((pick -= 3) <= 0) return op_change_visibility_batch();
    if ((pick -= 19) <= 0) return op_advance();
    if ((pick -= 1) <= 0) return op_purge(chance(75) ? main_ : dead_letter_);
    if ((pick -= 2) <= 0) return op_set_attributes();
    return op_restart();
  }

  std::string next_body() { return "m" + std::to_string(next_body_++); }

  std::optional<int> random_delay() {
    if (chance(50)) return std::nullopt;  // the queue's DelaySeconds
    return chance(30) ? 0 : uniform(0, 60);
  }

  void op_send() {
    SendRequest r;
    r.body = next_body();
    r.delay_seconds = random_delay();
    note("send " + r.body + " delay=" + (r.delay_seconds ? std::to_string(*r.delay_seconds) : "queue"));
    std::string body = r.body;
    auto delay = r.delay_seconds;
    auto sent = queues_->send(kMain, std::move(r));
    ASSERT_TRUE(sent) << sent.error().message << "\n" << where();
    main_.send(sent->message_id, body, delay, now());
  }

  void op_send_batch() {
    int n = uniform(1, 10);
    int empty_entry = chance(10) ? uniform(0, n - 1) : -1;  // rejected alone (MissingParameter)
    std::vector<std::pair<std::string, SendRequest>> entries;
    std::string desc = "send_batch";
    for (int i = 0; i < n; ++i) {
      SendRequest r;
      r.body = i == empty_entry ? std::string() : next_body();
      r.delay_seconds = random_delay();
      desc += " " + (r.body.empty() ? std::string("<empty>") : r.body) + "/" +
              (r.delay_seconds ? std::to_string(*r.delay_seconds) : "q");
      entries.emplace_back("e" + std::to_string(i), std::move(r));
    }
    note(desc);
    auto copy = entries;
    auto out = queues_->send_batch(kMain, std::move(entries));
    ASSERT_TRUE(out) << out.error().message << "\n" << where();
    ASSERT_EQ(out->failed.size(), empty_entry >= 0 ? 1u : 0u) << where();
    if (empty_entry >= 0) {
      EXPECT_EQ(out->failed[0].first, "e" + std::to_string(empty_entry)) << where();
      EXPECT_EQ(out->failed[0].second.code, ErrorCode::missing_parameter) << where();
    }
    ASSERT_EQ(out->successful.size(), static_cast<std::size_t>(n - (empty_entry >= 0 ? 1 : 0))) << where();
    std::size_t k = 0;
    for (int i = 0; i < n; ++i) {
      if (i == empty_entry) continue;
      ASSERT_EQ(out->successful[k].first, copy[i].first) << where();
      main_.send(out->successful[k].second.message_id, copy[i].second.body, copy[i].second.delay_seconds, now());
      ++k;
    }
  }

  void op_receive(ModelQueue& mq) {
    ReceiveRequest r;
    r.max_messages = uniform(1, 10);
    r.wait_seconds = 0;
    if (chance(40)) r.visibility_timeout = chance(25) ? 0 : (chance(5) ? kMaxVisibility : uniform(0, 60));
    note("receive " + mq.name + " max=" + std::to_string(r.max_messages) + " visibility=" +
         (r.visibility_timeout ? std::to_string(*r.visibility_timeout) : "queue"));
    ++receives_;
    auto got = queues_->receive(mq.name, r);
    ASSERT_TRUE(got) << got.error().message << "\n" << where();
    auto want = mq.receive(r.max_messages, r.visibility_timeout.value_or(mq.visibility_timeout), now());
    std::ostringstream bodies;
    bodies << "engine returned [";
    for (const auto& m : *got) bodies << " " << m.body;
    bodies << " ], model expects [";
    for (auto i : want) bodies << " " << mq.messages[i].body;
    bodies << " ]";
    ASSERT_EQ(got->size(), want.size()) << bodies.str() << "\n" << where();
    for (std::size_t k = 0; k < want.size(); ++k) {
      const ReceivedMessage& e = (*got)[k];
      const ModelMessage& m = mq.messages[want[k]];
      ASSERT_EQ(e.body, m.body) << bodies.str() << "\n" << where();
      EXPECT_EQ(e.message_id, m.id) << m.body << "\n" << where();
      EXPECT_EQ(e.receive_count, m.receive_count) << m.body << "\n" << where();
      EXPECT_EQ(e.sent_timestamp_ms, m.sent_ms) << m.body << "\n" << where();
      EXPECT_EQ(e.first_receive_timestamp_ms, m.first_receive_ms) << m.body << "\n" << where();
      EXPECT_EQ(e.dead_letter_source_arn, m.dead_letter_source_arn) << m.body << "\n" << where();
      handles_.push_back(HandleRef{e.receipt_handle, &mq, want[k]});
    }
  }

  // Mostly a recent handle (likely current), sometimes any handle seen so far (likely stale).
  const HandleRef* pick_handle() {
    if (handles_.empty()) return nullptr;
    int n = static_cast<int>(handles_.size());
    int i = chance(70) ? uniform(std::max(0, n - 10), n - 1) : uniform(0, n - 1);
    return &handles_[static_cast<std::size_t>(i)];
  }

  std::string describe(const HandleRef& h) const {
    const ModelMessage& m = h.queue->messages[h.index];
    return m.body + " in " + h.queue->name + (m.gone() ? std::string(" (") + to_string(m.fate) + ")" : "");
  }

  void op_delete() {
    const HandleRef* h = pick_handle();
    if (h == nullptr) return op_advance();
    note("delete " + describe(*h));
    auto s = queues_->delete_message(h->queue->name, h->handle);
    ASSERT_TRUE(s) << s.error().message << "\n" << where();
    h->queue->expire(now());
    h->queue->erase(h->index);
  }

  void op_delete_on_wrong_queue() {
    const HandleRef* h = pick_handle();
    if (h == nullptr) return op_advance();
    const std::string& other = h->queue == &main_ ? kDeadLetter : kMain;
    note("delete " + describe(*h) + " through queue " + other);
    auto s = queues_->delete_message(other, h->handle);
    ASSERT_FALSE(s) << where();
    EXPECT_EQ(s.error().code, ErrorCode::receipt_handle_is_invalid) << where();
  }

  void op_change_visibility() {
    const HandleRef* h = pick_handle();
    if (h == nullptr) return op_advance();
    int timeout = chance(25) ? 0 : (chance(5) ? kMaxVisibility : uniform(0, 60));
    note("change_visibility " + describe(*h) + " to " + std::to_string(timeout));
    auto s = queues_->change_visibility(h->queue->name, h->handle, timeout);
    auto want = h->queue->change_visibility(h->index, timeout, now());
    if (!want) {
      ASSERT_TRUE(s) << "engine failed: " << s.error().message << "\n" << where();
    } else {
      ASSERT_FALSE(s) << "model expects error " << static_cast<int>(*want) << "\n" << where();
      EXPECT_EQ(s.error().code, *want) << s.error().message << "\n" << where();
    }
  }

  // One batch entry: a remembered handle (or garbage) sent through `queue`.
  struct BatchEntry {
    std::string id;
    const HandleRef* ref = nullptr;  // null: a handle that is not one
    std::string handle;
  };

  std::vector<BatchEntry> batch_entries(const std::string& queue, std::string& desc) {
    std::vector<BatchEntry> out;
    int n = uniform(1, 10);
    for (int i = 0; i < n; ++i) {
      BatchEntry e;
      e.id = "b" + std::to_string(i);
      if (chance(5)) {
        e.handle = "not-a-handle-" + std::to_string(i);
        desc += " <garbage>";
      } else {
        e.ref = pick_handle();
        e.handle = e.ref->handle;
        desc += " " + describe(*e.ref) + (e.ref->queue->name != queue ? "(wrong queue)" : "");
      }
      out.push_back(std::move(e));
    }
    return out;
  }

  // Checks that each entry id ended up where `want` (nullopt: success) says.
  template <class T>
  void expect_outcome(const BatchOutcome<T>& got, const std::map<std::string, std::optional<ErrorCode>>& want) {
    ASSERT_EQ(got.successful.size() + got.failed.size(), want.size()) << where();
    for (const auto& [id, _] : got.successful) {
      ASSERT_TRUE(want.contains(id)) << id << "\n" << where();
      EXPECT_FALSE(want.at(id).has_value()) << "entry " << id << " succeeded, model expects error "
                                            << static_cast<int>(want.at(id).value_or(ErrorCode::internal_error))
                                            << "\n" << where();
    }
    for (const auto& [id, err] : got.failed) {
      ASSERT_TRUE(want.contains(id)) << id << "\n" << where();
      ASSERT_TRUE(want.at(id).has_value()) << "entry " << id << " failed: " << err.message << "\n" << where();
      EXPECT_EQ(err.code, *want.at(id)) << "entry " << id << ": " << err.message << "\n" << where();
    }
  }

  void op_delete_batch() {
    if (handles_.empty()) return op_advance();
    ModelQueue& mq = chance(80) ? main_ : dead_letter_;
    std::string desc = "delete_batch via " + mq.name + ":";
    auto entries = batch_entries(mq.name, desc);
    note(desc);
    std::vector<std::pair<std::string, std::string>> request;
    for (const auto& e : entries) request.emplace_back(e.id, e.handle);
    auto got = queues_->delete_message_batch(mq.name, request);
    ASSERT_TRUE(got) << got.error().message << "\n" << where();
    std::map<std::string, std::optional<ErrorCode>> want;
    for (const auto& e : entries) {
      if (e.ref == nullptr || e.ref->queue != &mq) {
        want[e.id] = ErrorCode::receipt_handle_is_invalid;
        continue;
      }
      mq.expire(now());
      mq.erase(e.ref->index);
      want[e.id] = std::nullopt;
    }
    expect_outcome(*got, want);
  }

  void op_change_visibility_batch() {
    if (handles_.empty()) return op_advance();
    ModelQueue& mq = chance(80) ? main_ : dead_letter_;
    std::string desc = "change_visibility_batch via " + mq.name + ":";
    auto entries = batch_entries(mq.name, desc);
    std::vector<std::pair<std::string, ChangeVisibilityEntry>> request;
    std::vector<int> timeouts;
    for (const auto& e : entries) {
      int t = chance(5) ? (chance(50) ? -1 : kMaxVisibility + 1) : (chance(25) ? 0 : uniform(0, 60));
      timeouts.push_back(t);
      desc += " " + e.id + "->" + std::to_string(t);
      request.emplace_back(e.id, ChangeVisibilityEntry{e.handle, t});
    }
    note(desc);
    auto got = queues_->change_visibility_batch(mq.name, request);
    ASSERT_TRUE(got) << got.error().message << "\n" << where();
    std::map<std::string, std::optional<ErrorCode>> want;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      if (timeouts[i] < 0 || timeouts[i] > kMaxVisibility) want[e.id] = ErrorCode::invalid_parameter_value;
      else if (e.ref == nullptr || e.ref->queue != &mq) want[e.id] = ErrorCode::receipt_handle_is_invalid;
      else want[e.id] = mq.change_visibility(e.ref->index, timeouts[i], now());
    }
    expect_outcome(*got, want);
  }

  void op_advance() {
    std::int64_t ms = 0;
    switch (uniform(0, 3)) {
      case 0: ms = 0; break;
      case 1: ms = uniform(0, 40) * kSecond; break;  // lands on whole-second deadlines exactly
      case 2: ms = uniform(0, 40'000); break;
      default: ms = uniform(0, 3) * kSecond - uniform(0, 1); break;  // just before/at a deadline
    }
    if (ms < 0) ms = 0;
    note("advance " + std::to_string(ms) + " ms");
    clock_.advance(Millis(ms));
  }

  void op_purge(ModelQueue& mq) {
    note("purge " + mq.name);
    auto s = queues_->purge(mq.name);
    mq.expire(now());
    auto want = mq.purge(now());
    if (!want) {
      ASSERT_TRUE(s) << s.error().message << "\n" << where();
    } else {
      ASSERT_FALSE(s) << "model expects PurgeQueueInProgress\n" << where();
      EXPECT_EQ(s.error().code, *want) << where();
    }
  }

  void op_set_attributes() {
    AttributeMap attrs;
    switch (uniform(0, 2)) {
      case 0: main_.visibility_timeout = uniform(0, 60); attrs["VisibilityTimeout"] = std::to_string(main_.visibility_timeout); break;
      case 1: main_.delay_seconds = uniform(0, 30); attrs["DelaySeconds"] = std::to_string(main_.delay_seconds); break;
      default: main_.retention_seconds = uniform(60, 900); attrs["MessageRetentionPeriod"] = std::to_string(main_.retention_seconds); break;
    }
    note("set_attributes main " + attrs.begin()->first + "=" + attrs.begin()->second);
    auto s = queues_->set_attributes(kMain, attrs);
    ASSERT_TRUE(s) << s.error().message << "\n" << where();
  }

  void op_restart() {
    note("restart");
    ++restarts_;
    reopen();
    main_.last_purge_ms.reset();
    dead_letter_.last_purge_ms.reset();
  }

  // Receives everything visible with a long visibility timeout, comparing each receive.
  void drain(ModelQueue& mq) {
    for (int i = 0; i < 1000; ++i) {
      ReceiveRequest r;
      r.max_messages = 10;
      r.wait_seconds = 0;
      r.visibility_timeout = kMaxVisibility;
      auto got = queues_->receive(mq.name, r);
      ASSERT_TRUE(got) << got.error().message << "\n" << where();
      auto want = mq.receive(10, kMaxVisibility, now());
      ASSERT_EQ(got->size(), want.size()) << "draining " << mq.name << "\n" << where();
      for (std::size_t k = 0; k < want.size(); ++k)
        ASSERT_EQ((*got)[k].body, mq.messages[want[k]].body) << "draining " << mq.name << "\n" << where();
      if (want.empty() && mq.counts(now()).visible == 0) return;
    }
  }

  void check_counts() {
    for (ModelQueue* mq : {&main_, &dead_letter_}) {
      auto c = queues_->counts(mq->name);
      ASSERT_TRUE(c) << c.error().message << "\n" << where();
      QueueCounts want = mq->counts(now());
      EXPECT_EQ(c->visible, want.visible) << mq->name << " visible\n" << where();
      EXPECT_EQ(c->not_visible, want.not_visible) << mq->name << " not visible\n" << where();
      EXPECT_EQ(c->delayed, want.delayed) << mq->name << " delayed\n" << where();
    }
  }

  std::uint64_t seed_;
  int steps_;
  std::mt19937_64 rng_;
  int step_ = -1;
  std::string op_ = "setup";
  std::deque<std::string> history_;
  std::int64_t start_ms_ = 0;
  std::int64_t next_body_ = 0;
  int restarts_ = 0;
  int receives_ = 0;

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Queues> queues_;

  ModelQueue main_;
  ModelQueue dead_letter_;
  std::vector<HandleRef> handles_;
};

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

TEST(QueueModel, EngineMatchesReferenceModelUnderRandomOperations) {
  const char* fixed = std::getenv("ORDERFLOW_SEED");
  bool replay = fixed != nullptr && *fixed != '\0';
  std::uint64_t base = replay ? std::strtoull(fixed, nullptr, 10) : std::random_device{}();
  int iterations = env_int("ORDERFLOW_MODEL_ITERATIONS", replay ? 1 : 200);
  int steps = env_int("ORDERFLOW_MODEL_STEPS", 300);
  std::cout << "[ QueueModel ] base seed " << base << " (ORDERFLOW_SEED=" << base << " replays iteration 0), "
            << iterations << " iterations x " << steps << " steps\n";
  std::int64_t messages = 0, receives = 0, restarts = 0;
  std::map<Fate, std::int64_t> fates;
  for (int i = 0; i < iterations; ++i) {
    std::uint64_t seed = base + static_cast<std::uint64_t>(i);
    SCOPED_TRACE("replay with ORDERFLOW_SEED=" + std::to_string(seed));
    ModelRun run(seed, steps);
    if (!run.run()) return;
    messages += run.messages();
    receives += run.receives();
    restarts += run.restarts();
    run.tally(fates);
  }
  std::cout << "[ QueueModel ] " << messages << " messages sent, " << receives << " receives compared, "
            << restarts << " restarts; fates:";
  for (const auto& [fate, n] : fates) std::cout << " " << to_string(fate) << "=" << n;
  std::cout << "\n";
}

}  // namespace
}  // namespace orderflow::engine
