#include "engine/message_attributes.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/util.h"

namespace orderflow::engine {
namespace {

MessageAttributeValue string_attr(std::string v, std::string type = "String") {
  return {std::move(type), std::move(v), {}};
}
MessageAttributeValue number_attr(std::string v, std::string type = "Number") {
  return {std::move(type), std::move(v), {}};
}
MessageAttributeValue binary_attr(std::string bytes, std::string type = "Binary") {
  return {std::move(type), {}, std::move(bytes)};
}

std::string error_of(const MessageAttributes& attrs) {
  auto s = validate_sqs_message_attributes(attrs);
  if (s) return "";
  EXPECT_EQ(s.error().code, ErrorCode::invalid_parameter_value);
  return s.error().message;
}

std::string name_error(std::string name) { return error_of({{std::move(name), string_attr("v")}}); }

// ---- MD5OfMessageAttributes ----

TEST(MessageAttributes, Md5MatchesAwsForNumberAttribute) {
  EXPECT_EQ(md5_of_message_attributes({{"attr1", number_attr("99.12")}}),
            "d302007e9aa062660afc85fd0a482472");
}

TEST(MessageAttributes, Md5MatchesAwsForSeveralAttributesInNameOrder) {
  MessageAttributes attrs{{"WeeksOn", number_attr("6")},
                          {"Author", string_attr("John Grisham")},
                          {"Title", string_attr("The Whistler")}};
  EXPECT_EQ(md5_of_message_attributes(attrs), "d25a6aea97eb8f585bfa92d314504a92");
}

TEST(MessageAttributes, Md5IsEmptyWithoutAttributes) {
  EXPECT_EQ(md5_of_message_attributes({}), "");
}

TEST(MessageAttributes, Md5UsesBinaryTransportByteAndRawBytes) {
  // Hand-built buffer: len+name, len+type, 0x02, len+bytes.
  std::string buffer;
  auto add = [&](std::string_view s) {
    const auto n = static_cast<std::uint32_t>(s.size());
    buffer.push_back(char(n >> 24));
    buffer.push_back(char(n >> 16));
    buffer.push_back(char(n >> 8));
    buffer.push_back(char(n));
    buffer.append(s);
  };
  const std::string bytes("\x00\x01\xff", 3);
  add("blob");
  add("Binary.gif");
  buffer.push_back('\x02');
  add(bytes);
  EXPECT_EQ(md5_of_message_attributes({{"blob", binary_attr(bytes, "Binary.gif")}}),
            md5_hex(buffer));
}

TEST(MessageAttributes, Md5IncludesCustomTypeSuffix) {
  EXPECT_NE(md5_of_message_attributes({{"a", number_attr("1", "Number")}}),
            md5_of_message_attributes({{"a", number_attr("1", "Number.int")}}));
}

// ---- Size ----

TEST(MessageAttributes, SizeCountsNamesTypesAndValues) {
  MessageAttributes attrs{{"ab", string_attr("xyz")},                 // 2 + 6 + 3
                          {"n", number_attr("12", "Number.int")},     // 1 + 10 + 2
                          {"b", binary_attr(std::string(5, '\0'))}};  // 1 + 6 + 5
  EXPECT_EQ(message_attributes_size(attrs), 11u + 13u + 12u);
  EXPECT_EQ(message_attributes_size({}), 0u);
}

TEST(MessageAttributes, IsBinaryLooksAtTheBaseType) {
  EXPECT_TRUE(binary_attr("x").is_binary());
  EXPECT_TRUE(binary_attr("x", "Binary.gif").is_binary());
  EXPECT_FALSE(string_attr("x", "String.Binary").is_binary());
  EXPECT_FALSE(number_attr("1").is_binary());
}

// ---- Validation: count, names ----

TEST(MessageAttributes, AcceptsTenAttributesAndRejectsEleven) {
  MessageAttributes attrs;
  for (int i = 0; i < 10; ++i) attrs["a" + std::to_string(i)] = string_attr("v");
  EXPECT_EQ(error_of(attrs), "");
  attrs["a10"] = string_attr("v");
  EXPECT_EQ(error_of(attrs), "Number of message attributes [11] exceeds the allowed maximum [10].");
}

TEST(MessageAttributes, AcceptsLegalNames) {
  for (const std::string& name : std::vector<std::string>{
           "trace.id", "Foo_Bar-1.2", "AWSfoo", "amazonfoo", "aws-foo", std::string(256, 'a')}) {
    EXPECT_EQ(name_error(name), "") << name;
  }
}

TEST(MessageAttributes, RejectsNamesLongerThan256Bytes) {
  EXPECT_EQ(name_error(std::string(257, 'a')),
            "Message (user) attribute names must be shorter than 256 Bytes");
}

TEST(MessageAttributes, RejectsEmptyName) { EXPECT_NE(name_error(""), ""); }

TEST(MessageAttributes, RejectsNamesWithIllegalCharacters) {
  for (std::string name : {"trace id", "trace@id", "trace:id", "trace\xc3\x80id"}) {
    EXPECT_EQ(name_error(name),
              "Message (user) attributes name can only contain upper and lower score characters, "
              "digits, periods, hyphens and underscores. ")
        << name;
  }
}

TEST(MessageAttributes, RejectsReservedPrefixesInAnyCase) {
  for (std::string name : {"AWS.trace", "aws.trace", "AwS.trace", "Amazon.x", "AMAZON.x"}) {
    EXPECT_NE(name_error(name).find("reserved for internal use"), std::string::npos) << name;
  }
}

TEST(MessageAttributes, RejectsLeadingOrTrailingPeriod) {
  EXPECT_NE(name_error(".trace").find("cannot start or end with '.'"), std::string::npos);
  EXPECT_NE(name_error("trace.").find("cannot start or end with '.'"), std::string::npos);
}

TEST(MessageAttributes, RejectsSuccessivePeriods) {
  EXPECT_NE(name_error("trace..id").find("successive '.' characters"), std::string::npos);
}

// ---- Validation: types and values ----

TEST(MessageAttributes, AcceptsBaseTypesAndCustomSuffixes) {
  MessageAttributes attrs{{"a", string_attr("v")},
                          {"b", number_attr("1")},
                          {"c", binary_attr("x")},
                          {"d", string_attr("{}", "String.json")},
                          {"e", number_attr("1", "Number.java.lang.Long")},
                          {"f", binary_attr("x", "Binary.gif")}};
  EXPECT_EQ(error_of(attrs), "");
}

TEST(MessageAttributes, RejectsUnknownOrMiscasedTypes) {
  for (std::string type : {"Str", "int", "string", "StringX", "String."}) {
    EXPECT_EQ(error_of({{"attr", string_attr("v", type)}}),
              "The type of message (user) attribute 'attr' is invalid. You must use only the "
              "following supported type prefixes: Binary, Number, String.")
        << type;
  }
}

TEST(MessageAttributes, RejectsMissingType) {
  EXPECT_EQ(error_of({{"attr", string_attr("v", "")}}),
            "The message attribute 'attr' must contain non-empty message attribute type.");
}

TEST(MessageAttributes, RejectsTypesLongerThan256Bytes) {
  EXPECT_EQ(error_of({{"attr", string_attr("v", "String." + std::string(250, 'a'))}}),
            "Message (user) attribute types must be shorter than 256 Bytes");
}

TEST(MessageAttributes, StringNeedsNonEmptyStringValue) {
  EXPECT_EQ(error_of({{"ErrorDetails", string_attr("")}}),
            "Message (user) attribute 'ErrorDetails' must contain a non-empty value of type "
            "'String'.");
}

TEST(MessageAttributes, NumberNeedsNonEmptyStringValue) {
  EXPECT_EQ(error_of({{"n", number_attr("")}}),
            "Message (user) attribute 'n' must contain a non-empty value of type 'Number'.");
}

TEST(MessageAttributes, BinaryNeedsNonEmptyBinaryValue) {
  MessageAttributeValue v{"Binary", "text-in-wrong-field", ""};
  EXPECT_EQ(error_of({{"b", v}}),
            "Message (user) attribute 'b' must contain a non-empty value of type 'Binary'.");
}

TEST(MessageAttributes, RejectsNumberThatIsNotANumber) {
  for (std::string v :
       {"abc", "-", ".", "1.2.3", "42abc", "4 2", "1,000", "0x1f", "1e", "Inf", "NaN", " 1"}) {
    EXPECT_EQ(error_of({{"Age", number_attr(v)}}),
              "Can't cast the value of message (user) attribute 'Age' to a number.")
        << v;
  }
}

TEST(MessageAttributes, AcceptsNumberForms) {
  for (const std::string& v :
       std::vector<std::string>{"42", "-42", "+42", "3.14159", "007", "42.", ".5", "1e5", "1.5e-10",
                                "99.12", std::string(38, '9'), "0", "0.000"}) {
    EXPECT_EQ(error_of({{"Age", number_attr(v)}}), "") << v;
  }
}

TEST(MessageAttributes, NumberAllowsAtMost38SignificantDigits) {
  EXPECT_TRUE(is_valid_attribute_number(std::string(38, '9')));
  EXPECT_FALSE(is_valid_attribute_number(std::string(39, '9')));
  // Leading and trailing zeros are not significant.
  EXPECT_TRUE(is_valid_attribute_number("000" + std::string(38, '9') + "000"));
  EXPECT_TRUE(is_valid_attribute_number("0.000" + std::string(38, '1')));
  EXPECT_FALSE(is_valid_attribute_number("1." + std::string(38, '1')));
}

TEST(MessageAttributes, NumberMustBeWithinAwsRange) {
  EXPECT_TRUE(is_valid_attribute_number("1" + std::string(126, '0')));   // 10^126
  EXPECT_FALSE(is_valid_attribute_number("2" + std::string(126, '0')));  // 2 x 10^126
  EXPECT_TRUE(is_valid_attribute_number("1e126"));
  EXPECT_FALSE(is_valid_attribute_number("1.1e126"));
  EXPECT_TRUE(is_valid_attribute_number("-1e126"));
  EXPECT_TRUE(is_valid_attribute_number("1e-128"));
  EXPECT_FALSE(is_valid_attribute_number("9e-129"));
  EXPECT_FALSE(is_valid_attribute_number("1e999999999999"));
  EXPECT_TRUE(is_valid_attribute_number("0e999999999999"));
}

TEST(MessageAttributes, RejectsStringValueWithForbiddenCharacters) {
  const std::string message = error_of({{"s", string_attr(std::string("a\x01", 2))}});
  EXPECT_NE(message.find("Invalid characters found"), std::string::npos);
  EXPECT_EQ(error_of({{"s", string_attr("caf\xc3\xa9 \xf0\x9f\x98\x80")}}), "");
}

TEST(MessageAttributes, ReportsTheFirstViolationInNameOrder) {
  MessageAttributes attrs{{"zz bad", string_attr("v")}, {"AWS.first", string_attr("v")}};
  EXPECT_NE(error_of(attrs).find("reserved for internal use"), std::string::npos);
}

// ---- Body characters ----

TEST(MessageAttributes, BodyAcceptsAllowedCharacters) {
  EXPECT_TRUE(is_valid_sqs_body("Test message."));
  EXPECT_TRUE(is_valid_sqs_body("tab\there\nnl\rcr"));
  EXPECT_TRUE(is_valid_sqs_body("\xed\x9f\xbf"));      // U+D7FF
  EXPECT_TRUE(is_valid_sqs_body("\xee\x80\x80"));      // U+E000
  EXPECT_TRUE(is_valid_sqs_body("\xef\xbf\xbd"));      // U+FFFD
  EXPECT_TRUE(is_valid_sqs_body("\xf0\x90\x80\x80"));  // U+10000
  EXPECT_TRUE(is_valid_sqs_body("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_TRUE(is_valid_sqs_body(""));
}

TEST(MessageAttributes, BodyRejectsForbiddenCharacters) {
  EXPECT_FALSE(is_valid_sqs_body(std::string("\x00", 1)));
  EXPECT_FALSE(is_valid_sqs_body("\x01"));
  EXPECT_FALSE(is_valid_sqs_body("\x1f"));
  EXPECT_FALSE(is_valid_sqs_body("\xef\xbf\xbe"));  // U+FFFE
  EXPECT_FALSE(is_valid_sqs_body("\xef\xbf\xbf"));  // U+FFFF
}

TEST(MessageAttributes, BodyRejectsMalformedUtf8) {
  EXPECT_FALSE(is_valid_sqs_body("\xc3"));              // truncated
  EXPECT_FALSE(is_valid_sqs_body("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_valid_sqs_body("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_sqs_body("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_sqs_body("\x80"));              // stray continuation
  EXPECT_FALSE(is_valid_sqs_body("\xff"));
}

}  // namespace
}  // namespace orderflow::engine
