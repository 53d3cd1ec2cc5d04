#include "engine/ddb/value.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>

#include "common/util.h"

namespace orderflow::engine::ddb {

namespace {

constexpr std::size_t kMaxDigits = 38;
constexpr int kMaxExponent = 126;   // 0.999... x 10^126 = 9.99...E+125
constexpr int kMinExponent = -129;  // 0.1 x 10^-129 = 1E-130
constexpr int kMaxNesting = 32;

Status invalid(std::string message) { return fail(ErrorCode::ddb_validation, std::move(message)); }

constexpr std::string_view kNotANumber = "A value provided cannot be converted into a number";
constexpr std::string_view kOverflow =
    "Number overflow. Attempting to store a number with magnitude larger than supported range";
constexpr std::string_view kUnderflow =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";
constexpr std::string_view kPrecision =
    "Attempting to store more than 38 significant digits in a Number";

// Big-integer helpers on decimal digit strings (most significant first, no sign).
int compare_magnitude(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::string add_magnitude(const std::string& a, const std::string& b) {
  std::string out;
  int carry = 0;
  for (std::size_t i = 0; i < std::max(a.size(), b.size()) || carry; ++i) {
    int d = carry;
    if (i < a.size()) d += a[a.size() - 1 - i] - '0';
    if (i < b.size()) d += b[b.size() - 1 - i] - '0';
    out.push_back(static_cast<char>('0' + d % 10));
    carry = d / 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

// Precondition: a >= b.
std::string subtract_magnitude(const std::string& a, const std::string& b) {
  std::string out;
  int borrow = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    int d = (a[a.size() - 1 - i] - '0') - borrow;
    if (i < b.size()) d -= b[b.size() - 1 - i] - '0';
    borrow = d < 0 ? 1 : 0;
    if (d < 0) d += 10;
    out.push_back(static_cast<char>('0' + d));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

void put_u32(std::string& out, std::uint32_t n) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((n >> (i * 8)) & 0xff));
}

void put_bytes(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

void encode_escaped(std::string_view bytes, std::string& out) {
  for (char c : bytes) {
    out.push_back(c);
    if (c == '\0') out.push_back('\xff');
  }
  out.push_back('\0');
  out.push_back('\x01');
}

}  // namespace

// ---------------------------------------------------------------- Number

Result<Number> Number::make(bool negative, std::string digits, int exponent) {
  std::size_t lead = digits.find_first_not_of('0');
  if (lead == std::string::npos) return Number{};
  exponent -= static_cast<int>(lead);
  digits.erase(0, lead);
  digits.erase(digits.find_last_not_of('0') + 1);
  if (exponent > kMaxExponent) return fail(ErrorCode::ddb_validation, std::string(kOverflow));
  if (exponent < kMinExponent) return fail(ErrorCode::ddb_validation, std::string(kUnderflow));
  if (digits.size() > kMaxDigits) return fail(ErrorCode::ddb_validation, std::string(kPrecision));
  Number n;
  n.negative_ = negative;
  n.digits_ = std::move(digits);
  n.exponent_ = exponent;
  return n;
}

Result<Number> Number::parse(std::string_view text) {
  auto bad = [] { return fail(ErrorCode::ddb_validation, std::string(kNotANumber)); };
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  std::string digits;
  std::size_t int_digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') digits.push_back(text[i++]);
  int_digits = digits.size();
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') digits.push_back(text[i++]);
  }
  if (digits.empty()) return bad();
  long long exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
    std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      exp = std::min<long long>(exp * 10 + (text[i] - '0'), 1'000'000);
      ++i;
    }
    if (i == start) return bad();
    if (exp_negative) exp = -exp;
  }
  if (i != text.size()) return bad();
  // Cap so that huge exponents cannot overflow int but still report overflow/underflow.
  if (digits.size() > 100'000) return bad();
  return make(negative, std::move(digits), static_cast<int>(exp) + static_cast<int>(int_digits));
}

Number Number::from_int(std::int64_t v) {
  bool negative = v < 0;
  std::uint64_t mag = negative ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  std::string digits = std::to_string(mag);
  int exponent = static_cast<int>(digits.size());
  return *make(negative, std::move(digits), exponent);
}

std::string Number::to_string() const {
  if (is_zero()) return "0";
  std::string out = negative_ ? "-" : "";
  int n = static_cast<int>(digits_.size());
  if (exponent_ <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-exponent_), '0');
    out += digits_;
  } else if (exponent_ < n) {
    out.append(digits_, 0, static_cast<std::size_t>(exponent_));
    out += '.';
    out.append(digits_, static_cast<std::size_t>(exponent_));
  } else {
    out += digits_;
    out.append(static_cast<std::size_t>(exponent_ - n), '0');
  }
  return out;
}

