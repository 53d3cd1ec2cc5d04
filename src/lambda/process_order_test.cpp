#include "lambda/process_order.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "aws/sigv4.h"
#include "client/testing/loopback_http_server.h"
#include "orders/json.h"

namespace orderflow::lambda {
namespace {

using client::testing::CannedResponse;
using client::testing::LoopbackHttpServer;
using client::testing::ReceivedRequest;

constexpr std::string_view kSecret = "test-secret";

CannedResponse ddb_error(int status, const std::string& type) {
  return {status, {}, R"({"__type":"com.amazonaws.dynamodb.v20120810#)" + type + R"(","message":"m"})"};
}

std::string sqs_event(const std::vector<std::pair<std::string, std::string>>& records) {
  std::string out = R"({"Records":[)";
  for (std::size_t i = 0; i < records.size(); ++i) {
    std::string body;
    orders::append_json_string(body, records[i].second);
    out += (i ? "," : "") + std::string(R"({"messageId":")") + records[i].first +
           R"(","receiptHandle":"rh","body":)" + body +
           R"(,"attributes":{"ApproximateReceiveCount":"1"},"messageAttributes":{},"md5OfBody":"x",)"
           R"("eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:000000000000:OrderQueue-CF","awsRegion":"us-east-1"})";
  }
  return out + "]}";
}

class CapturingLog final : public orders::LogSink {
 public:
  void write(std::string_view line) override { lines.emplace_back(line); }
  std::vector<std::string> lines;
};

// A DynamoDbOrderStore whose client talks to a loopback "DynamoDB".
class DynamoDbOrderStoreTest : public ::testing::Test {
 protected:
  void serve(LoopbackHttpServer::Handler handler) {
    server = LoopbackHttpServer::start(std::move(handler));
    ASSERT_NE(server, nullptr);
    client::ClientConfig config;
    config.credentials = {"AKID", std::string(kSecret), ""};
    config.region = "us-east-1";
    config.endpoint_url = server->url();
    client::ClientDeps deps;
    deps.clock = &clock;
    deps.sleep = [](Millis) {};
    auto c = client::AwsClient::create(config, std::move(deps));
    ASSERT_TRUE(c.has_value());
    aws = std::move(*c);
    store = std::make_unique<DynamoDbOrderStore>(*aws, "Orders");
  }
  orders::Order order(const std::string& json) { return *orders::parse_order(json); }

