// The engine and router behind the request targets (http_request, form, json_protocol).
//
// FuzzEngine: an engine::Engine on a throwaway directory (under $TMPDIR, /dev/shm when there
// is one: RAM), without fsync, on a ManualClock, with the socket-free router in front of it.
// call() runs server::handle() and checks the contract every answer must keep: `respond` called
// exactly once, a status in 100..599, x-amzn-RequestId, and a JSON protocol answer that parses
// as JSON; call_signed() first signs the request with the router's own credentials
// (aws::sign). The engine is reopened on a fresh directory every kRequestsPerEngine requests so
// its state (queues, tables, ...) stays small.
#pragma once

#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "aws/sigv4.h"
#include "common/clock.h"
#include "engine/engine.h"
#include "fuzz/fuzz_support.h"
#include "server/api.h"
#include "server/router.h"

namespace orderflow::fuzz {

inline std::optional<std::string> header_of(const server::ApiResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (aws::iequals(k, name)) return v;
  return std::nullopt;
}

// The contract of every router answer (router.h, api.h).
inline void check_response(const server::ApiResponse& r) {
  if (r.status < 100 || r.status > 599) contract_broken("status out of range", std::to_string(r.status));
  if (!header_of(r, "x-amzn-RequestId")) contract_broken("answer without x-amzn-RequestId", r.body);
  auto ct = header_of(r, "Content-Type");
  if (ct && ct->starts_with("application/x-amz-json") && !r.body.empty()) {
    boost::system::error_code ec;
    boost::json::parse(r.body, ec);
    if (ec) contract_broken("JSON protocol answer is not JSON", r.body);
  }
}

class FuzzEngine {
 public:
  static constexpr int kRequestsPerEngine = 2000;

  // `setup` runs on every freshly opened engine (resources the inputs can refer to).
  explicit FuzzEngine(std::function<void(FuzzEngine&)> setup = {}) : setup_(std::move(setup)) { reopen(); }
  ~FuzzEngine() { close(); }
  FuzzEngine(const FuzzEngine&) = delete;
  FuzzEngine& operator=(const FuzzEngine&) = delete;

  ManualClock& clock() { return clock_; }
  engine::Engine& engine() { return *engine_; }
  const server::RouterOptions& router_options() const { return options_; }

  // Signs `req` for `service` (Host added when absent) with the router's credentials, then
  // handles it.
  server::ApiResponse call_signed(aws::HttpRequest req, std::string_view service,
                                  std::string_view region = "us-east-1") {
    if (!req.header("Host")) req.headers.emplace_back("Host", "127.0.0.1:4566");
    aws::sign(req, aws::Credentials{"test", "test", ""}, region, service, clock_.now());
    return call(req);
  }

  // Runs server::handle() and waits for its answer. A long poll (ReceiveMessage with a wait)
  // answers once its wait has passed on the engine's clock: the clock is moved on until it does.
  server::ApiResponse call(const aws::HttpRequest& req) {
    if (++requests_ > kRequestsPerEngine && !in_setup_) reopen();
    auto state = std::make_shared<Answer>();
    server::handle(*engine_, req, options_, [state](server::ApiResponse r) {
      std::lock_guard g(state->mu);
      if (++state->calls > 1) contract_broken("respond called twice", r.body);
      state->response = std::move(r);
      state->cv.notify_all();
    });
    std::unique_lock lock(state->mu);
    for (int i = 0; i < 200 && !state->response; ++i) {
      lock.unlock();
      clock_.advance(std::chrono::seconds(1));
      lock.lock();
      state->cv.wait_for(lock, std::chrono::milliseconds(i < 100 ? 1 : 50));
    }
    if (!state->response) contract_broken("no answer (respond never called)");
    server::ApiResponse r = std::move(*state->response);
    lock.unlock();
    check_response(r);
    return r;
  }

 private:
  struct Answer {
    std::mutex mu;
    std::condition_variable cv;
    int calls = 0;
    std::optional<server::ApiResponse> response;
  };

