#include "engine/sns/publish_validation.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace orderflow::engine::sns {
namespace {

MessageAttributeValue typed(std::string type, std::string v) {
  return {std::move(type), std::move(v), {}};
}

std::string error_of(const MessageAttributes& attrs,
                     ErrorCode expected = ErrorCode::sns_parameter_value_invalid) {
  auto s = validate_sns_message_attributes(attrs);
  if (s) return "";
  EXPECT_EQ(s.error().code, expected);
  return s.error().message;
}

std::string name_error(std::string name) {
  return error_of({{std::move(name), typed("String", "v")}});
}

TEST(SnsMessageAttributes, AcceptsAllSnsDataTypes) {
  MessageAttributes attrs{{"s", typed("String", "x")},
                          {"n", typed("Number", "-1.5e3")},
                          {"a", typed("String.Array", R"(["a", 1, true, null])")},
                          {"b", {"Binary", {}, "\x01"}},
                          {"c", typed("Number.int", "7")},
                          {"AWS.SNS.SMS.SenderID", typed("String", "me")}};
  EXPECT_EQ(error_of(attrs), "");
}

TEST(SnsMessageAttributes, RejectsUnknownDataType) {
  EXPECT_EQ(error_of({{"t", typed("Integer", "1")}}),
            "The message attribute 't' has an invalid message attribute type, the set of supported "
            "type prefixes is Binary, Number, and String.");
}

TEST(SnsMessageAttributes, RejectsMissingDataTypeAsValidationError) {
  EXPECT_EQ(error_of({{"attr1", typed("", "v")}}, ErrorCode::sns_validation_error),
            "1 validation error detected: Value null at 'messageAttributes.attr1.member.dataType' "
            "failed to satisfy constraint: Member must not be null");
}

TEST(SnsMessageAttributes, RejectsEmptyValues) {
  EXPECT_EQ(error_of({{"s", typed("String", "")}}),
            "The message attribute 's' must contain non-empty message attribute value for message "
            "attribute type 'String'.");
  EXPECT_EQ(error_of({{"b", {"Binary", "text", {}}}}),
            "The message attribute 'b' must contain non-empty message attribute value for message "
            "attribute type 'Binary'.");
}

TEST(SnsMessageAttributes, RejectsNumbersThatAreNotNumbers) {
  EXPECT_EQ(error_of({{"n", typed("Number", "12abc")}}),
            "Could not cast message attribute 'n' value to number.");
}

TEST(SnsMessageAttributes, StringArrayMustBeAJsonArrayOfScalars) {
  for (std::string bad :
       {"not json", R"({"a": 1})", R"("x")", R"([["nested"]])", R"([{"a": 1}])"}) {
    EXPECT_NE(error_of({{"a", typed("String.Array", bad)}}).find("String.Array"), std::string::npos)
        << bad;
  }
  EXPECT_EQ(error_of({{"a", typed("String.Array", "[]")}}), "");
}

TEST(SnsMessageAttributes, RejectsInvalidUtf8StringValues) {
  EXPECT_NE(error_of({{"s", typed("String", "\xff")}}), "");
}

TEST(SnsMessageAttributes, ValidatesNames) {
  EXPECT_EQ(name_error(".a"),
            "Invalid message attribute name starting with character '.' was found.");
  EXPECT_EQ(name_error("a."),
            "Invalid message attribute name ending with character '.' was found.");
  EXPECT_EQ(name_error("a..b"), "Message attribute name can not have successive '.' character.");
  EXPECT_EQ(name_error("a b"),
            "Invalid non-alphanumeric character '#x20' was found in the message attribute name. "
            "Can only include alphanumeric characters, hyphens, underscores, or dots.");
  EXPECT_NE(name_error("caf\xc3\xa9").find("'#xE9'"), std::string::npos);
  EXPECT_EQ(name_error(std::string(257, 'a')),
            "Length of message attribute name must be less than 256 bytes.");
  EXPECT_EQ(name_error(std::string(256, 'a')), "");
  EXPECT_NE(name_error(""), "");
}

TEST(SnsMessageSize, CountsMessageAndAttributes) {
  MessageAttributes attrs{{"ab", typed("String", "xyz")}};  // 2 + 6 + 3
  EXPECT_EQ(sns_message_size("hello", attrs), 5u + 11u);
}

TEST(SnsMessageSize, AllowsExactly262144Bytes) {
  MessageAttributes attrs{{"ab", typed("String", "xyz")}};
  const std::string fits(max_sns_message_bytes - 11, 'x');
  EXPECT_TRUE(validate_sns_message_size(fits, attrs));
  auto s = validate_sns_message_size(fits + "x", attrs);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::sns_invalid_parameter);
  EXPECT_EQ(s.error().message, "Invalid parameter: Message too long");
}

}  // namespace
}  // namespace orderflow::engine::sns
