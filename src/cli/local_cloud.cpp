#include "cli/local_cloud.h"

#include <unistd.h>

#include <atomic>
#include <utility>

#include "common/util.h"
#include "server/router.h"
#include "server/runtime_api.h"

namespace orderflow::cli {
namespace {

std::filesystem::path self_directory() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return exe.parent_path();
}

Clock& real_clock() {
  static RealClock clock;
  return clock;
}

}  // namespace

std::filesystem::path default_template_path() {
  std::error_code ec;
  std::filesystem::path candidates[] = {std::filesystem::current_path(ec) / "deploy/template.yaml",
                                        self_directory() / "../deploy/template.yaml",
                                        self_directory() / "../../deploy/template.yaml"};
  for (const auto& c : candidates)
    if (std::filesystem::is_regular_file(c, ec)) return std::filesystem::weakly_canonical(c, ec);
  return {};
}

std::filesystem::path default_function_executable() { return self_directory() / "bootstrap"; }

Result<stack::ParameterOverrides> parse_parameter_overrides(const std::vector<std::string>& params,
                                                            stack::ParameterOverrides defaults) {
  for (const auto& p : params) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      return fail(ErrorCode::validation_error, "--param wants Key=Value, got '" + p + "'");
    defaults[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return defaults;
}

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}


Result<std::unique_ptr<LocalCloud>> LocalCloud::start(const LocalCloudOptions& o) {
  std::unique_ptr<LocalCloud> cloud(new LocalCloud());
  server::ServerOptions so;
  so.host = o.host;
  so.port = o.port;
  so.io_threads = o.io_threads;
  so.handler_threads = o.handler_threads;
  so.idle_timeout = so.body_timeout = std::chrono::seconds(o.read_timeout_seconds);
  so.max_connections = static_cast<std::size_t>(o.max_connections);
  so.request_memory_limit = static_cast<std::size_t>(o.request_memory_mib) * 1024 * 1024;
  so.handle_signals = o.handle_signals;
  so.runs_inline = server::runs_inline;
  // Draining first stops the functions: their parked Runtime API calls are answered, their
  // workers end, and no new invocation starts.
  auto running = std::make_shared<std::atomic<engine::Engine*>>(nullptr);
  auto dashboard = std::make_shared<std::atomic<server::Dashboard*>>(nullptr);
  so.on_drain = [running, dashboard] {
    if (engine::Engine* e = running->load()) e->lambda().shutdown();
    if (server::Dashboard* d = dashboard->load()) d->shutdown();  // ends its event streams
  };
  auto bound = server::Server::bind(so);
  if (!bound) return std::unexpected(bound.error());
  cloud->server_ = std::move(*bound);
  std::string url_host = (o.host == "0.0.0.0" || o.host == "::") ? "127.0.0.1" : o.host;
  cloud->base_url_ = "http://" + url_host + ":" + std::to_string(cloud->server_->port());

  engine::EngineOptions eo;
  eo.data_dir = o.data_dir;
  eo.region = o.region;
  eo.base_url = cloud->base_url_;
  eo.sns_signing_key_bits = o.sns_signing_key_bits;
  eo.sns_key_in_background = true;  // a new data directory serves at once; the first publish waits
  // Workers call back into us: AWS APIs at base_url, the Runtime API under a per-worker path.
  eo.functions.endpoint_url = cloud->base_url_;
  eo.functions.access_key_id = o.access_key;
  eo.functions.secret_access_key = o.secret_key;
  eo.functions.hold_workers = true;  // until the server listens
  std::string api_host = url_host + ":" + std::to_string(cloud->server_->port());
  eo.functions.runtime_api_address = [api_host](std::string_view function, engine::WorkerId worker) {
    return api_host + std::string(server::kRuntimeApiPrefix) + std::string(function) + "/" + std::to_string(worker);
  };
  auto opened = engine::Engine::open(eo, real_clock());
  if (!opened)
    return fail(opened.error().code, "cannot open data directory " + o.data_dir + ": " + opened.error().message);
  cloud->engine_ = std::move(*opened);
  running->store(cloud->engine_.get());

  if (!o.template_path.empty()) {
    stack::LocalStackOptions lo;
    lo.template_path = o.template_path;
    lo.overrides = o.parameters;
    lo.stack_name = o.stack_name;
    lo.provider.base_url = cloud->base_url_;
    lo.provider.default_max_workers = o.max_workers;
    lo.provider.function_executable =
        o.function_executable.empty() ? default_function_executable().string()
                                      : std::filesystem::absolute(o.function_executable).string();
    stack::Deployment d = stack::deploy_local(*cloud->engine_, lo);
    if (!d.status)
      return fail(d.status.error().code,
                  "stack " + o.stack_name + " from " + o.template_path.string() + ": " + d.status.error().message);
    cloud->deployment_ = std::move(d);
  }

  server::RouterOptions ro;
  ro.credentials = {{o.access_key, o.secret_key}};
  ro.default_base_url = cloud->base_url_;
  engine::Engine& engine_ref = *cloud->engine_;
  server::Dashboard* dash = nullptr;
  if (o.dashboard) {
    server::DashboardOptions dopt;
    dopt.token = o.dashboard_token == "auto" ? (is_loopback_host(o.host) ? "" : hex_encode(random_bytes(16))) : o.dashboard_token;
    cloud->dashboard_ = std::make_unique<server::Dashboard>(*cloud->engine_, dopt);
    dash = cloud->dashboard_.get();
    dashboard->store(dash);
    cloud->dashboard_url_ = cloud->base_url_ + "/" + (dopt.token.empty() ? "" : "?token=" + dopt.token);
  }
  auto started = cloud->server_->start([&engine_ref, ro, dash](aws::HttpRequest req, server::Respond respond) {
    if (dash && dash->handle(req, respond)) return;
    server::handle(engine_ref, req, ro, std::move(respond));
  });
  if (!started) return std::unexpected(started.error());
  cloud->engine_->lambda().functions().release_workers();
  return cloud;
}

void LocalCloud::stop() {
  if (server_) server_->drain();
}

void LocalCloud::wait() {
  if (closed_) return;
  server_->wait();
  // The engine goes first: a forced stop may leave long polls whose completions post to the
  // server's io_context, which must still exist then.
  dashboard_.reset();
  engine_.reset();
  server_.reset();
  closed_ = true;
}

LocalCloud::~LocalCloud() {
  if (closed_ || !server_) {
    dashboard_.reset();
    engine_.reset();
    return;
  }
  stop();
  wait();
}

}  // namespace orderflow::cli
