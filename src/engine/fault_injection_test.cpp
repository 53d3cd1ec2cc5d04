// Power loss and I/O errors under the engine (STYLE.md item 8), through the fault-injecting
// SQLite VFS of fault_vfs.h, installed with EngineOptions::store.vfs.
//
// Power loss: a seeded, randomized workload (CreateQueue, SendMessage, SendMessageBatch,
// ReceiveMessage + DeleteMessage/Batch, Publish fanning out to two raw SQS subscriptions,
// conditional PutItem, clock ticks) runs over three engine sessions on one data directory
// (close and reopen in between: WAL checkpoint, WAL deleted and created again). The power is
// cut at a random write-or-sync call of it; every later I/O fails, so nothing after the cut is
// acknowledged. Then everything not synced is dropped, the engine reopens on what remains and
// the invariants are checked:
// - the engine opens; every acknowledged CreateQueue's queue exists;
// - every acknowledged send whose delete was never attempted is in the queue exactly once; no
//   acknowledged delete's message is there; no message is there twice or was never sent;
// - every acknowledged publish is in both subscribed queues exactly once, and every publish,
//   acknowledged or not, is in both or in neither (one durable batch);
// - every acknowledged PutItem is readable with its value;
// - queue counts add up: ApproximateNumberOfMessages is the number of messages received when
//   draining the queue, and then none are left visible;
// - the engine still works (a send and a receive).
// ORDERFLOW_POWER_CUTS sets the number of cuts (default 50), ORDERFLOW_SEED the seed (printed
// on failure and at the end).
//
// I/O errors: for each main operation, the N-th write-or-sync call fails once, for N = 0, 1,
// 2, ... until the operation goes through without meeting the fault. A failed operation must
// answer a 5xx error of the catalogue; the same operation retried at once (no reopen) must
// succeed; and after a reopen every acknowledged operation is there (checked as above).
// A full disk (every write that grows a file fails with SQLITE_FULL): operations fail with 5xx,
// reads keep working, and when the disk has room again the next request succeeds, without a
// reopen; a close on the full disk (failed checkpoint) loses nothing either.
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/errors.h"
#include "engine/engine.h"
#include "engine/fault_vfs.h"
#include "engine/testing/temp_dir.h"

namespace orderflow::engine {
namespace {

using namespace std::chrono_literals;

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// One VFS for the whole test binary (a name can be registered once).
FaultVfs& vfs() {
  static std::unique_ptr<FaultVfs> v = [] {
    auto r = FaultVfs::install("orderflow-fault");
    if (!r) {
      std::cerr << r.error().message << "\n";
      std::abort();
    }
    return std::move(*r);
  }();
  return *v;
}

bool is_server_fault(const Error& e) { return error_info(e.code).http_status >= 500; }

// What the workload tried and what was acknowledged.
struct Facts {
  std::set<std::string> queues;     // acknowledged CreateQueue
  std::set<std::string> sent;       // every send attempted
  std::set<std::string> acked;      // acknowledged sends
  std::set<std::string> deleting;   // delete attempted
  std::set<std::string> deleted;    // delete acknowledged
  std::set<std::string> published;  // every publish attempted
  std::set<std::string> published_acked;
  std::map<std::string, std::string> put_tried, put_acked;  // key -> value
  std::uint64_t next = 0;
  std::vector<Error> failures;  // errors the operations answered
};

const char* const kQueues[] = {"orders", "fan-a", "fan-b"};

class Workload {
 public:
  Workload(Engine& e, Facts& f, std::mt19937_64& rng) : e_(e), f_(f), rng_(rng) {}

  // Creates (idempotently) the queues, the topic with its two raw subscriptions and the table.
  bool setup() {
    for (const char* q : kQueues) {
      if (!note(e_.queues().create_queue(q, {}))) return false;
      f_.queues.insert(q);
    }
    auto topic = e_.topics().create_topic("events", {});
    if (!note(topic)) return false;
    topic_arn_ = *topic;
    for (const char* q : {"fan-a", "fan-b"})
      if (!note(e_.topics().subscribe(topic_arn_, "sqs", e_.queues().arn(q),
                                      {{"RawMessageDelivery", "true"}})))
        return false;
    if (!e_.tables().describe_table("items")) {
      CreateTableRequest t;
      t.table_name = "items";
      t.key_schema = {{"pk", KeyType::hash}};
      t.attribute_definitions = {{"pk", ScalarType::S}};
      t.billing_mode = BillingMode::pay_per_request;
      auto created = e_.tables().create_table(t);
      if (!created && created.error().code != ErrorCode::ddb_resource_in_use) return note(created);
    }
    return true;
  }

