// The one error type of the client layer: what failed, in terms a caller can act on.
#pragma once

#include <expected>
#include <string>

namespace orderflow::client {

struct ClientError {
  enum class Kind {
    config,     // the configuration is unusable (missing credentials, bad endpoint URL)
    transport,  // no HTTP response: connect failure, timeout, reset (code = transport kind)
    service,    // the service answered with an error (code = AWS error code, http_status set)
    protocol,   // the service answered something unparsable or corrupt (e.g. a CRC mismatch)
  };
  Kind kind = Kind::service;
  std::string code;     // "ThrottlingException", "ResourceNotFoundException", "timeout", ...
  std::string message;  // human-readable, from the service when it sent one
  int http_status = 0;  // 0 when there was no response
  bool retryable = false;  // the failure was of a retryable class (attempts or quota ran out)
  int attempts = 0;        // how many attempts were made

  // "<code>: <message>" (or just the message), for logs.
  std::string describe() const { return code.empty() ? message : code + ": " + message; }
};

template <class T>
using ClientResult = std::expected<T, ClientError>;

}  // namespace orderflow::client
