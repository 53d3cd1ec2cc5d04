// Wire shapes shared by the protocol adapters: the query protocol's
// <ErrorResponse>, and AWS JSON error bodies. Every error is a catalogue entry (errors.def):
// status, code and __type come from there, never from the caller.
//
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "server/api.h"

namespace orderflow::server {

inline constexpr std::string_view kSqsXmlns = "http://queue.amazonaws.com/doc/2012-11-05/";
inline constexpr std::string_view kSnsXmlns = "http://sns.amazonaws.com/doc/2010-03-31/";
inline constexpr std::string_view kJson10 = "application/x-amz-json-1.0";
inline constexpr std::string_view kJson11 = "application/x-amz-json-1.1";

// The query protocol's error document, with the entry's HTTP status:
//   <ErrorResponse xmlns="..."><Error><Type>Sender|Receiver</Type><Code>..</Code>
//   <Message>..</Message><Detail/></Error><RequestId>..</RequestId></ErrorResponse>
ApiResponse query_error(std::string_view xmlns, const Error& error, const RequestContext& ctx);

struct JsonErrorStyle {
  std::string_view content_type = kJson10;
  // awsQueryCompatible services (SQS) add `x-amzn-query-error: <query code>;Sender|Receiver`.
  bool query_compatible = false;
};

// `s` as well-formed UTF-8: each byte that does not start a valid UTF-8 sequence becomes
// U+FFFD. Error messages may quote what a client sent (a header, an operation name), which need
// not be UTF-8, yet every answer must be valid JSON / XML: query_error and json_error (and any
// adapter writing its own error body) pass messages through this.
std::string valid_utf8(std::string_view s);

// {"__type": "<json_type>", "message": "..."} with the entry's HTTP status.
ApiResponse json_error(const Error& error, const RequestContext& ctx, JsonErrorStyle style);

// A 200 response with `body` and Content-Type `content_type`.
ApiResponse ok_response(std::string body, std::string_view content_type);

// What is wrong with a JSON request, collected while reading it (DynamoDB, Logs): a type error
// (serialization) or an invalid value is reported alone; constraint violations are reported
// together, as the services word it: "N validation errors detected: a; b", under
// `violation_code`.
struct RequestProblems {
  explicit RequestProblems(ErrorCode violation) : violation_code(violation) {}

  ErrorCode violation_code;
  std::optional<Error> fatal;
  std::vector<std::string> violations;

  void set_fatal(Error e) {
    if (!fatal) fatal = std::move(e);
  }
  void violate(std::string value, std::string_view path, std::string_view rule) {
    violations.push_back("Value " + value + " at '" + std::string(path) +
                         "' failed to satisfy constraint: " + std::string(rule));
  }
  bool ok() const { return !fatal && violations.empty(); }
  Error error() const {
    if (fatal) return *fatal;
    std::string m = std::to_string(violations.size()) + " validation error" +
                    (violations.size() > 1 ? "s" : "") + " detected: ";
    for (std::size_t i = 0; i < violations.size(); ++i) m += (i ? "; " : "") + violations[i];
    return Error{violation_code, std::move(m)};
  }
};

}  // namespace orderflow::server
