// orderflow_crash_child: the process that src/engine/crash_test.cpp kills with SIGKILL.
//
// Usage: orderflow_crash_child <data-dir> <first-id>
//
// Opens the engine on <data-dir> (creating queue "orders", topic "events" with raw `sqs`
// subscriptions "fanout-a" and "fanout-b", and table "items" when missing), prints "ready",
// then runs until killed: worker threads send messages "m-<n>" (single sends and batches of
// 10), receive and delete messages of "orders", publish "p-<n>" to "events" and put items
// "k-<n>" with a condition. Ids count up from <first-id>, so each run uses its own.
//
// stdout protocol, one line per durable fact, printed only after the call that made it
// durable returned success (one write(2) per call, so a kill never splits a line):
//   ack m-<n>   SendMessage / SendMessageBatch entry acknowledged
//   try m-<n>   about to delete (printed before the DeleteMessage call starts)
//   del m-<n>   DeleteMessage / DeleteMessageBatch entry acknowledged
//   pub p-<n>   Publish acknowledged (fan-out to both queues is durable)
//   put k-<n>   conditional PutItem acknowledged
// Any failure of the engine is printed to stderr and ends the process with status 2.
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "engine/queues.h"
#include "engine/store.h"
#include "engine/tables.h"
#include "engine/topics.h"

