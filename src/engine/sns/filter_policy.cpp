#include "engine/sns/filter_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace orderflow::engine::sns {
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxJsonDepth = 64;
constexpr std::uint64_t kSaturate = 1'000'000;  // combination counts saturate here

// ---- Values a condition is tested against ---------------------------------------------------

struct Candidate {
  enum class Kind : std::uint8_t { string, number, boolean, null };
  Kind kind = Kind::null;
  std::string_view text;  // kind == string
  double number = 0;      // kind == number
  bool boolean = false;   // kind == boolean
};

std::optional<Candidate> candidate_of(const json::value& v) {
  Candidate c;
  switch (v.kind()) {
    case json::kind::string:
      c.kind = Candidate::Kind::string;
      c.text = std::string_view(v.get_string().data(), v.get_string().size());
      return c;
    case json::kind::int64:
      c.kind = Candidate::Kind::number;
      c.number = static_cast<double>(v.get_int64());
      return c;
    case json::kind::uint64:
      c.kind = Candidate::Kind::number;
      c.number = static_cast<double>(v.get_uint64());
      return c;
    case json::kind::double_:
      c.kind = Candidate::Kind::number;
      c.number = v.get_double();
      return c;
    case json::kind::bool_:
      c.kind = Candidate::Kind::boolean;
      c.boolean = v.get_bool();
      return c;
    case json::kind::null:
      c.kind = Candidate::Kind::null;
      return c;
    default:
      return std::nullopt;  // objects and arrays are not leaves
  }
}

std::optional<double> number_of(const json::value& v) {
  switch (v.kind()) {
    case json::kind::int64:
      return static_cast<double>(v.get_int64());
    case json::kind::uint64:
      return static_cast<double>(v.get_uint64());
    case json::kind::double_:
      return v.get_double();
    default:
      return std::nullopt;
  }
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// ---- IP networks ----------------------------------------------------------------------------

struct IpAddress {
  int family = 0;  // AF_INET or AF_INET6
  std::array<unsigned char, 16> bytes{};
};

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  const std::string s(text);
  IpAddress ip;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) != 1) return std::nullopt;
    ip.family = AF_INET;
  } else {
    if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) != 1) return std::nullopt;
    ip.family = AF_INET6;
  }
  return ip;
}

struct Cidr {
  IpAddress network;
  int prefix_bits = 0;

  bool contains(const IpAddress& ip) const {
    if (ip.family != network.family) return false;
    int bits = prefix_bits;
    for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
      const unsigned mask = bits >= 8 ? 0xFFu : (0xFFu << (8 - bits)) & 0xFFu;
      if ((ip.bytes[i] & mask) != (network.bytes[i] & mask)) return false;
    }
    return true;
  }
};

// ---- Conditions ------------------------------------------------------------------------------

struct ExactString {
  std::string value;
};
struct ExactNumber {
  double value;
};
struct ExactBool {
  bool value;
};
struct ExactNull {};
struct Prefix {
  std::string value;
};
struct Suffix {
  std::string value;
};
struct EqualsIgnoreCase {
  std::string value;
};
struct AnythingBut {
  enum class Pattern : std::uint8_t { none, prefix, suffix, equals_ignore_case };
  std::vector<std::string> strings;  // Pattern::none: excluded strings; else pattern operands
  std::vector<double> numbers;       // excluded numbers
  Pattern pattern = Pattern::none;
};
struct Numeric {
  std::optional<double> lower;
  bool lower_inclusive = false;
  std::optional<double> upper;
  bool upper_inclusive = false;
};
struct Exists {
  bool value;
};
struct CidrMatch {
  Cidr cidr;
};

using Condition = std::variant<ExactString, ExactNumber, ExactBool, ExactNull, Prefix, Suffix,
                               EqualsIgnoreCase, AnythingBut, Numeric, Exists, CidrMatch>;

