#include "orders/dynamodb_item.h"

#include <gtest/gtest.h>

namespace orderflow::orders {
namespace {

TEST(DynamoDbItem, MapsEveryJsonTypeToItsAttributeValue) {
  auto v = parse_json(R"({"s":"x","n":12.50,"t":true,"f":false,"z":null,"l":[1,"a"],"m":{"k":{}}})");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(to_json(to_attribute_value(*v)),
            R"({"M":{"s":{"S":"x"},"n":{"N":"12.50"},"t":{"BOOL":true},"f":{"BOOL":false},)"
            R"("z":{"NULL":true},"l":{"L":[{"N":"1"},{"S":"a"}]},"m":{"M":{"k":{"M":{}}}}}})");
}

TEST(DynamoDbItem, KeepsLargeNumbersAsExactStrings) {
  auto v = parse_json("12345678901234567890123456789012345678");
  EXPECT_EQ(to_json(to_attribute_value(*v)), R"({"N":"12345678901234567890123456789012345678"})");
}

TEST(DynamoDbItem, ItemHoldsTheOrderFieldsPlusReceivedAtAndMessageId) {
  auto order = parse_order(R"({"orderId":"o-1","total":5,"items":[{"sku":"A","quantity":1,"unitPrice":5}]})");
  ASSERT_TRUE(order.has_value());
  EXPECT_EQ(to_json(to_dynamodb_item(*order, "2024-05-01T12:00:00.000Z", "msg-1")),
            R"({"orderId":{"S":"o-1"},"total":{"N":"5"},)"
            R"("items":{"L":[{"M":{"sku":{"S":"A"},"quantity":{"N":"1"},"unitPrice":{"N":"5"}}}]},)"
            R"("receivedAt":{"S":"2024-05-01T12:00:00.000Z"},"messageId":{"S":"msg-1"}})");
}

TEST(DynamoDbItem, DeliveryFieldsReplaceOrderFieldsOfTheSameName) {
  auto order = parse_order(R"({"messageId":"forged","orderId":"o-1"})");
  ASSERT_TRUE(order.has_value());
  EXPECT_EQ(to_json(to_dynamodb_item(*order, "t", "real")),
            R"({"messageId":{"S":"real"},"orderId":{"S":"o-1"},"receivedAt":{"S":"t"}})");
}

}  // namespace
}  // namespace orderflow::orders
