// The function benchmark (issue 4): the local Lambda runtime with the real `bootstrap`, and the
// whole pipeline end to end.
//
//   orderflow_lambda_bench --orderflow PATH [--orders N] [--publishers T] [--cold K] [--warm W]
//                          [--key-bits B,...] [--rate R] [--latency-seconds S]
//                          [--latency-threads T] [--up-arg ARG]... [--smoke]
//
// Figures (CSV: figure,value,unit):
//   cold_start_p50/_p90        ms   a new worker: process start to its first Runtime API
//                                   `next` (the REPORT line's Init Duration, as on AWS), over
//                                   K functions each started once (to 0.01 ms)
//   cold_invoke_p50            ms   invoke -> result for a cold worker (spawn + init + run)
//   warm_roundtrip_p50/_p99    ms   a warm worker: invoke -> `next` answered -> handler ->
//                                   POST response -> result, W times, with an empty SQS event
//                                   (the handler does no I/O), over real HTTP on loopback
//   e2e_orders_per_s           orders/s  `orderflow up` with deploy/template.yaml, fsync on:
//                                   N orders published with SNS PublishBatch by T threads
//                                   (our C++ client), until the Orders table holds all N
//   e2e_publish_per_s          orders/s  the publish phase alone
//   e2e_server_cpu_per_order   ms   CPU time (user + system, /proc/<pid>/stat) of the server
//                                   process and its function workers during that run, divided
//                                   by the orders stored
//   rss_under_load             KiB  the most RSS of the server and its workers, sampled every
//                                   50 ms during that run (rss_server_under_load: the server)
//   e2e_cxx_latency_p50/_p95/_p99  ms  then, on the same server, one SNS Publish per order at
//                                   --rate orders/s for --latency-seconds (open loop, from
//                                   --latency-threads threads): the receivedAt the function
//                                   stored minus when the order was due (_achieved_rate,
//                                   _unsent; _server_cpu_per_order: server and workers)
// With --key-bits 2048,1024 (the default) the e2e figures are repeated with a 1024-bit SNS
// signing key (suffix _rsa1024).
// The first part runs the engine's Functions in-process behind the real HTTP server (only the
// Runtime API route), the second the real `orderflow up` as a child process. Asserts nothing
// about speed.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <future>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/util.h"
#include "engine/functions.h"
#include "engine/process_launcher.h"
#include "server/router.h"
#include "server/runtime_api.h"
#include "server/server.h"
#include "support.h"

using namespace orderflow;
using namespace orderflow::bench;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string orderflow;
  int orders = 20000;
  int publishers = 8;
  int cold = 30;
  int warm = 3000;
  std::vector<int> key_bits = {2048, 1024};
  double rate = 1000;          // the latency phase: orders/s offered
  double latency_seconds = 10;  // ... for this long (0: no latency phase)
  int latency_threads = 32;
  std::vector<std::string> up_args;  // --up-arg: more arguments for `orderflow up`
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + f);
      return argv[++i];
    };
    if (f == "--orderflow") a.orderflow = value();
    else if (f == "--orders") a.orders = std::atoi(value().c_str());
    else if (f == "--publishers") a.publishers = std::atoi(value().c_str());
    else if (f == "--cold") a.cold = std::atoi(value().c_str());
    else if (f == "--warm") a.warm = std::atoi(value().c_str());
    else if (f == "--up-arg") a.up_args.push_back(value());
    else if (f == "--rate") a.rate = std::atof(value().c_str());
    else if (f == "--latency-seconds") a.latency_seconds = std::atof(value().c_str());
    else if (f == "--latency-threads") a.latency_threads = std::atoi(value().c_str());
    else if (f == "--key-bits") {
      a.key_bits.clear();
      for (pid_t b : parse_pids(value())) a.key_bits.push_back(static_cast<int>(b));
    } else if (f == "--smoke") a.orders = 500, a.cold = 3, a.warm = 100, a.rate = 100, a.latency_seconds = 1;
    else die("unknown flag " + f + " (see the comment at the top of bench/lambda_bench.cpp)");
  }
  if (a.orderflow.empty()) die("--orderflow PATH is required");
  if (a.orders < 1 || a.publishers < 1 || a.cold < 1 || a.warm < 1 || a.latency_threads < 1)
    die("counts must be >= 1");
  if (!(a.rate > 0) || !(a.latency_seconds >= 0)) die("--rate must be > 0, --latency-seconds >= 0");
  return a;
}

