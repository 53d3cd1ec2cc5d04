// Specifications of the local Lambda runtime (engine/functions.h), with a fake ProcessLauncher
// whose "processes" are threads speaking the Runtime API in-process, and a ManualClock; plus
// the real posix_spawn launcher running /bin/sh.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <regex>
#include <thread>

#include "engine/functions.h"
#include "engine/process_launcher.h"
#include "engine/testing/temp_dir.h"

namespace orderflow::engine {
namespace {

using namespace std::chrono_literals;

// Polls `pred` until it holds (tests poll for conditions instead of sleeping a fixed time).
template <class Pred>
bool eventually(Pred pred, std::chrono::seconds limit = 10s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

class CapturingSink final : public LogSink {
 public:
  struct Event {
    std::string group, stream;
    TimePoint time;
    std::string message;
  };
  void write(std::string_view group, std::string_view stream, TimePoint time, std::string_view message) override {
    std::lock_guard g(mu_);
    events_.push_back({std::string(group), std::string(stream), time, std::string(message)});
  }
  std::vector<Event> events() const {
    std::lock_guard g(mu_);
    return events_;
  }
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (auto& e : events()) out.push_back(e.message);
    return out;
  }
  bool contains(std::string_view text) const {
    for (auto& m : messages())
      if (m.find(text) != std::string::npos) return true;
    return false;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Event> events_;
};

// What a fake worker does with an invocation.
struct Action {
  enum Kind { respond, error, hang, crash } kind = respond;
  std::string body;
  static Action ok(std::string b) { return {respond, std::move(b)}; }
};

// A ProcessLauncher whose processes are threads: each reads its worker id from
// AWS_LAMBDA_RUNTIME_API ("fake/<function>/<worker>"), prints a line, then loops next ->
// script -> respond/error, or hangs until killed, or "crashes" (exits with status 2).
class FakeLauncher final : public ProcessLauncher {
 public:
  std::function<Action(const RuntimeInvocation&)> script = [](const RuntimeInvocation& inv) {
    return Action::ok("echo:" + inv.payload);
  };
  std::function<void()> before_first_next;         // runs on the worker thread
  std::optional<std::string> init_error;           // post /init/error instead of next
  Functions* functions = nullptr;

  ~FakeLauncher() override { stop_all(); }

  Result<ProcessHandle> spawn(SpawnSpec spec) override {
    std::lock_guard g(mu_);
    ProcessHandle h = next_++;
    auto p = std::make_shared<Proc>();
    envs_.push_back(spec.environment);
    procs_[h] = p;
    p->thread = std::thread([this, p, spec = std::move(spec)] { run(*p, spec); });
    return h;
  }

  void kill(ProcessHandle h) override {
    std::lock_guard g(mu_);
    ++kills_;
    auto it = procs_.find(h);
    if (it == procs_.end()) return;
    std::lock_guard pg(it->second->mu);
    it->second->killed = true;
    it->second->cv.notify_all();
  }

  std::optional<int> peak_memory_mb(ProcessHandle) override { return 42; }

  void stop_all() {
    std::vector<std::shared_ptr<Proc>> all;
    {
      std::lock_guard g(mu_);
      for (auto& [h, p] : procs_) all.push_back(p);
    }
    for (auto& p : all) {
      std::lock_guard pg(p->mu);
      p->killed = true;
      p->cv.notify_all();
    }
    for (auto& p : all)
      if (p->thread.joinable()) p->thread.join();
  }

  int kills() const {
    std::lock_guard g(mu_);
    return kills_;
  }
  std::vector<Environment> environments() const {
    std::lock_guard g(mu_);
    return envs_;
  }

 private:
  struct Proc {
    std::mutex mu;
    std::condition_variable cv;
    bool killed = false;
    std::thread thread;
  };
  struct NextSlot {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<std::expected<RuntimeInvocation, RuntimeApiError>> got;
  };

  void run(Proc& p, const SpawnSpec& spec) {
    std::string api = spec.environment.at("AWS_LAMBDA_RUNTIME_API");
    auto slash = api.rfind('/');
    std::string function = spec.environment.at("AWS_LAMBDA_FUNCTION_NAME");
    WorkerId id = std::stoull(api.substr(slash + 1));
    ExitStatus status{0, 0};
    spec.on_output("worker " + std::to_string(id) + " starting");
    if (before_first_next) before_first_next();
    if (init_error) {
      functions->init_error(id, *init_error);
      {
        std::unique_lock lk(p.mu);
        p.cv.wait(lk, [&] { return p.killed; });
      }
      // Not under p.mu: Functions calls spawn() (mu_) under its lock, and kill() takes p.mu under mu_.
      spec.on_exit(ExitStatus{-1, 9});
      return;
    }
    while (true) {
      auto slot = std::make_shared<NextSlot>();
      functions->next(function, id, [slot](std::expected<RuntimeInvocation, RuntimeApiError> r) {
        std::lock_guard g(slot->mu);
        slot->got = std::move(r);
        slot->cv.notify_all();
      });
      // Wait for an invocation or a kill.
      std::optional<RuntimeInvocation> inv;
      {
        std::unique_lock lk(slot->mu);
        while (!slot->got) {
          {
            std::lock_guard pg(p.mu);
            if (p.killed) break;
          }
          slot->cv.wait_for(lk, 2ms);
        }
        if (slot->got && *slot->got) inv = **slot->got;
      }
      if (!inv) {
        std::lock_guard pg(p.mu);
        status = p.killed ? ExitStatus{-1, 9} : ExitStatus{1, 0};
        break;
      }
      Action a = script(*inv);
      if (a.kind == Action::respond) {
        functions->respond(inv->request_id, a.body);
      } else if (a.kind == Action::error) {
        functions->error(inv->request_id, a.body);
      } else if (a.kind == Action::hang) {
        std::unique_lock lk(p.mu);
        p.cv.wait(lk, [&] { return p.killed; });
        status = ExitStatus{-1, 9};
        break;
      } else {
        spec.on_output("about to crash");
        status = ExitStatus{2, 0};
        break;
      }
    }
    spec.on_exit(status);
  }

  mutable std::mutex mu_;
  ProcessHandle next_ = 1;
  std::map<ProcessHandle, std::shared_ptr<Proc>> procs_;
  std::vector<Environment> envs_;
  int kills_ = 0;
};

class FunctionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FunctionsOptions o;
    o.region = "eu-west-1";
    o.account_id = "123456789012";
    o.endpoint_url = "http://127.0.0.1:4566";
    o.runtime_api_address = [](std::string_view f, WorkerId w) {
      return "fake/" + std::string(f) + "/" + std::to_string(w);
    };
    auto f = Functions::open(clock_, launcher_, sink_, o);
    ASSERT_TRUE(f);
    functions_ = std::move(*f);
    launcher_.functions = functions_.get();
  }
  void TearDown() override {
    launcher_.stop_all();
    functions_.reset();
  }

