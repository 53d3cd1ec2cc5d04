// The Runtime API's HTTP shape over the real Functions service, with a launcher whose
// "processes" are driven by the test through HTTP requests (as a bootstrap would send them).
#include "server/runtime_api.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "server/testing/test_support.h"

namespace orderflow::server {
namespace {

using testing::header;
using testing::Reply;

class PassiveLauncher final : public engine::ProcessLauncher {
 public:
  ~PassiveLauncher() override {
    for (auto& t : exits_) t.join();
  }
  Result<engine::ProcessHandle> spawn(engine::SpawnSpec spec) override {
    std::lock_guard g(mu_);
    specs_.push_back(std::move(spec));
    return static_cast<engine::ProcessHandle>(specs_.size());
  }
  void kill(engine::ProcessHandle h) override {
    std::lock_guard g(mu_);
    if (killed_.contains(h)) return;
    killed_.insert(h);
    auto on_exit = specs_.at(h - 1).on_exit;
    exits_.emplace_back([on_exit] { on_exit(engine::ExitStatus{-1, 9}); });
  }
  std::optional<int> peak_memory_mb(engine::ProcessHandle) override { return std::nullopt; }
  // The Runtime API path prefix of the n-th spawned worker (from its AWS_LAMBDA_RUNTIME_API).
  std::string prefix(std::size_t n) {
    std::lock_guard g(mu_);
    std::string address = specs_.at(n).environment.at("AWS_LAMBDA_RUNTIME_API");
    return address.substr(address.find('/'));
  }
  std::size_t spawned() {
    std::lock_guard g(mu_);
    return specs_.size();
  }

 private:
  std::mutex mu_;
  std::vector<engine::SpawnSpec> specs_;
  std::set<engine::ProcessHandle> killed_;
  std::vector<std::thread> exits_;
};

class NullSink final : public engine::LogSink {
 public:
  void write(std::string_view, std::string_view, TimePoint, std::string_view) override {}
};

class RuntimeApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = engine::Functions::open(clock_, launcher_, sink_);
    ASSERT_TRUE(f);
    functions_ = std::move(*f);
    engine::FunctionConfig c;
    c.name = "fn";
    c.executable = "/nonexistent/bootstrap";
    ASSERT_TRUE(functions_->register_function(c));
  }
  void TearDown() override { functions_.reset(); }

  ApiResponse call(std::string method, std::string target, std::string body = {},
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
    aws::HttpRequest req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    req.headers = std::move(headers);
    Reply reply;
    runtime_api_handle(*functions_, req, reply.respond());
    return reply.get();
  }

  // Invokes and returns a future of the result; the worker is spawned by it.
  std::future<engine::InvocationResult> invoke(std::string payload) {
    auto p = std::make_shared<std::promise<engine::InvocationResult>>();
    functions_->invoke_async("fn", std::move(payload), [p](engine::InvocationResult r) { p->set_value(std::move(r)); });
    return p->get_future();
  }

  RealClock clock_;
  PassiveLauncher launcher_;
  NullSink sink_;
  std::unique_ptr<engine::Functions> functions_;
};

TEST_F(RuntimeApiTest, NextDeliversTheEventWithItsHeadersAndResponseCompletesIt) {
  auto result = invoke(R"({"Records":[]})");
  ASSERT_EQ(launcher_.spawned(), 1u);
  std::string base = launcher_.prefix(0);
  EXPECT_TRUE(base.starts_with("/_orderflow/lambda/fn/"));
  ApiResponse next = call("GET", base + "/2018-06-01/runtime/invocation/next");
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(next.body, R"({"Records":[]})");
  auto id = header(next, "Lambda-Runtime-Aws-Request-Id");
  ASSERT_TRUE(id);
  auto deadline = header(next, "Lambda-Runtime-Deadline-Ms");
  ASSERT_TRUE(deadline);
  EXPECT_GT(std::stoll(*deadline), to_epoch_ms(clock_.now()));
  EXPECT_EQ(header(next, "Lambda-Runtime-Invoked-Function-Arn").value_or(""),
            "arn:aws:lambda:us-east-1:000000000000:function:fn");
  EXPECT_TRUE(header(next, "Lambda-Runtime-Trace-Id").value_or("").starts_with("Root=1-"));

  ApiResponse done = call("POST", base + "/2018-06-01/runtime/invocation/" + *id + "/response", R"({"ok":1})");
  EXPECT_EQ(done.status, 202);
  auto r = result.get();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.payload, R"({"ok":1})");

  // Responding twice is refused as AWS does.
  ApiResponse again = call("POST", base + "/2018-06-01/runtime/invocation/" + *id + "/response", "{}");
  EXPECT_EQ(again.status, 400);
  EXPECT_NE(again.body.find("InvalidRequestID"), std::string::npos);
}

