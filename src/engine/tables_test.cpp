#include "engine/tables.h"

#include <gtest/gtest.h>

#include <future>

#include <thread>

#include <boost/json.hpp>
#include <sqlite3.h>

#include "engine/testing/temp_dir.h"

namespace orderflow::engine {
namespace {

Item item(std::string_view json) {
  auto v = ddb::item_from_json(boost::json::parse(json));
  EXPECT_TRUE(v) << (v ? "" : v.error().message);
  return v ? *v : Item{};
}

std::string json(const Item& i) { return boost::json::serialize(ddb::to_json(i)); }

ValueMap values(std::string_view j) { return item(j); }

class TablesTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  // Destroys and reopens the store and the service on the same directory. The store runs
  // without fsync: this data is throwaway and no test here simulates power loss.
  void reopen() {
    tables_.reset();
    store_.reset();
    auto s = Store::open(dir_.path(), StoreOptions{.sync = false});
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    auto t = Tables::open(*store_, clock_);
    ASSERT_TRUE(t) << t.error().message;
    tables_ = std::move(*t);
  }

  void create_orders() {
    CreateTableRequest req;
    req.table_name = "Orders";
    req.key_schema = {{"orderId", KeyType::hash}};
    req.attribute_definitions = {{"orderId", ScalarType::S}};
    req.billing_mode = BillingMode::pay_per_request;
    ASSERT_TRUE(tables_->create_table(req));
  }

  // pk (S) + sk (N).
  void create_events() {
    CreateTableRequest req;
    req.table_name = "Events";
    req.key_schema = {{"pk", KeyType::hash}, {"sk", KeyType::range}};
    req.attribute_definitions = {{"pk", ScalarType::S}, {"sk", ScalarType::N}};
    req.provisioned_throughput = ProvisionedThroughput{5, 5};
    ASSERT_TRUE(tables_->create_table(req));
  }

  void put(std::string_view table, std::string_view item_json) {
    PutItemRequest req;
    req.table_name = std::string(table);
    req.item = item(item_json);
    auto r = tables_->put_item(req);
    ASSERT_TRUE(r) << r.error().error.message;
  }

  std::optional<Item> get(std::string_view table, std::string_view key_json) {
    GetItemRequest req;
    req.table_name = std::string(table);
    req.key = item(key_json);
    auto r = tables_->get_item(req);
    EXPECT_TRUE(r) << r.error().message;
    return r ? r->item : std::nullopt;
  }

  std::string put_error(std::string_view table, std::string_view item_json) {
    PutItemRequest req;
    req.table_name = std::string(table);
    req.item = item(item_json);
    auto r = tables_->put_item(req);
    return r ? "ok" : r.error().error.message;
  }

  // Puts pk=p, sk=0..n-1 with a payload of `pad` bytes.
  void fill_events(std::string_view pk, int n, std::size_t pad = 1) {
    for (int i = 0; i < n; ++i) {
      put("Events", R"({"pk":{"S":")" + std::string(pk) + R"("},"sk":{"N":")" +
                        std::to_string(i) + R"("},"body":{"S":")" + std::string(pad, 'x') +
                        R"("}})");
    }
  }

  static std::vector<std::string> sort_keys(const std::vector<Item>& items) {
    std::vector<std::string> out;
    for (const auto& i : items) out.push_back(i.at("sk").as<ddb::Number>().to_string());
    return out;
  }

  // The store's item records in key order: (row number, orderId / pk + "/" + sk, the item).
  struct Row {
    std::uint64_t table;
    std::uint64_t row;
    std::string key;
    bool operator==(const Row&) const = default;
  };
  std::vector<Row> item_rows() {
    std::vector<Row> out;
    auto st = store_->scan(Space::item_row, [&](std::string_view k, std::string_view v) {
      auto i = ddb::decode_item(v);
      ASSERT_TRUE(i);
      std::string key = i->contains("orderId") ? i->at("orderId").as<std::string>()
                                               : i->at("pk").as<std::string>() + "/" +
                                                     i->at("sk").as<ddb::Number>().to_string();
      out.push_back({get_u64_be(k.substr(0, 8)), get_u64_be(k.substr(8)), key});
    });
    EXPECT_TRUE(st);
    return out;
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Tables> tables_;
};

// ---------------------------------------------------------------- tables

TEST_F(TablesTest, CreateTableIsDescribedWithArnIdAndBilling) {
  create_orders();
  auto d = tables_->describe_table("Orders");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->table_name, "Orders");
  EXPECT_EQ(d->table_status, "ACTIVE");
  EXPECT_EQ(d->table_arn, "arn:aws:dynamodb:us-east-1:000000000000:table/Orders");
  EXPECT_EQ(d->table_id.size(), 36u);
  EXPECT_EQ(d->billing_mode, BillingMode::pay_per_request);
  EXPECT_EQ(d->provisioned_throughput.read_capacity_units, 0);
  EXPECT_EQ(d->creation_date_time, clock_.now());
  ASSERT_EQ(d->key_schema.size(), 1u);
  EXPECT_EQ(d->key_schema[0].attribute_name, "orderId");
  EXPECT_EQ(d->attribute_definitions[0].attribute_type, ScalarType::S);
  EXPECT_EQ(d->item_count, 0u);
}

TEST_F(TablesTest, CreateTableRejectsAnExistingName) {
  create_orders();
  CreateTableRequest req;
  req.table_name = "Orders";
  req.key_schema = {{"orderId", KeyType::hash}};
  req.attribute_definitions = {{"orderId", ScalarType::S}};
  req.billing_mode = BillingMode::pay_per_request;
  auto r = tables_->create_table(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::ddb_resource_in_use);
  EXPECT_EQ(r.error().message, "Table already exists: Orders");
}