  ManualClock clock;
  std::unique_ptr<LoopbackHttpServer> server;
  std::unique_ptr<client::AwsClient> aws;
  std::unique_ptr<DynamoDbOrderStore> store;
};

TEST_F(DynamoDbOrderStoreTest, PutsTheItemWithAnAttributeNotExistsCondition) {
  serve([](const ReceivedRequest&) { return CannedResponse{200, {}, "{}"}; });
  auto outcome = store->put_if_absent(order(R"({"orderId":"o-1","total":12.50})"),
                                      "2024-05-01T00:00:00.000Z", "sns-1");
  EXPECT_EQ(outcome.kind, orders::StoreOutcome::Kind::stored);
  auto req = server->requests().at(0);
  EXPECT_EQ(req.header("X-Amz-Target"), "DynamoDB_20120810.PutItem");
  EXPECT_EQ(req.body,
            R"x({"TableName":"Orders","Item":{"orderId":{"S":"o-1"},"total":{"N":"12.50"},)x"
            R"x("receivedAt":{"S":"2024-05-01T00:00:00.000Z"},"messageId":{"S":"sns-1"}},)x"
            R"x("ConditionExpression":"attribute_not_exists(orderId)"})x");
  EXPECT_TRUE(aws::verify(req.to_aws(),
                          [](std::string_view) { return std::optional<std::string>(std::string(kSecret)); },
                          clock.now())
                  .has_value());
}

TEST_F(DynamoDbOrderStoreTest, AFailedConditionIsADuplicate) {
  serve([](const ReceivedRequest&) { return ddb_error(400, "ConditionalCheckFailedException"); });
  EXPECT_EQ(store->put_if_absent(order(R"({"orderId":"o-1"})"), "t", "m").kind,
            orders::StoreOutcome::Kind::duplicate);
}

TEST_F(DynamoDbOrderStoreTest, ThrottlingThatOutlastsTheRetriesIsARetryableError) {
  serve([](const ReceivedRequest&) { return ddb_error(400, "ProvisionedThroughputExceededException"); });
  auto outcome = store->put_if_absent(order(R"({"orderId":"o-1"})"), "t", "m");
  EXPECT_EQ(outcome.kind, orders::StoreOutcome::Kind::error);
  EXPECT_TRUE(outcome.retryable);
  EXPECT_EQ(outcome.message, "ProvisionedThroughputExceededException: m");
  EXPECT_EQ(server->requests().size(), 3u);
}

TEST_F(DynamoDbOrderStoreTest, AMissingTableIsANonRetryableError) {
  serve([](const ReceivedRequest&) { return ddb_error(400, "ResourceNotFoundException"); });
  auto outcome = store->put_if_absent(order(R"({"orderId":"o-1"})"), "t", "m");
  EXPECT_EQ(outcome.kind, orders::StoreOutcome::Kind::error);
  EXPECT_FALSE(outcome.retryable);
}

TEST_F(DynamoDbOrderStoreTest, HandlerAnswersWithTheBatchItemFailures) {
  std::set<std::string> stored;
  std::mutex mu;
  serve([&](const ReceivedRequest& r) {
    auto body = orders::parse_json(r.body);
    std::string id = body->find("Item")->find("orderId")->find("S")->as_string();
    std::lock_guard g(mu);
    if (!stored.insert(id).second) return ddb_error(400, "ConditionalCheckFailedException");
    return CannedResponse{200, {}, "{}"};
  });
  CapturingLog log;
  Handler handler = make_order_handler(*store, clock, log);
  Invocation inv;
  inv.request_id = "r-1";
  inv.deadline = clock.now() + Millis(30'000);
  inv.payload = sqs_event({{"m-1", R"({"orderId":"a"})"}, {"m-2", "{bad"}, {"m-3", R"({"orderId":"a"})"}});
  InvocationResponse resp = handler(inv);
  ASSERT_TRUE(resp.success);
  EXPECT_EQ(resp.payload, R"({"batchItemFailures":[{"itemIdentifier":"m-2"}]})");
  EXPECT_EQ(resp.content_type, "application/json");
  EXPECT_EQ(stored, std::set<std::string>{"a"});
  EXPECT_EQ(log.lines.size(), 4u);  // three records and the metrics
}

TEST_F(DynamoDbOrderStoreTest, HandlerFailsTheInvocationForAMalformedEvent) {
  serve([](const ReceivedRequest&) { return CannedResponse{200, {}, "{}"}; });
  CapturingLog log;
  Handler handler = make_order_handler(*store, clock, log);
  Invocation inv;
  inv.request_id = "r-2";
  inv.payload = R"({"Records":"nope"})";
  InvocationResponse resp = handler(inv);
  EXPECT_FALSE(resp.success);
  EXPECT_EQ(resp.error_type, "InvalidEvent");
  EXPECT_EQ(resp.error_message, "event has no Records array");
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_EQ(log.lines[0],
            R"({"level":"ERROR","message":"invalid event: event has no Records array","requestId":"r-2"})");
  EXPECT_TRUE(server->requests().empty());
}

// ---- put_all: several PutItems at once ---------------------------------------------------------

class ConcurrentPuts : public DynamoDbOrderStoreTest {
 protected:
  // A store over `server` with `concurrency` and a factory making clients like the fixture's;
  // `factory_error` set makes the factory fail.
  std::unique_ptr<DynamoDbOrderStore> concurrent_store(std::size_t concurrency) {
    return std::make_unique<DynamoDbOrderStore>(
        *aws, "Orders", concurrency,
        [this]() -> std::expected<std::unique_ptr<client::AwsClient>, std::string> {
          if (!factory_error.empty()) return std::unexpected(factory_error);
          client::ClientConfig config;
          config.credentials = {"AKID", std::string(kSecret), ""};
          config.region = "us-east-1";
          config.endpoint_url = server->url();
          auto c = client::AwsClient::create(config);
          if (!c) return std::unexpected(c.error().message);
          return std::move(*c);
        });
  }
  std::vector<orders::Order> orders_named(int n) {
    std::vector<orders::Order> out;
    for (int i = 0; i < n; ++i) out.push_back(order(R"({"orderId":"o-)" + std::to_string(i) + R"("})"));
    return out;
  }
  static std::vector<orders::PutRequest> requests_for(const std::vector<orders::Order>& list) {
    std::vector<orders::PutRequest> out;
    for (const auto& o : list) out.push_back({&o, "2024-05-01T00:00:00.000Z", "m"});
    return out;
  }
  std::string factory_error;
};

TEST_F(ConcurrentPuts, RunsUpToTheConcurrencyAtOnceAndNoMore) {
  // Each PutItem waits (up to 1 s) until 3 have been in flight together, so a store that puts
  // one at a time never gets past 1 and one that overshoots shows more than 3.
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0, most = 0;
  std::set<std::string> seen;
  serve([&](const ReceivedRequest& r) -> CannedResponse {
    std::unique_lock lk(mu);
    most = std::max(most, ++in_flight);
    cv.notify_all();
    cv.wait_for(lk, std::chrono::seconds(1), [&] { return most >= 3; });
    --in_flight;
    seen.insert(orders::parse_json(r.body)->find("Item")->find("orderId")->find("S")->as_string());
    return {200, {}, "{}"};
  });
  auto list = orders_named(9);
  auto requests = requests_for(list);
  auto s = concurrent_store(3);
  auto outcomes = s->put_all(requests, [] { return true; });
  ASSERT_EQ(outcomes.size(), 9u);
  for (const auto& o : outcomes) {
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->kind, orders::StoreOutcome::Kind::stored);
  }
  EXPECT_EQ(most, 3);
  EXPECT_EQ(seen.size(), 9u);
  EXPECT_EQ(server->connections_accepted(), 3);  // one connection per thread, kept alive
  // A second batch reuses the helpers and their connections.
  ASSERT_EQ(s->put_all(requests, [] { return true; }).size(), 9u);
  EXPECT_EQ(server->connections_accepted(), 3);
}

TEST_F(ConcurrentPuts, StartsNothingOnceMayStartSaysNo) {
  serve([](const ReceivedRequest&) { return CannedResponse{200, {}, "{}"}; });
  auto list = orders_named(8);
  auto requests = requests_for(list);
  auto s = concurrent_store(4);
  std::atomic<int> asked{0};
  auto outcomes = s->put_all(requests, [&] { return asked++ < 3; });
  ASSERT_EQ(outcomes.size(), 8u);
  int attempted = 0;
  for (const auto& o : outcomes) attempted += o.has_value();
  EXPECT_EQ(attempted, 3);
  EXPECT_EQ(server->requests().size(), 3u);
}

TEST_F(ConcurrentPuts, AHelperWithoutAClientFailsItsPutsWithoutRetry) {
  serve([](const ReceivedRequest&) { return CannedResponse{200, {}, "{}"}; });
  factory_error = "no credentials here";
  auto list = orders_named(6);
  auto requests = requests_for(list);
  auto outcomes = concurrent_store(2)->put_all(requests, [] { return true; });
  ASSERT_EQ(outcomes.size(), 6u);
  std::size_t stored = 0;
  for (const auto& o : outcomes) {
    ASSERT_TRUE(o.has_value());
    if (o->kind == orders::StoreOutcome::Kind::stored) {
      ++stored;
    } else {
      EXPECT_EQ(o->kind, orders::StoreOutcome::Kind::error);
      EXPECT_NE(o->message.find("no credentials here"), std::string::npos) << o->message;
      EXPECT_FALSE(o->retryable);
    }
  }
  EXPECT_EQ(stored, server->requests().size());  // the calling thread's client still works
}

TEST_F(ConcurrentPuts, OneRequestOrConcurrencyOneStaysOnTheCallingThread) {
  serve([](const ReceivedRequest&) { return CannedResponse{200, {}, "{}"}; });
  auto list = orders_named(4);
  auto requests = requests_for(list);
  factory_error = "must not be called";
  auto one = concurrent_store(1)->put_all(requests, [] { return true; });
  auto single = concurrent_store(8)->put_all(std::span(requests).first(1), [] { return true; });
  for (const auto& o : one) EXPECT_EQ(o->kind, orders::StoreOutcome::Kind::stored);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0]->kind, orders::StoreOutcome::Kind::stored);
  EXPECT_EQ(server->connections_accepted(), 1);
}

