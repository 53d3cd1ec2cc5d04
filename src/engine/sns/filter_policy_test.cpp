#include "engine/sns/filter_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace orderflow::engine::sns {
namespace {

FilterPolicy policy(std::string_view json,
                    FilterPolicyScope scope = FilterPolicyScope::message_attributes) {
  auto p = FilterPolicy::parse(json, scope);
  EXPECT_TRUE(p.has_value()) << json << " -> " << (p ? "" : p.error().message);
  return p ? *p : FilterPolicy();
}

FilterPolicy body_policy(std::string_view json) {
  return policy(json, FilterPolicyScope::message_body);
}

std::string parse_error(std::string_view json,
                        FilterPolicyScope scope = FilterPolicyScope::message_attributes) {
  auto p = FilterPolicy::parse(json, scope);
  if (p) return "";
  EXPECT_EQ(p.error().code, ErrorCode::sns_invalid_parameter);
  return p.error().message;
}

MessageAttributeValue s(std::string v) { return {"String", std::move(v), {}}; }
MessageAttributeValue n(std::string v) { return {"Number", std::move(v), {}}; }
MessageAttributeValue arr(std::string v) { return {"String.Array", std::move(v), {}}; }
MessageAttributeValue bin(std::string v) { return {"Binary", {}, std::move(v)}; }

// ---- Exact matching ----

TEST(FilterPolicy, ExactStringMatchesAnyListedValue) {
  auto p = policy(R"({"store": ["example_corp", "other"]})");
  EXPECT_TRUE(p.matches({{"store", s("example_corp")}}));
  EXPECT_TRUE(p.matches({{"store", s("other")}}));
  EXPECT_FALSE(p.matches({{"store", s("Example_Corp")}}));
  EXPECT_FALSE(p.matches({{"other_key", s("example_corp")}}));
}

TEST(FilterPolicy, ExactNumberMatchesNumerically) {
  auto p = policy(R"({"price": [5, 301.5]})");
  EXPECT_TRUE(p.matches({{"price", n("5")}}));
  EXPECT_TRUE(p.matches({{"price", n("5.0")}}));
  EXPECT_TRUE(p.matches({{"price", n("5e0")}}));
  EXPECT_TRUE(p.matches({{"price", n("301.50")}}));
  EXPECT_FALSE(p.matches({{"price", n("6")}}));
}

TEST(FilterPolicy, StringsAndNumbersNeverEqualEachOther) {
  EXPECT_FALSE(policy(R"({"a": [5]})").matches({{"a", s("5")}}));
  EXPECT_FALSE(policy(R"({"a": ["5"]})").matches({{"a", n("5")}}));
}

TEST(FilterPolicy, StringArrayAttributeMatchesWhenAnyElementMatches) {
  auto p = policy(R"({"sport": ["rugby"], "n": [3]})");
  EXPECT_TRUE(p.matches({{"sport", arr(R"(["soccer", "rugby"])")}, {"n", arr("[1, 3]")}}));
  EXPECT_FALSE(p.matches({{"sport", arr(R"(["soccer"])")}, {"n", arr("[3]")}}));
  EXPECT_FALSE(p.matches({{"sport", arr("not json")}, {"n", arr("[3]")}}));
}

TEST(FilterPolicy, BooleanAndNullLiteralsMatchStringArrayElements) {
  EXPECT_TRUE(policy(R"({"f": [true]})").matches({{"f", arr("[false, true]")}}));
  EXPECT_FALSE(policy(R"({"f": [true]})").matches({{"f", s("true")}}));
  EXPECT_TRUE(policy(R"({"f": [null]})").matches({{"f", arr("[null]")}}));
}

TEST(FilterPolicy, BinaryAttributesAreIgnored) {
  EXPECT_FALSE(policy(R"({"b": ["x"]})").matches({{"b", bin("x")}}));
  EXPECT_FALSE(policy(R"({"b": [{"exists": true}]})").matches({{"b", bin("x")}}));
  EXPECT_TRUE(policy(R"({"b": [{"exists": false}]})").matches({{"b", bin("x")}}));
}

TEST(FilterPolicy, MessageWithoutAttributesDoesNotMatchNonEmptyPolicy) {
  EXPECT_FALSE(policy(R"({"store": ["x"]})").matches({}));
  EXPECT_FALSE(policy(R"({"store": [{"exists": false}]})").matches({}));
}

TEST(FilterPolicy, EmptyPolicyMatchesEverything) {
  for (auto text : {"", "{}", "  "}) {
    auto p = policy(text);
    EXPECT_TRUE(p.empty());
    EXPECT_TRUE(p.matches({}));
    EXPECT_TRUE(p.matches_body("not json"));
  }
  EXPECT_TRUE(FilterPolicy().matches({{"a", s("b")}}));
}

TEST(FilterPolicy, AllKeysMustMatch) {
  auto p = policy(R"({"store": ["a"], "event": ["order_placed"]})");
  EXPECT_TRUE(p.matches({{"store", s("a")}, {"event", s("order_placed")}}));
  EXPECT_FALSE(p.matches({{"store", s("a")}, {"event", s("order_cancelled")}}));
  EXPECT_FALSE(p.matches({{"store", s("a")}}));
}

// ---- String operators ----

TEST(FilterPolicy, PrefixMatchesStringsStartingWithIt) {
  auto p = policy(R"({"event": [{"prefix": "order-"}]})");
  EXPECT_TRUE(p.matches({{"event", s("order-placed")}}));
  EXPECT_FALSE(p.matches({{"event", s("Order-placed")}}));
  EXPECT_FALSE(p.matches({{"event", s("my-order-")}}));
}

TEST(FilterPolicy, SuffixMatchesStringsEndingWithIt) {
  auto p = policy(R"({"file": [{"suffix": ".png"}]})");
  EXPECT_TRUE(p.matches({{"file", s("cat.png")}}));
  EXPECT_FALSE(p.matches({{"file", s("cat.png.gz")}}));
}

TEST(FilterPolicy, EqualsIgnoreCaseFoldsAsciiCase) {
  auto p = policy(R"({"color": [{"equals-ignore-case": "Red"}]})");
  EXPECT_TRUE(p.matches({{"color", s("RED")}}));
  EXPECT_TRUE(p.matches({{"color", s("red")}}));
  EXPECT_FALSE(p.matches({{"color", s("reds")}}));
}

// ---- anything-but ----

TEST(FilterPolicy, AnythingButListExcludesListedStrings) {
  auto p = policy(R"({"sport": [{"anything-but": ["rugby", "tennis"]}]})");
  EXPECT_TRUE(p.matches({{"sport", s("soccer")}}));
  EXPECT_FALSE(p.matches({{"sport", s("rugby")}}));
  EXPECT_FALSE(p.matches({{"sport", s("tennis")}}));
  EXPECT_FALSE(p.matches({{"other", s("soccer")}}));  // key must exist
}

TEST(FilterPolicy, AnythingButSingleValueExcludesIt) {
  EXPECT_FALSE(policy(R"({"a": [{"anything-but": "x"}]})").matches({{"a", s("x")}}));
  EXPECT_TRUE(policy(R"({"a": [{"anything-but": "x"}]})").matches({{"a", s("y")}}));
  EXPECT_FALSE(policy(R"({"a": [{"anything-but": 5}]})").matches({{"a", n("5.0")}}));
  EXPECT_TRUE(policy(R"({"a": [{"anything-but": 5}]})").matches({{"a", n("6")}}));
}

TEST(FilterPolicy, AnythingButNumbersExcludesListedNumbers) {
  auto p = policy(R"({"price": [{"anything-but": [100, 500]}]})");
  EXPECT_TRUE(p.matches({{"price", n("101")}}));
  EXPECT_FALSE(p.matches({{"price", n("100")}}));
  EXPECT_FALSE(p.matches({{"price", n("500.0")}}));
}

TEST(FilterPolicy, AnythingButPrefixExcludesMatchingValues) {
  auto p = policy(R"({"event": [{"anything-but": {"prefix": "order-"}}]})");
  EXPECT_TRUE(p.matches({{"event", s("invoice-paid")}}));
  EXPECT_FALSE(p.matches({{"event", s("order-placed")}}));
}

TEST(FilterPolicy, AnythingButSuffixAndIgnoreCaseExcludeMatchingValues) {
  auto suffix = policy(R"({"f": [{"anything-but": {"suffix": ".tmp"}}]})");
  EXPECT_TRUE(suffix.matches({{"f", s("a.txt")}}));
  EXPECT_FALSE(suffix.matches({{"f", s("a.tmp")}}));
  auto icase = policy(R"({"c": [{"anything-but": {"equals-ignore-case": ["red", "blue"]}}]})");
  EXPECT_TRUE(icase.matches({{"c", s("green")}}));
  EXPECT_FALSE(icase.matches({{"c", s("BLUE")}}));
}

TEST(FilterPolicy, AnythingButOverStringArrayMatchesWhenAnyElementIsNotExcluded) {
  auto p = policy(R"({"sport": [{"anything-but": ["rugby"]}]})");
  EXPECT_TRUE(p.matches({{"sport", arr(R"(["rugby", "golf"])")}}));
  EXPECT_FALSE(p.matches({{"sport", arr(R"(["rugby"])")}}));
}

// ---- numeric ----

TEST(FilterPolicy, NumericEqualsMatchesEqualNumbers) {
  auto p = policy(R"({"price": [{"numeric": ["=", 301.5]}]})");
  EXPECT_TRUE(p.matches({{"price", n("301.5")}}));
  EXPECT_FALSE(p.matches({{"price", n("301.6")}}));
  EXPECT_FALSE(p.matches({{"price", s("301.5")}}));
}

TEST(FilterPolicy, NumericRangeHonoursInclusiveAndExclusiveBounds) {
  auto p = policy(R"({"price": [{"numeric": [">", 0, "<=", 150]}]})");
  EXPECT_FALSE(p.matches({{"price", n("0")}}));
  EXPECT_TRUE(p.matches({{"price", n("0.00001")}}));
  EXPECT_TRUE(p.matches({{"price", n("150")}}));
  EXPECT_FALSE(p.matches({{"price", n("150.1")}}));
  auto q = policy(R"({"price": [{"numeric": [">=", 10, "<", 20]}]})");
  EXPECT_TRUE(q.matches({{"price", n("10")}}));
  EXPECT_FALSE(q.matches({{"price", n("20")}}));
}

TEST(FilterPolicy, NumericSingleComparisons) {
  EXPECT_TRUE(policy(R"({"a": [{"numeric": ["<", 5]}]})").matches({{"a", n("4.9")}}));
  EXPECT_FALSE(policy(R"({"a": [{"numeric": ["<", 5]}]})").matches({{"a", n("5")}}));
  EXPECT_TRUE(policy(R"({"a": [{"numeric": ["<=", 5]}]})").matches({{"a", n("5")}}));
  EXPECT_TRUE(policy(R"({"a": [{"numeric": [">", -5]}]})").matches({{"a", n("-4")}}));
  EXPECT_FALSE(policy(R"({"a": [{"numeric": [">=", 5]}]})").matches({{"a", n("4")}}));
}

// ---- exists ----

TEST(FilterPolicy, ExistsTrueMatchesPresentAttributes) {
  auto p = policy(R"({"store": [{"exists": true}]})");
  EXPECT_TRUE(p.matches({{"store", s("anything")}}));
  EXPECT_FALSE(p.matches({{"other", s("x")}}));
}

TEST(FilterPolicy, ExistsFalseMatchesAbsentAttributes) {
  auto p = policy(R"({"store": [{"exists": false}]})");
  EXPECT_TRUE(p.matches({{"other", s("x")}}));
  EXPECT_FALSE(p.matches({{"store", s("x")}}));
}

TEST(FilterPolicy, ValuesInOneKeyAreOred) {
  auto p = policy(R"({"store": ["a", {"exists": false}]})");
  EXPECT_TRUE(p.matches({{"store", s("a")}}));
  EXPECT_TRUE(p.matches({{"other", s("x")}}));
  EXPECT_FALSE(p.matches({{"store", s("b")}}));
}

// ---- cidr ----

TEST(FilterPolicy, CidrMatchesAddressesInsideTheNetwork) {
  auto p = policy(R"({"ip": [{"cidr": "10.0.0.0/24"}]})");
  EXPECT_TRUE(p.matches({{"ip", s("10.0.0.255")}}));
  EXPECT_FALSE(p.matches({{"ip", s("10.0.1.0")}}));
  EXPECT_FALSE(p.matches({{"ip", s("not an ip")}}));
  EXPECT_TRUE(policy(R"({"ip": [{"cidr": "0.0.0.0/0"}]})").matches({{"ip", s("8.8.8.8")}}));
  EXPECT_TRUE(policy(R"({"ip": [{"cidr": "10.1.2.3/32"}]})").matches({{"ip", s("10.1.2.3")}}));
  EXPECT_TRUE(policy(R"({"ip": [{"cidr": "10.0.0.0/13"}]})").matches({{"ip", s("10.7.255.1")}}));
  EXPECT_FALSE(policy(R"({"ip": [{"cidr": "10.0.0.0/13"}]})").matches({{"ip", s("10.8.0.1")}}));
}

TEST(FilterPolicy, CidrMatchesIpv6Addresses) {
  auto p = policy(R"({"ip": [{"cidr": "2001:db8::/32"}]})");
  EXPECT_TRUE(p.matches({{"ip", s("2001:db8::1")}}));
  EXPECT_FALSE(p.matches({{"ip", s("2001:db9::1")}}));
  EXPECT_FALSE(p.matches({{"ip", s("10.0.0.1")}}));
}

// ---- $or ----

TEST(FilterPolicy, OrMatchesWhenAnyBranchMatches) {
  auto p = policy(
      R"({"source": ["aws.cloudwatch"], "$or": [{"metric": ["CPU"]}, {"namespace": ["EC2"]}]})");
  EXPECT_TRUE(p.matches({{"source", s("aws.cloudwatch")}, {"metric", s("CPU")}}));
  EXPECT_TRUE(p.matches({{"source", s("aws.cloudwatch")}, {"namespace", s("EC2")}}));
  EXPECT_FALSE(p.matches({{"source", s("aws.cloudwatch")}, {"metric", s("RAM")}}));
  EXPECT_FALSE(p.matches({{"source", s("other")}, {"metric", s("CPU")}}));
}

TEST(FilterPolicy, OrWorksInsideNestedBodyPolicies) {
  auto p = body_policy(
      R"({"order": {"$or": [{"status": ["paid"]}, {"total": [{"numeric": [">", 100]}]}]}})");
  EXPECT_TRUE(p.matches_body(R"({"order": {"status": "paid", "total": 1}})"));
  EXPECT_TRUE(p.matches_body(R"({"order": {"status": "new", "total": 101}})"));
  EXPECT_FALSE(p.matches_body(R"({"order": {"status": "new", "total": 1}})"));
}

// ---- MessageBody scope ----

TEST(FilterPolicy, BodyScopeFollowsNestedKeys) {
  auto p = body_policy(R"({"order": {"status": ["paid"], "customer": {"tier": ["gold"]}}})");
  EXPECT_TRUE(p.matches_body(R"({"order": {"status": "paid", "customer": {"tier": "gold"}}})"));
  EXPECT_FALSE(p.matches_body(R"({"order": {"status": "paid", "customer": {"tier": "silver"}}})"));
  EXPECT_FALSE(p.matches_body(R"({"status": "paid", "tier": "gold"})"));
}

TEST(FilterPolicy, BodyScopeMatchesAnyArrayElement) {
  auto p = body_policy(R"({"items": {"sku": [{"prefix": "BK-"}]}, "tags": ["urgent"]})");
  EXPECT_TRUE(p.matches_body(
      R"({"items": [{"sku": "TS-1"}, {"sku": "BK-2"}], "tags": ["normal", "urgent"]})"));
  EXPECT_FALSE(p.matches_body(R"({"items": [{"sku": "TS-1"}], "tags": ["urgent"]})"));
}

TEST(FilterPolicy, BodyScopeComparesTypedValues) {
  auto p = body_policy(
      R"({"qty": [5], "gift": [true], "note": [null], "price": [{"numeric": ["<", 10]}]})");
  EXPECT_TRUE(p.matches_body(R"({"qty": 5.0, "gift": true, "note": null, "price": 9.99})"));
  EXPECT_FALSE(p.matches_body(R"({"qty": "5", "gift": true, "note": null, "price": 9.99})"));
  EXPECT_FALSE(p.matches_body(R"({"qty": 5, "gift": "true", "note": null, "price": 9.99})"));
}

TEST(FilterPolicy, BodyScopeExistsLooksForLeafValues) {
  auto p = body_policy(R"({"order": {"coupon": [{"exists": false}], "id": [{"exists": true}]}})");
  EXPECT_TRUE(p.matches_body(R"({"order": {"id": "o-1"}})"));
  EXPECT_FALSE(p.matches_body(R"({"order": {"id": "o-1", "coupon": "X"}})"));
  EXPECT_FALSE(p.matches_body(R"({"order": {"coupon": "X"}})"));
}

TEST(FilterPolicy, BodyThatIsNotAJsonObjectDoesNotMatch) {
  auto p = body_policy(R"({"a": [{"exists": false}]})");
  EXPECT_FALSE(p.matches_body("plain text"));
  EXPECT_FALSE(p.matches_body("[1, 2]"));
  EXPECT_FALSE(p.matches_body("{"));
  EXPECT_TRUE(p.matches_body("{}"));
}

TEST(FilterPolicy, MatchesMessageDispatchesOnScope) {
  auto attrs = policy(R"({"a": ["x"]})");
  auto body = body_policy(R"({"a": ["x"]})");
  EXPECT_TRUE(attrs.matches_message(R"({"a": "y"})", {{"a", s("x")}}));
  EXPECT_FALSE(body.matches_message(R"({"a": "y"})", {{"a", s("x")}}));
  EXPECT_TRUE(body.matches_message(R"({"a": "x"})", {}));
  EXPECT_EQ(body.scope(), FilterPolicyScope::message_body);
}

// ---- Validation ----

TEST(FilterPolicy, RejectsMalformedJson) {
  EXPECT_EQ(parse_error("{"), "Invalid parameter: FilterPolicy: failed to parse JSON.");
  EXPECT_EQ(parse_error("[1]"),
            "Invalid parameter: FilterPolicy: Filter policy must be a JSON object");
}

TEST(FilterPolicy, ErrorsFromSubscribeCarryTheAttributesPrefix) {
  auto p = FilterPolicy::parse("{", FilterPolicyScope::message_attributes,
                               FilterPolicySource::subscribe);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message,
            "Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON.");
}

