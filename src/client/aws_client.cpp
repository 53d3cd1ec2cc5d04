#include "client/aws_client.h"

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <random>
#include <thread>

#include "aws/sigv4.h"

namespace orderflow::client {

namespace {

namespace bj = boost::json;

constexpr std::string_view kUserAgent = "orderflow-client/1.0";

std::string json_string(std::string_view s) { return bj::serialize(bj::string_view(s.data(), s.size())); }

std::string_view json_content_type(std::string_view service) {
  return service == "logs" ? "application/x-amz-json-1.1" : "application/x-amz-json-1.0";
}

// Reads the AWS error code and message of a non-2xx answer.
void read_service_error(const HttpResponse& r, ClientError& e) {
  e.kind = ClientError::Kind::service;
  e.http_status = r.status;
  if (auto query_error = r.header("x-amzn-query-error")) {  // SQS over JSON, query-compatible
    e.code = std::string(query_error->substr(0, query_error->find(';')));
  } else if (auto type = r.header("x-amzn-ErrorType")) {
    e.code = std::string(type->substr(0, type->find(':')));
  }
  std::string_view body = r.body;
  while (!body.empty() && (body.front() == ' ' || body.front() == '\n' || body.front() == '\r')) {
    body.remove_prefix(1);
  }
  if (body.starts_with('{')) {
    bj::error_code ec;
    bj::value doc = bj::parse(body, ec);
    if (!ec && doc.is_object()) {
      const auto& o = doc.get_object();
      if (const auto* t = o.if_contains("__type"); t && t->is_string() && e.code.empty()) {
        std::string_view type(t->get_string().data(), t->get_string().size());
        if (auto hash = type.rfind('#'); hash != std::string_view::npos) type.remove_prefix(hash + 1);
        e.code = std::string(type);
      }
      for (const char* key : {"message", "Message"}) {
        if (const auto* m = o.if_contains(key); m && m->is_string()) {
          e.message = std::string(m->get_string().data(), m->get_string().size());
          break;
        }
      }
    }
  } else if (body.starts_with('<')) {
    if (e.code.empty()) e.code = xml_text(body, "Code").value_or("");
    e.message = xml_text(body, "Message").value_or("");
  }
  if (e.message.empty()) e.message = "HTTP " + std::to_string(r.status);
}


}  // namespace


std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(tag);
  const std::string close = "</" + std::string(tag) + ">";
  std::size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    std::size_t after = pos + open.size();
    if (after >= xml.size()) break;
    char c = xml[after];
    if (c != '>' && c != ' ' && c != '/' && c != '\t' && c != '\n') {  // <tagX...>: another tag
      pos = after;
      continue;
    }
    std::size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) break;
    if (xml[gt - 1] == '/') {  // <tag/>
      out.emplace_back();
      pos = gt + 1;
      continue;
    }
    std::size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(gt + 1, end - gt - 1));
    pos = end + close.size();
  }
  return out;
}

std::optional<std::string> xml_text(std::string_view xml, std::string_view tag) {
  auto elements = xml_elements(xml, tag);
  if (elements.empty()) return std::nullopt;
  return xml_unescape(elements.front());
}

std::string xml_unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    std::size_t semi = text.find(';', i);
    if (semi == std::string_view::npos) {
      out += text.substr(i);
      break;
    }
    std::string_view entity = text.substr(i + 1, semi - i - 1);
    std::string replacement;
    if (entity == "amp") replacement = "&";
    else if (entity == "lt") replacement = "<";
    else if (entity == "gt") replacement = ">";
    else if (entity == "quot") replacement = "\"";
    else if (entity == "apos") replacement = "'";
    else if (entity.starts_with('#')) {
      std::string_view digits = entity.substr(1);
      int base = 10;
      if (digits.starts_with('x') || digits.starts_with('X')) {
        digits.remove_prefix(1);
        base = 16;
      }
      std::uint32_t cp = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, base);
      if (ec == std::errc() && end == digits.data() + digits.size() && !digits.empty() &&
          cp <= 0x10FFFF) {
        if (cp < 0x80) {
          replacement += static_cast<char>(cp);
        } else if (cp < 0x800) {
          replacement += static_cast<char>(0xC0 | (cp >> 6));
          replacement += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          replacement += static_cast<char>(0xE0 | (cp >> 12));
          replacement += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          replacement += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          replacement += static_cast<char>(0xF0 | (cp >> 18));
          replacement += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
          replacement += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          replacement += static_cast<char>(0x80 | (cp & 0x3F));
        }
      }
    }
    if (replacement.empty()) {  // unknown entity: keep it as written
      out += text.substr(i, semi - i + 1);
    } else {
      out += replacement;
    }
    i = semi;
  }
  return out;
}

