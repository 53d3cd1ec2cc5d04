// Lambda functions, run locally: registered functions, an invocation queue per function, warm
// worker processes, and the Lambda Runtime API (2018-06-01) as a state machine of plain
// methods that the HTTP layer exposes.
//
// Workers. A worker is one process of the function's executable (its `bootstrap`), started
// through the injected ProcessLauncher with the environment a custom runtime sees on AWS
// (see worker_environment()). Its AWS_LAMBDA_RUNTIME_API is options.runtime_api_address(
// function, worker): the HTTP layer must be able to tell from a request which worker sent it
// (the default puts both into a path prefix, see FunctionsOptions). Lifecycle:
//   starting --next()--> idle (parked in next) --invocation--> busy --respond()/error()--> ready
//   ready --next()--> idle ...
// A worker stays warm after an invocation. When invocations wait and fewer workers are starting
// than invocations wait, more are started, up to the function's max_workers. A busy worker
// whose deadline passes is killed; its invocation fails with `timeout`. A worker whose process
// exits fails its invocation with `crash` (Runtime.ExitError); a worker that exits or reports
// /init/error before its first next() fails the oldest waiting invocation the same way, so a
// broken executable fails invocations instead of restarting forever. Dead workers are
// replaced when there is work for them.
//
// Logs. Every line a worker prints, and the platform lines START / END / REPORT (and "Task
// timed out after N.NN seconds") in AWS's text format, go to the LogSink under the log group
// /aws/lambda/<name>, one log stream per worker (YYYY/MM/DD/[$LATEST]<32 hex>).
//   START RequestId: <id> Version: $LATEST
//   END RequestId: <id>
//   REPORT RequestId: <id>\tDuration: 12.00 ms\tBilled Duration: 12 ms\tMemory Size: 128 MB\t
//          Max Memory Used: 20 MB\t[Init Duration: 5.00 ms\t]        (one line, trailing tab)
// Durations come from the injected Clock's precise_now() (microseconds on the real clock,
// printed to the hundredth of a millisecond as AWS does). Billed Duration is the duration (at
// least 1 ms) plus the init duration on a cold start (custom runtimes are billed for init),
// rounded up to the millisecond. Max Memory Used is the worker's peak RSS when the launcher knows it,
// else the memory size.
//
// Threading. Every public method is thread-safe. One mutex (Impl::mu) guards all state; no
// callback is ever run with it held, and callbacks may call back into Functions. Callbacks run
// on the thread that caused them: invoke_async's on the thread of respond()/error() (the HTTP
// layer), on the deadline thread (timeouts) or on a launcher thread (crashes); next()'s
// inside next() itself when work is waiting, else on the thread of invoke_async. Lock order:
// Functions::Impl::mu, then anything the launcher or LogSink lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "engine/process_launcher.h"

namespace orderflow::engine {

using WorkerId = std::uint64_t;

// Where log lines go (CloudWatch Logs storage comes later). Called without Functions' lock;
// must be thread-safe and quick.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void write(std::string_view group, std::string_view stream, TimePoint time,
                     std::string_view message) = 0;
};

// The outcome of one invocation.
struct InvocationResult {
  enum class Kind {
    success,         // payload: the function's response body
    function_error,  // the function posted /error (or /init/error); error_type, error_message
    timeout,         // the deadline passed; the worker was killed
    crash,           // the worker process exited while (or before) running it
  };
  Kind kind = Kind::success;
  std::string payload;        // success: the response; otherwise the error document
  std::string error_type;     // e.g. "Runtime.ExitError", "Sandbox.Timedout", the handler's type
  std::string error_message;

  bool ok() const { return kind == Kind::success; }
};

using InvokeCallback = std::function<void(InvocationResult)>;

// What an event source needs from the functions service (so it can be tested with a script).
class Invoker {
 public:
  virtual ~Invoker() = default;
  // Queues one synchronous invocation; `done` runs exactly once. Unknown function: `done` runs
  // at once with function_error "ResourceNotFoundException".
  virtual void invoke_async(std::string_view function, std::string payload, InvokeCallback done) = 0;
  // The function's timeout and how many invocations it can run at once; nullopt if unknown.
  virtual std::optional<Millis> function_timeout(std::string_view function) const = 0;
  virtual std::optional<int> max_concurrency(std::string_view function) const = 0;
};

struct FunctionConfig {
  std::string name;         // 1..64 of [A-Za-z0-9_-]
  std::string executable;   // path of the bootstrap
  std::map<std::string, std::string> environment;  // the function's variables; no reserved keys
  Millis timeout{3000};     // 1 s .. 900 s
  int memory_mb = 128;      // 128 .. 10240
  int max_workers = 10;     // 1 .. 1000 concurrently running workers
  std::string handler = "bootstrap";  // _HANDLER
  std::string task_root;    // LAMBDA_TASK_ROOT; default: the executable's directory
};

struct FunctionsOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // Credentials and endpoint handed to workers (AWS_ACCESS_KEY_ID etc., AWS_ENDPOINT_URL).
  std::string access_key_id = "test";
  std::string secret_access_key = "test";
  std::string session_token;  // omitted when empty
  std::string endpoint_url;   // omitted when empty
  // AWS_LAMBDA_RUNTIME_API of a worker. Runtimes build "http://" + value + "/2018-06-01/...",
  // so a path suffix identifies the worker to the HTTP layer. Default:
  // "127.0.0.1:4566/_orderflow/lambda/<function>/<worker>".
  std::function<std::string(std::string_view function, WorkerId worker)> runtime_api_address;
  // Start no worker until release_workers() (invocations wait): for a server that provisions
  // functions before it listens for their Runtime API calls.
  bool hold_workers = false;
};

