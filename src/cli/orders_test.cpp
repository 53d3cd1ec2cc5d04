#include "cli/orders.h"

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

namespace orderflow::cli {
namespace {

boost::json::object item(std::string_view json) { return boost::json::parse(json).as_object(); }

TEST(DynamoDbItem, UnwrapsTypesAndKeepsNumberTextExact) {
  auto i = item(
      R"({"total":{"N":"12.50"},"orderId":{"S":"ord-1"},"big":{"N":"123456789012345678901234567890"},)"
      R"("ok":{"BOOL":true},"none":{"NULL":true},"items":{"L":[{"M":{"sku":{"S":"A"},"quantity":{"N":"2"}}}]},)"
      R"("tags":{"SS":["x","y"]},"nums":{"NS":["1","2.0"]},"bin":{"B":"AQID"}})");
  EXPECT_EQ(
      item_to_json(i),
      R"({"orderId":"ord-1","total":12.50,"big":123456789012345678901234567890,"ok":true,)"
      R"("none":null,"items":[{"sku":"A","quantity":2}],"tags":["x","y"],"nums":[1,2.0],"bin":"AQID"})");
}

TEST(DynamoDbItem, ANumberTextThatIsNotJsonBecomesAString) {
  EXPECT_EQ(item_to_json(item(R"({"n":{"N":".5"},"m":{"N":"1e5"},"k":{"N":"-0"}})")),
            R"({"n":".5","m":1e5,"k":-0})");
}

TEST(DynamoDbItem, IndentsWhenAsked) {
  EXPECT_EQ(
      item_to_json(item(R"({"a":{"L":[]},"orderId":{"S":"x"},"m":{"M":{"k":{"N":"1"}}}})"), 2),
      "{\n  \"orderId\": \"x\",\n  \"a\": [],\n  \"m\": {\n    \"k\": 1\n  }\n}");
}

TEST(DynamoDbItem, ValuesThatAreNotAttributeValuesAreKeptAsTheyAre) {
  EXPECT_EQ(item_to_json(item(R"({"odd":{"S":"a","N":"1"},"plain":"text"})")),
            R"({"odd":{"S":"a","N":"1"},"plain":"text"})");
}

TEST(DynamoDbItem, ReadsTextAndListSizes) {
  auto i =
      item(R"({"orderId":{"S":"a"},"total":{"N":"3.10"},"items":{"L":[{"S":"1"},{"S":"2"}]}})");
  EXPECT_EQ(attribute_text(i, "orderId"), "a");
  EXPECT_EQ(attribute_text(i, "total"), "3.10");
  EXPECT_EQ(attribute_text(i, "items"), "");
  EXPECT_EQ(attribute_text(i, "missing"), "");
  EXPECT_EQ(attribute_list_size(i, "items"), 2u);
  EXPECT_FALSE(attribute_list_size(i, "orderId"));
}

TEST(JsonNumber, FollowsTheGrammar) {
  for (const char* ok :
       {"0", "-0", "12.50", "1e5", "1E+5", "-1.5e-3", "123456789012345678901234567890"}) {
    EXPECT_TRUE(is_json_number(ok)) << ok;
  }
  for (const char* bad : {"", "-", ".5", "5.", "01", "1e", "+1", "NaN", "Infinity", "1 ", "0x1"}) {
    EXPECT_FALSE(is_json_number(bad)) << bad;
  }
}

TEST(OrdersList, SortsNewestFirstByReceivedAtThenCreatedAt) {
  std::vector<boost::json::object> items = {
      item(R"({"orderId":{"S":"none"}})"),
      item(R"({"orderId":{"S":"old"},"receivedAt":{"S":"2024-05-01T10:00:00.000Z"}})"),
      item(R"({"orderId":{"S":"created"},"createdAt":{"S":"2024-05-01T11:00:00Z"}})"),
      item(
          R"({"orderId":{"S":"new"},"receivedAt":{"S":"2024-05-01T12:00:00.000Z"},"createdAt":{"S":"2020-01-01T00:00:00Z"}})"),
  };
  sort_newest_first(items);
  std::vector<std::string> ids;
  for (const auto& i : items) ids.push_back(attribute_text(i, "orderId"));
  EXPECT_EQ(ids, (std::vector<std::string>{"new", "created", "old", "none"}));
}

TEST(MessageBody, FindsTheOrderIdInsideAnSnsEnvelope) {
  std::string envelope =
      R"({"Type":"Notification","MessageId":"m-1","TopicArn":"arn:aws:sns:us-east-1:000000000000:OrderTopic",)"
      R"("Message":"{\"orderId\":\"ord-7\",\"total\":1}","Timestamp":"2024-05-01T12:00:00.000Z"})";
  EXPECT_EQ(message_in_body(envelope), R"({"orderId":"ord-7","total":1})");
  EXPECT_EQ(order_id_in_body(envelope), "ord-7");
}

TEST(MessageBody, ARawBodyIsTheMessageItself) {
  EXPECT_EQ(order_id_in_body(R"({"orderId":"raw-1"})"), "raw-1");
  EXPECT_EQ(message_in_body("not json"), "not json");
  EXPECT_FALSE(order_id_in_body("not json"));
  EXPECT_FALSE(order_id_in_body(R"({"orderId":7})"));
  EXPECT_FALSE(order_id_in_body(R"(["orderId"])"));
  // An envelope whose Message is not an order.
  EXPECT_FALSE(order_id_in_body(
      R"({"Type":"Notification","MessageId":"m","TopicArn":"t","Message":"poison"})"));
}

}  // namespace
}  // namespace orderflow::cli
