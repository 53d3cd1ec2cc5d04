#include "engine/ddb/expr.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace orderflow::engine::ddb {
namespace {

Item item_of(std::string_view json) {
  auto v = item_from_json(boost::json::parse(json));
  EXPECT_TRUE(v) << (v ? "" : v.error().message);
  return v ? *v : Item{};
}

ValueMap values_of(std::string_view json) { return item_of(json); }

// Parses `expr` as a ConditionExpression with the given placeholders; "ok" or the error.
struct Cond {
  std::string error;
  Condition cond;
};

Cond parse_cond(std::string_view expr, std::optional<ValueMap> values = std::nullopt,
                std::optional<NameMap> names = std::nullopt, bool check_unused = true) {
  auto ctx = ExpressionContext::make(names, values);
  if (!ctx) return {ctx.error().message, {}};
  auto c = parse_condition(expr, *ctx);
  if (!c) return {c.error().message, {}};
  if (check_unused) {
    if (auto st = ctx->check_all_used(); !st) return {st.error().message, {}};
  }
  return {"ok", *c};
}

std::string cond_error(std::string_view expr, std::optional<ValueMap> values = std::nullopt,
                       std::optional<NameMap> names = std::nullopt) {
  return parse_cond(expr, std::move(values), std::move(names)).error;
}

bool eval(std::string_view expr, std::string_view values_json, std::string_view item_json,
          std::optional<NameMap> names = std::nullopt) {
  std::optional<ValueMap> values;
  if (!values_json.empty()) values = values_of(values_json);
  auto c = parse_cond(expr, values, names, false);
  EXPECT_EQ(c.error, "ok") << expr;
  if (c.error != "ok") return false;
  return evaluate(c.cond, item_of(item_json));
}

const char* kItem =
    R"({"id":{"S":"o-1"},"qty":{"N":"5"},"price":{"N":"9.5"},"name":{"S":"Widget"},)"
    R"("tags":{"SS":["red","blue"]},"nums":{"NS":["1","2"]},"flag":{"BOOL":true},)"
    R"("nested":{"M":{"a":{"L":[{"N":"10"},{"M":{"b":{"S":"deep"}}}]}}},)"
    R"("lst":{"L":[{"S":"x"},{"N":"3"}]},"bin":{"B":"AAEC"}})";

TEST(DdbCondition, ComparatorsCompareNumbersNumerically) {
  EXPECT_TRUE(eval("qty = :v", R"({":v":{"N":"5.0"}})", kItem));
  EXPECT_TRUE(eval("qty <> :v", R"({":v":{"N":"6"}})", kItem));
  EXPECT_TRUE(eval("qty < :v", R"({":v":{"N":"10"}})", kItem));
  EXPECT_TRUE(eval("qty <= :v", R"({":v":{"N":"5"}})", kItem));
  EXPECT_TRUE(eval("qty > :v", R"({":v":{"N":"-1"}})", kItem));
  EXPECT_TRUE(eval("qty >= :v", R"({":v":{"N":"5"}})", kItem));
  EXPECT_FALSE(eval("qty > :v", R"({":v":{"N":"5"}})", kItem));
  EXPECT_TRUE(eval("price > qty", "", kItem));
}

TEST(DdbCondition, ComparingDifferentTypesIsFalseNotAnError) {
  EXPECT_FALSE(eval("qty = :v", R"({":v":{"S":"5"}})", kItem));
  EXPECT_FALSE(eval("qty < :v", R"({":v":{"S":"9"}})", kItem));
  EXPECT_TRUE(eval("qty <> :v", R"({":v":{"S":"5"}})", kItem));
}

TEST(DdbCondition, MissingAttributesCompareFalseButNotEqualIsTrue) {
  EXPECT_FALSE(eval("absent = :v", R"({":v":{"N":"1"}})", kItem));
  EXPECT_FALSE(eval("absent < :v", R"({":v":{"N":"1"}})", kItem));
  EXPECT_TRUE(eval("absent <> :v", R"({":v":{"N":"1"}})", kItem));
}

TEST(DdbCondition, StringsCompareByBytes) {
  EXPECT_TRUE(eval("#n > :v", R"({":v":{"S":"Apple"}})", kItem, NameMap{{"#n", "name"}}));
  EXPECT_TRUE(eval("#n < :v", R"({":v":{"S":"widget"}})", kItem, NameMap{{"#n", "name"}}));
}

TEST(DdbCondition, BetweenAndIn) {
  EXPECT_TRUE(eval("qty BETWEEN :a AND :b", R"({":a":{"N":"5"},":b":{"N":"6"}})", kItem));
  EXPECT_FALSE(eval("qty between :a and :b", R"({":a":{"N":"6"},":b":{"N":"7"}})", kItem));
  EXPECT_TRUE(eval("qty IN (:a, :b)", R"({":a":{"N":"1"},":b":{"N":"5"}})", kItem));
  EXPECT_FALSE(eval("qty IN (:a)", R"({":a":{"S":"5"}})", kItem));
}

TEST(DdbCondition, BetweenRejectsReversedAndMixedConstantBounds) {
  EXPECT_EQ(cond_error("qty BETWEEN :a AND :b", values_of(R"({":a":{"N":"5"},":b":{"N":"1"}})")),
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater "
            "than or equal to lower bound; lower operand: AttributeValue: {N:5}, upper operand: "
            "AttributeValue: {N:1}");
  EXPECT_EQ(cond_error("qty BETWEEN :a AND :b", values_of(R"({":a":{"N":"5"},":b":{"S":"x"}})")),
            "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower "
            "and upper bounds; lower operand: AttributeValue: {N:5}, upper operand: "
            "AttributeValue: {S:x}");
}

TEST(DdbCondition, InAllowsAtMost100Operands) {
  ValueMap values;
  std::string list;
  for (int i = 0; i < 101; ++i) {
    std::string k = ":v" + std::to_string(i);
    values[k] = N(std::to_string(i));
    if (i) list += ", ";
    list += k;
  }
  EXPECT_EQ(cond_error("qty IN (" + list + ")", values),
            "Invalid ConditionExpression: The IN operator is provided with too many operands; "
            "number of operands: 101");
  values.erase(":v100");
  list = list.substr(0, list.rfind(','));
  EXPECT_EQ(cond_error("qty IN (" + list + ")", values), "ok");
}

TEST(DdbCondition, LogicalOperatorsHavePrecedenceNotAndOr) {
  // a OR b AND c  ==  a OR (b AND c)
  const char* v = R"({":t":{"BOOL":true},":f":{"BOOL":false}})";
  EXPECT_TRUE(eval("flag = :t OR flag = :f AND flag = :f", v, kItem));
  EXPECT_FALSE(eval("(flag = :t OR flag = :f) AND flag = :f", v, kItem));
  EXPECT_FALSE(eval("NOT flag = :t", v, kItem));
  EXPECT_TRUE(eval("NOT flag = :f AND flag = :t", v, kItem));
  EXPECT_TRUE(eval("not (flag = :f or flag = :f)", v, kItem));
}

TEST(DdbCondition, AttributeExistsAndNotExists) {
  EXPECT_TRUE(eval("attribute_exists(id)", "", kItem));
  EXPECT_TRUE(eval("attribute_not_exists(nope)", "", kItem));
  EXPECT_TRUE(eval("attribute_exists(nested.a[1].b)", "", kItem));
  EXPECT_FALSE(eval("attribute_exists(nested.a[2])", "", kItem));
  EXPECT_TRUE(eval("attribute_not_exists(id)", "", "{}"));
  EXPECT_FALSE(eval("attribute_not_exists(id)", "", kItem));
}

TEST(DdbCondition, AttributeType) {
  EXPECT_TRUE(eval("attribute_type(tags, :t)", R"({":t":{"S":"SS"}})", kItem));
  EXPECT_FALSE(eval("attribute_type(qty, :t)", R"({":t":{"S":"S"}})", kItem));
  EXPECT_EQ(cond_error("attribute_type(qty, :t)", values_of(R"({":t":{"S":"XX"}})")),
            "Invalid ConditionExpression: Invalid attribute type name found in type parameter; "
            "type: XX. Valid types: S, SS, N, NS, B, BS, BOOL, NULL, L, M");
}

TEST(DdbCondition, BeginsWithAndContains) {
  EXPECT_TRUE(eval("begins_with(id, :p)", R"({":p":{"S":"o-"}})", kItem));
  EXPECT_FALSE(eval("begins_with(id, :p)", R"({":p":{"S":"x"}})", kItem));
  EXPECT_TRUE(eval("begins_with(bin, :p)", R"({":p":{"B":"AAE="}})", kItem));
  EXPECT_TRUE(eval("contains(#n, :s)", R"({":s":{"S":"dge"}})", kItem, NameMap{{"#n", "name"}}));
  EXPECT_TRUE(eval("contains(tags, :s)", R"({":s":{"S":"red"}})", kItem));
  EXPECT_FALSE(eval("contains(tags, :s)", R"({":s":{"S":"re"}})", kItem));
  EXPECT_TRUE(eval("contains(nums, :n)", R"({":n":{"N":"2.0"}})", kItem));
  EXPECT_TRUE(eval("contains(lst, :n)", R"({":n":{"N":"3"}})", kItem));
  EXPECT_FALSE(eval("contains(qty, :n)", R"({":n":{"N":"5"}})", kItem));
  EXPECT_EQ(cond_error("begins_with(id, :p)", values_of(R"({":p":{"N":"1"}})")),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: NUMBER");
}

TEST(DdbCondition, SizeIsAnOperand) {
  EXPECT_TRUE(eval("size(#n) = :n", R"({":n":{"N":"6"}})", kItem, NameMap{{"#n", "name"}}));
  EXPECT_TRUE(eval("size(tags) = :n", R"({":n":{"N":"2"}})", kItem));
  EXPECT_TRUE(eval("size(nested) = :n", R"({":n":{"N":"1"}})", kItem));
  EXPECT_TRUE(eval("size(bin) = :n", R"({":n":{"N":"3"}})", kItem));
  EXPECT_TRUE(eval("size(lst) < size(tags) OR size(lst) = size(tags)", "", kItem));
  EXPECT_FALSE(eval("size(qty) = :n", R"({":n":{"N":"1"}})", kItem));
  EXPECT_FALSE(eval("size(absent) >= :n", R"({":n":{"N":"0"}})", kItem));
  EXPECT_TRUE(eval("size(s) = :n", R"({":n":{"N":"2"}})", R"({"s":{"S":"\u00e9\u00e9"}})"));
}

TEST(DdbCondition, DocumentPathsReachIntoMapsAndLists) {
  EXPECT_TRUE(eval("nested.a[0] = :v", R"({":v":{"N":"10"}})", kItem));
  EXPECT_TRUE(eval("#x.#y[1].b = :v", R"({":v":{"S":"deep"}})", kItem,
                   NameMap{{"#x", "nested"}, {"#y", "a"}}));
  EXPECT_TRUE(eval("#dotted = :v", R"({":v":{"N":"1"}})", R"({"a.b":{"N":"1"}})",
                   NameMap{{"#dotted", "a.b"}}));
}

TEST(DdbCondition, SyntaxErrorsNameTheTokenAndWhereItIs) {
  auto v = values_of(R"({":v":{"N":"1"}})");
  EXPECT_EQ(cond_error("a < < :v", v),
            "Invalid ConditionExpression: Syntax error; token: \"<\", near: \"< <\"");
  EXPECT_EQ(cond_error("a = :v AND", v),
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"AND\"");
  EXPECT_EQ(cond_error("a = !", v),
            "Invalid ConditionExpression: Syntax error; token: \"!\", near: \"= !\"");
  EXPECT_EQ(cond_error("a == :v", v),
            "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"==\"");
  EXPECT_EQ(cond_error("   "), "Invalid ConditionExpression: The expression can not be empty;");
}

TEST(DdbCondition, RejectsReservedWordsUnlessAliased) {
  auto v = values_of(R"({":v":{"S":"x"}})");
  EXPECT_EQ(cond_error("status = :v", v),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: status");
  EXPECT_EQ(cond_error("a.Name = :v", v),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: Name");
  EXPECT_EQ(cond_error("#s = :v", v, NameMap{{"#s", "status"}}), "ok");
  for (std::string_view w : {"status", "name", "date", "count", "size", "data", "key", "value",
                             "timestamp", "user", "year", "order", "comment", "type", "time"})
    EXPECT_TRUE(is_reserved_word(w)) << w;
  EXPECT_FALSE(is_reserved_word("orderId"));
  EXPECT_FALSE(is_reserved_word("qty"));
}

TEST(DdbCondition, ReportsUndefinedAndUnusedPlaceholders) {
  EXPECT_EQ(cond_error("a = :x", values_of(R"({":v":{"N":"1"}})")),
            "Invalid ConditionExpression: An expression attribute value used in expression is "
            "not defined; attribute value: :x");
  EXPECT_EQ(cond_error("#x = :v", values_of(R"({":v":{"N":"1"}})")),
            "Invalid ConditionExpression: An expression attribute name used in the document "
            "path is not defined; attribute name: #x");
  EXPECT_EQ(cond_error("a = :v", values_of(R"({":v":{"N":"1"},":x":{"N":"2"}})")),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}");
  EXPECT_EQ(cond_error("a = :v", values_of(R"({":v":{"N":"1"}})"), NameMap{{"#x", "b"}}),
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}");
  EXPECT_EQ(cond_error("a = :v", ValueMap{}), "ExpressionAttributeValues must not be empty");
  EXPECT_EQ(cond_error("a = b", std::nullopt, NameMap{}),
            "ExpressionAttributeNames must not be empty");
  EXPECT_EQ(cond_error("a = :v", values_of(R"({"v":{"N":"1"}})")),
            "ExpressionAttributeValues contains invalid key: Syntax error; key: \"v\"");
}

TEST(DdbCondition, RejectsMisusedFunctions) {
  auto v = values_of(R"({":v":{"S":"x"}})");
  EXPECT_EQ(cond_error("foo(a)"), "Invalid ConditionExpression: Invalid function name; function: foo");
  EXPECT_EQ(cond_error("attribute_exists(a, b)"),
            "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
            "operator or function: attribute_exists, number of operands: 2");
  EXPECT_EQ(cond_error("attribute_exists(:v)", v),
            "Invalid ConditionExpression: Operator or function requires a document path; "
            "operator or function: attribute_exists");
  EXPECT_EQ(cond_error("a = if_not_exists(a, :v)", v),
            "Invalid ConditionExpression: The function is not allowed in a condition expression; "
            "function: if_not_exists");
  EXPECT_EQ(cond_error("a = begins_with(a, :v)", v),
            "Invalid ConditionExpression: The function is not allowed to be used this way in an "
            "expression; function: begins_with");
  EXPECT_EQ(cond_error("size(a)"), "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \")\"");
  EXPECT_EQ(cond_error("a < :v", values_of(R"({":v":{"BOOL":true}})")),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: <, operand type: BOOLEAN");
}

TEST(DdbCondition, RejectsRedundantParenthesesAndOversizedExpressions) {
  auto v = values_of(R"({":v":{"S":"x"}})");
  EXPECT_EQ(cond_error("((a = :v))", v),
            "Invalid ConditionExpression: The expression has redundant parentheses;");
  EXPECT_EQ(cond_error("(a = :v) AND (b = :v)", v), "ok");
  std::string big = "a = :v";
  while (big.size() <= 4096) big += " OR a = :v";
  EXPECT_EQ(cond_error(big, v),
            "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; "
            "expression size: " + std::to_string(big.size()));
}

TEST(DdbCondition, LimitsPathDepthAndNesting) {
  std::string path = "a";
  for (int i = 0; i < 32; ++i) path += ".b";
  EXPECT_EQ(cond_error("attribute_exists(" + path + ")"),
            "Invalid ConditionExpression: The document path has too many nesting levels; "
            "nesting levels: 33");
  std::string deep(40, '(');
  deep += "a = :v";
  for (int i = 0; i < 40; ++i) deep += " AND b = :v)";
  EXPECT_NE(cond_error(deep, values_of(R"({":v":{"S":"x"}})")), "ok");
}

// ---- key conditions

Result<KeyCondition> key_cond(std::string_view text, std::string_view values,
                              std::optional<std::string> range = "sk") {
  auto ctx = ExpressionContext::make(std::nullopt, values_of(values));
  return parse_key_condition(text, *ctx, "pk", range);
}

TEST(DdbKeyCondition, AcceptsHashAndEachSortClause) {
  const char* v = R"({":p":{"S":"a"},":s":{"N":"1"},":t":{"N":"5"}})";
  auto kc = key_cond("pk = :p", R"({":p":{"S":"a"}})");
  ASSERT_TRUE(kc);
  EXPECT_EQ(kc->hash_value, S("a"));
  EXPECT_FALSE(kc->sort);
  kc = key_cond("sk BETWEEN :s AND :t AND pk = :p", v);
  ASSERT_TRUE(kc) << kc.error().message;
  ASSERT_TRUE(kc->sort);
  EXPECT_TRUE(kc->sort->matches(N("3")));
  EXPECT_FALSE(kc->sort->matches(N("6")));
  kc = key_cond("pk = :p AND begins_with(sk, :p)", R"({":p":{"S":"a"}})");
  ASSERT_TRUE(kc);
  EXPECT_TRUE(kc->sort->matches(S("abc")));
  EXPECT_FALSE(kc->sort->matches(S("bc")));
  kc = key_cond("pk = :p AND :s < sk", R"({":p":{"S":"a"},":s":{"N":"1"}})");
  ASSERT_TRUE(kc);
  EXPECT_TRUE(kc->sort->matches(N("2")));
  EXPECT_FALSE(kc->sort->matches(N("1")));
}

TEST(DdbKeyCondition, RejectsUnsupportedShapes) {
  const char* v = R"({":p":{"S":"a"},":q":{"S":"b"}})";
  EXPECT_EQ(key_cond("pk = :p OR pk = :q", v).error().message,
            "Invalid operator used in KeyConditionExpression: OR");
  EXPECT_EQ(key_cond("sk = :p", R"({":p":{"S":"a"}})").error().message,
            "Query condition missed key schema element: pk");
  EXPECT_EQ(key_cond("pk = :p AND extra = :q", v).error().message,
            "Query condition missed key schema element: sk");
  EXPECT_EQ(key_cond("pk < :p", R"({":p":{"S":"a"}})").error().message,
            "Query key condition not supported");
  EXPECT_EQ(key_cond("pk = :p AND pk = :q", v).error().message,
            "KeyConditionExpressions must only contain one condition per key");
  EXPECT_EQ(key_cond("pk <> :p", R"({":p":{"S":"a"}})").error().message,
            "Invalid operator used in KeyConditionExpression: <>");
  EXPECT_EQ(key_cond("pk = = :p", R"({":p":{"S":"a"}})").error().message,
            "Invalid KeyConditionExpression: Syntax error; token: \"=\", near: \"= =\"");
}

// ---- updates

struct Updated {
  std::string error;
  Item item;
};

Updated update(std::string_view expr, std::string_view item_json,
               std::string_view values_json = "", std::optional<NameMap> names = std::nullopt) {
  std::optional<ValueMap> values;
  if (!values_json.empty()) values = values_of(values_json);
  auto ctx = ExpressionContext::make(names, values);
  if (!ctx) return {ctx.error().message, {}};
  auto u = parse_update(expr, *ctx);
  if (!u) return {u.error().message, {}};
  if (auto st = ctx->check_all_used(); !st) return {st.error().message, {}};
  Item item = item_of(item_json);
  if (auto st = apply_update(*u, item); !st) return {st.error().message, {}};
  return {"ok", item};
}

std::string json_of(const Item& item) { return boost::json::serialize(to_json(item)); }

TEST(DdbUpdate, SetAssignsValuesAndArithmetic) {
  auto r = update("SET a = :v, b = a + :one, c = b - :one", R"({"a":{"N":"1"},"b":{"N":"10"}})",
                  R"({":v":{"S":"x"},":one":{"N":"1"}})");
  ASSERT_EQ(r.error, "ok");
  // Every right-hand side sees the item as it was before the update.
  EXPECT_EQ(json_of(r.item), R"({"a":{"S":"x"},"b":{"N":"2"},"c":{"N":"9"}})");
}

TEST(DdbUpdate, SetWithIfNotExistsAndListAppend) {
  auto r = update("SET cnt = if_not_exists(cnt, :zero) + :one, l = list_append(l, :more), "
                  "m = list_append(:more, if_not_exists(m, :empty))",
                  R"({"l":{"L":[{"N":"1"}]}})",
                  R"({":zero":{"N":"0"},":one":{"N":"1"},":more":{"L":[{"N":"2"}]},)"
                  R"(":empty":{"L":[]}})");
  ASSERT_EQ(r.error, "ok");
  EXPECT_EQ(json_of(r.item),
            R"({"cnt":{"N":"1"},"l":{"L":[{"N":"1"},{"N":"2"}]},"m":{"L":[{"N":"2"}]}})");
}

TEST(DdbUpdate, SetNestedPathsAndListIndexes) {
  auto r = update("SET m.x = :v, l[0] = :v, l[9] = :w", R"({"m":{"M":{}},"l":{"L":[{"N":"1"}]}})",
                  R"({":v":{"S":"x"},":w":{"S":"end"}})");
  ASSERT_EQ(r.error, "ok");
  EXPECT_EQ(json_of(r.item), R"({"l":{"L":[{"S":"x"},{"S":"end"}]},"m":{"M":{"x":{"S":"x"}}}})");
  EXPECT_EQ(update("SET absent.x = :v", "{}", R"({":v":{"S":"x"}})").error,
            "The document path provided in the update expression is invalid for update");
}

TEST(DdbUpdate, ArithmeticOnMissingOrWrongTypesFails) {
  EXPECT_EQ(update("SET a = b + :one", "{}", R"({":one":{"N":"1"}})").error,
            "The provided expression refers to an attribute that does not exist in the item");
  EXPECT_EQ(update("SET a = b + :one", R"({"b":{"S":"x"}})", R"({":one":{"N":"1"}})").error,
            "An operand in the update expression has an incorrect data type");
  EXPECT_EQ(update("SET a = :s + :one", "{}", R"({":s":{"S":"x"},":one":{"N":"1"}})").error,
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator "
            "or function: +, operand type: STRING");
}

TEST(DdbUpdate, RemoveDeletesAttributesAndListElements) {
  auto r = update("REMOVE a, l[0], l[2], m.k, absent, l[7]",
                  R"({"a":{"N":"1"},"b":{"N":"2"},"l":{"L":[{"N":"0"},{"N":"1"},{"N":"2"},)"
                  R"({"N":"3"}]},"m":{"M":{"k":{"N":"1"},"j":{"N":"2"}}}})");
  ASSERT_EQ(r.error, "ok");
  // Indexes refer to the list as it was: elements 0 and 2 go, 1 and 3 stay.
  EXPECT_EQ(json_of(r.item),
            R"({"b":{"N":"2"},"l":{"L":[{"N":"1"},{"N":"3"}]},"m":{"M":{"j":{"N":"2"}}}})");
}

TEST(DdbUpdate, AddIncrementsNumbersAndUnitesSets) {
  auto r = update("ADD n :five, fresh :five, s :ss, newset :ss",
                  R"({"n":{"N":"1.5"},"s":{"SS":["a"]}})",
                  R"({":five":{"N":"5"},":ss":{"SS":["b","a"]}})");
  ASSERT_EQ(r.error, "ok");
  EXPECT_EQ(json_of(r.item), R"({"fresh":{"N":"5"},"n":{"N":"6.5"},"newset":{"SS":["a","b"]},)"
                             R"("s":{"SS":["a","b"]}})");
  EXPECT_EQ(update("ADD s :one", R"({"s":{"SS":["a"]}})", R"({":one":{"N":"1"}})").error,
            "An operand in the update expression has an incorrect data type");
  EXPECT_EQ(update("ADD s :x", "{}", R"({":x":{"S":"a"}})").error,
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            "operator: ADD, operand type: STRING");
}

TEST(DdbUpdate, DeleteRemovesSetElementsAndEmptySetsDisappear) {
  auto r = update("DELETE s :a, t :all, absent :a", R"({"s":{"NS":["1","2"]},"t":{"NS":["1"]}})",
                  R"({":a":{"NS":["1"]},":all":{"NS":["1","3"]}})");
  ASSERT_EQ(r.error, "ok");
  EXPECT_EQ(json_of(r.item), R"({"s":{"NS":["2"]}})");
  EXPECT_EQ(update("DELETE s :n", "{}", R"({":n":{"N":"1"}})").error,
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            "operator: DELETE, operand type: NUMBER");
}

TEST(DdbUpdate, RejectsOverlappingAndConflictingPaths) {
  EXPECT_EQ(update("SET a = :v REMOVE a.b", "{}", R"({":v":{"N":"1"}})").error,
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove "
            "or rewrite one of these paths; path one: [a], path two: [a, b]");
  EXPECT_EQ(update("SET a = :v, a = :v", "{}", R"({":v":{"N":"1"}})").error,
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove "
            "or rewrite one of these paths; path one: [a], path two: [a]");
  EXPECT_EQ(update("SET a[1] = :v REMOVE a[1].x", "{}", R"({":v":{"N":"1"}})").error,
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove "
            "or rewrite one of these paths; path one: [a, [1]], path two: [a, [1], x]");
}

TEST(DdbUpdate, ClausesAppearOnceInAnyOrderAndCaseInsensitive) {
  auto r = update("remove b set a = :v", R"({"b":{"N":"1"}})", R"({":v":{"N":"2"}})");
  ASSERT_EQ(r.error, "ok");
  EXPECT_EQ(json_of(r.item), R"({"a":{"N":"2"}})");
  EXPECT_EQ(update("SET a = :v SET b = :v", "{}", R"({":v":{"N":"1"}})").error,
            "Invalid UpdateExpression: The \"SET\" section can only be used once in an update "
            "expression;");
  EXPECT_EQ(update("SET a = :v + :v + :v", "{}", R"({":v":{"N":"1"}})").error,
            "Invalid UpdateExpression: Syntax error; token: \"+\", near: \":v +\"");
  EXPECT_EQ(update("SET a = size(b)", "{}").error,
            "Invalid UpdateExpression: The function is not allowed in an update expression; "
            "function: size");
  EXPECT_EQ(update("SET count = :v", "{}", R"({":v":{"N":"1"}})").error,
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: "
            "count");
  EXPECT_EQ(update("SET #c = :v", "{}", R"({":v":{"N":"1"}})", NameMap{{"#c", "count"}}).error,
            "ok");
}

// ---- projections

TEST(DdbProjection, KeepsDocumentStructure) {
  auto ctx = ExpressionContext::make(NameMap{{"#n", "name"}}, std::nullopt);
  auto p = parse_projection("id, #n, nested.a[1].b, lst[1], lst[0], absent", *ctx);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(ctx->check_all_used());
  EXPECT_EQ(json_of(project(item_of(kItem), *p)),
            R"({"id":{"S":"o-1"},"lst":{"L":[{"S":"x"},{"N":"3"}]},)"
            R"("name":{"S":"Widget"},"nested":{"M":{"a":{"L":[{"M":{"b":{"S":"deep"}}}]}}}})");
}

TEST(DdbProjection, RejectsOverlapsAndSyntaxErrors) {
  auto ctx = ExpressionContext::make(std::nullopt, std::nullopt);
  EXPECT_EQ(parse_projection("a, a.b", *ctx).error().message,
            "Invalid ProjectionExpression: Two document paths overlap with each other; must "
            "remove or rewrite one of these paths; path one: [a], path two: [a, b]");
  EXPECT_EQ(parse_projection("my-attr", *ctx).error().message,
            "Invalid ProjectionExpression: Syntax error; token: \"-\", near: \"my-\"");
}

}  // namespace
}  // namespace orderflow::engine::ddb
