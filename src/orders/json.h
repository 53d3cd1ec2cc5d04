// A small JSON document model for orders and Lambda events that keeps what a generic DOM loses:
// the exact text of every number ("12.50" stays "12.50", 123456789012345678901234567890 stays
// exact) and the order of object members. Money and DynamoDB numbers need both.
//
// Parsing is strict RFC 8259 (via Boost.JSON's validating parser): UTF-8 only, no comments, no
// trailing commas, at most kMaxJsonDepth levels of nesting, nothing after the value. Duplicate
// member names are kept as given (the parser does not judge them; see find_duplicate_member).
//
// Thread-safety: values are plain data; the free functions are pure.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace orderflow::orders {

inline constexpr std::size_t kMaxJsonDepth = 64;

class JsonValue;
using JsonArray = std::vector<JsonValue>;
using JsonObject = std::vector<std::pair<std::string, JsonValue>>;  // members in document order

// A JSON number as its source text, e.g. "-1.5e3". Always valid JSON number syntax.
struct JsonNumber {
  std::string text;
  friend bool operator==(const JsonNumber&, const JsonNumber&) = default;
};

class JsonValue {
 public:
  using Storage = std::variant<std::nullptr_t, bool, JsonNumber, std::string, JsonArray, JsonObject>;

  JsonValue() : v_(nullptr) {}
  JsonValue(std::nullptr_t) : v_(nullptr) {}
  JsonValue(bool b) : v_(b) {}
  JsonValue(JsonNumber n) : v_(std::move(n)) {}
  JsonValue(std::string s) : v_(std::move(s)) {}
  JsonValue(const char* s) : v_(std::string(s)) {}
  JsonValue(JsonArray a) : v_(std::move(a)) {}
  JsonValue(JsonObject o) : v_(std::move(o)) {}

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_number() const { return std::holds_alternative<JsonNumber>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_array() const { return std::holds_alternative<JsonArray>(v_); }
  bool is_object() const { return std::holds_alternative<JsonObject>(v_); }

  // Accessors; precondition: the value holds that type.
  bool as_bool() const { return std::get<bool>(v_); }
  const JsonNumber& as_number() const { return std::get<JsonNumber>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const JsonArray& as_array() const { return std::get<JsonArray>(v_); }
  const JsonObject& as_object() const { return std::get<JsonObject>(v_); }
  JsonArray& as_array() { return std::get<JsonArray>(v_); }
  JsonObject& as_object() { return std::get<JsonObject>(v_); }

  // The first member named `name` of an object, or nullptr (also when this is not an object).
  const JsonValue* find(std::string_view name) const;

  // "null", "boolean", "number", "string", "array" or "object" (for error messages).
  std::string_view type_name() const;

  const Storage& storage() const { return v_; }
  friend bool operator==(const JsonValue&, const JsonValue&) = default;

 private:
  Storage v_;
};

struct JsonParseError {
  std::size_t offset = 0;  // byte offset where parsing stopped
  std::string message;     // e.g. "syntax error at offset 12"
};

// Parses one JSON document.
std::expected<JsonValue, JsonParseError> parse_json(std::string_view text);

// Compact serialization (no insignificant whitespace). Numbers are written as their text,
// strings with the minimal JSON escapes (", \, control characters); other UTF-8 as is.
std::string to_json(const JsonValue& value);
// Appends `s` as a JSON string literal (with quotes) to `out`.
void append_json_string(std::string& out, std::string_view s);

// The first member name that appears twice in some object of `value` (searched depth-first),
// or nullptr when every object's names are distinct.
const std::string* find_duplicate_member(const JsonValue& value);

}  // namespace orderflow::orders
