// DynamoDB attribute values: the ten AttributeValue types as a C++ value type, DynamoDB's
// decimal Number, conversion from/to the wire JSON form ({"S":"x"}, {"N":"1"}, ...), item size
// as DynamoDB counts it, a compact binary encoding for persisting items and an
// order-preserving encoding for key values.
//
// Every function here is pure and thread-compatible. Errors are ErrorCode::ddb_validation with
// DynamoDB's message text.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/fwd.hpp>

#include "common/result.h"

namespace orderflow::engine::ddb {

// A DynamoDB number: an exact decimal with at most 38 significant digits and a magnitude of 0
// or in [1E-130, 9.9999999999999999999999999999999999999E+125].
//
// Stored normalised: `digits` holds the significant digits without leading or trailing zeros
// (empty for zero) and the value is 0.d1d2...dn x 10^exponent.
class Number {
 public:
  Number() = default;  // zero

  // Parses DynamoDB's number syntax: [+-]digits[.digits][(e|E)[+-]digits], also ".5" and "5.".
  // Errors: "A value provided cannot be converted into a number" for bad syntax; the overflow,
  // underflow and precision messages for values DynamoDB cannot store.
  static Result<Number> parse(std::string_view text);
  static Number from_int(std::int64_t v);

  // Canonical form as DynamoDB returns it: plain notation, no exponent, no leading zeros, no
  // trailing fraction zeros, "-" only for negatives ("1.0" -> "1", "1e2" -> "100", "-0" -> "0").
  std::string to_string() const;

  // Exact sum/difference; fails with DynamoDB's overflow/underflow/precision messages when the
  // result cannot be stored.
  Result<Number> add(const Number& other) const;
  Result<Number> subtract(const Number& other) const;
  Number negated() const;

  bool is_zero() const { return digits_.empty(); }
  bool negative() const { return negative_; }
  std::size_t significant_digits() const { return digits_.size(); }

  std::strong_ordering operator<=>(const Number& other) const;
  bool operator==(const Number& other) const = default;

  // Order-preserving, self-delimiting byte encoding (for keys).
  void encode_key(std::string& out) const;

 private:
  static Result<Number> make(bool negative, std::string digits, int exponent);
  bool negative_ = false;
  std::string digits_;  // '1'..'9' first and last, or empty for zero
  int exponent_ = 0;
};

struct Binary {
  std::string bytes;
  auto operator<=>(const Binary&) const = default;
};
struct Null {
  auto operator<=>(const Null&) const = default;
};

struct AttributeValue;
using Map = std::map<std::string, AttributeValue>;  // attribute name -> value
using List = std::vector<AttributeValue>;
using Item = Map;  // an item is a map of top-level attributes

// Sets are kept sorted (strings and binaries by bytes, numbers numerically) and duplicate-free.
struct StringSet {
  std::set<std::string> values;
  bool operator==(const StringSet&) const = default;
};
struct NumberSet {
  std::set<Number> values;
  bool operator==(const NumberSet&) const = default;
};
struct BinarySet {
  std::set<std::string> values;
  bool operator==(const BinarySet&) const = default;
};

// Type tags, in the order of the variant alternatives below.
enum class Type : std::uint8_t { S, N, B, BOOL, NULL_, M, L, SS, NS, BS };

// "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS".
std::string_view type_name(Type t);
std::optional<Type> type_from_name(std::string_view name);

struct AttributeValue {
  using Variant = std::variant<std::string, Number, Binary, bool, Null, Map, List, StringSet,
                               NumberSet, BinarySet>;
  Variant v;

  AttributeValue() : v(Null{}) {}
  AttributeValue(Variant value) : v(std::move(value)) {}  // NOLINT: implicit by design

  Type type() const { return static_cast<Type>(v.index()); }
  template <class T>
  bool is() const {
    return std::holds_alternative<T>(v);
  }
  template <class T>
  const T& as() const {
    return std::get<T>(v);
  }
  template <class T>
  T& as() {
    return std::get<T>(v);
  }
  template <class T>
  const T* get_if() const {
    return std::get_if<T>(&v);
  }
  template <class T>
  T* get_if() {
    return std::get_if<T>(&v);
  }

  // Deep equality with DynamoDB semantics (numbers compare numerically; sets as sets).
  bool operator==(const AttributeValue& other) const;
};

// Convenience constructors, mostly for tests.
AttributeValue S(std::string s);
AttributeValue N(std::string_view text);  // precondition: a valid number
AttributeValue B(std::string bytes);

// ---- Wire JSON ----

// Parses one wire AttributeValue, validating it fully: exactly one type key, numbers valid,
// base64 valid, sets non-empty and duplicate-free, NULL true, nesting at most 32 levels.
Result<AttributeValue> value_from_json(const boost::json::value& json);
// Parses a map of name -> AttributeValue (an Item, Key, or ExpressionAttributeValues).
Result<Item> item_from_json(const boost::json::value& json);
boost::json::value to_json(const AttributeValue& value);
boost::json::value to_json(const Item& item);

// A short rendering used inside error messages, e.g. "{S:abc}" or "{N:1}".
std::string describe(const AttributeValue& value);

// ---- Size ----

// Bytes DynamoDB charges for `value` (without the attribute name).
std::size_t value_size(const AttributeValue& value);
// Sum over attributes of name bytes + value bytes.
std::size_t item_size(const Item& item);
inline constexpr std::size_t kMaxItemSize = 400 * 1024;
// ValidationException "Item size has exceeded the maximum allowed size" when over 400 KB.
Status check_item_size(const Item& item);

// ---- Persistence ----

// Deterministic binary encoding of an item (same item -> same bytes). Format: per value a type
// byte then its payload; strings/binaries/numbers as a u32 big-endian length + bytes (numbers
// in canonical text form); M as u32 count then (name, value) pairs in name order; L and sets as
// u32 count then elements.
std::string encode_item(const Item& item);
// Inverse of encode_item; fails (ddb_internal_server_error) on corrupt input.
Result<Item> decode_item(std::string_view bytes);

// Order-preserving, self-delimiting encoding of a key value (S, N or B only): comparing the
// encodings bytewise orders the values as DynamoDB does (S by UTF-8 bytes, N numerically, B by
// unsigned bytes), and encode(a) + encode(b) sorts as the pair (a, b).
void encode_key_value(const AttributeValue& value, std::string& out);

// Comparison for the scalar key types: N numerically, S and B bytewise. nullopt when the
// values are of different types or not S/N/B.
std::optional<std::strong_ordering> compare_scalars(const AttributeValue& a,
                                                    const AttributeValue& b);

}  // namespace orderflow::engine::ddb
