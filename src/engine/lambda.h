// Lambda, locally: the functions service with its worker launcher, and the event source
// mappings that feed functions from queues. What `orderflow up` runs and the stack provisions.
//
// Mappings are identified by a UUID, as on AWS. Creating one validates it against the queues
// and functions (EventSourceMapping::create) and starts polling when enabled; updating one
// replaces it (the old poller stops; invocations it had in flight complete, their messages'
// results are dropped and they reappear after the visibility timeout -- nothing is lost);
// deleting one stops it.
//
// Functions and mappings live in memory: the stack provisions them on every start from the
// template (their queues, tables and logs are durable in the engine).
//
// Shutdown order (destructor or shutdown()): mappings stop first (no new invocations), then
// the functions service answers parked Runtime API calls and kills every worker, then the
// launcher reaps them. shutdown() is idempotent and lets an HTTP server drain: afterwards no
// Runtime API request stays parked.
//
// Thread-safety: every method is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "engine/event_source_mapping.h"
#include "engine/functions.h"
#include "engine/process_launcher.h"
#include "engine/queues.h"

namespace orderflow::engine {

class Lambda {
 public:
  // `launcher` null: the real posix_spawn launcher. `queues` and `logs` must outlive Lambda.
  static Result<std::unique_ptr<Lambda>> open(Clock& clock, Queues& queues, LogSink& logs, FunctionsOptions options,
                                              std::unique_ptr<ProcessLauncher> launcher = nullptr);
  ~Lambda();
  Lambda(const Lambda&) = delete;
  Lambda& operator=(const Lambda&) = delete;

  Functions& functions() { return *functions_; }

  struct MappingInfo {
    std::string uuid;
    std::string arn;  // arn:aws:lambda:<region>:<account>:event-source-mapping:<uuid>
    EventSourceMappingConfig config;
    EventSourceMapping::Stats stats;
  };
  // Returns the new mapping's UUID.
  Result<std::string> create_mapping(EventSourceMappingConfig config);
  // A mapping with this UUID (the stack keeps UUIDs across restarts): create_mapping() under a
  // given id; replaces one that exists.
  Status put_mapping(std::string uuid, EventSourceMappingConfig config);
  Status delete_mapping(std::string_view uuid);
  std::optional<MappingInfo> mapping(std::string_view uuid) const;
  std::vector<MappingInfo> mappings() const;
  std::string mapping_arn(std::string_view uuid) const;

  void shutdown();

 private:
  Lambda(Clock& clock, Queues& queues, FunctionsOptions options)
      : clock_(clock), queues_(queues), options_(std::move(options)) {}
  Clock& clock_;
  Queues& queues_;
  FunctionsOptions options_;
  std::unique_ptr<ProcessLauncher> launcher_;
  std::unique_ptr<Functions> functions_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<EventSourceMapping>, std::less<>> mappings_;  // guarded by mu_
  bool stopped_ = false;                                                              // guarded by mu_
};

}  // namespace orderflow::engine