Number Number::negated() const {
  Number n = *this;
  if (!n.is_zero()) n.negative_ = !n.negative_;
  return n;
}

Result<Number> Number::add(const Number& other) const {
  if (is_zero()) return other;
  if (other.is_zero()) return *this;
  // value = int(digits) x 10^(exponent - size); align both on the smaller scale.
  int scale_a = exponent_ - static_cast<int>(digits_.size());
  int scale_b = other.exponent_ - static_cast<int>(other.digits_.size());
  int scale = std::min(scale_a, scale_b);
  std::string a = digits_ + std::string(static_cast<std::size_t>(scale_a - scale), '0');
  std::string b = other.digits_ + std::string(static_cast<std::size_t>(scale_b - scale), '0');
  std::string sum;
  bool negative = negative_;
  if (negative_ == other.negative_) {
    sum = add_magnitude(a, b);
  } else {
    int c = compare_magnitude(a, b);
    if (c == 0) return Number{};
    if (c > 0) {
      sum = subtract_magnitude(a, b);
    } else {
      sum = subtract_magnitude(b, a);
      negative = other.negative_;
    }
  }
  int exponent = scale + static_cast<int>(sum.size());
  return make(negative, std::move(sum), exponent);
}

Result<Number> Number::subtract(const Number& other) const { return add(other.negated()); }

std::strong_ordering Number::operator<=>(const Number& other) const {
  auto sign = [](const Number& n) { return n.is_zero() ? 0 : (n.negative_ ? -1 : 1); };
  int sa = sign(*this), sb = sign(other);
  if (sa != sb) return sa <=> sb;
  if (sa == 0) return std::strong_ordering::equal;
  std::strong_ordering mag = exponent_ <=> other.exponent_;
  if (mag == 0) {
    int c = digits_.compare(other.digits_);
    mag = c <=> 0;
  }
  return sa > 0 ? mag : 0 <=> mag;
}

void Number::encode_key(std::string& out) const {
  if (is_zero()) {
    out.push_back('\x02');
    return;
  }
  auto biased = static_cast<std::uint16_t>(exponent_ + 0x8000);
  if (!negative_) {
    out.push_back('\x03');
    out.push_back(static_cast<char>(biased >> 8));
    out.push_back(static_cast<char>(biased & 0xff));
    out += digits_;
    out.push_back('\0');
  } else {
    out.push_back('\x01');
    out.push_back(static_cast<char>(~(biased >> 8) & 0xff));
    out.push_back(static_cast<char>(~biased & 0xff));
    for (char c : digits_) out.push_back(static_cast<char>(~static_cast<unsigned char>(c)));
    out.push_back('\xff');
  }
}

// ---------------------------------------------------------------- AttributeValue

namespace {
constexpr std::array<std::string_view, 10> kTypeNames = {"S",    "N", "B", "BOOL", "NULL",
                                                         "M",    "L", "SS", "NS",  "BS"};
}

std::string_view type_name(Type t) { return kTypeNames[static_cast<std::size_t>(t)]; }

std::optional<Type> type_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i)
    if (kTypeNames[i] == name) return static_cast<Type>(i);
  return std::nullopt;
}

bool AttributeValue::operator==(const AttributeValue& other) const { return v == other.v; }

AttributeValue S(std::string s) { return AttributeValue{std::move(s)}; }
AttributeValue N(std::string_view text) { return AttributeValue{*Number::parse(text)}; }
AttributeValue B(std::string bytes) { return AttributeValue{Binary{std::move(bytes)}}; }