TEST(StreamLogSink, WritesOneLinePerEntry) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  StreamLogSink sink(f);
  sink.write(R"({"a":1})");
  sink.write(R"({"b":2})");
  std::rewind(f);
  char buf[64] = {};
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  EXPECT_EQ(std::string(buf, n), "{\"a\":1}\n{\"b\":2}\n");
}

// ---- The real bootstrap binary against a loopback Runtime API + DynamoDB ---------------------

std::filesystem::path bootstrap_path() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path() / "bootstrap";
}

struct Exit {
  bool exited = false;
  int code = -1;
};

// Runs `binary` with exactly `env`, stdout to `out_file`; waits (polling) up to 30 s.
Exit run_process(const std::filesystem::path& binary, const std::map<std::string, std::string>& env,
                 const std::filesystem::path& out_file) {
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  // And a sanitizer build's options, so that a report fails the test (tests/sanitizers/run.sh).
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"})
    if (const char* v = std::getenv(name)) env_strings.push_back(std::string(name) + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string path = binary.string();
  char* argv[] = {path.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return {};
  for (int i = 0; i < 3000; ++i) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return {WIFEXITED(status), WIFEXITED(status) ? WEXITSTATUS(status) : -1};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a child, not timing
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return {};
}

std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class Bootstrap : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(bootstrap_path())) GTEST_SKIP() << "bootstrap not built";
    out_file = std::filesystem::temp_directory_path() /
               ("bootstrap-test-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".log");
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove(out_file, ec);
  }
  // Runs bootstrap with `env` (plus a Runtime API that accepts everything, and credentials)
  // and expects it to exit 1 after exactly one request, to /runtime/init/error: that request.
  std::optional<ReceivedRequest> init_error(std::map<std::string, std::string> env) {
    auto server = LoopbackHttpServer::start([](const ReceivedRequest&) { return CannedResponse{202, {}, "{}"}; });
    if (server == nullptr) return std::nullopt;
    env.insert({{"AWS_LAMBDA_RUNTIME_API", server->host_port()},
                {"AWS_ACCESS_KEY_ID", "AKID"},
                {"AWS_SECRET_ACCESS_KEY", "s"},
                {"AWS_REGION", "us-east-1"}});
    Exit exit = run_process(bootstrap_path(), env, out_file);
    EXPECT_TRUE(exit.exited);
    EXPECT_EQ(exit.code, 1);
    auto requests = server->requests();
    if (requests.size() != 1 || requests[0].target != "/2018-06-01/runtime/init/error") {
      ADD_FAILURE() << requests.size() << " requests, the first to "
                    << (requests.empty() ? "-" : requests[0].target);
      return std::nullopt;
    }
    return requests[0];
  }
  std::filesystem::path out_file;
};

