// The socket-free front of the server (STYLE.md item 7): one HTTP request in, one response out
// through `respond`, with no sockets involved, so unit tests call it directly.
//
// For every request handle():
//  1. answers GET /_orderflow/health with 200 {"status":"ok"}, GET /metrics (metrics.h) and
//     the functions' Runtime API under /_orderflow/lambda/ (runtime_api.h), all without
//     authentication (the Runtime API is unsigned on AWS too);
//  2. picks the protocol: X-Amz-Target "AmazonSQS.<Op>" (SQS JSON), "DynamoDB_20120810.<Op>"
//     (DynamoDB), "Logs_20140328.<Op>" (CloudWatch Logs, logs_api.h);
//     otherwise the query protocol when the form body or query string has Action=, sent to SQS
//     or SNS by the service of the SigV4 credential scope;
//  3. verifies the SigV4 signature (header or presigned query) against the configured
//     credentials and the engine's clock; failures get the protocol's own error:
//       query (SQS, SNS)   MissingAuthenticationToken 403, IncompleteSignature 400,
//                          InvalidClientTokenId 403, SignatureDoesNotMatch 403 (also for a
//                          request time more than 15 min off: "Signature expired: ...")
//       SQS JSON           the same codes in x-amzn-query-error and status, with the coral
//                          __type (UnrecognizedClientException, InvalidSignatureException, ...)
//       DynamoDB / Logs    com.amazon.coral.service#MissingAuthenticationTokenException,
//                          IncompleteSignatureException, UnrecognizedClientException,
//                          InvalidSignatureException, all 400;
//  4. calls the service adapter with a RequestContext (request id, region from the scope,
//     caller, base URL from the Host header).
// Every response carries x-amzn-RequestId and an RFC 1123 Date (SDKs correct clock skew from
// it).
//
// Threading: handle() may be called concurrently from any threads. `respond` is called exactly
// once, possibly later and on another thread (long-polling ReceiveMessage).
#pragma once

#include <map>
#include <string>

#include "aws/http_types.h"
#include "engine/engine.h"
#include "server/api.h"

namespace orderflow::server {

struct RouterOptions {
  // Access key -> secret key. Requests signed with any other key are refused.
  std::map<std::string, std::string, std::less<>> credentials = {{"test", "test"}};
  // Used for queue URLs when a request has no Host header (HTTP/1.0).
  std::string default_base_url = "http://127.0.0.1:4566";
};

inline constexpr std::string_view kHealthPath = "/_orderflow/health";

void handle(engine::Engine& engine, const aws::HttpRequest& request, const RouterOptions& options,
            Respond respond);

// Whether handle() answers `request` without waiting on anything: the JSON-protocol calls
// whose writes are acknowledged from the store's thread once durable (DynamoDB PutItem, SQS
// SendMessage, SendMessageBatch, DeleteMessage, DeleteMessageBatch), long polls that park
// (SQS ReceiveMessage) and reads (DynamoDB GetItem); and the Lambda Runtime API of the local
// function workers (next parks the worker's request, response and error hand the result over).
// The server may run those on its io threads (ServerOptions::runs_inline). Looks at the method,
// the path and X-Amz-Target only.
bool runs_inline(const aws::HttpRequest& request);

}  // namespace orderflow::server
