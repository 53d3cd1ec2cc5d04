// The DynamoDB adapter (server/dynamodb_api.h) driven directly, without sockets: the wire
// shapes DynamoDB clients parse, its errors and the x-amz-crc32 header.
#include "server/dynamodb_api.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/clock.h"
#include "engine/engine.h"
#include "engine/testing/temp_dir.h"

namespace orderflow::server {
namespace {

namespace json = boost::json;

struct Reply {
  int status = 0;
  json::value body;
  std::string raw;
  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return {};
  }
  std::string type() const {
    const auto* t = body.as_object().if_contains("__type");
    return t != nullptr ? std::string(t->as_string()) : std::string();
  }
  std::string message() const {
    const auto& o = body.as_object();
    if (const auto* m = o.if_contains("message")) return std::string(m->as_string());
    if (const auto* m = o.if_contains("Message")) return std::string(m->as_string());
    return {};
  }
  const json::object& obj() const { return body.as_object(); }
  std::vector<std::pair<std::string, std::string>> headers;
};

class DynamoDbApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine::EngineOptions o;
    o.data_dir = dir_.path();
    o.sns_signing_key_bits = 1024;
    auto e = engine::Engine::open(o, clock_);
    ASSERT_TRUE(e) << e.error().message;
    engine_ = std::move(*e);
    ctx_.request_id = "req-1";
    ctx_.region = "us-east-1";
    ctx_.access_key = "test";
    ctx_.base_url = "http://127.0.0.1:4566";
  }

  Reply call(std::string_view op, std::string_view body) {
    ApiResponse r = dynamodb_handle(engine_->tables(), op, body, ctx_);
    Reply out;
    out.status = r.status;
    out.raw = r.body;
    out.headers = r.headers;
    boost::system::error_code ec;
    out.body = json::parse(r.body, ec);
    EXPECT_FALSE(ec) << "response is not JSON: " << r.body;
    EXPECT_TRUE(out.body.is_object()) << r.body;
    EXPECT_EQ(out.header("Content-Type"), "application/x-amz-json-1.0");
    EXPECT_EQ(out.header("x-amz-crc32"), std::to_string(crc32(r.body))) << r.body;
    return out;
  }
  Reply call_json(std::string_view op, const json::value& body) {
    return call(op, json::serialize(body));
  }

  void create_orders(std::string_view name = "Orders") {
    auto r = call_json("CreateTable", json::parse(R"({"TableName":")" + std::string(name) + R"(",
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],
        "BillingMode":"PAY_PER_REQUEST"})"));
    ASSERT_EQ(r.status, 200) << r.raw;
  }

  void put(std::string_view pk, int sk, std::string_view extra = "") {
    std::string body = R"({"TableName":"Orders","Item":{"pk":{"S":")" + std::string(pk) +
                       R"("},"sk":{"N":")" + std::to_string(sk) + "\"}" + std::string(extra) + "}}";
    auto r = call("PutItem", body);
    ASSERT_EQ(r.status, 200) << r.raw;
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<engine::Engine> engine_;
  RequestContext ctx_;
};

TEST(Crc32, MatchesZlibVectors) {
  EXPECT_EQ(crc32("{}"), 2745614147U);
  EXPECT_EQ(crc32("healthy: dynamodb.us-east-1.amazonaws.com "), 3128867991U);
  EXPECT_EQ(crc32(""), 0U);
  EXPECT_EQ(crc32("123456789"), 0xCBF43926U);
}

TEST_F(DynamoDbApiTest, EmptyObjectAnswerCarriesTheCrcOfItsBytes) {
  create_orders();
  auto r = call("GetItem", R"({"TableName":"Orders","Key":{"pk":{"S":"nope"},"sk":{"N":"1"}}})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.raw, "{}");
  EXPECT_EQ(r.header("x-amz-crc32"), "2745614147");
}

TEST_F(DynamoDbApiTest, MalformedJsonIsASerializationException) {
  auto r = call("ListTables", "{\"Limit\": ");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "com.amazon.coral.service#SerializationException");
  EXPECT_TRUE(r.obj().contains("Message"));
  EXPECT_EQ(call("ListTables", "").type(), "com.amazon.coral.service#SerializationException");
  EXPECT_EQ(call("ListTables", "[1]").type(), "com.amazon.coral.service#SerializationException");
  EXPECT_EQ(call("ListTables", "\"x\"").type(), "com.amazon.coral.service#SerializationException");
  // Invalid UTF-8 inside a string does not parse either.
  EXPECT_EQ(call("ListTables", "{\"ExclusiveStartTableName\":\"\xff\xfe\"}").type(),
            "com.amazon.coral.service#SerializationException");
}

