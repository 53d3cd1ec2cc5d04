#include "server/router.h"

#include <algorithm>

#include <optional>
#include <string>
#include <utility>

#include "aws/sigv4.h"
#include "aws/uri.h"
#include "common/util.h"
#include "engine/sns/envelope.h"
#include "server/dynamodb_api.h"
#include "server/logs_api.h"
#include "server/sns_api.h"
#include "server/metrics.h"
#include "server/runtime_api.h"
#include "server/sqs_api.h"
#include "server/wire.h"

namespace orderflow::server {
namespace {

// The protocol (and with it the error shape) a request is answered in.
enum class Family { sqs_json, dynamodb, logs, other_json, sqs_query, sns_query };

bool is_json_only(Family f) { return f == Family::dynamodb || f == Family::logs || f == Family::other_json; }

ApiResponse error_response(Family f, const Error& e, const RequestContext& ctx) {
  switch (f) {
    case Family::sqs_json: return json_error(e, ctx, JsonErrorStyle{kJson10, true});
    case Family::dynamodb: {
      // The SDKs check x-amz-crc32 on every DynamoDB answer, errors included.
      ApiResponse r = json_error(e, ctx, JsonErrorStyle{kJson10, false});
      r.headers.emplace_back("x-amz-crc32", std::to_string(crc32(r.body)));
      return r;
    }
    case Family::other_json: return json_error(e, ctx, JsonErrorStyle{kJson10, false});
    case Family::logs: return json_error(e, ctx, JsonErrorStyle{kJson11, false});
    case Family::sqs_query: return query_error(kSqsXmlns, e, ctx);
    case Family::sns_query: return query_error(kSnsXmlns, e, ctx);
  }
  return query_error(kSqsXmlns, e, ctx);
}

Error auth_error(Family f, const aws::AuthError& a) {
  bool json = is_json_only(f);
  ErrorCode code = ErrorCode::signature_does_not_match;
  switch (a.failure) {
    case aws::AuthFailure::missing_authentication_token:
      code = json ? ErrorCode::json_missing_authentication_token : ErrorCode::missing_authentication_token;
      break;
    case aws::AuthFailure::incomplete_signature:
      code = json ? ErrorCode::json_incomplete_signature : ErrorCode::incomplete_signature;
      break;
    case aws::AuthFailure::invalid_client_token_id:
      code = json ? ErrorCode::json_unrecognized_client : ErrorCode::invalid_client_token_id;
      break;
    case aws::AuthFailure::signature_does_not_match:
    case aws::AuthFailure::request_expired:  // AWS: "Signature expired: ..." under these codes
      code = json ? ErrorCode::json_invalid_signature : ErrorCode::signature_does_not_match;
      break;
  }
  return Error{code, a.message};
}

// SNS actions, to answer an unsigned query request in the namespace its sender expects.
bool looks_like_sns_action(std::string_view action) {
  static constexpr std::string_view kSns[] = {
      "CreateTopic", "DeleteTopic", "ListTopics", "GetTopicAttributes", "SetTopicAttributes",
      "Subscribe", "Unsubscribe", "ListSubscriptions", "ListSubscriptionsByTopic",
      "GetSubscriptionAttributes", "SetSubscriptionAttributes", "Publish", "PublishBatch",
      "ConfirmSubscription", "TagResource", "UntagResource", "ListTagsForResource"};
  for (auto a : kSns)
    if (a == action) return true;
  return false;
}

bool valid_host(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void respond_health(const aws::HttpRequest& req, Respond& respond) {
  ApiResponse r;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = req.method == "HEAD" ? "" : R"({"status":"ok"})";
  respond(std::move(r));
}

// SigningCertURL of every SNS envelope: the certificate of the key that signs them, public
// (unsigned GET) as on AWS, so subscribers can verify a notification's Signature.
void respond_signing_cert(engine::Engine& engine, const aws::HttpRequest& req, Respond& respond) {
  ApiResponse r;
  std::string pem = engine.topics().signing_certificate_pem();
  if (pem.empty()) {
    r.status = 503;
    r.headers.emplace_back("Content-Type", "text/plain");
    r.body = "the signing certificate is not available\n";
    return respond(std::move(r));
  }
  r.headers.emplace_back("Content-Type", "application/x-x509-ca-cert");
  if (req.method != "HEAD") r.body = std::move(pem);
  respond(std::move(r));
}

}  // namespace

void handle(engine::Engine& engine, const aws::HttpRequest& req, const RouterOptions& options,
            Respond respond_raw) {
  RequestContext ctx;
  ctx.request_id = uuid4();
  ctx.account_id = engine.options().account_id;
  ctx.region = engine.options().region;
  if (auto host = req.header("Host"); host && valid_host(trim(*host)))
    ctx.base_url = "http://" + std::string(trim(*host));
  else
    ctx.base_url = options.default_base_url;

  // Every answer carries the request id and the server's time.
  Respond respond = [respond_raw = std::move(respond_raw), id = ctx.request_id,
                     date = aws::format_http_date(engine.clock().now())](ApiResponse r) {
    r.headers.emplace_back("x-amzn-RequestId", id);
    r.headers.emplace_back("Date", date);
    respond_raw(std::move(r));
  };

  std::string_view path = req.path();
  if (path == kHealthPath && (req.method == "GET" || req.method == "HEAD")) return respond_health(req, respond);
  // The Runtime API of local function workers: unsigned, as on AWS.
  if (is_runtime_api_path(path)) return runtime_api_handle(engine.lambda().functions(), req, std::move(respond));
  if (path == kMetricsPath && (req.method == "GET" || req.method == "HEAD")) return respond_metrics(engine, req, respond);
  if (path.size() == engine::sns::signing_cert_file_name.size() + 1 && path.substr(1) == engine::sns::signing_cert_file_name &&
      (req.method == "GET" || req.method == "HEAD"))
    return respond_signing_cert(engine, req, respond);

  // ---- 1. which protocol ----
  Family family = Family::sqs_query;
  std::string operation;
  aws::QueryParams params;
  if (auto target = req.header("X-Amz-Target")) {
    std::string_view t = trim(*target);
    auto dot = t.find('.');
    std::string_view prefix = t.substr(0, dot);
    operation = dot == std::string_view::npos ? "" : std::string(t.substr(dot + 1));
    if (prefix == "AmazonSQS") family = Family::sqs_json;
    else if (prefix == "DynamoDB_20120810") family = Family::dynamodb;
    else if (prefix == "Logs_20140328") family = Family::logs;
    else family = Family::other_json;
  } else if (auto ct = req.header("Content-Type"); ct && ct->starts_with("application/x-amz-json")) {
    family = Family::other_json;
  } else {
    auto from_query = aws::parse_query(req.query());
    if (!from_query)
      return respond(error_response(
          family, Error{ErrorCode::malformed_query_string, "Malformed query string: " + from_query.error().message},
          ctx));
    params = std::move(*from_query);
    if (!req.body.empty()) {
      auto from_body = aws::parse_query(req.body);
      if (!from_body)
        return respond(error_response(
            family, Error{ErrorCode::malformed_query_string, "Malformed form body: " + from_body.error().message},
            ctx));
      params.insert(params.end(), from_body->begin(), from_body->end());
    }
    for (const auto& [k, v] : params)
      if (k == "Action") operation = v;
    if (auto scope = aws::credential_scope(req); scope && scope->service == "sns") family = Family::sns_query;
    else if (!scope && looks_like_sns_action(operation)) family = Family::sns_query;
  }

  // ---- 2. who is asking ----
  auto lookup = [&](std::string_view key) -> std::optional<std::string> {
    auto it = options.credentials.find(key);
    if (it == options.credentials.end()) return std::nullopt;
    return it->second;
  };
  auto verified = aws::verify(req, lookup, engine.clock().now());
  if (!verified) return respond(error_response(family, auth_error(family, verified.error()), ctx));
  ctx.region = verified->region;
  ctx.access_key = verified->access_key;
  std::string_view expected_service;
  switch (family) {
    case Family::sqs_json:
    case Family::sqs_query: expected_service = "sqs"; break;
    case Family::sns_query: expected_service = "sns"; break;
    case Family::dynamodb: expected_service = "dynamodb"; break;
    case Family::logs: expected_service = "logs"; break;
    case Family::other_json: break;
  }
  if (!expected_service.empty() && verified->service != expected_service) {
    aws::AuthError scoped{aws::AuthFailure::signature_does_not_match,
                          "Credential should be scoped to correct service: '" + std::string(expected_service) + "'. ",
                          {}, {}};
    return respond(error_response(family, auth_error(family, scoped), ctx));
  }

  // ---- 3. the service ----
  switch (family) {
    case Family::sqs_json:
      return sqs_handle_json(engine, operation, req.body, ctx, std::move(respond));
    case Family::sqs_query:
      return sqs_handle_query(engine, params, path, ctx, std::move(respond));
    case Family::sns_query:
      return sns_handle(engine, params, ctx, std::move(respond));
    case Family::dynamodb:
      return dynamodb_handle_async(engine.tables(), operation, req.body, ctx, std::move(respond));
    case Family::logs:
      return respond(logs_handle(engine.logs(), operation, req.body, ctx));
    case Family::other_json:
      return respond(error_response(family, Error{ErrorCode::unknown_operation, "Unknown X-Amz-Target."}, ctx));
  }
}

bool runs_inline(const aws::HttpRequest& request) {
  if (is_runtime_api_path(request.path())) return true;
  // JSON-protocol calls are POSTs to "/" (any other path is another route, which may wait).
  if (request.method != "POST" || request.path() != "/") return false;
  auto target = request.header("X-Amz-Target");
  if (!target) return false;
  static constexpr std::string_view kInline[] = {
      "DynamoDB_20120810.PutItem",  "DynamoDB_20120810.GetItem",   "AmazonSQS.SendMessage",
      "AmazonSQS.SendMessageBatch", "AmazonSQS.ReceiveMessage",    "AmazonSQS.DeleteMessage",
      "AmazonSQS.DeleteMessageBatch"};
  return std::find(std::begin(kInline), std::end(kInline), *target) != std::end(kInline);
}

}  // namespace orderflow::server