TEST(FilterPolicy, RejectsMoreThan150Combinations) {
  std::string values;
  for (int i = 0; i < 151; ++i) values += (i ? "," : "") + std::to_string(i);
  EXPECT_EQ(parse_error(R"({"store": [)" + values + "]}"),
            "Invalid parameter: FilterPolicy: Filter policy is too complex");
  // 10 x 15 = 150 is the limit, accepted.
  std::string ten, fifteen;
  for (int i = 0; i < 10; ++i) ten += (i ? "," : "") + std::to_string(i);
  for (int i = 0; i < 15; ++i) fifteen += (i ? "," : "") + std::to_string(i);
  EXPECT_EQ(parse_error(R"({"a": [)" + ten + R"(], "b": [)" + fifteen + "]}"), "");
  EXPECT_NE(parse_error(R"({"a": [)" + ten + R"(], "b": [)" + fifteen + R"(], "c": [1, 2]})"), "");
}

TEST(FilterPolicy, NestedCombinationsAreWeightedByDepth) {
  // AWS's documented example: 4 values at depth 3 and 3 values at depth 2 -> 3*4*2*3 = 72.
  EXPECT_EQ(parse_error(R"({"a": {"b": {"c": [1, 2, 3, 4]}}, "d": {"e": [1, 2, 3]}})",
                        FilterPolicyScope::message_body),
            "");
  // 6 values at depth 3 and 5 at depth 2 -> 18 * 10 = 180 > 150.
  EXPECT_EQ(parse_error(R"({"a": {"b": {"c": [1, 2, 3, 4, 5, 6]}}, "d": {"e": [1, 2, 3, 4, 5]}})",
                        FilterPolicyScope::message_body),
            "Invalid parameter: FilterPolicy: Filter policy is too complex");
}

