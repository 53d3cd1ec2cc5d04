// HTTP benchmark (issues 3 and 9): the same C++ client (AwsClient: libcurl, SigV4, keep-alive,
// one client per thread) against `orderflow up`, against moto when `moto_server` is on PATH, or
// against any endpoint.
//
//   orderflow_http_bench [--orderflow PATH] [--endpoint URL] [--sqs-endpoint URL]
//                        [--dynamodb-endpoint URL] [--label NAME] [--server-pids P,Q]
//                        [--no-moto] [--threads N] [--seconds S] [--latency-seconds S]
//                        [--rate R] [--backlog N] [--table-items N] [--smoke]
//
// --orderflow PATH       the `orderflow` binary: started as `orderflow up --port 0 --data-dir TMP`
// --endpoint URL         measure this endpoint instead (nothing is started; no moto comparison)
// --sqs-endpoint URL     the same for SQS alone, --dynamodb-endpoint for DynamoDB alone (a peer
//                        made of two servers, like fauxqs + dynalite)
// --label NAME           the server column of the CSV in endpoint mode (default: the URL)
// --server-pids P,Q      the server's processes (endpoint mode): their RSS, with descendants, is
//                        reported after the backlog is filled
// --backlog N            scale: fill a queue with N messages, then receive + delete from it vs
//                        from a queue holding few (0: skip; default 0)
// --seconds S            each throughput figure's duration (0: skip figures (a)-(c));
//                        --latency-seconds S the same for the latency figures (0: skip)
// --table-items N        scale: fill a table with N items (BatchWriteItem of 25), then PutItem
//                        and GetItem on it vs on the nearly empty table (0: skip; default 0)
//
// Figures (CSV: figure,value,unit,server):
//   sqs_send_receive_delete_batch10  messages/s  each thread loops SendMessageBatch(10) +
//                                                ReceiveMessage(10) + DeleteMessageBatch on
//                                                its own queue, for --seconds
//   sqs_send_message                 requests/s  each thread loops SendMessage (one message)
//   sqs_receive_delete_message       messages/s  each thread loops ReceiveMessage (at most 1) +
//                                                DeleteMessage on the queue it filled above
//   dynamodb_put_item                requests/s  each thread loops PutItem on a new table
//   dynamodb_get_item                requests/s  each thread loops GetItem of keys it put
//   sqs_send_message_p50 / _p99      ms          open loop: one SendMessage every 1/--rate s by
//                                                schedule (not when the previous one returned),
//                                                latency measured from the scheduled time
//   sqs_send_message_achieved_rate   requests/s  what that schedule achieved
//   sqs_send_message_unsent          requests    abandoned at 3x the planned duration (a server
//                                                that cannot keep up); 0 normally
//   scale (--backlog): sqs_backlog_fill (messages/s), rss_with_backlog (KiB, with
//     --server-pids or the started orderflow), sqs_receive_delete_small_backlog and
//     _large_backlog (messages/s: ReceiveMessage(10) + DeleteMessageBatch by --threads threads
//     until min(N, 50,000) messages are gone, in 4 alternating rounds of a quarter each, the
//     small queue refilled before each: bench/alternate.h), large_vs_small_backlog (%)
//   scale (--table-items): dynamodb_table_fill (items/s), dynamodb_put_item_large_table and
//     dynamodb_get_item_large_table (requests/s), and their % of the figures on the small table
// then, with moto, the same figures as `<figure>,<ours/moto>,x,ours/moto` (for latencies a
// ratio under 1 means ours is faster). Asserts nothing about speed.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
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

#include "alternate.h"
#include "support.h"
#include "client/aws_client.h"

using namespace orderflow;
using namespace orderflow::bench;
using SteadyClock = std::chrono::steady_clock;
namespace json = boost::json;

