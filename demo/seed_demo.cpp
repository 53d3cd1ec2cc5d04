// The seed's scenario, driven through the embedded engine (no HTTP yet): an order is published
// to OrderTopic, fans out to OrderQueue-CF as an SNS envelope, a consumer standing in for
// ProcessOrderLambda unwraps it, logs the orderId and stores it in Orders with a conditional
// put; a message that fails 3 times lands in OrderQueueDLQ-CF.
//
//   orderflow_seed_demo [--orders N] [--data-dir DIR]
//
// Exits 0 when every valid order was stored exactly once and every invalid one dead-lettered.
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "engine/engine.h"

using namespace orderflow;
using namespace orderflow::engine;
namespace json = boost::json;

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "seed-demo: %s\n", what.c_str());
  std::exit(2);
}

template <class T>
T must(Result<T> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error().message);
  return std::move(*r);
}

// What the function does with one SQS message; returns "" on success, else the failure reason.
std::string process(Tables& tables, const ReceivedMessage& m, std::atomic<long>& duplicates) {
  std::error_code ec;
  json::value env = json::parse(m.body, ec);
  if (ec || !env.is_object() || !env.as_object().contains("Message")) return "not an SNS envelope";
  std::string message(env.as_object().at("Message").as_string());
  json::value order = json::parse(message, ec);
  if (ec || !order.is_object()) return "order is not valid JSON";
  auto* id = order.as_object().if_contains("orderId");
  if (id == nullptr || !id->is_string() || id->as_string().empty()) return "order has no orderId";
  std::printf("  log: {\"orderId\":\"%s\",\"messageId\":\"%s\",\"receiveCount\":%d}\n",
              std::string(id->as_string()).c_str(), m.message_id.c_str(), m.receive_count);
  PutItemRequest put;
  put.table_name = "Orders";
  put.item["orderId"] = ddb::AttributeValue(std::string(id->as_string()));
  if (auto* total = order.as_object().if_contains("total"); total != nullptr && total->is_number()) {
    auto n = ddb::Number::parse(json::serialize(*total));
    if (n) put.item["total"] = ddb::AttributeValue(*n);
  }
  put.item["messageId"] = ddb::AttributeValue(std::string(env.as_object().at("MessageId").as_string()));
  put.condition_expression = "attribute_not_exists(orderId)";
  auto r = tables.put_item(put);
  if (!r) {
    if (r.error().error.code == ErrorCode::conditional_check_failed) {
      ++duplicates;
      return "";
    }
    return "store failed: " + r.error().error.message;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  long orders = 100;
  std::filesystem::path dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--orders") orders = std::atol(argv[i + 1]);
    else if (k == "--data-dir") dir = argv[i + 1];
    else die("unknown flag " + k + " (use --orders N, --data-dir DIR)");
  }
  if (orders < 1) die("--orders must be at least 1");
  bool temp = dir.empty();
  if (temp) dir = std::filesystem::temp_directory_path() / ("orderflow-demo-" + std::to_string(::getpid()));

  RealClock clock;
  EngineOptions opts;
  opts.data_dir = dir;
  auto engine = must(Engine::open(opts, clock), "open engine");
  auto& q = engine->queues();
  auto& topics = engine->topics();
  auto& tables = engine->tables();

  std::printf("orderflow seed demo: data in %s\n", dir.string().c_str());
  CreateTableRequest ct;
  ct.table_name = "Orders";
  ct.key_schema = {{"orderId", KeyType::hash}};
  ct.attribute_definitions = {{"orderId", ScalarType::S}};
  ct.billing_mode = BillingMode::pay_per_request;
  if (auto r = tables.create_table(ct); !r && r.error().code != ErrorCode::ddb_resource_in_use)
    die("create table: " + r.error().message);
  must(q.create_queue("OrderQueueDLQ-CF", {{"MessageRetentionPeriod", "1209600"}}), "create DLQ");
  std::string redrive = R"({"deadLetterTargetArn":")" + q.arn("OrderQueueDLQ-CF") + R"(","maxReceiveCount":3})";
  // A 1 s visibility timeout so a failing message is retried (and dead-lettered) in seconds.
  must(q.create_queue("OrderQueue-CF", {{"VisibilityTimeout", "1"}, {"RedrivePolicy", redrive}}), "create queue");
  std::string topic = must(topics.create_topic("OrderTopic", {}), "create topic");
  must(topics.subscribe(topic, "sqs", q.arn("OrderQueue-CF"), {}), "subscribe");
  std::printf("provisioned: table Orders, topic %s, queue OrderQueue-CF (maxReceiveCount 3 -> OrderQueueDLQ-CF)\n",
              topic.c_str());

  // Publish: valid orders, a few duplicates and a few invalid ones.
  std::set<std::string> valid;
  long invalid = 0, dup_published = 0;
  std::vector<std::pair<std::string, PublishRequest>> batch;
  auto flush = [&] {
    if (batch.empty()) return;
    auto r = must(topics.publish_batch(topic, std::move(batch)), "publish");
    if (!r.failed.empty()) die("publish entry failed: " + r.failed[0].second.message);
    batch.clear();
  };
  for (long i = 0; i < orders; ++i) {
    PublishRequest p;
    if (i % 50 == 7) {
      p.message = i % 100 == 7 ? "{not json" : R"({"customerId":"c-1","total":5})";
      ++invalid;
    } else {
      std::string id = "order-" + std::to_string(i);
      p.message = R"({"orderId":")" + id + R"(","customerId":"c-)" + std::to_string(i % 17) +
                  R"(","total":)" + std::to_string(10 + i % 90) + "}";
      valid.insert(id);
      if (i % 40 == 3) {  // publish this one twice: the function must store it once
        batch.emplace_back("d" + std::to_string(batch.size()), p);
        ++dup_published;
      }
    }
    batch.emplace_back("e" + std::to_string(batch.size()), std::move(p));
    if (batch.size() >= 9) flush();
  }
  flush();
  std::printf("published %ld orders (%ld invalid, %ld published twice)\n", orders, invalid, dup_published);

  // Consume like the Lambda event source mapping: batches of 10, delete only successes.
  std::atomic<long> duplicates{0};
  std::map<std::string, std::string> failures;  // message id -> reason
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::seconds(60);
  for (;;) {
    auto dlq = must(q.counts("OrderQueueDLQ-CF"), "dlq counts");
    auto main_q = must(q.counts("OrderQueue-CF"), "queue counts");
    if (dlq.visible >= invalid && main_q.visible + main_q.not_visible + main_q.delayed == 0) break;
    if (std::chrono::steady_clock::now() > deadline) {
      std::printf("timed out waiting for the pipeline to drain\n");
      break;
    }
    ReceiveRequest rr;
    rr.max_messages = 10;
    rr.wait_seconds = 1;
    auto got = must(q.receive("OrderQueue-CF", rr), "receive");
    std::vector<std::pair<std::string, std::string>> done;
    for (const auto& m : got) {
      std::string reason = process(tables, m, duplicates);
      if (reason.empty()) {
        done.emplace_back("m" + std::to_string(done.size()), m.receipt_handle);
      } else {
        failures[m.message_id] = reason;
        std::printf("  log: {\"messageId\":\"%s\",\"receiveCount\":%d,\"outcome\":\"failed\",\"reason\":\"%s\"}\n",
                    m.message_id.c_str(), m.receive_count, reason.c_str());
      }
    }
    if (!done.empty()) must(q.delete_message_batch("OrderQueue-CF", done), "delete");
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Check the outcome against what was published.
  long stored = 0, missing = 0;
  for (const auto& id : valid) {
    GetItemRequest g;
    g.table_name = "Orders";
    g.key["orderId"] = ddb::AttributeValue(id);
    auto r = must(tables.get_item(g), "get item");
    if (r.item) ++stored;
    else ++missing;
  }
  ReceiveRequest peek;
  peek.max_messages = 10;
  peek.visibility_timeout = 0;
  peek.wait_seconds = 0;
  long dead = must(q.counts("OrderQueueDLQ-CF"), "dlq counts").visible;
  std::set<std::string> reasons;
  for (auto& m : must(q.receive("OrderQueueDLQ-CF", peek), "peek dlq"))
    if (failures.contains(m.message_id)) reasons.insert(failures[m.message_id]);

  std::printf("\nsummary after %.1f s:\n", secs);
  std::printf("  stored:                 %ld of %zu valid orders (%ld missing)\n", stored, valid.size(), missing);
  std::printf("  duplicates suppressed:  %ld\n", duplicates.load());
  std::printf("  dead-lettered:          %ld of %ld invalid orders (after 3 receives each)\n", dead, invalid);
  for (const auto& r : reasons) std::printf("    reason: %s\n", r.c_str());
  bool ok = missing == 0 && dead == invalid && duplicates.load() >= dup_published;
  std::printf("%s\n", ok ? "OK: every valid order stored once, every invalid one in the DLQ"
                         : "FAILED: the outcome differs from what was published");
  engine.reset();
  if (temp) std::filesystem::remove_all(dir);
  return ok ? 0 : 1;
}