TEST_F(DynamoDbApiTest, DeepNestingIsRefusedNotFollowed) {
  std::string deep(5000, '[');
  deep += std::string(5000, ']');
  auto r = call("ListTables", "{\"a\":" + deep + "}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "com.amazon.coral.service#SerializationException");
}

TEST_F(DynamoDbApiTest, UnknownOperationIsRejected) {
  auto r = call("DropEverything", "{}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "com.amazon.coral.service#UnknownOperationException");
}

TEST_F(DynamoDbApiTest, WrongMemberTypesAreSerializationExceptions) {
  auto r = call("DescribeTable", R"({"TableName":5})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "com.amazon.coral.service#SerializationException");
  EXPECT_EQ(r.message(), "class java.lang.Short can not be converted to an String");
  EXPECT_EQ(call("DescribeTable", R"({"TableName":{}})").message(),
            "Start of structure or map found where not expected.");
  EXPECT_EQ(call("DescribeTable", R"({"TableName":[]})").message(),
            "Start of list found where not expected");
  EXPECT_EQ(call("ListTables", R"({"Limit":"5"})").message(),
            "class java.lang.String can not be converted to an Integer");
  EXPECT_EQ(call("GetItem", R"({"TableName":"Orders","Key":{},"ConsistentRead":"yes"})").message(),
            "'YES' can not be converted to an Boolean");
  EXPECT_EQ(call("CreateTable", R"({"TableName":"abc","KeySchema":{}})").message(),
            "Start of structure or map found where not expected.");
  EXPECT_EQ(call("PutItem", R"({"TableName":"abc","Item":[]})").message(),
            "Start of list found where not expected");
}

TEST_F(DynamoDbApiTest, MissingRequiredMembersAreValidationErrors) {
  auto r = call("DescribeTable", "{}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "com.amazon.coral.validate#ValidationException");
  EXPECT_EQ(r.message(),
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
            "Member must not "
            "be null");
  EXPECT_TRUE(r.obj().contains("message"));  // lower-case for ValidationException
  auto two = call("GetItem", R"({"TableName":null})");
  EXPECT_EQ(two.message(),
            "2 validation errors detected: Value null at 'tableName' failed to satisfy constraint: "
            "Member must not "
            "be null; Value null at 'key' failed to satisfy constraint: Member must not be null");
}

TEST_F(DynamoDbApiTest, EnumValuesOutsideTheirSetAreValidationErrors) {
  auto r = call("CreateTable", R"({"TableName":"abc","BillingMode":"FREE",
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}]})");
  EXPECT_EQ(r.type(), "com.amazon.coral.validate#ValidationException");
  EXPECT_EQ(r.message(),
            "1 validation error detected: Value 'FREE' at 'billingMode' failed to satisfy "
            "constraint: Member must "
            "satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]");
  auto k = call("CreateTable",
                R"({"TableName":"abc","KeySchema":[{"AttributeName":"pk","KeyType":"PRIMARY"}],
      "AttributeDefinitions":[{"AttributeName":"pk"}]})");
  EXPECT_EQ(k.message(),
            "2 validation errors detected: Value null at "
            "'attributeDefinitions.1.member.attributeType' failed to "
            "satisfy constraint: Member must not be null; Value 'PRIMARY' at "
            "'keySchema.1.member.keyType' failed "
            "to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]");
}

