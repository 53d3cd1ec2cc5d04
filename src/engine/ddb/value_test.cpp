#include "engine/ddb/value.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace orderflow::engine::ddb {
namespace {

std::string canon(std::string_view text) {
  auto n = Number::parse(text);
  return n ? n->to_string() : "error: " + n.error().message;
}

Result<AttributeValue> parse_json(std::string_view text) {
  boost::json::parse_options options;
  options.max_depth = 128;  // 32 AttributeValue levels are 64 JSON levels
  return value_from_json(boost::json::parse(text, {}, options));
}

std::string error_of(std::string_view json) {
  auto v = parse_json(json);
  if (v) return "ok";
  EXPECT_EQ(v.error().code, ErrorCode::ddb_validation);
  return v.error().message;
}

TEST(DdbNumber, CanonicalisesTrailingZeros) {
  EXPECT_EQ(canon("1.0"), "1");
  EXPECT_EQ(canon("1.50"), "1.5");
  EXPECT_EQ(canon("100"), "100");
  EXPECT_EQ(canon("0.000"), "0");
}

TEST(DdbNumber, CanonicalisesLeadingZerosSignsAndExponents) {
  EXPECT_EQ(canon("01"), "1");
  EXPECT_EQ(canon("-0"), "0");
  EXPECT_EQ(canon("+5"), "5");
  EXPECT_EQ(canon("1e2"), "100");
  EXPECT_EQ(canon("1.5E+3"), "1500");
  EXPECT_EQ(canon("15e-3"), "0.015");
  EXPECT_EQ(canon(".5"), "0.5");
  EXPECT_EQ(canon("5."), "5");
  EXPECT_EQ(canon("-12.340"), "-12.34");
  EXPECT_EQ(canon("123.456"), "123.456");
}

TEST(DdbNumber, RejectsMalformedText) {
  for (std::string_view bad : {"", "abc", "1..2", "1e", "--1", "1 ", " 1", "0x10", "1e+", "."})
    EXPECT_EQ(canon(bad), "error: A value provided cannot be converted into a number") << bad;
}

TEST(DdbNumber, AcceptsTheExtremesOfTheRange) {
  EXPECT_EQ(canon("1E-130"), "0." + std::string(129, '0') + "1");
  std::string max = "9.9999999999999999999999999999999999999E+125";
  EXPECT_EQ(canon(max), std::string(38, '9') + std::string(88, '0'));
  EXPECT_EQ(canon("-" + max), "-" + std::string(38, '9') + std::string(88, '0'));
}

TEST(DdbNumber, RejectsOverflowUnderflowAndPrecision) {
  EXPECT_EQ(canon("1E+126"),
            "error: Number overflow. Attempting to store a number with magnitude larger than "
            "supported range");
  EXPECT_EQ(canon("-1E+126"),
            "error: Number overflow. Attempting to store a number with magnitude larger than "
            "supported range");
  EXPECT_EQ(canon("1E-131"),
            "error: Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range");
  EXPECT_EQ(canon(std::string(39, '1')),
            "error: Attempting to store more than 38 significant digits in a Number");
  // Trailing zeros are not significant.
  EXPECT_EQ(canon(std::string(38, '1') + "000"), std::string(38, '1') + "000");
}

TEST(DdbNumber, ComparesExactly) {
  auto n = [](std::string_view s) { return *Number::parse(s); };
  EXPECT_LT(n("-10"), n("-9"));
  EXPECT_LT(n("-0.001"), n("0"));
  EXPECT_LT(n("0"), n("1E-130"));
  EXPECT_LT(n("0.12"), n("0.123"));
  EXPECT_LT(n("-0.123"), n("-0.12"));
  EXPECT_LT(n("99"), n("100"));
  EXPECT_EQ(n("1.0"), n("1"));
  // Differs only in the 38th digit: doubles would call these equal.
  EXPECT_LT(n("1.0000000000000000000000000000000000001"),
            n("1.0000000000000000000000000000000000002"));
}

TEST(DdbNumber, AddsAndSubtractsExactly) {
  auto n = [](std::string_view s) { return *Number::parse(s); };
  EXPECT_EQ(n("0.1").add(n("0.2"))->to_string(), "0.3");
  EXPECT_EQ(n("1").subtract(n("1"))->to_string(), "0");
  EXPECT_EQ(n("5").subtract(n("7.5"))->to_string(), "-2.5");
  EXPECT_EQ(n("-5").add(n("-7"))->to_string(), "-12");
  EXPECT_EQ(n("999").add(n("1"))->to_string(), "1000");
  EXPECT_EQ(n("1E+20").add(n("1"))->to_string(), "100000000000000000001");
  auto too_precise = n("1E+40").add(n("1"));
  ASSERT_FALSE(too_precise);
  EXPECT_EQ(too_precise.error().message,
            "Attempting to store more than 38 significant digits in a Number");
  std::string max = "9.9999999999999999999999999999999999999E+125";
  EXPECT_FALSE(n(max).add(n(max)));
}

TEST(DdbNumber, KeyEncodingSortsNumerically) {
  std::vector<std::string> values = {"-1E+125", "-100", "-99.5", "-1", "-0.5", "-0.05", "0",
                                     "1E-130", "0.5",   "1",    "1.5", "2",  "10",   "1E+125"};
  for (std::size_t i = 0; i + 1 < values.size(); ++i) {
    std::string a, b;
    Number::parse(values[i])->encode_key(a);
    Number::parse(values[i + 1])->encode_key(b);
    EXPECT_LT(a, b) << values[i] << " vs " << values[i + 1];
  }
}

TEST(DdbValue, ParsesEveryType) {
  auto v = parse_json(
      R"({"M":{"s":{"S":"x"},"n":{"N":"1.50"},"b":{"B":"AAE="},"t":{"BOOL":true},)"
      R"("z":{"NULL":true},"l":{"L":[{"S":"a"},{"N":"2"}]},"ss":{"SS":["b","a"]},)"
      R"("ns":{"NS":["10","9"]},"bs":{"BS":["AQ=="]}}})");
  ASSERT_TRUE(v) << v.error().message;
  const Map& m = v->as<Map>();
  EXPECT_EQ(m.at("s").as<std::string>(), "x");
  EXPECT_EQ(m.at("n").as<Number>().to_string(), "1.5");
  EXPECT_EQ(m.at("b").as<Binary>().bytes, std::string("\0\1", 2));
  EXPECT_TRUE(m.at("t").as<bool>());
  EXPECT_TRUE(m.at("z").is<Null>());
  EXPECT_EQ(m.at("l").as<List>().size(), 2u);
  EXPECT_EQ(*m.at("ss").as<StringSet>().values.begin(), "a");
  EXPECT_EQ(m.at("ns").as<NumberSet>().values.begin()->to_string(), "9");
  EXPECT_EQ(m.at("bs").as<BinarySet>().values.size(), 1u);
  // And back: numbers come out canonical.
  EXPECT_EQ(boost::json::serialize(to_json(m.at("n"))), R"({"N":"1.5"})");
  EXPECT_EQ(boost::json::serialize(to_json(m.at("b"))), R"({"B":"AAE="})");
  EXPECT_EQ(boost::json::serialize(to_json(m.at("ns"))), R"({"NS":["9","10"]})");
}

TEST(DdbValue, RejectsEmptyAndMultiTypeValues) {
  EXPECT_EQ(error_of(R"({})"),
            "Supplied AttributeValue is empty, must contain exactly one of the supported "
            "datatypes");
  EXPECT_EQ(error_of(R"({"S":"a","N":"1"})"),
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            "of the supported datatypes");
}

TEST(DdbValue, RejectsDuplicateSetMembers) {
  EXPECT_EQ(error_of(R"({"SS":["a","a"]})"),
            "One or more parameter values were invalid: Input collection [a, a] contains "
            "duplicates.");
  EXPECT_EQ(error_of(R"({"NS":["1","1.0"]})"),
            "One or more parameter values were invalid: Input collection [1, 1.0] contains "
            "duplicates.");
}

TEST(DdbValue, RejectsEmptySets) {
  EXPECT_EQ(error_of(R"({"SS":[]})"),
            "One or more parameter values were invalid: An string set  may not be empty");
  EXPECT_EQ(error_of(R"({"NS":[]})"),
            "One or more parameter values were invalid: An number set  may not be empty");
  EXPECT_EQ(error_of(R"({"BS":[]})"),
            "One or more parameter values were invalid: Binary sets should not be empty");
}

TEST(DdbValue, RejectsWrongJsonTypesBadNumbersAndNullFalse) {
  EXPECT_EQ(error_of(R"({"S":5})"), "NUMBER_VALUE can not be converted to a String");
  EXPECT_EQ(error_of(R"({"N":"x"})"), "A value provided cannot be converted into a number");
  EXPECT_EQ(error_of(R"({"N":"1e999"})"),
            "Number overflow. Attempting to store a number with magnitude larger than supported "
            "range");
  EXPECT_EQ(error_of(R"({"NULL":false})"),
            "One or more parameter values were invalid: Null attribute value types must have the "
            "value of true");
  EXPECT_EQ(error_of(R"({"B":"!!"})"), "Invalid Base64 encoded value in Blob");
  EXPECT_EQ(error_of(R"({"L":{}})"), "Start of structure or map can not be converted to a List");
  EXPECT_EQ(error_of(R"("x")"), "STRING_VALUE can not be converted to an AttributeValue");
}

TEST(DdbValue, LimitsNestingTo32Levels) {
  auto nested = [](int levels) {
    std::string s;
    for (int i = 0; i < levels - 1; ++i) s += R"({"L":[)";
    s += R"({"S":"x"})";
    for (int i = 0; i < levels - 1; ++i) s += "]}";
    return s;
  };
  EXPECT_EQ(error_of(nested(32)), "ok");
  EXPECT_EQ(error_of(nested(33)), "Nesting Levels have exceeded supported limits");
}

TEST(DdbValue, EqualityIsDeepAndNumeric) {
  EXPECT_EQ(*parse_json(R"({"N":"1.0"})"), *parse_json(R"({"N":"1"})"));
  EXPECT_EQ(*parse_json(R"({"M":{"a":{"NS":["1","2"]}}})"),
            *parse_json(R"({"M":{"a":{"NS":["2","1.00"]}}})"));
  EXPECT_FALSE(*parse_json(R"({"S":"1"})") == *parse_json(R"({"N":"1"})"));
}

TEST(DdbValue, ItemSizeCountsNamesAndValues) {
  Item item;
  item["ab"] = S("xyz");                                            // 2 + 3
  item["n"] = N("12345");                                           // 1 + (5+1)/2+1
  item["t"] = AttributeValue{true};                                 // 1 + 1
  item["l"] = AttributeValue{List{S("a"), S("bc")}};                // 1 + 3 + (1+1) + (1+2)
  item["m"] = AttributeValue{Map{{"k", S("v")}}};                   // 1 + 3 + 1 + 1 + 1
  EXPECT_EQ(item_size(item), 5u + 5u + 2u + 9u + 7u);
  EXPECT_TRUE(check_item_size(item));
  item["big"] = S(std::string(kMaxItemSize, 'x'));
  auto st = check_item_size(item);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "Item size has exceeded the maximum allowed size");
}

