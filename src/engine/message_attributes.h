// Message attributes as SQS and SNS carry them, and the pure rules SQS applies to them:
// validation with SQS's error texts, the MD5OfMessageAttributes digest clients check, the
// size they add to a message, and the characters SQS accepts in a message body.
//
// Everything here is a pure function of its arguments: no storage, no clock, thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace orderflow::engine {

// One user message attribute. `data_type` is the full type as sent, custom suffix included
// ("String", "Number.float", "Binary.gif", and for SNS also "String.Array").
// String and Number types carry `string_value`; Binary types carry `binary_value`, the raw
// (already base64-decoded) bytes. The other value field is ignored.
struct MessageAttributeValue {
  std::string data_type;
  std::string string_value;
  std::string binary_value;

  // True when the base type (the part before the first '.') is "Binary".
  bool is_binary() const;

  friend bool operator==(const MessageAttributeValue&, const MessageAttributeValue&) = default;
};

// Attribute name -> value. std::map keeps names in byte order, the order AWS digests them.
using MessageAttributes = std::map<std::string, MessageAttributeValue>;

// SQS accepts at most this many user attributes on one message.
inline constexpr std::size_t max_sqs_message_attributes = 10;
// Longest attribute name and longest DataType, in bytes (AWS: "up to 256 characters").
inline constexpr std::size_t max_attribute_name_length = 256;
inline constexpr std::size_t max_attribute_type_length = 256;

// The base type of a DataType: "Number.float" -> "Number", "String" -> "String".
std::string_view attribute_base_type(std::string_view data_type);

// True when `text` is a number as SQS/SNS accept it in a Number attribute: an optional sign,
// decimal digits with an optional fraction (at least one digit), an optional exponent;
// at most 38 significant digits; magnitude 0 or within [10^-128, 10^126].
bool is_valid_attribute_number(std::string_view text);

// Validates the user attributes of one SQS message, checking attributes in name order and
// reporting the first violation. Every error is ErrorCode::invalid_parameter_value with the
// text SQS uses, e.g.
//   "Number of message attributes [11] exceeds the allowed maximum [10]."
//   "Message (user) attribute 'x' must contain a non-empty value of type 'String'."
//   "Can't cast the value of message (user) attribute 'x' to a number."
// Rules: <= 10 attributes; name 1..256 bytes of [A-Za-z0-9_.-], not starting with "AWS." or
// "Amazon." (any case), not starting or ending with '.', no ".."; DataType 1..256 bytes,
// "String", "Number" or "Binary", optionally followed by ".<custom>"; String/Number need a
// non-empty StringValue, Binary a non-empty BinaryValue; Number values must satisfy
// is_valid_attribute_number; String values must satisfy is_valid_sqs_body.
Status validate_sqs_message_attributes(const MessageAttributes& attributes);

// MD5OfMessageAttributes exactly as SQS computes it (lowercase hex): for each attribute in
// byte order of name, append 4-byte big-endian length + bytes of the name, of the DataType,
// then one transport byte (1 = string value, 2 = binary value), then length + bytes of the
// value; MD5 of the concatenation. Returns "" for no attributes (SQS then omits the field).
std::string md5_of_message_attributes(const MessageAttributes& attributes);

// Bytes the attributes add to a message for the size limit: the sum over attributes of
// name + DataType + value (StringValue, or the raw BinaryValue bytes).
std::size_t message_attributes_size(const MessageAttributes& attributes);

// True when `body` is well-formed UTF-8 made only of the characters SQS allows:
// #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. An empty body is "valid" here; the
// caller checks the minimum length (1 byte) separately.
bool is_valid_sqs_body(std::string_view body);

}  // namespace orderflow::engine