TEST_F(Bootstrap, ProcessesAnSqsBatchAndStoresTheOrdersInDynamoDb) {
  std::atomic<int> nexts{0};
  std::string event = sqs_event({{"m-1", R"({"Type":"Notification","MessageId":"sns-1","TopicArn":"t","Message":"{\"orderId\":\"o-1\"}"})"},
                                 {"m-2", R"({"customerId":"c"})"}});
  auto server = LoopbackHttpServer::start([&](const ReceivedRequest& r) -> CannedResponse {
    if (r.target == "/2018-06-01/runtime/invocation/next") {
      if (nexts++ == 0) {
        return {200, {{"Lambda-Runtime-Aws-Request-Id", "req-1"},
                      {"Lambda-Runtime-Deadline-Ms", std::to_string(to_epoch_ms(RealClock().now()) + 60'000)},
                      {"Lambda-Runtime-Trace-Id", "Root=1-abc"}},
                event};
      }
      return {500, {}, "{}"};  // ends the worker
    }
    if (r.target.starts_with("/2018-06-01/")) return {202, {}, "{}"};
    if (r.header("X-Amz-Target") == "DynamoDB_20120810.PutItem") return {200, {}, "{}"};
    return {400, {}, R"({"__type":"UnknownOperationException"})"};
  });
  ASSERT_NE(server, nullptr);
  Exit exit = run_process(bootstrap_path(),
                          {{"AWS_LAMBDA_RUNTIME_API", server->host_port()},
                           {"ORDERS_TABLE", "Orders"},
                           {"AWS_ACCESS_KEY_ID", "AKID"},
                           {"AWS_SECRET_ACCESS_KEY", std::string(kSecret)},
                           {"AWS_SESSION_TOKEN", "tok"},
                           {"AWS_REGION", "us-east-1"},
                           {"AWS_ENDPOINT_URL", server->url()},
                           {"AWS_LAMBDA_FUNCTION_NAME", "ProcessOrderLambda"}},
                          out_file);
  ASSERT_TRUE(exit.exited);
  EXPECT_EQ(exit.code, 1);  // the Runtime API's 500 ends it

  std::vector<ReceivedRequest> puts, posts;
  for (auto& r : server->requests()) {
    if (r.header("X-Amz-Target")) puts.push_back(r);
    if (r.method == "POST" && r.target.starts_with("/2018-06-01/")) posts.push_back(r);
  }
  ASSERT_EQ(puts.size(), 1u);
  auto item = orders::parse_json(puts[0].body);
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ(item->find("Item")->find("orderId")->find("S")->as_string(), "o-1");
  EXPECT_EQ(item->find("Item")->find("messageId")->find("S")->as_string(), "sns-1");
  EXPECT_EQ(puts[0].header("X-Amz-Security-Token"), "tok");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, "/2018-06-01/runtime/invocation/req-1/response");
  EXPECT_EQ(posts[0].body, R"({"batchItemFailures":[{"itemIdentifier":"m-2"}]})");

  auto lines = read_lines(out_file);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0], R"({"level":"INFO","orderId":"o-1","messageId":"m-1","approximateReceiveCount":1,"outcome":"stored"})");
  EXPECT_EQ(lines[1], R"({"level":"WARN","messageId":"m-2","approximateReceiveCount":1,"outcome":"rejected","reason":"orderId is required"})");
  auto emf = orders::parse_json(lines[2]);
  ASSERT_TRUE(emf.has_value()) << lines[2];
  EXPECT_EQ(emf->find("FunctionName")->as_string(), "ProcessOrderLambda");
  EXPECT_EQ(emf->find("OrdersStored")->as_number().text, "1");
  EXPECT_EQ(emf->find("OrdersRejected")->as_number().text, "1");
}

TEST_F(Bootstrap, ReportsAnInitErrorForABadPutConcurrency) {
  for (std::string value : {"0", "65", "ten", "4x"}) {
    auto request = init_error({{"ORDERS_TABLE", "Orders"}, {"ORDERS_PUT_CONCURRENCY", value}});
    ASSERT_TRUE(request.has_value()) << value;
    EXPECT_NE(request->body.find("ORDERS_PUT_CONCURRENCY must be a whole number from 1 to 64, not " + value),
              std::string::npos)
        << request->body;
  }
}

TEST_F(Bootstrap, ReportsAnInitErrorWhenTheTableIsNotConfigured) {
  auto request = init_error({});
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->header("Lambda-Runtime-Function-Error-Type"), "Runtime.InvalidConfiguration");
  EXPECT_EQ(request->body,
            R"({"errorMessage":"ORDERS_TABLE is not set","errorType":"Runtime.InvalidConfiguration","stackTrace":[]})");
}

}  // namespace
}  // namespace orderflow::lambda