bool value_matches(const Condition& condition, const Candidate& c) {
  using K = Candidate::Kind;
  return std::visit(
      [&](const auto& cond) -> bool {
        using T = std::decay_t<decltype(cond)>;
        if constexpr (std::is_same_v<T, ExactString>) {
          return c.kind == K::string && c.text == cond.value;
        } else if constexpr (std::is_same_v<T, ExactNumber>) {
          return c.kind == K::number && c.number == cond.value;
        } else if constexpr (std::is_same_v<T, ExactBool>) {
          return c.kind == K::boolean && c.boolean == cond.value;
        } else if constexpr (std::is_same_v<T, ExactNull>) {
          return c.kind == K::null;
        } else if constexpr (std::is_same_v<T, Prefix>) {
          return c.kind == K::string && c.text.starts_with(cond.value);
        } else if constexpr (std::is_same_v<T, Suffix>) {
          return c.kind == K::string && c.text.ends_with(cond.value);
        } else if constexpr (std::is_same_v<T, EqualsIgnoreCase>) {
          return c.kind == K::string && equals_ignore_case(c.text, cond.value);
        } else if constexpr (std::is_same_v<T, AnythingBut>) {
          if (c.kind == K::number) {
            return std::find(cond.numbers.begin(), cond.numbers.end(), c.number) ==
                   cond.numbers.end();
          }
          if (c.kind != K::string) return true;
          for (const std::string& s : cond.strings) {
            switch (cond.pattern) {
              case AnythingBut::Pattern::none:
                if (c.text == s) return false;
                break;
              case AnythingBut::Pattern::prefix:
                if (c.text.starts_with(s)) return false;
                break;
              case AnythingBut::Pattern::suffix:
                if (c.text.ends_with(s)) return false;
                break;
              case AnythingBut::Pattern::equals_ignore_case:
                if (equals_ignore_case(c.text, s)) return false;
                break;
            }
          }
          return true;
        } else if constexpr (std::is_same_v<T, Numeric>) {
          if (c.kind != K::number) return false;
          if (cond.lower) {
            if (cond.lower_inclusive ? c.number < *cond.lower : c.number <= *cond.lower)
              return false;
          }
          if (cond.upper) {
            if (cond.upper_inclusive ? c.number > *cond.upper : c.number >= *cond.upper)
              return false;
          }
          return true;
        } else if constexpr (std::is_same_v<T, Exists>) {
          return false;  // handled by presence, never per value
        } else if constexpr (std::is_same_v<T, CidrMatch>) {
          if (c.kind != K::string) return false;
          auto ip = parse_ip(c.text);
          return ip && cond.cidr.contains(*ip);
        }
      },
      condition);
}

// True when any of `conditions` holds for a key that is `present` with `values`.
bool rule_matches(const std::vector<Condition>& conditions, bool present,
                  const std::vector<Candidate>& values) {
  for (const Condition& condition : conditions) {
    if (const auto* e = std::get_if<Exists>(&condition)) {
      if (e->value == present) return true;
      continue;
    }
    for (const Candidate& v : values) {
      if (value_matches(condition, v)) return true;
    }
  }
  return false;
}

// ---- Compiled form ---------------------------------------------------------------------------

struct Rule {
  std::vector<std::string> path;  // one element in attribute scope
  std::vector<Condition> conditions;
};
using Alternative = std::vector<Rule>;  // all rules must hold

// ---- Parsing -----------------------------------------------------------------------------------

class Compiler {
 public:
  Compiler(FilterPolicyScope scope, FilterPolicySource source) : scope_(scope), source_(source) {}

  std::unexpected<Error> error(std::string_view reason) const {
    return fail(ErrorCode::sns_invalid_parameter,
                prefix() + "FilterPolicy: " + std::string(reason));
  }
  // Some errors are reported without the "FilterPolicy: " part.
  std::unexpected<Error> bare_error(std::string_view reason) const {
    return fail(ErrorCode::sns_invalid_parameter, prefix() + std::string(reason));
  }

  struct Compiled {
    std::vector<Alternative> alternatives;
    std::uint64_t combinations = 1;
  };

