// The Order: what a publisher sends as the SNS message, validated before it is stored.
//
// An order is a JSON object. Rules (each failure names the field and the rule broken):
//   orderId     required; a string of 1..128 characters from A-Z a-z 0-9 - _ . :
//   customerId  when present: a non-empty string of at most 256 characters
//   items       when present: a non-empty array of objects, each with
//                 sku        a non-empty string
//                 quantity   a positive integer (a JSON number without fractional part)
//                 unitPrice  a non-negative decimal JSON number
//               (other members of an item are kept)
//   currency    when present: an ISO 4217 code: three uppercase letters of an active currency
//   total       when present: a non-negative decimal JSON number; when items are present too,
//               exactly equal to the sum of quantity x unitPrice (compared as exact decimals:
//               10.1 == 10.10, and 0.1 x 3 == 0.3)
//   createdAt   when present: an RFC 3339 date-time, e.g. 2024-05-01T12:30:00.250Z or
//               2024-05-01T14:30:00+02:00 (calendar and clock ranges checked)
//   email       when present: a basic address shape local@domain.tld (no spaces, one '@',
//               at most 254 characters)
// Every number in the order, checked above or kept as given, must fit a DynamoDB number (at
// most 38 significant digits, magnitude below 1E+126 and, unless zero, at least 1E-130):
// otherwise the order could never be stored. Arrays and objects may be nested
// at most kMaxDynamoDbNesting levels below the order object (DynamoDB's limit for L and M).
// Member names must be non-empty and distinct (at every level, since the stored item cannot
// hold two values for one name).
// Every other member is kept as given, with its exact number text and member order.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orders/decimal.h"
#include "orders/json.h"

namespace orderflow::orders {

inline constexpr std::size_t kMaxOrderIdLength = 128;

struct OrderItem {
  std::string sku;
  Decimal quantity;
  Decimal unit_price;
};

// A valid order. `document` is the whole JSON object as received (unknown fields included);
// the typed members repeat what validation checked, for convenience.
struct Order {
  std::string order_id;
  std::optional<std::string> customer_id;
  std::optional<std::vector<OrderItem>> items;
  std::optional<std::string> currency;
  std::optional<Decimal> total;
  std::optional<std::string> created_at;
  std::optional<std::string> email;
  JsonValue document;
};

// Why an order was refused. `order_id` is set when the document had a valid orderId (so the
// rejection can still be logged against it).
struct Rejection {
  std::string reason;  // e.g. "items[1].quantity must be a positive integer"
  std::optional<std::string> order_id;
};

using OrderResult = std::expected<Order, Rejection>;

// Parses and validates an order from its JSON text.
OrderResult parse_order(std::string_view json_text);
// Validates an already parsed document (takes ownership).
OrderResult validate_order(JsonValue document);

// The individual rules, exposed for tests and for other producers of orders.
bool is_valid_order_id(std::string_view id);
bool is_iso4217_currency(std::string_view code);
bool is_rfc3339_date_time(std::string_view text);
bool is_plausible_email(std::string_view text);
// True when `d` can be stored as a DynamoDB number.
bool fits_dynamodb_number(const Decimal& d);
// DynamoDB nests L and M values at most this deep (a member of the item is at depth 1).
inline constexpr int kMaxDynamoDbNesting = 32;
// True when `value`, at `depth` in an item, and everything inside it fit kMaxDynamoDbNesting.
bool fits_dynamodb_nesting(const JsonValue& value, int depth);
// The text of the first number in `value` (depth first) that is not a DynamoDB number, or null.
const std::string* first_unstorable_number(const JsonValue& value);

}  // namespace orderflow::orders
