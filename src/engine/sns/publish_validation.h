// Pure checks SNS applies to a Publish request's message attributes and size.
// Thread-safe, no storage.
#pragma once

#include <cstddef>
#include <string_view>

#include "common/result.h"
#include "engine/message_attributes.h"

namespace orderflow::engine::sns {

// Largest published message, in bytes, counting the message and all attribute names, types
// and values (message_attributes_size).
inline constexpr std::size_t max_sns_message_bytes = 262144;

// Validates Publish message attributes, in name order, reporting the first violation.
// Rules: name 1..256 bytes of [A-Za-z0-9_.-], not starting or ending with '.', no "..";
// DataType required (ErrorCode::sns_validation_error, "1 validation error detected: Value null
// at 'messageAttributes.<name>.member.dataType' failed to satisfy constraint: Member must not be
// null"); DataType String, String.Array, Number or Binary, optionally with a ".<custom>"
// suffix; String/Number/String.Array need a non-empty StringValue, Binary a non-empty
// BinaryValue; Number values must be numbers (is_valid_attribute_number); String.Array values a
// JSON array of strings, numbers, true, false or null; string values valid UTF-8.
// Other errors are ErrorCode::sns_parameter_value_invalid with AWS's wording, e.g.
// "The message attribute 'x' has an invalid message attribute type, the set of supported type
// prefixes is Binary, Number, and String."
Status validate_sns_message_attributes(const MessageAttributes& attributes);

// Bytes a published message counts toward max_sns_message_bytes.
std::size_t sns_message_size(std::string_view message, const MessageAttributes& attributes);

// Error (sns_invalid_parameter) "Invalid parameter: Message too long" when
// sns_message_size(...) > max_sns_message_bytes.
Status validate_sns_message_size(std::string_view message, const MessageAttributes& attributes);

}  // namespace orderflow::engine::sns
