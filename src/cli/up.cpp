// `orderflow up`: the whole local cloud in one process (cli/local_cloud.h): the stack from
// deploy/template.yaml provisioned into the engine on the data directory, the AWS APIs and
// the functions' Runtime API on one port. Prints a banner when ready; drains on SIGINT/SIGTERM
// (a second signal stops at once). A second `up` on the same data directory resumes.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/local_cloud.h"

namespace orderflow::cli {
namespace {

struct UpOptions {
  LocalCloudOptions cloud;
  std::string template_path;
  bool no_template = false;
  std::vector<std::string> params;
};

void print_banner(LocalCloud& cloud, const LocalCloudOptions& o) {
  const std::string& url = cloud.base_url();
  std::printf("orderflow: listening on %s (data dir %s, region %s, access key %s)\n", url.c_str(), o.data_dir.c_str(),
              o.region.c_str(), o.access_key.c_str());
  if (const auto& d = cloud.deployment()) {
    std::printf("orderflow: stack %s %s from %s\n", d->state.stack_name.c_str(), d->state.status.c_str(),
                o.template_path.string().c_str());
    for (const auto& [id, r] : d->state.resources)
      std::printf("  %-28s %-32s %s\n", id.c_str(), r.type.c_str(), r.physical_id.c_str());
    if (!d->state.outputs.empty()) std::printf("outputs:\n");
    for (const auto& out : d->state.outputs) std::printf("  %-28s %s\n", out.key.c_str(), out.value.c_str());
  } else {
    std::printf("orderflow: no template: serving the AWS APIs without a stack\n");
  }
  if (!cloud.dashboard_url().empty()) std::printf("dashboard: %s\n", cloud.dashboard_url().c_str());
  std::printf("metrics:   %s/metrics\n", url.c_str());
  std::printf("use it:    export AWS_ENDPOINT_URL=%s AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=<secret> "
              "AWS_REGION=%s\n",
              url.c_str(), o.access_key.c_str(), o.region.c_str());
  std::printf("orderflow: ready (Ctrl-C drains and stops)\n");
  std::fflush(stdout);
}

int run_up(UpOptions& o) {
  auto params = parse_parameter_overrides(o.params);
  if (!params) {
    std::fprintf(stderr, "orderflow up: %s\n", params.error().message.c_str());
    return 2;
  }
  o.cloud.parameters = *params;
  if (!o.no_template) {
    o.cloud.template_path = o.template_path.empty() ? default_template_path() : std::filesystem::path(o.template_path);
    if (o.cloud.template_path.empty()) {
      std::fprintf(stderr,
                   "orderflow up: no deploy/template.yaml here or beside the binary; name one with --template FILE "
                   "or run without a stack with --no-template\n");
      return 1;
    }
  }
  o.cloud.handle_signals = true;
  auto cloud = LocalCloud::start(o.cloud);
  if (!cloud) {
    std::fprintf(stderr, "orderflow up: %s\n", cloud.error().message.c_str());
    return 1;
  }
  print_banner(**cloud, o.cloud);
  (*cloud)->wait();
  std::printf("orderflow: stopped\n");
  return 0;
}

}  // namespace

void register_up(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<UpOptions>();
  LocalCloudOptions& c = options->cloud;
  CLI::App* up = app.add_subcommand("up", "Serve the whole stack (SNS, SQS, DynamoDB, Logs, the function) on one port");
  up->add_option("--host", c.host, "Address to listen on")->envname("ORDERFLOW_HOST")->capture_default_str();
  up->add_option("--port", c.port, "Port to listen on (0: any free port)")
      ->envname("ORDERFLOW_PORT")
      ->capture_default_str();
  up->add_option("--data-dir", c.data_dir, "Directory holding all state")
      ->envname("ORDERFLOW_DATA_DIR")
      ->capture_default_str();
  up->add_option("--template", options->template_path,
                 "CloudFormation template to provision (default: deploy/template.yaml)")
      ->envname("ORDERFLOW_TEMPLATE");
  up->add_flag("--no-template", options->no_template, "Serve the AWS APIs without provisioning a stack");
  up->add_option("--param", options->params, "Template parameter override Key=Value (repeatable)")
      ->envname("ORDERFLOW_PARAMS")
      ->delimiter(',');
  up->add_option("--stack-name", c.stack_name, "Stack name (AWS::StackName)")
      ->envname("ORDERFLOW_STACK_NAME")
      ->capture_default_str();
  up->add_option("--function-code", c.function_executable,
                 "The bootstrap executable functions run (default: bootstrap beside orderflow)")
      ->envname("ORDERFLOW_FUNCTION_CODE");
  up->add_option("--max-workers", c.max_workers, "Worker processes per function (unless the template reserves)")
      ->envname("ORDERFLOW_MAX_WORKERS")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  up->add_option("--sns-signing-key-bits", c.sns_signing_key_bits,
                 "RSA key size for signing SNS messages, for a new data dir (AWS: 2048; 1024 signs ~7x faster)")
      ->envname("ORDERFLOW_SNS_SIGNING_KEY_BITS")
      ->check(CLI::IsMember({1024, 2048, 3072, 4096}))
      ->capture_default_str();
  up->add_option("--dashboard-token", c.dashboard_token,
                 "Token the dashboard requires (auto: a random one when --host is not loopback; empty: none)")
      ->envname("ORDERFLOW_DASHBOARD_TOKEN")
      ->capture_default_str();
  up->add_flag("!--no-dashboard", c.dashboard, "Do not serve the dashboard at /");
  up->add_option("--region", c.region, "Region of ARNs")->envname("ORDERFLOW_REGION")->capture_default_str();
  up->add_option("--access-key", c.access_key, "Access key id requests must be signed with")
      ->envname("ORDERFLOW_ACCESS_KEY")
      ->capture_default_str();
  up->add_option("--secret-key", c.secret_key, "Secret key of the access key")->envname("ORDERFLOW_SECRET_KEY");
  up->add_option("--io-threads", c.io_threads, "HTTP io threads")
      ->envname("ORDERFLOW_IO_THREADS")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  up->add_option("--handler-threads", c.handler_threads,
                 "Threads running the requests that wait for fsync (many let one fsync serve many); "
                 "DynamoDB PutItem/GetItem, JSON SQS message calls and the function workers' Runtime API run on the io threads")
      ->envname("ORDERFLOW_HANDLER_THREADS")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  up->add_option("--read-timeout", c.read_timeout_seconds,
                 "Seconds a connection may take to send a request's header (idle: the next one), then its body")
      ->envname("ORDERFLOW_READ_TIMEOUT")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  up->add_option("--max-connections", c.max_connections,
                 "Connections served at once; more wait in the listen backlog until some close")
      ->envname("ORDERFLOW_MAX_CONNECTIONS")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  up->add_option("--request-memory", c.request_memory_mib,
                 "MiB of request bodies held at once across all connections; more wait unread")
      ->envname("ORDERFLOW_REQUEST_MEMORY")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  up->callback([options, &exit_code] { exit_code = run_up(*options); });
}

}  // namespace orderflow::cli