AwsClient::AwsClient(ClientConfig config, ClientDeps deps)
    : config_(std::move(config)), deps_(std::move(deps)) {}

AwsClient::~AwsClient() = default;

ClientResult<std::unique_ptr<AwsClient>> AwsClient::create(ClientConfig config, ClientDeps deps) {
  for (const auto& [service, url] : config.service_endpoints) {
    if (auto ok = parse_endpoint(url); !ok) return std::unexpected(ok.error());
  }
  if (!config.endpoint_url.empty()) {
    if (auto ok = parse_endpoint(config.endpoint_url); !ok) return std::unexpected(ok.error());
  }
  if (!deps.transport) {
    TransportOptions options;
    options.connect_timeout = config.connect_timeout;
    options.ca_file = config.ca_file;
    deps.transport = make_default_transport(options);
  }
  if (!deps.sleep) deps.sleep = [](Millis d) { std::this_thread::sleep_for(d); };
  if (!deps.random) {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    deps.random = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
  }
  std::unique_ptr<AwsClient> client(new AwsClient(std::move(config), std::move(deps)));
  if (client->deps_.clock == nullptr) {
    client->own_clock_ = std::make_unique<RealClock>();
    client->deps_.clock = client->own_clock_.get();
  }
  return client;
}

ClientResult<AwsResponse> AwsClient::execute(const Call& call) {
  auto endpoint = parse_endpoint(config_.endpoint_for(call.service));
  if (!endpoint) return std::unexpected(endpoint.error());
  int retry_cost = 0;  // quota taken by the latest retry
  for (int attempt = 1;; ++attempt) {
    aws::HttpRequest req;
    req.method = "POST";
    req.target = endpoint->base_path + "/";
    req.headers.emplace_back("Host", endpoint->host_header());
    for (const auto& h : call.headers) req.headers.push_back(h);
    req.body = call.body;
    aws::sign(req, config_.credentials, config_.region, call.service, deps_.clock->now());

    OutboundRequest out;
    out.method = req.method;
    out.url = endpoint->url("/");
    out.headers = std::move(req.headers);
    out.headers.emplace_back("User-Agent", std::string(kUserAgent));
    out.body = std::move(req.body);
    out.timeout = config_.request_timeout;

    ClientError error;
    error.attempts = attempt;
    FailureClass failure = FailureClass::not_retryable;
    auto result = deps_.transport->send(out);
    if (!result) {
      error.kind = ClientError::Kind::transport;
      error.code = std::string(to_string(result.error().kind));
      error.message = result.error().message;
      switch (result.error().kind) {
        case TransportError::Kind::connect:
        case TransportError::Kind::io: failure = FailureClass::transient; break;
        case TransportError::Kind::timeout: failure = FailureClass::timeout; break;
        default: failure = FailureClass::not_retryable; break;
      }
    } else if (result->status >= 200 && result->status < 300) {
      std::optional<std::string_view> crc = result->header("x-amz-crc32");
      bool crc_ok = true;
      if (call.service == "dynamodb" && crc) {
        std::uint32_t expected = 0;
        auto [end, ec] = std::from_chars(crc->data(), crc->data() + crc->size(), expected);
        crc_ok = ec == std::errc() && end == crc->data() + crc->size() &&
                 expected == crc32(result->body);
      }
      if (crc_ok) {
        if (config_.retry.use_retry_quota) quota_.release(retry_cost);
        return AwsResponse{result->status, std::move(result->headers), std::move(result->body),
                           attempt};
      }
      error.kind = ClientError::Kind::protocol;
      error.code = "CRC32CheckFailed";
      error.message = "x-amz-crc32 does not match the response body";
      error.http_status = result->status;
      failure = FailureClass::transient;
    } else {
      read_service_error(*result, error);
      failure = classify_service_error(error.http_status, error.code);
    }
    error.retryable = failure != FailureClass::not_retryable;
    if (!error.retryable || attempt >= config_.retry.max_attempts) return std::unexpected(error);
    if (config_.retry.use_retry_quota && !quota_.acquire(failure, retry_cost)) {
      error.message += " (retry quota exhausted)";
      return std::unexpected(error);
    }
    deps_.sleep(backoff_delay(attempt, deps_.random(), config_.retry));
  }
}