TEST_F(DynamoDbApiTest, TableNamePatternIsValidated) {
  auto r = call("DescribeTable", R"({"TableName":"a b"})");
  EXPECT_EQ(r.type(), "com.amazon.coral.validate#ValidationException");
  EXPECT_NE(r.message().find("Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
            std::string::npos);
  EXPECT_NE(
      call("DescribeTable", R"({"TableName":"ab"})").message().find("greater than or equal to 3"),
      std::string::npos);
}

TEST_F(DynamoDbApiTest, CreateTableAnswersTheTableDescription) {
  auto r = call_json("CreateTable", json::parse(R"({"TableName":"Orders",
      "KeySchema":[{"AttributeName":"orderId","KeyType":"HASH"}],
      "AttributeDefinitions":[{"AttributeName":"orderId","AttributeType":"S"}],
      "ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":7}})"));
  ASSERT_EQ(r.status, 200) << r.raw;
  const auto& d = r.obj().at("TableDescription").as_object();
  EXPECT_EQ(d.at("TableName").as_string(), "Orders");
  EXPECT_EQ(d.at("TableStatus").as_string(), "ACTIVE");
  EXPECT_EQ(d.at("TableArn").as_string(), "arn:aws:dynamodb:us-east-1:000000000000:table/Orders");
  EXPECT_EQ(d.at("TableId").as_string().size(), 36U);
  ASSERT_TRUE(d.at("CreationDateTime").is_double());  // epoch seconds with fraction
  EXPECT_DOUBLE_EQ(d.at("CreationDateTime").as_double(), 1'700'000'000.0);
  const auto& pt = d.at("ProvisionedThroughput").as_object();
  EXPECT_EQ(pt.at("NumberOfDecreasesToday").as_int64(), 0);
  EXPECT_EQ(pt.at("ReadCapacityUnits").as_int64(), 5);
  EXPECT_EQ(pt.at("WriteCapacityUnits").as_int64(), 7);
  EXPECT_EQ(d.at("BillingModeSummary").at("BillingMode").as_string(), "PROVISIONED");
  EXPECT_EQ(d.at("TableSizeBytes").to_number<std::int64_t>(), 0);
  EXPECT_EQ(d.at("ItemCount").to_number<std::int64_t>(), 0);
  EXPECT_EQ(d.at("KeySchema").at(0).at("KeyType").as_string(), "HASH");
  EXPECT_EQ(d.at("AttributeDefinitions").at(0).at("AttributeType").as_string(), "S");
  EXPECT_EQ(d.at("DeletionProtectionEnabled").as_bool(), false);

  auto again = call_json("CreateTable", json::parse(R"({"TableName":"Orders",
      "KeySchema":[{"AttributeName":"orderId","KeyType":"HASH"}],
      "AttributeDefinitions":[{"AttributeName":"orderId","AttributeType":"S"}],
      "BillingMode":"PAY_PER_REQUEST"})"));
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.type(), "com.amazonaws.dynamodb.v20120810#ResourceInUseException");
  EXPECT_EQ(again.message(), "Table already exists: Orders");
}

TEST_F(DynamoDbApiTest, CreateTableRefusesWhatTheEngineDoesNotSupport) {
  auto r = call("CreateTable",
                R"({"TableName":"abc","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST",
      "GlobalSecondaryIndexes":[{"IndexName":"g"}]})");
  EXPECT_EQ(r.type(), "com.amazon.coral.validate#ValidationException");
  auto s = call("CreateTable",
                R"({"TableName":"abc","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST",
      "StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}})");
  EXPECT_EQ(s.type(), "com.amazon.coral.validate#ValidationException");
}

TEST_F(DynamoDbApiTest, DescribeListUpdateAndDeleteTables) {
  create_orders("Orders");
  create_orders("Archive");
  create_orders("Zeta");
  auto d = call("DescribeTable", R"({"TableName":"Orders"})");
  ASSERT_EQ(d.status, 200);
  EXPECT_EQ(d.obj().at("Table").at("BillingModeSummary").at("BillingMode").as_string(),
            "PAY_PER_REQUEST");
  EXPECT_TRUE(d.obj()
                  .at("Table")
                  .at("BillingModeSummary")
                  .as_object()
                  .contains("LastUpdateToPayPerRequestDateTime"));
  EXPECT_EQ(d.obj().at("Table").at("ProvisionedThroughput").at("ReadCapacityUnits").as_int64(), 0);

  auto missing = call("DescribeTable", R"({"TableName":"Nope"})");
  EXPECT_EQ(missing.type(), "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException");
  EXPECT_EQ(missing.message(), "Requested resource not found: Table: Nope not found");

  auto p1 = call("ListTables", R"({"Limit":2})");
  ASSERT_EQ(p1.status, 200);
  EXPECT_EQ(json::serialize(p1.obj().at("TableNames")), R"(["Archive","Orders"])");
  EXPECT_EQ(p1.obj().at("LastEvaluatedTableName").as_string(), "Orders");
  auto p2 = call("ListTables", R"({"Limit":2,"ExclusiveStartTableName":"Orders"})");
  EXPECT_EQ(json::serialize(p2.obj().at("TableNames")), R"(["Zeta"])");
  EXPECT_FALSE(p2.obj().contains("LastEvaluatedTableName"));
  EXPECT_EQ(call("ListTables", R"({"Limit":0})").type(),
            "com.amazon.coral.validate#ValidationException");
  EXPECT_EQ(call("ListTables", R"({"Limit":101})").type(),
            "com.amazon.coral.validate#ValidationException");
  EXPECT_EQ(call("ListTables", "{}").obj().at("TableNames").as_array().size(), 3U);

  auto u = call("UpdateTable", R"({"TableName":"Orders","BillingMode":"PROVISIONED",
      "ProvisionedThroughput":{"ReadCapacityUnits":3,"WriteCapacityUnits":4}})");
  ASSERT_EQ(u.status, 200) << u.raw;
  EXPECT_EQ(u.obj().at("TableDescription").at("BillingModeSummary").at("BillingMode").as_string(),
            "PROVISIONED");
  EXPECT_EQ(u.obj()
                .at("TableDescription")
                .at("ProvisionedThroughput")
                .at("WriteCapacityUnits")
                .as_int64(),
            4);
  EXPECT_EQ(
      call("UpdateTable", R"({"TableName":"Orders","GlobalSecondaryIndexUpdates":[]})").type(),
      "com.amazon.coral.validate#ValidationException");

  auto del = call("DeleteTable", R"({"TableName":"Orders"})");
  ASSERT_EQ(del.status, 200);
  EXPECT_EQ(del.obj().at("TableDescription").at("TableStatus").as_string(), "DELETING");
  EXPECT_EQ(call("DescribeTable", R"({"TableName":"Orders"})").type(),
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException");
  EXPECT_EQ(call("DeleteTable", R"({"TableName":"Orders"})").status, 400);
}

