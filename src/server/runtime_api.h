// The Lambda Runtime API (2018-06-01) over HTTP, for the local function workers.
//
// A worker's AWS_LAMBDA_RUNTIME_API is "<host>:<port>/_orderflow/lambda/<function>/<worker>"
// (see engine::FunctionsOptions), so its runtime calls arrive as
//   GET  /_orderflow/lambda/<fn>/<worker>/2018-06-01/runtime/invocation/next
//   POST /_orderflow/lambda/<fn>/<worker>/2018-06-01/runtime/invocation/<request-id>/response
//   POST /_orderflow/lambda/<fn>/<worker>/2018-06-01/runtime/invocation/<request-id>/error
//   POST /_orderflow/lambda/<fn>/<worker>/2018-06-01/runtime/init/error
// and the path tells which worker is asking. As on AWS the Runtime API is not signed: it is
// reachable only by the processes we start (on loopback).
//
// Answers, as AWS's Runtime API gives them:
//   next      200, the event as body, headers Lambda-Runtime-Aws-Request-Id,
//             Lambda-Runtime-Deadline-Ms, Lambda-Runtime-Invoked-Function-Arn,
//             Lambda-Runtime-Trace-Id. It parks (no timeout) until there is an invocation.
//   response  202 {"status":"OK"}; a body over 6 MB is 413 and fails the invocation
//             (Function.ResponseSizeTooLarge).
//   error     202 {"status":"OK"}
//   init/error 202 {"status":"OK"}
//   refusals  engine::http_status(error) with {"errorMessage":..., "errorType":...}
//   other paths and methods under the prefix: 404 / 405 with the same body shape.
#pragma once

#include <string_view>

#include "aws/http_types.h"
#include "engine/functions.h"
#include "server/api.h"

namespace orderflow::server {

inline constexpr std::string_view kRuntimeApiPrefix = "/_orderflow/lambda/";

// Whether `path` belongs to the Runtime API (starts with kRuntimeApiPrefix).
bool is_runtime_api_path(std::string_view path);

// Serves one Runtime API request. `respond` may run later (a parked next), on another thread.
void runtime_api_handle(engine::Functions& functions, const aws::HttpRequest& request, Respond respond);

}  // namespace orderflow::server