TEST_F(TablesTest, CreateTableValidatesNameSchemaAndThroughput) {
  auto error = [&](auto mutate) {
    CreateTableRequest req;
    req.table_name = "Valid_Name.1-x";
    req.key_schema = {{"id", KeyType::hash}};
    req.attribute_definitions = {{"id", ScalarType::S}};
    req.provisioned_throughput = ProvisionedThroughput{1, 1};
    mutate(req);
    auto r = tables_->create_table(req);
    return r ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(error([](auto&) {}), "ok");
  EXPECT_EQ(error([](auto& r) { r.table_name = "ab"; }),
            "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy "
            "constraint: Member must have length greater than or equal to 3");
  EXPECT_EQ(error([](auto& r) { r.table_name = "bad name"; }),
            "1 validation error detected: Value 'bad name' at 'tableName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
  EXPECT_EQ(error([](auto& r) {
              r.table_name = "T2";
              r.table_name += "x";
              r.key_schema = {{"id", KeyType::range}};
            }),
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
  EXPECT_EQ(error([](auto& r) {
              r.table_name = "T3x";
              r.attribute_definitions = {{"other", ScalarType::S}};
            }),
            "One or more parameter values were invalid: Some index key attributes are not "
            "defined in AttributeDefinitions. Keys: [id], AttributeDefinitions: [other]");
  EXPECT_EQ(error([](auto& r) {
              r.table_name = "T4x";
              r.attribute_definitions.push_back({"extra", ScalarType::N});
            }),
            "One or more parameter values were invalid: Number of attributes in KeySchema does "
            "not exactly match number of attributes defined in AttributeDefinitions");
  EXPECT_EQ(error([](auto& r) {
              r.table_name = "T5x";
              r.provisioned_throughput.reset();
            }),
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
            "must both be specified when BillingMode is PROVISIONED");
  EXPECT_EQ(error([](auto& r) {
              r.table_name = "T6x";
              r.billing_mode = BillingMode::pay_per_request;
            }),
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
            "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
  EXPECT_EQ(error([](auto& r) {
              r.table_name = "T7x";
              r.provisioned_throughput = ProvisionedThroughput{0, 1};
            }),
            "1 validation error detected: Value '0' at 'provisionedThroughput.readCapacityUnits' "
            "failed to satisfy constraint: Member must have value greater than or equal to 1");
}

TEST_F(TablesTest, ListTablesPaginatesInNameOrder) {
  for (std::string name : {"ccc", "aaa", "bbb"}) {
    CreateTableRequest req;
    req.table_name = name;
    req.key_schema = {{"id", KeyType::hash}};
    req.attribute_definitions = {{"id", ScalarType::S}};
    req.billing_mode = BillingMode::pay_per_request;
    ASSERT_TRUE(tables_->create_table(req));
  }
  auto page = tables_->list_tables({std::nullopt, 2});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->table_names, (std::vector<std::string>{"aaa", "bbb"}));
  ASSERT_EQ(page->last_evaluated_table_name, "bbb");
  page = tables_->list_tables({page->last_evaluated_table_name, 2});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->table_names, (std::vector<std::string>{"ccc"}));
  EXPECT_FALSE(page->last_evaluated_table_name);
  EXPECT_EQ(tables_->list_tables({std::nullopt, 101}).error().message,
            "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: "
            "Member must have value less than or equal to 100");
}

TEST_F(TablesTest, DeleteTableRemovesTheTableAndItsItems) {
  create_orders();
  put("Orders", R"({"orderId":{"S":"o-1"}})");
  auto d = tables_->delete_table("Orders");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->table_status, "DELETING");
  EXPECT_EQ(d->item_count, 1u);
  auto again = tables_->describe_table("Orders");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::ddb_resource_not_found);
  EXPECT_EQ(again.error().message, "Requested resource not found: Table: Orders not found");
  create_orders();
  EXPECT_FALSE(get("Orders", R"({"orderId":{"S":"o-1"}})"));
  reopen();
  EXPECT_FALSE(get("Orders", R"({"orderId":{"S":"o-1"}})"));
}

TEST_F(TablesTest, UpdateTableSwitchesBillingMode) {
  create_events();
  UpdateTableRequest req;
  req.table_name = "Events";
  req.billing_mode = BillingMode::pay_per_request;
  auto d = tables_->update_table(req);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->billing_mode, BillingMode::pay_per_request);
  EXPECT_EQ(d->last_update_to_pay_per_request_date_time, clock_.now());
  EXPECT_EQ(d->provisioned_throughput.write_capacity_units, 0);
  req.billing_mode = BillingMode::provisioned;
  EXPECT_FALSE(tables_->update_table(req));  // needs throughput
  req.provisioned_throughput = ProvisionedThroughput{3, 4};
  d = tables_->update_table(req);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->provisioned_throughput.write_capacity_units, 4);
  reopen();
  EXPECT_EQ(tables_->describe_table("Events")->provisioned_throughput.read_capacity_units, 3);
}

// ---------------------------------------------------------------- items

TEST_F(TablesTest, PutItemThenGetItemRoundTrips) {
  create_orders();
  put("Orders", R"({"orderId":{"S":"o-1"},"qty":{"N":"2.50"},"tags":{"SS":["a"]}})");
  auto got = get("Orders", R"({"orderId":{"S":"o-1"}})");
  ASSERT_TRUE(got);
  EXPECT_EQ(json(*got), R"({"orderId":{"S":"o-1"},"qty":{"N":"2.5"},"tags":{"SS":["a"]}})");
  EXPECT_FALSE(get("Orders", R"({"orderId":{"S":"o-2"}})"));
  GetItemRequest req;
  req.table_name = "Orders";
  req.key = item(R"({"orderId":{"S":"o-1"}})");
  req.projection_expression = "qty";
  EXPECT_EQ(json(*tables_->get_item(req)->item), R"({"qty":{"N":"2.5"}})");
}

TEST_F(TablesTest, ItemOperationsOnAMissingTableFailWithResourceNotFound) {
  PutItemRequest req;
  req.table_name = "Nope";
  req.item = item(R"({"orderId":{"S":"o-1"}})");
  auto r = tables_->put_item(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, ErrorCode::ddb_resource_not_found);
  EXPECT_EQ(r.error().error.message, "Requested resource not found");
}

TEST_F(TablesTest, PutItemValidatesTheKey) {
  create_orders();
  EXPECT_EQ(put_error("Orders", R"({"id":{"S":"x"}})"),
            "One or more parameter values were invalid: Missing the key orderId in the item");
  EXPECT_EQ(put_error("Orders", R"({"orderId":{"N":"1"}})"),
            "One or more parameter values were invalid: Type mismatch for key orderId expected: "
            "S actual: N");
  EXPECT_EQ(put_error("Orders", R"({"orderId":{"S":""}})"),
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            "cannot contain an empty string value. Key: orderId");
  EXPECT_EQ(put_error("Orders", R"({"orderId":{"S":"x"},"big":{"S":")" +
                                    std::string(400 * 1024, 'x') + R"("}})"),
            "Item size has exceeded the maximum allowed size");
  // A non-key attribute may hold an empty string.
  EXPECT_EQ(put_error("Orders", R"({"orderId":{"S":"x"},"note":{"S":""}})"), "ok");
  GetItemRequest req;
  req.table_name = "Orders";
  req.key = item(R"({"orderId":{"S":"x"},"note":{"S":""}})");
  EXPECT_EQ(tables_->get_item(req).error().message,
            "The provided key element does not match the schema");
  req.key = item(R"({"orderId":{"N":"1"}})");
  EXPECT_EQ(tables_->get_item(req).error().message,
            "The provided key element does not match the schema");
}