TEST_F(DynamoDbApiTest, PutGetRoundTripsEveryAttributeType) {
  create_orders();
  const std::string item =
      R"({"pk":{"S":"a"},"sk":{"N":"1.50"},"b":{"B":"AAEC"},"t":{"BOOL":true},"n":{"NULL":true},)"
      R"("m":{"M":{"x":{"S":"y"}}},"l":{"L":[{"N":"1"},{"S":"two"}]},"ss":{"SS":["b","a"]},)"
      R"("ns":{"NS":["2","1"]},"bs":{"BS":["AQ=="]}})";
  auto p = call("PutItem", R"({"TableName":"Orders","Item":)" + item + "}");
  ASSERT_EQ(p.status, 200) << p.raw;
  EXPECT_EQ(p.raw, "{}");
  auto g = call(
      "GetItem",
      R"({"TableName":"Orders","Key":{"pk":{"S":"a"},"sk":{"N":"1.5"}},"ConsistentRead":true})");
  ASSERT_EQ(g.status, 200) << g.raw;
  const auto& got = g.obj().at("Item").as_object();
  EXPECT_EQ(got.at("sk").at("N").as_string(), "1.5");  // canonical number
  EXPECT_EQ(got.at("b").at("B").as_string(), "AAEC");
  EXPECT_EQ(got.at("t").at("BOOL").as_bool(), true);
  EXPECT_EQ(got.at("n").at("NULL").as_bool(), true);
  EXPECT_EQ(got.at("m").at("M").at("x").at("S").as_string(), "y");
  EXPECT_EQ(json::serialize(got.at("l")), R"({"L":[{"N":"1"},{"S":"two"}]})");
  EXPECT_EQ(got.at("ss").at("SS").as_array().size(), 2U);
  EXPECT_EQ(got.at("bs").at("BS").at(0).as_string(), "AQ==");

  auto proj = call("GetItem", R"({"TableName":"Orders","Key":{"pk":{"S":"a"},"sk":{"N":"1.5"}},
      "ProjectionExpression":"#m.x, t","ExpressionAttributeNames":{"#m":"m"}})");
  ASSERT_EQ(proj.status, 200) << proj.raw;
  EXPECT_EQ(json::serialize(proj.obj().at("Item")),
            R"({"m":{"M":{"x":{"S":"y"}}},"t":{"BOOL":true}})");
}

TEST_F(DynamoDbApiTest, InvalidAttributeValuesAreValidationErrors) {
  create_orders();
  auto r = call("PutItem", R"({"TableName":"Orders","Item":{"pk":{"S":"a"},"sk":{"N":"x"}}})");
  EXPECT_EQ(r.type(), "com.amazon.coral.validate#ValidationException");
  auto k = call("PutItem", R"({"TableName":"Orders","Item":{"pk":{"S":"a"}}})");
  EXPECT_EQ(k.message(),
            "One or more parameter values were invalid: Missing the key sk in the item");
  auto g = call("GetItem", R"({"TableName":"Orders","Key":{"pk":{"S":"a"}}})");
  EXPECT_EQ(g.message(), "The provided key element does not match the schema");
  auto missing_table = call("GetItem", R"({"TableName":"Nope","Key":{"pk":{"S":"a"}}})");
  EXPECT_EQ(missing_table.type(), "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException");
}

