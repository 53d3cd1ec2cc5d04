// server/dashboard.h driven directly: which requests are the dashboard's (and which are SQS/SNS
// query calls to /), the token, the checks on every parameter and POST, and the event stream.
#include "server/dashboard.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <thread>

#include "common/clock.h"
#include "engine/engine.h"
#include "engine/testing/temp_dir.h"

namespace orderflow::server {
namespace {

namespace json = boost::json;

struct Reply {
  bool handled = false;
  int status = 0;
  std::string body;
  std::string content_type;
  std::shared_ptr<EventStream> stream;
};

class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine::EngineOptions o;
    o.data_dir = dir_.path();
    o.sns_signing_key_bits = 1024;
    o.metrics_interval = Millis(0);
    auto e = engine::Engine::open(o, clock_);
    ASSERT_TRUE(e) << e.error().message;
    engine_ = std::move(*e);
  }

  void make(std::string token = "") {
    DashboardOptions d;
    d.token = std::move(token);
    d.max_streams = 2;
    dash_ = std::make_unique<Dashboard>(*engine_, d);
  }

  Reply call(std::string method, std::string target, std::vector<std::pair<std::string, std::string>> headers = {},
             std::string body = "") {
    if (!dash_) make();
    aws::HttpRequest req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.headers = std::move(headers);
    req.headers.emplace_back("Host", "127.0.0.1:4566");
    req.body = std::move(body);
    Reply out;
    int calls = 0;
    out.handled = dash_->handle(req, [&](ApiResponse r) {
      ++calls;
      out.status = r.status;
      out.body = r.body;
      out.stream = r.stream;
      for (const auto& [k, v] : r.headers)
        if (k == "Content-Type") out.content_type = v;
    });
    EXPECT_EQ(calls, out.handled ? 1 : 0);
    return out;
  }

  orderflow::testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<Dashboard> dash_;
};

TEST_F(DashboardTest, ServesThePageAndItsAssetsButLeavesQueryCallsAlone) {
  auto page = call("GET", "/");
  ASSERT_TRUE(page.handled);
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("/_orderflow/dashboard/app.js"), std::string::npos);
  EXPECT_EQ(call("GET", "/index.html").status, 200);

  auto uplot = call("GET", "/_orderflow/dashboard/uPlot.iife.min.js");
  EXPECT_EQ(uplot.status, 200);
  EXPECT_EQ(uplot.content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(uplot.body.find("uPlot"), std::string::npos);
  EXPECT_EQ(call("GET", "/_orderflow/dashboard/app.css").status, 200);
  EXPECT_EQ(call("GET", "/_orderflow/dashboard/../../etc/passwd").status, 404);
  EXPECT_EQ(call("POST", "/_orderflow/dashboard/app.js").status, 405);

  // SQS/SNS query calls arrive at / too.
  EXPECT_FALSE(call("GET", "/?Action=ListQueues&Version=2012-11-05").handled);
  EXPECT_FALSE(call("GET", "/?X-Amz-Signature=abc").handled);
  EXPECT_FALSE(call("GET", "/", {{"Authorization", "AWS4-HMAC-SHA256 ..."}}).handled);
  EXPECT_FALSE(call("POST", "/", {}, "Action=ListQueues").handled);
  EXPECT_FALSE(call("GET", "/000000000000/q").handled);
  EXPECT_FALSE(call("GET", "/_orderflow/health").handled);
}

TEST_F(DashboardTest, TheTokenGuardsThePageAndTheApiButNotTheStaticFiles) {
  make("s3cret");
  EXPECT_EQ(call("GET", "/").status, 401);
  EXPECT_EQ(call("GET", "/?token=wrong").status, 401);
  EXPECT_EQ(call("GET", "/?token=s3cre").status, 401);
  EXPECT_EQ(call("GET", "/?token=s3cret").status, 200);
  EXPECT_EQ(call("GET", "/_orderflow/api/overview").status, 401);
  EXPECT_EQ(call("GET", "/_orderflow/api/overview?token=s3cret").status, 200);
  EXPECT_EQ(call("GET", "/_orderflow/api/overview", {{"X-Orderflow-Token", "s3cret"}}).status, 200);
  EXPECT_EQ(call("POST", "/_orderflow/api/dlq/redrive", {{"Content-Type", "application/json"}}, "{}").status, 401);
  EXPECT_EQ(call("GET", "/_orderflow/dashboard/app.js").status, 200);
}