void figure(const std::string& name, double value, const std::string& unit) {
  std::printf("%s,%.3f,%s\n", name.c_str(), value, unit.c_str());
  std::fflush(stdout);
}

class ReportSink final : public engine::LogSink {
 public:
  void write(std::string_view, std::string_view, TimePoint, std::string_view message) override {
    static const std::regex init(R"(Init Duration: ([0-9.]+) ms)");
    std::cmatch m;
    if (message.starts_with("REPORT") &&
        std::regex_search(message.data(), message.data() + message.size(), m, init)) {
      std::lock_guard g(mu);
      init_ms.push_back(std::stod(m[1].str()));
    }
  }
  std::mutex mu;
  std::vector<double> init_ms;
};

engine::InvocationResult invoke(engine::Functions& f, const std::string& name, const std::string& payload) {
  std::promise<engine::InvocationResult> p;
  auto fut = p.get_future();
  f.invoke_async(name, payload, [&p](engine::InvocationResult r) { p.set_value(std::move(r)); });
  if (fut.wait_for(std::chrono::seconds(30)) != std::future_status::ready) die("an invocation did not finish in 30 s");
  return fut.get();
}

void runtime_figures(const Args& a) {
  std::string bootstrap = std::filesystem::absolute(std::filesystem::path(a.orderflow).parent_path() / "bootstrap").string();
  if (!std::filesystem::exists(bootstrap)) die("no bootstrap beside " + a.orderflow);
  server::ServerOptions so;
  so.port = 0;
  so.runs_inline = server::runs_inline;  // as `orderflow up` does: the Runtime API on the io threads
  auto bound = server::Server::bind(so);
  if (!bound) die(bound.error().message);
  auto srv = std::move(*bound);
  RealClock clock;
  ReportSink sink;
  auto launcher = engine::make_posix_process_launcher();
  engine::FunctionsOptions fo;
  fo.endpoint_url = "http://127.0.0.1:" + std::to_string(srv->port());
  std::string host = "127.0.0.1:" + std::to_string(srv->port());
  fo.runtime_api_address = [host](std::string_view fn, engine::WorkerId w) {
    return host + std::string(server::kRuntimeApiPrefix) + std::string(fn) + "/" + std::to_string(w);
  };
  auto functions = engine::Functions::open(clock, *launcher, sink, fo);
  if (!functions) die(functions.error().message);
  engine::Functions& fns = **functions;
  auto started = srv->start([&fns](aws::HttpRequest req, server::Respond respond) {
    if (!server::is_runtime_api_path(req.path())) {
      server::ApiResponse r;
      r.status = 404;
      return respond(std::move(r));
    }
    server::runtime_api_handle(fns, req, std::move(respond));
  });
  if (!started) die(started.error().message);

  const std::string empty_event = R"({"Records":[]})";
  std::vector<double> cold_invoke;
  for (int i = 0; i < a.cold; ++i) {
    engine::FunctionConfig c;
    c.name = "cold" + std::to_string(i);
    c.executable = bootstrap;
    c.environment = {{"ORDERS_TABLE", "Orders"}};
    c.max_workers = 1;
    if (auto s = fns.register_function(c); !s) die(s.error().message);
    auto t0 = SteadyClock::now();
    auto r = invoke(fns, c.name, empty_event);
    cold_invoke.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
    if (!r.ok()) die("cold invocation failed: " + r.error_type + " " + r.error_message);
    (void)fns.remove_function(c.name);
  }
  engine::FunctionConfig warm;
  warm.name = "warm";
  warm.executable = bootstrap;
  warm.environment = {{"ORDERS_TABLE", "Orders"}};
  warm.max_workers = 1;
  if (auto s = fns.register_function(warm); !s) die(s.error().message);
  invoke(fns, "warm", empty_event);  // start it
  std::vector<double> rt;
  for (int i = 0; i < a.warm; ++i) {
    auto t0 = SteadyClock::now();
    auto r = invoke(fns, "warm", empty_event);
    rt.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
    if (!r.ok()) die("warm invocation failed: " + r.error_message);
  }
  std::vector<double> init;
  {
    std::lock_guard g(sink.mu);
    init = sink.init_ms;
  }
  figure("cold_start_p50", percentile(init, 0.5), "ms");
  figure("cold_start_p90", percentile(init, 0.9), "ms");
  figure("cold_invoke_p50", percentile(cold_invoke, 0.5), "ms");
  figure("warm_roundtrip_p50", percentile(rt, 0.5), "ms");
  figure("warm_roundtrip_p99", percentile(rt, 0.99), "ms");
  fns.shutdown();
  srv->drain();
  srv->wait();
}