TEST_F(DynamoDbApiTest, ConditionalWritesFailWithTheCurrentItemWhenAsked) {
  create_orders();
  put("a", 1, R"(,"v":{"N":"1"})");
  const std::string cond = R"~("ConditionExpression":"attribute_not_exists(pk)")~";
  auto r = call("PutItem",
                R"({"TableName":"Orders","Item":{"pk":{"S":"a"},"sk":{"N":"1"}},)" + cond + "}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException");
  EXPECT_EQ(r.message(), "The conditional request failed");
  EXPECT_FALSE(r.obj().contains("Item"));
  auto with_item =
      call("PutItem", R"({"TableName":"Orders","Item":{"pk":{"S":"a"},"sk":{"N":"1"}},)" + cond +
                          R"(,"ReturnValuesOnConditionCheckFailure":"ALL_OLD"})");
  EXPECT_EQ(json::serialize(with_item.obj().at("Item")),
            R"({"pk":{"S":"a"},"sk":{"N":"1"},"v":{"N":"1"}})");
  // The engine's expression errors come through as ValidationException.
  auto bad = call("PutItem", R"({"TableName":"Orders","Item":{"pk":{"S":"a"},"sk":{"N":"1"}},)"
                             R"("ConditionExpression":"v = :x"})");
  EXPECT_EQ(bad.type(), "com.amazon.coral.validate#ValidationException");
}

TEST_F(DynamoDbApiTest, WritesReturnOldAndNewValues) {
  create_orders();
  put("a", 1, R"(,"v":{"N":"1"})");
  auto p =
      call("PutItem", R"({"TableName":"Orders","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"v":{"N":"2"}},
      "ReturnValues":"ALL_OLD"})");
  EXPECT_EQ(p.obj().at("Attributes").at("v").at("N").as_string(), "1");
  auto u = call("UpdateItem", R"({"TableName":"Orders","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},
      "UpdateExpression":"SET v = v + :one, #s = :s","ExpressionAttributeNames":{"#s":"status"},
      "ExpressionAttributeValues":{":one":{"N":"1"},":s":{"S":"NEW"}},"ReturnValues":"UPDATED_NEW"})");
  ASSERT_EQ(u.status, 200) << u.raw;
  EXPECT_EQ(json::serialize(u.obj().at("Attributes")), R"({"status":{"S":"NEW"},"v":{"N":"3"}})");
  auto upsert = call("UpdateItem", R"({"TableName":"Orders","Key":{"pk":{"S":"b"},"sk":{"N":"1"}},
      "UpdateExpression":"SET v = :v","ExpressionAttributeValues":{":v":{"N":"9"}},"ReturnValues":"ALL_NEW"})");
  EXPECT_EQ(json::serialize(upsert.obj().at("Attributes")),
            R"({"pk":{"S":"b"},"sk":{"N":"1"},"v":{"N":"9"}})");
  auto cond = call("UpdateItem", R"({"TableName":"Orders","Key":{"pk":{"S":"b"},"sk":{"N":"1"}},
      "UpdateExpression":"SET v = :v","ConditionExpression":"v = :old",
      "ExpressionAttributeValues":{":v":{"N":"10"},":old":{"N":"0"}}})");
  EXPECT_EQ(cond.type(), "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException");
  auto d = call(
      "DeleteItem",
      R"({"TableName":"Orders","Key":{"pk":{"S":"b"},"sk":{"N":"1"}},"ReturnValues":"ALL_OLD"})");
  EXPECT_EQ(d.obj().at("Attributes").at("v").at("N").as_string(), "9");
  auto gone = call(
      "DeleteItem",
      R"({"TableName":"Orders","Key":{"pk":{"S":"b"},"sk":{"N":"1"}},"ReturnValues":"ALL_OLD"})");
  EXPECT_EQ(gone.raw, "{}");
  auto dcond = call("DeleteItem", R"~({"TableName":"Orders","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},
      "ConditionExpression":"attribute_not_exists(v)"})~");
  EXPECT_EQ(dcond.type(), "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException");
  EXPECT_EQ(call("PutItem",
                 R"({"TableName":"Orders","Item":{"pk":{"S":"a"},"sk":{"N":"1"}},"Expected":{}})")
                .type(),
            "com.amazon.coral.validate#ValidationException");
}

