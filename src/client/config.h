// Client configuration, resolved from environment variables the way the AWS SDKs do. The
// environment comes in as a map (main() reads the real one), so tests pass their own.
//
//   credentials  AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (both required),
//                AWS_SESSION_TOKEN (optional; Lambda's execution role always sets one)
//   region       AWS_REGION, else AWS_DEFAULT_REGION (required)
//   endpoint     per service: AWS_ENDPOINT_URL_<SERVICE> (DYNAMODB, SNS, SQS,
//                CLOUDWATCH_LOGS), else AWS_ENDPOINT_URL, else https://<service>.<region>.
//                amazonaws.com (.amazonaws.com.cn for cn- regions). AWS_IGNORE_CONFIGURED_
//                ENDPOINT_URLS=true ignores both variables, as the SDKs do.
//   retries      AWS_MAX_ATTEMPTS (total attempts, >= 1; default 3); the retry mode is always
//                "standard" (AWS_RETRY_MODE is accepted and not otherwise used)
//   TLS          AWS_CA_BUNDLE: certificate bundle file for HTTPS
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <expected>
#include <map>
#include <string>
#include <string_view>

#include "aws/sigv4.h"
#include "client/error.h"
#include "common/clock.h"

namespace orderflow::client {

using Environment = std::map<std::string, std::string, std::less<>>;

// The environment of this process (environ), as the map the functions below take.
Environment process_environment();

// The retry behaviour of the SDKs' "standard" mode.
struct RetryOptions {
  int max_attempts = 3;          // total attempts, including the first
  Millis base_delay{100};        // backoff before retry n: random(0,1) * min(cap, base * 2^(n-1))
  Millis max_backoff{20'000};    // the cap
  bool use_retry_quota = true;   // the client-wide token bucket (500 tokens, 5 per retry,
                                 // 10 per retry after a timeout, refunded on success)
};

// A parsed endpoint URL: scheme://host[:port][/base]
struct Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // as written (an IPv6 literal keeps its brackets)
  int port = 0;        // explicit or the scheme's default
  std::string base_path;  // "" or a prefix like "/proxy" (no trailing slash)

  // "host" or "host:port" when the port is not the scheme's default.
  std::string host_header() const;
  // scheme://host:port + base_path + path (path starts with '/').
  std::string url(std::string_view path) const;
};

// Parses http(s)://host[:port][/path]. Errors (ClientError::Kind::config) name the problem.
ClientResult<Endpoint> parse_endpoint(std::string_view url);

struct ClientConfig {
  aws::Credentials credentials;
  std::string region;
  // Endpoint URL per service signing name ("dynamodb", "sns", "sqs", "logs"); a service not
  // listed uses `endpoint_url`, or the regional AWS endpoint when that is empty too.
  std::map<std::string, std::string, std::less<>> service_endpoints;
  std::string endpoint_url;
  RetryOptions retry;
  Millis connect_timeout{2000};
  Millis request_timeout{10'000};  // per attempt
  std::string ca_file;

  // The endpoint URL for `service` by the rules above.
  std::string endpoint_for(std::string_view service) const;
};

// The suffix of AWS_ENDPOINT_URL_<SERVICE> for a signing name: dynamodb -> DYNAMODB,
// logs -> CLOUDWATCH_LOGS; others uppercased with '-' as '_'.
std::string endpoint_env_suffix(std::string_view service);

// Resolves the configuration for the services this project calls (dynamodb, sns, sqs, logs).
// Errors (Kind::config): missing credentials or region, an unparsable endpoint URL or
// AWS_MAX_ATTEMPTS.
ClientResult<ClientConfig> resolve_config(const Environment& env);

}  // namespace orderflow::client