TEST_F(TablesTest, PutItemWithAttributeNotExistsRejectsSecondPut) {
  create_orders();
  PutItemRequest req;
  req.table_name = "Orders";
  req.item = item(R"({"orderId":{"S":"o-1"},"v":{"N":"1"}})");
  req.condition_expression = "attribute_not_exists(orderId)";
  ASSERT_TRUE(tables_->put_item(req));
  req.item = item(R"({"orderId":{"S":"o-1"},"v":{"N":"2"}})");
  req.return_item_on_condition_failure = true;
  auto r = tables_->put_item(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, ErrorCode::conditional_check_failed);
  EXPECT_EQ(r.error().error.message, "The conditional request failed");
  ASSERT_TRUE(r.error().item);
  EXPECT_EQ(json(*r.error().item), R"({"orderId":{"S":"o-1"},"v":{"N":"1"}})");
  EXPECT_EQ(json(*get("Orders", R"({"orderId":{"S":"o-1"}})")),
            R"({"orderId":{"S":"o-1"},"v":{"N":"1"}})");
}

// A condition without placeholders is parsed once per thread and reused: the reused parse
// decides each call by that call's item, a bad expression fails every time (nothing cached),
// and the same text as a FilterExpression or with placeholders is parsed on its own.
TEST_F(TablesTest, PutItemAsyncRefusesAtOnceWithoutALockAndAcknowledgesOnceWritten) {
  create_orders();
  PutItemRequest req;
  req.table_name = "Orders";
  req.item = item(R"({"orderId":{"S":"a"},"total":{"N":"1"}})");
  req.condition_expression = "attribute_not_exists(orderId)";
  std::promise<TableResult<WriteItemResponse>> stored;
  tables_->put_item_async(req, [&](TableResult<WriteItemResponse> r) { stored.set_value(std::move(r)); });
  ASSERT_TRUE(stored.get_future().get());

  // A refusal is answered before put_item_async returns, with no lock held: the callback can
  // call the Tables again (it would deadlock otherwise).
  bool answered = false;
  tables_->put_item_async(req, [&](TableResult<WriteItemResponse> r) {
    answered = true;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().error.code, ErrorCode::conditional_check_failed);
    GetItemRequest get;
    get.table_name = "Orders";
    get.key = item(R"({"orderId":{"S":"a"}})");
    auto found = tables_->get_item(get);
    ASSERT_TRUE(found && found->item);
    EXPECT_EQ(found->item->at("total"), ddb::AttributeValue(*ddb::Number::parse("1")));
  });
  EXPECT_TRUE(answered);
  req.table_name = "Missing";
  answered = false;
  tables_->put_item_async(req, [&](TableResult<WriteItemResponse> r) {
    answered = true;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().error.code, ErrorCode::ddb_resource_not_found);
  });
  EXPECT_TRUE(answered);

  reopen();  // what was acknowledged is in the store
  GetItemRequest get;
  get.table_name = "Orders";
  get.key = item(R"({"orderId":{"S":"a"}})");
  auto found = tables_->get_item(get);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->item.has_value());
}

TEST_F(TablesTest, RepeatedConditionsDecideEachCallOnItsOwnItem) {
  create_orders();
  PutItemRequest req;
  req.table_name = "Orders";
  req.condition_expression = "attribute_not_exists(orderId) OR attribute_exists(done)";
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 4; ++i) {
      std::string id = "r" + std::to_string(i);
      req.item = item(i % 2 == 0 ? R"({"orderId":{"S":")" + id + R"("},"done":{"BOOL":true}})"
                                 : R"({"orderId":{"S":")" + id + R"("}})");
      auto r = tables_->put_item(req);
      // First round: every key is new. Later rounds: only the items stored with `done` (the
      // even ones) may be overwritten.
      bool expected = round == 0 || i % 2 == 0;
      EXPECT_EQ(static_cast<bool>(r), expected) << "round " << round << " item " << i;
      if (!r) {
        EXPECT_EQ(r.error().error.code, ErrorCode::conditional_check_failed);
      }
    }
  }
  req.condition_expression = "attribute_not_exists(orderId";
  for (int i = 0; i < 2; ++i) {
    auto r = tables_->put_item(req);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().error.code, ErrorCode::ddb_validation) << r.error().error.message;
  }
  req.condition_expression = "attribute_not_exists(#k)";
  req.attributes.names = NameMap{{"#k", "orderId"}};
  EXPECT_EQ(tables_->put_item(req).error().error.code, ErrorCode::conditional_check_failed);
  req.attributes.names = NameMap{{"#k", "nothing"}};
  EXPECT_TRUE(tables_->put_item(req)) << "the same text with other names is another condition";
}

TEST_F(TablesTest, PutItemReturnsTheOldItemWhenAsked) {
  create_orders();
  put("Orders", R"({"orderId":{"S":"o-1"},"v":{"N":"1"}})");
  PutItemRequest req;
  req.table_name = "Orders";
  req.item = item(R"({"orderId":{"S":"o-1"},"v":{"N":"2"}})");
  req.return_values = ReturnValues::all_old;
  auto r = tables_->put_item(req);
  ASSERT_TRUE(r);
  EXPECT_EQ(json(*r->attributes), R"({"orderId":{"S":"o-1"},"v":{"N":"1"}})");
  req.return_values = ReturnValues::all_new;
  EXPECT_EQ(tables_->put_item(req).error().error.message,
            "ReturnValues can only be ALL_OLD or NONE");
}

TEST_F(TablesTest, ConditionalPutUsesPlaceholdersAndReportsUnusedOnes) {
  create_orders();
  put("Orders", R"({"orderId":{"S":"o-1"},"status":{"S":"NEW"}})");
  PutItemRequest req;
  req.table_name = "Orders";
  req.item = item(R"({"orderId":{"S":"o-1"},"status":{"S":"PAID"}})");
  req.condition_expression = "#s = :new";
  req.attributes.names = NameMap{{"#s", "status"}};
  req.attributes.values = values(R"({":new":{"S":"NEW"},":extra":{"S":"x"}})");
  EXPECT_EQ(tables_->put_item(req).error().error.message,
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:extra}");
  req.attributes.values = values(R"({":new":{"S":"NEW"}})");
  ASSERT_TRUE(tables_->put_item(req));
  EXPECT_EQ(tables_->put_item(req).error().error.code, ErrorCode::conditional_check_failed);
  req.condition_expression.reset();
  EXPECT_EQ(tables_->put_item(req).error().error.message,
            "ExpressionAttributeNames can only be specified when using expressions");
  req.attributes.names.reset();
  EXPECT_EQ(tables_->put_item(req).error().error.message,
            "ExpressionAttributeValues can only be specified when using expressions: "
            "ConditionExpression is null");
}

