#include "engine/message_attributes.h"

#include <cstdint>

#include "common/util.h"

namespace orderflow::engine {
namespace {

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

bool starts_with_ignore_case(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    char b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

void append_length_prefixed(std::string& out, std::string_view bytes) {
  const auto n = static_cast<std::uint32_t>(bytes.size());
  out.push_back(static_cast<char>((n >> 24) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.append(bytes);
}

// True when `data_type` is Base or Base.<non-empty suffix> for one of the three base types.
bool is_valid_sqs_data_type(std::string_view data_type) {
  for (std::string_view base : {"String", "Number", "Binary"}) {
    if (data_type == base) return true;
    if (data_type.size() > base.size() + 1 && data_type.starts_with(base) &&
        data_type[base.size()] == '.') {
      return true;
    }
  }
  return false;
}

Status invalid(std::string message) {
  return fail(ErrorCode::invalid_parameter_value, std::move(message));
}

constexpr std::string_view kInvalidCharacters =
    "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | "
    "#xE000 to #xFFFD | #x10000 to #x10FFFF";

Status validate_name(const std::string& name) {
  if (name.empty()) {
    return invalid("The request must contain non-empty message attribute names.");
  }
  if (name.size() > max_attribute_name_length) {
    return invalid("Message (user) attribute names must be shorter than 256 Bytes");
  }
  for (char c : name) {
    if (!is_name_char(c)) {
      return invalid(
          "Message (user) attributes name can only contain upper and lower score characters, "
          "digits, periods, hyphens and underscores. ");
    }
  }
  if (starts_with_ignore_case(name, "AWS.") || starts_with_ignore_case(name, "Amazon.") ||
      name.front() == '.' || name.back() == '.') {
    return invalid(
        "You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. These strings "
        "are reserved for internal use. Additionally, they cannot start or end with '.'.");
  }
  if (name.find("..") != std::string::npos) {
    return invalid("Message (user) attribute name must not have successive '.' characters.");
  }
  return {};
}

Status validate_one(const std::string& name, const MessageAttributeValue& value) {
  if (auto s = validate_name(name); !s) return s;
  if (value.data_type.empty()) {
    return invalid("The message attribute '" + name +
                   "' must contain non-empty message attribute type.");
  }
  if (value.data_type.size() > max_attribute_type_length) {
    return invalid("Message (user) attribute types must be shorter than 256 Bytes");
  }
  if (!is_valid_sqs_data_type(value.data_type)) {
    return invalid("The type of message (user) attribute '" + name +
                   "' is invalid. You must use only the following supported type prefixes: "
                   "Binary, Number, String.");
  }
  const std::string_view base = attribute_base_type(value.data_type);
  const bool empty = base == "Binary" ? value.binary_value.empty() : value.string_value.empty();
  if (empty) {
    return invalid("Message (user) attribute '" + name +
                   "' must contain a non-empty value of type '" + std::string(base) + "'.");
  }
  if (base == "Number" && !is_valid_attribute_number(value.string_value)) {
    return invalid("Can't cast the value of message (user) attribute '" + name + "' to a number.");
  }
  if (base == "String" && !is_valid_sqs_body(value.string_value)) {
    return invalid(std::string(kInvalidCharacters));
  }
  return {};
}

}  // namespace

bool MessageAttributeValue::is_binary() const { return attribute_base_type(data_type) == "Binary"; }

std::string_view attribute_base_type(std::string_view data_type) {
  return data_type.substr(0, data_type.find('.'));
}

bool is_valid_attribute_number(std::string_view text) {
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;

  // Integer part, then optional fraction; at least one digit overall.
  std::string_view int_digits;
  std::string_view frac_digits;
  const std::size_t int_start = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  int_digits = text.substr(int_start, i - int_start);
  if (i < text.size() && text[i] == '.') {
    ++i;
    const std::size_t frac_start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    frac_digits = text.substr(frac_start, i - frac_start);
  }
  if (int_digits.empty() && frac_digits.empty()) return false;

  // Optional exponent, saturated so a huge exponent cannot overflow.
  std::int64_t exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    const std::size_t exp_start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (exponent < 1'000'000) exponent = exponent * 10 + (text[i] - '0');
      ++i;
    }
    if (i == exp_start) return false;
    if (negative) exponent = -exponent;
  }
  if (i != text.size()) return false;

  // Significant digits: all digits without leading and trailing zeros.
  std::string digits;
  digits.reserve(int_digits.size() + frac_digits.size());
  digits.append(int_digits);
  digits.append(frac_digits);
  const std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return true;  // zero
  const std::size_t last = digits.find_last_not_of('0');
  const std::size_t significant = last - first + 1;
  if (significant > 38) return false;

  // value = 0.d1d2... x 10^e10 with d1 != 0, so 10^(e10-1) <= |value| < 10^e10.
  const std::int64_t e10 =
      static_cast<std::int64_t>(int_digits.size()) - static_cast<std::int64_t>(first) + exponent;
  const bool is_power_of_ten = significant == 1 && digits[first] == '1';
  if (e10 > 127 || (e10 == 127 && !is_power_of_ten)) return false;  // |value| <= 10^126
  if (e10 - 1 < -128) return false;                                 // |value| >= 10^-128
  return true;
}

Status validate_sqs_message_attributes(const MessageAttributes& attributes) {
  if (attributes.size() > max_sqs_message_attributes) {
    return invalid("Number of message attributes [" + std::to_string(attributes.size()) +
                   "] exceeds the allowed maximum [" + std::to_string(max_sqs_message_attributes) +
                   "].");
  }
  for (const auto& [name, value] : attributes) {
    if (auto s = validate_one(name, value); !s) return s;
  }
  return {};
}

std::string md5_of_message_attributes(const MessageAttributes& attributes) {
  if (attributes.empty()) return {};
  std::string buffer;
  for (const auto& [name, value] : attributes) {
    append_length_prefixed(buffer, name);
    append_length_prefixed(buffer, value.data_type);
    if (value.is_binary()) {
      buffer.push_back(static_cast<char>(2));
      append_length_prefixed(buffer, value.binary_value);
    } else {
      buffer.push_back(static_cast<char>(1));
      append_length_prefixed(buffer, value.string_value);
    }
  }
  return md5_hex(buffer);
}

std::size_t message_attributes_size(const MessageAttributes& attributes) {
  std::size_t total = 0;
  for (const auto& [name, value] : attributes) {
    total += name.size() + value.data_type.size() +
             (value.is_binary() ? value.binary_value.size() : value.string_value.size());
  }
  return total;
}

bool is_valid_sqs_body(std::string_view body) {
  std::size_t i = 0;
  const std::size_t n = body.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(body[i]);
    std::uint32_t cp = 0;
    std::size_t len = 0;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F;
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F;
      len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07;
      len = 4;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(body[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Reject overlong encodings.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) {
      return false;
    }
    const bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
    if (!allowed) return false;
    i += len;
  }
  return true;
}

}  // namespace orderflow::engine