// ---------------------------------------------------------------- JSON

namespace {

std::string_view json_kind(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "BOOLEAN_VALUE";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "NUMBER_VALUE";
    case boost::json::kind::string: return "STRING_VALUE";
    case boost::json::kind::array: return "Start of list";
    case boost::json::kind::object: return "Start of structure or map";
  }
  return "value";
}

Status wrong_json(const boost::json::value& v, std::string_view expected) {
  return invalid(std::string(json_kind(v)) + " can not be converted to " + std::string(expected));
}

Result<std::string> json_string(const boost::json::value& v) {
  if (!v.is_string()) return std::unexpected(wrong_json(v, "a String").error());
  return std::string(v.get_string());
}

Result<std::string> json_binary(const boost::json::value& v) {
  if (!v.is_string()) return std::unexpected(wrong_json(v, "a Blob").error());
  auto decoded = base64_decode(v.get_string());
  if (!decoded) return fail(ErrorCode::ddb_validation, "Invalid Base64 encoded value in Blob");
  return std::move(*decoded);
}

Status duplicates(const boost::json::array& arr) {
  std::string list;
  for (const auto& e : arr) {
    if (!list.empty()) list += ", ";
    if (e.is_string()) list += std::string(e.get_string());
  }
  return invalid("One or more parameter values were invalid: Input collection [" + list +
                 "] contains duplicates.");
}

Result<AttributeValue> parse_value(const boost::json::value& json, int depth);

Result<Map> parse_map(const boost::json::value& json, int depth) {
  if (!json.is_object()) return std::unexpected(wrong_json(json, "a Map").error());
  Map out;
  for (const auto& [k, v] : json.get_object()) {
    auto value = parse_value(v, depth);
    if (!value) return std::unexpected(value.error());
    out.insert_or_assign(std::string(k), std::move(*value));
  }
  return out;
}