  Result<Compiled> compile_object(const json::object& obj, const std::vector<std::string>& path,
                                  std::uint64_t depth) {
    Compiled out;
    out.alternatives.emplace_back();
    if (obj.empty()) {
      if (path.empty()) return out;
      return error("Empty objects are not allowed");
    }
    for (const auto& entry : obj) {
      const std::string key(entry.key());
      const json::value& v = entry.value();
      if (key == "$or") {
        if (!v.is_array()) return error("\"$or\" must be an array of objects");
        const json::array& branches = v.get_array();
        if (branches.size() < 2) return error("\"$or\" must have at least two rules");
        std::vector<Alternative> sub;
        std::uint64_t sub_combinations = 0;
        for (const json::value& branch : branches) {
          if (!branch.is_object()) return error("\"$or\" must be an array of objects");
          auto compiled = compile_object(branch.get_object(), path, depth);
          if (!compiled) return std::unexpected(compiled.error());
          if (compiled->alternatives.size() == 1 && compiled->alternatives[0].empty()) {
            return error("Empty objects are not allowed");
          }
          for (auto& a : compiled->alternatives) sub.push_back(std::move(a));
          sub_combinations = saturating_add(sub_combinations, compiled->combinations);
        }
        out.combinations = saturating_mul(out.combinations, sub_combinations);
        if (out.combinations > max_filter_policy_combinations) {
          return error("Filter policy is too complex");
        }
        out.alternatives = cross(out.alternatives, sub);
        continue;
      }
      std::vector<std::string> child_path = path;
      child_path.push_back(key);
      if (v.is_object()) {
        if (scope_ == FilterPolicyScope::message_attributes) {
          return bare_error(
              "Filter policy scope MessageAttributes does not support nested filter policy");
        }
        auto compiled = compile_object(v.get_object(), child_path, depth + 1);
        if (!compiled) return std::unexpected(compiled.error());
        out.combinations = saturating_mul(out.combinations, compiled->combinations);
        if (out.combinations > max_filter_policy_combinations) {
          return error("Filter policy is too complex");
        }
        out.alternatives = cross(out.alternatives, compiled->alternatives);
      } else if (v.is_array()) {
        const json::array& values = v.get_array();
        if (values.empty()) return error("Empty arrays are not allowed");
        Rule rule;
        rule.path = std::move(child_path);
        for (const json::value& item : values) {
          auto condition = parse_condition(item);
          if (!condition) return std::unexpected(condition.error());
          rule.conditions.push_back(std::move(*condition));
        }
        out.combinations = saturating_mul(out.combinations, saturating_mul(values.size(), depth));
        if (out.combinations > max_filter_policy_combinations) {
          return error("Filter policy is too complex");
        }
        for (Alternative& a : out.alternatives) a.push_back(rule);
      } else {
        return error("\"" + key + "\" must be an object or an array");
      }
    }
    return out;
  }

 private:
  std::string prefix() const {
    return source_ == FilterPolicySource::subscribe ? "Invalid parameter: Attributes Reason: "
                                                    : "Invalid parameter: ";
  }

