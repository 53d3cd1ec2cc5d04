// The HTTP seam of the client layer: one request out, one response back, nothing AWS-specific.
// AwsClient signs and retries on top of it; the Lambda runtime loop talks to the Runtime API
// through it; tests substitute a fake.
//
// The libcurl implementation owns one easy handle, so connections (and TLS sessions) are
// reused between calls: keep-alive to the same host costs no new connection. The plain HTTP
// one keeps its connection open the same way.
//
// Thread-safety: a transport is used by one thread at a time (one per thread).
#pragma once

#include <cstddef>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"

namespace orderflow::client {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The value of the first header named `name` (ASCII case-insensitive), or nullopt.
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name);

struct OutboundRequest {
  std::string method = "GET";
  std::string url;  // absolute: http(s)://host[:port]/path[?query]
  Headers headers;  // sent as given (Host included when set); no Expect: 100-continue
  std::string body;
  // Limit for the whole exchange; nullopt waits forever (the Runtime API's GET /next).
  std::optional<Millis> timeout;
};

struct HttpResponse {
  int status = 0;
  Headers headers;  // of the final response (interim 1xx responses dropped)
  std::string body;
  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

struct TransportError {
  enum class Kind {
    connect,    // could not resolve or connect (nothing was sent)
    timeout,    // the exchange took longer than its timeout
    io,         // the connection failed mid-exchange (reset, closed, nothing received)
    tls,        // certificate or TLS failure: retrying will not help
    too_large,  // the response body exceeded the transport's limit
    invalid,    // the request itself cannot be sent (bad URL, unsupported scheme)
  };
  Kind kind = Kind::io;
  std::string message;
};
std::string_view to_string(TransportError::Kind kind);

using TransportResult = std::expected<HttpResponse, TransportError>;

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual TransportResult send(const OutboundRequest& request) = 0;
};

// Options of the transports below.
struct TransportOptions {
  Millis connect_timeout{2000};
  // Certificate bundle for HTTPS; empty uses libcurl's built-in default.
  std::string ca_file;
  std::size_t max_response_bytes = 64u << 20;
};

// The library the libcurl transport opens (dlopen) when the first one is made. Programs do not
// link it: `orderflow package` adds it, and what it needs, to the function's package.
inline constexpr const char* kLibcurlSoname = "libcurl.so.4";

// A libcurl transport (http and https only, no redirects followed). Fails only when libcurl
// cannot create a handle.
std::expected<std::unique_ptr<HttpTransport>, std::string> make_curl_transport(
    const TransportOptions& options = {});

// Plain HTTP/1.1 without libcurl (http_transport.cpp): http:// URLs only, one keep-alive
// connection, a stale reused connection replaced once transparently. Anything else (https://,
// a malformed URL, CR or LF in a header) is a Kind::invalid error.
std::unique_ptr<HttpTransport> make_plain_http_transport(const TransportOptions& options = {});

// The transport the client layer uses: http:// on the plain transport, https:// on libcurl
// (loaded when the first https request is sent; when it cannot be, that request fails with
// Kind::invalid).
std::unique_ptr<HttpTransport> make_default_transport(const TransportOptions& options = {});

}  // namespace orderflow::client
