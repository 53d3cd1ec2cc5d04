// Engine benchmark (issue: embedded engine speed). Prints one line per figure.
//
//   orderflow_engine_bench [--messages N] [--backlog N] [--items N] [--threads N]
//                          [--depth N] [--put-threads N] [--dir DIR] [--no-sync]
//
// send_receive_delete_batch10: `--threads` threads send batches of 10 while as many others
// receive and delete them (blocking calls); send_receive_delete_batch10_async: `--threads`
// threads each keep `--depth` loops of send batch -> receive -> delete batch in flight through
// the async calls (as the server's io threads use the engine).
//
// All figures are with fsync on (every acknowledgement waits for its fsync), on the real Store in a temp directory.
#include <malloc.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "alternate.h"
#include "engine/queues.h"
#include "engine/store.h"
#include "engine/tables.h"

using namespace orderflow;
using namespace orderflow::engine;
using Clock_ = std::chrono::steady_clock;

namespace {

struct Args {
  long messages = 200'000;
  long backlog = 1'000'000;
  long items = 200'000;
  int threads = 4;
  int put_threads = 64;  // put-if-absent callers in flight at once (group commit shares fsyncs)
  int depth = 4;         // the async send + receive + delete: loops in flight per thread
  bool sync = true;
  std::string dir;
};

long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

double seconds_since(Clock_::time_point t) {
  return std::chrono::duration<double>(Clock_::now() - t).count();
}

void die(const std::string& what) {
  std::fprintf(stderr, "bench: %s\n", what.c_str());
  std::exit(1);
}

// The SendMessageBatch entries for messages [start, min(n, start + 10)), each with `body`.
std::vector<std::pair<std::string, SendRequest>> batch_of(long start, long n, const std::string& body) {
  std::vector<std::pair<std::string, SendRequest>> batch;
  for (long i = start; i < std::min(n, start + 10); ++i) {
    SendRequest r;
    r.body = body;
    batch.emplace_back("e" + std::to_string(i - start), std::move(r));
  }
  return batch;
}

// The DeleteMessageBatch entries for what a receive got.
std::vector<std::pair<std::string, std::string>> deletions_of(const std::vector<ReceivedMessage>& got) {
  std::vector<std::pair<std::string, std::string>> del;
  for (std::size_t i = 0; i < got.size(); ++i) del.emplace_back("d" + std::to_string(i), got[i].receipt_handle);
  return del;
}

// Fills `queue` with `n` messages of `size` bytes from `threads` threads in batches of 10.
void fill(Queues& q, const std::string& queue, long n, int threads, std::size_t size) {
  std::atomic<long> next{0};
  std::vector<std::thread> ts;
  std::string body(size, 'x');
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      for (;;) {
        long start = next.fetch_add(10);
        if (start >= n) return;
        auto res = q.send_batch(queue, batch_of(start, n, body));
        if (!res || !res->failed.empty()) die("send_batch failed");
      }
    });
  for (auto& t : ts) t.join();
}

// Counts deleted messages and remembers when the `n`th was deleted: the end of a figure. (The
// consumers still in a long poll then return only when their wait runs out, since no message
// comes; that wait is not the engine's time.)
class Deletions {
 public:
  explicit Deletions(long n) : n_(n) {}
  void add(long k) {
    long before = done_.fetch_add(k);
    if (before < n_ && before + k >= n_) end_ = Clock_::now();  // one caller crosses n
  }
  bool all() const { return done_.load() >= n_; }
  Clock_::time_point end() const { return end_; }  // after the consumers are joined

 private:
  long n_;
  std::atomic<long> done_{0};
  Clock_::time_point end_{};
};

// Receives and deletes `n` messages in batches of 10 from `threads` threads; returns when the
// last was deleted.
Clock_::time_point drain(Queues& q, const std::string& queue, long n, int threads) {
  Deletions deleted(n);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      while (!deleted.all()) {
        ReceiveRequest r;
        r.max_messages = 10;
        r.wait_seconds = 1;  // long polling, as a real consumer does: no spinning on an empty queue
        auto got = q.receive(queue, r);
        if (!got) die("receive failed: " + got.error().message);
        if (got->empty()) continue;
        auto d = q.delete_message_batch(queue, deletions_of(*got));
        if (!d || !d->failed.empty()) die("delete failed");
        deleted.add(static_cast<long>(got->size()));
      }
    });
  for (auto& t : ts) t.join();
  return deleted.end();
}

