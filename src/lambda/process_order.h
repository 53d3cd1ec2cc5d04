// The ProcessOrder function: the pieces main() wires into the Runtime API loop.
//   DynamoDbOrderStore  OrderStore over DynamoDB PutItem with
//                       ConditionExpression attribute_not_exists(orderId)
//   StreamLogSink       log lines to a stream (stdout in Lambda, which captures it), one per
//                       line, flushed at once so nothing is lost when the process is killed
//   make_order_handler  the Handler: an SQS event in, the batch response out; an invalid
//                       event is a function error (errorType "InvalidEvent")
//
// Thread-safety: DynamoDbOrderStore uses one AwsClient and so one thread; StreamLogSink is
// safe to share.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "client/aws_client.h"
#include "lambda/runtime.h"
#include "orders/processor.h"

namespace orderflow::lambda {

inline constexpr std::string_view kPutIfAbsentCondition = "attribute_not_exists(orderId)";

class DynamoDbOrderStore final : public orders::OrderStore {
 public:
  // `client` must outlive the store.
  DynamoDbOrderStore(client::AwsClient& client, std::string table)
      : client_(client), table_(std::move(table)) {}

  // stored on success; duplicate on ConditionalCheckFailedException; otherwise an error,
  // retryable when the client's last failure was (throttling, 5xx, connection).
  orders::StoreOutcome put_if_absent(const orders::Order& order, std::string_view received_at,
                                     std::string_view message_id) override;

 private:
  client::AwsClient& client_;
  const std::string table_;
};

class StreamLogSink final : public orders::LogSink {
 public:
  explicit StreamLogSink(std::FILE* out) : out_(out) {}
  void write(std::string_view line) override;

 private:
  std::mutex mu_;
  std::FILE* const out_;  // guarded by mu_
};

// Processes each invocation's payload with orders::process_sqs_event, with the invocation's
// deadline, and `options` otherwise.
Handler make_order_handler(orders::OrderStore& store, Clock& clock, orders::LogSink& log,
                           orders::ProcessOptions options = {});

}  // namespace orderflow::lambda