  void add(FunctionConfig c = {}) {
    if (c.name.empty()) c.name = "fn";
    if (c.executable.empty()) c.executable = "/var/task/bootstrap";
    auto s = functions_->register_function(c);
    ASSERT_TRUE(s) << s.error().message;
  }

  std::future<InvocationResult> invoke(std::string payload, std::string fn = "fn") {
    auto p = std::make_shared<std::promise<InvocationResult>>();
    auto fut = p->get_future();
    functions_->invoke_async(fn, std::move(payload), [p](InvocationResult r) { p->set_value(std::move(r)); });
    return fut;
  }

  static InvocationResult get(std::future<InvocationResult>& f) {
    EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
    return f.get();
  }

  ManualClock clock_;
  CapturingSink sink_;
  FakeLauncher launcher_;
  std::unique_ptr<Functions> functions_;
};

TEST_F(FunctionsTest, KeepsWorkerWarmBetweenInvocations) {
  add();
  for (int i = 0; i < 3; ++i) {
    auto f = invoke("p" + std::to_string(i));
    auto r = get(f);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.payload, "echo:p" + std::to_string(i));
  }
  EXPECT_EQ(functions_->stats("fn").started, 1u);
  EXPECT_EQ(functions_->stats("fn").workers, 1);
}

TEST_F(FunctionsTest, StartsWorkersUpToMaxWorkersWhenInvocationsQueueUp) {
  add({.name = "fn", .max_workers = 3});
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  launcher_.script = [&](const RuntimeInvocation& inv) {
    std::unique_lock lk(m);
    cv.wait(lk, [&] { return open; });
    return Action::ok(inv.payload);
  };
  std::vector<std::future<InvocationResult>> fs;
  for (int i = 0; i < 5; ++i) fs.push_back(invoke(std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return functions_->stats("fn").busy == 3; }));
  EXPECT_EQ(functions_->stats("fn").started, 3u);
  EXPECT_EQ(functions_->stats("fn").queued, 2);
  {
    std::lock_guard g(m);
    open = true;
  }
  cv.notify_all();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get(fs[i]).payload, std::to_string(i));
  EXPECT_EQ(functions_->stats("fn").started, 3u);
}

