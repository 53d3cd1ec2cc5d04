// The embedded cloud: one data directory, one Store, and the services built on it.
// This is the engine layer's public entry point; protocol adapters and commands reach the
// services through it.
//
// Lifetime: services are destroyed before the store (reverse order of opening), so every
// acknowledged write is on disk when the Engine is gone.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/result.h"
#include "engine/lambda.h"
#include "engine/logs.h"
#include "engine/metrics.h"
#include "engine/queues.h"
#include "engine/store.h"
#include "engine/tables.h"
#include "engine/topics.h"

namespace orderflow::engine {

struct EngineOptions {
  std::filesystem::path data_dir;
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // Base URL that clients reach us at (queue URLs, SNS SigningCertURL).
  std::string base_url = "http://localhost:4566";
  StoreOptions store;
  int sns_signing_key_bits = 2048;
  // Generate a new data directory's SNS signing key in the background (TopicsOptions).
  bool sns_key_in_background = false;
  // Functions: what workers are told (credentials, endpoint, Runtime API address). Region and
  // account come from above.
  FunctionsOptions functions;
  // Starts function workers; null: the real posix_spawn launcher.
  std::function<std::unique_ptr<ProcessLauncher>()> make_launcher;
  // How often a metrics sample is taken (metrics.h), in real time; 0: never (tests sample by
  // hand with sample_metrics()).
  Millis metrics_interval{1000};
  MetricsOptions metrics;
};

class Engine {
 public:
  // Opens (or creates) the data directory and loads every service's state from it.
  static Result<std::unique_ptr<Engine>> open(const EngineOptions& options, Clock& clock);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Store& store() { return *store_; }
  Queues& queues() { return *queues_; }
  Topics& topics() { return *topics_; }
  Tables& tables() { return *tables_; }
  Logs& logs() { return *logs_; }
  Lambda& lambda() { return *lambda_; }
  Metrics& metrics() { return *metrics_; }
  // Takes one metrics sample now and adds it to the history.
  void sample_metrics();
  Clock& clock() { return clock_; }
  const EngineOptions& options() const { return options_; }

 private:
  Engine(EngineOptions options, Clock& clock) : options_(std::move(options)), clock_(clock) {}
  EngineOptions options_;
  Clock& clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Queues> queues_;
  std::unique_ptr<Topics> topics_;
  std::unique_ptr<Tables> tables_;
  std::unique_ptr<Logs> logs_;  // declared after the store: destroyed before it
  std::unique_ptr<Metrics> metrics_;  // forwards to logs_
  std::unique_ptr<Lambda> lambda_;  // uses queues and metrics_ (its log sink)

  // The sampler thread (options_.metrics_interval).
  void run_sampler();
  std::mutex sampler_mu_;
  std::condition_variable sampler_cv_;
  bool sampler_stop_ = false;  // guarded by sampler_mu_
  SampleState sample_state_;   // guarded by sampler_mu_
  std::thread sampler_;
};

}  // namespace orderflow::engine