  // One random operation. False when it failed.
  bool step(ManualClock& clock) {
    unsigned pick = static_cast<unsigned>(rng_() % 100);
    if (pick < 25) return send_one();
    if (pick < 45) return send_batch(2 + static_cast<int>(rng_() % 9));
    if (pick < 65) return receive_and_delete();
    if (pick < 80) return publish();
    if (pick < 95) return put_item();
    clock.advance(Millis(1000 + static_cast<std::int64_t>(rng_() % 40'000)));
    return true;
  }

  bool send_one() {
    std::string body = "m-" + std::to_string(f_.next++);
    f_.sent.insert(body);
    SendRequest r;
    r.body = body;
    if (!note(e_.queues().send("orders", std::move(r)))) return false;
    f_.acked.insert(body);
    return true;
  }

  bool send_batch(int n) {
    std::vector<std::pair<std::string, SendRequest>> entries;
    std::vector<std::string> bodies;
    for (int i = 0; i < n; ++i) {
      SendRequest r;
      r.body = "m-" + std::to_string(f_.next++);
      f_.sent.insert(r.body);
      bodies.push_back(r.body);
      entries.emplace_back("e" + std::to_string(i), std::move(r));
    }
    auto s = e_.queues().send_batch("orders", std::move(entries));
    if (!note(s)) return false;
    for (const auto& [id, err] : s->failed) {
      f_.failures.push_back(err);
      return false;
    }
    for (const auto& [id, result] : s->successful) f_.acked.insert(bodies[std::stoul(id.substr(1))]);
    return true;
  }

  // Receives up to 10 and deletes about three quarters of them, one by one or as a batch.
  bool receive_and_delete() {
    auto got = receive();
    if (!got) return false;
    std::vector<const ReceivedMessage*> doomed;
    for (const auto& m : *got)
      if (rng_() % 4 != 0) doomed.push_back(&m);
    if (doomed.size() == 1 || rng_() % 2 == 0) {
      for (const auto* m : doomed)
        if (!delete_one(*m)) return false;
      return true;
    }
    return delete_batch(doomed);
  }

  std::optional<std::vector<ReceivedMessage>> receive() {
    ReceiveRequest r;
    r.max_messages = 10;
    r.wait_seconds = 0;
    r.visibility_timeout = 30;
    auto got = e_.queues().receive("orders", r);
    if (!note(got)) return std::nullopt;
    return std::move(*got);
  }

  bool delete_one(const ReceivedMessage& m) {
    f_.deleting.insert(m.body);
    if (!note(e_.queues().delete_message("orders", m.receipt_handle))) return false;
    f_.deleted.insert(m.body);
    return true;
  }

  bool delete_batch(const std::vector<const ReceivedMessage*>& doomed) {
    if (doomed.empty()) return true;
    std::vector<std::pair<std::string, std::string>> entries;
    for (std::size_t i = 0; i < doomed.size(); ++i) {
      entries.emplace_back("d" + std::to_string(i), doomed[i]->receipt_handle);
      f_.deleting.insert(doomed[i]->body);
    }
    auto d = e_.queues().delete_message_batch("orders", entries);
    if (!note(d)) return false;
    for (const auto& [id, err] : d->failed) {
      // A receipt of a message that an earlier failed delete already removed from memory.
      if (err.code == ErrorCode::receipt_handle_is_invalid) continue;
      f_.failures.push_back(err);
      return false;
    }
    for (const auto& [id, ok] : d->successful) f_.deleted.insert(doomed[std::stoul(id.substr(1))]->body);
    return true;
  }

  bool publish() {
    std::string body = "p-" + std::to_string(f_.next++);
    f_.published.insert(body);
    PublishRequest r;
    r.message = body;
    if (!note(e_.topics().publish(topic_arn_, std::move(r)))) return false;
    f_.published_acked.insert(body);
    return true;
  }

  bool put_item() {
    std::string key = "k-" + std::to_string(f_.next++);
    std::string value = "value of " + key;
    f_.put_tried[key] = value;
    PutItemRequest r;
    r.table_name = "items";
    r.item["pk"] = ddb::S(key);
    r.item["payload"] = ddb::S(value);
    r.condition_expression = "attribute_not_exists(pk)";
    auto s = e_.tables().put_item(r);
    if (!s) {
      f_.failures.push_back(s.error().error);
      return false;
    }
    f_.put_acked[key] = value;
    return true;
  }

  bool create_extra_queue() {
    std::string name = "extra-" + std::to_string(f_.next++);
    if (!note(e_.queues().create_queue(name, {}))) return false;
    f_.queues.insert(name);
    return true;
  }

 private:
  template <class R>
  bool note(const R& r) {
    if (r) return true;
    f_.failures.push_back(r.error());
    return false;
  }

  Engine& e_;
  Facts& f_;
  std::mt19937_64& rng_;
  std::string topic_arn_;
};

EngineOptions options_for(const std::filesystem::path& dir) {
  EngineOptions o;
  o.data_dir = dir;
  o.store.vfs = vfs().name();
  o.sns_signing_key_bits = 1024;  // generated once per data directory; keeps the test short
  return o;
}

// Receives everything in `queue` (the clock is far enough ahead that all is visible) and checks
// that the counts add up. Returns body -> times seen.
std::map<std::string, int> drain(Queues& queues, const std::string& queue, std::vector<std::string>& problems) {
  std::map<std::string, int> seen;
  auto before = queues.counts(queue);
  if (!before) {
    problems.push_back(queue + ": counts: " + before.error().message);
    return seen;
  }
  std::int64_t received = 0;
  for (;;) {
    ReceiveRequest r;
    r.max_messages = 10;
    r.wait_seconds = 0;
    r.visibility_timeout = 43'200;
    auto got = queues.receive(queue, r);
    if (!got) {
      problems.push_back(queue + ": receive: " + got.error().message);
      break;
    }
    if (got->empty()) break;
    for (const auto& m : *got) ++seen[m.body];
    received += static_cast<std::int64_t>(got->size());
  }
  auto after = queues.counts(queue);
  if (before->visible != received || before->delayed != 0)
    problems.push_back(queue + ": " + std::to_string(before->visible) + " visible and " +
                       std::to_string(before->delayed) + " delayed before draining, " +
                       std::to_string(received) + " received");
  if (!after || after->visible != 0 || after->not_visible != received)
    problems.push_back(queue + ": counts after draining do not add up");
  return seen;
}

// Opens the data directory (no fault armed) and checks the invariants of the file comment.
void check_invariants(const std::filesystem::path& dir, ManualClock& clock, const Facts& f,
                      const std::string& context) {
  SCOPED_TRACE(context);
  clock.advance(Millis(3'600'000));  // every in-flight message visible again
  auto opened = Engine::open(options_for(dir), clock);
  ASSERT_TRUE(opened) << "the engine does not reopen: " << opened.error().message;
  Engine& e = **opened;
  std::vector<std::string> problems;
  for (const auto& q : f.queues)
    if (!e.queues().exists(q)) problems.push_back("acknowledged queue " + q + " is missing");

  if (e.queues().exists("orders")) {
    auto orders = drain(e.queues(), "orders", problems);
    for (const auto& b : f.acked)
      if (!f.deleting.contains(b) && orders[b] != 1)
        problems.push_back("acknowledged " + b + " found " + std::to_string(orders[b]) + " times");
    for (const auto& b : f.deleted)
      if (orders[b] != 0) problems.push_back("deleted " + b + " is still there");
    for (const auto& [b, n] : orders) {
      if (n > 1) problems.push_back(b + " is there " + std::to_string(n) + " times");
      if (n > 0 && !f.sent.contains(b)) problems.push_back(b + " was never sent");
    }
  }
  if (e.queues().exists("fan-a") && e.queues().exists("fan-b")) {
    auto a = drain(e.queues(), "fan-a", problems);
    auto b = drain(e.queues(), "fan-b", problems);
    for (const auto& p : f.published_acked)
      if (a[p] != 1 || b[p] != 1)
        problems.push_back("acknowledged publish " + p + " found " + std::to_string(a[p]) + "/" +
                           std::to_string(b[p]) + " times");
    for (const auto* side : {&a, &b})
      for (const auto& [p, n] : *side) {
        if (n > 1) problems.push_back(p + " fanned out " + std::to_string(n) + " times");
        if (n > 0 && !f.published.contains(p)) problems.push_back(p + " was never published");
        if (a[p] != b[p]) problems.push_back(p + " is in one subscribed queue only (half a fan-out)");
      }
  }
  for (const auto& [key, value] : f.put_acked) {
    GetItemRequest g;
    g.table_name = "items";
    g.key["pk"] = ddb::S(key);
    auto got = e.tables().get_item(g);
    if (!got || !got->item || !got->item->contains("payload") ||
        got->item->at("payload") != ddb::S(value))
      problems.push_back("acknowledged item " + key + " is missing");
  }
  // Still alive: a send and a receive.
  if (e.queues().exists("orders")) {
    SendRequest r;
    r.body = "after";
    auto s = e.queues().send("orders", std::move(r));
    if (!s) problems.push_back("send after reopening: " + s.error().message);
    ReceiveRequest rr;
    rr.wait_seconds = 0;
    auto got = e.queues().receive("orders", rr);
    if (!got || got->size() != 1 || (*got)[0].body != "after")
      problems.push_back("receive after reopening does not return the new message");
  }
  for (const auto& p : problems) ADD_FAILURE() << p;
}

// One round of the power-loss test: the workload over three sessions, cut at I/O call `cut`
// (counted from the round's start; none when nullopt). Returns the number of I/O calls made.
std::uint64_t power_loss_round(std::uint64_t seed, std::optional<std::uint64_t> cut, bool& was_cut) {
  testing::TempDir dir;
  ManualClock clock;
  std::mt19937_64 rng(seed);
  Facts f;
  std::uint64_t start = vfs().io_calls();
  if (cut) vfs().cut_power_after(*cut);
  bool stop = false;
  for (int session = 0; session < 3 && !stop; ++session) {
    auto e = Engine::open(options_for(dir.path()), clock);
    if (!e) {
      EXPECT_TRUE(vfs().power_is_cut()) << "open failed with the power on: " << e.error().message;
      break;
    }
    Workload w(**e, f, rng);
    stop = !w.setup();
    for (int i = 0; i < 25 && !stop; ++i) stop = !w.step(clock);
    if (stop) {
      EXPECT_TRUE(vfs().power_is_cut()) << "an operation failed with the power on: "
                                        << (f.failures.empty() ? "" : f.failures.back().message);
    }
    for (const auto& err : f.failures)
      EXPECT_TRUE(is_server_fault(err)) << "a failure that is not 5xx: " << err.message;
  }
  std::uint64_t used = vfs().io_calls() - start;
  was_cut = vfs().power_is_cut();
  if (auto s = vfs().restore_power(); !s) ADD_FAILURE() << s.error().message;
  check_invariants(dir.path(), clock, f,
                   "seed " + std::to_string(seed) +
                       (cut ? ", power cut at I/O call " + std::to_string(*cut) : ", no cut"));
  return used;
}

TEST(PowerLoss, EveryAcknowledgedOperationSurvivesACutAtRandomPoints) {
  std::uint64_t seed = env_u64("ORDERFLOW_SEED", std::random_device{}());
  std::uint64_t cuts = env_u64("ORDERFLOW_POWER_CUTS", 50);
  SCOPED_TRACE("ORDERFLOW_SEED=" + std::to_string(seed));
  bool was_cut = false;
  std::uint64_t total = power_loss_round(seed, std::nullopt, was_cut);  // also measures a round
  ASSERT_GT(total, 10u);
  std::mt19937_64 rng(seed);
  std::uint64_t really_cut = 0;
  for (std::uint64_t i = 0; i < cuts && !HasFailure(); ++i) {
    std::uint64_t round_seed = seed + i + 1;
    std::uint64_t cut = rng() % (total + total / 10);
    power_loss_round(round_seed, cut, was_cut);
    if (was_cut) ++really_cut;
  }
  std::cout << "[ power loss ] seed " << seed << ": " << cuts << " rounds of ~" << total
            << " write/sync calls, power cut in " << really_cut << " of them, invariants held\n";
}

// The fault-injection loop for one operation: `prepare` runs without faults, `act` with the
// N-th write-or-sync call failing, for N = 0, 1, ... until `act` meets no fault.
struct OpCase {
  std::string name;
  std::function<bool(Workload&)> prepare;
  std::function<bool(Workload&)> act;
};

void fail_each_io(const OpCase& op) {
  SCOPED_TRACE(op.name);
  for (std::uint64_t n = 0;; ++n) {
    ASSERT_LT(n, 500u) << "the operation never got through";
    SCOPED_TRACE("failing write/sync call N=" + std::to_string(n));
    testing::TempDir dir;
    ManualClock clock;
    std::mt19937_64 rng(n);
    Facts f;
    bool hit = false;
    {
      auto opened = Engine::open(options_for(dir.path()), clock);
      ASSERT_TRUE(opened) << opened.error().message;
      Workload w(**opened, f, rng);
      ASSERT_TRUE(w.setup());
      ASSERT_TRUE(op.prepare(w));
      std::uint64_t injected = vfs().faults_injected();
      vfs().fail_nth(n);
      bool ok = op.act(w);
      hit = vfs().faults_injected() > injected;
      vfs().clear_faults();
      if (!hit) {
        EXPECT_TRUE(ok) << "failed without a fault";
      }
      if (!ok) {
        ASSERT_FALSE(f.failures.empty());
        EXPECT_TRUE(is_server_fault(f.failures.back()))
            << "not a 5xx error: " << error_info(f.failures.back().code).code << ": "
            << f.failures.back().message;
      }
      // The disk works again: the next request succeeds, without a reopen.
      EXPECT_TRUE(op.act(w)) << "no recovery: " << (f.failures.empty() ? "" : f.failures.back().message);
      EXPECT_TRUE(w.send_one()) << "no recovery: " << f.failures.back().message;
    }
    check_invariants(dir.path(), clock, f, op.name + " with write/sync call " + std::to_string(n) + " failing");
    if (::testing::Test::HasFailure()) return;
    if (!hit) {
      std::cout << "[ io errors  ] " << op.name << ": N = 0.." << n
                << " (call N failed; from N=" << n << " on the operation met no fault)\n";
      return;
    }
  }
}

bool nothing(Workload&) { return true; }

TEST(IoErrors, CreateQueueFailsWith5xxAndRecovers) {
  fail_each_io({"CreateQueue", nothing, [](Workload& w) { return w.create_extra_queue(); }});
}

TEST(IoErrors, SendMessageFailsWith5xxAndRecovers) {
  fail_each_io({"SendMessage", nothing, [](Workload& w) { return w.send_one(); }});
}

TEST(IoErrors, SendMessageBatchFailsWith5xxAndRecovers) {
  fail_each_io({"SendMessageBatch", nothing, [](Workload& w) { return w.send_batch(10); }});
}

TEST(IoErrors, ReceiveMessageFailsWith5xxAndRecovers) {
  fail_each_io({"ReceiveMessage", [](Workload& w) { return w.send_batch(10); },
                [](Workload& w) { return w.receive().has_value(); }});
}

TEST(IoErrors, DeleteMessageFailsWith5xxAndRecovers) {
  // Each act deletes what one receive returns (the retry deletes the next ones).
  auto act = [](Workload& w) {
    auto got = w.receive();
    if (!got) return false;
    for (const auto& m : *got)
      if (!w.delete_one(m)) return false;
    return true;
  };
  fail_each_io({"DeleteMessage", [](Workload& w) { return w.send_batch(10); }, act});
}

TEST(IoErrors, DeleteMessageBatchFailsWith5xxAndRecovers) {
  auto act = [](Workload& w) {
    auto got = w.receive();
    if (!got) return false;
    std::vector<const ReceivedMessage*> all;
    for (const auto& m : *got) all.push_back(&m);
    return w.delete_batch(all);
  };
  fail_each_io({"DeleteMessageBatch", [](Workload& w) { return w.send_batch(10); }, act});
}

TEST(IoErrors, PutItemFailsWith5xxAndRecovers) {
  fail_each_io({"PutItem", nothing, [](Workload& w) { return w.put_item(); }});
}

TEST(IoErrors, PublishFanOutFailsWith5xxAndRecovers) {
  fail_each_io({"Publish", nothing, [](Workload& w) { return w.publish(); }});
}

TEST(StoreFaults, AFailedCommitIsWrittenFirstByTheNextOne) {
  testing::TempDir dir;
  {
    auto store = Store::open(dir.path(), StoreOptions{.sync = true, .vfs = vfs().name()});
    ASSERT_TRUE(store) << store.error().message;
    WriteBatch a;
    a.put(Space::counter, "a", "1");
    ASSERT_TRUE((*store)->commit(std::move(a)));
    vfs().set_disk_full(true);
    WriteBatch b;
    b.put(Space::counter, "b", "1");
    b.put(Space::counter, "x", "from b");
    EXPECT_FALSE((*store)->commit(std::move(b)));
    EXPECT_FALSE((*store)->commit({})) << "a barrier after a failed batch waits for it";
    vfs().set_disk_full(false);
    WriteBatch c;
    c.put(Space::counter, "x", "from c");
    EXPECT_TRUE((*store)->commit(std::move(c)));
  }
  auto store = Store::open(dir.path(), StoreOptions{.sync = true, .vfs = vfs().name()});
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ((*store)->get(Space::counter, "a").value(), "1");
  EXPECT_EQ((*store)->get(Space::counter, "b").value(), "1");
  EXPECT_EQ((*store)->get(Space::counter, "x").value(), "from c") << "kept batches go first";
}

// The fsync runs on the store's syncer thread after SQLite has committed. When it fails, the
// batch it covered is not acknowledged, and the store re-establishes durability (checkpoint of
// the whole WAL into the database file, fsynced) before it acknowledges anything again: the
// next commit succeeds, and after a reopen both batches are there (the failed one became
// durable with the checkpoint; it was never acknowledged, so either outcome is allowed, but a
// checkpoint that really ran leaves it in the database).
TEST(StoreFaults, AFailedFsyncFailsItsBatchUntilTheWalIsCheckpointed) {
  testing::TempDir dir;
  {
    auto store = Store::open(dir.path(), StoreOptions{.sync = true, .vfs = vfs().name()});
    ASSERT_TRUE(store) << store.error().message;
    WriteBatch a;
    a.put(Space::counter, "a", "1");
    ASSERT_TRUE((*store)->commit(std::move(a)));
    // One more commit of the same shape, to count its write/sync calls: the last is the fsync.
    std::uint64_t before = vfs().io_calls();
    WriteBatch b1;
    b1.put(Space::counter, "b1", "1");
    ASSERT_TRUE((*store)->commit(std::move(b1)));
    std::uint64_t per_commit = vfs().io_calls() - before;
    ASSERT_GE(per_commit, 2u) << "a commit writes the WAL, then fsyncs it";
    std::uint64_t injected = vfs().faults_injected();
    vfs().fail_nth(per_commit - 1);
    WriteBatch b2;
    b2.put(Space::counter, "b2", "1");
    auto failed = (*store)->commit(std::move(b2));
    ASSERT_EQ(vfs().faults_injected(), injected + 1) << "the fsync was the call that failed";
    ASSERT_FALSE(failed) << "a batch whose fsync failed is not acknowledged";
    EXPECT_NE(failed.error().message.find("sync"), std::string::npos) << failed.error().message;
    vfs().clear_faults();
    std::uint64_t checkpoint_from = vfs().io_calls();
    WriteBatch c;
    c.put(Space::counter, "c", "1");
    EXPECT_TRUE((*store)->commit(std::move(c)));
    EXPECT_GT(vfs().io_calls() - checkpoint_from, per_commit)
        << "the commit after a failed fsync first checkpoints the WAL";
  }
  auto store = Store::open(dir.path(), StoreOptions{.sync = true, .vfs = vfs().name()});
  ASSERT_TRUE(store) << store.error().message;
  for (const char* k : {"a", "b1", "b2", "c"})
    EXPECT_EQ((*store)->get(Space::counter, k).value(), "1") << k;
}

// Durability::committed: the submitter is answered once SQLite has committed, before any fsync
// of its own, so a power cut right after the answer loses that batch; a synced batch submitted
// after it makes both durable (the WAL is synced in order); left alone, the syncer fsyncs it
// within Store::kCommittedSyncDelay.
TEST(StoreFaults, ACommittedBatchIsSyncedByTheNextSyncedOneOrWithinTheDelay) {
  testing::TempDir dir;
  auto open = [&] {
    auto s = Store::open(dir.path(), StoreOptions{.sync = true, .vfs = vfs().name()});
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  };
  auto put = [](const char* key) {
    WriteBatch b;
    b.put(Space::counter, key, "1");
    return b;
  };
  auto value = [](Store& s, const char* key) { return s.get(Space::counter, key).value(); };
  {
    auto store = open();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->commit(put("base")));
    ASSERT_TRUE(store->submit(put("unsynced"), Durability::committed).get());
    EXPECT_EQ(value(*store, "unsynced"), "1") << "answered once committed: readable";
    vfs().cut_power();
  }
  ASSERT_TRUE(vfs().restore_power());
  {
    auto store = open();
    ASSERT_TRUE(store);
    EXPECT_EQ(value(*store, "base"), "1");
    EXPECT_EQ(value(*store, "unsynced"), std::nullopt) << "a committed batch was answered after an fsync";
    ASSERT_TRUE(store->submit(put("carried"), Durability::committed).get());
    ASSERT_TRUE(store->commit(put("synced")));
    vfs().cut_power();
  }
  ASSERT_TRUE(vfs().restore_power());
  {
    auto store = open();
    ASSERT_TRUE(store);
    EXPECT_EQ(value(*store, "synced"), "1");
    EXPECT_EQ(value(*store, "carried"), "1") << "the fsync of a later synced batch covers a committed one";
    ASSERT_TRUE(store->submit(put("alone"), Durability::committed).get());
    std::this_thread::sleep_for(Store::kCommittedSyncDelay * 5);
    vfs().cut_power();
  }
  ASSERT_TRUE(vfs().restore_power());
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(value(*store, "alone"), "1") << "not synced within kCommittedSyncDelay";
}

// The event source mapping's receives and deletes (in process) are answered without waiting for
// the disk (Durability::committed); an acknowledged send after them makes them durable too, so a
// power cut then neither brings a deleted message back nor loses the acknowledged one.
TEST(PowerLoss, AnInProcessDeleteIsDurableOnceALaterSendIsAcknowledged) {
  testing::TempDir dir;
  ManualClock clock;
  {
    auto opened = Engine::open(options_for(dir.path()), clock);
    ASSERT_TRUE(opened) << opened.error().message;
    Queues& q = (*opened)->queues();
    ASSERT_TRUE(q.create_queue("orders", {}));
    SendRequest first;
    first.body = "processed";
    ASSERT_TRUE(q.send("orders", std::move(first)));
    ReceiveRequest r;
    r.max_messages = 10;
    r.wait_seconds = 0;
    r.in_process = true;
    auto got = q.receive("orders", r);
    ASSERT_TRUE(got && got->size() == 1);
    auto deleted = q.delete_message_batch("orders", {{"0", (*got)[0].receipt_handle}}, /*in_process=*/true);
    ASSERT_TRUE(deleted && deleted->successful.size() == 1);
    SendRequest second;
    second.body = "acknowledged";
    ASSERT_TRUE(q.send("orders", std::move(second)));
    vfs().cut_power();
  }
  ASSERT_TRUE(vfs().restore_power());
  auto opened = Engine::open(options_for(dir.path()), clock);
  ASSERT_TRUE(opened) << opened.error().message;
  ReceiveRequest r;
  r.max_messages = 10;
  r.wait_seconds = 0;
  auto got = (*opened)->queues().receive("orders", r);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].body, "acknowledged");
}

// While the disk stays full, what failed commits wrote is kept coalesced by key: a thousand
// failed batches over three keys keep three entries, and the next commit writes the last
// value of each (and the erase that came last).
TEST(StoreFaults, WhatFailedCommitsWroteIsKeptOncePerKey) {
  testing::TempDir dir;
  {
    auto store = Store::open(dir.path(), StoreOptions{.sync = true, .vfs = vfs().name()});
    ASSERT_TRUE(store) << store.error().message;
    WriteBatch setup;
    setup.put(Space::counter, "gone", "before");
    ASSERT_TRUE((*store)->commit(std::move(setup)));
    vfs().set_disk_full(true);
    for (int i = 0; i < 1000; ++i) {
      WriteBatch b;
      b.put(Space::counter, "k", "v" + std::to_string(i));
      b.put(Space::counter, "tmp", std::string(1024, 'x'));
      b.erase(Space::counter, "tmp");
      if (i == 500) b.erase(Space::counter, "gone");
      EXPECT_FALSE((*store)->commit(std::move(b)));
    }
    EXPECT_EQ((*store)->kept_keys(), 3u) << "k, tmp (erased) and gone";
    vfs().set_disk_full(false);
    EXPECT_TRUE((*store)->commit({})) << "a barrier now writes what was kept";
    EXPECT_EQ((*store)->kept_keys(), 0u);
    WriteBatch last;
    last.put(Space::counter, "other", "1");
    ASSERT_TRUE((*store)->commit(std::move(last)));
  }
  auto store = Store::open(dir.path(), StoreOptions{.sync = true, .vfs = vfs().name()});
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ((*store)->get(Space::counter, "k").value(), "v999");
  EXPECT_EQ((*store)->get(Space::counter, "tmp").value(), std::nullopt);
  EXPECT_EQ((*store)->get(Space::counter, "gone").value(), std::nullopt);
  EXPECT_EQ((*store)->get(Space::counter, "other").value(), "1");
}

TEST(IoErrors, FullDiskFailsWith5xxAndRecoversWhenThereIsRoomAgain) {
  testing::TempDir dir;
  ManualClock clock;
  std::mt19937_64 rng(7);
  Facts f;
  {
    auto opened = Engine::open(options_for(dir.path()), clock);
    ASSERT_TRUE(opened) << opened.error().message;
    Engine& e = **opened;
    Workload w(e, f, rng);
    ASSERT_TRUE(w.setup());
    ASSERT_TRUE(w.send_batch(10));
    ASSERT_TRUE(w.publish());
    ASSERT_TRUE(w.put_item());

    vfs().set_disk_full(true);
    int failed = 0;
    std::vector<std::function<bool()>> ops = {
        [&] { return w.send_one(); },           [&] { return w.send_batch(5); },
        [&] { return w.publish(); },            [&] { return w.put_item(); },
        [&] { return w.create_extra_queue(); }, [&] { return w.receive_and_delete(); },
    };
    for (int round = 0; round < 3; ++round)
      for (auto& op : ops)
        if (!op()) ++failed;
    EXPECT_EQ(failed, 18) << "every write on a full disk fails";
    for (const auto& err : f.failures) EXPECT_TRUE(is_server_fault(err)) << err.message;
    // Reads keep working.
    EXPECT_TRUE(e.queues().counts("orders"));
    EXPECT_TRUE(e.tables().describe_table("items"));

    vfs().set_disk_full(false);
    EXPECT_TRUE(w.send_one()) << "no recovery: " << f.failures.back().message;
    for (auto& op : ops) EXPECT_TRUE(op()) << f.failures.back().message;

    // A close on a full disk: the checkpoint fails, the WAL stays.
    ASSERT_TRUE(w.send_batch(10));
    vfs().set_disk_full(true);
  }
  vfs().set_disk_full(false);
  check_invariants(dir.path(), clock, f, "full disk");
  std::cout << "[ full disk  ] " << f.failures.size() << " requests failed with 5xx while full, "
            << f.acked.size() << " acknowledged sends kept\n";
}

}  // namespace
}  // namespace orderflow::engine
