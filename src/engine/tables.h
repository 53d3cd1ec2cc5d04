// The embedded DynamoDB service: tables and their items, in memory, persisted in the Store.
//
// Operations take and return plain C++ structs; the only wire-level types are the
// AttributeValue / Item of engine/ddb/value.h (which the API adapter converts from and to JSON
// with ddb::item_from_json / ddb::to_json). Enum-valued request fields arrive as enums; the
// parse_* helpers below turn wire strings into them with DynamoDB's validation message.
//
// Errors are values: ErrorCode::ddb_validation (ValidationException), ddb_resource_not_found,
// ddb_resource_in_use, conditional_check_failed, transaction_canceled and
// ddb_internal_server_error (the store failed to commit). A failed call changes nothing.
//
// Durability: a mutating call returns only after its WriteBatch is durable. The in-memory
// change and Store::submit happen under one lock, so the order on disk is the order in memory;
// the wait for the commit happens outside the lock, so concurrent writers share group commits.
// A read may observe a write whose commit is still in flight (it is ordered before any later
// write on disk). If a commit fails the call fails (ddb_internal_server_error) and its batch is
// written by the next commit that succeeds (store.h).
//
// On-disk format: Space::table, key = table name, value = JSON metadata (name, num, id,
// created_ms, key schema, billing). Space::item, key = u64 big-endian table number + the
// order-preserving encoding of the hash key value [+ range key value] (ddb::encode_key_value),
// value = ddb::encode_item(item). Space::counter key "ddb.table_num" holds the next table
// number (u64 big-endian), so a re-created table never sees a dropped table's records.
//
// Thread-safety: every public method is thread-safe.
// Not supported: secondary indexes (IndexName), streams, TTL, tags, PartiQL, legacy
// (non-expression) parameters; the adapter rejects those with a ValidationException.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "engine/ddb/expr.h"
#include "engine/ddb/value.h"
#include "engine/store.h"