TEST_F(TablesTest, DeleteItemHonoursItsCondition) {
  create_orders();
  put("Orders", R"({"orderId":{"S":"o-1"},"v":{"N":"1"}})");
  DeleteItemRequest req;
  req.table_name = "Orders";
  req.key = item(R"({"orderId":{"S":"o-1"}})");
  req.condition_expression = "v > :v";
  req.attributes.values = values(R"({":v":{"N":"1"}})");
  EXPECT_EQ(tables_->delete_item(req).error().error.code, ErrorCode::conditional_check_failed);
  EXPECT_TRUE(get("Orders", R"({"orderId":{"S":"o-1"}})"));
  req.attributes.values = values(R"({":v":{"N":"0"}})");
  req.return_values = ReturnValues::all_old;
  auto r = tables_->delete_item(req);
  ASSERT_TRUE(r);
  EXPECT_EQ(json(*r->attributes), R"({"orderId":{"S":"o-1"},"v":{"N":"1"}})");
  EXPECT_FALSE(get("Orders", R"({"orderId":{"S":"o-1"}})"));
  EXPECT_EQ(tables_->describe_table("Orders")->item_count, 0u);
}

TEST_F(TablesTest, UpdateItemCreatesTheItemWhenMissing) {
  create_orders();
  UpdateItemRequest req;
  req.table_name = "Orders";
  req.key = item(R"({"orderId":{"S":"o-1"}})");
  req.update_expression = "SET cnt = if_not_exists(cnt, :zero) + :one ADD seen :s";
  req.attributes.values = values(R"({":zero":{"N":"0"},":one":{"N":"1"},":s":{"SS":["a"]}})");
  req.return_values = ReturnValues::all_new;
  auto r = tables_->update_item(req);
  ASSERT_TRUE(r) << r.error().error.message;
  EXPECT_EQ(json(*r->attributes),
            R"({"cnt":{"N":"1"},"orderId":{"S":"o-1"},"seen":{"SS":["a"]}})");
  r = tables_->update_item(req);
  ASSERT_TRUE(r);
  EXPECT_EQ(json(*r->attributes),
            R"({"cnt":{"N":"2"},"orderId":{"S":"o-1"},"seen":{"SS":["a"]}})");
}

TEST_F(TablesTest, UpdateItemReturnValuesOfEachKind) {
  create_orders();
  put("Orders", R"({"orderId":{"S":"o-1"},"a":{"N":"1"},"b":{"S":"keep"}})");
  auto run = [&](ReturnValues rv) {
    UpdateItemRequest req;
    req.table_name = "Orders";
    req.key = item(R"({"orderId":{"S":"o-1"}})");
    req.update_expression = "SET a = a + :one";
    req.attributes.values = values(R"({":one":{"N":"1"}})");
    req.return_values = rv;
    auto r = tables_->update_item(req);
    EXPECT_TRUE(r);
    return r && r->attributes ? json(*r->attributes) : std::string("none");
  };
  EXPECT_EQ(run(ReturnValues::none), "none");                                  // a = 2
  EXPECT_EQ(run(ReturnValues::updated_old), R"({"a":{"N":"2"}})");             // a = 3
  EXPECT_EQ(run(ReturnValues::updated_new), R"({"a":{"N":"4"}})");             // a = 4
  EXPECT_EQ(run(ReturnValues::all_old),
            R"({"a":{"N":"4"},"b":{"S":"keep"},"orderId":{"S":"o-1"}})");      // a = 5
  EXPECT_EQ(run(ReturnValues::all_new),
            R"({"a":{"N":"6"},"b":{"S":"keep"},"orderId":{"S":"o-1"}})");
}

TEST_F(TablesTest, UpdateItemRejectsChangingKeyAttributes) {
  create_orders();
  UpdateItemRequest req;
  req.table_name = "Orders";
  req.key = item(R"({"orderId":{"S":"o-1"}})");
  req.update_expression = "SET orderId = :v";
  req.attributes.values = values(R"({":v":{"S":"o-2"}})");
  EXPECT_EQ(tables_->update_item(req).error().error.message,
            "One or more parameter values were invalid: Cannot update attribute orderId. This "
            "attribute is part of the key");
}

TEST_F(TablesTest, FailedUpdateChangesNothing) {
  create_orders();
  put("Orders", R"({"orderId":{"S":"o-1"},"a":{"S":"text"},"b":{"N":"1"}})");
  UpdateItemRequest req;
  req.table_name = "Orders";
  req.key = item(R"({"orderId":{"S":"o-1"}})");
  req.update_expression = "SET b = :two, c = a + :one";
  req.attributes.values = values(R"({":one":{"N":"1"},":two":{"N":"2"}})");
  auto r = tables_->update_item(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.message,
            "An operand in the update expression has an incorrect data type");
  EXPECT_EQ(json(*get("Orders", R"({"orderId":{"S":"o-1"}})")),
            R"({"a":{"S":"text"},"b":{"N":"1"},"orderId":{"S":"o-1"}})");
  req.update_expression = "SET b = :two";
  req.condition_expression = "b = :one";
  req.attributes.values = values(R"({":one":{"N":"5"},":two":{"N":"2"}})");
  req.return_item_on_condition_failure = true;
  r = tables_->update_item(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, ErrorCode::conditional_check_failed);
  EXPECT_TRUE(r.error().item);
  EXPECT_EQ(get("Orders", R"({"orderId":{"S":"o-1"}})")->at("b"), ddb::N("1"));
}

TEST_F(TablesTest, ItemCountAndTableSizeFollowWrites) {
  create_orders();
  put("Orders", R"({"orderId":{"S":"ab"},"x":{"S":"123"}})");  // 7 + 2 + 1 + 3
  put("Orders", R"({"orderId":{"S":"cd"}})");                   // 7 + 2
  auto d = tables_->describe_table("Orders");
  EXPECT_EQ(d->item_count, 2u);
  EXPECT_EQ(d->table_size_bytes, 13u + 9u);
  put("Orders", R"({"orderId":{"S":"ab"}})");
  EXPECT_EQ(tables_->describe_table("Orders")->table_size_bytes, 18u);
}