namespace {

struct Args {
  std::string orderflow = "orderflow";
  std::string sqs_endpoint, dynamodb_endpoint, label;
  std::vector<pid_t> server_pids;
  bool moto = true;
  int threads = 16;
  double seconds = 10;
  double latency_seconds = 10;
  double rate = 1000;
  int latency_threads = 16;
  std::size_t body_size = 256;
  long backlog = 0;
  long table_items = 0;
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
      a.sqs_endpoint = a.dynamodb_endpoint = value();
    else if (f == "--sqs-endpoint")
      a.sqs_endpoint = value();
    else if (f == "--dynamodb-endpoint")
      a.dynamodb_endpoint = value();
    else if (f == "--label")
      a.label = value();
    else if (f == "--server-pids")
      a.server_pids = parse_pids(value());
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
    else if (f == "--backlog")
      a.backlog = std::max(0L, std::atol(value().c_str()));
    else if (f == "--table-items")
      a.table_items = std::max(0L, std::atol(value().c_str()));
    else if (f == "--smoke")
      a.seconds = 1, a.latency_seconds = 1, a.threads = 4, a.rate = 200;
    else
      die("unknown flag " + f + " (see the comment at the top of bench/http_bench.cpp)");
  }
  if (a.seconds < 0 || a.latency_seconds < 0 || a.rate <= 0)
    die("durations must be >= 0 (0 skips those figures) and the rate > 0");
  if (a.sqs_endpoint.empty() != a.dynamodb_endpoint.empty())
    die("--sqs-endpoint and --dynamodb-endpoint go together (or --endpoint for both)");
  return a;
}

struct Figure {
  std::string name;
  double value;
  std::string unit;
};

struct Target {
  std::string sqs, dynamodb;
  std::vector<pid_t> pids;  // the server's processes, for RSS; may be empty
  std::unique_ptr<client::AwsClient> client() const { return make_client(sqs, dynamodb); }
};

// Runs `body(thread_index, client, stop)` on `threads` threads for `seconds`; returns the sum
// of what the bodies return divided by the elapsed time.
template <class Body>
double run_for(const Target& target, int threads, double seconds, Body body) {
  std::vector<std::unique_ptr<client::AwsClient>> clients;
  for (int i = 0; i < threads; ++i) clients.push_back(target.client());
  std::atomic<bool> stop{false};
  std::atomic<long> total{0};
  std::atomic<int> finished{0};
  std::vector<std::thread> workers;
  auto t0 = SteadyClock::now();
  for (int i = 0; i < threads; ++i)
    workers.emplace_back([&, i] {
      total += body(i, *clients[static_cast<std::size_t>(i)], stop);
      ++finished;
    });
  // Until `seconds` have passed, or every body has returned on its own (ran out of work).
  auto end = t0 + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(seconds));
  while (SteadyClock::now() < end && finished.load() < threads)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop = true;
  for (auto& w : workers) w.join();
  double elapsed = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  return static_cast<double>(total.load()) / elapsed;
}

// Runs `body(index, client)` for index = 0, step, 2*step ... < n on `threads` threads, each
// taking the next index; returns n / elapsed seconds.
template <class Body>
double run_count(const Target& target, int threads, long n, long step, Body body) {
  std::atomic<long> next{0};
  std::vector<std::thread> workers;
  auto t0 = SteadyClock::now();
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      auto c = target.client();
      for (;;) {
        long i = next.fetch_add(step);
        if (i >= n) return;
        body(i, *c);
      }
    });
  for (auto& w : workers) w.join();
  return static_cast<double>(n) / std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

json::array receipt_entries(const json::value& got) {
  json::array del;
  if (auto* obj = got.if_object(); obj && obj->contains("Messages")) {
    int k = 0;
    for (const auto& m : obj->at("Messages").as_array())
      del.push_back(json::object{{"Id", "d" + std::to_string(k++)}, {"ReceiptHandle", m.at("ReceiptHandle")}});
  }
  return del;
}