namespace {

using namespace orderflow;
using namespace orderflow::engine;

[[noreturn]] void die(const std::string& what, const Error& e) {
  std::fprintf(stderr, "crash_child: %s: %s\n", what.c_str(), e.message.c_str());
  std::_Exit(2);
}

// One write(2) per call: pipe writes up to PIPE_BUF bytes are atomic.
void emit(const std::string& lines) {
  std::size_t off = 0;
  while (off < lines.size()) {
    ssize_t n = ::write(STDOUT_FILENO, lines.data() + off, lines.size() - off);
    if (n < 0) std::_Exit(3);  // the parent went away
    off += static_cast<std::size_t>(n);
  }
}

struct Engine {
  Queues& queues;
  Topics& topics;
  Tables& tables;
  std::string topic_arn;
  std::atomic<std::uint64_t>& next_id;
};

void send_one(Engine& e) {
  std::string body = "m-" + std::to_string(e.next_id++);
  SendRequest r;
  r.body = body;
  auto s = e.queues.send("orders", std::move(r));
  if (!s) die("send", s.error());
  emit("ack " + body + "\n");
}

void send_ten(Engine& e) {
  std::vector<std::pair<std::string, SendRequest>> entries;
  for (int i = 0; i < 10; ++i) {
    SendRequest r;
    r.body = "m-" + std::to_string(e.next_id++);
    entries.emplace_back("e" + std::to_string(i), std::move(r));
  }
  auto copy = entries;
  auto s = e.queues.send_batch("orders", std::move(entries));
  if (!s) die("send_batch", s.error());
  std::string out;
  for (const auto& [id, result] : s->successful)
    for (const auto& [cid, req] : copy)
      if (cid == id) out += "ack " + req.body + "\n";
  for (const auto& [id, err] : s->failed) die("send_batch entry " + id, err);
  emit(out);
}

void receive_and_delete(Engine& e, std::mt19937& rng) {
  ReceiveRequest r;
  r.max_messages = 10;
  r.wait_seconds = 0;
  r.visibility_timeout = 30;
  auto got = e.queues.receive("orders", r);
  if (!got) die("receive", got.error());
  // About a quarter stay in flight, undeleted. Each delete is announced ("try") before it
  // starts: one that became durable but whose "del" line a kill cut off is legitimately gone.
  std::vector<const ReceivedMessage*> doomed;
  for (const auto& m : *got)
    if (rng() % 4 != 0) doomed.push_back(&m);
  if (doomed.empty()) return;
  if (rng() % 2 == 0) {
    for (const auto* m : doomed) {
      emit("try " + m->body + "\n");
      auto d = e.queues.delete_message("orders", m->receipt_handle);
      if (!d) die("delete_message", d.error());
      emit("del " + m->body + "\n");
    }
    return;
  }
  std::vector<std::pair<std::string, std::string>> entries;
  std::string intent;
  for (std::size_t i = 0; i < doomed.size(); ++i) {
    entries.emplace_back("d" + std::to_string(i), doomed[i]->receipt_handle);
    intent += "try " + doomed[i]->body + "\n";
  }
  emit(intent);
  auto d = e.queues.delete_message_batch("orders", entries);
  if (!d) die("delete_message_batch", d.error());
  for (const auto& [id, err] : d->failed) die("delete_message_batch entry " + id, err);
  std::string out;
  for (const auto& [id, ok] : d->successful) out += "del " + doomed[std::stoul(id.substr(1))]->body + "\n";
  emit(out);
}

void publish(Engine& e) {
  std::string body = "p-" + std::to_string(e.next_id++);
  PublishRequest r;
  r.message = body;
  auto s = e.topics.publish(e.topic_arn, std::move(r));
  if (!s) die("publish", s.error());
  emit("pub " + body + "\n");
}

void put_item(Engine& e) {
  std::string key = "k-" + std::to_string(e.next_id++);
  PutItemRequest r;
  r.table_name = "items";
  r.item["pk"] = ddb::S(key);
  r.item["payload"] = ddb::S("value of " + key);
  r.condition_expression = "attribute_not_exists(pk)";
  auto s = e.tables.put_item(r);
  if (!s) die("put_item " + key, s.error().error);
  emit("put " + key + "\n");
}

void worker(Engine& e, unsigned seed) {
  std::mt19937 rng(seed);
  for (;;) {
    unsigned pick = rng() % 100;
    if (pick < 35) send_one(e);
    else if (pick < 60) send_ten(e);
    else if (pick < 75) receive_and_delete(e, rng);
    else if (pick < 87) publish(e);
    else put_item(e);
  }
}

template <class T>
T must(Result<T> r, const std::string& what) {
  if (!r) die(what, r.error());
  return std::move(*r);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <data-dir> <first-id>\n", argv[0]);
    return 1;
  }
  std::atomic<std::uint64_t> next_id{std::strtoull(argv[2], nullptr, 10)};
  RealClock clock;
  auto store = must(Store::open(argv[1]), "open store");
  auto queues = must(Queues::open(*store, clock), "open queues");
  TopicsOptions topic_options;
  topic_options.signing_key_bits = 1024;  // generated once per data directory; keeps start-up short
  auto topics = must(Topics::open(*store, clock, *queues, topic_options), "open topics");
  auto tables = must(Tables::open(*store, clock), "open tables");

  for (const char* name : {"orders", "fanout-a", "fanout-b"}) must(queues->create_queue(name, {}), "create queue");
  std::string topic_arn = must(topics->create_topic("events", {}), "create topic");
  for (const char* name : {"fanout-a", "fanout-b"})  // idempotent: an existing subscription is returned
    must(topics->subscribe(topic_arn, "sqs", queues->arn(name), {{"RawMessageDelivery", "true"}}), "subscribe");
  if (!tables->describe_table("items")) {
    CreateTableRequest t;
    t.table_name = "items";
    t.key_schema = {{"pk", KeyType::hash}};
    t.attribute_definitions = {{"pk", ScalarType::S}};
    t.billing_mode = BillingMode::pay_per_request;
    auto created = tables->create_table(t);
    if (!created && created.error().code != ErrorCode::ddb_resource_in_use) die("create table", created.error());
  }

  emit("ready\n");
  Engine e{*queues, *topics, *tables, topic_arn, next_id};
  unsigned threads = 2 + std::random_device{}() % 3;  // 2..4
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < threads; ++i) pool.emplace_back([&e, i] { worker(e, std::random_device{}() + i); });
  for (auto& t : pool) t.join();  // never: the workers run until the process is killed
  return 0;
}
