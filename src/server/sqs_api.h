// The SQS API adapter: SQS operations over both of SQS's wire protocols, on engine::Queues.
//
//  - query protocol: form parameters (Action=SendMessage&QueueUrl=...&MessageAttribute.1.Name=..)
//    in, XML out (namespace http://queue.amazonaws.com/doc/2012-11-05/, <Op>Response/<Op>Result,
//    flattened lists, ResponseMetadata/RequestId); errors as <ErrorResponse>.
//  - JSON protocol (AWS JSON 1.0, awsQueryCompatible): X-Amz-Target AmazonSQS.<Op>, JSON object
//    in and out; errors as {"__type":"com.amazonaws.sqs#...","message":..} plus the header
//    x-amzn-query-error: <query code>;Sender.
//
// Each operation is written once: it reads its input through one interface (implemented for
// form parameters and for JSON) and builds one result tree that is rendered as XML or JSON.
//
// Queue URLs handed out are `<ctx.base_url>/<ctx.account_id>/<name>`; any URL whose path is
// /<account>/<name> is accepted (any scheme and host), and in the query protocol the legacy
// form that names the queue in the request path (POST /000000000000/name) too.
//
// Input bounds: JSON nesting depth <= 32, strings must be valid UTF-8; wrong JSON types are
// InvalidParameterValue, malformed JSON is SerializationException, missing required members
// are MissingParameter.
//
// Threading: callable from any thread. `respond` is called exactly once: synchronously for
// every operation except a ReceiveMessage that long-polls, which answers from an engine thread
// when a message arrives or its wait ends; nothing here blocks waiting for messages.
#pragma once

#include <string_view>

#include "aws/uri.h"
#include "engine/engine.h"
#include "server/api.h"

namespace orderflow::server {

// One query-protocol request. `params` holds every parameter (Action included); `path` is the
// request path, which names the queue in the legacy form.
void sqs_handle_query(engine::Engine& engine, const aws::QueryParams& params, std::string_view path,
                      const RequestContext& ctx, Respond respond);

// One JSON-protocol request: `operation` is the part of X-Amz-Target after "AmazonSQS.".
void sqs_handle_json(engine::Engine& engine, std::string_view operation, std::string_view body,
                     const RequestContext& ctx, Respond respond);

}  // namespace orderflow::server