void send_batch(client::AwsClient& c, const std::string& url, const std::string& body, int n) {
  json::array entries;
  for (int k = 0; k < n; ++k) entries.push_back(json::object{{"Id", "m" + std::to_string(k)}, {"MessageBody", body}});
  auto r = call(c, "sqs", "AmazonSQS.SendMessageBatch", json::object{{"QueueUrl", url}, {"Entries", std::move(entries)}});
  if (auto* obj = r.if_object(); obj && obj->contains("Failed") && !obj->at("Failed").as_array().empty())
    die("SendMessageBatch: some entries failed: " + json::serialize(r));
}

// Receives (10 at a time) and deletes `n` messages from `url` on `threads` threads; the seconds
// until the `n`th was deleted. (The threads still in a long poll then return only when their
// wait runs out, since no message comes; that wait is not the server's time.)
double drain(const Target& target, const std::string& url, long n, int threads) {
  std::atomic<long> done{0};
  SteadyClock::time_point end{};  // written by the one thread whose delete reaches n
  std::vector<std::thread> workers;
  auto t0 = SteadyClock::now();
  auto give_up = t0 + std::chrono::seconds(600);
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      auto c = target.client();
      while (done.load() < n) {
        if (SteadyClock::now() > give_up) die("draining the queue took more than 600 s");
        auto got = call(*c, "sqs", "AmazonSQS.ReceiveMessage",
                        json::object{{"QueueUrl", url}, {"MaxNumberOfMessages", 10}, {"WaitTimeSeconds", 1}});
        auto del = receipt_entries(got);
        if (del.empty()) continue;
        long k = static_cast<long>(del.size());
        call(*c, "sqs", "AmazonSQS.DeleteMessageBatch", json::object{{"QueueUrl", url}, {"Entries", std::move(del)}});
        long before = done.fetch_add(k);
        if (before < n && before + k >= n) end = SteadyClock::now();
      }
    });
  for (auto& w : workers) w.join();
  return std::chrono::duration<double>(end - t0).count();
}

