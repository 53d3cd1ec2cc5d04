// Fuzz target: the order JSON (orders/order.h) and the message an SQS record carries
// (orders/envelope.h), as the function reads them.
//
// Input: an SQS record body: an SNS notification envelope or an order itself. It is unwrapped,
// and the message (and the input itself) parsed and validated as an order. Properties:
//  - the order document model round-trips: parse_json(to_json(v)) == v;
//  - a valid order stays valid when re-read from its serialization, with the same orderId;
//  - its DynamoDB item (the AttributeValue JSON the function sends) is valid JSON.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_support.h"
#include "orders/dynamodb_item.h"
#include "orders/envelope.h"
#include "orders/json.h"
#include "orders/order.h"

namespace {

namespace orders = orderflow::orders;
using orderflow::fuzz::contract_broken;

void check_order(std::string_view text) {
  if (auto doc = orders::parse_json(text)) {
    std::string serialized = orders::to_json(*doc);
    auto back = orders::parse_json(serialized);
    if (!back || !(*back == *doc)) contract_broken("parse_json(to_json(v)) != v", serialized);
    (void)orders::find_duplicate_member(*doc);
  }
  auto order = orders::parse_order(text);
  if (!order) return;
  std::string serialized = orders::to_json(order->document);
  auto again = orders::parse_order(serialized);
  if (!again) contract_broken("a valid order is refused once re-serialized", again.error().reason + "\n" + serialized);
  if (again->order_id != order->order_id) contract_broken("orderId changed on re-serialization");
  orders::JsonValue item = orders::to_dynamodb_item(*order, "2024-05-01T12:00:00.000Z", "msg-1");
  std::string item_json = orders::to_json(item);
  boost::system::error_code ec;
  boost::json::parse_options deep;
  deep.max_depth = 2 * orders::kMaxDynamoDbNesting + 4;  // two JSON levels per L / M
  boost::json::parse(item_json, ec, {}, deep);
  if (ec) contract_broken("the DynamoDB item is not JSON (or nested deeper than DynamoDB stores)", item_json);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body = orderflow::fuzz::as_text(data, size);
  auto unwrapped = orders::unwrap_message(body);
  if (unwrapped && unwrapped->message != body) check_order(unwrapped->message);
  check_order(body);
  return 0;
}
