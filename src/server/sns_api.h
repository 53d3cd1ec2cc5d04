// The SNS API adapter (query protocol): decoded form parameters in, one XML response out
// through `respond`, no sockets.
//
// The router calls sns_handle with every decoded parameter of the request (form body and query
// string, Action and Version included). The adapter decodes SNS's non-flattened lists and maps
//   Attributes.entry.N.key / .value                 (CreateTopic, Subscribe)
//   Tags.member.N.Key / .Value                      (CreateTopic)
//   MessageAttributes.entry.N.Name, .Value.DataType, .Value.StringValue, .Value.BinaryValue
//                                                   (Publish; BinaryValue is base64)
//   PublishBatchRequestEntries.member.N.Id / .Message / .Subject / .MessageStructure /
//     .MessageAttributes.entry.M...                 (PublishBatch)
// calls engine::Topics and answers (Content-Type text/xml)
//   <{Op}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><{Op}Result>...</{Op}Result>
//   <ResponseMetadata><RequestId>{ctx.request_id}</RequestId></ResponseMetadata></{Op}Response>
// with lists as <member> elements and maps as <entry><key/><value/></entry>.
//
// Errors: <ErrorResponse xmlns="..."><Error><Type>Sender|Receiver</Type><Code>..</Code>
// <Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse> with the catalogue's
// status. An unknown Action is InvalidAction (400); a missing required parameter is
// ValidationError "1 validation error detected: Value null at 'topicArn' failed to satisfy
// constraint: Member must not be null" (Publish without TopicArn and TargetArn: InvalidParameter,
// as SNS answers); parameter values that are not valid UTF-8 are InvalidParameter.
//
// Operations: CreateTopic, DeleteTopic, ListTopics, GetTopicAttributes, SetTopicAttributes,
// Subscribe, Unsubscribe, ListSubscriptions, ListSubscriptionsByTopic,
// GetSubscriptionAttributes, SetSubscriptionAttributes, Publish, PublishBatch.
//
// `respond` is called exactly once, before sns_handle returns. Thread-safe (the adapter keeps
// no state; engine::Topics is thread-safe).
#pragma once

#include "aws/uri.h"
#include "engine/engine.h"
#include "server/api.h"

namespace orderflow::server {

void sns_handle(engine::Engine& engine, const aws::QueryParams& params, const RequestContext& ctx,
                Respond respond);

}  // namespace orderflow::server