TEST_F(FunctionsTest, KillsAndReplacesWorkerPastItsDeadline) {
  add({.name = "fn", .timeout = 3s});
  launcher_.script = [](const RuntimeInvocation& inv) {
    return inv.payload == "hang" ? Action{Action::hang, ""} : Action::ok("done");
  };
  auto hung = invoke("hang");
  ASSERT_TRUE(eventually([&] { return functions_->stats("fn").busy == 1; }));
  clock_.advance(2999ms);
  EXPECT_EQ(hung.wait_for(20ms), std::future_status::timeout);
  clock_.advance(1ms);
  auto r = get(hung);
  EXPECT_EQ(r.kind, InvocationResult::Kind::timeout);
  EXPECT_EQ(r.error_type, "Sandbox.Timedout");
  EXPECT_NE(r.error_message.find("Task timed out after 3.00 seconds"), std::string::npos);
  EXPECT_TRUE(eventually([&] { return launcher_.kills() == 1; }));
  EXPECT_TRUE(sink_.contains("Task timed out after 3.00 seconds"));

  auto next = invoke("ok");
  EXPECT_EQ(get(next).payload, "done");
  EXPECT_EQ(functions_->stats("fn").started, 2u);
}

TEST_F(FunctionsTest, ReplacesCrashedWorkerAndFailsItsInvocation) {
  add();
  launcher_.script = [](const RuntimeInvocation& inv) {
    return inv.payload == "crash" ? Action{Action::crash, ""} : Action::ok("fine");
  };
  auto crashed = invoke("crash");
  auto r = get(crashed);
  EXPECT_EQ(r.kind, InvocationResult::Kind::crash);
  EXPECT_EQ(r.error_type, "Runtime.ExitError");
  EXPECT_NE(r.error_message.find("Runtime exited with error: exit status 2"), std::string::npos);
  ASSERT_TRUE(eventually([&] { return functions_->stats("fn").workers == 0; }));

  auto after = invoke("x");
  EXPECT_EQ(get(after).payload, "fine");
  EXPECT_EQ(functions_->stats("fn").started, 2u);
  EXPECT_TRUE(sink_.contains("about to crash"));
}

TEST_F(FunctionsTest, FunctionErrorCarriesTypeAndMessage) {
  add();
  launcher_.script = [](const RuntimeInvocation&) {
    return Action{Action::error, R"({"errorMessage":"bad order","errorType":"InvalidOrder","stackTrace":[]})"};
  };
  auto f = invoke("{}");
  auto r = get(f);
  EXPECT_EQ(r.kind, InvocationResult::Kind::function_error);
  EXPECT_EQ(r.error_type, "InvalidOrder");
  EXPECT_EQ(r.error_message, "bad order");
  EXPECT_EQ(functions_->stats("fn").started, 1u);  // an error does not cost the worker
}

