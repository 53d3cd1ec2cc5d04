#include "engine/sns/envelope.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "common/util.h"

namespace orderflow::engine::sns {
namespace {

namespace json = boost::json;

// RSA key generation takes a while: one key for the whole suite.
const SigningKey& test_key() {
  static const SigningKey key = [] {
    auto k = generate_signing_key();
    EXPECT_TRUE(k.has_value());
    return *k;
  }();
  return key;
}

Notification sample() {
  Notification n;
  n.message_id = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324";
  n.topic_arn = "arn:aws:sns:us-east-1:000000000000:OrderTopic";
  n.message = R"({"orderId":"o-1","note":"line1\nline2 \"quoted\" \\ tab\t"})";
  n.timestamp_ms = 1336006446655;  // 2012-05-03T00:54:06.655Z
  n.subscription_arn = n.topic_arn + ":c9135db0-26c4-47ec-8998-413945fb5a96";
  n.base_url = "http://127.0.0.1:4566";
  return n;
}

std::vector<std::string> keys_of(const json::object& o) {
  std::vector<std::string> keys;
  for (const auto& e : o) keys.emplace_back(e.key());
  return keys;
}

std::string str(const json::object& o, std::string_view key) {
  return std::string(o.at(key).as_string());
}

TEST(Envelope, HasAwsKeysInAwsOrderWithoutOptionalFields) {
  auto envelope = build_notification_envelope(sample(), test_key());
  ASSERT_TRUE(envelope) << envelope.error().message;
  const json::object o = json::parse(*envelope).as_object();
  EXPECT_EQ(keys_of(o), (std::vector<std::string>{"Type", "MessageId", "TopicArn", "Message",
                                                  "Timestamp", "SignatureVersion", "Signature",
                                                  "SigningCertURL", "UnsubscribeURL"}));
}

TEST(Envelope, CarriesEachFieldValue) {
  const Notification n = sample();
  auto envelope = build_notification_envelope(n, test_key());
  ASSERT_TRUE(envelope);
  const json::object o = json::parse(*envelope).as_object();
  EXPECT_EQ(str(o, "Type"), "Notification");
  EXPECT_EQ(str(o, "MessageId"), n.message_id);
  EXPECT_EQ(str(o, "TopicArn"), n.topic_arn);
  EXPECT_EQ(str(o, "Message"), n.message);  // escaped as a string, parsed back verbatim
  EXPECT_EQ(str(o, "Timestamp"), "2012-05-03T00:54:06.655Z");
  EXPECT_EQ(str(o, "SignatureVersion"), "1");
  EXPECT_EQ(str(o, "SigningCertURL"), "http://127.0.0.1:4566/SimpleNotificationService-0000.pem");
  EXPECT_EQ(str(o, "UnsubscribeURL"),
            "http://127.0.0.1:4566/?Action=Unsubscribe&SubscriptionArn=" + n.subscription_arn);
  EXPECT_TRUE(base64_decode(str(o, "Signature")).has_value());
}

TEST(Envelope, PublishedJsonArrivesAsAnEscapedString) {
  auto envelope = build_notification_envelope(sample(), test_key());
  ASSERT_TRUE(envelope);
  const json::object o = json::parse(*envelope).as_object();
  ASSERT_TRUE(o.at("Message").is_string());
  const json::object inner = json::parse(o.at("Message").as_string()).as_object();
  EXPECT_EQ(inner.at("orderId").as_string(), "o-1");
}

TEST(Envelope, UsesAwsPrettyPrinting) {
  auto envelope = build_notification_envelope(sample(), test_key());
  ASSERT_TRUE(envelope);
  EXPECT_TRUE(envelope->starts_with("{\n  \"Type\" : \"Notification\",\n  \"MessageId\" : \""));
  EXPECT_TRUE(envelope->ends_with("c9135db0-26c4-47ec-8998-413945fb5a96\"\n}"));
}

TEST(Envelope, IncludesSubjectOnlyWhenSet) {
  Notification n = sample();
  n.subject = "My First Message";
  auto envelope = build_notification_envelope(n, test_key());
  ASSERT_TRUE(envelope);
  const json::object o = json::parse(*envelope).as_object();
  EXPECT_EQ(keys_of(o), (std::vector<std::string>{
                            "Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
                            "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL"}));
  EXPECT_EQ(str(o, "Subject"), "My First Message");
}

TEST(Envelope, IncludesMessageAttributesWithTypeAndValue) {
  Notification n = sample();
  n.attributes = {{"store", {"String", "example_corp", {}}},
                  {"price", {"Number", "99.12", {}}},
                  {"sports", {"String.Array", R"(["rugby","golf"])", {}}},
                  {"blob", {"Binary", {}, std::string("\x00\xff\x10", 3)}}};
  auto envelope = build_notification_envelope(n, test_key());
  ASSERT_TRUE(envelope);
  const json::object o = json::parse(*envelope).as_object();
  EXPECT_EQ(keys_of(o).back(), "MessageAttributes");
  const json::object attrs = o.at("MessageAttributes").as_object();
  ASSERT_EQ(attrs.size(), 4u);
  EXPECT_EQ(attrs.at("store"), json::parse(R"({"Type":"String","Value":"example_corp"})"));
  EXPECT_EQ(attrs.at("price"), json::parse(R"({"Type":"Number","Value":"99.12"})"));
  EXPECT_EQ(attrs.at("sports").as_object().at("Value").as_string(), R"(["rugby","golf"])");
  EXPECT_EQ(attrs.at("blob").as_object().at("Type").as_string(), "Binary");
  EXPECT_EQ(attrs.at("blob").as_object().at("Value").as_string(),
            base64_encode(std::string("\x00\xff\x10", 3)));
  EXPECT_NE(envelope->find("\"store\" : {\"Type\":\"String\",\"Value\":\"example_corp\"}"),
            std::string::npos);
}

