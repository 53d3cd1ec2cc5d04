#include "lambda/runtime.h"

#include <charconv>
#include <exception>

#include "aws/uri.h"
#include "orders/json.h"

namespace orderflow::lambda {

namespace {

constexpr Millis kPostTimeout{10'000};

std::string log_line(std::string_view level, std::string_view message) {
  std::string line = "{\"level\":";
  orders::append_json_string(line, level);
  line += ",\"message\":";
  orders::append_json_string(line, message);
  return line + "}";
}

RuntimeError http_error(std::string_view what, const client::HttpResponse& r) {
  std::string message = std::string(what) + ": HTTP " + std::to_string(r.status);
  if (!r.body.empty()) message += " " + r.body.substr(0, 512);
  return RuntimeError{std::move(message), r.status};
}

}  // namespace

std::string error_document(std::string_view error_type, std::string_view error_message) {
  std::string body = "{\"errorMessage\":";
  orders::append_json_string(body, error_message);
  body += ",\"errorType\":";
  orders::append_json_string(body, error_type);
  body += ",\"stackTrace\":[]}";
  return body;
}

RuntimeApi::RuntimeApi(std::string_view address, std::unique_ptr<client::HttpTransport> transport)
    : base_("http://" + std::string(address) + "/2018-06-01"), transport_(std::move(transport)) {}

std::expected<Invocation, RuntimeError> RuntimeApi::next() {
  client::OutboundRequest req;
  req.method = "GET";
  req.url = base_ + "/runtime/invocation/next";
  req.timeout = std::nullopt;  // blocks until there is work, however long that takes
  auto r = transport_->send(req);
  if (!r) return std::unexpected(RuntimeError{"next: " + r.error().message, 0});
  if (r->status < 200 || r->status > 299) return std::unexpected(http_error("next", *r));
  Invocation inv;
  auto id = r->header("Lambda-Runtime-Aws-Request-Id");
  if (!id || id->empty()) {
    return std::unexpected(RuntimeError{"next: no Lambda-Runtime-Aws-Request-Id header", r->status});
  }
  inv.request_id = std::string(*id);
  if (auto deadline = r->header("Lambda-Runtime-Deadline-Ms")) {
    std::int64_t ms = 0;
    auto [end, ec] = std::from_chars(deadline->data(), deadline->data() + deadline->size(), ms);
    if (ec == std::errc() && end == deadline->data() + deadline->size()) inv.deadline = from_epoch_ms(ms);
  }
  inv.function_arn = std::string(r->header("Lambda-Runtime-Invoked-Function-Arn").value_or(""));
  inv.trace_id = std::string(r->header("Lambda-Runtime-Trace-Id").value_or(""));
  inv.client_context = std::string(r->header("Lambda-Runtime-Client-Context").value_or(""));
  inv.cognito_identity = std::string(r->header("Lambda-Runtime-Cognito-Identity").value_or(""));
  inv.payload = std::move(r->body);
  return inv;
}

std::expected<void, RuntimeError> RuntimeApi::post(std::string url, std::string body,
                                                   std::string content_type,
                                                   std::string_view error_type) {
  client::OutboundRequest req;
  req.method = "POST";
  req.url = std::move(url);
  req.headers.emplace_back("Content-Type", std::move(content_type));
  if (!error_type.empty()) {
    req.headers.emplace_back("Lambda-Runtime-Function-Error-Type", std::string(error_type));
  }
  req.body = std::move(body);
  req.timeout = kPostTimeout;
  auto r = transport_->send(req);
  if (!r) return std::unexpected(RuntimeError{"post: " + r.error().message, 0});
  if (r->status < 200 || r->status > 299) return std::unexpected(http_error("post", *r));
  return {};
}

std::expected<void, RuntimeError> RuntimeApi::post_response(std::string_view request_id,
                                                            const InvocationResponse& response) {
  return post(base_ + "/runtime/invocation/" + aws::uri_encode(request_id) + "/response",
              response.payload,
              response.content_type.empty() ? "application/json" : response.content_type, {});
}

std::expected<void, RuntimeError> RuntimeApi::post_error(std::string_view request_id,
                                                         std::string_view error_type,
                                                         std::string_view error_message) {
  return post(base_ + "/runtime/invocation/" + aws::uri_encode(request_id) + "/error",
              error_document(error_type, error_message), "application/json", error_type);
}

std::expected<void, RuntimeError> RuntimeApi::post_init_error(std::string_view error_type,
                                                              std::string_view error_message) {
  return post(base_ + "/runtime/init/error", error_document(error_type, error_message),
              "application/json", error_type);
}

RuntimeError run(RuntimeApi& api, const Handler& handler, const RunHooks& hooks) {
  auto log = [&hooks](std::string_view level, std::string_view message) {
    if (hooks.log) hooks.log(log_line(level, message));
  };
  int failed_nexts = 0;
  while (true) {
    auto invocation = api.next();
    if (!invocation) {
      log("ERROR", invocation.error().message);
      if (invocation.error().http_status == 500 || ++failed_nexts >= kMaxConsecutiveNextFailures) {
        return invocation.error();
      }
      continue;
    }
    failed_nexts = 0;
    if (hooks.on_trace_id) hooks.on_trace_id(invocation->trace_id);

    InvocationResponse response;
    try {
      response = handler(*invocation);
    } catch (const std::exception& e) {  // the process survives a throwing handler
      response = InvocationResponse::failure("Runtime.UnhandledException", e.what());
    }

    auto posted = response.success
                      ? api.post_response(invocation->request_id, response)
                      : api.post_error(invocation->request_id, response.error_type,
                                       response.error_message);
    if (!posted) {
      log("ERROR", posted.error().message);
      return posted.error();
    }
  }
}

}  // namespace orderflow::lambda
