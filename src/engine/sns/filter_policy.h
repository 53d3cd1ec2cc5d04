// SNS subscription filter policies: parse and validate a FilterPolicy JSON document once into
// an immutable matcher, then test published messages against it.
//
// Supported syntax (the value of every policy key is an array whose entries are ORed):
//   exact            "k": ["a", 5, true, null]     strings case-sensitive; numbers numerically (5
//   == 5.0) prefix/suffix    "k": [{"prefix": "ord-"}], [{"suffix": ".png"}] ignore case      "k":
//   [{"equals-ignore-case": "RED"}]  (ASCII case folding) anything-but     [{"anything-but": ["a",
//   1]}], [{"anything-but": "a"}], [{"anything-but": 5}],
//                    [{"anything-but": {"prefix" | "suffix" | "equals-ignore-case": "x"}}]
//   numeric          [{"numeric": ["=", 5]}], [{"numeric": [">", 0, "<=", 150]}]  (ops = < <= > >=)
//   exists           [{"exists": true}] / [{"exists": false}]
//   cidr             [{"cidr": "10.0.0.0/24"}]  (IPv4 and IPv6)
//   $or              {"$or": [{...}, {...}]}  any sub-policy (at least two), combined with the
//                    sibling keys by AND
// Different keys are ANDed. Scope MessageBody also allows nested objects that follow the JSON
// body ({"order": {"status": ["paid"]}}).
//
// Matching, MessageAttributes scope: String attributes are strings, Number attributes numbers,
// String.Array attributes (a JSON array in the StringValue) match when any element matches;
// Binary attributes are ignored (as if absent). A message without attributes never matches a
// non-empty policy. MessageBody scope: the body must be a JSON object nested at most 64 levels
// deep (else no match); a path
// that crosses or ends in arrays matches when any element matches. Values are typed: a policy
// string never equals a number and vice versa; prefix/suffix/equals-ignore-case/cidr test
// strings only, numeric tests numbers only. A non-exists condition needs the key to be present.
// An empty policy ({} or "") matches every message.
//
// Validation errors are ErrorCode::sns_invalid_parameter with SNS's wording, e.g.
// "Invalid parameter: FilterPolicy: Filter policy is too complex" (or, for Subscribe,
// "Invalid parameter: Attributes Reason: FilterPolicy: ..."). Limits: policy <= 256 KiB,
// <= 5 top-level keys, <= 150 combinations (product over value arrays of length x nesting
// depth, summed over $or branches), numeric operands within [-1e9, 1e9] with at most 5
// decimal places, JSON nesting <= 64.
//
// A FilterPolicy is immutable after parse; copies share the compiled form. All const member
// functions are safe to call concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "engine/message_attributes.h"

namespace orderflow::engine::sns {

enum class FilterPolicyScope : std::uint8_t { message_attributes, message_body };

// Which API call carried the policy; it only changes the prefix of error messages.
enum class FilterPolicySource : std::uint8_t { set_subscription_attributes, subscribe };

inline constexpr std::size_t max_filter_policy_bytes = 256 * 1024;
inline constexpr std::size_t max_filter_policy_keys = 5;
inline constexpr std::uint64_t max_filter_policy_combinations = 150;

// "MessageAttributes" / "MessageBody".
std::string_view to_string(FilterPolicyScope scope);

// Parses a FilterPolicyScope attribute value. Error (sns_invalid_parameter):
// "Invalid parameter: FilterPolicyScope: Invalid value [x]. Please use either MessageBody or
// MessageAttributes".
Result<FilterPolicyScope> parse_filter_policy_scope(
    std::string_view text,
    FilterPolicySource source = FilterPolicySource::set_subscription_attributes);

class FilterPolicy {
 public:
  // The empty policy: matches everything.
  FilterPolicy();

  // Parses and validates `json` for `scope`. An empty string is the empty policy.
  static Result<FilterPolicy> parse(
      std::string_view json, FilterPolicyScope scope,
      FilterPolicySource source = FilterPolicySource::set_subscription_attributes);

  FilterPolicyScope scope() const;
  // True for the empty policy.
  bool empty() const;

  // Attribute-scope matching (uses the policy as a flat attribute policy whatever its scope).
  bool matches(const MessageAttributes& attributes) const;
  // Body-scope matching: `body` is the published message string.
  bool matches_body(std::string_view body) const;
  // Dispatches on scope(): the delivery decision for one published message.
  bool matches_message(std::string_view body, const MessageAttributes& attributes) const;

 private:
  struct Compiled;
  explicit FilterPolicy(std::shared_ptr<const Compiled> compiled);
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace orderflow::engine::sns