namespace orderflow::engine {

using ddb::AttributeValue;
using ddb::Item;
using ddb::NameMap;
using ddb::ValueMap;

enum class KeyType { hash, range };
enum class ScalarType { S, N, B };
enum class BillingMode { provisioned, pay_per_request };
enum class ReturnValues { none, all_old, updated_old, all_new, updated_new };
enum class Select { all_attributes, all_projected_attributes, specific_attributes, count };

// Wire string -> enum, failing with DynamoDB's "1 validation error detected: Value 'X' at
// '<field>' failed to satisfy constraint: Member must satisfy enum value set: [...]".
Result<KeyType> parse_key_type(std::string_view s);
Result<ScalarType> parse_scalar_type(std::string_view s);
Result<BillingMode> parse_billing_mode(std::string_view s);
Result<ReturnValues> parse_return_values(std::string_view s);
Result<Select> parse_select(std::string_view s);
// "ALL_OLD" -> true, "NONE" -> false.
Result<bool> parse_return_values_on_condition_check_failure(std::string_view s);
std::string_view to_string(KeyType t);      // "HASH" / "RANGE"
std::string_view to_string(ScalarType t);   // "S" / "N" / "B"
std::string_view to_string(BillingMode m);  // "PROVISIONED" / "PAY_PER_REQUEST"

struct KeySchemaElement {
  std::string attribute_name;
  KeyType key_type = KeyType::hash;
};
struct AttributeDefinition {
  std::string attribute_name;
  ScalarType attribute_type = ScalarType::S;
};
struct ProvisionedThroughput {
  std::int64_t read_capacity_units = 0;
  std::int64_t write_capacity_units = 0;
};

struct TableDescription {
  std::string table_name;
  std::string table_id;   // UUID
  std::string table_arn;  // arn:aws:dynamodb:<region>:000000000000:table/<name>
  std::vector<KeySchemaElement> key_schema;
  std::vector<AttributeDefinition> attribute_definitions;
  std::string table_status;  // "ACTIVE", or "DELETING" in DeleteTable's answer
  TimePoint creation_date_time;
  BillingMode billing_mode = BillingMode::provisioned;
  std::optional<TimePoint> last_update_to_pay_per_request_date_time;
  ProvisionedThroughput provisioned_throughput;  // 0/0 when PAY_PER_REQUEST
  std::uint64_t item_count = 0;
  std::uint64_t table_size_bytes = 0;
  bool deletion_protection_enabled = false;
};

// ---- table requests

struct CreateTableRequest {
  std::string table_name;
  std::vector<KeySchemaElement> key_schema;
  std::vector<AttributeDefinition> attribute_definitions;
  std::optional<BillingMode> billing_mode;  // default PROVISIONED
  std::optional<ProvisionedThroughput> provisioned_throughput;
  bool deletion_protection_enabled = false;
};

struct UpdateTableRequest {
  std::string table_name;
  std::optional<BillingMode> billing_mode;
  std::optional<ProvisionedThroughput> provisioned_throughput;
  std::optional<bool> deletion_protection_enabled;
};

struct ListTablesRequest {
  std::optional<std::string> exclusive_start_table_name;
  std::optional<int> limit;  // 1..100, default 100
};
struct ListTablesResponse {
  std::vector<std::string> table_names;
  std::optional<std::string> last_evaluated_table_name;
};

// ---- item requests

// Placeholders shared by every expression of one request.
struct ExpressionAttributes {
  std::optional<NameMap> names;
  std::optional<ValueMap> values;
};

struct PutItemRequest {
  std::string table_name;
  Item item;
  std::optional<std::string> condition_expression;
  ExpressionAttributes attributes;
  ReturnValues return_values = ReturnValues::none;  // NONE or ALL_OLD
  bool return_item_on_condition_failure = false;    // ReturnValuesOnConditionCheckFailure
};
struct WriteItemResponse {
  std::optional<Item> attributes;  // per ReturnValues; absent when there is nothing to return
};

struct GetItemRequest {
  std::string table_name;
  Item key;
  std::optional<std::string> projection_expression;
  std::optional<NameMap> names;
};
struct GetItemResponse {
  std::optional<Item> item;  // absent when no item has the key
};

struct DeleteItemRequest {
  std::string table_name;
  Item key;
  std::optional<std::string> condition_expression;
  ExpressionAttributes attributes;
  ReturnValues return_values = ReturnValues::none;  // NONE or ALL_OLD
  bool return_item_on_condition_failure = false;
};

struct UpdateItemRequest {
  std::string table_name;
  Item key;
  std::optional<std::string> update_expression;  // none: create the key-only item if missing
  std::optional<std::string> condition_expression;
  ExpressionAttributes attributes;
  ReturnValues return_values = ReturnValues::none;
  bool return_item_on_condition_failure = false;
};

struct QueryRequest {
  std::string table_name;
  std::string key_condition_expression;
  std::optional<std::string> filter_expression;
  std::optional<std::string> projection_expression;
  ExpressionAttributes attributes;
  std::optional<int> limit;  // items evaluated per page, >= 1
  std::optional<Item> exclusive_start_key;
  bool scan_index_forward = true;
  std::optional<Select> select;
};

struct ScanRequest {
  std::string table_name;
  std::optional<std::string> filter_expression;
  std::optional<std::string> projection_expression;
  ExpressionAttributes attributes;
  std::optional<int> limit;
  std::optional<Item> exclusive_start_key;
  std::optional<Select> select;
  std::optional<int> segment;         // 0 <= segment < total_segments; both or neither
  std::optional<int> total_segments;  // 1..1000000
};

// A page of Query/Scan results. A page stops after `limit` items were evaluated or 1 MB of
// items was read (before filtering); then last_evaluated_key is set (also when the limit is
// hit exactly at the end, as DynamoDB does) and is the ExclusiveStartKey of the next page.
struct QueryResponse {
  std::vector<Item> items;  // empty for Select COUNT
  std::uint64_t count = 0;          // items after the filter
  std::uint64_t scanned_count = 0;  // items evaluated before the filter
  std::optional<Item> last_evaluated_key;
};

struct WriteRequest {
  std::optional<Item> put_item;    // PutRequest.Item
  std::optional<Item> delete_key;  // DeleteRequest.Key
};
struct BatchWriteItemRequest {
  std::map<std::string, std::vector<WriteRequest>> request_items;  // table -> requests (<= 25)
};
struct BatchWriteItemResponse {
  std::map<std::string, std::vector<WriteRequest>> unprocessed_items;  // always empty here
};

struct KeysAndAttributes {
  std::vector<Item> keys;
  std::optional<std::string> projection_expression;
  std::optional<NameMap> names;
};
struct BatchGetItemRequest {
  std::map<std::string, KeysAndAttributes> request_items;  // <= 100 keys in total
};
struct BatchGetItemResponse {
  std::map<std::string, std::vector<Item>> responses;
  std::map<std::string, KeysAndAttributes> unprocessed_keys;  // past 16 MB of results
};

struct TransactWriteItem {
  enum class Kind { condition_check, put, delete_, update };
  Kind kind = Kind::put;
  std::string table_name;
  Item item;  // put: the item; others: the key
  std::optional<std::string> update_expression;
  std::optional<std::string> condition_expression;
  ExpressionAttributes attributes;
  bool return_item_on_condition_failure = false;
};
struct TransactWriteItemsRequest {
  std::vector<TransactWriteItem> transact_items;  // 1..100
  std::optional<std::string> client_request_token;
};

struct TransactGetItem {
  std::string table_name;
  Item key;
  std::optional<std::string> projection_expression;
  std::optional<NameMap> names;
};
struct TransactGetItemsRequest {
  std::vector<TransactGetItem> transact_items;  // 1..100
};
struct TransactGetItemsResponse {
  std::vector<std::optional<Item>> responses;  // in request order; nullopt = no such item
};

// ---- errors with details

struct CancellationReason {
  std::string code;  // "None", "ConditionalCheckFailed", "ValidationError"
  std::optional<std::string> message;
  std::optional<Item> item;
};

// An Error plus what some DynamoDB errors carry: the current item for
// ConditionalCheckFailedException when ReturnValuesOnConditionCheckFailure=ALL_OLD, and the
// per-action reasons (in request order) of TransactionCanceledException.
struct TableError {
  Error error;
  std::optional<Item> item;
  std::vector<CancellationReason> cancellation_reasons;
};
template <class T>
using TableResult = std::expected<T, TableError>;

struct TablesOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
};