TEST(FilterPolicy, RejectsMoreThanFiveKeys) {
  EXPECT_EQ(parse_error(R"({"a": [1], "b": [1], "c": [1], "d": [1], "e": [1], "f": [1]})"),
            "Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys");
  EXPECT_EQ(parse_error(R"({"a": [1], "b": [1], "c": [1], "d": [1], "e": [1]})"), "");
}

TEST(FilterPolicy, RejectsNestingInAttributeScope) {
  EXPECT_EQ(parse_error(R"({"a": {"b": ["x"]}})"),
            "Invalid parameter: Filter policy scope MessageAttributes does not support nested "
            "filter policy");
}

TEST(FilterPolicy, RejectsDeeplyNestedPolicies) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += R"({"k":)";
  deep += "[1]";
  for (int i = 0; i < 100; ++i) deep += "}";
  EXPECT_EQ(parse_error(deep, FilterPolicyScope::message_body),
            "Invalid parameter: FilterPolicy: Filter policy is too complex");
}

TEST(FilterPolicy, RejectsOversizedPolicies) {
  const std::string big = R"({"a": [")" + std::string(300 * 1024, 'x') + R"("]})";
  EXPECT_EQ(parse_error(big), "Invalid parameter: FilterPolicy: Filter policy is too long");
}