TEST_F(TablesTest, ConcurrentConditionalWritesAreAtomic) {
  create_orders();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        UpdateItemRequest inc;
        inc.table_name = "Orders";
        inc.key = item(R"({"orderId":{"S":"counter"}})");
        inc.update_expression = "ADD n :one";
        inc.attributes.values = values(R"({":one":{"N":"1"}})");
        EXPECT_TRUE(tables_->update_item(inc));
        PutItemRequest once;
        once.table_name = "Orders";
        once.item = item(R"({"orderId":{"S":"once-)" + std::to_string(i) + R"("}})");
        once.condition_expression = "attribute_not_exists(orderId)";
        if (tables_->put_item(once)) ++created;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(get("Orders", R"({"orderId":{"S":"counter"}})")->at("n"),
            ddb::N(std::to_string(kThreads * kPerThread)));
  EXPECT_EQ(created.load(), kPerThread);  // each key was created by exactly one thread
  reopen();
  EXPECT_EQ(get("Orders", R"({"orderId":{"S":"counter"}})")->at("n"),
            ddb::N(std::to_string(kThreads * kPerThread)));
}

// ---------------------------------------------------------------- query

QueryRequest events_query(std::string pk) {
  QueryRequest q;
  q.table_name = "Events";
  q.key_condition_expression = "pk = :pk";
  q.attributes.values = ValueMap{{":pk", ddb::S(std::move(pk))}};
  return q;
}

TEST_F(TablesTest, QueryReturnsOnePartitionInNumericSortKeyOrder) {
  create_events();
  for (std::string sk : {"10", "9", "-1", "100", "2.5"})
    put("Events", R"({"pk":{"S":"a"},"sk":{"N":")" + sk + R"("}})");
  put("Events", R"({"pk":{"S":"b"},"sk":{"N":"1"}})");
  auto r = tables_->query(events_query("a"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(sort_keys(r->items), (std::vector<std::string>{"-1", "2.5", "9", "10", "100"}));
  EXPECT_EQ(r->count, 5u);
  EXPECT_EQ(r->scanned_count, 5u);
  EXPECT_FALSE(r->last_evaluated_key);
  auto q = events_query("a");
  q.scan_index_forward = false;
  EXPECT_EQ(sort_keys(tables_->query(q)->items),
            (std::vector<std::string>{"100", "10", "9", "2.5", "-1"}));
}

TEST_F(TablesTest, QuerySortKeyConditions) {
  create_events();
  fill_events("a", 10);
  auto run = [&](std::string cond, std::string vals) {
    QueryRequest q;
    q.table_name = "Events";
    q.key_condition_expression = "pk = :pk AND " + cond;
    q.attributes.values = values(R"({":pk":{"S":"a"},)" + vals + "}");
    auto r = tables_->query(q);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? sort_keys(r->items) : std::vector<std::string>{};
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(run("sk = :a", R"(":a":{"N":"3"})"), V{"3"});
  EXPECT_EQ(run("sk < :a", R"(":a":{"N":"2"})"), (V{"0", "1"}));
  EXPECT_EQ(run("sk <= :a", R"(":a":{"N":"1"})"), (V{"0", "1"}));
  EXPECT_EQ(run("sk > :a", R"(":a":{"N":"7"})"), (V{"8", "9"}));
  EXPECT_EQ(run("sk >= :a", R"(":a":{"N":"8"})"), (V{"8", "9"}));
  EXPECT_EQ(run("sk BETWEEN :a AND :b", R"(":a":{"N":"4"},":b":{"N":"6"})"), (V{"4", "5", "6"}));
}

TEST_F(TablesTest, QueryBeginsWithOnStringSortKeys) {
  CreateTableRequest req;
  req.table_name = "Docs";
  req.key_schema = {{"pk", KeyType::hash}, {"path", KeyType::range}};
  req.attribute_definitions = {{"pk", ScalarType::S}, {"path", ScalarType::S}};
  req.billing_mode = BillingMode::pay_per_request;
  ASSERT_TRUE(tables_->create_table(req));
  for (std::string p : {"a/b", "a/c", "ab", "b/a", "a"})
    put("Docs", R"({"pk":{"S":"x"},"path":{"S":")" + p + R"("}})");
  QueryRequest q;
  q.table_name = "Docs";
  q.key_condition_expression = "pk = :pk AND begins_with(#p, :pre)";
  q.attributes.names = NameMap{{"#p", "path"}};
  q.attributes.values = values(R"({":pk":{"S":"x"},":pre":{"S":"a/"}})");
  auto r = tables_->query(q);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->items.size(), 2u);
  EXPECT_EQ(r->items[0].at("path"), ddb::S("a/b"));
  EXPECT_EQ(r->items[1].at("path"), ddb::S("a/c"));
}

TEST_F(TablesTest, QueryFilterCountsAndSelectCount) {
  create_events();
  fill_events("a", 6);
  auto q = events_query("a");
  q.filter_expression = "sk2 = :x OR attribute_exists(body)";
  q.attributes.values->emplace(":x", ddb::N("1"));
  auto r = tables_->query(q);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->count, 6u);
  q.filter_expression = "size(body) > :x";
  r = tables_->query(q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->count, 0u);
  EXPECT_EQ(r->scanned_count, 6u);
  EXPECT_TRUE(r->items.empty());
  q = events_query("a");
  q.select = Select::count;
  r = tables_->query(q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->count, 6u);
  EXPECT_TRUE(r->items.empty());
}

TEST_F(TablesTest, QueryRejectsKeyAttributesInTheFilterAndMismatchedTypes) {
  create_events();
  auto q = events_query("a");
  q.filter_expression = "sk > :x";
  q.attributes.values->emplace(":x", ddb::N("1"));
  EXPECT_EQ(tables_->query(q).error().message,
            "Filter Expression can only contain non-primary key attributes: Primary key "
            "attribute: sk");
  q = events_query("a");
  q.attributes.values = values(R"({":pk":{"N":"1"}})");
  EXPECT_EQ(tables_->query(q).error().message,
            "One or more parameter values were invalid: Condition parameter type does not match "
            "schema type");
  q = events_query("a");
  q.key_condition_expression = "sk = :pk";
  EXPECT_EQ(tables_->query(q).error().message, "Query condition missed key schema element: pk");
}

// Pages through a query or scan with `limit`, returning the sort keys seen and page count.
template <class Req, class Fn>
std::pair<std::vector<std::string>, int> drain(Req req, Fn&& fn) {
  std::vector<std::string> seen;
  int pages = 0;
  while (true) {
    auto r = fn(req);
    EXPECT_TRUE(r);
    if (!r || ++pages > 100) break;
    for (const auto& i : r->items) seen.push_back(i.at("sk").template as<ddb::Number>().to_string());
    if (!r->last_evaluated_key) break;
    req.exclusive_start_key = r->last_evaluated_key;
  }
  return {seen, pages};
}

TEST_F(TablesTest, QueryLimitAndLastEvaluatedKeyRoundTripUntilExhausted) {
  create_events();
  fill_events("a", 7);
  fill_events("b", 3);
  auto q = events_query("a");
  q.limit = 3;
  auto first = tables_->query(q);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->items.size(), 3u);
  ASSERT_TRUE(first->last_evaluated_key);
  EXPECT_EQ(json(*first->last_evaluated_key), R"({"pk":{"S":"a"},"sk":{"N":"2"}})");
  auto [forward, pages] = drain(q, [&](const QueryRequest& r) { return tables_->query(r); });
  EXPECT_EQ(forward, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6"}));
  EXPECT_EQ(pages, 3);
  q.scan_index_forward = false;
  auto [backward, back_pages] = drain(q, [&](const QueryRequest& r) { return tables_->query(r); });
  EXPECT_EQ(backward, (std::vector<std::string>{"6", "5", "4", "3", "2", "1", "0"}));
  EXPECT_EQ(back_pages, 3);
  // A limit that divides the partition exactly ends with an empty page, as DynamoDB does.
  q.scan_index_forward = true;
  q.limit = 7;
  auto [all, exact_pages] = drain(q, [&](const QueryRequest& r) { return tables_->query(r); });
  EXPECT_EQ(all.size(), 7u);
  EXPECT_EQ(exact_pages, 2);
}

TEST_F(TablesTest, QueryPagesStopAtOneMegabyte) {
  create_events();
  fill_events("a", 5, 300 * 1024);  // 300 KB each: three fit in 1 MB, the fourth does not
  auto q = events_query("a");
  auto r = tables_->query(q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->items.size(), 3u);
  ASSERT_TRUE(r->last_evaluated_key);
  auto [all, pages] = drain(q, [&](const QueryRequest& req) { return tables_->query(req); });
  EXPECT_EQ(all, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  EXPECT_EQ(pages, 2);
}

TEST_F(TablesTest, QueryRejectsAStartKeyOfTheWrongShape) {
  create_events();
  auto q = events_query("a");
  q.exclusive_start_key = item(R"({"pk":{"S":"a"}})");
  EXPECT_EQ(tables_->query(q).error().message,
            "The provided starting key is invalid: The provided key element does not match the "
            "schema");
}

// ---------------------------------------------------------------- scan

TEST_F(TablesTest, ScanPaginatesOverEveryItemOnce) {
  create_events();
  fill_events("a", 5);
  fill_events("b", 5);
  ScanRequest s;
  s.table_name = "Events";
  s.limit = 4;
  std::vector<std::string> seen;
  int pages = 0;
  while (true) {
    auto r = tables_->scan(s);
    ASSERT_TRUE(r) << r.error().message;
    ++pages;
    for (const auto& i : r->items)
      seen.push_back(i.at("pk").as<std::string>() + i.at("sk").as<ddb::Number>().to_string());
    if (!r->last_evaluated_key) break;
    s.exclusive_start_key = r->last_evaluated_key;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a0", "a1", "a2", "a3", "a4", "b0", "b1", "b2", "b3",
                                            "b4"}));
  EXPECT_EQ(pages, 3);
}

