#include "lambda/process_order.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <thread>

#include "common/util.h"
#include "orders/dynamodb_item.h"
#include "orders/json.h"

namespace orderflow::lambda {

namespace {

orders::StoreOutcome put_with(client::AwsClient& client, const std::string& table,
                              const orders::PutRequest& request) {
  std::string item = orders::to_json(
      orders::to_dynamodb_item(*request.order, request.received_at, request.message_id));
  auto r = client.dynamodb_put_item(table, item, kPutIfAbsentCondition);
  if (!r) return orders::StoreOutcome::error(r.error().describe(), r.error().retryable);
  return *r == client::PutItemOutcome::stored ? orders::StoreOutcome::stored()
                                              : orders::StoreOutcome::duplicate();
}

}  // namespace

// The helper threads. One put_all call is one Job: its requests are taken one at a time (an
// atomic index) by the calling thread and by the helpers it woke; the call returns once no
// helper is inside the job any more.
struct DynamoDbOrderStore::Pool {
  struct Job {
    std::span<const orders::PutRequest> requests;
    const std::function<bool()>* may_start = nullptr;
    std::vector<std::optional<orders::StoreOutcome>>* out = nullptr;
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stopped{false};  // a may_start() said no: nothing more starts
  };

  // Puts requests of `job` until none is left (or may_start says no). `client` is null when
  // the helper could not make one (`why`).
  static void work(Job& job, const std::string& table, client::AwsClient* client,
                   const std::string& why) {
    for (;;) {
      std::size_t i = job.next.fetch_add(1);
      if (i >= job.requests.size() || job.stopped) return;
      if (!(*job.may_start)()) {
        job.stopped = true;
        return;
      }
      (*job.out)[i] = client ? put_with(*client, table, job.requests[i])
                             : orders::StoreOutcome::error("no DynamoDB client: " + why, false);
    }
  }

  void helper(const std::string& table, const ClientFactory& factory) {
    std::unique_ptr<client::AwsClient> client;
    std::string why;
    bool made = false;
    std::uint64_t done = 0;  // the last generation this helper worked on
    for (;;) {
      Job* j = nullptr;
      {
        std::unique_lock lk(mu);
        wake.wait(lk, [&] { return stop || (job != nullptr && generation != done); });
        if (stop) return;
        done = generation;
        j = job;
        ++busy;
      }
      if (!made) {
        made = true;
        if (auto c = factory()) client = std::move(*c);
        else why = c.error();
      }
      work(*j, table, client.get(), why);
      std::lock_guard g(mu);
      if (--busy == 0) left.notify_all();
    }
  }

  std::mutex mu;
  std::condition_variable wake;  // helpers: a job came or stop
  std::condition_variable left;  // the caller: busy dropped to 0
  Job* job = nullptr;            // guarded by mu: the current job, if any
  std::uint64_t generation = 0;  // guarded by mu: counts jobs
  std::size_t busy = 0;          // guarded by mu: helpers inside the current job
  bool stop = false;             // guarded by mu
  std::vector<std::thread> threads;
};

DynamoDbOrderStore::DynamoDbOrderStore(client::AwsClient& client, std::string table,
                                       std::size_t concurrency, ClientFactory factory)
    : client_(client),
      table_(std::move(table)),
      concurrency_(std::max<std::size_t>(1, concurrency)),
      factory_(std::move(factory)) {}

DynamoDbOrderStore::~DynamoDbOrderStore() {
  if (!pool_) return;
  {
    std::lock_guard g(pool_->mu);
    pool_->stop = true;
  }
  pool_->wake.notify_all();
  for (auto& t : pool_->threads) t.join();
}

orders::StoreOutcome DynamoDbOrderStore::put_if_absent(const orders::Order& order,
                                                       std::string_view received_at,
                                                       std::string_view message_id) {
  return put_with(client_, table_, {&order, received_at, message_id});
}

std::vector<std::optional<orders::StoreOutcome>> DynamoDbOrderStore::put_all(
    std::span<const orders::PutRequest> requests, const std::function<bool()>& may_start) {
  if (requests.size() < 2 || concurrency_ < 2 || !factory_)
    return OrderStore::put_all(requests, may_start);
  if (!pool_) {
    pool_ = std::make_unique<Pool>();
    for (std::size_t i = 1; i < concurrency_; ++i)
      pool_->threads.push_back(named_thread("orders-put", [p = pool_.get(), this] { p->helper(table_, factory_); }));
  }
  std::vector<std::optional<orders::StoreOutcome>> out(requests.size());
  Pool::Job job;
  job.requests = requests;
  job.may_start = &may_start;
  job.out = &out;
  {
    std::lock_guard g(pool_->mu);
    pool_->job = &job;
    ++pool_->generation;
  }
  std::size_t helpers = std::min(requests.size() - 1, pool_->threads.size());
  for (std::size_t i = 0; i < helpers; ++i) pool_->wake.notify_one();
  Pool::work(job, table_, &client_, {});
  std::unique_lock lk(pool_->mu);
  pool_->left.wait(lk, [&] { return pool_->busy == 0; });
  pool_->job = nullptr;
  return out;
}

void StreamLogSink::write(std::string_view line) {
  std::lock_guard g(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fputc('\n', out_);
  std::fflush(out_);
}

Handler make_order_handler(orders::OrderStore& store, Clock& clock, orders::LogSink& log,
                           orders::ProcessOptions options) {
  return [&store, &clock, &log, options](const Invocation& invocation) {
    orders::ProcessOptions o = options;
    if (invocation.deadline != TimePoint{}) o.deadline = invocation.deadline;
    auto result = orders::process_sqs_event(invocation.payload, store, clock, log, o);
    if (!result) {
      std::string line = "{\"level\":\"ERROR\",\"message\":";
      orders::append_json_string(line, "invalid event: " + result.error().message);
      line += ",\"requestId\":";
      orders::append_json_string(line, invocation.request_id);
      log.write(line + "}");
      return InvocationResponse::failure("InvalidEvent", result.error().message);
    }
    return InvocationResponse::ok(std::move(result->response_body));
  };
}

}  // namespace orderflow::lambda