TEST(FilterPolicy, RejectsEmptyArraysAndScalarsAsKeyValues) {
  EXPECT_EQ(parse_error(R"({"a": []})"),
            "Invalid parameter: FilterPolicy: Empty arrays are not allowed");
  EXPECT_EQ(parse_error(R"({"a": "x"})"),
            "Invalid parameter: FilterPolicy: \"a\" must be an object or an array");
}

TEST(FilterPolicy, RejectsNestedArraysAsMatchValues) {
  EXPECT_EQ(
      parse_error(R"({"a": [["x"]]})"),
      "Invalid parameter: FilterPolicy: Match value must be String, number, true, false, or null");
}

TEST(FilterPolicy, RejectsUnknownOperatorsAndMultiKeyExpressions) {
  EXPECT_EQ(parse_error(R"({"a": [{"wildcard2": "x"}]})"),
            "Invalid parameter: FilterPolicy: Unrecognized match type wildcard2");
  EXPECT_EQ(parse_error(R"({"a": [{"prefix": "x", "suffix": "y"}]})"),
            "Invalid parameter: FilterPolicy: Only one key allowed in match expression");
}

TEST(FilterPolicy, RejectsNonStringStringOperands) {
  EXPECT_EQ(parse_error(R"({"a": [{"prefix": 1}]})"),
            "Invalid parameter: FilterPolicy: prefix match pattern must be a string");
  EXPECT_EQ(parse_error(R"({"a": [{"suffix": true}]})"),
            "Invalid parameter: FilterPolicy: suffix match pattern must be a string");
  EXPECT_EQ(parse_error(R"({"a": [{"equals-ignore-case": null}]})"),
            "Invalid parameter: FilterPolicy: equals-ignore-case match pattern must be a string");
}