TEST_F(RuntimeApiTest, NextParksUntilThereIsWork) {
  auto first = invoke("1");
  std::string base = launcher_.prefix(0);
  ApiResponse n1 = call("GET", base + "/2018-06-01/runtime/invocation/next");
  ASSERT_EQ(n1.status, 200);
  ASSERT_EQ(call("POST", base + "/2018-06-01/runtime/invocation/" + *header(n1, "Lambda-Runtime-Aws-Request-Id") +
                             "/response",
                 "one")
                .status,
            202);
  EXPECT_EQ(first.get().payload, "one");

  aws::HttpRequest req;
  req.method = "GET";
  req.target = base + "/2018-06-01/runtime/invocation/next";
  Reply parked;
  runtime_api_handle(*functions_, req, parked.respond());
  EXPECT_FALSE(parked.ready(std::chrono::milliseconds(50)));  // nothing to do: it waits
  auto second = invoke("2");
  ApiResponse n2 = parked.get();
  ASSERT_EQ(n2.status, 200);
  EXPECT_EQ(n2.body, "2");
  EXPECT_EQ(launcher_.spawned(), 1u);  // the warm worker took it
  ASSERT_EQ(call("POST", base + "/2018-06-01/runtime/invocation/" + *header(n2, "Lambda-Runtime-Aws-Request-Id") +
                             "/response",
                 "two")
                .status,
            202);
  EXPECT_EQ(second.get().payload, "two");
}

TEST_F(RuntimeApiTest, ErrorFailsTheInvocationWithTheFunctionsErrorType) {
  auto result = invoke("x");
  std::string base = launcher_.prefix(0);
  ApiResponse next = call("GET", base + "/2018-06-01/runtime/invocation/next");
  std::string id = *header(next, "Lambda-Runtime-Aws-Request-Id");
  ApiResponse e = call("POST", base + "/2018-06-01/runtime/invocation/" + id + "/error",
                       R"({"errorMessage":"bad order","errorType":"OrderError"})",
                       {{"Lambda-Runtime-Function-Error-Type", "Unhandled"}});
  EXPECT_EQ(e.status, 202);
  auto r = result.get();
  EXPECT_EQ(r.kind, engine::InvocationResult::Kind::function_error);
  EXPECT_EQ(r.error_type, "OrderError");
  EXPECT_EQ(r.error_message, "bad order");
}

TEST_F(RuntimeApiTest, InitErrorFailsTheWaitingInvocation) {
  auto result = invoke("x");
  std::string base = launcher_.prefix(0);
  ApiResponse e = call("POST", base + "/2018-06-01/runtime/init/error",
                       R"({"errorMessage":"no table","errorType":"Runtime.ConfigError"})");
  EXPECT_EQ(e.status, 202);
  auto r = result.get();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error_type, "Runtime.ConfigError");
}

TEST_F(RuntimeApiTest, AnOversizedResponseIs413AndFailsTheInvocation) {
  auto result = invoke("x");
  std::string base = launcher_.prefix(0);
  ApiResponse next = call("GET", base + "/2018-06-01/runtime/invocation/next");
  std::string id = *header(next, "Lambda-Runtime-Aws-Request-Id");
  ApiResponse big = call("POST", base + "/2018-06-01/runtime/invocation/" + id + "/response",
                         std::string(engine::kMaxSyncPayloadBytes + 1, 'a'));
  EXPECT_EQ(big.status, 413);
  auto r = result.get();
  EXPECT_EQ(r.kind, engine::InvocationResult::Kind::function_error);
  EXPECT_EQ(r.error_type, "Function.ResponseSizeTooLarge");
}

TEST_F(RuntimeApiTest, RefusesUnknownWorkersRoutesAndMethods) {
  EXPECT_EQ(call("GET", "/_orderflow/lambda/fn/99/2018-06-01/runtime/invocation/next").status, 403);
  EXPECT_EQ(call("GET", "/_orderflow/lambda/other/1/2018-06-01/runtime/invocation/next").status, 403);
  EXPECT_EQ(call("GET", "/_orderflow/lambda/fn/x/2018-06-01/runtime/invocation/next").status, 404);
  EXPECT_EQ(call("GET", "/_orderflow/lambda/fn/1/2019-01-01/runtime/invocation/next").status, 404);
  EXPECT_EQ(call("GET", "/_orderflow/lambda/fn/1/2018-06-01/runtime/nothing").status, 404);
  EXPECT_EQ(call("GET", "/_orderflow/lambda/fn").status, 404);
  EXPECT_EQ(call("POST", "/_orderflow/lambda/fn/1/2018-06-01/runtime/invocation/next").status, 405);
  EXPECT_EQ(call("GET", "/_orderflow/lambda/fn/1/2018-06-01/runtime/invocation/abc/response").status, 405);
  ApiResponse unknown = call("POST", "/_orderflow/lambda/fn/1/2018-06-01/runtime/invocation/abc/response", "{}");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("\"errorType\""), std::string::npos);
}

TEST_F(RuntimeApiTest, ShutdownAnswersAParkedNext) {
  auto result = invoke("1");
  std::string base = launcher_.prefix(0);
  ApiResponse n1 = call("GET", base + "/2018-06-01/runtime/invocation/next");
  call("POST", base + "/2018-06-01/runtime/invocation/" + *header(n1, "Lambda-Runtime-Aws-Request-Id") + "/response",
       "ok");
  result.get();
  aws::HttpRequest req;
  req.method = "GET";
  req.target = base + "/2018-06-01/runtime/invocation/next";
  Reply parked;
  runtime_api_handle(*functions_, req, parked.respond());
  EXPECT_FALSE(parked.ready(std::chrono::milliseconds(20)));
  functions_->shutdown();
  ApiResponse r = parked.get(std::chrono::seconds(5));
  EXPECT_EQ(r.status, 500);
}

}  // namespace
}  // namespace orderflow::server