TEST_F(FunctionsTest, WritesStartEndReportLinesInAwsFormat) {
  add({.name = "fn", .memory_mb = 256});
  launcher_.before_first_next = [&] { clock_.advance(5ms); };
  launcher_.script = [&](const RuntimeInvocation& inv) {
    clock_.advance(12ms);
    return Action::ok(inv.payload);
  };
  auto a = invoke("a");
  get(a);
  auto b = invoke("b");
  get(b);
  ASSERT_TRUE(eventually([&] { return sink_.events().size() >= 7; }));
  auto events = sink_.events();
  std::regex stream(R"(\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32})");
  for (auto& e : events) {
    EXPECT_EQ(e.group, "/aws/lambda/fn");
    EXPECT_TRUE(std::regex_match(e.stream, stream)) << e.stream;
  }
  std::vector<std::string> lines;
  for (auto& e : events) lines.push_back(e.message);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0], "worker 1 starting");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(lines[1], m, std::regex(R"(START RequestId: ([0-9a-f-]{36}) Version: \$LATEST)")));
  std::string id1 = m[1];
  EXPECT_EQ(lines[2], "END RequestId: " + id1);
  EXPECT_EQ(lines[3], "REPORT RequestId: " + id1 +
                          "\tDuration: 12.00 ms\tBilled Duration: 17 ms\tMemory Size: 256 MB\t"
                          "Max Memory Used: 42 MB\tInit Duration: 5.00 ms\t");
  ASSERT_TRUE(std::regex_match(lines[4], m, std::regex(R"(START RequestId: ([0-9a-f-]{36}) Version: \$LATEST)")));
  std::string id2 = m[1];
  EXPECT_NE(id1, id2);
  EXPECT_EQ(lines[5], "END RequestId: " + id2);
  EXPECT_EQ(lines[6], "REPORT RequestId: " + id2 +
                          "\tDuration: 12.00 ms\tBilled Duration: 12 ms\tMemory Size: 256 MB\tMax Memory Used: 42 MB\t");
}

TEST(ReportLine, PrintsHundredthsOfAMillisecondAndBillsWholeMillisecondsRoundedUp) {
  // AWS's own example shape: Duration 2.96 ms with Init Duration 139.59 ms bills 143 ms.
  EXPECT_EQ(report_line("r-1", Micros(2960), 128, 20, Micros(139590)),
            "REPORT RequestId: r-1\tDuration: 2.96 ms\tBilled Duration: 143 ms\tMemory Size: 128 MB\t"
            "Max Memory Used: 20 MB\tInit Duration: 139.59 ms\t");
  EXPECT_EQ(report_line("r-2", Micros(102250), 256, 30, std::nullopt),
            "REPORT RequestId: r-2\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 256 MB\t"
            "Max Memory Used: 30 MB\t");
  // Under a millisecond still bills one; an exact millisecond is not rounded up.
  EXPECT_NE(report_line("r-3", Micros(400), 128, 20, std::nullopt).find("Duration: 0.40 ms\tBilled Duration: 1 ms"),
            std::string::npos);
  EXPECT_NE(report_line("r-4", Micros(7000), 128, 20, std::nullopt).find("Billed Duration: 7 ms"), std::string::npos);
}

TEST(RealClock, PreciseNowHasMicrosecondsAndAgreesWithNow) {
  RealClock clock;
  TimePoint before = clock.now();
  PreciseTimePoint precise = clock.precise_now();
  TimePoint after = clock.now();
  EXPECT_LE(PreciseTimePoint(before), precise);
  EXPECT_LT(precise, PreciseTimePoint(after + Millis(1)));
  // Over many readings some fall between whole milliseconds (a millisecond clock never does).
  bool fraction = false;
  for (int i = 0; i < 1000 && !fraction; ++i) fraction = clock.precise_now().time_since_epoch().count() % 1000 != 0;
  EXPECT_TRUE(fraction);
}

TEST_F(FunctionsTest, NextHandsOutRequestIdDeadlineArnAndTrace) {
  add({.name = "fn", .timeout = 5s});
  RuntimeInvocation seen;
  launcher_.script = [&](const RuntimeInvocation& inv) {
    seen = inv;
    return Action::ok("");
  };
  auto f = invoke("payload");
  get(f);
  EXPECT_EQ(seen.payload, "payload");
  EXPECT_EQ(seen.deadline_ms, to_epoch_ms(clock_.now()) + 5000);
  EXPECT_EQ(seen.function_arn, "arn:aws:lambda:eu-west-1:123456789012:function:fn");
  EXPECT_TRUE(std::regex_match(seen.trace_id, std::regex(R"(Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0)")))
      << seen.trace_id;
}