// An event handed to a worker by next(): the Runtime API's response headers and body.
struct RuntimeInvocation {
  std::string request_id;     // Lambda-Runtime-Aws-Request-Id
  std::int64_t deadline_ms = 0;  // Lambda-Runtime-Deadline-Ms (epoch ms)
  std::string function_arn;   // Lambda-Runtime-Invoked-Function-Arn
  std::string trace_id;       // Lambda-Runtime-Trace-Id
  std::string payload;        // the body
};

// Runtime API refusals, with the HTTP answer the HTTP layer gives.
enum class RuntimeApiError {
  unknown_worker,    // 403 {"errorType":"InvalidStateTransition"} -- not (or no longer) a worker
  unknown_request,   // 400 {"errorType":"InvalidRequestID"}
  invalid_state,     // 403 {"errorType":"InvalidStateTransition"} (e.g. respond twice, init/error
                     //     after next, next while an invocation is running)
  worker_gone,       // 500 {"errorType":"Runtime.ExitError"}: a parked next() whose worker died
                     //     or was replaced; the runtime should exit
  shutting_down,     // 500 the service is stopping
};
int http_status(RuntimeApiError e);
std::string_view error_type(RuntimeApiError e);

using NextCallback = std::function<void(std::expected<RuntimeInvocation, RuntimeApiError>)>;

class Functions final : public Invoker {
 public:
  // `launcher` and `logs` must outlive the Functions.
  static Result<std::unique_ptr<Functions>> open(Clock& clock, ProcessLauncher& launcher, LogSink& logs,
                                                 FunctionsOptions options = {});
  // Kills every worker and fails every pending invocation (crash, "shutting down"); parked
  // next() callbacks get shutting_down.
  ~Functions() override;
  Functions(const Functions&) = delete;
  Functions& operator=(const Functions&) = delete;

  // Errors (invalid_parameter_value): bad name, timeout, memory size, max workers, reserved
  // environment keys; the same name registered with a different configuration.
  Status register_function(FunctionConfig config);
  // Creates the function, or replaces its configuration (UpdateFunctionConfiguration /
  // UpdateFunctionCode): workers started with the old configuration are retired -- idle ones
  // at once, busy ones when their invocation ends -- and new ones start with the new one.
  // Invocations waiting or running are not lost. Same validation as register_function().
  Status put_function(FunctionConfig config);
  // Deletes the function: waiting invocations fail (ResourceNotFoundException), running ones
  // fail as crashes, every worker is killed. not_found when there is no such function.
  Status remove_function(std::string_view name);
  std::optional<FunctionConfig> function_config(std::string_view name) const;
  std::vector<std::string> function_names() const;
  // What the destructor does, ahead of time (idempotent): every later call is refused.
  void shutdown();
  // Ends FunctionsOptions::hold_workers: workers start for the invocations waiting.
  void release_workers();
  bool exists(std::string_view name) const;
  std::string function_arn(std::string_view name) const;
  // The environment a worker of `config` gets (reserved variables over the function's own).
  Environment worker_environment(const FunctionConfig& config, WorkerId worker,
                                 std::string_view log_stream) const;

  // ---- Invoker ----
  void invoke_async(std::string_view function, std::string payload, InvokeCallback done) override;
  std::optional<Millis> function_timeout(std::string_view function) const override;
  std::optional<int> max_concurrency(std::string_view function) const override;

  // ---- the Runtime API ----
  // GET /runtime/invocation/next. Answers (perhaps at once, inside this call) with the next
  // invocation for this worker, or parks until there is one. Never blocks.
  void next(std::string_view function, WorkerId worker, NextCallback done);
  // POST /runtime/invocation/{id}/response.
  std::expected<void, RuntimeApiError> respond(std::string_view request_id, std::string body);
  // POST /runtime/invocation/{id}/error. `error_type_header` is Lambda-Runtime-Function-Error-
  // Type (may be empty); the body's errorType wins when present.
  std::expected<void, RuntimeApiError> error(std::string_view request_id, std::string_view error_json,
                                             std::string_view error_type_header = {});
  // POST /runtime/init/error: the worker failed to start; it is killed.
  std::expected<void, RuntimeApiError> init_error(WorkerId worker, std::string_view error_json,
                                                  std::string_view error_type_header = {});

  // ---- introspection (tests, dashboard) ----
  struct Stats {
    int workers = 0;        // alive (starting, idle or busy)
    int busy = 0;
    int queued = 0;         // invocations waiting for a worker
    std::uint64_t started = 0;  // workers ever started
    std::uint64_t invocations = 0;  // invocations ended (any outcome)
    std::uint64_t errors = 0;       // ... that were not a success
    std::uint64_t timeouts = 0;
    std::uint64_t crashes = 0;
    Millis total_duration{0};       // sum of the durations of ended invocations
  };
  Stats stats(std::string_view function) const;

 private:
  struct Impl;
  explicit Functions(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// AWS's platform log lines (exposed for tests and for the Logs API later).
std::string start_line(std::string_view request_id);
std::string end_line(std::string_view request_id);
std::string report_line(std::string_view request_id, Micros duration, int memory_mb, int max_memory_used_mb,
                        std::optional<Micros> init_duration);
std::string timeout_line(TimePoint at, std::string_view request_id, Millis timeout);

}  // namespace orderflow::engine
