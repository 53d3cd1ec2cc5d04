// The ProcessOrder function: the pieces main() wires into the Runtime API loop.
//   DynamoDbOrderStore  OrderStore over DynamoDB PutItem with
//                       ConditionExpression attribute_not_exists(orderId); put_all runs up to
//                       `concurrency` PutItems at once (the calling thread and helper
//                       threads, each with its own client and so its own connection)
//   StreamLogSink       log lines to a stream (stdout in Lambda, which captures it), one per
//                       line, flushed at once so nothing is lost when the process is killed
//   make_order_handler  the Handler: an SQS event in, the batch response out; an invalid
//                       event is a function error (errorType "InvalidEvent")
//
// Thread-safety: a DynamoDbOrderStore is used by one thread at a time (its helpers are its
// own); StreamLogSink is safe to share.
#pragma once

#include <cstdio>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "client/aws_client.h"
#include "lambda/runtime.h"
#include "orders/processor.h"

namespace orderflow::lambda {

inline constexpr std::string_view kPutIfAbsentCondition = "attribute_not_exists(orderId)";

class DynamoDbOrderStore final : public orders::OrderStore {
 public:
  // Makes a client for a helper thread (called on that thread, the first time it has work);
  // an error message when it cannot.
  using ClientFactory =
      std::function<std::expected<std::unique_ptr<client::AwsClient>, std::string>()>;

  // `client` must outlive the store. With concurrency > 1 and a factory, put_all uses up to
  // concurrency - 1 helper threads (started the first time there is work for them).
  DynamoDbOrderStore(client::AwsClient& client, std::string table, std::size_t concurrency = 1,
                     ClientFactory factory = {});
  ~DynamoDbOrderStore() override;
  DynamoDbOrderStore(const DynamoDbOrderStore&) = delete;
  DynamoDbOrderStore& operator=(const DynamoDbOrderStore&) = delete;

  // stored on success; duplicate on ConditionalCheckFailedException; otherwise an error,
  // retryable when the client's last failure was (throttling, 5xx, connection).
  orders::StoreOutcome put_if_absent(const orders::Order& order, std::string_view received_at,
                                     std::string_view message_id) override;

  // The requests spread over the calling thread and the helpers; returns when all are done.
  // A helper whose client cannot be made answers its puts with a non-retryable error.
  std::vector<std::optional<orders::StoreOutcome>> put_all(
      std::span<const orders::PutRequest> requests,
      const std::function<bool()>& may_start) override;

 private:
  struct Pool;
  client::AwsClient& client_;
  const std::string table_;
  const std::size_t concurrency_;
  ClientFactory factory_;
  std::unique_ptr<Pool> pool_;  // helper threads, once started
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
