#include "client/config.h"

#include <charconv>

#include "aws/http_types.h"

extern char** environ;

namespace orderflow::client {

Environment process_environment() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

namespace {

std::unexpected<ClientError> config_error(std::string message) {
  ClientError e;
  e.kind = ClientError::Kind::config;
  e.code = "InvalidConfiguration";
  e.message = std::move(message);
  return std::unexpected(std::move(e));
}

std::string_view lookup(const Environment& env, std::string_view name) {
  auto it = env.find(name);
  return it == env.end() ? std::string_view() : std::string_view(it->second);
}

constexpr std::string_view kServices[] = {"dynamodb", "sns", "sqs", "logs"};

}  // namespace

std::string Endpoint::host_header() const {
  bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  return default_port ? host : host + ":" + std::to_string(port);
}

std::string Endpoint::url(std::string_view path) const {
  return scheme + "://" + host + ":" + std::to_string(port) + base_path + std::string(path);
}

ClientResult<Endpoint> parse_endpoint(std::string_view url) {
  Endpoint e;
  auto sep = url.find("://");
  if (sep == std::string_view::npos) {
    return config_error("endpoint URL '" + std::string(url) + "' has no scheme");
  }
  e.scheme = aws::to_lower(url.substr(0, sep));
  if (e.scheme != "http" && e.scheme != "https") {
    return config_error("endpoint URL '" + std::string(url) + "' is not http or https");
  }
  std::string_view rest = url.substr(sep + 3);
  std::size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view path = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (!path.empty() && path.front() != '/') {
    return config_error("endpoint URL '" + std::string(url) + "' may not have a query or fragment");
  }
  if (authority.find('@') != std::string_view::npos) {
    return config_error("endpoint URL '" + std::string(url) + "' may not carry user information");
  }
  std::string_view host = authority, port;
  if (authority.starts_with('[')) {  // IPv6 literal
    auto close = authority.find(']');
    if (close == std::string_view::npos) return config_error("endpoint URL '" + std::string(url) + "' has a bad IPv6 host");
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return config_error("endpoint URL '" + std::string(url) + "' has a bad port");
      port = after.substr(1);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return config_error("endpoint URL '" + std::string(url) + "' has no host");
  e.host = std::string(host);
  e.port = e.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    int p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) {
      return config_error("endpoint URL '" + std::string(url) + "' has a bad port");
    }
    e.port = p;
  }
  while (path.ends_with('/')) path.remove_suffix(1);
  e.base_path = std::string(path);
  return e;
}

std::string endpoint_env_suffix(std::string_view service) {
  if (service == "logs") return "CLOUDWATCH_LOGS";
  std::string out;
  for (char c : service) {
    if (c == '-' || c == ' ') {
      out += '_';
    } else {
      out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    }
  }
  return out;
}

std::string ClientConfig::endpoint_for(std::string_view service) const {
  if (auto it = service_endpoints.find(service); it != service_endpoints.end()) return it->second;
  if (!endpoint_url.empty()) return endpoint_url;
  std::string suffix = region.starts_with("cn-") ? ".amazonaws.com.cn" : ".amazonaws.com";
  return "https://" + std::string(service) + "." + region + suffix;
}

ClientResult<ClientConfig> resolve_config(const Environment& env) {
  ClientConfig c;
  c.credentials.access_key = std::string(lookup(env, "AWS_ACCESS_KEY_ID"));
  c.credentials.secret_key = std::string(lookup(env, "AWS_SECRET_ACCESS_KEY"));
  c.credentials.session_token = std::string(lookup(env, "AWS_SESSION_TOKEN"));
  if (c.credentials.access_key.empty() || c.credentials.secret_key.empty()) {
    return config_error("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  c.region = std::string(lookup(env, "AWS_REGION"));
  if (c.region.empty()) c.region = std::string(lookup(env, "AWS_DEFAULT_REGION"));
  if (c.region.empty()) return config_error("no region: set AWS_REGION or AWS_DEFAULT_REGION");

  if (aws::to_lower(lookup(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) != "true") {
    for (std::string_view service : kServices) {
      std::string_view url = lookup(env, "AWS_ENDPOINT_URL_" + endpoint_env_suffix(service));
      if (url.empty()) continue;
      if (auto ok = parse_endpoint(url); !ok) return std::unexpected(ok.error());
      c.service_endpoints.emplace(std::string(service), std::string(url));
    }
    c.endpoint_url = std::string(lookup(env, "AWS_ENDPOINT_URL"));
    if (!c.endpoint_url.empty()) {
      if (auto ok = parse_endpoint(c.endpoint_url); !ok) return std::unexpected(ok.error());
    }
  }

  if (std::string_view attempts = lookup(env, "AWS_MAX_ATTEMPTS"); !attempts.empty()) {
    int n = 0;
    auto [end, ec] = std::from_chars(attempts.data(), attempts.data() + attempts.size(), n);
    if (ec != std::errc() || end != attempts.data() + attempts.size() || n < 1) {
      return config_error("AWS_MAX_ATTEMPTS must be a positive integer");
    }
    c.retry.max_attempts = n;
  }
  c.ca_file = std::string(lookup(env, "AWS_CA_BUNDLE"));
  return c;
}

}  // namespace orderflow::client
