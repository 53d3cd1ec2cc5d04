#include "engine/functions.h"

#include <boost/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/util.h"

namespace orderflow::engine {

namespace json = boost::json;

int http_status(RuntimeApiError e) {
  switch (e) {
    case RuntimeApiError::unknown_request: return 400;
    case RuntimeApiError::unknown_worker:
    case RuntimeApiError::invalid_state: return 403;
    case RuntimeApiError::worker_gone:
    case RuntimeApiError::shutting_down: return 500;
  }
  return 500;
}

std::string_view error_type(RuntimeApiError e) {
  switch (e) {
    case RuntimeApiError::unknown_request: return "InvalidRequestID";
    case RuntimeApiError::unknown_worker:
    case RuntimeApiError::invalid_state: return "InvalidStateTransition";
    case RuntimeApiError::worker_gone: return "Runtime.ExitError";
    case RuntimeApiError::shutting_down: return "Sandbox.Shutdown";
  }
  return "Unknown";
}

namespace {

std::string fixed2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string ms_text(Micros d) { return fixed2(static_cast<double>(d.count()) / 1000.0); }

std::string error_document(std::string_view type, std::string_view message) {
  json::object o;
  o["errorMessage"] = message;
  o["errorType"] = type;
  return json::serialize(o);
}

// errorType / errorMessage of a Runtime API error body; tolerant of anything.
std::pair<std::string, std::string> parse_error(std::string_view body, std::string_view header_type) {
  std::string type(header_type), message;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.as_object();
    if (auto* t = o.if_contains("errorType"); t && t->is_string() && !t->as_string().empty())
      type = std::string(t->as_string());
    if (auto* m = o.if_contains("errorMessage"); m && m->is_string()) message = std::string(m->as_string());
  }
  if (type.empty()) type = "Unhandled";
  return {type, message};
}

bool valid_function_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

const std::set<std::string, std::less<>>& reserved_keys() {
  static const std::set<std::string, std::less<>> keys = {
      "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
      "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
      "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
      "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"};
  return keys;
}

std::string trace_id(TimePoint now) {
  char epoch[16];
  std::snprintf(epoch, sizeof epoch, "%08llx",
                static_cast<unsigned long long>(to_epoch_ms(now) / 1000) & 0xffffffffULL);
  return "Root=1-" + std::string(epoch) + "-" + hex_encode(random_bytes(12)) +
         ";Parent=" + hex_encode(random_bytes(8)) + ";Sampled=0";
}

std::string stream_name(TimePoint now) {
  std::time_t t = static_cast<std::time_t>(to_epoch_ms(now) / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[32];
  std::snprintf(date, sizeof date, "%04d/%02d/%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return std::string(date) + "/[$LATEST]" + hex_encode(random_bytes(16));
}

bool same_config(const FunctionConfig& a, const FunctionConfig& b) {
  return a.name == b.name && a.executable == b.executable && a.environment == b.environment &&
         a.timeout == b.timeout && a.memory_mb == b.memory_mb && a.max_workers == b.max_workers &&
         a.handler == b.handler && a.task_root == b.task_root;
}

}  // namespace

std::string start_line(std::string_view request_id) {
  return "START RequestId: " + std::string(request_id) + " Version: $LATEST";
}

std::string end_line(std::string_view request_id) { return "END RequestId: " + std::string(request_id); }

std::string report_line(std::string_view request_id, Micros duration, int memory_mb, int max_memory_used_mb,
                        std::optional<Micros> init_duration) {
  // Rounded up to the millisecond, at least 1 ms, init included (as AWS bills custom runtimes).
  Micros total = std::max<Micros>(duration, Millis(1)) + init_duration.value_or(Micros(0));
  Millis billed = std::chrono::ceil<Millis>(total);
  std::string line = "REPORT RequestId: " + std::string(request_id) + "\tDuration: " + ms_text(duration) +
                     " ms\tBilled Duration: " + std::to_string(billed.count()) +
                     " ms\tMemory Size: " + std::to_string(memory_mb) +
                     " MB\tMax Memory Used: " + std::to_string(max_memory_used_mb) + " MB\t";
  if (init_duration) line += "Init Duration: " + ms_text(*init_duration) + " ms\t";
  return line;
}

std::string timeout_line(TimePoint at, std::string_view request_id, Millis timeout) {
  return iso8601_ms(to_epoch_ms(at)) + " " + std::string(request_id) + " Task timed out after " +
         fixed2(static_cast<double>(timeout.count()) / 1000.0) + " seconds";
}

// ---------------------------------------------------------------------------------------------

struct Functions::Impl : std::enable_shared_from_this<Impl> {
  enum class WorkerState { starting, parked, ready, busy, dead };

  struct Worker {
    WorkerId id = 0;
    std::string function;
    std::string stream;
    std::optional<ProcessHandle> handle;  // unset until spawn() returned
    WorkerState state = WorkerState::starting;
    NextCallback parked;                  // state parked only
    PreciseTimePoint spawned{};
    std::optional<Micros> init_duration;  // set by the first next()
    bool invoked = false;                 // has run an invocation (Init Duration reported once)
    std::string request_id;               // state busy only
    std::uint64_t generation = 0;         // the function's generation it was started with
  };

  struct Pending {
    std::string request_id;
    std::string payload;
    InvokeCallback done;
  };

  struct Running {
    std::string function;
    WorkerId worker = 0;
    InvokeCallback done;
    PreciseTimePoint started{};
    TimePoint deadline{};
    std::optional<Micros> init_duration;  // reported in this invocation's REPORT
  };

  struct Function {
    FunctionConfig config;
    std::deque<Pending> queue;
    std::set<WorkerId> workers;  // every worker record, dead ones until their process exits
    std::uint64_t started = 0;
    std::uint64_t generation = 0;  // bumped by put_function(); older workers retire
    std::uint64_t invocations = 0, errors = 0, timeouts = 0, crashes = 0;
    Millis total_duration{0};
  };

  struct Report {
    std::string group, stream, request_id;
    Micros duration{};
    int memory_mb = 0;
    WorkerId worker = 0;
    std::optional<Micros> init;
  };

  struct LogLine {
    std::string group, stream;
    TimePoint time;
    std::string message;
  };

  // Work collected under the lock and done after releasing it, in this order.
  struct Deferred {
    std::vector<LogLine> logs;
    std::vector<Report> reports;  // END + REPORT
    std::vector<ProcessHandle> kills;
    std::vector<std::function<void()>> calls;
    std::vector<WorkerId> spawns;
    bool empty() const { return logs.empty() && reports.empty() && kills.empty() && calls.empty() && spawns.empty(); }
  };

  Impl(Clock& c, ProcessLauncher& l, LogSink& s, FunctionsOptions o)
      : clock(c), launcher(l), logs(s), options(std::move(o)) {
    if (!options.runtime_api_address) {
      options.runtime_api_address = [](std::string_view function, WorkerId worker) {
        return "127.0.0.1:4566/_orderflow/lambda/" + std::string(function) + "/" + std::to_string(worker);
      };
    }
  }

  Clock& clock;
  ProcessLauncher& launcher;
  LogSink& logs;
  FunctionsOptions options;

  mutable std::mutex mu;
  std::condition_variable deadline_cv;  // wakes the deadline thread; with mu
  std::thread deadline_thread;
  bool stopping = false;                                       // guarded by mu
  std::map<std::string, Function, std::less<>> functions;      // guarded by mu
  std::unordered_map<WorkerId, Worker> workers;                // guarded by mu
  std::unordered_map<std::string, Running> running;            // by request id; guarded by mu
  WorkerId next_worker = 1;                                    // guarded by mu

  static std::string group_of(std::string_view function) { return "/aws/lambda/" + std::string(function); }

  std::string arn(std::string_view function) const {
    return "arn:aws:lambda:" + options.region + ":" + options.account_id + ":function:" + std::string(function);
  }

  Function* find_function(std::string_view name) {
    auto it = functions.find(name);
    return it == functions.end() ? nullptr : &it->second;
  }

  Worker* find_worker(WorkerId id) {
    auto it = workers.find(id);
    return it == workers.end() ? nullptr : &it->second;
  }

  static bool alive(const Worker& w) { return w.state != WorkerState::dead; }

  // ---- transitions (mu held) ----

  void assign(Function& f, Worker& w, Pending p, Deferred& d) {
    TimePoint now = clock.now();
    Running r;
    r.function = f.config.name;
    r.worker = w.id;
    r.done = std::move(p.done);
    r.started = clock.precise_now();
    r.deadline = now + f.config.timeout;
    if (!w.invoked) r.init_duration = w.init_duration;
    w.invoked = true;
    w.state = WorkerState::busy;
    w.request_id = p.request_id;
    RuntimeInvocation inv{p.request_id, to_epoch_ms(r.deadline), arn(f.config.name), trace_id(now),
                          std::move(p.payload)};
    running.emplace(p.request_id, std::move(r));
    d.logs.push_back({group_of(f.config.name), w.stream, now, start_line(p.request_id)});
    d.calls.push_back([cb = std::move(w.parked), inv = std::move(inv)]() mutable { cb(std::move(inv)); });
    w.parked = nullptr;
    deadline_cv.notify_all();
  }

  void dispatch(Function& f, Deferred& d) {
    if (stopping) return;
    int soon = 0, live = 0;
    for (WorkerId id : f.workers) {
      Worker& w = workers.at(id);
      if (!alive(w)) continue;
      ++live;
      if (w.state == WorkerState::parked && !f.queue.empty()) {
        Pending p = std::move(f.queue.front());
        f.queue.pop_front();
        assign(f, w, std::move(p), d);
      } else if (w.state == WorkerState::starting || w.state == WorkerState::ready) {
        ++soon;
      }
    }
    int waiting = static_cast<int>(f.queue.size());
    int more = options.hold_workers ? 0 : std::min(waiting - soon, f.config.max_workers - live);
    for (int i = 0; i < more; ++i) {
      Worker w;
      w.id = next_worker++;
      w.function = f.config.name;
      w.generation = f.generation;
      w.stream = stream_name(clock.now());
      w.spawned = clock.precise_now();
      f.workers.insert(w.id);
      ++f.started;
      d.spawns.push_back(w.id);
      workers.emplace(w.id, std::move(w));
    }
  }

  // Ends the running invocation `request_id` with `result`; the worker becomes `next_state`.
  void finish(std::string request_id, InvocationResult result, WorkerState next_state, Deferred& d) {
    auto it = running.find(request_id);
    Running r = std::move(it->second);
    running.erase(it);
    Worker* w = find_worker(r.worker);
    Function* f = find_function(r.function);
    const Micros took = clock.precise_now() - r.started;
    if (f != nullptr) {
      ++f->invocations;
      if (!result.ok()) ++f->errors;
      if (result.kind == InvocationResult::Kind::timeout) ++f->timeouts;
      if (result.kind == InvocationResult::Kind::crash) ++f->crashes;
      f->total_duration += std::chrono::duration_cast<Millis>(took);
    }
    if (w != nullptr) {
      w->request_id.clear();
      if (alive(*w)) w->state = next_state;
      if (alive(*w) && (f == nullptr || w->generation != f->generation)) kill_worker(*w, d);
      Report rep;
      rep.group = group_of(r.function);
      rep.stream = w->stream;
      rep.request_id = request_id;
      rep.duration = took;
      rep.memory_mb = f != nullptr ? f->config.memory_mb : 0;
      rep.worker = w->id;
      rep.init = r.init_duration;
      d.reports.push_back(std::move(rep));
    }
    d.calls.push_back([done = std::move(r.done), result = std::move(result)]() mutable { done(std::move(result)); });
    if (f != nullptr) dispatch(*f, d);
  }

  // Fails the oldest waiting invocation of `f` (a worker died before it could take one).
  void fail_oldest(Function& f, InvocationResult result, Deferred& d) {
    if (f.queue.empty()) return;
    Pending p = std::move(f.queue.front());
    f.queue.pop_front();
    if (result.error_message.rfind("RequestId:", 0) != 0)
      result.error_message = "RequestId: " + p.request_id + " Error: " + result.error_message;
    result.payload = error_document(result.error_type, result.error_message);
    d.calls.push_back([done = std::move(p.done), result = std::move(result)]() mutable { done(std::move(result)); });
  }

  void kill_worker(Worker& w, Deferred& d) {
    w.state = WorkerState::dead;
    if (w.handle) d.kills.push_back(*w.handle);  // else killed as soon as spawn() returns
    if (w.parked) {
      d.calls.push_back([cb = std::move(w.parked)] { cb(std::unexpected(RuntimeApiError::worker_gone)); });
      w.parked = nullptr;
    }
  }

  void expire_due(Deferred& d) {
    TimePoint now = clock.now();
    std::vector<std::string> due;
    for (const auto& [id, r] : running)
      if (r.deadline <= now) due.push_back(id);
    for (const auto& id : due) {
      Running& r = running.at(id);
      Function* f = find_function(r.function);
      Millis timeout = f != nullptr ? f->config.timeout : Millis(0);
      Worker* w = find_worker(r.worker);
      if (w != nullptr) {
        d.logs.push_back({group_of(r.function), w->stream, now, timeout_line(now, id, timeout)});
        kill_worker(*w, d);
      }
      InvocationResult res;
      res.kind = InvocationResult::Kind::timeout;
      res.error_type = "Sandbox.Timedout";
      res.error_message = "RequestId: " + id + " Error: Task timed out after " +
                          fixed2(static_cast<double>(timeout.count()) / 1000.0) + " seconds";
      res.payload = error_document(res.error_type, res.error_message);
      finish(id, std::move(res), WorkerState::dead, d);
    }
  }

  // ---- running deferred work (mu NOT held) ----

  void run(Deferred d) {
    while (!d.empty()) {
      for (auto& l : d.logs) logs.write(l.group, l.stream, l.time, l.message);
      for (auto& r : d.reports) {
        int used = r.memory_mb;
        std::optional<ProcessHandle> handle;
        {
          std::lock_guard g(mu);  // the handle may have arrived after the invocation started
          if (Worker* w = find_worker(r.worker)) handle = w->handle;
        }
        if (handle) {
          if (auto peak = launcher.peak_memory_mb(*handle)) used = std::min(*peak, r.memory_mb);
        }
        TimePoint now = clock.now();
        logs.write(r.group, r.stream, now, end_line(r.request_id));
        logs.write(r.group, r.stream, now, report_line(r.request_id, r.duration, r.memory_mb, used, r.init));
      }
      for (ProcessHandle h : d.kills) launcher.kill(h);
      for (auto& c : d.calls) c();
      std::vector<WorkerId> spawns = std::move(d.spawns);
      d = Deferred{};
      for (WorkerId id : spawns) spawn(id, d);
    }
  }

  // Starts worker `id`. The launcher is called with mu held, so the worker is fully recorded
  // (handle included) before any Runtime API call of its process can be served.
  void spawn(WorkerId id, Deferred& d) {
    std::lock_guard g(mu);
    Worker* w = find_worker(id);
    if (w == nullptr || !alive(*w) || stopping) return;
    Function& f = *find_function(w->function);
    SpawnSpec spec;
    spec.executable = f.config.executable;
    spec.environment = worker_env(f.config, id, w->stream);
    spec.working_directory = task_root(f.config);
    std::weak_ptr<Impl> weak = weak_from_this();
    spec.on_output = [weak, id](std::string_view line) {
      if (auto self = weak.lock()) self->on_output(id, line);
    };
    spec.on_exit = [weak, id](ExitStatus st) {
      if (auto self = weak.lock()) self->on_exit(id, st);
    };
    auto handle = launcher.spawn(std::move(spec));
    if (!handle) {
      d.logs.push_back({group_of(f.config.name), w->stream, clock.now(), handle.error().message});
      f.workers.erase(id);
      workers.erase(id);
      InvocationResult res;
      res.kind = InvocationResult::Kind::crash;
      res.error_type = "Runtime.InvalidEntrypoint";
      res.error_message = handle.error().message;
      fail_oldest(f, std::move(res), d);
      dispatch(f, d);
      return;
    }
    w->handle = *handle;
  }

  std::string task_root(const FunctionConfig& c) const {
    if (!c.task_root.empty()) return c.task_root;
    return std::filesystem::path(c.executable).parent_path().string();
  }

  Environment worker_env(const FunctionConfig& c, WorkerId id, std::string_view stream) const {
    Environment env;
    std::string root = task_root(c);
    env["PATH"] = "/usr/local/bin:/usr/bin/:/bin:/opt/bin";
    env["LANG"] = "en_US.UTF-8";
    env["TZ"] = ":UTC";
    env["LD_LIBRARY_PATH"] = "/lib64:/usr/lib64:" + root + ":" + root + "/lib:/opt/lib";
    if (!options.endpoint_url.empty()) env["AWS_ENDPOINT_URL"] = options.endpoint_url;
    // A sanitizer build's workers report where the server's do (tests/sanitizers/run.sh).
    for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"})
      if (const char* v = std::getenv(name)) env[name] = v;
    for (const auto& [k, v] : c.environment) env[k] = v;
    env["AWS_LAMBDA_RUNTIME_API"] = options.runtime_api_address(c.name, id);
    env["_HANDLER"] = c.handler;
    env["LAMBDA_TASK_ROOT"] = root;
    env["LAMBDA_RUNTIME_DIR"] = root;
    env["AWS_LAMBDA_FUNCTION_NAME"] = c.name;
    env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = std::to_string(c.memory_mb);
    env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST";
    env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand";
    env["AWS_LAMBDA_LOG_GROUP_NAME"] = group_of(c.name);
    env["AWS_LAMBDA_LOG_STREAM_NAME"] = std::string(stream);
    env["AWS_REGION"] = options.region;
    env["AWS_DEFAULT_REGION"] = options.region;
    env["AWS_ACCESS_KEY_ID"] = options.access_key_id;
    env["AWS_SECRET_ACCESS_KEY"] = options.secret_access_key;
    if (!options.session_token.empty()) env["AWS_SESSION_TOKEN"] = options.session_token;
    return env;
  }

  // ---- launcher callbacks ----

  void on_output(WorkerId id, std::string_view line) {
    std::string group, stream;
    {
      std::lock_guard g(mu);
      Worker* w = find_worker(id);
      if (w == nullptr) return;
      group = group_of(w->function);
      stream = w->stream;
    }
    logs.write(group, stream, clock.now(), line);
  }

  void on_exit(WorkerId id, ExitStatus st) {
    Deferred d;
    {
      std::lock_guard g(mu);
      Worker* w = find_worker(id);
      if (w == nullptr) return;
      Function* f = find_function(w->function);
      WorkerState was = w->state;
      std::string group = group_of(w->function), stream = w->stream;
      if (was == WorkerState::busy) {
        std::string rid = w->request_id;
        InvocationResult res;
        res.kind = InvocationResult::Kind::crash;
        res.error_type = "Runtime.ExitError";
        res.error_message = "RequestId: " + rid + " Error: Runtime exited with error: " + st.describe();
        res.payload = error_document(res.error_type, res.error_message);
        d.logs.push_back({group, stream, clock.now(), res.error_message});
        d.logs.push_back({group, stream, clock.now(), "Runtime.ExitError"});
        w->state = WorkerState::dead;
        finish(rid, std::move(res), WorkerState::dead, d);
      } else if (was == WorkerState::starting && f != nullptr) {
        InvocationResult res;
        res.kind = InvocationResult::Kind::crash;
        res.error_type = "Runtime.ExitError";
        res.error_message = "Runtime exited with error: " + st.describe();
        d.logs.push_back({group, stream, clock.now(), "INIT_REPORT Init Duration: " +
                                                          ms_text(clock.precise_now() - w->spawned) +
                                                          " ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError"});
        fail_oldest(*f, std::move(res), d);
      }
      w = find_worker(id);
      if (w != nullptr && w->parked) {
        d.calls.push_back([cb = std::move(w->parked)] { cb(std::unexpected(RuntimeApiError::worker_gone)); });
      }
      workers.erase(id);
      if (f != nullptr) {
        f->workers.erase(id);
        dispatch(*f, d);
      }
    }
    run(std::move(d));
  }

  // ---- deadline thread ----

  void deadline_loop() {
    std::unique_lock lk(mu);
    while (!stopping) {
      Deferred d;
      expire_due(d);
      if (!d.empty()) {
        lk.unlock();
        run(std::move(d));
        lk.lock();
        continue;
      }
      std::optional<TimePoint> earliest;
      for (const auto& [id, r] : running)
        if (!earliest || r.deadline < *earliest) earliest = r.deadline;
      if (earliest) clock.wait_until(lk, deadline_cv, *earliest);
      else deadline_cv.wait(lk);
    }
  }

  void shutdown() {
    Deferred d;
    {
      std::lock_guard g(mu);
      stopping = true;
      for (auto& [name, f] : functions) {
        for (auto& p : f.queue) {
          d.calls.push_back([done = std::move(p.done)] {
            done(InvocationResult{InvocationResult::Kind::crash, error_document("Sandbox.Shutdown", "shutting down"),
                                  "Sandbox.Shutdown", "shutting down"});
          });
        }
        f.queue.clear();
      }
      for (auto& [rid, r] : running) {
        d.calls.push_back([done = std::move(r.done)] {
          done(InvocationResult{InvocationResult::Kind::crash, error_document("Sandbox.Shutdown", "shutting down"),
                                "Sandbox.Shutdown", "shutting down"});
        });
      }
      running.clear();
      for (auto& [id, w] : workers) {
        if (w.parked) {
          d.calls.push_back([cb = std::move(w.parked)] { cb(std::unexpected(RuntimeApiError::shutting_down)); });
          w.parked = nullptr;
        }
        w.state = WorkerState::dead;
        if (w.handle) d.kills.push_back(*w.handle);
      }
      deadline_cv.notify_all();
    }
    if (deadline_thread.joinable()) deadline_thread.join();
    for (ProcessHandle h : d.kills) launcher.kill(h);
    for (auto& c : d.calls) c();
  }
};

// ---------------------------------------------------------------------------------------------

Functions::Functions(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Functions>> Functions::open(Clock& clock, ProcessLauncher& launcher, LogSink& logs,
                                                   FunctionsOptions options) {
  auto impl = std::make_shared<Impl>(clock, launcher, logs, std::move(options));
  impl->deadline_thread = named_thread("of-fn-deadline", [raw = impl.get()] { raw->deadline_loop(); });
  return std::unique_ptr<Functions>(new Functions(std::move(impl)));
}

Functions::~Functions() { impl_->shutdown(); }

void Functions::shutdown() { impl_->shutdown(); }

void Functions::release_workers() {
  Impl::Deferred d;
  {
    std::lock_guard g(impl_->mu);
    if (!impl_->options.hold_workers) return;
    impl_->options.hold_workers = false;
    for (auto& [name, f] : impl_->functions) impl_->dispatch(f, d);
  }
  impl_->run(std::move(d));
}

namespace {

Status validate_function(const FunctionConfig& config) {
  auto invalid = [](std::string m) { return fail(ErrorCode::invalid_parameter_value, std::move(m)); };
  if (!valid_function_name(config.name))
    return invalid("1 validation error detected: Value '" + config.name +
                   "' at 'functionName' failed to satisfy constraint: Member must satisfy regular "
                   "expression pattern: [a-zA-Z0-9-_]+ and length 1..64");
  if (config.timeout < Millis(1000) || config.timeout > Millis(900'000))
    return invalid("Timeout must be between 1 and 900 seconds.");
  if (config.memory_mb < 128 || config.memory_mb > 10240)
    return invalid("MemorySize must be between 128 and 10240 MB.");
  if (config.max_workers < 1 || config.max_workers > 1000)
    return invalid("The number of workers must be between 1 and 1000.");
  if (config.executable.empty()) return invalid("The function needs an executable.");
  std::string used;
  for (const auto& [k, v] : config.environment) {
    if (reserved_keys().contains(k)) used += (used.empty() ? "" : ", ") + k;
  }
  if (!used.empty())
    return invalid("Lambda was unable to configure your environment variables because the environment "
                   "variables you have provided contains reserved keys that are currently not supported "
                   "for modification. Reserved keys used in this request: " + used);
  return {};
}

}  // namespace

Status Functions::register_function(FunctionConfig config) {
  if (auto v = validate_function(config); !v) return v;
  std::lock_guard g(impl_->mu);
  if (auto* f = impl_->find_function(config.name)) {
    if (same_config(f->config, config)) return {};
    return fail(ErrorCode::invalid_parameter_value, "Function already exist: " + config.name);
  }
  std::string name = config.name;
  impl_->functions[name].config = std::move(config);
  return {};
}

Status Functions::put_function(FunctionConfig config) {
  if (auto v = validate_function(config); !v) return v;
  Impl::Deferred d;
  {
    std::lock_guard g(impl_->mu);
    if (impl_->stopping) return fail(ErrorCode::internal_error, "The functions service is shutting down.");
    Impl::Function* f = impl_->find_function(config.name);
    if (f == nullptr) {
      std::string name = config.name;
      impl_->functions[name].config = std::move(config);
      return {};
    }
    if (same_config(f->config, config)) return {};
    f->config = std::move(config);
    ++f->generation;
    for (WorkerId id : f->workers) {
      Impl::Worker& w = impl_->workers.at(id);
      if (Impl::alive(w) && w.state != Impl::WorkerState::busy) impl_->kill_worker(w, d);
    }
    impl_->dispatch(*f, d);
  }
  impl_->run(std::move(d));
  return {};
}

Status Functions::remove_function(std::string_view name) {
  Impl::Deferred d;
  {
    std::lock_guard g(impl_->mu);
    auto it = impl_->functions.find(name);
    if (it == impl_->functions.end())
      return fail(ErrorCode::lambda_resource_not_found, "Function not found: " + impl_->arn(name));
    Impl::Function& f = it->second;
    std::string name_copy(name);
    std::string message = "Function not found: " + impl_->arn(name);
    for (auto& p : f.queue) {
      d.calls.push_back([done = std::move(p.done), message] {
        done(InvocationResult{InvocationResult::Kind::function_error,
                              error_document("ResourceNotFoundException", message), "ResourceNotFoundException",
                              message});
      });
    }
    f.queue.clear();
    std::vector<std::string> busy;
    for (WorkerId id : f.workers) {
      Impl::Worker& w = impl_->workers.at(id);
      if (!Impl::alive(w)) continue;
      if (w.state == Impl::WorkerState::busy) busy.push_back(w.request_id);
      impl_->kill_worker(w, d);
    }
    for (auto& rid : busy) {
      InvocationResult res;
      res.kind = InvocationResult::Kind::crash;
      res.error_type = "Runtime.ExitError";
      res.error_message = "RequestId: " + rid + " Error: the function was deleted";
      res.payload = error_document(res.error_type, res.error_message);
      impl_->finish(rid, std::move(res), Impl::WorkerState::dead, d);
    }
    impl_->functions.erase(name_copy);
  }
  impl_->run(std::move(d));
  return {};
}

std::optional<FunctionConfig> Functions::function_config(std::string_view name) const {
  std::lock_guard g(impl_->mu);
  auto it = impl_->functions.find(name);
  if (it == impl_->functions.end()) return std::nullopt;
  return it->second.config;
}

std::vector<std::string> Functions::function_names() const {
  std::lock_guard g(impl_->mu);
  std::vector<std::string> names;
  for (const auto& [name, f] : impl_->functions) names.push_back(name);
  return names;
}

bool Functions::exists(std::string_view name) const {
  std::lock_guard g(impl_->mu);
  return impl_->find_function(name) != nullptr;
}

std::string Functions::function_arn(std::string_view name) const { return impl_->arn(name); }

Environment Functions::worker_environment(const FunctionConfig& config, WorkerId worker,
                                          std::string_view log_stream) const {
  return impl_->worker_env(config, worker, log_stream);
}

void Functions::invoke_async(std::string_view function, std::string payload, InvokeCallback done) {
  Impl::Deferred d;
  {
    std::lock_guard g(impl_->mu);
    Impl::Function* f = impl_->find_function(function);
    if (f == nullptr || impl_->stopping) {
      std::string type = f == nullptr ? "ResourceNotFoundException" : "Sandbox.Shutdown";
      std::string message = f == nullptr ? "Function not found: " + impl_->arn(function) : "shutting down";
      d.calls.push_back([done = std::move(done), type, message] {
        done(InvocationResult{InvocationResult::Kind::function_error, error_document(type, message), type, message});
      });
    } else {
      f->queue.push_back(Impl::Pending{uuid4(), std::move(payload), std::move(done)});
      impl_->dispatch(*f, d);
    }
  }
  impl_->run(std::move(d));
}

std::optional<Millis> Functions::function_timeout(std::string_view function) const {
  std::lock_guard g(impl_->mu);
  auto* f = impl_->find_function(function);
  if (f == nullptr) return std::nullopt;
  return f->config.timeout;
}

std::optional<int> Functions::max_concurrency(std::string_view function) const {
  std::lock_guard g(impl_->mu);
  auto* f = impl_->find_function(function);
  if (f == nullptr) return std::nullopt;
  return f->config.max_workers;
}

void Functions::next(std::string_view function, WorkerId worker, NextCallback done) {
  Impl::Deferred d;
  {
    std::lock_guard g(impl_->mu);
    Impl::Worker* w = impl_->find_worker(worker);
    std::optional<RuntimeApiError> refuse;
    if (impl_->stopping) refuse = RuntimeApiError::shutting_down;
    else if (w == nullptr || w->function != function || !Impl::alive(*w)) refuse = RuntimeApiError::unknown_worker;
    else if (w->state == Impl::WorkerState::busy) refuse = RuntimeApiError::invalid_state;
    if (refuse) {
      d.calls.push_back([done = std::move(done), e = *refuse] { done(std::unexpected(e)); });
    } else {
      if (w->state == Impl::WorkerState::starting)
        w->init_duration = impl_->clock.precise_now() - w->spawned;
      if (w->state == Impl::WorkerState::parked && w->parked) {
        // A second next() replaces the first (its connection is presumably gone).
        d.calls.push_back([cb = std::move(w->parked)] { cb(std::unexpected(RuntimeApiError::invalid_state)); });
      }
      w->state = Impl::WorkerState::parked;
      w->parked = std::move(done);
      impl_->dispatch(*impl_->find_function(function), d);
    }
  }
  impl_->run(std::move(d));
}

std::expected<void, RuntimeApiError> Functions::respond(std::string_view request_id, std::string body) {
  Impl::Deferred d;
  {
    std::lock_guard g(impl_->mu);
    if (impl_->stopping) return std::unexpected(RuntimeApiError::shutting_down);
    auto it = impl_->running.find(std::string(request_id));
    if (it == impl_->running.end()) return std::unexpected(RuntimeApiError::unknown_request);
    InvocationResult res;
    res.kind = InvocationResult::Kind::success;
    res.payload = std::move(body);
    impl_->finish(it->first, std::move(res), Impl::WorkerState::ready, d);
  }
  impl_->run(std::move(d));
  return {};
}

std::expected<void, RuntimeApiError> Functions::error(std::string_view request_id, std::string_view error_json,
                                                      std::string_view error_type_header) {
  Impl::Deferred d;
  {
    std::lock_guard g(impl_->mu);
    if (impl_->stopping) return std::unexpected(RuntimeApiError::shutting_down);
    auto it = impl_->running.find(std::string(request_id));
    if (it == impl_->running.end()) return std::unexpected(RuntimeApiError::unknown_request);
    auto [type, message] = parse_error(error_json, error_type_header);
    InvocationResult res;
    res.kind = InvocationResult::Kind::function_error;
    res.error_type = type;
    res.error_message = message;
    res.payload = error_document(type, message);
    impl_->finish(it->first, std::move(res), Impl::WorkerState::ready, d);
  }
  impl_->run(std::move(d));
  return {};
}

std::expected<void, RuntimeApiError> Functions::init_error(WorkerId worker, std::string_view error_json,
                                                           std::string_view error_type_header) {
  Impl::Deferred d;
  {
    std::lock_guard g(impl_->mu);
    if (impl_->stopping) return std::unexpected(RuntimeApiError::shutting_down);
    Impl::Worker* w = impl_->find_worker(worker);
    if (w == nullptr || !Impl::alive(*w)) return std::unexpected(RuntimeApiError::unknown_worker);
    if (w->state != Impl::WorkerState::starting) return std::unexpected(RuntimeApiError::invalid_state);
    auto [type, message] = parse_error(error_json, error_type_header);
    Impl::Function& f = *impl_->find_function(w->function);
    d.logs.push_back({Impl::group_of(f.config.name), w->stream, impl_->clock.now(),
                      "INIT_REPORT Init Duration: " +
                          ms_text(impl_->clock.precise_now() - w->spawned) +
                          " ms\tPhase: init\tStatus: error\tError Type: " + type});
    impl_->kill_worker(*w, d);
    InvocationResult res;
    res.kind = InvocationResult::Kind::function_error;
    res.error_type = type;
    res.error_message = message;
    impl_->fail_oldest(f, std::move(res), d);
    impl_->dispatch(f, d);
  }
  impl_->run(std::move(d));
  return {};
}

Functions::Stats Functions::stats(std::string_view function) const {
  std::lock_guard g(impl_->mu);
  Stats s;
  auto* f = impl_->find_function(function);
  if (f == nullptr) return s;
  s.queued = static_cast<int>(f->queue.size());
  s.started = f->started;
  s.invocations = f->invocations;
  s.errors = f->errors;
  s.timeouts = f->timeouts;
  s.crashes = f->crashes;
  s.total_duration = f->total_duration;
  for (WorkerId id : f->workers) {
    const auto& w = impl_->workers.at(id);
    if (!Impl::alive(w)) continue;
    ++s.workers;
    if (w.state == Impl::WorkerState::busy) ++s.busy;
  }
  return s;
}

}  // namespace orderflow::engine
