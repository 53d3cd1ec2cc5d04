// `orderflow orders get ID` and `orderflow orders list`, and the pieces other subcommands share
// for reading orders: DynamoDB items as plain JSON, and the orderId inside a message body.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json/fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderflow::cli {

// True when `text` is a JSON number (RFC 8259 grammar).
bool is_json_number(std::string_view text);

// A DynamoDB item (attribute name -> AttributeValue JSON) as a plain JSON object: S -> string,
// N -> number with its exact text (a string when the text is not a JSON number), BOOL, NULL,
// L, M, SS/NS/BS -> arrays, B -> its base64 string. "orderId" comes first, the other
// attributes in the order received. `indent` 0 gives one line, otherwise nested lines
// indented by `indent` spaces per level.
std::string item_to_json(const boost::json::object& item, int indent = 0);

// The text of attribute `name` when it is an S or N value, else "".
std::string attribute_text(const boost::json::object& item, std::string_view name);
// The number of elements of an L attribute, or nullopt.
std::optional<std::size_t> attribute_list_size(const boost::json::object& item,
                                               std::string_view name);

// Sorts items newest first by receivedAt, else createdAt (RFC 3339 text, compared as text);
// items with neither come last, in the order given.
void sort_newest_first(std::vector<boost::json::object>& items);

// The "orderId" string of a message that is a JSON object, or nullopt.
std::optional<std::string> order_id_in_message(std::string_view message);
// The published message inside an SQS body: the SNS envelope's Message when the body is one
// (orders::unwrap_message), else the body itself.
std::string message_in_body(std::string_view body);
// order_id_in_message(message_in_body(body)).
std::optional<std::string> order_id_in_body(std::string_view body);

}  // namespace orderflow::cli