TEST_F(TablesTest, ScanFiltersAndProjects) {
  create_events();
  fill_events("a", 4);
  ScanRequest s;
  s.table_name = "Events";
  s.filter_expression = "sk >= :two";
  s.projection_expression = "sk";
  s.attributes.values = values(R"({":two":{"N":"2"}})");
  auto r = tables_->scan(s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->count, 2u);
  EXPECT_EQ(r->scanned_count, 4u);
  ASSERT_EQ(r->items.size(), 2u);
  EXPECT_EQ(json(r->items[0]), R"({"sk":{"N":"2"}})");
}

TEST_F(TablesTest, ScanSegmentsPartitionTheTable) {
  create_events();
  for (int p = 0; p < 20; ++p) fill_events("p" + std::to_string(p), 2);
  std::size_t total = 0;
  for (int seg = 0; seg < 3; ++seg) {
    ScanRequest s;
    s.table_name = "Events";
    s.segment = seg;
    s.total_segments = 3;
    auto r = tables_->scan(s);
    ASSERT_TRUE(r);
    total += r->items.size();
  }
  EXPECT_EQ(total, 40u);
  ScanRequest s;
  s.table_name = "Events";
  s.segment = 3;
  s.total_segments = 3;
  EXPECT_EQ(tables_->scan(s).error().message,
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            "Segment: 3 is not less than TotalSegments: 3");
}

// ---------------------------------------------------------------- batches

TEST_F(TablesTest, BatchWriteItemPutsAndDeletes) {
  create_orders();
  put("Orders", R"({"orderId":{"S":"gone"}})");
  BatchWriteItemRequest req;
  auto& list = req.request_items["Orders"];
  list.push_back({item(R"({"orderId":{"S":"o-1"}})"), std::nullopt});
  list.push_back({item(R"({"orderId":{"S":"o-2"}})"), std::nullopt});
  list.push_back({std::nullopt, item(R"({"orderId":{"S":"gone"}})")});
  auto r = tables_->batch_write_item(req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->unprocessed_items.empty());
  EXPECT_TRUE(get("Orders", R"({"orderId":{"S":"o-2"}})"));
  EXPECT_FALSE(get("Orders", R"({"orderId":{"S":"gone"}})"));
}

TEST_F(TablesTest, BatchWriteItemRejectsDuplicateKeysAndMoreThan25) {
  create_orders();
  BatchWriteItemRequest req;
  auto& list = req.request_items["Orders"];
  list.push_back({item(R"({"orderId":{"S":"o-1"}})"), std::nullopt});
  list.push_back({std::nullopt, item(R"({"orderId":{"S":"o-1"}})")});
  EXPECT_EQ(tables_->batch_write_item(req).error().message,
            "Provided list of item keys contains duplicates");
  EXPECT_FALSE(get("Orders", R"({"orderId":{"S":"o-1"}})"));
  list.clear();
  for (int i = 0; i < 26; ++i)
    list.push_back({item(R"({"orderId":{"S":"o)" + std::to_string(i) + R"("}})"), std::nullopt});
  auto r = tables_->batch_write_item(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::ddb_validation);
  EXPECT_NE(r.error().message.find("less than or equal to 25"), std::string::npos);
}