// send + receive + delete in batches of 10 from `threads` threads through the engine's async
// calls, as the server's io threads drive it: each thread runs `depth` loops (send a batch,
// receive up to 10, delete what it got) at once; the engine answers on its own threads and each
// answer is handed back to the thread that made the call, which makes the next call. Ends when
// `n` messages were sent and as many deleted.
double send_receive_delete_async(Queues& q, const std::string& queue, long n, int threads, int depth) {
  std::atomic<long> to_send{0};
  Deletions deleted(n);
  std::string body(250, 'x');
  auto t0 = Clock_::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      std::mutex mu;
      std::condition_variable cv;
      std::deque<std::function<void()>> inbox;  // answers handed back to this thread
      auto post = [&](std::function<void()> fn) {
        {
          std::lock_guard g(mu);
          inbox.push_back(std::move(fn));
        }
        cv.notify_one();
      };
      int running = depth;
      std::function<void()> step_send;
      std::function<void()> step_receive;
      auto finish = [&] { --running; };
      step_receive = [&] {
        if (deleted.all()) return finish();
        ReceiveRequest r;
        r.max_messages = 10;
        r.wait_seconds = 1;
        q.receive_async(queue, r, [&](Result<std::vector<ReceivedMessage>> got) {
          post([&, got = std::move(got)] {
            if (!got) die("receive failed: " + got.error().message);
            if (got->empty()) return step_send();
            long count = static_cast<long>(got->size());
            q.delete_message_batch_async(queue, deletions_of(*got), [&, count](Result<BatchOutcome<bool>> d) {
              post([&, count, ok = d && d->failed.empty()] {
                if (!ok) die("delete failed");
                deleted.add(count);
                step_send();
              });
            });
          });
        });
      };
      step_send = [&] {
        long start = to_send.fetch_add(10);
        if (start >= n) return step_receive();
        q.send_batch_async(queue, batch_of(start, n, body), [&](Result<BatchOutcome<SendResult>> res) {
          post([&, ok = res && res->failed.empty()] {
            if (!ok) die("send_batch failed");
            step_receive();
          });
        });
      };
      for (int i = 0; i < depth; ++i) step_send();
      std::unique_lock lk(mu);
      while (running > 0) {
        cv.wait(lk, [&] { return !inbox.empty(); });
        auto fn = std::move(inbox.front());
        inbox.pop_front();
        lk.unlock();
        fn();
        lk.lock();
      }
    });
  for (auto& t : ts) t.join();
  return n / std::chrono::duration<double>(deleted.end() - t0).count();
}

