#include "orders/json.h"

#include <gtest/gtest.h>

#include "orders/decimal.h"

namespace orderflow::orders {
namespace {

TEST(Json, KeepsNumberTextExactly) {
  auto v = parse_json(R"({"a":12.50,"b":123456789012345678901234567890,"c":-1.5E+3,"d":0})");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->find("a")->as_number().text, "12.50");
  EXPECT_EQ(v->find("b")->as_number().text, "123456789012345678901234567890");
  EXPECT_EQ(v->find("c")->as_number().text, "-1.5E+3");
  EXPECT_EQ(to_json(*v), R"({"a":12.50,"b":123456789012345678901234567890,"c":-1.5E+3,"d":0})");
}

TEST(Json, KeepsMemberOrderAndRoundTrips) {
  const std::string text =
      R"({"z":1,"a":[true,false,null,"x\"y\\z\n\u0001"],"m":{"k":"\u00e9"},"e":[],"o":{}})";
  auto v = parse_json(text);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->as_object()[0].first, "z");
  EXPECT_EQ(to_json(*v), R"({"z":1,"a":[true,false,null,"x\"y\\z\n\u0001"],"m":{"k":"é"},"e":[],"o":{}})");
}

TEST(Json, RejectsMalformedDocuments) {
  for (const char* bad : {"", "{", "{\"a\":}", "[1,]", "{\"a\":1} x", "nul", "'a'", "{a:1}",
                          "\"\xff\"", "01", "1.", "// c\n1"}) {
    EXPECT_FALSE(parse_json(bad).has_value()) << bad;
  }
}

TEST(Json, BoundsNestingDepth) {
  std::string deep(kMaxJsonDepth + 1, '[');
  deep += std::string(kMaxJsonDepth + 1, ']');
  EXPECT_FALSE(parse_json(deep).has_value());
  std::string ok(kMaxJsonDepth - 1, '[');
  ok += std::string(kMaxJsonDepth - 1, ']');
  EXPECT_TRUE(parse_json(ok).has_value());
}

TEST(Json, FindsDuplicateMembersAtAnyDepth) {
  EXPECT_EQ(find_duplicate_member(*parse_json(R"({"a":1,"b":{"c":1,"d":2}})")), nullptr);
  auto top = parse_json(R"({"a":1,"a":2})");
  ASSERT_NE(find_duplicate_member(*top), nullptr);
  EXPECT_EQ(*find_duplicate_member(*top), "a");
  auto nested = parse_json(R"({"a":[{"x":1,"x":2}]})");
  ASSERT_NE(find_duplicate_member(*nested), nullptr);
  EXPECT_EQ(*find_duplicate_member(*nested), "x");
}

TEST(Decimal, ParsesJsonNumberSyntaxOnly) {
  for (const char* good : {"0", "-0", "12", "12.50", "1e3", "1.5E-2", "0.000"}) {
    EXPECT_TRUE(Decimal::parse(good).has_value()) << good;
  }
  for (const char* bad : {"", "-", "01", "1.", ".5", "1e", "+1", "1,5", "0x10", "1 ", "NaN"}) {
    EXPECT_FALSE(Decimal::parse(bad).has_value()) << bad;
  }
}

TEST(Decimal, RejectsNegativeValuesButAcceptsNegativeZero) {
  EXPECT_FALSE(Decimal::parse("-1").has_value());
  EXPECT_FALSE(Decimal::parse("-0.01").has_value());
  ASSERT_TRUE(Decimal::parse("-0.0").has_value());
  EXPECT_TRUE(Decimal::parse("-0.0")->is_zero());
}

TEST(Decimal, RejectsHugeExponentsInsteadOfAllocating) {
  EXPECT_FALSE(Decimal::parse("1e1000000000").has_value());
  EXPECT_FALSE(Decimal::parse("1e-99999").has_value());
  EXPECT_TRUE(Decimal::parse("0e99999").has_value());  // zero is zero
}

TEST(Decimal, ArithmeticIsExact) {
  auto d = [](const char* s) { return *Decimal::parse(s); };
  EXPECT_EQ(d("0.1") * d("3"), d("0.3"));
  EXPECT_EQ(d("0.1") + d("0.2"), d("0.3"));
  EXPECT_EQ(d("10.1"), d("10.10"));
  EXPECT_EQ(d("1e2"), d("100"));
  EXPECT_EQ((d("999999999.999999999") + d("0.000000001")).to_string(), "1000000000");
  EXPECT_EQ((d("123456789012345678901234567890") * d("1000000000.5")).to_string(),
            "123456789074074073407407407340617283945");
  EXPECT_LT(compare(d("0.3"), d("0.30000000000000001")), 0);
  EXPECT_GT(compare(d("2"), d("1.99")), 0);
  EXPECT_EQ(compare(d("0"), d("0.0")), 0);
}

TEST(Decimal, ReportsIntegerSignificantDigitsAndMagnitude) {
  auto d = [](const char* s) { return *Decimal::parse(s); };
  EXPECT_TRUE(d("2.0").is_integer());
  EXPECT_TRUE(d("1e3").is_integer());
  EXPECT_FALSE(d("2.5").is_integer());
  EXPECT_EQ(d("12.50").significant_digits(), 3u);
  EXPECT_EQ(d("12.5").magnitude(), 1);
  EXPECT_EQ(d("0.05").magnitude(), -2);
  EXPECT_EQ(d("0.05").to_string(), "0.05");
}

}  // namespace
}  // namespace orderflow::orders
