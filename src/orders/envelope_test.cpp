#include "orders/envelope.h"

#include <gtest/gtest.h>

namespace orderflow::orders {
namespace {

// An envelope as SNS writes it (AWS's pretty-printing, "Key" : "value").
const char* kEnvelope = R"({
  "Type" : "Notification",
  "MessageId" : "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
  "TopicArn" : "arn:aws:sns:us-east-1:000000000000:OrderTopic",
  "Message" : "{\"orderId\":\"o-1\",\"total\":12.50}",
  "Timestamp" : "2012-05-02T00:54:06.655Z",
  "SignatureVersion" : "1",
  "Signature" : "EXAMPLE",
  "SigningCertURL" : "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
  "UnsubscribeURL" : "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
  "MessageAttributes" : { "store" : {"Type":"String","Value":"example_corp"} }
})";

TEST(Envelope, UnwrapsTheMessageOfAnSnsNotification) {
  auto r = unwrap_message(kEnvelope);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->message, R"({"orderId":"o-1","total":12.50})");
  EXPECT_TRUE(r->from_sns());
  EXPECT_EQ(r->sns_message_id, "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324");
  EXPECT_EQ(r->topic_arn, "arn:aws:sns:us-east-1:000000000000:OrderTopic");
}

TEST(Envelope, TakesARawJsonBodyVerbatim) {
  auto r = unwrap_message(R"({"orderId":"o-1"})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->message, R"({"orderId":"o-1"})");
  EXPECT_FALSE(r->from_sns());
}

TEST(Envelope, TakesANonJsonBodyVerbatim) {
  auto r = unwrap_message("{not json");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->message, "{not json");
}

TEST(Envelope, AnOrderWithATypeFieldIsNotAnEnvelope) {
  auto r = unwrap_message(R"({"Type":"Notification","orderId":"o-1"})");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->from_sns());
  EXPECT_EQ(r->message, R"({"Type":"Notification","orderId":"o-1"})");
}

TEST(Envelope, RejectsANotificationWithoutAMessageString) {
  auto missing = unwrap_message(R"({"Type":"Notification","MessageId":"m","TopicArn":"t"})");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().reason, "SNS notification has no Message string");
  auto object = unwrap_message(
      R"({"Type":"Notification","MessageId":"m","TopicArn":"t","Message":{"orderId":"o"}})");
  ASSERT_FALSE(object.has_value());
  EXPECT_EQ(object.error().reason, "SNS notification has no Message string");
}

TEST(Envelope, KeepsAnEmptyMessage) {
  auto r = unwrap_message(R"({"Type":"Notification","MessageId":"m","TopicArn":"t","Message":""})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->message, "");
  EXPECT_TRUE(r->from_sns());
}

}  // namespace
}  // namespace orderflow::orders