TEST_F(TablesTest, BatchGetItemReturnsFoundItemsAndLimitsTo100Keys) {
  create_orders();
  put("Orders", R"({"orderId":{"S":"o-1"},"v":{"N":"1"}})");
  put("Orders", R"({"orderId":{"S":"o-2"},"v":{"N":"2"}})");
  BatchGetItemRequest req;
  auto& ka = req.request_items["Orders"];
  ka.keys = {item(R"({"orderId":{"S":"o-1"}})"), item(R"({"orderId":{"S":"o-2"}})"),
             item(R"({"orderId":{"S":"o-3"}})")};
  ka.projection_expression = "v";
  auto r = tables_->batch_get_item(req);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->responses["Orders"].size(), 2u);
  EXPECT_EQ(json(r->responses["Orders"][0]), R"({"v":{"N":"1"}})");
  EXPECT_TRUE(r->unprocessed_keys.empty());
  ka.keys.clear();
  for (int i = 0; i < 101; ++i)
    ka.keys.push_back(item(R"({"orderId":{"S":"o)" + std::to_string(i) + R"("}})"));
  EXPECT_EQ(tables_->batch_get_item(req).error().message,
            "Too many items requested for the BatchGetItem call");
  ka.keys = {item(R"({"orderId":{"S":"o-1"}})"), item(R"({"orderId":{"S":"o-1"}})")};
  EXPECT_EQ(tables_->batch_get_item(req).error().message,
            "Provided list of item keys contains duplicates");
}

// ---------------------------------------------------------------- transactions

TransactWriteItem tx_put(std::string_view item_json, std::optional<std::string> cond = {}) {
  TransactWriteItem a;
  a.kind = TransactWriteItem::Kind::put;
  a.table_name = "Orders";
  a.item = item(item_json);
  a.condition_expression = std::move(cond);
  return a;
}

TEST_F(TablesTest, TransactWriteItemsIsAllOrNothing) {
  create_orders();
  put("Orders", R"({"orderId":{"S":"taken"},"v":{"N":"1"}})");
  TransactWriteItemsRequest req;
  req.transact_items.push_back(tx_put(R"({"orderId":{"S":"new"}})"));
  auto taken = tx_put(R"({"orderId":{"S":"taken"},"v":{"N":"2"}})", "attribute_not_exists(orderId)");
  taken.return_item_on_condition_failure = true;
  req.transact_items.push_back(taken);
  TransactWriteItem upd;
  upd.kind = TransactWriteItem::Kind::update;
  upd.table_name = "Orders";
  upd.item = item(R"({"orderId":{"S":"counter"}})");
  upd.update_expression = "ADD n :one";
  upd.attributes.values = values(R"({":one":{"N":"1"}})");
  req.transact_items.push_back(upd);

  auto r = tables_->transact_write_items(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, ErrorCode::transaction_canceled);
  EXPECT_EQ(r.error().error.message,
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            "[None, ConditionalCheckFailed, None]");
  ASSERT_EQ(r.error().cancellation_reasons.size(), 3u);
  EXPECT_EQ(r.error().cancellation_reasons[1].code, "ConditionalCheckFailed");
  ASSERT_TRUE(r.error().cancellation_reasons[1].item);
  EXPECT_EQ(json(*r.error().cancellation_reasons[1].item),
            R"({"orderId":{"S":"taken"},"v":{"N":"1"}})");
  EXPECT_FALSE(get("Orders", R"({"orderId":{"S":"new"}})"));
  EXPECT_FALSE(get("Orders", R"({"orderId":{"S":"counter"}})"));

  req.transact_items[1] = tx_put(R"({"orderId":{"S":"other"}})", "attribute_not_exists(orderId)");
  ASSERT_TRUE(tables_->transact_write_items(req));
  EXPECT_TRUE(get("Orders", R"({"orderId":{"S":"new"}})"));
  EXPECT_TRUE(get("Orders", R"({"orderId":{"S":"other"}})"));
  EXPECT_EQ(get("Orders", R"({"orderId":{"S":"counter"}})")->at("n"), ddb::N("1"));
  reopen();
  EXPECT_EQ(get("Orders", R"({"orderId":{"S":"counter"}})")->at("n"), ddb::N("1"));
}

TEST_F(TablesTest, TransactWriteItemsRejectsTwoActionsOnOneItem) {
  create_orders();
  TransactWriteItemsRequest req;
  req.transact_items.push_back(tx_put(R"({"orderId":{"S":"a"}})"));
  TransactWriteItem del;
  del.kind = TransactWriteItem::Kind::delete_;
  del.table_name = "Orders";
  del.item = item(R"({"orderId":{"S":"a"}})");
  req.transact_items.push_back(del);
  auto r = tables_->transact_write_items(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.message,
            "Transaction request cannot include multiple operations on one item");
}

TEST_F(TablesTest, TransactWriteItemsWithARepeatedTokenAppliesOnce) {
  create_orders();
  TransactWriteItemsRequest req;
  req.client_request_token = "token-1";
  TransactWriteItem upd;
  upd.kind = TransactWriteItem::Kind::update;
  upd.table_name = "Orders";
  upd.item = item(R"({"orderId":{"S":"c"}})");
  upd.update_expression = "ADD n :one";
  upd.attributes.values = values(R"({":one":{"N":"1"}})");
  req.transact_items.push_back(upd);
  ASSERT_TRUE(tables_->transact_write_items(req));
  ASSERT_TRUE(tables_->transact_write_items(req));
  EXPECT_EQ(get("Orders", R"({"orderId":{"S":"c"}})")->at("n"), ddb::N("1"));
  clock_.advance(std::chrono::minutes(11));
  ASSERT_TRUE(tables_->transact_write_items(req));
  EXPECT_EQ(get("Orders", R"({"orderId":{"S":"c"}})")->at("n"), ddb::N("2"));
}

TEST_F(TablesTest, TransactGetItemsReadsInRequestOrder) {
  create_orders();
  put("Orders", R"({"orderId":{"S":"a"},"v":{"N":"1"}})");
  TransactGetItemsRequest req;
  req.transact_items.push_back({"Orders", item(R"({"orderId":{"S":"missing"}})"), {}, {}});
  req.transact_items.push_back({"Orders", item(R"({"orderId":{"S":"a"}})"), "v", {}});
  auto r = tables_->transact_get_items(req);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->responses.size(), 2u);
  EXPECT_FALSE(r->responses[0]);
  EXPECT_EQ(json(*r->responses[1]), R"({"v":{"N":"1"}})");
}

// ---------------------------------------------------------------- durability