TEST(FilterPolicy, RejectsNonBooleanExists) {
  EXPECT_EQ(parse_error(R"({"a": [{"exists": "yes"}]})"),
            "Invalid parameter: FilterPolicy: exists match pattern must be either true or false.");
}

TEST(FilterPolicy, RejectsBadAnythingButOperands) {
  EXPECT_EQ(parse_error(R"({"a": [{"anything-but": {"wildcard": "x"}}]})"),
            "Invalid parameter: FilterPolicy: Unsupported anything-but pattern: wildcard");
  EXPECT_EQ(parse_error(R"({"a": [{"anything-but": {"prefix": 5}}]})"),
            "Invalid parameter: FilterPolicy: prefix match pattern must be a string");
  EXPECT_NE(parse_error(R"({"a": [{"anything-but": [true]}]})"), "");
  EXPECT_NE(parse_error(R"({"a": [{"anything-but": []}]})"), "");
}

TEST(FilterPolicy, RejectsMalformedNumericExpressions) {
  const std::string p = "Invalid parameter: FilterPolicy: ";
  EXPECT_EQ(parse_error(R"({"a": [{"numeric": []}]})"), p + "Invalid member in numeric match: ]");
  EXPECT_EQ(parse_error(R"({"a": [{"numeric": [5]}]})"), p + "Invalid member in numeric match: 5");
  EXPECT_EQ(parse_error(R"({"a": [{"numeric": ["!=", 5]}]})"),
            p + "Unrecognized numeric range operator: !=");
  EXPECT_EQ(parse_error(R"({"a": [{"numeric": ["=", "5"]}]})"),
            p + "Value of equals must be numeric");
  EXPECT_EQ(parse_error(R"({"a": [{"numeric": [">"]}]})"), p + "Value of > must be numeric");
  EXPECT_EQ(parse_error(R"({"a": [{"numeric": ["<", 5, ">", 1]}]})"),
            p + "Too many elements in numeric expression");
  EXPECT_EQ(parse_error(R"({"a": [{"numeric": [">", 5, ">", 10]}]})"),
            p + "Bad numeric range operator: >");
  EXPECT_EQ(parse_error(R"({"a": [{"numeric": [">", 5, "<", 1]}]})"),
            p + "Bottom must be less than top");
  EXPECT_EQ(parse_error(R"({"a": [{"numeric": [">", 1, "<", 5, 6]}]})"),
            p + "Too many terms in numeric range expression");
}

