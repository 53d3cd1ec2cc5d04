#include "engine/engine.h"

#include "common/util.h"

namespace orderflow::engine {

Engine::~Engine() {
  {
    std::lock_guard g(sampler_mu_);
    sampler_stop_ = true;
  }
  sampler_cv_.notify_all();
  if (sampler_.joinable()) sampler_.join();
  lambda_.reset();  // first: workers and pollers use the services below
  logs_.reset();
  tables_.reset();
  topics_.reset();
  queues_.reset();
  store_.reset();
}

Result<std::unique_ptr<Engine>> Engine::open(const EngineOptions& options, Clock& clock) {
  std::unique_ptr<Engine> e(new Engine(options, clock));
  auto store = Store::open(options.data_dir, options.store);
  if (!store) return std::unexpected(store.error());
  e->store_ = std::move(*store);
  QueuesOptions qo;
  qo.region = options.region;
  qo.account_id = options.account_id;
  auto queues = Queues::open(*e->store_, clock, qo);
  if (!queues) return std::unexpected(queues.error());
  e->queues_ = std::move(*queues);
  TopicsOptions to;
  to.region = options.region;
  to.account_id = options.account_id;
  to.base_url = options.base_url;
  to.signing_key_bits = options.sns_signing_key_bits;
  to.generate_key_in_background = options.sns_key_in_background;
  auto topics = Topics::open(*e->store_, clock, *e->queues_, to);
  if (!topics) return std::unexpected(topics.error());
  e->topics_ = std::move(*topics);
  TablesOptions tbo;
  tbo.region = options.region;
  tbo.account_id = options.account_id;
  auto tables = Tables::open(*e->store_, clock, tbo);
  if (!tables) return std::unexpected(tables.error());
  e->tables_ = std::move(*tables);
  LogsOptions lo;
  lo.region = options.region;
  lo.account_id = options.account_id;
  auto logs = Logs::open(*e->store_, clock, lo);
  if (!logs) return std::unexpected(logs.error());
  e->logs_ = std::move(*logs);
  e->metrics_ = std::make_unique<Metrics>(*e->logs_, options.metrics);
  FunctionsOptions fo = options.functions;
  fo.region = options.region;
  fo.account_id = options.account_id;
  auto lambda = Lambda::open(clock, *e->queues_, *e->metrics_, std::move(fo),
                             options.make_launcher ? options.make_launcher() : nullptr);
  if (!lambda) return std::unexpected(lambda.error());
  e->lambda_ = std::move(*lambda);
  if (options.metrics_interval.count() > 0)
    e->sampler_ = named_thread("of-metrics", [raw = e.get()] { raw->run_sampler(); });
  return e;
}

void Engine::sample_metrics() {
  std::lock_guard g(sampler_mu_);
  metrics_->add_sample(sample_engine(*this, *metrics_, sample_state_));
}

void Engine::run_sampler() {
  auto next = std::chrono::steady_clock::now();
  std::unique_lock lock(sampler_mu_);
  while (!sampler_stop_) {
    next += options_.metrics_interval;
    if (sampler_cv_.wait_until(lock, next, [&] { return sampler_stop_; })) break;
    metrics_->add_sample(sample_engine(*this, *metrics_, sample_state_));
    // Fell behind (a stopped process, a slow store): start again from now.
    if (auto now = std::chrono::steady_clock::now(); now > next + options_.metrics_interval) next = now;
  }
}

}  // namespace orderflow::engine