TEST_F(TablesTest, RestartRestoresTablesAndItems) {
  create_orders();
  create_events();
  put("Orders", R"({"orderId":{"S":"o-1"},"m":{"M":{"l":{"L":[{"N":"1.5"},{"BS":["AQ=="]}]}}}})");
  put("Orders", R"({"orderId":{"S":"o-2"}})");
  fill_events("a", 3);
  DeleteItemRequest del;
  del.table_name = "Orders";
  del.key = item(R"({"orderId":{"S":"o-2"}})");
  ASSERT_TRUE(tables_->delete_item(del));
  auto before = tables_->describe_table("Orders");
  ASSERT_TRUE(before);

  reopen();
  auto after = tables_->describe_table("Orders");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->table_id, before->table_id);
  EXPECT_EQ(after->creation_date_time, before->creation_date_time);
  EXPECT_EQ(after->item_count, 1u);
  EXPECT_EQ(after->table_size_bytes, before->table_size_bytes);
  EXPECT_EQ(json(*get("Orders", R"({"orderId":{"S":"o-1"}})")),
            R"({"m":{"M":{"l":{"L":[{"N":"1.5"},{"BS":["AQ=="]}]}}},"orderId":{"S":"o-1"}})");
  EXPECT_FALSE(get("Orders", R"({"orderId":{"S":"o-2"}})"));
  EXPECT_EQ(sort_keys(tables_->query(events_query("a"))->items),
            (std::vector<std::string>{"0", "1", "2"}));
  // A table created after the restart gets a fresh number: no stale items appear.
  ASSERT_TRUE(tables_->delete_table("Orders"));
  create_orders();
  reopen();
  EXPECT_EQ(tables_->describe_table("Orders")->item_count, 0u);
}

TEST_F(TablesTest, NewItemsAreStoredInWriteOrderAndAReplacedItemKeepsItsRow) {
  create_orders();
  for (const char* id : {"z", "a", "m"}) put("Orders", R"({"orderId":{"S":")" + std::string(id) + R"("}})");
  put("Orders", R"({"orderId":{"S":"a"},"v":{"N":"2"}})");  // replaced: keeps row 2
  DeleteItemRequest del;
  del.table_name = "Orders";
  del.key = item(R"({"orderId":{"S":"z"}})");
  ASSERT_TRUE(tables_->delete_item(del));
  put("Orders", R"({"orderId":{"S":"z"}})");  // put again after its delete: a new row
  put("Orders", R"({"orderId":{"S":"b"}})");
  reopen();
  auto rows = item_rows();
  ASSERT_EQ(rows.size(), 4u);
  std::uint64_t num = rows[0].table;
  EXPECT_EQ(rows, (std::vector<Row>{{num, 2, "a"}, {num, 3, "m"}, {num, 4, "z"}, {num, 5, "b"}}));
  EXPECT_EQ(json(*get("Orders", R"({"orderId":{"S":"a"}})")), R"({"orderId":{"S":"a"},"v":{"N":"2"}})");
  // Numbering goes on after a restart, above the highest row.
  put("Orders", R"({"orderId":{"S":"c"}})");
  reopen();
  rows = item_rows();
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows.back(), (Row{num, 6, "c"}));
  EXPECT_EQ(tables_->describe_table("Orders")->item_count, 5u);
}

// A data directory of schema version 1 (items keyed by table number + encoded primary key) is
// converted on open: every item is there, numbered in key order, and later writes persist.
TEST_F(TablesTest, AVersionOneDataDirectoryIsConvertedOnOpen) {
  create_orders();
  create_events();
  for (const char* id : {"o-3", "o-1", "o-2"})
    put("Orders", R"({"orderId":{"S":")" + std::string(id) + R"("},"n":{"N":"1"}})");
  fill_events("b", 2);
  fill_events("a", 2);
  auto before = tables_->scan(ScanRequest{.table_name = "Orders"});
  ASSERT_TRUE(before);
  auto table_size = tables_->describe_table("Events")->table_size_bytes;
  tables_.reset();
  store_.reset();
  {  // Rewrite the items as schema version 1 had them.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_.path() / "orderflow.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* sel = nullptr;
    sqlite3_stmt* ins = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT key, value FROM kv WHERE space=13", -1, &sel, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO kv(space, key, value) VALUES(7, ?1, ?2)", -1, &ins, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
    int converted = 0;
    while (sqlite3_step(sel) == SQLITE_ROW) {
      std::string key(static_cast<const char*>(sqlite3_column_blob(sel, 0)), sqlite3_column_bytes(sel, 0));
      std::string value(static_cast<const char*>(sqlite3_column_blob(sel, 1)), sqlite3_column_bytes(sel, 1));
      auto it = ddb::decode_item(value);
      ASSERT_TRUE(it);
      std::string old_key = key.substr(0, 8);
      if (it->contains("orderId")) {
        ddb::encode_key_value(it->at("orderId"), old_key);
      } else {
        ddb::encode_key_value(it->at("pk"), old_key);
        ddb::encode_key_value(it->at("sk"), old_key);
      }
      sqlite3_bind_blob(ins, 1, old_key.data(), static_cast<int>(old_key.size()), SQLITE_TRANSIENT);
      sqlite3_bind_blob(ins, 2, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
      ASSERT_EQ(sqlite3_step(ins), SQLITE_DONE);
      sqlite3_reset(ins);
      ++converted;
    }
    EXPECT_EQ(converted, 7);
    sqlite3_finalize(sel);
    sqlite3_finalize(ins);
    ASSERT_EQ(sqlite3_exec(db, "DELETE FROM kv WHERE space=13; UPDATE meta SET value='1' WHERE name='schema_version'; COMMIT",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  reopen();
  auto after = tables_->scan(ScanRequest{.table_name = "Orders"});
  ASSERT_TRUE(after);
  ASSERT_EQ(after->items.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(json(after->items[i]), json(before->items[i]));
  EXPECT_EQ(sort_keys(tables_->query(events_query("a"))->items), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(tables_->describe_table("Events")->table_size_bytes, table_size);
  auto rows = item_rows();
  ASSERT_EQ(rows.size(), 7u);
  std::vector<std::pair<std::uint64_t, std::string>> numbered;
  for (const auto& r : rows) numbered.emplace_back(r.row, r.key);
  EXPECT_EQ(numbered, (std::vector<std::pair<std::uint64_t, std::string>>{
                          {1, "o-1"}, {2, "o-2"}, {3, "o-3"}, {1, "a/0"}, {2, "a/1"}, {3, "b/0"}, {4, "b/1"}}));
  std::size_t legacy = 0;
  ASSERT_TRUE(store_->scan(Space::item, [&](std::string_view, std::string_view) { ++legacy; }));
  EXPECT_EQ(legacy, 0u);
  put("Orders", R"({"orderId":{"S":"o-0"}})");
  reopen();
  EXPECT_EQ(tables_->describe_table("Orders")->item_count, 4u);
  EXPECT_EQ(item_rows()[3], (Row{rows[0].table, 4, "o-0"}));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "orderflow.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name='schema_version'", -1, &q, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 0))), "2");
  sqlite3_finalize(q);
  sqlite3_close(db);
}

}  // namespace
}  // namespace orderflow::engine
