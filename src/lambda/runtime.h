// The Lambda Runtime API (2018-06-01) as a custom runtime (provided.al2023) uses it, and the
// loop that runs a handler on every invocation. Base URL: http://${AWS_LAMBDA_RUNTIME_API}/
// 2018-06-01.
//
//   GET  /runtime/invocation/next            blocks (no timeout) until an event; headers
//        Lambda-Runtime-Aws-Request-Id (required), -Deadline-Ms (epoch ms),
//        -Invoked-Function-Arn, -Trace-Id, -Client-Context, -Cognito-Identity
//   POST /runtime/invocation/{id}/response   the handler's result (202 expected)
//   POST /runtime/invocation/{id}/error      {"errorMessage","errorType","stackTrace":[]} with
//        header Lambda-Runtime-Function-Error-Type: <errorType>
//   POST /runtime/init/error                 the same, when setup fails before the first next
//
// The loop (after awslabs/aws-lambda-cpp): next -> handler -> response or error, forever.
// It stops and returns the error when a POST is not accepted (non-2xx or no answer: the
// Runtime API is gone or refuses, and the process should exit), when next answers 500
// (container error: exit promptly), or after 3 consecutive failed next calls.
//
// Thread-safety: a RuntimeApi is used by one thread (the runtime's only thread).
#pragma once

#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "client/transport.h"
#include "common/clock.h"

namespace orderflow::lambda {

struct Invocation {
  std::string request_id;
  std::string payload;
  TimePoint deadline{};  // epoch 0 when the header was missing or malformed
  std::string function_arn;
  std::string trace_id;  // X-Ray header value; empty when absent
  std::string client_context;
  std::string cognito_identity;
};

struct InvocationResponse {
  bool success = true;
  std::string payload;
  std::string content_type = "application/json";
  std::string error_type;     // failures only, e.g. "InvalidEvent"
  std::string error_message;  // failures only

  static InvocationResponse ok(std::string payload, std::string content_type = "application/json") {
    return {true, std::move(payload), std::move(content_type), {}, {}};
  }
  static InvocationResponse failure(std::string error_type, std::string error_message) {
    return {false, {}, "application/json", std::move(error_type), std::move(error_message)};
  }
};

using Handler = std::function<InvocationResponse(const Invocation&)>;

struct RuntimeError {
  std::string message;
  int http_status = 0;  // 0: no HTTP answer
};

// The error document the Runtime API takes: {"errorMessage":..,"errorType":..,"stackTrace":[]}.
std::string error_document(std::string_view error_type, std::string_view error_message);

class RuntimeApi {
 public:
  // `address` is host:port (AWS_LAMBDA_RUNTIME_API). Never fails: a bad address shows up as
  // failed calls.
  RuntimeApi(std::string_view address, std::unique_ptr<client::HttpTransport> transport);

  std::expected<Invocation, RuntimeError> next();
  std::expected<void, RuntimeError> post_response(std::string_view request_id,
                                                  const InvocationResponse& response);
  std::expected<void, RuntimeError> post_error(std::string_view request_id,
                                               std::string_view error_type,
                                               std::string_view error_message);
  std::expected<void, RuntimeError> post_init_error(std::string_view error_type,
                                                    std::string_view error_message);

 private:
  std::expected<void, RuntimeError> post(std::string url, std::string body,
                                         std::string content_type,
                                         std::string_view error_type);

  std::string base_;  // http://host:port/2018-06-01
  std::unique_ptr<client::HttpTransport> transport_;
};

struct RunHooks {
  // Called before each handler run with the invocation's trace id (empty when none); main()
  // sets _X_AMZN_TRACE_ID from it.
  std::function<void(std::string_view)> on_trace_id;
  // Diagnostic lines of the loop itself (one JSON document each).
  std::function<void(std::string_view)> log;
};

inline constexpr int kMaxConsecutiveNextFailures = 3;

// Runs invocations until the loop must stop (see above); returns why.
RuntimeError run(RuntimeApi& api, const Handler& handler, const RunHooks& hooks = {});

}  // namespace orderflow::lambda