TEST_F(DynamoDbApiTest, ConsumedCapacityIsReturnedWhenAsked) {
  create_orders();
  auto none = call("PutItem", R"({"TableName":"Orders","Item":{"pk":{"S":"a"},"sk":{"N":"1"}}})");
  EXPECT_FALSE(none.obj().contains("ConsumedCapacity"));
  auto total = call("PutItem", R"({"TableName":"Orders","Item":{"pk":{"S":"a"},"sk":{"N":"1"}},
      "ReturnConsumedCapacity":"TOTAL"})");
  const auto& cc = total.obj().at("ConsumedCapacity").as_object();
  EXPECT_EQ(cc.at("TableName").as_string(), "Orders");
  EXPECT_DOUBLE_EQ(cc.at("CapacityUnits").to_number<double>(), 1.0);
  EXPECT_FALSE(cc.contains("Table"));
  auto idx = call("GetItem", R"({"TableName":"Orders","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},
      "ReturnConsumedCapacity":"INDEXES"})");
  EXPECT_DOUBLE_EQ(idx.obj().at("ConsumedCapacity").at("CapacityUnits").to_number<double>(), 0.5);
  EXPECT_DOUBLE_EQ(
      idx.obj().at("ConsumedCapacity").at("Table").at("CapacityUnits").to_number<double>(), 0.5);
  auto bw =
      call("BatchWriteItem",
           R"({"RequestItems":{"Orders":[{"PutRequest":{"Item":{"pk":{"S":"z"},"sk":{"N":"1"}}}}]},
      "ReturnConsumedCapacity":"TOTAL"})");
  EXPECT_EQ(bw.obj().at("ConsumedCapacity").at(0).at("TableName").as_string(), "Orders");
  EXPECT_EQ(call("GetItem", R"({"TableName":"Orders","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},
      "ReturnConsumedCapacity":"ALL"})")
                .type(),
            "com.amazon.coral.validate#ValidationException");
}

TEST_F(DynamoDbApiTest, QueryPagesUntilLastEvaluatedKeyIsAbsent) {
  create_orders();
  for (int i = 1; i <= 5; ++i)
    put("a", i, R"(,"even":{"BOOL":)" + std::string(i % 2 == 0 ? "true" : "false") + "}");
  put("b", 1);
  std::vector<std::string> seen;
  std::string start;
  int pages = 0;
  for (;;) {
    std::string body = R"({"TableName":"Orders","KeyConditionExpression":"pk = :p",
        "ExpressionAttributeValues":{":p":{"S":"a"}},"Limit":2)" +
                       (start.empty() ? "" : ",\"ExclusiveStartKey\":" + start) + "}";
    auto r = call("Query", body);
    ASSERT_EQ(r.status, 200) << r.raw;
    ++pages;
    for (const auto& i : r.obj().at("Items").as_array())
      seen.push_back(std::string(i.at("sk").at("N").as_string()));
    EXPECT_EQ(r.obj().at("Count").as_int64(),
              static_cast<std::int64_t>(r.obj().at("Items").as_array().size()));
    EXPECT_TRUE(r.obj().contains("ScannedCount"));
    if (!r.obj().contains("LastEvaluatedKey")) break;
    start = json::serialize(r.obj().at("LastEvaluatedKey"));
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "2", "3", "4", "5"}));

  auto back =
      call("Query", R"({"TableName":"Orders","KeyConditionExpression":"pk = :p AND sk >= :s",
      "FilterExpression":"even = :t","ScanIndexForward":false,
      "ExpressionAttributeValues":{":p":{"S":"a"},":s":{"N":"2"},":t":{"BOOL":true}}})");
  ASSERT_EQ(back.status, 200) << back.raw;
  EXPECT_EQ(back.obj().at("Count").as_int64(), 2);
  EXPECT_EQ(back.obj().at("ScannedCount").as_int64(), 4);
  EXPECT_EQ(back.obj().at("Items").at(0).at("sk").at("N").as_string(), "4");

  auto count =
      call("Query", R"({"TableName":"Orders","KeyConditionExpression":"pk = :p","Select":"COUNT",
      "ExpressionAttributeValues":{":p":{"S":"a"}}})");
  EXPECT_EQ(count.obj().at("Count").as_int64(), 5);
  EXPECT_FALSE(count.obj().contains("Items"));

  EXPECT_EQ(call("Query", R"({"TableName":"Orders"})").message(),
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
            "request.");
  EXPECT_EQ(
      call("Query", R"({"TableName":"Orders","IndexName":"gsi","KeyConditionExpression":"pk = :p",
      "ExpressionAttributeValues":{":p":{"S":"a"}}})")
          .type(),
      "com.amazon.coral.validate#ValidationException");
  EXPECT_EQ(call("Query", R"({"TableName":"Orders","KeyConditionExpression":"pk = :p","Limit":0,
      "ExpressionAttributeValues":{":p":{"S":"a"}}})")
                .type(),
            "com.amazon.coral.validate#ValidationException");
}