ClientResult<AwsResponse> AwsClient::call_json(std::string_view service, std::string_view target,
                                               std::string_view body) {
  Call call;
  call.service = std::string(service);
  call.headers.emplace_back("Content-Type", std::string(json_content_type(service)));
  call.headers.emplace_back("X-Amz-Target", std::string(target));
  call.body = std::string(body);
  return execute(call);
}

ClientResult<AwsResponse> AwsClient::call_query(std::string_view service,
                                                const aws::QueryParams& params) {
  Call call;
  call.service = std::string(service);
  call.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  call.body = aws::format_query(params);
  return execute(call);
}

ClientResult<PutItemOutcome> AwsClient::dynamodb_put_item(std::string_view table,
                                                          std::string_view item_json,
                                                          std::string_view condition_expression) {
  std::string body = "{\"TableName\":" + json_string(table) + ",\"Item\":" + std::string(item_json);
  if (!condition_expression.empty()) {
    body += ",\"ConditionExpression\":" + json_string(condition_expression);
  }
  body += '}';
  auto r = call_json("dynamodb", "DynamoDB_20120810.PutItem", body);
  if (r) return PutItemOutcome::stored;
  if (r.error().kind == ClientError::Kind::service &&
      r.error().code == "ConditionalCheckFailedException") {
    return PutItemOutcome::condition_failed;
  }
  return std::unexpected(r.error());
}

ClientResult<std::string> AwsClient::sns_publish(std::string_view topic_arn,
                                                 std::string_view message,
                                                 std::string_view subject) {
  aws::QueryParams params = {{"Action", "Publish"},
                             {"Version", "2010-03-31"},
                             {"TopicArn", std::string(topic_arn)},
                             {"Message", std::string(message)}};
  if (!subject.empty()) params.emplace_back("Subject", std::string(subject));
  auto r = call_query("sns", params);
  if (!r) return std::unexpected(r.error());
  auto id = xml_text(r->body, "MessageId");
  if (!id) {
    ClientError e;
    e.kind = ClientError::Kind::protocol;
    e.code = "MalformedResponse";
    e.message = "Publish response has no MessageId";
    e.http_status = r->status;
    e.attempts = r->attempts;
    return std::unexpected(std::move(e));
  }
  return *id;
}

ClientResult<PublishBatchResult> AwsClient::sns_publish_batch(
    std::string_view topic_arn, const std::vector<PublishBatchEntry>& entries) {
  aws::QueryParams params = {{"Action", "PublishBatch"},
                             {"Version", "2010-03-31"},
                             {"TopicArn", std::string(topic_arn)}};
  for (std::size_t i = 0; i < entries.size(); ++i) {
    std::string prefix = "PublishBatchRequestEntries.member." + std::to_string(i + 1) + ".";
    params.emplace_back(prefix + "Id", entries[i].id);
    params.emplace_back(prefix + "Message", entries[i].message);
    if (!entries[i].subject.empty()) params.emplace_back(prefix + "Subject", entries[i].subject);
  }
  auto r = call_query("sns", params);
  if (!r) return std::unexpected(r.error());
  PublishBatchResult out;
  for (std::string_view section : xml_elements(r->body, "Successful")) {
    for (std::string_view member : xml_elements(section, "member")) {
      out.successful.push_back(
          {xml_text(member, "Id").value_or(""), xml_text(member, "MessageId").value_or("")});
    }
  }
  for (std::string_view section : xml_elements(r->body, "Failed")) {
    for (std::string_view member : xml_elements(section, "member")) {
      out.failed.push_back({xml_text(member, "Id").value_or(""),
                            xml_text(member, "Code").value_or(""),
                            xml_text(member, "Message").value_or(""),
                            xml_text(member, "SenderFault").value_or("") == "true"});
    }
  }
  return out;
}

}  // namespace orderflow::client
