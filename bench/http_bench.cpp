// HTTP benchmark (issue 3): the same C++ client (AwsClient: libcurl, SigV4, keep-alive, one
// client per thread) against `orderflow up` and, when `moto_server` is on PATH, against moto.
//
//   orderflow_http_bench [--orderflow PATH] [--endpoint URL] [--no-moto] [--threads N]
//                        [--seconds S] [--latency-seconds S] [--rate R] [--smoke]
//
// --orderflow PATH   the `orderflow` binary: started as `orderflow up --port 0 --data-dir TMP`
// --endpoint URL     measure this endpoint instead (nothing is started; no moto comparison)
//
// Figures (CSV: figure,value,unit,server):
//   sqs_send_receive_delete_batch10  messages/s  each thread loops SendMessageBatch(10) +
//                                                ReceiveMessage(10) + DeleteMessageBatch on
//                                                its own queue, for --seconds
//   dynamodb_put_item                requests/s  each thread loops PutItem, for --seconds
//   sqs_send_message_p50 / _p99      ms          open loop: one SendMessage every 1/--rate s by
//                                                schedule (not when the previous one returned),
//                                                latency measured from the scheduled time
//   sqs_send_message_achieved_rate   requests/s  what that schedule achieved
//   sqs_send_message_unsent          requests    abandoned at 3x the planned duration (a server
//                                                that cannot keep up); 0 normally
// then, with moto, the same figures as `<figure>,<ours/moto>,x,ours/moto` (for latencies a
// ratio under 1 means ours is faster). Asserts nothing about speed.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support.h"
#include "client/aws_client.h"

using namespace orderflow;
using namespace orderflow::bench;
using SteadyClock = std::chrono::steady_clock;
namespace json = boost::json;

namespace {

struct Args {
  std::string orderflow = "orderflow";
  std::string endpoint;
  bool moto = true;
  int threads = 16;
  double seconds = 10;
  double latency_seconds = 10;
  double rate = 1000;
  int latency_threads = 16;
  std::size_t body_size = 256;
};


Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + f);
      return argv[++i];
    };
    if (f == "--orderflow")
      a.orderflow = value();
    else if (f == "--endpoint")
      a.endpoint = value();
    else if (f == "--no-moto")
      a.moto = false;
    else if (f == "--threads")
      a.threads = std::max(1, std::atoi(value().c_str()));
    else if (f == "--seconds")
      a.seconds = std::atof(value().c_str());
    else if (f == "--latency-seconds")
      a.latency_seconds = std::atof(value().c_str());
    else if (f == "--rate")
      a.rate = std::atof(value().c_str());
    else if (f == "--smoke")
      a.seconds = 1, a.latency_seconds = 1, a.threads = 4;
    else
      die("unknown flag " + f + " (see the comment at the top of bench/http_bench.cpp)");
  }
  if (a.seconds <= 0 || a.latency_seconds <= 0 || a.rate <= 0)
    die("durations and rate must be > 0");
  return a;
}

struct Figure {
  std::string name;
  double value;
  std::string unit;
};

// Runs `body(thread_index, client, stop)` on `threads` threads for `seconds`; returns the sum
// of what the bodies return divided by the elapsed time.
template <class Body>
double run_for(const std::string& endpoint, int threads, double seconds, Body body) {
  std::vector<std::unique_ptr<client::AwsClient>> clients;
  for (int i = 0; i < threads; ++i) clients.push_back(make_client(endpoint));
  std::atomic<bool> stop{false};
  std::atomic<long> total{0};
  std::vector<std::thread> workers;
  auto t0 = SteadyClock::now();
  for (int i = 0; i < threads; ++i)
    workers.emplace_back([&, i] { total += body(i, *clients[static_cast<std::size_t>(i)], stop); });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  double elapsed = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  return static_cast<double>(total.load()) / elapsed;
}

