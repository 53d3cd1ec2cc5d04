// An order as a DynamoDB item, in the AttributeValue JSON of the DynamoDB API:
//   string -> {"S": "..."}        number -> {"N": "<the exact JSON number text>"}
//   true/false -> {"BOOL": b}     null -> {"NULL": true}
//   array -> {"L": [...]}         object -> {"M": {...}}
// Numbers keep their text ("12.50" stays "12.50"; DynamoDB canonicalizes on its side), so no
// precision is lost on the way. Sets (SS/NS/BS) and binary (B) are never produced: JSON has
// neither.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "orders/json.h"
#include "orders/order.h"

namespace orderflow::orders {

// The AttributeValue of one JSON value.
JsonValue to_attribute_value(const JsonValue& value);

// The item for `order`: one attribute per member of the order document, plus
//   receivedAt  {"S": received_at}   when the order was received (ISO 8601 UTC, ms)
//   messageId   {"S": message_id}    the SNS MessageId (or the SQS messageId of a raw body)
// These two replace order members of the same name: they describe the delivery, which the
// publisher cannot know.
JsonValue to_dynamodb_item(const Order& order, std::string_view received_at,
                           std::string_view message_id);

}  // namespace orderflow::orders