  static std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
    if (a == 0 || b == 0) return 0;
    if (a > kSaturate / b) return kSaturate;
    return std::min(a * b, kSaturate);
  }
  static std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
    return std::min(a + b, kSaturate);
  }

  static std::vector<Alternative> cross(const std::vector<Alternative>& left,
                                        const std::vector<Alternative>& right) {
    std::vector<Alternative> out;
    out.reserve(left.size() * right.size());
    for (const Alternative& l : left) {
      for (const Alternative& r : right) {
        Alternative a = l;
        a.insert(a.end(), r.begin(), r.end());
        out.push_back(std::move(a));
      }
    }
    return out;
  }

  // Numeric operands: within [-1e9, 1e9] and at most five decimal places.
  static bool is_valid_numeric_operand(double d) {
    if (!std::isfinite(d) || d < -1e9 || d > 1e9) return false;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.5f", d);
    return std::strtod(buf, nullptr) == d;
  }

  static std::string number_text(const json::value& v) { return json::serialize(v); }

  Result<Condition> parse_condition(const json::value& item) {
    switch (item.kind()) {
      case json::kind::string:
        return ExactString{std::string(item.get_string())};
      case json::kind::int64:
      case json::kind::uint64:
      case json::kind::double_:
        return ExactNumber{*number_of(item)};
      case json::kind::bool_:
        return ExactBool{item.get_bool()};
      case json::kind::null:
        return ExactNull{};
      case json::kind::array:
        return error("Match value must be String, number, true, false, or null");
      case json::kind::object:
        break;
    }
    const json::object& obj = item.get_object();
    if (obj.size() != 1) return error("Only one key allowed in match expression");
    const std::string op(obj.begin()->key());
    const json::value& operand = obj.begin()->value();

    if (op == "prefix" || op == "suffix" || op == "equals-ignore-case") {
      if (!operand.is_string()) return error(op + " match pattern must be a string");
      std::string s(operand.get_string());
      if (op == "prefix") return Prefix{std::move(s)};
      if (op == "suffix") return Suffix{std::move(s)};
      return EqualsIgnoreCase{std::move(s)};
    }
    if (op == "anything-but") return parse_anything_but(operand);
    if (op == "exists") {
      if (!operand.is_bool()) return error("exists match pattern must be either true or false.");
      return Exists{operand.get_bool()};
    }
    if (op == "numeric") return parse_numeric(operand);
    if (op == "cidr") return parse_cidr(operand);
    return error("Unrecognized match type " + op);
  }

  Result<Condition> parse_anything_but(const json::value& operand) {
    AnythingBut but;
    auto add_value = [&](const json::value& v) -> Status {
      if (v.is_string()) {
        but.strings.emplace_back(v.get_string());
        return {};
      }
      if (auto n = number_of(v)) {
        but.numbers.push_back(*n);
        return {};
      }
      return error("Inside anything but list, start|null|boolean is not supported.");
    };
    if (operand.is_array()) {
      const json::array& list = operand.get_array();
      if (list.empty()) return error("Empty arrays are not allowed");
      for (const json::value& v : list) {
        if (auto s = add_value(v); !s) return std::unexpected(s.error());
      }
      return but;
    }
    if (operand.is_object()) {
      const json::object& obj = operand.get_object();
      if (obj.size() != 1) return error("Only one key allowed in match expression");
      const std::string inner(obj.begin()->key());
      const json::value& value = obj.begin()->value();
      if (inner == "prefix") {
        but.pattern = AnythingBut::Pattern::prefix;
      } else if (inner == "suffix") {
        but.pattern = AnythingBut::Pattern::suffix;
      } else if (inner == "equals-ignore-case") {
        but.pattern = AnythingBut::Pattern::equals_ignore_case;
      } else {
        return error("Unsupported anything-but pattern: " + inner);
      }
      if (value.is_string()) {
        but.strings.emplace_back(value.get_string());
        return but;
      }
      if (but.pattern == AnythingBut::Pattern::equals_ignore_case && value.is_array() &&
          !value.get_array().empty()) {
        for (const json::value& v : value.get_array()) {
          if (!v.is_string()) return error(inner + " match pattern must be a string");
          but.strings.emplace_back(v.get_string());
        }
        return but;
      }
      return error(inner + " match pattern must be a string");
    }
    if (auto s = add_value(operand); !s) return std::unexpected(s.error());
    return but;
  }

  Result<Condition> parse_numeric(const json::value& operand) {
    if (!operand.is_array() || operand.get_array().empty()) {
      return error("Invalid member in numeric match: ]");
    }
    const json::array& terms = operand.get_array();
    Numeric numeric;
    auto read_value = [&](std::size_t index, std::string_view op) -> Result<double> {
      const std::string name = op == "=" ? "equals" : std::string(op);
      if (index >= terms.size()) return error("Value of " + name + " must be numeric");
      auto n = number_of(terms[index]);
      if (!n) return error("Value of " + name + " must be numeric");
      if (!is_valid_numeric_operand(*n)) {
        return error("Numeric value " + number_text(terms[index]) +
                     " is out of range: numbers must be between -1000000000 and 1000000000 "
                     "with at most 5 digits after the decimal point");
      }
      return *n;
    };

    if (!terms[0].is_string())
      return error("Invalid member in numeric match: " + number_text(terms[0]));
    const std::string op1(terms[0].get_string());
    if (op1 != "=" && op1 != "<" && op1 != "<=" && op1 != ">" && op1 != ">=") {
      return error("Unrecognized numeric range operator: " + op1);
    }
    auto v1 = read_value(1, op1);
    if (!v1) return std::unexpected(v1.error());
    if (op1 == "=") {
      numeric.lower = numeric.upper = *v1;
      numeric.lower_inclusive = numeric.upper_inclusive = true;
    } else if (op1 == "<" || op1 == "<=") {
      numeric.upper = *v1;
      numeric.upper_inclusive = op1 == "<=";
    } else {
      numeric.lower = *v1;
      numeric.lower_inclusive = op1 == ">=";
    }
    if (terms.size() == 2) return numeric;

    if (op1 != ">" && op1 != ">=") return error("Too many elements in numeric expression");
    if (!terms[2].is_string()) return error("Bad value in numeric range: " + number_text(terms[2]));
    const std::string op2(terms[2].get_string());
    if (op2 != "<" && op2 != "<=") return error("Bad numeric range operator: " + op2);
    auto v2 = read_value(3, op2);
    if (!v2) return std::unexpected(v2.error());
    if (*v2 <= *v1) return error("Bottom must be less than top");
    if (terms.size() > 4) return error("Too many terms in numeric range expression");
    numeric.upper = *v2;
    numeric.upper_inclusive = op2 == "<=";
    return numeric;
  }

  Result<Condition> parse_cidr(const json::value& operand) {
    // SNS reports a non-string cidr operand with the prefix wording.
    if (!operand.is_string()) return error("prefix match pattern must be a string");
    const std::string_view text(operand.get_string().data(), operand.get_string().size());
    const std::size_t slash = text.find('/');
    if (slash == std::string_view::npos || text.find('/', slash + 1) != std::string_view::npos) {
      return error("Malformed CIDR, one '/' required");
    }
    const std::string_view address = text.substr(0, slash);
    const std::string_view mask = text.substr(slash + 1);
    int bits = -1;
    auto [end, ec] = std::from_chars(mask.data(), mask.data() + mask.size(), bits);
    if (mask.empty() || ec != std::errc() || end != mask.data() + mask.size()) {
      return error("Malformed CIDR, mask bits must be an integer");
    }
    auto ip = parse_ip(address);
    if (!ip) return error("Nonstandard IP address: " + std::string(address));
    const int max_bits = ip->family == AF_INET ? 32 : 128;
    if (bits < 0 || bits > max_bits)
      return error("Nonstandard IP address: " + std::string(address));
    return CidrMatch{Cidr{*ip, bits}};
  }

  FilterPolicyScope scope_;
  FilterPolicySource source_;
};