  void close() {
    engine_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  void reopen() {
    close();
    requests_ = 0;
    std::filesystem::path base = std::filesystem::temp_directory_path();
    if (std::getenv("TMPDIR") == nullptr && std::filesystem::is_directory("/dev/shm")) base = "/dev/shm";
    std::string tmpl = (base / "orderflow-fuzz-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) contract_broken("mkdtemp failed", tmpl);
    dir_ = tmpl;
    engine::EngineOptions o;
    o.data_dir = dir_;
    o.store.sync = false;
    o.sns_signing_key_bits = 1024;
    auto e = engine::Engine::open(o, clock_);
    if (!e) contract_broken("engine did not open", e.error().message);
    engine_ = std::move(*e);
    if (setup_) {
      in_setup_ = true;
      setup_(*this);
      in_setup_ = false;
    }
  }

  std::function<void(FuzzEngine&)> setup_;
  ManualClock clock_{from_epoch_ms(1'714'564'800'000)};  // 2024-05-01T12:00:00Z
  server::RouterOptions options_;
  std::filesystem::path dir_;
  std::unique_ptr<engine::Engine> engine_;
  int requests_ = 0;
  bool in_setup_ = false;
};

// JSON protocol request: POST / with X-Amz-Target `target` and `body`.
inline aws::HttpRequest json_request(std::string_view target, std::string body) {
  aws::HttpRequest r;
  r.method = "POST";
  r.target = "/";
  bool logs = target.starts_with("Logs_");
  r.headers = {{"Host", "127.0.0.1:4566"},
               {"Content-Type", logs ? "application/x-amz-json-1.1" : "application/x-amz-json-1.0"},
               {"X-Amz-Target", std::string(target)}};
  r.body = std::move(body);
  return r;
}

// The SigV4 service of an X-Amz-Target prefix.
inline std::string_view service_of_target(std::string_view target) {
  if (target.starts_with("DynamoDB_")) return "dynamodb";
  if (target.starts_with("Logs_")) return "logs";
  return "sqs";
}

// What the seeds of the request targets refer to: the order pipeline's resources (as
// deploy/template.yaml makes them) with a message and an item in them. Aborts when the engine
// refuses one: the harness would test nothing.
inline void create_pipeline_resources(FuzzEngine& f) {
  auto must = [&](aws::HttpRequest r, std::string_view service) {
    std::string what = r.body;
    server::ApiResponse res = f.call_signed(std::move(r), service);
    if (res.status != 200) contract_broken("fuzz setup request failed", what + "\n" + res.body);
  };
  auto j = [&](std::string_view target, std::string body) {
    must(json_request(target, std::move(body)), service_of_target(target));
  };
  const std::string q = "http://127.0.0.1:4566/000000000000/";
  j("AmazonSQS.CreateQueue", R"({"QueueName":"OrderQueueDLQ-CF"})");
  j("AmazonSQS.CreateQueue",
    R"({"QueueName":"OrderQueue-CF","Attributes":{"VisibilityTimeout":"30","RedrivePolicy":)"
    R"("{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:OrderQueueDLQ-CF\",\"maxReceiveCount\":3}"}})");
  j("AmazonSQS.SendMessage", R"({"QueueUrl":")" + q + R"(OrderQueue-CF","MessageBody":"{\"orderId\":\"o-1\"}",)"
                             R"("MessageAttributes":{"kind":{"DataType":"String","StringValue":"order"}}})");
  aws::HttpRequest sns;
  sns.method = "POST";
  sns.target = "/";
  sns.headers = {{"Host", "127.0.0.1:4566"}, {"Content-Type", "application/x-www-form-urlencoded"}};
  sns.body = "Action=CreateTopic&Name=OrderTopic";
  must(sns, "sns");
  sns.body = "Action=Subscribe&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3AOrderTopic&Protocol=sqs"
             "&Endpoint=arn%3Aaws%3Asqs%3Aus-east-1%3A000000000000%3AOrderQueue-CF";
  must(sns, "sns");
  j("DynamoDB_20120810.CreateTable",
    R"({"TableName":"Orders","BillingMode":"PAY_PER_REQUEST","AttributeDefinitions":[{"AttributeName":"orderId","AttributeType":"S"}],)"
    R"("KeySchema":[{"AttributeName":"orderId","KeyType":"HASH"}]})");
  j("DynamoDB_20120810.CreateTable",
    R"({"TableName":"Events","BillingMode":"PAY_PER_REQUEST","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},)"
    R"({"AttributeName":"sk","AttributeType":"N"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}]})");
  j("DynamoDB_20120810.PutItem",
    R"({"TableName":"Orders","Item":{"orderId":{"S":"o-1"},"total":{"N":"25.50"},"items":{"L":[{"M":{"sku":{"S":"A"},"quantity":{"N":"2"}}}]},"tags":{"SS":["x","y"]}}})");
  j("DynamoDB_20120810.PutItem", R"({"TableName":"Events","Item":{"pk":{"S":"o-1"},"sk":{"N":"1"},"what":{"S":"created"}}})");
  j("Logs_20140328.CreateLogGroup", R"({"logGroupName":"/aws/lambda/ProcessOrderLambda"})");
  j("Logs_20140328.CreateLogStream", R"({"logGroupName":"/aws/lambda/ProcessOrderLambda","logStreamName":"w1"})");
  j("Logs_20140328.PutLogEvents",
    R"({"logGroupName":"/aws/lambda/ProcessOrderLambda","logStreamName":"w1","logEvents":[{"timestamp":1714564800000,"message":"{\"orderId\":\"o-1\"}"}]})");
}

}  // namespace orderflow::fuzz