std::vector<Figure> measure(const Args& a, const std::string& endpoint, const std::string& label) {
  std::vector<Figure> out;
  auto setup = make_client(endpoint);
  std::string run_id = std::to_string(::getpid()) + "-" + label;
  std::string body(a.body_size, 'x');

  // (a) SendMessageBatch(10) + ReceiveMessage(10) + DeleteMessageBatch, one queue per thread.
  std::vector<std::string> queues;
  for (int i = 0; i < a.threads; ++i)
    queues.push_back(create_queue(*setup, "bench-" + run_id + "-" + std::to_string(i)));
  double batch_rate = run_for(
      endpoint, a.threads, a.seconds, [&](int t, client::AwsClient& c, std::atomic<bool>& stop) {
        const std::string& url = queues[static_cast<std::size_t>(t)];
        long done = 0;
        while (!stop) {
          json::array entries;
          for (int k = 0; k < 10; ++k)
            entries.push_back(json::object{{"Id", "m" + std::to_string(k)}, {"MessageBody", body}});
          call(c, "sqs", "AmazonSQS.SendMessageBatch",
               json::object{{"QueueUrl", url}, {"Entries", std::move(entries)}});
          auto got = call(
              c, "sqs", "AmazonSQS.ReceiveMessage",
              json::object{{"QueueUrl", url}, {"MaxNumberOfMessages", 10}, {"WaitTimeSeconds", 0}});
          json::array del;
          if (auto* obj = got.if_object(); obj && obj->contains("Messages")) {
            int k = 0;
            for (const auto& m : obj->at("Messages").as_array())
              del.push_back(json::object{{"Id", "d" + std::to_string(k++)},
                                         {"ReceiptHandle", m.at("ReceiptHandle")}});
          }
          if (del.empty()) continue;
          long n = static_cast<long>(del.size());
          call(c, "sqs", "AmazonSQS.DeleteMessageBatch",
               json::object{{"QueueUrl", url}, {"Entries", std::move(del)}});
          done += n;
        }
        return done;
      });
  out.push_back({"sqs_send_receive_delete_batch10", batch_rate, "messages/s"});

  // (b) PutItem.
  std::string table = "bench-" + run_id;
  call(*setup, "dynamodb", "DynamoDB_20120810.CreateTable",
       json::object{
           {"TableName", table},
           {"AttributeDefinitions",
            json::array{json::object{{"AttributeName", "pk"}, {"AttributeType", "S"}}}},
           {"KeySchema", json::array{json::object{{"AttributeName", "pk"}, {"KeyType", "HASH"}}}},
           {"BillingMode", "PAY_PER_REQUEST"}});
  for (int tries = 0;; ++tries) {  // wait until ACTIVE (both are at once; AWS is not)
    auto d = call(*setup, "dynamodb", "DynamoDB_20120810.DescribeTable",
                  json::object{{"TableName", table}});
    if (d.at("Table").at("TableStatus").as_string() == "ACTIVE") break;
    if (tries > 100) die("table never became ACTIVE");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  double put_rate = run_for(
      endpoint, a.threads, a.seconds, [&](int t, client::AwsClient& c, std::atomic<bool>& stop) {
        long done = 0;
        std::string prefix = "t" + std::to_string(t) + "-";
        while (!stop) {
          json::object item{{"pk", json::object{{"S", prefix + std::to_string(done)}}},
                            {"payload", json::object{{"S", body}}},
                            {"n", json::object{{"N", std::to_string(done)}}}};
          call(c, "dynamodb", "DynamoDB_20120810.PutItem",
               json::object{{"TableName", table}, {"Item", std::move(item)}});
          ++done;
        }
        return done;
      });
  out.push_back({"dynamodb_put_item", put_rate, "requests/s"});

  // (c) SendMessage at a fixed offered rate, open loop: request i is due at t0 + i/rate; the
  // thread that owns it (i mod threads) sends it when due, or at once when it is late, and its
  // latency counts from when it was due. A server that cannot keep up falls ever further
  // behind: at 3x the planned duration the rest is abandoned and counted as unsent (then the
  // latencies are of the requests sent, a lower bound).
  std::string latency_queue = create_queue(*setup, "bench-latency-" + run_id);
  long total = static_cast<long>(a.rate * a.latency_seconds);
  int lt = a.latency_threads;
  std::vector<std::unique_ptr<client::AwsClient>> clients;
  for (int i = 0; i < lt; ++i) clients.push_back(make_client(endpoint));
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(lt));
  auto t0 = SteadyClock::now() + std::chrono::milliseconds(50);
  auto period = std::chrono::duration<double>(1.0 / a.rate);
  auto deadline = t0 + std::chrono::duration_cast<SteadyClock::duration>(
                           std::chrono::duration<double>(3 * a.latency_seconds));
  std::atomic<long> sent{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < lt; ++t)
    workers.emplace_back([&, t] {
      auto& c = *clients[static_cast<std::size_t>(t)];
      auto& mine = lat[static_cast<std::size_t>(t)];
      for (long i = t; i < total && SteadyClock::now() < deadline; i += lt) {
        auto due =
            t0 + std::chrono::duration_cast<SteadyClock::duration>(period * static_cast<double>(i));
        std::this_thread::sleep_until(due);
        call(c, "sqs", "AmazonSQS.SendMessage",
             json::object{{"QueueUrl", latency_queue}, {"MessageBody", body}});
        mine.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - due).count());
        ++sent;
      }
    });
  for (auto& w : workers) w.join();
  double elapsed = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  out.push_back({"sqs_send_message_p50", percentile(all, 0.50), "ms"});
  out.push_back({"sqs_send_message_p99", percentile(all, 0.99), "ms"});
  out.push_back(
      {"sqs_send_message_achieved_rate", static_cast<double>(sent) / elapsed, "requests/s"});
  out.push_back({"sqs_send_message_unsent", static_cast<double>(total - sent), "requests"});
  return out;
}

