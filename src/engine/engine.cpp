#include "engine/engine.h"

namespace orderflow::engine {

Engine::~Engine() {
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
  FunctionsOptions fo = options.functions;
  fo.region = options.region;
  fo.account_id = options.account_id;
  auto lambda = Lambda::open(clock, *e->queues_, *e->logs_, std::move(fo),
                             options.make_launcher ? options.make_launcher() : nullptr);
  if (!lambda) return std::unexpected(lambda.error());
  e->lambda_ = std::move(*lambda);
  return e;
}

}  // namespace orderflow::engine