TEST(FilterPolicy, NumericOperandsMustBeWithinRangeAndFiveDecimals) {
  EXPECT_EQ(parse_error(R"({"a": [{"numeric": [">=", -1000000000, "<=", 1000000000]}]})"), "");
  EXPECT_EQ(parse_error(R"({"a": [{"numeric": ["=", 0.12345]}]})"), "");
  EXPECT_NE(parse_error(R"({"a": [{"numeric": ["=", 0.123456]}]})"), "");
  EXPECT_NE(parse_error(R"({"a": [{"numeric": ["<", 1000000000.5]}]})"), "");
  EXPECT_NE(parse_error(R"({"a": [{"numeric": [">", -2e9]}]})"), "");
}

TEST(FilterPolicy, RejectsMalformedCidr) {
  const std::string p = "Invalid parameter: FilterPolicy: ";
  EXPECT_EQ(parse_error(R"({"a": [{"cidr": "10.0.0.0"}]})"),
            p + "Malformed CIDR, one '/' required");
  EXPECT_EQ(parse_error(R"({"a": [{"cidr": "10.0.0.0/x"}]})"),
            p + "Malformed CIDR, mask bits must be an integer");
  EXPECT_EQ(parse_error(R"({"a": [{"cidr": "10.0.0.300/24"}]})"),
            p + "Nonstandard IP address: 10.0.0.300");
  EXPECT_EQ(parse_error(R"({"a": [{"cidr": "10.0.0.0/33"}]})"),
            p + "Nonstandard IP address: 10.0.0.0");
  EXPECT_EQ(parse_error(R"({"a": [{"cidr": 10}]})"), p + "prefix match pattern must be a string");
}