void create_table(client::AwsClient& c, const std::string& table) {
  call(c, "dynamodb", "DynamoDB_20120810.CreateTable",
       json::object{
           {"TableName", table},
           {"AttributeDefinitions", json::array{json::object{{"AttributeName", "pk"}, {"AttributeType", "S"}}}},
           {"KeySchema", json::array{json::object{{"AttributeName", "pk"}, {"KeyType", "HASH"}}}},
           {"BillingMode", "PAY_PER_REQUEST"}});
  for (int tries = 0;; ++tries) {  // wait until ACTIVE (dynalite takes 500 ms; AWS longer)
    auto d = call(c, "dynamodb", "DynamoDB_20120810.DescribeTable", json::object{{"TableName", table}});
    if (d.at("Table").at("TableStatus").as_string() == "ACTIVE") break;
    if (tries > 300) die("table never became ACTIVE");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

json::object item_of(const std::string& key, const std::string& body, long n) {
  return json::object{{"pk", json::object{{"S", key}}},
                      {"payload", json::object{{"S", body}}},
                      {"n", json::object{{"N", std::to_string(n)}}}};
}

// Loops PutItem of new keys (prefix + thread + counter) for `seconds`; requests/s. Each thread's
// count goes to `counts` when given.
double put_items(const Target& target, const Args& a, const std::string& table, const std::string& prefix,
                 const std::string& body, std::vector<long>* counts) {
  if (counts) counts->assign(static_cast<std::size_t>(a.threads), 0);
  return run_for(target, a.threads, a.seconds, [&](int t, client::AwsClient& c, std::atomic<bool>& stop) {
    long done = 0;
    std::string p = prefix + std::to_string(t) + "-";
    while (!stop) {
      call(c, "dynamodb", "DynamoDB_20120810.PutItem",
           json::object{{"TableName", table}, {"Item", item_of(p + std::to_string(done), body, done)}});
      ++done;
    }
    if (counts) (*counts)[static_cast<std::size_t>(t)] = done;
    return done;
  });
}

// Loops GetItem of random existing keys (`key(thread, random)` names one) for `seconds`.
template <class Key>
double get_items(const Target& target, const Args& a, const std::string& table, Key key) {
  return run_for(target, a.threads, a.seconds, [&](int t, client::AwsClient& c, std::atomic<bool>& stop) {
    long done = 0;
    std::uint64_t x = 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(t + 1);
    while (!stop) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift
      std::string k = key(t, x);
      auto got = call(c, "dynamodb", "DynamoDB_20120810.GetItem",
                      json::object{{"TableName", table}, {"Key", json::object{{"pk", json::object{{"S", k}}}}}});
      if (!got.is_object() || !got.as_object().contains("Item")) die("GetItem found no item for " + k);
      ++done;
    }
    return done;
  });
}

std::vector<Figure> measure(const Args& a, const Target& target, const std::string& label) {
  std::vector<Figure> out;
  auto setup = target.client();
  std::string run_id = std::to_string(::getpid()) + "-" + label;
  for (auto& ch : run_id)  // names of queues and tables: letters, digits, - and _
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') ch = '-';
  std::string body(a.body_size, 'x');
  auto emit = [&](const std::string& name, double value, const std::string& unit) {
    out.push_back({name, value, unit});
    std::fprintf(stderr, "bench: %s %s %.3f %s\n", label.c_str(), name.c_str(), value, unit.c_str());
  };

  double put_rate = 0, get_rate = 0;
  if (a.seconds > 0) {
    // (a) SendMessageBatch(10) + ReceiveMessage(10) + DeleteMessageBatch, one queue per thread.
    std::vector<std::string> queues;
    for (int i = 0; i < a.threads; ++i)
      queues.push_back(create_queue(*setup, "bench-" + run_id + "-" + std::to_string(i)));
    double batch_rate = run_for(target, a.threads, a.seconds, [&](int t, client::AwsClient& c, std::atomic<bool>& stop) {
      const std::string& url = queues[static_cast<std::size_t>(t)];
      long done = 0;
      while (!stop) {
        send_batch(c, url, body, 10);
        auto got = call(c, "sqs", "AmazonSQS.ReceiveMessage",
                        json::object{{"QueueUrl", url}, {"MaxNumberOfMessages", 10}, {"WaitTimeSeconds", 0}});
        json::array del = receipt_entries(got);
        if (del.empty()) continue;
        long n = static_cast<long>(del.size());
        call(c, "sqs", "AmazonSQS.DeleteMessageBatch", json::object{{"QueueUrl", url}, {"Entries", std::move(del)}});
        done += n;
      }
      return done;
    });
    emit("sqs_send_receive_delete_batch10", batch_rate, "messages/s");

    // (b) single messages: SendMessage into a fresh queue per thread, then ReceiveMessage (1) +
    // DeleteMessage from it.
    std::vector<std::string> single;
    for (int i = 0; i < a.threads; ++i)
      single.push_back(create_queue(*setup, "bench-single-" + run_id + "-" + std::to_string(i)));
    double send_rate = run_for(target, a.threads, a.seconds, [&](int t, client::AwsClient& c, std::atomic<bool>& stop) {
      long done = 0;
      while (!stop) {
        call(c, "sqs", "AmazonSQS.SendMessage",
             json::object{{"QueueUrl", single[static_cast<std::size_t>(t)]}, {"MessageBody", body}});
        ++done;
      }
      return done;
    });
    emit("sqs_send_message", send_rate, "requests/s");
    double receive_rate = run_for(target, a.threads, a.seconds, [&](int t, client::AwsClient& c, std::atomic<bool>& stop) {
      long done = 0;
      const std::string& url = single[static_cast<std::size_t>(t)];
      while (!stop) {
        auto got = call(c, "sqs", "AmazonSQS.ReceiveMessage",
                        json::object{{"QueueUrl", url}, {"MaxNumberOfMessages", 1}, {"WaitTimeSeconds", 0}});
        auto del = receipt_entries(got);
        if (del.empty()) break;  // this thread's queue is empty: it stops counting
        call(c, "sqs", "AmazonSQS.DeleteMessage",
             json::object{{"QueueUrl", url}, {"ReceiptHandle", del[0].at("ReceiptHandle")}});
        ++done;
      }
      return done;
    });
    emit("sqs_receive_delete_message", receive_rate, "messages/s");

    // (c) PutItem and GetItem.
    std::string table = "bench-" + run_id;
    create_table(*setup, table);
    std::vector<long> counts;
    ::sync();  // starts on a settled disk, not in the write-back of the SQS figures before it
    put_rate = put_items(target, a, table, "t", body, &counts);
    emit("dynamodb_put_item", put_rate, "requests/s");
    for (auto& n : counts) n = std::max(1L, n);  // a thread that put nothing reads key 0 of thread 0
    get_rate = get_items(target, a, table, [&](int t, std::uint64_t r) {
      std::size_t th = counts[static_cast<std::size_t>(t)] > 1 ? static_cast<std::size_t>(t) : 0;
      return "t" + std::to_string(th) + "-" + std::to_string(r % static_cast<std::uint64_t>(counts[th]));
    });
    emit("dynamodb_get_item", get_rate, "requests/s");
  }

  // (d) SendMessage at a fixed offered rate, open loop (open_loop() in support.h): latency
  // counts from when a request was due, so a late send counts; a server that cannot keep up
  // falls ever further behind and the rest is abandoned at 3x the planned duration (then the
  // latencies are of the requests sent, a lower bound).
  if (a.latency_seconds > 0) {
    std::string latency_queue = create_queue(*setup, "bench-latency-" + run_id);
    long total = static_cast<long>(a.rate * a.latency_seconds);
    int lt = a.latency_threads;
    std::vector<std::unique_ptr<client::AwsClient>> clients;
    for (int i = 0; i < lt; ++i) clients.push_back(target.client());
    std::vector<std::vector<double>> lat(static_cast<std::size_t>(lt));
    std::atomic<long> sent{0};
    double elapsed = open_loop(total, lt, a.rate, [&](int t, long, SteadyClock::time_point due) {
      call(*clients[static_cast<std::size_t>(t)], "sqs", "AmazonSQS.SendMessage",
           json::object{{"QueueUrl", latency_queue}, {"MessageBody", body}});
      lat[static_cast<std::size_t>(t)].push_back(
          std::chrono::duration<double, std::milli>(SteadyClock::now() - due).count());
      ++sent;
    });
    std::vector<double> all;
    for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
    emit("sqs_send_message_p50", percentile(all, 0.50), "ms");
    emit("sqs_send_message_p99", percentile(all, 0.99), "ms");
    emit("sqs_send_message_achieved_rate", static_cast<double>(sent) / elapsed, "requests/s");
    emit("sqs_send_message_unsent", static_cast<double>(total - sent), "requests");
  }

  // (e) scale: a large backlog vs a small one.
  if (a.backlog > 0) {
    long probe = drain_total(a.backlog, a.threads, 50'000);
    int fill_threads = std::min(a.threads, 8);
    std::string small = create_queue(*setup, "bench-small-" + run_id);
    std::string large = create_queue(*setup, "bench-backlog-" + run_id);
    double fill_rate = run_count(target, fill_threads, a.backlog, 10, [&](long i, client::AwsClient& c) {
      send_batch(c, large, body, static_cast<int>(std::min<long>(10, a.backlog - i)));
    });
    emit("sqs_backlog_fill", fill_rate, "messages/s");
    if (!target.pids.empty()) emit("rss_with_backlog", static_cast<double>(tree_rss_kib(target.pids)), "KiB");
    // In alternating rounds (bench/alternate.h), the small queue refilled before each.
    auto [small_rate, large_rate] = alternating_drains(
        probe,
        [&](long n) {
          run_count(target, fill_threads, n, 10, [&](long i, client::AwsClient& c) {
            send_batch(c, small, body, static_cast<int>(std::min<long>(10, n - i)));
          });
        },
        [&](bool is_large, long n) { return drain(target, is_large ? large : small, n, a.threads); });
    emit("sqs_receive_delete_small_backlog", small_rate, "messages/s");
    emit("sqs_receive_delete_large_backlog", large_rate, "messages/s");
    emit("large_vs_small_backlog", 100.0 * large_rate / small_rate, "%");
  }

  // (f) scale: a large table vs the small one of (c).
  if (a.table_items > 0) {
    std::string big = "bench-large-" + run_id;
    create_table(*setup, big);
    int fill_threads = std::min(a.threads, 8);
    double fill_rate = run_count(target, fill_threads, a.table_items, 25, [&](long i, client::AwsClient& c) {
      json::array requests;
      for (long k = i; k < std::min(a.table_items, i + 25); ++k)
        requests.push_back(json::object{{"PutRequest", json::object{{"Item", item_of("k" + std::to_string(k), body, k)}}}});
      json::value req = json::object{{"RequestItems", json::object{{big, std::move(requests)}}}};
      for (int attempt = 0;; ++attempt) {
        auto r = call(c, "dynamodb", "DynamoDB_20120810.BatchWriteItem", req);
        auto* un = r.is_object() ? r.as_object().if_contains("UnprocessedItems") : nullptr;
        if (!un || !un->is_object() || un->as_object().empty()) break;
        if (attempt > 100) die("BatchWriteItem kept leaving items unprocessed");
        req = json::object{{"RequestItems", *un}};
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
    emit("dynamodb_table_fill", fill_rate, "items/s");
    if (!target.pids.empty()) emit("rss_with_large_table", static_cast<double>(tree_rss_kib(target.pids)), "KiB");
    ::sync();  // as for the small table: not in the write-back of the fill
    double big_put = put_items(target, a, big, "p", body, nullptr);
    double big_get = get_items(target, a, big, [&](int, std::uint64_t r) {
      return "k" + std::to_string(r % static_cast<std::uint64_t>(a.table_items));
    });
    emit("dynamodb_put_item_large_table", big_put, "requests/s");
    emit("dynamodb_get_item_large_table", big_get, "requests/s");
    if (put_rate > 0) emit("large_vs_small_table_put", 100.0 * big_put / put_rate, "%");
    if (get_rate > 0) emit("large_vs_small_table_get", 100.0 * big_get / get_rate, "%");
  }
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
      "%zu-byte bodies, backlog %ld, table items %ld\n",
      a.threads, a.seconds, a.rate, a.latency_seconds, a.body_size, a.backlog, a.table_items);
  std::printf("figure,value,unit,server\n");
  std::fflush(stdout);

  if (!a.sqs_endpoint.empty()) {
    Target t{a.sqs_endpoint, a.dynamodb_endpoint, a.server_pids};
    std::string label = a.label.empty() ? a.sqs_endpoint : a.label;
    print(measure(a, t, label), label);
    return 0;
  }

  auto dir = std::filesystem::temp_directory_path() /
             ("orderflow-http-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::vector<Figure> ours;
  {
    Child server;
    std::string endpoint = start_orderflow(a.orderflow, (dir / "data").string(), server);
    ours = measure(a, Target{endpoint, endpoint, {server.pid}}, "orderflow");
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
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  Args ma = a;
  ma.backlog = ma.table_items = 0;  // the scale figures are ours only
  auto theirs = measure(ma, Target{url, url, {moto.pid}}, "moto");
  moto.stop();
  print(theirs, "moto");
  for (std::size_t i = 0; i < ours.size(); ++i)
    for (const auto& t : theirs)
      if (t.name == ours[i].name && t.value > 0 && ours[i].unit != "requests")
        std::printf("%s,%.3g,x,ours/moto\n", ours[i].name.c_str(), ours[i].value / t.value);
  return 0;
}
