// The whole local cloud of `orderflow up` (and `orderflow demo`) in one object: binds the
// port, opens the engine on the data directory, deploys the template into it, then listens and
// lets the functions' workers start. In that order, so that nothing listens before the stack is
// provisioned (GET /_orderflow/health answering 200 means: provisioned and serving) and no
// worker starts before its Runtime API can answer.
//
// Stopping (stop(), SIGINT/SIGTERM when handle_signals): the server drains -- the functions
// stop first (their parked Runtime API calls answered, workers killed; messages they held
// come back after their visibility timeout) -- then the engine closes its store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/engine.h"
#include "server/dashboard.h"
#include "server/server.h"
#include "stack/local_stack.h"

namespace orderflow::cli {

struct LocalCloudOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4566;
  std::string data_dir = ".orderflow";
  std::string region = "us-east-1";
  std::string access_key = "test";
  std::string secret_key = "test";
  int io_threads = 2;
  int handler_threads = 32;
  // Seconds a connection has to send a request's header (or, idle, its next one), and then the
  // body; a connection that misses either is closed.
  int read_timeout_seconds = 60;
  // Connections served at once (more wait in the backlog), and MiB of request bodies held at
  // once (more wait unread): server::ServerOptions.
  int max_connections = 4096;
  int request_memory_mib = 256;
  bool handle_signals = false;
  // The template; empty: serve the APIs without a stack.
  std::filesystem::path template_path;
  stack::ParameterOverrides parameters;
  std::string stack_name = "orderflow";
  std::string function_executable;  // empty: `bootstrap` beside this executable
  int max_workers = 8;              // per function, unless the template reserves concurrency
  // RSA key size of the SNS signing key, chosen when the data directory is created (kept after).
  // Every SNS envelope is signed: 2048 bits (AWS's) costs ~1 ms of CPU per message, 1024 ~0.15.
  int sns_signing_key_bits = 2048;
  // The dashboard (server/dashboard.h) at / . Its token: "auto" makes one when `host` is not a
  // loopback address (and none otherwise); "" never needs one; anything else is the token.
  bool dashboard = true;
  std::string dashboard_token = "auto";
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host);

class LocalCloud {
 public:
  // Starts everything; errors say what failed (bind, data directory, template, a resource).
  static Result<std::unique_ptr<LocalCloud>> start(const LocalCloudOptions& options);
  ~LocalCloud();  // stop() + wait()

  const std::string& base_url() const { return base_url_; }
  std::uint16_t port() const { return server_->port(); }
  engine::Engine& engine() { return *engine_; }
  // The stack after deployment (outputs, resources); nullopt without a template.
  const std::optional<stack::Deployment>& deployment() const { return deployment_; }
  // The dashboard's address (with ?token= when it needs one); empty when it is off.
  const std::string& dashboard_url() const { return dashboard_url_; }

  void stop();  // begins draining; idempotent
  void wait();  // until drained and closed

 private:
  LocalCloud() = default;
  std::string base_url_;
  std::string dashboard_url_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<server::Dashboard> dashboard_;  // uses engine_; destroyed before it
  std::optional<stack::Deployment> deployment_;
  bool closed_ = false;
};

// The template `up` uses when none is named: deploy/template.yaml under the working directory,
// else beside the source tree this binary was built in (../deploy/template.yaml from its
// directory, ../../deploy/... one level deeper); empty when none exists.
std::filesystem::path default_template_path();
// `bootstrap` beside the running executable.
std::filesystem::path default_function_executable();

// `--param Key=Value` arguments over `defaults`; a malformed one is a validation_error.
Result<stack::ParameterOverrides> parse_parameter_overrides(const std::vector<std::string>& params,
                                                            stack::ParameterOverrides defaults = {});

}  // namespace orderflow::cli
