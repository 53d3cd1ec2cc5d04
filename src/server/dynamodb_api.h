// The DynamoDB API adapter (AWS JSON 1.0): one request body in, one response out, no sockets.
//
// The router calls dynamodb_handle with the operation named by `X-Amz-Target:
// DynamoDB_20120810.<Op>` and the raw body. The adapter parses the body (Boost.JSON), checks
// member types and required members as DynamoDB does, calls engine::Tables and renders the
// answer as DynamoDB does. Every response (success or error) carries
//   Content-Type: application/x-amz-json-1.0
//   x-amz-crc32: decimal CRC-32 (zlib polynomial) of the exact body bytes.
// x-amzn-RequestId is left to the server, which adds it to every response.
//
// Errors, as {"__type": <catalogue json_type>, "message": "..."} with the catalogue's status:
//   malformed JSON, a body that is not an object, a member of the wrong JSON type
//     -> com.amazon.coral.service#SerializationException ("Message")
//   an operation that is not one of the fifteen below -> UnknownOperationException
//   a missing required member, an enum value out of its set -> ValidationException with
//     "N validation error(s) detected: Value null at 'tableName' failed to satisfy ..."
//   parameters the engine does not support (IndexName, secondary indexes, streams, legacy
//     non-expression parameters such as KeyConditions/Expected) -> ValidationException
//   engine errors as the engine reports them; ConditionalCheckFailedException carries "Item"
//     when ReturnValuesOnConditionCheckFailure is ALL_OLD; TransactionCanceledException
//     carries "CancellationReasons" and "Message" (capital M, as DynamoDB spells it).
//
// Operations: CreateTable, DescribeTable, ListTables, DeleteTable, UpdateTable (billing mode,
// provisioned throughput, deletion protection), PutItem, GetItem, DeleteItem, UpdateItem,
// Query, Scan, BatchWriteItem, BatchGetItem, TransactWriteItems, TransactGetItems.
//
// Thread-safety: as thread-safe as engine::Tables (fully); the adapter keeps no state.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/tables.h"
#include "common/crc32.h"
#include "server/api.h"

namespace orderflow::server {

// Answers through `reply`: at once, except PutItem, which answers on the store's thread once
// its write is durable (the calling thread never waits for the disk).
void dynamodb_handle_async(engine::Tables& tables, std::string_view operation, std::string_view body,
                           const RequestContext& ctx, Respond reply);
// The same, waiting for the answer.
ApiResponse dynamodb_handle(engine::Tables& tables, std::string_view operation,
                            std::string_view body, const RequestContext& ctx);


}  // namespace orderflow::server