std::string order_json(int run, int i) {
  return "{\"orderId\":\"b" + std::to_string(run) + "-" + std::to_string(i) +
         "\",\"customerId\":\"c-1\",\"items\":[{\"sku\":\"SKU-1\",\"quantity\":2,\"unitPrice\":10.5}],"
         "\"currency\":\"EUR\",\"total\":21,\"createdAt\":\"2026-11-30T12:00:00Z\"}";
}

std::uint64_t item_count(client::AwsClient& c) {
  auto v = call(c, "dynamodb", "DynamoDB_20120810.DescribeTable", json::object{{"TableName", "Orders"}});
  return v.at("Table").at("ItemCount").to_number<std::uint64_t>();
}

// Publish-to-stored latency at a fixed offered load: one SNS Publish per order in an open loop
// (open_loop() in support.h; what it abandons is counted as unsent). Latency = the receivedAt
// the function stored (wall clock, truncated to the millisecond, so + 1 ms: an upper bound)
// minus the wall-clock time the order was due, so a late send counts.
void latency_figures(const Args& a, const std::string& endpoint, pid_t server,
                     const std::string& topic, const std::string& suffix) {
  long total = static_cast<long>(a.rate * a.latency_seconds);
  if (total < 1) return;
  auto probe = make_client(endpoint);
  auto stored_before = item_count(*probe);
  int lt = a.latency_threads;
  std::vector<std::unique_ptr<client::AwsClient>> clients;
  for (int i = 0; i < lt; ++i) clients.push_back(make_client(endpoint));
  std::atomic<long> sent_count{0}, failed{0};
  // When each order published was due, as wall-clock ms (receivedAt is wall-clock time); NaN
  // for the ones not published.
  auto steady0 = SteadyClock::now();
  double wall0_ms = std::chrono::duration<double, std::milli>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<double> due_ms(static_cast<std::size_t>(total), std::nan(""));
  double cpu0 = tree_cpu_seconds({server});
  double elapsed = open_loop(total, lt, a.rate, [&](int t, long i, SteadyClock::time_point due) {
    if (clients[static_cast<std::size_t>(t)]->sns_publish(topic, order_json(2, static_cast<int>(i)))) {
      due_ms[static_cast<std::size_t>(i)] =
          wall0_ms + std::chrono::duration<double, std::milli>(due - steady0).count();
      ++sent_count;
    } else {
      ++failed;
    }
  });
  if (failed > 0) die(std::to_string(failed.load()) + " orders of the latency run failed to publish");
  auto wait_deadline = SteadyClock::now() + std::chrono::seconds(60);
  while (item_count(*probe) < stored_before + static_cast<std::uint64_t>(sent_count.load())) {
    if (SteadyClock::now() > wait_deadline) die("the latency run's orders were not all stored within 60 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  double cpu = tree_cpu_seconds({server}) - cpu0;
  std::vector<double> latencies;
  for (long i = 0; i < total; ++i) {
    if (std::isnan(due_ms[static_cast<std::size_t>(i)])) continue;
    auto item = call(*probe, "dynamodb", "DynamoDB_20120810.GetItem",
                     json::object{{"TableName", "Orders"},
                                  {"Key", json::object{{"orderId", json::object{{"S", "b2-" + std::to_string(i)}}}}},
                                  {"ProjectionExpression", "receivedAt"}});
    auto received = parse_utc_ms(item.at("Item").at("receivedAt").at("S").as_string());
    if (!received) die("an order's receivedAt is not a UTC time");
    // receivedAt is truncated to the millisecond: +1 makes each latency an upper bound.
    latencies.push_back(static_cast<double>(*received + 1) - due_ms[static_cast<std::size_t>(i)]);
  }
  figure("e2e_cxx_latency_p50" + suffix, percentile(latencies, 0.50), "ms");
  figure("e2e_cxx_latency_p95" + suffix, percentile(latencies, 0.95), "ms");
  figure("e2e_cxx_latency_p99" + suffix, percentile(latencies, 0.99), "ms");
  figure("e2e_cxx_latency_achieved_rate" + suffix, static_cast<double>(sent_count.load()) / elapsed, "orders/s");
  figure("e2e_cxx_latency_unsent" + suffix, static_cast<double>(total - sent_count.load()), "orders");
  figure("e2e_cxx_latency_server_cpu_per_order" + suffix, 1000.0 * cpu / static_cast<double>(sent_count.load()), "ms");
}

void pipeline_figures(const Args& a, int key_bits) {
  auto dir = std::filesystem::temp_directory_path() / ("orderflow-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  Child child;
  auto source = std::filesystem::path(a.orderflow).parent_path() / ".." / "deploy" / "template.yaml";
  std::vector<std::string> up_args = {"--template", source.string(), "--sns-signing-key-bits",
                                      std::to_string(key_bits)};
  up_args.insert(up_args.end(), a.up_args.begin(), a.up_args.end());
  std::string endpoint = start_orderflow(a.orderflow, dir.string(), child, up_args);
  auto probe = make_client(endpoint);
  std::atomic<bool> sampling{true};
  std::atomic<long> rss_max{0}, rss_server_max{0};
  std::thread sampler([&] {
    while (sampling) {
      rss_max = std::max(rss_max.load(), tree_rss_kib({child.pid}));
      rss_server_max = std::max(rss_server_max.load(), rss_kib_of(child.pid));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  double cpu0 = tree_cpu_seconds({child.pid});
  const std::string topic = "arn:aws:sns:us-east-1:000000000000:OrderTopic";
  std::atomic<int> next{0}, failed{0};
  auto t0 = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < a.publishers; ++t) {
    threads.emplace_back([&] {
      auto c = make_client(endpoint);
      for (;;) {
        int start = next.fetch_add(10);
        if (start >= a.orders) break;
        std::vector<client::PublishBatchEntry> batch;
        for (int i = start; i < std::min(start + 10, a.orders); ++i)
          batch.push_back({"e" + std::to_string(i - start), order_json(1, i), ""});
        auto r = c->sns_publish_batch(topic, batch);
        if (!r) {
          failed += static_cast<int>(batch.size());
          continue;
        }
        failed += static_cast<int>(r->failed.size());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto published = SteadyClock::now();
  if (failed > 0) die(std::to_string(failed.load()) + " orders failed to publish");
  auto deadline = SteadyClock::now() + std::chrono::seconds(300);
  while (item_count(*probe) < static_cast<std::uint64_t>(a.orders)) {
    if (SteadyClock::now() > deadline) die("the orders were not all stored within 300 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto stored = SteadyClock::now();
  double cpu = tree_cpu_seconds({child.pid}) - cpu0;
  sampling = false;
  sampler.join();
  double publish_s = std::chrono::duration<double>(published - t0).count();
  double total_s = std::chrono::duration<double>(stored - t0).count();
  std::string suffix = key_bits == 2048 ? "" : "_rsa" + std::to_string(key_bits);
  figure("e2e_publish_per_s" + suffix, a.orders / publish_s, "orders/s");
  figure("e2e_orders_per_s" + suffix, a.orders / total_s, "orders/s");
  figure("e2e_server_cpu_per_order" + suffix, 1000.0 * cpu / a.orders, "ms");
  figure("rss_under_load" + suffix, static_cast<double>(rss_max.load()), "KiB");
  figure("rss_server_under_load" + suffix, static_cast<double>(rss_server_max.load()), "KiB");
  if (key_bits == a.key_bits.front()) latency_figures(a, endpoint, child.pid, topic, suffix);
  child.stop();
  std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse_args(argc, argv);
  std::printf("figure,value,unit\n");
  runtime_figures(a);
  for (int bits : a.key_bits) pipeline_figures(a, bits);
  return 0;
}
