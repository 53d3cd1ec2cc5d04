#include "server/runtime_api.h"

#include <charconv>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "engine/event_source_mapping.h"

namespace orderflow::server {
namespace {

constexpr std::string_view kVersion = "2018-06-01";

ApiResponse json_answer(int status, std::string body) {
  ApiResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

std::string error_document(std::string_view type, std::string_view message) {
  boost::json::object doc;
  doc["errorMessage"] = message;
  doc["errorType"] = type;
  return boost::json::serialize(doc);
}

ApiResponse error_answer(int status, std::string_view type, std::string_view message) {
  return json_answer(status, error_document(type, message));
}

ApiResponse refusal(engine::RuntimeApiError e) {
  std::string_view message;
  switch (e) {
    case engine::RuntimeApiError::unknown_worker: message = "This runtime is not (or no longer) a worker of the function."; break;
    case engine::RuntimeApiError::unknown_request: message = "Invalid request ID"; break;
    case engine::RuntimeApiError::invalid_state: message = "State transition is not allowed"; break;
    case engine::RuntimeApiError::worker_gone: message = "The worker was stopped; the runtime should exit."; break;
    case engine::RuntimeApiError::shutting_down: message = "The service is shutting down."; break;
  }
  return error_answer(engine::http_status(e), engine::error_type(e), message);
}

ApiResponse accepted() { return json_answer(202, R"({"status":"OK"})"); }

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

std::optional<engine::WorkerId> parse_worker(std::string_view s) {
  engine::WorkerId id = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return id;
}

std::string_view error_type_header(const aws::HttpRequest& req) {
  return req.header("Lambda-Runtime-Function-Error-Type").value_or(std::string_view{});
}

}  // namespace

bool is_runtime_api_path(std::string_view path) { return path.starts_with(kRuntimeApiPrefix); }

void runtime_api_handle(engine::Functions& functions, const aws::HttpRequest& req, Respond respond) {
  std::string_view path = req.path();
  path.remove_prefix(kRuntimeApiPrefix.size());
  // <fn>/<worker>/2018-06-01/runtime/...
  std::vector<std::string_view> parts = split_path(path);
  if (parts.size() < 5 || parts[2] != kVersion || parts[3] != "runtime")
    return respond(error_answer(404, "NotFound", "No such Runtime API route."));
  std::string_view function = parts[0];
  auto worker = parse_worker(parts[1]);
  if (!worker) return respond(error_answer(404, "NotFound", "No such Runtime API route."));
  std::vector<std::string_view> rest(parts.begin() + 4, parts.end());

  auto require = [&](std::string_view method) {
    if (req.method == method) return true;
    respond(error_answer(405, "MethodNotAllowed", "Use " + std::string(method) + " for this route."));
    return false;
  };
  auto done = [&](std::expected<void, engine::RuntimeApiError> r) {
    respond(r ? accepted() : refusal(r.error()));
  };

  if (rest.size() == 2 && rest[0] == "invocation" && rest[1] == "next") {
    if (!require("GET")) return;
    functions.next(function, *worker,
                   [respond](std::expected<engine::RuntimeInvocation, engine::RuntimeApiError> inv) {
                     if (!inv) return respond(refusal(inv.error()));
                     ApiResponse r = json_answer(200, std::move(inv->payload));
                     r.headers.emplace_back("Lambda-Runtime-Aws-Request-Id", inv->request_id);
                     r.headers.emplace_back("Lambda-Runtime-Deadline-Ms", std::to_string(inv->deadline_ms));
                     r.headers.emplace_back("Lambda-Runtime-Invoked-Function-Arn", inv->function_arn);
                     r.headers.emplace_back("Lambda-Runtime-Trace-Id", inv->trace_id);
                     respond(std::move(r));
                   });
    return;
  }
  if (rest.size() == 3 && rest[0] == "invocation" && (rest[2] == "response" || rest[2] == "error")) {
    if (!require("POST")) return;
    std::string_view request_id = rest[1];
    if (rest[2] == "error") return done(functions.error(request_id, req.body, error_type_header(req)));
    if (req.body.size() > engine::kMaxSyncPayloadBytes) {
      std::string message = "Response payload size (" + std::to_string(req.body.size()) +
                            " bytes) exceeded maximum allowed payload size (" +
                            std::to_string(engine::kMaxSyncPayloadBytes) + " bytes).";
      auto failed = functions.error(request_id, error_document("Function.ResponseSizeTooLarge", message),
                                    "Function.ResponseSizeTooLarge");
      if (!failed) return respond(refusal(failed.error()));
      return respond(error_answer(413, "RequestEntityTooLarge", message));
    }
    return done(functions.respond(request_id, req.body));
  }
  if (rest.size() == 2 && rest[0] == "init" && rest[1] == "error") {
    if (!require("POST")) return;
    return done(functions.init_error(*worker, req.body, error_type_header(req)));
  }
  respond(error_answer(404, "NotFound", "No such Runtime API route."));
}

}  // namespace orderflow::server