Result<AttributeValue> parse_value(const boost::json::value& json, int depth) {
  if (depth > kMaxNesting)
    return fail(ErrorCode::ddb_validation, "Nesting Levels have exceeded supported limits");
  if (!json.is_object()) return std::unexpected(wrong_json(json, "an AttributeValue").error());
  const auto& obj = json.get_object();
  const boost::json::value* found = nullptr;
  Type type{};
  for (const auto& [k, v] : obj) {
    auto t = type_from_name(k);
    if (!t || v.is_null()) continue;  // unknown members are ignored, as AWS's deserialiser does
    if (found)
      return fail(ErrorCode::ddb_validation,
                  "Supplied AttributeValue has more than one datatypes set, must contain "
                  "exactly one of the supported datatypes");
    found = &v;
    type = *t;
  }
  if (!found)
    return fail(ErrorCode::ddb_validation,
                "Supplied AttributeValue is empty, must contain exactly one of the supported "
                "datatypes");
  const boost::json::value& v = *found;
  switch (type) {
    case Type::S: {
      auto s = json_string(v);
      if (!s) return std::unexpected(s.error());
      return AttributeValue{std::move(*s)};
    }
    case Type::N: {
      auto s = json_string(v);
      if (!s) return std::unexpected(s.error());
      auto n = Number::parse(*s);
      if (!n) return std::unexpected(n.error());
      return AttributeValue{*n};
    }
    case Type::B: {
      auto b = json_binary(v);
      if (!b) return std::unexpected(b.error());
      return AttributeValue{Binary{std::move(*b)}};
    }
    case Type::BOOL:
      if (!v.is_bool()) return std::unexpected(wrong_json(v, "a Boolean").error());
      return AttributeValue{v.get_bool()};
    case Type::NULL_:
      if (!v.is_bool()) return std::unexpected(wrong_json(v, "a Boolean").error());
      if (!v.get_bool())
        return fail(ErrorCode::ddb_validation,
                    "One or more parameter values were invalid: Null attribute value types must "
                    "have the value of true");
      return AttributeValue{Null{}};
    case Type::M: {
      auto m = parse_map(v, depth + 1);
      if (!m) return std::unexpected(m.error());
      return AttributeValue{std::move(*m)};
    }
    case Type::L: {
      if (!v.is_array()) return std::unexpected(wrong_json(v, "a List").error());
      List list;
      list.reserve(v.get_array().size());
      for (const auto& e : v.get_array()) {
        auto item = parse_value(e, depth + 1);
        if (!item) return std::unexpected(item.error());
        list.push_back(std::move(*item));
      }
      return AttributeValue{std::move(list)};
    }
    case Type::SS:
    case Type::NS:
    case Type::BS: {
      if (!v.is_array()) return std::unexpected(wrong_json(v, "a List").error());
      const auto& arr = v.get_array();
      if (arr.empty()) {
        if (type == Type::SS)
          return fail(ErrorCode::ddb_validation,
                      "One or more parameter values were invalid: An string set  may not be empty");
        if (type == Type::NS)
          return fail(ErrorCode::ddb_validation,
                      "One or more parameter values were invalid: An number set  may not be empty");
        return fail(ErrorCode::ddb_validation,
                    "One or more parameter values were invalid: Binary sets should not be empty");
      }
      if (type == Type::SS) {
        StringSet set;
        for (const auto& e : arr) {
          auto s = json_string(e);
          if (!s) return std::unexpected(s.error());
          if (!set.values.insert(std::move(*s)).second)
            return std::unexpected(duplicates(arr).error());
        }
        return AttributeValue{std::move(set)};
      }
      if (type == Type::NS) {
        NumberSet set;
        for (const auto& e : arr) {
          auto s = json_string(e);
          if (!s) return std::unexpected(s.error());
          auto n = Number::parse(*s);
          if (!n) return std::unexpected(n.error());
          if (!set.values.insert(*n).second) return std::unexpected(duplicates(arr).error());
        }
        return AttributeValue{std::move(set)};
      }
      BinarySet set;
      for (const auto& e : arr) {
        auto b = json_binary(e);
        if (!b) return std::unexpected(b.error());
        if (!set.values.insert(std::move(*b)).second)
          return std::unexpected(duplicates(arr).error());
      }
      return AttributeValue{std::move(set)};
    }
  }
  return fail(ErrorCode::ddb_validation, "Supplied AttributeValue has an unknown type");
}

}  // namespace

Result<AttributeValue> value_from_json(const boost::json::value& json) {
  return parse_value(json, 1);
}

Result<Item> item_from_json(const boost::json::value& json) { return parse_map(json, 1); }

boost::json::value to_json(const AttributeValue& value) {
  boost::json::object o;
  std::string_view key = type_name(value.type());
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          o[key] = x;
        } else if constexpr (std::is_same_v<T, Number>) {
          o[key] = x.to_string();
        } else if constexpr (std::is_same_v<T, Binary>) {
          o[key] = base64_encode(x.bytes);
        } else if constexpr (std::is_same_v<T, bool>) {
          o[key] = x;
        } else if constexpr (std::is_same_v<T, Null>) {
          o[key] = true;
        } else if constexpr (std::is_same_v<T, Map>) {
          o[key] = to_json(x);
        } else if constexpr (std::is_same_v<T, List>) {
          boost::json::array a;
          for (const auto& e : x) a.push_back(to_json(e));
          o[key] = std::move(a);
        } else if constexpr (std::is_same_v<T, StringSet>) {
          boost::json::array a;
          for (const auto& e : x.values) a.push_back(boost::json::string(e));
          o[key] = std::move(a);
        } else if constexpr (std::is_same_v<T, NumberSet>) {
          boost::json::array a;
          for (const auto& e : x.values) a.push_back(boost::json::string(e.to_string()));
          o[key] = std::move(a);
        } else {
          boost::json::array a;
          for (const auto& e : x.values) a.push_back(boost::json::string(base64_encode(e)));
          o[key] = std::move(a);
        }
      },
      value.v);
  return o;
}

boost::json::value to_json(const Item& item) {
  boost::json::object o;
  for (const auto& [k, v] : item) o[k] = to_json(v);
  return o;
}