TEST(FilterPolicy, RejectsMalformedOr) {
  EXPECT_NE(parse_error(R"({"$or": {"a": ["x"]}})"), "");
  EXPECT_NE(parse_error(R"({"$or": [{"a": ["x"]}]})"), "");
  EXPECT_NE(parse_error(R"({"$or": [{"a": ["x"]}, "b"]})"), "");
}

TEST(FilterPolicy, OrBranchesCountTowardCombinations) {
  std::string eighty;
  for (int i = 0; i < 80; ++i) eighty += (i ? "," : "") + std::to_string(i);
  EXPECT_EQ(parse_error(R"({"$or": [{"a": [)" + eighty + R"(]}, {"b": [)" + eighty + "]}]}"),
            "Invalid parameter: FilterPolicy: Filter policy is too complex");
}

TEST(FilterPolicy, ParsesFilterPolicyScope) {
  EXPECT_EQ(parse_filter_policy_scope("MessageBody"), FilterPolicyScope::message_body);
  EXPECT_EQ(parse_filter_policy_scope("MessageAttributes"), FilterPolicyScope::message_attributes);
  auto bad = parse_filter_policy_scope("Body");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "Invalid parameter: FilterPolicyScope: Invalid value [Body]. Please use either "
            "MessageBody or MessageAttributes");
  EXPECT_EQ(to_string(FilterPolicyScope::message_body), "MessageBody");
}

}  // namespace
}  // namespace orderflow::engine::sns