TEST_F(FunctionsTest, RuntimeApiRefusesUnknownRequestsAndWorkers) {
  add();
  EXPECT_EQ(functions_->respond("nope", "x").error(), RuntimeApiError::unknown_request);
  EXPECT_EQ(functions_->error("nope", "{}").error(), RuntimeApiError::unknown_request);
  EXPECT_EQ(functions_->init_error(999, "{}").error(), RuntimeApiError::unknown_worker);
  std::optional<RuntimeApiError> got;
  functions_->next("fn", 999, [&](std::expected<RuntimeInvocation, RuntimeApiError> r) { got = r.error(); });
  EXPECT_EQ(got, RuntimeApiError::unknown_worker);
  EXPECT_EQ(http_status(RuntimeApiError::invalid_state), 403);
  EXPECT_EQ(error_type(RuntimeApiError::invalid_state), "InvalidStateTransition");
}

TEST_F(FunctionsTest, InitErrorFailsTheWaitingInvocation) {
  add();
  launcher_.init_error = R"({"errorMessage":"no table","errorType":"Runtime.ConfigError"})";
  auto f = invoke("x");
  auto r = get(f);
  EXPECT_EQ(r.kind, InvocationResult::Kind::function_error);
  EXPECT_EQ(r.error_type, "Runtime.ConfigError");
  EXPECT_TRUE(eventually([&] { return sink_.contains("Phase: init\tStatus: error"); }));
}

TEST_F(FunctionsTest, WorkersGetTheCustomRuntimeEnvironment) {
  add({.name = "fn", .executable = "/opt/fn/bootstrap", .environment = {{"ORDERS_TABLE", "Orders"}}, .memory_mb = 512});
  auto f = invoke("x");
  get(f);
  auto envs = launcher_.environments();
  ASSERT_EQ(envs.size(), 1u);
  const auto& e = envs[0];
  EXPECT_EQ(e.at("AWS_LAMBDA_RUNTIME_API"), "fake/fn/1");
  EXPECT_EQ(e.at("_HANDLER"), "bootstrap");
  EXPECT_EQ(e.at("LAMBDA_TASK_ROOT"), "/opt/fn");
  EXPECT_EQ(e.at("AWS_LAMBDA_FUNCTION_NAME"), "fn");
  EXPECT_EQ(e.at("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), "512");
  EXPECT_EQ(e.at("AWS_LAMBDA_FUNCTION_VERSION"), "$LATEST");
  EXPECT_EQ(e.at("AWS_LAMBDA_LOG_GROUP_NAME"), "/aws/lambda/fn");
  EXPECT_TRUE(e.contains("AWS_LAMBDA_LOG_STREAM_NAME"));
  EXPECT_EQ(e.at("AWS_REGION"), "eu-west-1");
  EXPECT_EQ(e.at("AWS_ACCESS_KEY_ID"), "test");
  EXPECT_EQ(e.at("AWS_SECRET_ACCESS_KEY"), "test");
  EXPECT_EQ(e.at("AWS_ENDPOINT_URL"), "http://127.0.0.1:4566");
  EXPECT_EQ(e.at("ORDERS_TABLE"), "Orders");
}

TEST_F(FunctionsTest, RejectsReservedEnvironmentKeysAndBadSettings) {
  FunctionConfig c{.name = "fn", .executable = "/x", .environment = {{"AWS_REGION", "x"}}};
  auto s = functions_->register_function(c);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("AWS_REGION"), std::string::npos);
  EXPECT_FALSE(functions_->register_function({.name = "bad name", .executable = "/x"}));
  EXPECT_FALSE(functions_->register_function({.name = "fn", .executable = "/x", .timeout = 901s}));
  EXPECT_FALSE(functions_->register_function({.name = "fn", .executable = "/x", .memory_mb = 64}));
}

TEST_F(FunctionsTest, InvokingAnUnknownFunctionFailsAtOnce) {
  auto f = invoke("x", "missing");
  auto r = get(f);
  EXPECT_EQ(r.kind, InvocationResult::Kind::function_error);
  EXPECT_EQ(r.error_type, "ResourceNotFoundException");
}

// ---- the real launcher ----

struct Collected {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> lines;
  std::optional<ExitStatus> exit;
};

SpawnSpec collecting(std::shared_ptr<Collected> c, std::string script, Environment env = {}) {
  SpawnSpec s;
  s.executable = "/bin/sh";
  s.arguments = {"-c", std::move(script)};
  s.environment = std::move(env);
  s.on_output = [c](std::string_view line) {
    std::lock_guard g(c->mu);
    c->lines.emplace_back(line);
  };
  s.on_exit = [c](ExitStatus st) {
    std::lock_guard g(c->mu);
    c->exit = st;
    c->cv.notify_all();
  };
  return s;
}

bool wait_exit(Collected& c) {
  std::unique_lock lk(c.mu);
  return c.cv.wait_for(lk, 10s, [&] { return c.exit.has_value(); });
}

TEST(PosixProcessLauncher, PassesEnvironmentCapturesOutputLinesAndReportsExit) {
  auto launcher = make_posix_process_launcher();
  auto c = std::make_shared<Collected>();
  auto h = launcher->spawn(collecting(
      c, "echo \"region=$AWS_REGION home=${HOME:-unset}\"; echo oops >&2; printf 'no newline'; exit 3",
      {{"AWS_REGION", "eu-west-1"}}));
  ASSERT_TRUE(h) << h.error().message;
  ASSERT_TRUE(wait_exit(*c));
  std::lock_guard g(c->mu);
  EXPECT_EQ(c->lines, (std::vector<std::string>{"region=eu-west-1 home=unset", "oops", "no newline"}));
  EXPECT_EQ(c->exit->exit_code, 3);
  EXPECT_EQ(c->exit->signal, 0);
  EXPECT_EQ(c->exit->describe(), "exit status 3");
}

TEST(PosixProcessLauncher, KillEndsTheProcessAndWhatItStarted) {
  auto launcher = make_posix_process_launcher();
  auto c = std::make_shared<Collected>();
  auto h = launcher->spawn(collecting(c, "echo ready; sleep 60; echo never"));
  ASSERT_TRUE(h);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard g(c->mu);
    return !c->lines.empty();
  }));
  EXPECT_TRUE(launcher->peak_memory_mb(*h).has_value());
  launcher->kill(*h);
  ASSERT_TRUE(wait_exit(*c));
  std::lock_guard g(c->mu);
  EXPECT_EQ(c->exit->signal, 9);
  EXPECT_EQ(c->exit->describe(), "signal: killed");
  EXPECT_EQ(c->lines, std::vector<std::string>{"ready"});
}