std::string describe(const AttributeValue& value) {
  return boost::json::serialize(to_json(value));
}

// ---------------------------------------------------------------- size

namespace {
std::size_t number_size(const Number& n) { return (n.significant_digits() + 1) / 2 + 1; }
}  // namespace

std::size_t value_size(const AttributeValue& value) {
  return std::visit(
      [](const auto& x) -> std::size_t {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return x.size();
        } else if constexpr (std::is_same_v<T, Number>) {
          return number_size(x);
        } else if constexpr (std::is_same_v<T, Binary>) {
          return x.bytes.size();
        } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, Null>) {
          return 1;
        } else if constexpr (std::is_same_v<T, Map>) {
          std::size_t n = 3;
          for (const auto& [k, v] : x) n += 1 + k.size() + value_size(v);
          return n;
        } else if constexpr (std::is_same_v<T, List>) {
          std::size_t n = 3;
          for (const auto& v : x) n += 1 + value_size(v);
          return n;
        } else if constexpr (std::is_same_v<T, NumberSet>) {
          std::size_t n = 0;
          for (const auto& v : x.values) n += number_size(v);
          return n;
        } else {
          std::size_t n = 0;
          for (const auto& v : x.values) n += v.size();
          return n;
        }
      },
      value.v);
}

std::size_t item_size(const Item& item) {
  std::size_t n = 0;
  for (const auto& [k, v] : item) n += k.size() + value_size(v);
  return n;
}

Status check_item_size(const Item& item) {
  if (item_size(item) > kMaxItemSize)
    return invalid("Item size has exceeded the maximum allowed size");
  return {};
}

// ---------------------------------------------------------------- persistence

