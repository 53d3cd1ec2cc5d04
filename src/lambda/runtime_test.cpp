#include "lambda/runtime.h"

#include <gtest/gtest.h>

#include <atomic>

#include "client/testing/loopback_http_server.h"
#include "orders/json.h"

namespace orderflow::lambda {
namespace {

using client::testing::CannedResponse;
using client::testing::LoopbackHttpServer;
using client::testing::ReceivedRequest;

constexpr std::string_view kNext = "/2018-06-01/runtime/invocation/next";

CannedResponse invocation(const std::string& request_id, const std::string& payload) {
  return {200,
          {{"Content-Type", "application/json"},
           {"Lambda-Runtime-Aws-Request-Id", request_id},
           {"Lambda-Runtime-Deadline-Ms", "1700000003000"},
           {"Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:us-east-1:000000000000:function:ProcessOrderLambda"},
           {"Lambda-Runtime-Trace-Id", "Root=1-5e7d7595-212f1a2b3c4d5e6f7a8b9c0d;Parent=42ff0645f474;Sampled=1"}},
          payload};
}

// A fake Runtime API: /next hands out the queued invocations, then answers 500 (container
// error), which ends the loop; POSTs are accepted with 202 unless `post_status` says otherwise.
class FakeRuntimeApi {
 public:
  explicit FakeRuntimeApi(std::vector<CannedResponse> invocations, int post_status = 202)
      : invocations_(std::move(invocations)), post_status_(post_status) {
    server_ = LoopbackHttpServer::start([this](const ReceivedRequest& r) { return handle(r); });
  }
  std::unique_ptr<RuntimeApi> api() {
    auto transport = client::make_curl_transport();
    return std::make_unique<RuntimeApi>(server_->host_port(), std::move(*transport));
  }
  std::vector<ReceivedRequest> posts() const {
    std::vector<ReceivedRequest> out;
    for (auto& r : server_->requests()) {
      if (r.method == "POST") out.push_back(r);
    }
    return out;
  }
  std::size_t next_calls() const {
    std::size_t n = 0;
    for (auto& r : server_->requests()) n += r.target == kNext;
    return n;
  }
  LoopbackHttpServer& server() { return *server_; }

 private:
  CannedResponse handle(const ReceivedRequest& r) {
    if (r.method == "GET" && r.target == kNext) {
      std::size_t i = served_++;
      if (i < invocations_.size()) return invocations_[i];
      return {500, {}, R"({"errorMessage":"container error","errorType":"Runtime.ExitError"})"};
    }
    return {post_status_, {}, post_status_ == 202 ? R"({"status":"OK"})" : R"({"errorType":"InvalidStateTransition"})"};
  }

  std::vector<CannedResponse> invocations_;
  int post_status_;
  std::atomic<std::size_t> served_{0};
  std::unique_ptr<LoopbackHttpServer> server_;
};

TEST(Runtime, RunsAnInvocationAndPostsTheHandlersResponse) {
  FakeRuntimeApi fake({invocation("req-1", R"({"Records":[]})")});
  auto api = fake.api();
  std::vector<Invocation> seen;
  auto stopped = run(*api, [&seen](const Invocation& inv) {
    seen.push_back(inv);
    return InvocationResponse::ok(R"({"batchItemFailures":[]})");
  });
  EXPECT_EQ(stopped.http_status, 500);  // the second next: container error ends the loop
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].request_id, "req-1");
  EXPECT_EQ(seen[0].payload, R"({"Records":[]})");
  EXPECT_EQ(seen[0].deadline, from_epoch_ms(1700000003000));
  EXPECT_EQ(seen[0].function_arn, "arn:aws:lambda:us-east-1:000000000000:function:ProcessOrderLambda");
  EXPECT_EQ(seen[0].trace_id, "Root=1-5e7d7595-212f1a2b3c4d5e6f7a8b9c0d;Parent=42ff0645f474;Sampled=1");
  auto posts = fake.posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, "/2018-06-01/runtime/invocation/req-1/response");
  EXPECT_EQ(posts[0].body, R"({"batchItemFailures":[]})");
  EXPECT_EQ(posts[0].header("Content-Type"), "application/json");
  EXPECT_FALSE(posts[0].header("Lambda-Runtime-Function-Error-Type").has_value());
  EXPECT_EQ(fake.server().connections_accepted(), 1);  // one kept-alive connection throughout
}

TEST(Runtime, RunsInvocationsOneAfterAnother) {
  FakeRuntimeApi fake({invocation("a", "1"), invocation("b", "2"), invocation("c", "3")});
  auto api = fake.api();
  std::string order;
  run(*api, [&order](const Invocation& inv) {
    order += inv.payload;
    return InvocationResponse::ok(inv.payload + "!");
  });
  EXPECT_EQ(order, "123");
  auto posts = fake.posts();
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(posts[2].target, "/2018-06-01/runtime/invocation/c/response");
  EXPECT_EQ(posts[2].body, "3!");
}

TEST(Runtime, PostsAHandlerFailureToTheErrorEndpoint) {
  FakeRuntimeApi fake({invocation("req-2", "not json")});
  auto api = fake.api();
  run(*api, [](const Invocation&) {
    return InvocationResponse::failure("InvalidEvent", "event is not JSON: \"oops\"");
  });
  auto posts = fake.posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, "/2018-06-01/runtime/invocation/req-2/error");
  EXPECT_EQ(posts[0].header("Lambda-Runtime-Function-Error-Type"), "InvalidEvent");
  EXPECT_EQ(posts[0].header("Content-Type"), "application/json");
  EXPECT_EQ(posts[0].body,
            R"({"errorMessage":"event is not JSON: \"oops\"","errorType":"InvalidEvent","stackTrace":[]})");
}