// Leaf values at `path` below `v`: arrays anywhere on the way (and at the end) fan out.
void collect(const json::value& v, const std::vector<std::string>& path, std::size_t index,
             std::vector<Candidate>& out) {
  if (v.is_array()) {
    for (const json::value& element : v.get_array()) collect(element, path, index, out);
    return;
  }
  if (index == path.size()) {
    if (auto c = candidate_of(v)) out.push_back(*c);
    return;
  }
  if (!v.is_object()) return;
  const json::object& obj = v.get_object();
  auto it = obj.find(path[index]);
  if (it == obj.end()) return;
  collect(it->value(), path, index + 1, out);
}

json::value parse_json(std::string_view text, json::error_code& ec) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  return json::parse(text, ec, {}, options);
}

}  // namespace

struct FilterPolicy::Compiled {
  FilterPolicyScope scope = FilterPolicyScope::message_attributes;
  std::vector<Alternative> alternatives;  // empty = matches everything
};

std::string_view to_string(FilterPolicyScope scope) {
  return scope == FilterPolicyScope::message_body ? "MessageBody" : "MessageAttributes";
}

Result<FilterPolicyScope> parse_filter_policy_scope(std::string_view text,
                                                    FilterPolicySource source) {
  if (text == "MessageAttributes") return FilterPolicyScope::message_attributes;
  if (text == "MessageBody") return FilterPolicyScope::message_body;
  const std::string prefix = source == FilterPolicySource::subscribe
                                 ? "Invalid parameter: Attributes Reason: "
                                 : "Invalid parameter: ";
  return fail(ErrorCode::sns_invalid_parameter,
              prefix + "FilterPolicyScope: Invalid value [" + std::string(text) +
                  "]. Please use either MessageBody or MessageAttributes");
}

FilterPolicy::FilterPolicy() : compiled_(std::make_shared<const Compiled>()) {}

FilterPolicy::FilterPolicy(std::shared_ptr<const Compiled> compiled)
    : compiled_(std::move(compiled)) {}