class Tables {
 public:
  // Loads every table and item from `store`. `store` and `clock` must outlive the Tables.
  // Fails when a record is corrupt or the store cannot be read.
  static Result<std::unique_ptr<Tables>> open(Store& store, Clock& clock,
                                              TablesOptions options = {});
  ~Tables();
  Tables(const Tables&) = delete;
  Tables& operator=(const Tables&) = delete;

  Result<TableDescription> create_table(const CreateTableRequest& req);
  Result<TableDescription> describe_table(std::string_view table_name);
  Result<TableDescription> update_table(const UpdateTableRequest& req);
  // Removes the table and all its items; returns the description with status DELETING.
  Result<TableDescription> delete_table(std::string_view table_name);
  Result<ListTablesResponse> list_tables(const ListTablesRequest& req);

  TableResult<WriteItemResponse> put_item(const PutItemRequest& req);
  // put_item without waiting for the disk: `done` runs once the outcome is known, on the
  // calling thread for a request that fails or whose condition fails, else on the store's
  // thread once the write is durable; never with a lock of this Tables held. It should be
  // quick (it holds up the store's acknowledgements).
  using WriteCallback = std::function<void(TableResult<WriteItemResponse>)>;
  void put_item_async(const PutItemRequest& req, WriteCallback done);
  Result<GetItemResponse> get_item(const GetItemRequest& req);
  TableResult<WriteItemResponse> delete_item(const DeleteItemRequest& req);
  TableResult<WriteItemResponse> update_item(const UpdateItemRequest& req);
  Result<QueryResponse> query(const QueryRequest& req);
  Result<QueryResponse> scan(const ScanRequest& req);
  Result<BatchWriteItemResponse> batch_write_item(const BatchWriteItemRequest& req);
  Result<BatchGetItemResponse> batch_get_item(const BatchGetItemRequest& req);
  // All or nothing, in one store batch: every condition is checked first; if any fails
  // nothing is written and the error is TransactionCanceledException with one reason per
  // action. A repeated client_request_token within 10 minutes succeeds without writing again.
  TableResult<std::monostate> transact_write_items(const TransactWriteItemsRequest& req);
  Result<TransactGetItemsResponse> transact_get_items(const TransactGetItemsRequest& req);

 private:
  struct Impl;
  explicit Tables(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderflow::engine