TEST(Runtime, ReportsAThrowingHandlerAsAnErrorAndCarriesOn) {
  FakeRuntimeApi fake({invocation("x", "1"), invocation("y", "2")});
  auto api = fake.api();
  run(*api, [](const Invocation& inv) -> InvocationResponse {
    if (inv.request_id == "x") throw std::runtime_error("boom");
    return InvocationResponse::ok("fine");
  });
  auto posts = fake.posts();
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[0].target, "/2018-06-01/runtime/invocation/x/error");
  EXPECT_EQ(posts[0].header("Lambda-Runtime-Function-Error-Type"), "Runtime.UnhandledException");
  EXPECT_EQ(posts[1].target, "/2018-06-01/runtime/invocation/y/response");
}

TEST(Runtime, PostsAnInitError) {
  FakeRuntimeApi fake({});
  auto api = fake.api();
  ASSERT_TRUE(api->post_init_error("Runtime.InvalidConfiguration", "ORDERS_TABLE is not set").has_value());
  auto posts = fake.posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, "/2018-06-01/runtime/init/error");
  EXPECT_EQ(posts[0].header("Lambda-Runtime-Function-Error-Type"), "Runtime.InvalidConfiguration");
  auto body = orders::parse_json(posts[0].body);
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(body->find("errorMessage")->as_string(), "ORDERS_TABLE is not set");
  EXPECT_EQ(body->find("errorType")->as_string(), "Runtime.InvalidConfiguration");
}

TEST(Runtime, StopsWhenTheRuntimeApiRefusesAPost) {
  FakeRuntimeApi fake({invocation("a", "1"), invocation("b", "2")}, /*post_status=*/403);
  auto api = fake.api();
  int handled = 0;
  auto stopped = run(*api, [&handled](const Invocation&) {
    ++handled;
    return InvocationResponse::ok("x");
  });
  EXPECT_EQ(stopped.http_status, 403);
  EXPECT_EQ(handled, 1);
  EXPECT_EQ(fake.next_calls(), 1u);
}

TEST(Runtime, StopsAfterThreeConsecutiveFailedNextCalls) {
  CannedResponse no_request_id{200, {}, "{}"};
  FakeRuntimeApi fake({no_request_id, no_request_id, no_request_id, invocation("late", "x")});
  auto api = fake.api();
  std::vector<std::string> logs;
  int handled = 0;
  RunHooks hooks;
  hooks.log = [&logs](std::string_view l) { logs.emplace_back(l); };
  auto stopped = run(*api, [&handled](const Invocation&) {
    ++handled;
    return InvocationResponse::ok("x");
  }, hooks);
  EXPECT_EQ(handled, 0);
  EXPECT_EQ(fake.next_calls(), 3u);
  EXPECT_EQ(stopped.message, "next: no Lambda-Runtime-Aws-Request-Id header");
  ASSERT_EQ(logs.size(), 3u);
  EXPECT_EQ(logs[0], R"({"level":"ERROR","message":"next: no Lambda-Runtime-Aws-Request-Id header"})");
}

TEST(Runtime, StopsWhenTheRuntimeApiIsUnreachable) {
  std::string address;
  {
    auto gone = LoopbackHttpServer::start([](const ReceivedRequest&) { return CannedResponse{}; });
    address = gone->host_port();
  }  // nothing listens there any more
  RuntimeApi api(address, std::move(*client::make_curl_transport()));
  int handled = 0;
  auto stopped = run(api, [&handled](const Invocation&) {
    ++handled;
    return InvocationResponse::ok("x");
  });
  EXPECT_EQ(handled, 0);
  EXPECT_EQ(stopped.http_status, 0);
}

TEST(Runtime, HandsTheTraceIdToTheHookBeforeTheHandlerRuns) {
  FakeRuntimeApi fake({invocation("a", "1")});
  auto api = fake.api();
  std::vector<std::string> events;
  RunHooks hooks;
  hooks.on_trace_id = [&events](std::string_view t) { events.push_back("trace " + std::string(t.substr(0, 4))); };
  run(*api, [&events](const Invocation&) {
    events.push_back("handler");
    return InvocationResponse::ok("x");
  }, hooks);
  EXPECT_EQ(events, (std::vector<std::string>{"trace Root", "handler"}));
}

// Records what is sent, for properties a socket does not show.
class RecordingTransport final : public client::HttpTransport {
 public:
  explicit RecordingTransport(std::vector<client::OutboundRequest>& sent) : sent_(sent) {}
  client::TransportResult send(const client::OutboundRequest& r) override {
    sent_.push_back(r);
    if (r.method == "GET") {
      return client::HttpResponse{200, {{"Lambda-Runtime-Aws-Request-Id", "id/with space"}}, "{}"};
    }
    return client::HttpResponse{202, {}, ""};
  }

 private:
  std::vector<client::OutboundRequest>& sent_;
};

TEST(Runtime, NextWaitsWithoutATimeoutAndRequestIdsAreEscapedInPaths) {
  std::vector<client::OutboundRequest> sent;
  RuntimeApi api("127.0.0.1:9001", std::make_unique<RecordingTransport>(sent));
  auto inv = api.next();
  ASSERT_TRUE(inv.has_value());
  ASSERT_TRUE(api.post_response(inv->request_id, InvocationResponse::ok("{}")).has_value());
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next");
  EXPECT_FALSE(sent[0].timeout.has_value());
  EXPECT_EQ(sent[1].url, "http://127.0.0.1:9001/2018-06-01/runtime/invocation/id%2Fwith%20space/response");
  EXPECT_TRUE(sent[1].timeout.has_value());
}

}  // namespace
}  // namespace orderflow::lambda
