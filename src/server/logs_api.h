// The CloudWatch Logs API adapter (AWS JSON 1.1): one request body in, one response out, no
// sockets.
//
// The router calls logs_handle with the operation named by `X-Amz-Target:
// Logs_20140328.<Op>` and the raw body. The adapter parses the body (Boost.JSON), checks member
// types, required members, enum values and list sizes as the model (reference/aws-models/
// logs.json) states them, calls engine::Logs, and renders the answer as CloudWatch Logs does
// (epoch-millisecond integers, absent members left out). Every response carries
//   Content-Type: application/x-amz-json-1.1
// x-amzn-RequestId is left to the server, which adds it to every response.
//
// Errors, as {"__type": <catalogue json_type>, "message": "..."} with the catalogue's status:
//   malformed JSON, a body that is not an object, a member of the wrong JSON type
//     -> SerializationException
//   an operation not listed below -> UnknownOperationException
//   a missing required member, an enum value out of its set, a list of the wrong size
//     -> InvalidParameterException "N validation error(s) detected: Value null at
//        'logGroupName' failed to satisfy constraint: Member must not be null; ..."
//   both logGroupName and logGroupIdentifier -> ValidationException "LogGroup name and
//     LogGroup ARN are mutually exclusive parameters."; neither -> InvalidParameterException
//   engine errors as the engine reports them (ResourceNotFoundException,
//     ResourceAlreadyExistsException, InvalidParameterException, TooManyTagsException, ...)
//
// Operations: CreateLogGroup, DeleteLogGroup, DescribeLogGroups, PutRetentionPolicy,
// DeleteRetentionPolicy, PutLogGroupDeletionProtection, CreateLogStream, DeleteLogStream,
// DescribeLogStreams, PutLogEvents, GetLogEvents, FilterLogEvents, TagLogGroup, UntagLogGroup,
// ListTagsLogGroup, TagResource, UntagResource, ListTagsForResource. Accepted and ignored:
// sequenceToken and entity (PutLogEvents), unmask, interleaved, includeLinkedAccounts and
// accountIdentifiers.
//
// Thread-safety: as thread-safe as engine::Logs (fully); the adapter keeps no state.
#pragma once

#include <string_view>

#include "engine/logs.h"
#include "server/api.h"

namespace orderflow::server {

ApiResponse logs_handle(engine::Logs& logs, std::string_view operation, std::string_view body,
                        const RequestContext& ctx);

}  // namespace orderflow::server