Result<FilterPolicy> FilterPolicy::parse(std::string_view text, FilterPolicyScope scope,
                                         FilterPolicySource source) {
  Compiler compiler(scope, source);
  auto compiled = std::make_shared<Compiled>();
  compiled->scope = scope;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return FilterPolicy(std::move(compiled));
  }
  if (text.size() > max_filter_policy_bytes) return compiler.error("Filter policy is too long");

  json::error_code ec;
  json::value root = parse_json(text, ec);
  if (ec) {
    if (ec == json::error::too_deep) return compiler.error("Filter policy is too complex");
    return compiler.error("failed to parse JSON.");
  }
  if (!root.is_object()) return compiler.error("Filter policy must be a JSON object");

  auto result = compiler.compile_object(root.get_object(), {}, 1);
  if (!result) return std::unexpected(result.error());

  for (const Alternative& alternative : result->alternatives) {
    std::vector<std::string_view> keys;
    for (const Rule& rule : alternative) keys.push_back(rule.path.front());
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    if (keys.size() > max_filter_policy_keys) {
      return compiler.error("Filter policy can not have more than 5 keys");
    }
  }
  if (!(result->alternatives.size() == 1 && result->alternatives[0].empty())) {
    compiled->alternatives = std::move(result->alternatives);
  }
  return FilterPolicy(std::move(compiled));
}

FilterPolicyScope FilterPolicy::scope() const { return compiled_->scope; }

bool FilterPolicy::empty() const { return compiled_->alternatives.empty(); }

bool FilterPolicy::matches(const MessageAttributes& attributes) const {
  if (empty()) return true;
  if (attributes.empty()) return false;

  // String.Array values are parsed once per call; keep them alive while matching.
  std::vector<std::pair<std::string_view, json::value>> arrays;
  for (const auto& [name, value] : attributes) {
    if (value.data_type == "String.Array" || value.data_type.starts_with("String.Array.")) {
      json::error_code ec;
      json::value parsed = parse_json(value.string_value, ec);
      arrays.emplace_back(name, ec ? json::value() : std::move(parsed));
    }
  }

  auto values_of = [&](const std::string& name, bool& present) {
    std::vector<Candidate> out;
    present = false;
    auto it = attributes.find(name);
    if (it == attributes.end() || it->second.is_binary()) return out;
    present = true;
    const MessageAttributeValue& value = it->second;
    const std::string_view base = attribute_base_type(value.data_type);
    if (value.data_type == "String.Array" || value.data_type.starts_with("String.Array.")) {
      for (const auto& [array_name, parsed] : arrays) {
        if (array_name != name || !parsed.is_array()) continue;
        for (const json::value& element : parsed.get_array()) {
          if (auto c = candidate_of(element)) out.push_back(*c);
        }
      }
    } else if (base == "Number") {
      const std::string& s = value.string_value;
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d)) {
        Candidate c;
        c.kind = Candidate::Kind::number;
        c.number = d;
        out.push_back(c);
      }
    } else {
      Candidate c;
      c.kind = Candidate::Kind::string;
      c.text = value.string_value;
      out.push_back(c);
    }
    return out;
  };

  for (const Alternative& alternative : compiled_->alternatives) {
    bool all = true;
    for (const Rule& rule : alternative) {
      bool present = false;
      // Attribute policies are flat: a nested path (body-scope policy) matches by its full name.
      std::string name = rule.path.front();
      for (std::size_t i = 1; i < rule.path.size(); ++i) name += "." + rule.path[i];
      const std::vector<Candidate> values = values_of(name, present);
      if (!rule_matches(rule.conditions, present, values)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

bool FilterPolicy::matches_body(std::string_view body) const {
  if (empty()) return true;
  json::error_code ec;
  const json::value root = parse_json(body, ec);
  if (ec || !root.is_object()) return false;

  for (const Alternative& alternative : compiled_->alternatives) {
    bool all = true;
    for (const Rule& rule : alternative) {
      std::vector<Candidate> values;
      collect(root, rule.path, 0, values);
      if (!rule_matches(rule.conditions, !values.empty(), values)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

bool FilterPolicy::matches_message(std::string_view body,
                                   const MessageAttributes& attributes) const {
  return scope() == FilterPolicyScope::message_body ? matches_body(body) : matches(attributes);
}

}  // namespace orderflow::engine::sns
