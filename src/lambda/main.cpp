// bootstrap: the ProcessOrderLambda function as a custom-runtime executable (provided.al2023,
// or a worker of `orderflow up`). Wiring only: read the environment, build the AWS client and
// the DynamoDB order store, run the Runtime API loop with the order handler.
//
// Environment: AWS_LAMBDA_RUNTIME_API (required), ORDERS_TABLE (required), credentials, region
// and endpoints as client/config.h reads them, AWS_LAMBDA_FUNCTION_NAME (metric dimension),
// ORDERS_PUT_CONCURRENCY (1..64, default 10: how many PutItems of one batch run at once, each
// on its own connection).
// Logs: one JSON line each on stdout. A setup failure is reported to /runtime/init/error.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "client/aws_client.h"
#include "client/config.h"
#include "lambda/process_order.h"
#include "lambda/runtime.h"
#include "orders/json.h"

namespace {

using namespace orderflow;


std::string env_or(const client::Environment& env, std::string_view name, std::string fallback = {}) {
  auto it = env.find(name);
  return it == env.end() || it->second.empty() ? fallback : it->second;
}

void log_line(orders::LogSink& log, std::string_view level, std::string_view message) {
  std::string line = "{\"level\":";
  orders::append_json_string(line, level);
  line += ",\"message\":";
  orders::append_json_string(line, message);
  log.write(line + "}");
}

// The libcurl in a packaged bootstrap comes from the build host (Debian) and looks for its CA
// bundle there; on Amazon Linux the bundle lives elsewhere. Use whichever exists.
std::string find_ca_bundle() {
  for (const char* path : {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
                           "/etc/ssl/certs/ca-bundle.crt"}) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return path;
  }
  return {};
}

}  // namespace

int main() {
  const client::Environment env = client::process_environment();
  lambda::StreamLogSink log(stdout);

  const std::string runtime_api = env_or(env, "AWS_LAMBDA_RUNTIME_API");
  if (runtime_api.empty()) {
    log_line(log, "ERROR", "AWS_LAMBDA_RUNTIME_API is not set: bootstrap runs under a Lambda runtime");
    return 1;
  }
  // The Runtime API is plain HTTP (AWS_LAMBDA_RUNTIME_API is host:port).
  lambda::RuntimeApi api(runtime_api, client::make_plain_http_transport({.connect_timeout = Millis(1000)}));

  auto init_failure = [&](std::string_view type, const std::string& message) {
    log_line(log, "ERROR", message);
    if (auto posted = api.post_init_error(type, message); !posted) {
      log_line(log, "ERROR", posted.error().message);
    }
    return 1;
  };

  const std::string table = env_or(env, "ORDERS_TABLE");
  if (table.empty()) return init_failure("Runtime.InvalidConfiguration", "ORDERS_TABLE is not set");
  auto config = client::resolve_config(env);
  if (!config) return init_failure("Runtime.InvalidConfiguration", config.error().message);
  if (config->ca_file.empty()) config->ca_file = find_ca_bundle();
  std::size_t concurrency = 10;
  if (std::string text = env_or(env, "ORDERS_PUT_CONCURRENCY"); !text.empty()) {
    char* end = nullptr;
    long n = std::strtol(text.c_str(), &end, 10);
    if (end == text.c_str() || *end != '\0' || n < 1 || n > 64)
      return init_failure("Runtime.InvalidConfiguration",
                          "ORDERS_PUT_CONCURRENCY must be a whole number from 1 to 64, not " + text);
    concurrency = static_cast<std::size_t>(n);
  }
  const client::ClientConfig helper_config = *config;
  auto aws = client::AwsClient::create(std::move(*config));
  if (!aws) return init_failure("Runtime.InvalidConfiguration", aws.error().message);

  RealClock clock;
  lambda::DynamoDbOrderStore store(
      **aws, table, concurrency,
      [&helper_config]() -> std::expected<std::unique_ptr<client::AwsClient>, std::string> {
        auto made = client::AwsClient::create(helper_config);
        if (!made) return std::unexpected(made.error().message);
        return std::move(*made);
      });
  orders::ProcessOptions options;
  if (std::string name = env_or(env, "AWS_LAMBDA_FUNCTION_NAME"); !name.empty()) {
    options.metric_dimensions.emplace_back("FunctionName", std::move(name));
  }
  lambda::Handler handler = lambda::make_order_handler(store, clock, log, std::move(options));

  lambda::RunHooks hooks;
  hooks.on_trace_id = [](std::string_view trace_id) {
    if (trace_id.empty()) {
      ::unsetenv("_X_AMZN_TRACE_ID");
    } else {
      ::setenv("_X_AMZN_TRACE_ID", std::string(trace_id).c_str(), 1);
    }
  };
  hooks.log = [&log](std::string_view line) { log.write(line); };

  lambda::RuntimeError stopped = lambda::run(api, handler, hooks);
  log_line(log, "ERROR", "runtime loop stopped: " + stopped.message);
  return 1;
}