TEST_F(DynamoDbApiTest, ScanPagesAndFilters) {
  create_orders();
  for (int i = 1; i <= 7; ++i)
    put("p" + std::to_string(i), i,
        R"(,"big":{"BOOL":)" + std::string(i > 4 ? "true" : "false") + "}");
  int total = 0, matched = 0, pages = 0;
  std::string start;
  for (;;) {
    std::string body = R"({"TableName":"Orders","Limit":3,"FilterExpression":"big = :t",
        "ExpressionAttributeValues":{":t":{"BOOL":true}})" +
                       (start.empty() ? "" : ",\"ExclusiveStartKey\":" + start) + "}";
    auto r = call("Scan", body);
    ASSERT_EQ(r.status, 200) << r.raw;
    ++pages;
    total += static_cast<int>(r.obj().at("ScannedCount").as_int64());
    matched += static_cast<int>(r.obj().at("Count").as_int64());
    if (!r.obj().contains("LastEvaluatedKey")) break;
    start = json::serialize(r.obj().at("LastEvaluatedKey"));
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(total, 7);
  EXPECT_EQ(matched, 3);
  EXPECT_GE(pages, 3);
  auto seg = call("Scan", R"({"TableName":"Orders","Segment":0})");
  EXPECT_EQ(seg.type(), "com.amazon.coral.validate#ValidationException");
}

TEST_F(DynamoDbApiTest, BatchWriteAndBatchGet) {
  create_orders();
  auto w = call("BatchWriteItem", R"({"RequestItems":{"Orders":[
      {"PutRequest":{"Item":{"pk":{"S":"a"},"sk":{"N":"1"}}}},
      {"PutRequest":{"Item":{"pk":{"S":"b"},"sk":{"N":"1"}}}},
      {"PutRequest":{"Item":{"pk":{"S":"c"},"sk":{"N":"1"}}}}]}})");
  ASSERT_EQ(w.status, 200) << w.raw;
  EXPECT_EQ(w.raw, R"({"UnprocessedItems":{}})");
  auto d = call(
      "BatchWriteItem",
      R"({"RequestItems":{"Orders":[{"DeleteRequest":{"Key":{"pk":{"S":"c"},"sk":{"N":"1"}}}}]}})");
  ASSERT_EQ(d.status, 200) << d.raw;
  auto g = call("BatchGetItem", R"({"RequestItems":{"Orders":{"Keys":[
      {"pk":{"S":"a"},"sk":{"N":"1"}},{"pk":{"S":"b"},"sk":{"N":"1"}},{"pk":{"S":"c"},"sk":{"N":"1"}}],
      "ProjectionExpression":"pk"}}})");
  ASSERT_EQ(g.status, 200) << g.raw;
  EXPECT_EQ(g.obj().at("Responses").at("Orders").as_array().size(), 2U);
  EXPECT_EQ(json::serialize(g.obj().at("Responses").at("Orders").at(0)), R"({"pk":{"S":"a"}})");
  EXPECT_EQ(json::serialize(g.obj().at("UnprocessedKeys")), "{}");
  EXPECT_EQ(call("BatchWriteItem", "{}").message(),
            "1 validation error detected: Value null at 'requestItems' failed to satisfy "
            "constraint: Member must "
            "not be null");
  EXPECT_EQ(
      call("BatchWriteItem",
           R"({"RequestItems":{"Orders":[{"PutRequest":{"Item":{"pk":{"S":"a"},"sk":{"N":"1"}}}},
      {"DeleteRequest":{"Key":{"pk":{"S":"a"},"sk":{"N":"1"}}}}]}})")
          .message(),
      "Provided list of item keys contains duplicates");
  EXPECT_EQ(call("BatchGetItem", R"({"RequestItems":{"Nope":{"Keys":[{"pk":{"S":"a"}}]}}})").type(),
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException");
}