void print(const std::vector<Figure>& figures, const std::string& server) {
  for (const auto& f : figures) {
    std::printf("%s,%.*f,%s,%s\n", f.name.c_str(), f.unit == "ms" ? 3 : 0, f.value, f.unit.c_str(),
                server.c_str());
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  Args a = parse_args(argc, argv);
  std::printf(
      "# http bench: %d threads, %.0f s per throughput figure, SendMessage at %.0f/s for %.0f s, "
      "%zu-byte bodies\n",
      a.threads, a.seconds, a.rate, a.latency_seconds, a.body_size);
  std::printf("figure,value,unit,server\n");
  std::fflush(stdout);

  if (!a.endpoint.empty()) {
    print(measure(a, a.endpoint, "endpoint"), a.endpoint);
    return 0;
  }

  auto dir = std::filesystem::temp_directory_path() /
             ("orderflow-http-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::vector<Figure> ours;
  {
    Child server;
    std::string endpoint = start_orderflow(a.orderflow, (dir / "data").string(), server);
    ours = measure(a, endpoint, "orderflow");
    server.stop();
  }
  std::filesystem::remove_all(dir);
  print(ours, "orderflow");

  if (!a.moto) return 0;
  if (!on_path("moto_server")) {
    std::printf("# moto_server is not on PATH: no comparison\n");
    return 0;
  }
  Child moto;
  int port = free_port();
  moto.pid = spawn({"moto_server", "-H", "127.0.0.1", "-p", std::to_string(port)}, -1);
  for (int i = 0; !can_connect(port); ++i) {
    if (i > 300) die("moto_server did not start listening on port " + std::to_string(port));
    int status = 0;
    if (::waitpid(moto.pid, &status, WNOHANG) == moto.pid)
      moto.pid = -1, die("moto_server exited at start");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto theirs = measure(a, "http://127.0.0.1:" + std::to_string(port), "moto");
  moto.stop();
  print(theirs, "moto");
  for (std::size_t i = 0; i < ours.size() && i < theirs.size(); ++i)
    if (theirs[i].value > 0 && ours[i].unit != "requests")
      std::printf("%s,%.3g,x,ours/moto\n", ours[i].name.c_str(), ours[i].value / theirs[i].value);
  return 0;
}