TEST_F(DashboardTest, ChecksEveryParameter) {
  EXPECT_EQ(call("GET", "/_orderflow/api/nope").status, 404);
  EXPECT_EQ(call("GET", "/_orderflow/api/logs?limit=0").status, 400);
  EXPECT_EQ(call("GET", "/_orderflow/api/logs?limit=abc").status, 400);
  EXPECT_EQ(call("GET", "/_orderflow/api/logs?after=-1").status, 400);
  EXPECT_EQ(call("GET", "/_orderflow/api/logs?after=1").status, 200);
  EXPECT_EQ(call("GET", "/_orderflow/api/history?since=x").status, 400);
  EXPECT_EQ(call("GET", "/_orderflow/api/dlq?limit=100000").status, 400);
  EXPECT_EQ(call("GET", "/_orderflow/api/logs?%zz").status, 400);  // malformed escape
  // No pipeline in this engine: no table, no DLQ.
  EXPECT_EQ(call("GET", "/_orderflow/api/orders?id=o-1").status, 404);
  auto dlq = call("GET", "/_orderflow/api/dlq");
  EXPECT_EQ(dlq.status, 200);
  EXPECT_EQ(json::parse(dlq.body).at("messages").as_array().size(), 0u);
  EXPECT_EQ(call("GET", "/_orderflow/api/dlq/redrive").status, 405);
  EXPECT_EQ(call("DELETE", "/_orderflow/api/overview").status, 405);
}

TEST_F(DashboardTest, PostsMustBeSameOriginJsonWithKnownFields) {
  auto post = [&](std::vector<std::pair<std::string, std::string>> h, std::string body) {
    return call("POST", "/_orderflow/api/dlq/redrive", std::move(h), std::move(body)).status;
  };
  const std::pair<std::string, std::string> json_type{"Content-Type", "application/json"};
  EXPECT_EQ(post({}, "{}"), 403);                                                         // not JSON
  EXPECT_EQ(post({{"Content-Type", "application/x-www-form-urlencoded"}}, "a=b"), 403);  // a form
  EXPECT_EQ(post({json_type, {"Origin", "http://evil.example"}}, "{}"), 403);            // cross-site
  EXPECT_EQ(post({json_type}, "[1]"), 400);
  EXPECT_EQ(post({json_type}, "{"), 400);
  EXPECT_EQ(post({json_type}, R"({"queue":"x"})"), 400);
  EXPECT_EQ(post({json_type}, std::string(5000, ' ')), 413);
  // Well-formed and same-origin, but this engine has no pipeline.
  EXPECT_EQ(post({json_type, {"Origin", "http://127.0.0.1:4566"}}, R"({"messageId":"x"})"), 404);
}

TEST_F(DashboardTest, OverviewHistoryAndTheEventStream) {
  ASSERT_TRUE(engine_->queues().create_queue("q", {}));
  engine_->sample_metrics();
  auto overview = call("GET", "/_orderflow/api/overview");
  ASSERT_EQ(overview.status, 200);
  auto o = json::parse(overview.body).as_object();
  EXPECT_EQ(o.at("pipeline").at("queue").as_string(), "");
  EXPECT_EQ(o.at("sample").at("values").at("queue:q:visible").as_double(), 0);

  clock_.advance(Millis(1000));
  engine::SendRequest sr;
  sr.body = "x";
  ASSERT_TRUE(engine_->queues().send("q", sr));
  engine_->sample_metrics();
  auto h = json::parse(call("GET", "/_orderflow/api/history").body).as_object();
  ASSERT_EQ(h.at("time").as_array().size(), 2u);
  auto col = h.at("series").at("queue:q:visible").as_array();
  ASSERT_EQ(col.size(), 2u);
  EXPECT_EQ(col[1].as_double(), 1);

  auto ev = call("GET", "/_orderflow/api/events");
  ASSERT_EQ(ev.status, 200);
  EXPECT_EQ(ev.content_type, "text/event-stream");
  ASSERT_TRUE(ev.stream);
  std::string first = ev.stream->take();
  EXPECT_NE(first.find("event: sample\ndata: {"), std::string::npos) << first;
  EXPECT_NE(first.find("\"queue:q:visible\":1"), std::string::npos) << first;
  // A new sample reaches the stream (the pusher runs every 250 ms).
  clock_.advance(Millis(1000));
  engine_->sample_metrics();
  bool pushed = false;
  for (int i = 0; i < 250 && !pushed; ++i) {
    pushed = ev.stream->take().find("event: sample") != std::string::npos;
    if (!pushed) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(pushed);
  // At most max_streams (2) at once.
  auto ev2 = call("GET", "/_orderflow/api/events");
  EXPECT_EQ(ev2.status, 200);
  EXPECT_EQ(call("GET", "/_orderflow/api/events").status, 503);
  // shutdown() ends the streams.
  dash_->shutdown();
  EXPECT_TRUE(ev.stream->closed());
  EXPECT_TRUE(ev2.stream->closed());
}

}  // namespace
}  // namespace orderflow::server