TEST(Envelope, StringToSignListsFieldsInAwsOrder) {
  Notification n = sample();
  n.message = "Hello world!";
  EXPECT_EQ(notification_string_to_sign(n),
            "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n"
            "Timestamp\n2012-05-03T00:54:06.655Z\nTopicArn\n"
            "arn:aws:sns:us-east-1:000000000000:OrderTopic\nType\nNotification\n");
  n.subject = "Hi";
  EXPECT_NE(notification_string_to_sign(n).find("MessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n"
                                                "Subject\nHi\nTimestamp\n"),
            std::string::npos);
}

std::string canonical_from_envelope(const json::object& o) {
  std::string out;
  for (std::string_view key :
       {"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}) {
    if (auto it = o.find(key); it != o.end()) {
      out += key;
      out += '\n';
      out += std::string(it->value().as_string());
      out += '\n';
    }
  }
  return out;
}

TEST(Envelope, SignatureVerifiesWithPublicKeyAndCertificate) {
  Notification n = sample();
  n.subject = "subject";
  n.attributes = {{"a", {"String", "b", {}}}};
  auto envelope = build_notification_envelope(n, test_key());
  ASSERT_TRUE(envelope);
  const json::object o = json::parse(*envelope).as_object();
  // Rebuild the string to sign from the parsed envelope, as a subscriber does.
  const std::string canonical = canonical_from_envelope(o);
  EXPECT_EQ(canonical, notification_string_to_sign(n));
  const auto signature = base64_decode(str(o, "Signature"));
  ASSERT_TRUE(signature);
  EXPECT_TRUE(
      verify_signature(test_key().public_key_pem(), canonical, *signature, SignatureVersion::v1));
  auto cert = test_key().certificate_pem(1700000000);
  ASSERT_TRUE(cert) << cert.error().message;
  EXPECT_TRUE(cert->starts_with("-----BEGIN CERTIFICATE-----"));
  EXPECT_TRUE(verify_signature(*cert, canonical, *signature, SignatureVersion::v1));
  // Any change to the signed content breaks the signature.
  EXPECT_FALSE(verify_signature(*cert, canonical + "x", *signature, SignatureVersion::v1));
  EXPECT_FALSE(verify_signature(*cert, canonical, *signature, SignatureVersion::v2));
}

TEST(Envelope, SignatureVersion2UsesSha256) {
  Notification n = sample();
  n.signature_version = SignatureVersion::v2;
  auto envelope = build_notification_envelope(n, test_key());
  ASSERT_TRUE(envelope);
  const json::object o = json::parse(*envelope).as_object();
  EXPECT_EQ(str(o, "SignatureVersion"), "2");
  const auto signature = base64_decode(str(o, "Signature"));
  ASSERT_TRUE(signature);
  EXPECT_TRUE(verify_signature(test_key().public_key_pem(), notification_string_to_sign(n),
                               *signature, SignatureVersion::v2));
  EXPECT_FALSE(verify_signature(test_key().public_key_pem(), notification_string_to_sign(n),
                                *signature, SignatureVersion::v1));
}

TEST(Envelope, SignatureFromAnotherKeyDoesNotVerify) {
  auto other = SigningKey::generate(1024);
  ASSERT_TRUE(other);
  auto signature = other->sign("data", SignatureVersion::v1);
  ASSERT_TRUE(signature);
  EXPECT_TRUE(verify_signature(other->public_key_pem(), "data", *signature, SignatureVersion::v1));
  EXPECT_FALSE(
      verify_signature(test_key().public_key_pem(), "data", *signature, SignatureVersion::v1));
  EXPECT_FALSE(verify_signature("not a pem", "data", *signature, SignatureVersion::v1));
}

TEST(Envelope, PrivateKeyRoundTripsThroughPem) {
  const std::string pem = test_key().private_key_pem();
  EXPECT_TRUE(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
  auto restored = SigningKey::from_private_key_pem(pem);
  ASSERT_TRUE(restored) << restored.error().message;
  EXPECT_EQ(restored->public_key_pem(), test_key().public_key_pem());
  auto bad = SigningKey::from_private_key_pem("garbage");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::sns_internal_error);
}

TEST(Envelope, UrlsIgnoreTrailingSlashOfBase) {
  EXPECT_EQ(signing_cert_url("http://h:1/"), "http://h:1/SimpleNotificationService-0000.pem");
  EXPECT_EQ(unsubscribe_url("http://h:1/", "arn:aws:sns:r:1:t:u"),
            "http://h:1/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:r:1:t:u");
}

TEST(Envelope, JsonQuoteEscapesLikeAws) {
  EXPECT_EQ(json_quote("plain"), "\"plain\"");
  EXPECT_EQ(json_quote("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
  EXPECT_EQ(json_quote("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(json_quote(std::string("\x01\x1f", 2)), "\"\\u0001\\u001F\"");
  EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

}  // namespace
}  // namespace orderflow::engine::sns