TEST(PosixProcessLauncher, SpawnOfMissingExecutableFails) {
  auto launcher = make_posix_process_launcher();
  SpawnSpec s;
  s.executable = "/nonexistent/bootstrap";
  auto h = launcher->spawn(s);
  EXPECT_FALSE(h);
}

TEST(PosixProcessLauncher, FunctionsRunARealWorkerProcess) {
  testing::TempDir dir;
  auto exe = dir.path() / "bootstrap";
  {
    std::ofstream out(exe);
    out << "#!/bin/sh\necho \"hello from $AWS_LAMBDA_FUNCTION_NAME at $AWS_LAMBDA_RUNTIME_API\"\nexit 1\n";
  }
  std::filesystem::permissions(exe, std::filesystem::perms::owner_all);
  auto launcher = make_posix_process_launcher();
  CapturingSink sink;
  ManualClock clock;
  auto functions = Functions::open(clock, *launcher, sink);
  ASSERT_TRUE(functions);
  ASSERT_TRUE((*functions)->register_function({.name = "shfn", .executable = exe.string()}));
  std::promise<InvocationResult> p;
  auto fut = p.get_future();
  (*functions)->invoke_async("shfn", "{}", [&](InvocationResult r) { p.set_value(std::move(r)); });
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  auto r = fut.get();
  EXPECT_EQ(r.kind, InvocationResult::Kind::crash);
  EXPECT_NE(r.error_message.find("exit status 1"), std::string::npos) << r.error_message;
  EXPECT_TRUE(sink.contains("hello from shfn at 127.0.0.1:4566/_orderflow/lambda/shfn/1"));
  functions->reset();
}

}  // namespace
}  // namespace orderflow::engine

