#include "lambda/process_order.h"

#include "orders/dynamodb_item.h"
#include "orders/json.h"

namespace orderflow::lambda {

orders::StoreOutcome DynamoDbOrderStore::put_if_absent(const orders::Order& order,
                                                       std::string_view received_at,
                                                       std::string_view message_id) {
  std::string item = orders::to_json(orders::to_dynamodb_item(order, received_at, message_id));
  auto r = client_.dynamodb_put_item(table_, item, kPutIfAbsentCondition);
  if (!r) return orders::StoreOutcome::error(r.error().describe(), r.error().retryable);
  return *r == client::PutItemOutcome::stored ? orders::StoreOutcome::stored()
                                              : orders::StoreOutcome::duplicate();
}

void StreamLogSink::write(std::string_view line) {
  std::lock_guard g(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fputc('\n', out_);
  std::fflush(out_);
}

Handler make_order_handler(orders::OrderStore& store, Clock& clock, orders::LogSink& log,
                           orders::ProcessOptions options) {
  return [&store, &clock, &log, options](const Invocation& invocation) {
    orders::ProcessOptions o = options;
    if (invocation.deadline != TimePoint{}) o.deadline = invocation.deadline;
    auto result = orders::process_sqs_event(invocation.payload, store, clock, log, o);
    if (!result) {
      std::string line = "{\"level\":\"ERROR\",\"message\":";
      orders::append_json_string(line, "invalid event: " + result.error().message);
      line += ",\"requestId\":";
      orders::append_json_string(line, invocation.request_id);
      log.write(line + "}");
      return InvocationResponse::failure("InvalidEvent", result.error().message);
    }
    return InvocationResponse::ok(std::move(result->response_body));
  };
}

}  // namespace orderflow::lambda