TEST(DdbValue, EncodeDecodeRoundTripsEveryType) {
  auto v = parse_json(
      R"({"M":{"s":{"S":""},"n":{"N":"-1.25"},"b":{"B":"AAE="},"t":{"BOOL":false},)"
      R"("z":{"NULL":true},"l":{"L":[{"S":"a"},{"M":{}}]},"ss":{"SS":["b","a"]},)"
      R"("ns":{"NS":["10","9"]},"bs":{"BS":["AQ==","AA=="]}}})");
  ASSERT_TRUE(v);
  const Item& item = v->as<Map>();
  std::string bytes = encode_item(item);
  EXPECT_EQ(bytes, encode_item(item));  // deterministic
  auto back = decode_item(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, item);
  EXPECT_FALSE(decode_item(bytes.substr(0, bytes.size() - 1)));
  EXPECT_FALSE(decode_item(bytes + "x"));
}

TEST(DdbValue, KeyEncodingOrdersStringsAndBinariesBytewiseAndComposes) {
  auto enc = [](const AttributeValue& a, const AttributeValue& b) {
    std::string out;
    encode_key_value(a, out);
    encode_key_value(b, out);
    return out;
  };
  // "a" < "a\0" < "ab" < "b", and the second component only breaks ties.
  EXPECT_LT(enc(S("a"), S("z")), enc(S(std::string("a\0", 2)), S("a")));
  EXPECT_LT(enc(S(std::string("a\0", 2)), S("z")), enc(S("ab"), S("a")));
  EXPECT_LT(enc(S("ab"), S("z")), enc(S("b"), S("a")));
  EXPECT_LT(enc(S("a"), N("2")), enc(S("a"), N("10")));
  EXPECT_LT(enc(B("\x7f"), S("")), enc(B("\x80"), S("")));
  EXPECT_LT(enc(S("\xc3\xa9"), S("")), enc(S("\xf0\x9f\x98\x80"), S("")));
}

}  // namespace
}  // namespace orderflow::engine::ddb