namespace orderflow::engine {
namespace {

TEST_F(FunctionsTest, PutFunctionRetiresWorkersOfTheOldConfiguration) {
  FunctionConfig c;
  c.name = "fn";
  c.executable = "/var/task/bootstrap";
  c.environment = {{"ORDERS_TABLE", "Orders"}};
  ASSERT_TRUE(functions_->put_function(c));
  auto first = invoke("a");
  EXPECT_EQ(get(first).payload, "echo:a");
  ASSERT_TRUE(eventually([&] { return functions_->stats("fn").workers == 1; }));

  c.environment = {{"ORDERS_TABLE", "Other"}};
  c.timeout = Millis(5000);
  ASSERT_TRUE(functions_->put_function(c));
  // The idle worker of the old configuration is gone; the next invocation starts a new one.
  ASSERT_TRUE(eventually([&] { return functions_->stats("fn").workers == 0; }));
  auto second = invoke("b");
  EXPECT_EQ(get(second).payload, "echo:b");
  EXPECT_EQ(functions_->stats("fn").started, 2u);
  auto envs = launcher_.environments();
  ASSERT_EQ(envs.size(), 2u);
  EXPECT_EQ(envs[0].at("ORDERS_TABLE"), "Orders");
  EXPECT_EQ(envs[1].at("ORDERS_TABLE"), "Other");
  EXPECT_EQ(functions_->function_config("fn")->timeout, Millis(5000));

  // The same configuration again changes nothing.
  ASSERT_TRUE(functions_->put_function(c));
  EXPECT_EQ(functions_->stats("fn").workers, 1);
  // A bad configuration is refused and the old one stays.
  c.memory_mb = 64;
  EXPECT_FALSE(functions_->put_function(c));
  EXPECT_EQ(functions_->function_config("fn")->memory_mb, 128);
}

TEST_F(FunctionsTest, PutFunctionLetsABusyWorkerFinishThenRetiresIt) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  launcher_.script = [released](const RuntimeInvocation& inv) {
    if (inv.payload == "slow") released.wait();
    return Action::ok("echo:" + inv.payload);
  };
  FunctionConfig c;
  c.name = "fn";
  c.executable = "/var/task/bootstrap";
  ASSERT_TRUE(functions_->put_function(c));
  auto slow = invoke("slow");
  ASSERT_TRUE(eventually([&] { return functions_->stats("fn").busy == 1; }));
  c.environment = {{"V", "2"}};
  ASSERT_TRUE(functions_->put_function(c));
  release.set_value();
  EXPECT_TRUE(get(slow).ok());  // not lost
  ASSERT_TRUE(eventually([&] { return functions_->stats("fn").workers == 0; }));
  auto next = invoke("n");
  EXPECT_EQ(get(next).payload, "echo:n");
  EXPECT_EQ(launcher_.environments().back().at("V"), "2");
}

TEST_F(FunctionsTest, RemoveFunctionFailsWaitingInvocationsAndKillsWorkers) {
  launcher_.script = [](const RuntimeInvocation&) { return Action{Action::hang, ""}; };
  add();
  auto running = invoke("1");
  ASSERT_TRUE(eventually([&] { return functions_->stats("fn").busy == 1; }));
  ASSERT_TRUE(functions_->remove_function("fn"));
  auto r = get(running);
  EXPECT_EQ(r.kind, InvocationResult::Kind::crash);
  EXPECT_FALSE(functions_->exists("fn"));
  auto after = invoke("2");
  EXPECT_EQ(get(after).error_type, "ResourceNotFoundException");
  EXPECT_FALSE(functions_->remove_function("fn"));
  EXPECT_TRUE(functions_->function_names().empty());
}

TEST_F(FunctionsTest, StatsCountInvocationsAndErrors) {
  launcher_.script = [](const RuntimeInvocation& inv) {
    return inv.payload == "bad" ? Action{Action::error, R"({"errorType":"E","errorMessage":"m"})"}
                                : Action::ok("fine");
  };
  add();
  for (std::string p : {"a", "bad", "b"}) {
    auto f = invoke(p);
    get(f);
  }
  auto s = functions_->stats("fn");
  EXPECT_EQ(s.invocations, 3u);
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(s.timeouts, 0u);
}

}  // namespace
}  // namespace orderflow::engine