namespace {

void encode_value(const AttributeValue& value, std::string& out);

void encode_map(const Map& m, std::string& out) {
  put_u32(out, static_cast<std::uint32_t>(m.size()));
  for (const auto& [k, v] : m) {
    put_bytes(out, k);
    encode_value(v, out);
  }
}

void encode_value(const AttributeValue& value, std::string& out) {
  out.push_back(static_cast<char>(value.type()));
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          put_bytes(out, x);
        } else if constexpr (std::is_same_v<T, Number>) {
          put_bytes(out, x.to_string());
        } else if constexpr (std::is_same_v<T, Binary>) {
          put_bytes(out, x.bytes);
        } else if constexpr (std::is_same_v<T, bool>) {
          out.push_back(x ? '\x01' : '\x00');
        } else if constexpr (std::is_same_v<T, Null>) {
        } else if constexpr (std::is_same_v<T, Map>) {
          encode_map(x, out);
        } else if constexpr (std::is_same_v<T, List>) {
          put_u32(out, static_cast<std::uint32_t>(x.size()));
          for (const auto& e : x) encode_value(e, out);
        } else if constexpr (std::is_same_v<T, NumberSet>) {
          put_u32(out, static_cast<std::uint32_t>(x.values.size()));
          for (const auto& e : x.values) put_bytes(out, e.to_string());
        } else {
          put_u32(out, static_cast<std::uint32_t>(x.values.size()));
          for (const auto& e : x.values) put_bytes(out, e);
        }
      },
      value.v);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u8(std::uint8_t& v) {
    if (in_.empty()) return false;
    v = static_cast<std::uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool u32(std::uint32_t& n) {
    if (in_.size() < 4) return false;
    n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<std::uint8_t>(in_[i]);
    in_.remove_prefix(4);
    return true;
  }
  bool bytes(std::string& s) {
    std::uint32_t n;
    if (!u32(n) || in_.size() < n) return false;
    s.assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

bool decode_value(Reader& r, AttributeValue& out, int depth);

bool decode_map(Reader& r, Map& m, int depth) {
  std::uint32_t n;
  if (!r.u32(n)) return false;
  for (std::uint32_t i = 0; i < n; ++i) {
    std::string k;
    AttributeValue v;
    if (!r.bytes(k) || !decode_value(r, v, depth + 1)) return false;
    m.insert_or_assign(std::move(k), std::move(v));
  }
  return true;
}

bool decode_number(Reader& r, Number& n) {
  std::string s;
  if (!r.bytes(s)) return false;
  auto parsed = Number::parse(s);
  if (!parsed) return false;
  n = *parsed;
  return true;
}

bool decode_value(Reader& r, AttributeValue& out, int depth) {
  if (depth > 2 * kMaxNesting) return false;
  std::uint8_t tag;
  if (!r.u8(tag) || tag > static_cast<std::uint8_t>(Type::BS)) return false;
  switch (static_cast<Type>(tag)) {
    case Type::S: {
      std::string s;
      if (!r.bytes(s)) return false;
      out = AttributeValue{std::move(s)};
      return true;
    }
    case Type::N: {
      Number n;
      if (!decode_number(r, n)) return false;
      out = AttributeValue{n};
      return true;
    }
    case Type::B: {
      std::string s;
      if (!r.bytes(s)) return false;
      out = AttributeValue{Binary{std::move(s)}};
      return true;
    }
    case Type::BOOL: {
      std::uint8_t b;
      if (!r.u8(b)) return false;
      out = AttributeValue{b != 0};
      return true;
    }
    case Type::NULL_: out = AttributeValue{Null{}}; return true;
    case Type::M: {
      Map m;
      if (!decode_map(r, m, depth)) return false;
      out = AttributeValue{std::move(m)};
      return true;
    }
    case Type::L: {
      std::uint32_t n;
      if (!r.u32(n)) return false;
      List l;
      for (std::uint32_t i = 0; i < n; ++i) {
        AttributeValue v;
        if (!decode_value(r, v, depth + 1)) return false;
        l.push_back(std::move(v));
      }
      out = AttributeValue{std::move(l)};
      return true;
    }
    case Type::NS: {
      std::uint32_t n;
      if (!r.u32(n)) return false;
      NumberSet set;
      for (std::uint32_t i = 0; i < n; ++i) {
        Number x;
        if (!decode_number(r, x)) return false;
        set.values.insert(x);
      }
      out = AttributeValue{std::move(set)};
      return true;
    }
    case Type::SS:
    case Type::BS: {
      std::uint32_t n;
      if (!r.u32(n)) return false;
      std::set<std::string> values;
      for (std::uint32_t i = 0; i < n; ++i) {
        std::string s;
        if (!r.bytes(s)) return false;
        values.insert(std::move(s));
      }
      if (static_cast<Type>(tag) == Type::SS)
        out = AttributeValue{StringSet{std::move(values)}};
      else
        out = AttributeValue{BinarySet{std::move(values)}};
      return true;
    }
  }
  return false;
}

}  // namespace

std::string encode_item(const Item& item) {
  std::string out;
  encode_map(item, out);
  return out;
}

Result<Item> decode_item(std::string_view bytes) {
  Reader r(bytes);
  Item item;
  if (!decode_map(r, item, 0) || !r.done())
    return fail(ErrorCode::ddb_internal_server_error, "corrupt item record");
  return item;
}

void encode_key_value(const AttributeValue& value, std::string& out) {
  if (const auto* s = value.get_if<std::string>()) {
    encode_escaped(*s, out);
  } else if (const auto* n = value.get_if<Number>()) {
    n->encode_key(out);
  } else if (const auto* b = value.get_if<Binary>()) {
    encode_escaped(b->bytes, out);
  }
}

std::optional<std::strong_ordering> compare_scalars(const AttributeValue& a,
                                                    const AttributeValue& b) {
  if (a.type() != b.type()) return std::nullopt;
  if (const auto* s = a.get_if<std::string>()) return s->compare(b.as<std::string>()) <=> 0;
  if (const auto* n = a.get_if<Number>()) return *n <=> b.as<Number>();
  if (const auto* x = a.get_if<Binary>()) {
    // std::string compares char_traits<char>, which compares as unsigned char.
    return x->bytes.compare(b.as<Binary>().bytes) <=> 0;
  }
  return std::nullopt;
}

}  // namespace orderflow::engine::ddb