TEST_F(DynamoDbApiTest, TransactWriteIsAllOrNothing) {
  create_orders();
  put("a", 1, R"(,"v":{"N":"1"})");
  put("c", 1, R"(,"v":{"N":"1"})");
  auto ok = call("TransactWriteItems", R"~({"TransactItems":[
      {"Put":{"TableName":"Orders","Item":{"pk":{"S":"b"},"sk":{"N":"1"}},"ConditionExpression":"attribute_not_exists(pk)"}},
      {"Update":{"TableName":"Orders","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"UpdateExpression":"SET v = :v",
                 "ExpressionAttributeValues":{":v":{"N":"2"}}}},
      {"ConditionCheck":{"TableName":"Orders","Key":{"pk":{"S":"c"},"sk":{"N":"1"}},"ConditionExpression":"attribute_exists(v)"}}]})~");
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.raw, "{}");

  auto bad = call("TransactWriteItems", R"~({"TransactItems":[
      {"Delete":{"TableName":"Orders","Key":{"pk":{"S":"b"},"sk":{"N":"1"}}}},
      {"Put":{"TableName":"Orders","Item":{"pk":{"S":"a"},"sk":{"N":"1"}},"ConditionExpression":"attribute_not_exists(pk)",
              "ReturnValuesOnConditionCheckFailure":"ALL_OLD"}}]})~");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.type(), "com.amazonaws.dynamodb.v20120810#TransactionCanceledException");
  EXPECT_TRUE(bad.obj().contains("Message"));
  EXPECT_FALSE(bad.obj().contains("message"));
  EXPECT_NE(bad.message().find("[None, ConditionalCheckFailed]"), std::string::npos)
      << bad.message();
  const auto& reasons = bad.obj().at("CancellationReasons").as_array();
  ASSERT_EQ(reasons.size(), 2U);
  EXPECT_EQ(reasons[0].at("Code").as_string(), "None");
  EXPECT_EQ(reasons[1].at("Code").as_string(), "ConditionalCheckFailed");
  EXPECT_EQ(reasons[1].at("Item").at("v").at("N").as_string(), "2");
  // Nothing of the cancelled transaction was written.
  EXPECT_TRUE(call("GetItem", R"({"TableName":"Orders","Key":{"pk":{"S":"b"},"sk":{"N":"1"}}})")
                  .obj()
                  .contains("Item"));

  EXPECT_EQ(
      call(
          "TransactWriteItems",
          R"({"TransactItems":[{"Put":{"TableName":"Orders","Item":{"pk":{"S":"x"},"sk":{"N":"1"}}},
      "Delete":{"TableName":"Orders","Key":{"pk":{"S":"y"},"sk":{"N":"1"}}}}]})")
          .type(),
      "com.amazon.coral.validate#ValidationException");
  EXPECT_EQ(
      call(
          "TransactWriteItems",
          R"({"TransactItems":[{"Update":{"TableName":"Orders","Key":{"pk":{"S":"x"},"sk":{"N":"1"}}}}]})")
          .message(),
      "1 validation error detected: Value null at 'transactItems.1.member.update.updateExpression' "
      "failed "
      "to satisfy constraint: Member must not be null");
}

TEST_F(DynamoDbApiTest, TransactGetAnswersInRequestOrder) {
  create_orders();
  put("a", 1, R"(,"v":{"N":"1"})");
  auto r = call("TransactGetItems", R"({"TransactItems":[
      {"Get":{"TableName":"Orders","Key":{"pk":{"S":"nope"},"sk":{"N":"1"}}}},
      {"Get":{"TableName":"Orders","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"ProjectionExpression":"v"}}],
      "ReturnConsumedCapacity":"TOTAL"})");
  ASSERT_EQ(r.status, 200) << r.raw;
  const auto& responses = r.obj().at("Responses").as_array();
  ASSERT_EQ(responses.size(), 2U);
  EXPECT_EQ(json::serialize(responses[0]), "{}");
  EXPECT_EQ(json::serialize(responses[1]), R"({"Item":{"v":{"N":"1"}}})");
  EXPECT_EQ(r.obj().at("ConsumedCapacity").at(0).at("TableName").as_string(), "Orders");
  EXPECT_EQ(
      call("TransactGetItems", R"({"TransactItems":[{}]})").message(),
      "1 validation error detected: Value null at 'transactItems.1.member.get' failed to satisfy "
      "constraint: Member must not be null");
}

}  // namespace
}  // namespace orderflow::server
