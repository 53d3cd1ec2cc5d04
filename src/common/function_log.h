// The structured line the order function logs for each record (orders/processor.h):
//   {"level":..,"orderId":..,"messageId":..,"approximateReceiveCount":..,"outcome":..,
//    "reason":..,"retryable":..}
// possibly after a prefix (the JSON starts at the first '{'). Read by `orderflow dlq list` and
// the dashboard to find why a message failed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace orderflow {

struct FunctionLogRecord {
  std::string message_id;
  std::string order_id;
  std::string outcome;
  std::string reason;  // empty when the line gives none
};

// The record in `line`; nullopt when the line holds no JSON object.
std::optional<FunctionLogRecord> parse_function_log_line(std::string_view line);

}  // namespace orderflow
