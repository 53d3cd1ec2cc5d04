// `orderflow up`: the whole local cloud in one process. Opens the engine on the data
// directory, then listens (nothing listens before the engine is open), prints where, and
// drains on SIGINT/SIGTERM: stops accepting, finishes requests in progress, closes the store.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "common/clock.h"
#include "engine/engine.h"
#include "server/router.h"
#include "server/server.h"

namespace orderflow::cli {
namespace {

struct UpOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4566;
  std::string data_dir = ".orderflow";
  std::string region = "us-east-1";
  std::string access_key = "test";
  std::string secret_key = "test";
  int io_threads = 2;
  int handler_threads = 32;
};

int run_up(const UpOptions& o) {
  server::ServerOptions so;
  so.host = o.host;
  so.port = o.port;
  so.io_threads = o.io_threads;
  so.handler_threads = o.handler_threads;
  so.handle_signals = true;
  auto bound = server::Server::bind(so);
  if (!bound) {
    std::fprintf(stderr, "orderflow up: %s\n", bound.error().message.c_str());
    return 1;
  }
  std::unique_ptr<server::Server> srv = std::move(*bound);
  std::string url_host = (o.host == "0.0.0.0" || o.host == "::") ? "127.0.0.1" : o.host;
  std::string base_url = "http://" + url_host + ":" + std::to_string(srv->port());

  RealClock clock;
  engine::EngineOptions eo;
  eo.data_dir = o.data_dir;
  eo.region = o.region;
  eo.base_url = base_url;
  auto opened = engine::Engine::open(eo, clock);
  if (!opened) {
    std::fprintf(stderr, "orderflow up: cannot open data directory %s: %s\n", o.data_dir.c_str(),
                 opened.error().message.c_str());
    return 1;
  }
  std::unique_ptr<engine::Engine> eng = std::move(*opened);

  server::RouterOptions ro;
  ro.credentials = {{o.access_key, o.secret_key}};
  ro.default_base_url = base_url;
  engine::Engine& engine_ref = *eng;
  auto started = srv->start([&engine_ref, ro](aws::HttpRequest req, server::Respond respond) {
    server::handle(engine_ref, req, ro, std::move(respond));
  });
  if (!started) {
    std::fprintf(stderr, "orderflow up: %s\n", started.error().message.c_str());
    return 1;
  }
  std::printf("orderflow: listening on %s (data dir %s, region %s, access key %s)\n", base_url.c_str(),
              o.data_dir.c_str(), o.region.c_str(), o.access_key.c_str());
  std::printf("orderflow: try  aws --endpoint-url %s sqs list-queues\n", base_url.c_str());
  std::fflush(stdout);

  srv->wait();
  // The engine goes first: a forced stop may leave long polls whose completions post to the
  // server's io_context, which must still exist then.
  eng.reset();
  srv.reset();
  std::printf("orderflow: stopped\n");
  return 0;
}

}  // namespace

void register_up(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<UpOptions>();
  CLI::App* up = app.add_subcommand("up", "Serve SQS, SNS and DynamoDB on one local port");
  up->add_option("--host", options->host, "Address to listen on")->envname("ORDERFLOW_HOST")->capture_default_str();
  up->add_option("--port", options->port, "Port to listen on (0: any free port)")
      ->envname("ORDERFLOW_PORT")
      ->capture_default_str();
  up->add_option("--data-dir", options->data_dir, "Directory holding all state")
      ->envname("ORDERFLOW_DATA_DIR")
      ->capture_default_str();
  up->add_option("--region", options->region, "Region of ARNs")->envname("ORDERFLOW_REGION")->capture_default_str();
  up->add_option("--access-key", options->access_key, "Access key id requests must be signed with")
      ->envname("ORDERFLOW_ACCESS_KEY")
      ->capture_default_str();
  up->add_option("--secret-key", options->secret_key, "Secret key of the access key")
      ->envname("ORDERFLOW_SECRET_KEY");
  up->add_option("--io-threads", options->io_threads, "HTTP io threads")
      ->envname("ORDERFLOW_IO_THREADS")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  up->add_option("--handler-threads", options->handler_threads,
                 "Threads running requests (they wait for fsync; many let one fsync serve many)")
      ->envname("ORDERFLOW_HANDLER_THREADS")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  up->callback([options, &exit_code] { exit_code = run_up(*options); });
}

}  // namespace orderflow::cli
