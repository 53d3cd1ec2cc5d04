#include "engine/sns/publish_validation.h"

#include <boost/json.hpp>
#include <cstdint>
#include <string>

#include "common/util.h"

namespace orderflow::engine::sns {
namespace {

namespace json = boost::json;

Status invalid(std::string message) {
  return fail(ErrorCode::sns_parameter_value_invalid, std::move(message));
}

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

// The code point starting at `i` (or the raw byte when it is not valid UTF-8), in AWS's
// "#x1F600" notation.
std::string code_point_at(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::uint32_t cp = c;
  std::size_t len = 1;
  if ((c & 0xE0) == 0xC0) {
    cp = c & 0x1F;
    len = 2;
  } else if ((c & 0xF0) == 0xE0) {
    cp = c & 0x0F;
    len = 3;
  } else if ((c & 0xF8) == 0xF0) {
    cp = c & 0x07;
    len = 4;
  }
  if (len > 1) {
    if (i + len > s.size()) {
      cp = c;
    } else {
      for (std::size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string hex;
  do {
    hex.insert(hex.begin(), kHex[cp & 15]);
    cp >>= 4;
  } while (cp != 0);
  return "#x" + hex;
}

Status validate_name(const std::string& name) {
  if (name.empty()) return invalid("The message attribute name must not be empty.");
  if (name.size() > max_attribute_name_length) {
    return invalid("Length of message attribute name must be less than 256 bytes.");
  }
  if (name.front() == '.') {
    return invalid("Invalid message attribute name starting with character '.' was found.");
  }
  if (name.back() == '.') {
    return invalid("Invalid message attribute name ending with character '.' was found.");
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!is_name_char(name[i])) {
      return invalid("Invalid non-alphanumeric character '" + code_point_at(name, i) +
                     "' was found in the message attribute name. Can only include alphanumeric "
                     "characters, hyphens, underscores, or dots.");
    }
    if (name[i] == '.' && i > 0 && name[i - 1] == '.') {
      return invalid("Message attribute name can not have successive '.' character.");
    }
  }
  return {};
}

bool has_base(std::string_view data_type, std::string_view base) {
  return data_type == base || (data_type.size() > base.size() + 1 && data_type.starts_with(base) &&
                               data_type[base.size()] == '.');
}

bool is_string_array(std::string_view data_type) { return has_base(data_type, "String.Array"); }

bool is_valid_string_array(std::string_view text) {
  json::parse_options options;
  options.max_depth = 2;
  json::error_code ec;
  json::value v = json::parse(text, ec, {}, options);
  if (ec || !v.is_array()) return false;
  for (const json::value& element : v.get_array()) {
    if (element.is_array() || element.is_object()) return false;
  }
  return true;
}

Status validate_one(const std::string& name, const MessageAttributeValue& value) {
  if (auto s = validate_name(name); !s) return s;
  if (value.data_type.empty()) {
    return fail(ErrorCode::sns_validation_error,
                "1 validation error detected: Value null at 'messageAttributes." + name +
                    ".member.dataType' failed to satisfy constraint: Member must not be null");
  }
  const std::string& type = value.data_type;
  if (type.size() > max_attribute_type_length ||
      !(has_base(type, "String") || has_base(type, "Number") || has_base(type, "Binary"))) {
    return invalid("The message attribute '" + name +
                   "' has an invalid message attribute type, the set of supported type prefixes "
                   "is Binary, Number, and String.");
  }
  const bool binary = has_base(type, "Binary");
  if (binary ? value.binary_value.empty() : value.string_value.empty()) {
    return invalid("The message attribute '" + name +
                   "' must contain non-empty message attribute value for message attribute "
                   "type '" +
                   type + "'.");
  }
  if (binary) return {};
  if (!is_valid_utf8(value.string_value)) {
    return invalid("The message attribute '" + name + "' contains invalid characters.");
  }
  if (has_base(type, "Number") && !is_valid_attribute_number(value.string_value)) {
    return invalid("Could not cast message attribute '" + name + "' value to number.");
  }
  if (is_string_array(type) && !is_valid_string_array(value.string_value)) {
    return invalid("The message attribute '" + name +
                   "' with type 'String.Array' must be a JSON array of strings, numbers, true, "
                   "false or null.");
  }
  return {};
}

}  // namespace

Status validate_sns_message_attributes(const MessageAttributes& attributes) {
  for (const auto& [name, value] : attributes) {
    if (auto s = validate_one(name, value); !s) return s;
  }
  return {};
}

std::size_t sns_message_size(std::string_view message, const MessageAttributes& attributes) {
  return message.size() + message_attributes_size(attributes);
}

Status validate_sns_message_size(std::string_view message, const MessageAttributes& attributes) {
  if (sns_message_size(message, attributes) > max_sns_message_bytes) {
    return fail(ErrorCode::sns_invalid_parameter, "Invalid parameter: Message too long");
  }
  return {};
}

}  // namespace orderflow::engine::sns