// Median and 99th percentile latency of a 4 KiB write + fdatasync in `dir`: the floor under
// every durable acknowledgement on this machine.
std::pair<double, double> fsync_latency_us(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  auto path = (dir / "fsync-probe").string();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) die("cannot open " + path);
  std::string block(4096, 'x');
  std::vector<double> lat;
  for (int i = 0; i < 200; ++i) {
    auto t = Clock_::now();
    if (::pwrite(fd, block.data(), block.size(), 0) != static_cast<ssize_t>(block.size()) || ::fdatasync(fd) != 0)
      die("fsync probe failed");
    lat.push_back(std::chrono::duration<double, std::micro>(Clock_::now() - t).count());
  }
  ::close(fd);
  std::filesystem::remove(path);
  std::sort(lat.begin(), lat.end());
  return {lat[lat.size() / 2], lat[lat.size() * 99 / 100]};
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--no-sync") {  // for finding the CPU ceiling only: nothing is durable
      a.sync = false;
      --i;
      continue;
    }
    if (i + 1 >= argc) die("missing value for " + k);
    if (k == "--messages") a.messages = std::atol(argv[i + 1]);
    else if (k == "--backlog") a.backlog = std::atol(argv[i + 1]);
    else if (k == "--items") a.items = std::atol(argv[i + 1]);
    else if (k == "--threads") a.threads = std::atoi(argv[i + 1]);
    else if (k == "--put-threads") a.put_threads = std::atoi(argv[i + 1]);
    else if (k == "--depth") a.depth = std::atoi(argv[i + 1]);
    else if (k == "--dir") a.dir = argv[i + 1];
    else die("unknown flag " + k);
  }
  std::filesystem::path dir = a.dir.empty() ? std::filesystem::temp_directory_path() /
                                                  ("orderflow-bench-" + std::to_string(::getpid()))
                                            : std::filesystem::path(a.dir);
  std::filesystem::remove_all(dir);
  auto [fsync_p50, fsync_p99] = fsync_latency_us(dir);
  RealClock clock;
  auto store = Store::open(dir, StoreOptions{.sync = a.sync});
  if (!store) die(store.error().message);
  auto queues = Queues::open(**store, clock);
  if (!queues) die(queues.error().message);
  Queues& q = **queues;
  std::printf("figure,value,unit\n");
  std::printf("fsync_4k_p50,%.0f,us\nfsync_4k_p99,%.0f,us\n", fsync_p50, fsync_p99);
  std::printf("rss_idle,%ld,KiB\n", rss_kb());

  // 1. send + receive + delete, batches of 10, `threads` threads doing both sides.
  if (!q.create_queue("pipe", {})) die("create");
  {
    auto t0 = Clock_::now();
    std::thread producer([&] { fill(q, "pipe", a.messages, a.threads, 250); });
    auto end = drain(q, "pipe", a.messages, a.threads);
    producer.join();
    double s = std::chrono::duration<double>(end - t0).count();
    std::printf("send_receive_delete_batch10,%.0f,messages/s\n", a.messages / s);
  }
  if (!q.create_queue("pipe-async", {})) die("create");
  std::printf("send_receive_delete_batch10_async,%.0f,messages/s,%d threads x %d in flight\n",
              send_receive_delete_async(q, "pipe-async", a.messages, a.threads, a.depth), a.threads,
              a.depth);
  // 2. receive rate on a small backlog vs a large one: the large queue is filled first, then
  // both are drained in alternating rounds (bench/alternate.h), the small queue refilled before
  // each of its rounds.
  if (!q.create_queue("small", {})) die("create");
  long probe = orderflow::bench::drain_total(a.backlog, a.threads, std::min<long>(a.messages, 100'000));
  if (!q.create_queue("backlog", {})) die("create");
  auto tf = Clock_::now();
  fill(q, "backlog", a.backlog, a.threads, 250);
  std::printf("send_batch10_fill,%.0f,messages/s\n", a.backlog / seconds_since(tf));
  std::printf("rss_with_backlog,%ld,KiB,%ld messages of 250 bytes\n", rss_kb(), a.backlog);
  std::printf("heap_in_use_with_backlog,%zu,KiB\n", mallinfo2().uordblks / 1024);
  auto [small_rate, big_rate] = orderflow::bench::alternating_drains(
      probe, [&](long n) { fill(q, "small", n, a.threads, 250); },
      [&](bool large, long n) {
        auto t = Clock_::now();
        return std::chrono::duration<double>(drain(q, large ? "backlog" : "small", n, a.threads) - t).count();
      });
  std::printf("receive_delete_small_backlog,%.0f,messages/s\n", small_rate);
  std::printf("receive_delete_large_backlog,%.0f,messages/s\n", big_rate);
  std::printf("large_vs_small_backlog,%.0f,%%\n", 100.0 * big_rate / small_rate);

  // 3. put-if-absent.
  {
    auto tables = Tables::open(**store, clock);
    if (!tables) die(tables.error().message);
    Tables& tb = **tables;
    CreateTableRequest ct;
    ct.table_name = "Orders";
    ct.key_schema = {{"orderId", KeyType::hash}};
    ct.attribute_definitions = {{"orderId", ScalarType::S}};
    ct.billing_mode = BillingMode::pay_per_request;
    if (auto r = tb.create_table(ct); !r) die(r.error().message);
    std::atomic<long> next{0};
    std::vector<std::thread> ts;
    auto t3 = Clock_::now();
    for (int t = 0; t < a.put_threads; ++t)
      ts.emplace_back([&] {
        for (;;) {
          long i = next.fetch_add(1);
          if (i >= a.items) return;
          PutItemRequest p;
          p.table_name = "Orders";
          p.item["orderId"] = ddb::AttributeValue(std::string("order-" + std::to_string(i)));
          p.item["total"] = ddb::AttributeValue(*ddb::Number::parse("12.50"));
          p.condition_expression = "attribute_not_exists(orderId)";
          if (auto r = tb.put_item(p); !r) die(r.error().error.message);
        }
      });
    for (auto& t : ts) t.join();
    std::printf("put_if_absent,%.0f,items/s,%d threads\n", a.items / seconds_since(t3), a.put_threads);
  }
  std::printf("store_commits,%llu,commits\n", static_cast<unsigned long long>((*store)->commits()));
  queues->reset();
  store->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
