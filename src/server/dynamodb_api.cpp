#include "server/dynamodb_api.h"
#include "server/wire.h"
#include "common/await.h"

#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace orderflow::server {

namespace json = boost::json;
using engine::Item;


namespace {

// ---------------------------------------------------------------- responses

// An error plus the members some DynamoDB errors carry besides the message.
struct Failure {
  Error error;
  json::object extra;
};
using Outcome = std::expected<json::object, Failure>;
using Reply = std::function<void(Outcome)>;

std::unexpected<Failure> failure(Error e) { return std::unexpected(Failure{std::move(e), {}}); }
std::unexpected<Failure> validation(std::string message) {
  return failure(Error{ErrorCode::ddb_validation, std::move(message)});
}

ApiResponse respond(int status, std::string body) {
  ApiResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/x-amz-json-1.0");
  r.headers.emplace_back("x-amz-crc32", std::to_string(crc32(body)));
  r.body = std::move(body);
  return r;
}

// DynamoDB spells the message key "Message" for these errors and "message" for the rest.
bool capital_message(ErrorCode code) {
  return code == ErrorCode::transaction_canceled || code == ErrorCode::serialization_exception;
}

ApiResponse error_response(const Failure& f) {
  const ErrorInfo& info = f.error.info();
  json::object o;
  o["__type"] = info.json_type;
  if (!f.error.message.empty())
    o[capital_message(f.error.code) ? "Message" : "message"] = valid_utf8(f.error.message);
  for (const auto& kv : f.extra) o[kv.key()] = kv.value();
  return respond(info.http_status, json::serialize(o));
}

// ---------------------------------------------------------------- reading the request

std::string lower_first(std::string_view s) {
  std::string out(s);
  if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z')
    out[0] = static_cast<char>(out[0] - 'A' + 'a');
  return out;
}

// What is wrong with a request (server/wire.h), reported under ddb_validation.
struct Problems : RequestProblems {
  Problems() : RequestProblems(ErrorCode::ddb_validation) {}
};

std::string java_number_class(const json::value& v) {
  if (v.is_double()) return "java.lang.Double";
  if (v.is_int64()) {
    auto n = v.get_int64();
    if (n >= -32768 && n <= 32767) return "java.lang.Short";
    if (n >= std::numeric_limits<std::int32_t>::min() &&
        n <= std::numeric_limits<std::int32_t>::max())
      return "java.lang.Integer";
  }
  return "java.lang.Long";
}

// Typed access to the members of one JSON object (the request or a nested structure), in the
// manner of DynamoDB's deserializer: absent and null members read as nullopt; a member of the
// wrong JSON type is a SerializationException.
class Fields {
 public:
  Fields(const json::object* o, Problems& p, std::string prefix = {})
      : o_(o), p_(p), prefix_(std::move(prefix)) {}

  std::string path(std::string_view key) const { return prefix_ + lower_first(key); }

  const json::value* raw(std::string_view key) const {
    if (o_ == nullptr) return nullptr;
    const json::value* v = o_->if_contains(key);
    return v == nullptr || v->is_null() ? nullptr : v;
  }

  void require(std::string_view key) {
    if (raw(key) == nullptr) p_.violate("null", path(key), "Member must not be null");
  }

  std::optional<std::string> str(std::string_view key, bool required = false) {
    if (required) require(key);
    const json::value* v = raw(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_bool())
      serialization("class java.lang.Boolean can not be converted to an String");
    else if (v->is_number())
      serialization("class " + java_number_class(*v) + " can not be converted to an String");
    else
      structural(*v);
    return std::nullopt;
  }

  // A JSON number read as the Java `type` ("Integer" or "Long"); fractions are truncated.
  std::optional<std::int64_t> integer(std::string_view key, std::string_view type = "Integer",
                                      bool required = false) {
    if (required) require(key);
    const json::value* v = raw(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_bool()) {
      serialization("class java.lang.Boolean can not be converted to an " + std::string(type));
      return std::nullopt;
    }
    if (v->is_string()) {
      serialization("class java.lang.String can not be converted to an " + std::string(type));
      return std::nullopt;
    }
    if (!v->is_number()) {
      structural(*v);
      return std::nullopt;
    }
    double lo =
        type == "Integer" ? std::numeric_limits<std::int32_t>::min() : -9.2233720368547758e18;
    double hi =
        type == "Integer" ? std::numeric_limits<std::int32_t>::max() : 9.2233720368547748e18;
    double d = v->is_double()  ? v->get_double()
               : v->is_int64() ? static_cast<double>(v->get_int64())
                               : static_cast<double>(v->get_uint64());
    if (!(d >= lo && d <= hi)) {
      serialization("Numeric value (" + json::serialize(*v) + ") out of range of " +
                    (type == "Integer" ? "int" : "long"));
      return std::nullopt;
    }
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    return static_cast<std::int64_t>(std::trunc(d));
  }

  std::optional<bool> boolean(std::string_view key) {
    const json::value* v = raw(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_bool()) return v->get_bool();
    if (v->is_string()) {
      std::string up(v->get_string());
      for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      serialization("'" + up + "' can not be converted to an Boolean");
    } else if (v->is_number()) {
      serialization("class " + java_number_class(*v) + " can not be converted to an Boolean");
    } else {
      structural(*v);
    }
    return std::nullopt;
  }

  // A structure member (fixed members).
  const json::object* structure(std::string_view key, bool required = false) {
    return object(key, "Expected null", required);
  }
  // A map member (free-form keys).
  const json::object* map(std::string_view key, bool required = false) {
    return object(key, "Expected map or null", required);
  }

  const json::array* list(std::string_view key, bool required = false) {
    if (required) require(key);
    const json::value* v = raw(key);
    if (v == nullptr) return nullptr;
    if (v->is_array()) return &v->get_array();
    if (v->is_object())
      serialization("Start of structure or map found where not expected.");
    else
      serialization("Expected list or null");
    return nullptr;
  }

  // A map of attribute name -> AttributeValue (Item, Key, ExclusiveStartKey, ...).
  std::optional<Item> item(std::string_view key, bool required = false) {
    const json::object* o = map(key, required);
    if (o == nullptr) return std::nullopt;
    auto parsed = engine::ddb::item_from_json(*raw(key));
    if (!parsed) {
      p_.set_fatal(parsed.error());
      return std::nullopt;
    }
    return std::move(*parsed);
  }

  std::optional<engine::NameMap> names(std::string_view key) {
    const json::object* o = map(key);
    if (o == nullptr) return std::nullopt;
    engine::NameMap out;
    Fields inner(o, p_, path(key) + ".");
    for (const auto& kv : *o) {
      auto s = inner.str(kv.key());
      if (s) out.emplace(std::string(kv.key()), std::move(*s));
    }
    return out;
  }

  std::optional<engine::ValueMap> values(std::string_view key) { return item(key); }

  // A string member that must be one of `allowed`.
  std::optional<std::string> enumeration(std::string_view key,
                                         std::initializer_list<std::string_view> allowed,
                                         bool required = false) {
    auto s = str(key, required);
    if (!s) return std::nullopt;
    std::string set;
    for (auto a : allowed) {
      if (a == *s) return s;
      set += (set.empty() ? "" : ", ") + std::string(a);
    }
    p_.violate("'" + *s + "'", path(key), "Member must satisfy enum value set: [" + set + "]");
    return std::nullopt;
  }

  // Members the engine does not implement: present (non-null) is a ValidationException.
  void unsupported(std::initializer_list<std::string_view> keys) {
    for (auto k : keys) {
      if (raw(k) != nullptr)
        p_.set_fatal(Error{
            ErrorCode::ddb_validation,
            "The parameter '" + std::string(k) + "' is not supported by orderflow's DynamoDB"});
    }
  }

  Problems& problems() { return p_; }

 private:
  const json::object* object(std::string_view key, std::string_view scalar_message, bool required) {
    if (required) require(key);
    const json::value* v = raw(key);
    if (v == nullptr) return nullptr;
    if (v->is_object()) return &v->get_object();
    if (v->is_array())
      serialization("Start of list found where not expected");
    else
      serialization(std::string(scalar_message));
    return nullptr;
  }

  void structural(const json::value& v) {
    if (v.is_array())
      serialization("Start of list found where not expected");
    else
      serialization("Start of structure or map found where not expected.");
  }

  void serialization(std::string message) {
    p_.set_fatal(Error{ErrorCode::serialization_exception, std::move(message)});
  }

  const json::object* o_;
  Problems& p_;
  std::string prefix_;
};

// The JSON object of a list element that must be a structure; nullptr (and a problem) if not.
const json::object* element_structure(const json::value& v, Problems& p) {
  if (v.is_object()) return &v.get_object();
  if (v.is_null()) return nullptr;
  p.set_fatal(Error{ErrorCode::serialization_exception,
                    v.is_array() ? "Start of list found where not expected" : "Expected null"});
  return nullptr;
}

// ---------------------------------------------------------------- consumed capacity

enum class CapacityMode { none, total, indexes };

struct Capacity {
  CapacityMode mode = CapacityMode::none;
  std::map<std::string, double> units;  // table -> capacity units, in table order

  void add(const std::string& table, double u) { units[table] += u; }

  json::object one(const std::string& table, double u) const {
    json::object o;
    o["TableName"] = table;
    o["CapacityUnits"] = u;
    if (mode == CapacityMode::indexes) o["Table"] = json::object{{"CapacityUnits", u}};
    return o;
  }
  // Single-table operations: "ConsumedCapacity": {...}.
  void put_single(json::object& out) const {
    if (mode == CapacityMode::none || units.empty()) return;
    out["ConsumedCapacity"] = one(units.begin()->first, units.begin()->second);
  }
  // Batch and transaction operations: "ConsumedCapacity": [{...}, ...].
  void put_list(json::object& out) const {
    if (mode == CapacityMode::none) return;
    json::array a;
    for (const auto& [t, u] : units) a.push_back(one(t, u));
    out["ConsumedCapacity"] = std::move(a);
  }
};

std::optional<CapacityMode> read_capacity_mode(Fields& f) {
  auto s = f.enumeration("ReturnConsumedCapacity", {"INDEXES", "TOTAL", "NONE"});
  if (!s || *s == "NONE") return CapacityMode::none;
  return *s == "TOTAL" ? CapacityMode::total : CapacityMode::indexes;
}

double write_units(std::size_t bytes) {
  return std::max<double>(1.0, std::ceil(static_cast<double>(bytes) / 1024.0));
}
double read_units(std::size_t bytes, bool consistent) {
  double u = std::max<double>(1.0, std::ceil(static_cast<double>(bytes) / 4096.0));
  return consistent ? u : u / 2;
}

// ---------------------------------------------------------------- rendering

json::value epoch_seconds(TimePoint t) { return static_cast<double>(to_epoch_ms(t)) / 1000.0; }

json::object describe(const engine::TableDescription& d) {
  json::object o;
  json::array defs;
  for (const auto& a : d.attribute_definitions)
    defs.push_back(
        json::object{{"AttributeName", a.attribute_name},
                     {"AttributeType", std::string(engine::to_string(a.attribute_type))}});
  o["AttributeDefinitions"] = std::move(defs);
  o["TableName"] = d.table_name;
  json::array keys;
  for (const auto& k : d.key_schema)
    keys.push_back(json::object{{"AttributeName", k.attribute_name},
                                {"KeyType", std::string(engine::to_string(k.key_type))}});
  o["KeySchema"] = std::move(keys);
  o["TableStatus"] = d.table_status;
  o["CreationDateTime"] = epoch_seconds(d.creation_date_time);
  o["ProvisionedThroughput"] =
      json::object{{"NumberOfDecreasesToday", 0},
                   {"ReadCapacityUnits", d.provisioned_throughput.read_capacity_units},
                   {"WriteCapacityUnits", d.provisioned_throughput.write_capacity_units}};
  o["TableSizeBytes"] = d.table_size_bytes;
  o["ItemCount"] = d.item_count;
  o["TableArn"] = d.table_arn;
  o["TableId"] = d.table_id;
  json::object billing{{"BillingMode", std::string(engine::to_string(d.billing_mode))}};
  if (d.last_update_to_pay_per_request_date_time)
    billing["LastUpdateToPayPerRequestDateTime"] =
        epoch_seconds(*d.last_update_to_pay_per_request_date_time);
  o["BillingModeSummary"] = std::move(billing);
  o["DeletionProtectionEnabled"] = d.deletion_protection_enabled;
  return o;
}

json::value items_json(const std::vector<Item>& items) {
  json::array a;
  a.reserve(items.size());
  for (const auto& i : items) a.push_back(engine::ddb::to_json(i));
  return a;
}

json::object names_json(const engine::NameMap& names) {
  json::object o;
  for (const auto& [k, v] : names) o[k] = v;
  return o;
}

// Failure of an engine call that reports TableError (with item / cancellation reasons).
Failure table_failure(const engine::TableError& e) {
  Failure f{e.error, {}};
  if (e.item) f.extra["Item"] = engine::ddb::to_json(*e.item);
  if (e.error.code == ErrorCode::transaction_canceled) {
    json::array reasons;
    for (const auto& r : e.cancellation_reasons) {
      json::object o{{"Code", r.code}};
      if (r.message) o["Message"] = *r.message;
      if (r.item) o["Item"] = engine::ddb::to_json(*r.item);
      reasons.push_back(std::move(o));
    }
    f.extra["CancellationReasons"] = std::move(reasons);
  }
  return f;
}

template <class T>
std::unexpected<Failure> engine_failure(const Result<T>& r) {
  return failure(r.error());
}

// ---------------------------------------------------------------- shared request pieces

engine::ReturnValues return_values(Fields& f) {
  auto s =
      f.enumeration("ReturnValues", {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"});
  if (!s) return engine::ReturnValues::none;
  auto r = engine::parse_return_values(*s);
  return r ? *r : engine::ReturnValues::none;
}

bool return_item_on_failure(Fields& f) {
  auto s = f.enumeration("ReturnValuesOnConditionCheckFailure", {"ALL_OLD", "NONE"});
  return s && *s == "ALL_OLD";
}

engine::ExpressionAttributes expression_attributes(Fields& f) {
  engine::ExpressionAttributes a;
  a.names = f.names("ExpressionAttributeNames");
  a.values = f.values("ExpressionAttributeValues");
  return a;
}

void read_item_collection_metrics(Fields& f) {
  f.enumeration("ReturnItemCollectionMetrics", {"SIZE", "NONE"});
}

std::optional<engine::ProvisionedThroughput> provisioned_throughput(Fields& f) {
  const json::object* o = f.structure("ProvisionedThroughput");
  if (o == nullptr) return std::nullopt;
  Fields pt(o, f.problems(), f.path("ProvisionedThroughput") + ".");
  auto r = pt.integer("ReadCapacityUnits", "Long", true);
  auto w = pt.integer("WriteCapacityUnits", "Long", true);
  if (!r || !w) return std::nullopt;
  return engine::ProvisionedThroughput{*r, *w};
}

std::optional<engine::BillingMode> billing_mode(Fields& f) {
  auto s = f.enumeration("BillingMode", {"PROVISIONED", "PAY_PER_REQUEST"});
  if (!s) return std::nullopt;
  auto m = engine::parse_billing_mode(*s);
  return m ? std::optional(*m) : std::nullopt;
}

// Finishes reading: the problems as a failure, if any.
std::optional<Failure> check(const Problems& p) {
  if (p.ok()) return std::nullopt;
  return Failure{p.error(), {}};
}

// ---------------------------------------------------------------- tables

Outcome create_table(engine::Tables& tables, Fields& f) {
  engine::CreateTableRequest req;
  auto name = f.str("TableName", true);
  Problems& p = f.problems();
  if (const json::array* a = f.list("AttributeDefinitions", true)) {
    std::size_t i = 0;
    for (const auto& v : *a) {
      ++i;
      Fields e(element_structure(v, p), p,
               "attributeDefinitions." + std::to_string(i) + ".member.");
      auto n = e.str("AttributeName", true);
      auto t = e.enumeration("AttributeType", {"B", "S", "N"}, true);
      engine::AttributeDefinition d;
      if (n) d.attribute_name = *n;
      if (t) d.attribute_type = *engine::parse_scalar_type(*t);
      req.attribute_definitions.push_back(std::move(d));
    }
  }
  if (const json::array* a = f.list("KeySchema", true)) {
    std::size_t i = 0;
    for (const auto& v : *a) {
      ++i;
      Fields e(element_structure(v, p), p, "keySchema." + std::to_string(i) + ".member.");
      auto n = e.str("AttributeName", true);
      auto t = e.enumeration("KeyType", {"HASH", "RANGE"}, true);
      engine::KeySchemaElement k;
      if (n) k.attribute_name = *n;
      if (t) k.key_type = *engine::parse_key_type(*t);
      req.key_schema.push_back(std::move(k));
    }
  }
  req.billing_mode = billing_mode(f);
  req.provisioned_throughput = provisioned_throughput(f);
  req.deletion_protection_enabled = f.boolean("DeletionProtectionEnabled").value_or(false);
  for (std::string_view k : {"GlobalSecondaryIndexes", "LocalSecondaryIndexes"}) {
    const json::array* a = f.list(k);
    if (a != nullptr && !a->empty())
      p.set_fatal(Error{
          ErrorCode::ddb_validation,
          "Secondary indexes (" + std::string(k) + ") are not supported by orderflow's DynamoDB"});
  }
  if (const json::object* s = f.structure("StreamSpecification")) {
    Fields sf(s, p, "streamSpecification.");
    if (sf.boolean("StreamEnabled").value_or(false))
      p.set_fatal(
          Error{ErrorCode::ddb_validation, "Streams are not supported by orderflow's DynamoDB"});
  }
  f.list("Tags");  // accepted (type-checked) and not kept
  f.structure("SSESpecification");
  f.str("TableClass");
  if (auto bad = check(p)) return std::unexpected(*bad);
  req.table_name = *name;
  auto r = tables.create_table(req);
  if (!r) return engine_failure(r);
  return json::object{{"TableDescription", describe(*r)}};
}

Outcome describe_table(engine::Tables& tables, Fields& f) {
  auto name = f.str("TableName", true);
  if (auto bad = check(f.problems())) return std::unexpected(*bad);
  auto r = tables.describe_table(*name);
  if (!r) return engine_failure(r);
  return json::object{{"Table", describe(*r)}};
}

Outcome delete_table(engine::Tables& tables, Fields& f) {
  auto name = f.str("TableName", true);
  if (auto bad = check(f.problems())) return std::unexpected(*bad);
  auto r = tables.delete_table(*name);
  if (!r) return engine_failure(r);
  return json::object{{"TableDescription", describe(*r)}};
}

Outcome update_table(engine::Tables& tables, Fields& f) {
  engine::UpdateTableRequest req;
  auto name = f.str("TableName", true);
  req.billing_mode = billing_mode(f);
  req.provisioned_throughput = provisioned_throughput(f);
  req.deletion_protection_enabled = f.boolean("DeletionProtectionEnabled");
  f.unsupported({"GlobalSecondaryIndexUpdates", "AttributeDefinitions", "StreamSpecification",
                 "SSESpecification", "ReplicaUpdates", "TableClass"});
  if (auto bad = check(f.problems())) return std::unexpected(*bad);
  req.table_name = *name;
  auto r = tables.update_table(req);
  if (!r) return engine_failure(r);
  return json::object{{"TableDescription", describe(*r)}};
}

Outcome list_tables(engine::Tables& tables, Fields& f) {
  engine::ListTablesRequest req;
  req.exclusive_start_table_name = f.str("ExclusiveStartTableName");
  if (auto l = f.integer("Limit")) req.limit = static_cast<int>(*l);
  if (auto bad = check(f.problems())) return std::unexpected(*bad);
  auto r = tables.list_tables(req);
  if (!r) return engine_failure(r);
  json::array names;
  for (const auto& n : r->table_names) names.push_back(json::string(n));
  json::object out;
  if (r->last_evaluated_table_name) out["LastEvaluatedTableName"] = *r->last_evaluated_table_name;
  out["TableNames"] = std::move(names);
  return out;
}

// ---------------------------------------------------------------- single items

// Answers through `done` once the write is durable (on the store's thread), so that no thread
// waits for the disk.
void put_item(engine::Tables& tables, Fields& f, Reply done) {
  engine::PutItemRequest req;
  auto name = f.str("TableName", true);
  auto item = f.item("Item", true);
  req.condition_expression = f.str("ConditionExpression");
  req.attributes = expression_attributes(f);
  req.return_values = return_values(f);
  req.return_item_on_condition_failure = return_item_on_failure(f);
  Capacity cap{read_capacity_mode(f).value_or(CapacityMode::none), {}};
  read_item_collection_metrics(f);
  f.unsupported({"Expected", "ConditionalOperator"});
  if (auto bad = check(f.problems())) return done(std::unexpected(*bad));
  req.table_name = *name;
  req.item = std::move(*item);
  cap.add(req.table_name, write_units(engine::ddb::item_size(req.item)));
  tables.put_item_async(req, [cap = std::move(cap), done = std::move(done)](
                                 const engine::TableResult<engine::WriteItemResponse>& r) {
    if (!r) return done(std::unexpected(table_failure(r.error())));
    json::object out;
    if (r->attributes) out["Attributes"] = engine::ddb::to_json(*r->attributes);
    cap.put_single(out);
    done(std::move(out));
  });
}

Outcome get_item(engine::Tables& tables, Fields& f) {
  engine::GetItemRequest req;
  auto name = f.str("TableName", true);
  auto key = f.item("Key", true);
  req.projection_expression = f.str("ProjectionExpression");
  req.names = f.names("ExpressionAttributeNames");
  bool consistent = f.boolean("ConsistentRead").value_or(false);
  Capacity cap{read_capacity_mode(f).value_or(CapacityMode::none), {}};
  f.unsupported({"AttributesToGet"});
  if (auto bad = check(f.problems())) return std::unexpected(*bad);
  req.table_name = *name;
  req.key = std::move(*key);
  auto r = tables.get_item(req);
  if (!r) return engine_failure(r);
  json::object out;
  if (r->item) out["Item"] = engine::ddb::to_json(*r->item);
  cap.add(req.table_name, read_units(r->item ? engine::ddb::item_size(*r->item) : 0, consistent));
  cap.put_single(out);
  return out;
}

Outcome delete_item(engine::Tables& tables, Fields& f) {
  engine::DeleteItemRequest req;
  auto name = f.str("TableName", true);
  auto key = f.item("Key", true);
  req.condition_expression = f.str("ConditionExpression");
  req.attributes = expression_attributes(f);
  req.return_values = return_values(f);
  req.return_item_on_condition_failure = return_item_on_failure(f);
  Capacity cap{read_capacity_mode(f).value_or(CapacityMode::none), {}};
  read_item_collection_metrics(f);
  f.unsupported({"Expected", "ConditionalOperator"});
  if (auto bad = check(f.problems())) return std::unexpected(*bad);
  req.table_name = *name;
  req.key = std::move(*key);
  auto r = tables.delete_item(req);
  if (!r) return std::unexpected(table_failure(r.error()));
  json::object out;
  if (r->attributes) out["Attributes"] = engine::ddb::to_json(*r->attributes);
  cap.add(req.table_name, write_units(r->attributes ? engine::ddb::item_size(*r->attributes) : 0));
  cap.put_single(out);
  return out;
}

Outcome update_item(engine::Tables& tables, Fields& f) {
  engine::UpdateItemRequest req;
  auto name = f.str("TableName", true);
  auto key = f.item("Key", true);
  req.update_expression = f.str("UpdateExpression");
  req.condition_expression = f.str("ConditionExpression");
  req.attributes = expression_attributes(f);
  req.return_values = return_values(f);
  req.return_item_on_condition_failure = return_item_on_failure(f);
  Capacity cap{read_capacity_mode(f).value_or(CapacityMode::none), {}};
  read_item_collection_metrics(f);
  f.unsupported({"AttributeUpdates", "Expected", "ConditionalOperator"});
  if (auto bad = check(f.problems())) return std::unexpected(*bad);
  req.table_name = *name;
  req.key = std::move(*key);
  std::size_t size = engine::ddb::item_size(req.key);
  auto r = tables.update_item(req);
  if (!r) return std::unexpected(table_failure(r.error()));
  json::object out;
  if (r->attributes) out["Attributes"] = engine::ddb::to_json(*r->attributes);
  cap.add(req.table_name, write_units(size));
  cap.put_single(out);
  return out;
}

// ---------------------------------------------------------------- query / scan

std::optional<engine::Select> select(Fields& f) {
  auto s = f.enumeration(
      "Select", {"ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"});
  if (!s) return std::nullopt;
  auto r = engine::parse_select(*s);
  return r ? std::optional(*r) : std::nullopt;
}

json::object page_json(const engine::QueryResponse& r, bool count_only) {
  json::object out;
  out["Count"] = r.count;
  if (!count_only) out["Items"] = items_json(r.items);
  if (r.last_evaluated_key) out["LastEvaluatedKey"] = engine::ddb::to_json(*r.last_evaluated_key);
  out["ScannedCount"] = r.scanned_count;
  return out;
}

std::size_t items_size(const std::vector<Item>& items) {
  std::size_t n = 0;
  for (const auto& i : items) n += engine::ddb::item_size(i);
  return n;
}

Outcome query(engine::Tables& tables, Fields& f) {
  engine::QueryRequest req;
  auto name = f.str("TableName", true);
  auto kce = f.str("KeyConditionExpression");
  req.filter_expression = f.str("FilterExpression");
  req.projection_expression = f.str("ProjectionExpression");
  req.attributes = expression_attributes(f);
  if (auto l = f.integer("Limit")) req.limit = static_cast<int>(*l);
  req.exclusive_start_key = f.item("ExclusiveStartKey");
  req.scan_index_forward = f.boolean("ScanIndexForward").value_or(true);
  req.select = select(f);
  bool consistent = f.boolean("ConsistentRead").value_or(false);
  Capacity cap{read_capacity_mode(f).value_or(CapacityMode::none), {}};
  f.unsupported(
      {"IndexName", "KeyConditions", "QueryFilter", "AttributesToGet", "ConditionalOperator"});
  if (auto bad = check(f.problems())) return std::unexpected(*bad);
  if (!kce)
    return validation(
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
        "request.");
  req.table_name = *name;
  req.key_condition_expression = *kce;
  auto r = tables.query(req);
  if (!r) return engine_failure(r);
  json::object out = page_json(*r, req.select == engine::Select::count);
  cap.add(req.table_name, read_units(items_size(r->items), consistent));
  cap.put_single(out);
  return out;
}

Outcome scan(engine::Tables& tables, Fields& f) {
  engine::ScanRequest req;
  auto name = f.str("TableName", true);
  req.filter_expression = f.str("FilterExpression");
  req.projection_expression = f.str("ProjectionExpression");
  req.attributes = expression_attributes(f);
  if (auto l = f.integer("Limit")) req.limit = static_cast<int>(*l);
  req.exclusive_start_key = f.item("ExclusiveStartKey");
  req.select = select(f);
  if (auto s = f.integer("Segment")) req.segment = static_cast<int>(*s);
  if (auto s = f.integer("TotalSegments")) req.total_segments = static_cast<int>(*s);
  bool consistent = f.boolean("ConsistentRead").value_or(false);
  Capacity cap{read_capacity_mode(f).value_or(CapacityMode::none), {}};
  f.unsupported({"IndexName", "ScanFilter", "AttributesToGet", "ConditionalOperator"});
  if (auto bad = check(f.problems())) return std::unexpected(*bad);
  req.table_name = *name;
  auto r = tables.scan(req);
  if (!r) return engine_failure(r);
  json::object out = page_json(*r, req.select == engine::Select::count);
  cap.add(req.table_name, read_units(items_size(r->items), consistent));
  cap.put_single(out);
  return out;
}

// ---------------------------------------------------------------- batches

Outcome batch_write_item(engine::Tables& tables, Fields& f) {
  engine::BatchWriteItemRequest req;
  Problems& p = f.problems();
  const json::object* items = f.map("RequestItems", true);
  Capacity cap{read_capacity_mode(f).value_or(CapacityMode::none), {}};
  read_item_collection_metrics(f);
  std::map<std::string, double> units;
  if (items != nullptr) {
    for (const auto& kv : *items) {
      std::string table(kv.key());
      Fields tf(items, p, "requestItems.");
      const json::array* writes = tf.list(kv.key());
      auto& list = req.request_items[table];
      if (writes == nullptr) continue;
      for (const auto& w : *writes) {
        Fields wf(element_structure(w, p), p);
        engine::WriteRequest out;
        if (const json::object* put = wf.structure("PutRequest")) {
          Fields pf(put, p);
          out.put_item = pf.item("Item", true);
          if (out.put_item) units[table] += write_units(engine::ddb::item_size(*out.put_item));
        }
        if (const json::object* del = wf.structure("DeleteRequest")) {
          Fields df(del, p);
          out.delete_key = df.item("Key", true);
          units[table] += 1;
        }
        list.push_back(std::move(out));
      }
    }
  }
  if (auto bad = check(p)) return std::unexpected(*bad);
  auto r = tables.batch_write_item(req);
  if (!r) return engine_failure(r);
  json::object unprocessed;
  for (const auto& [table, writes] : r->unprocessed_items) {
    json::array a;
    for (const auto& w : writes) {
      if (w.put_item)
        a.push_back(json::object{
            {"PutRequest", json::object{{"Item", engine::ddb::to_json(*w.put_item)}}}});
      else if (w.delete_key)
        a.push_back(json::object{
            {"DeleteRequest", json::object{{"Key", engine::ddb::to_json(*w.delete_key)}}}});
    }
    unprocessed[table] = std::move(a);
  }
  json::object out;
  for (const auto& [t, u] : units) cap.add(t, u);
  cap.put_list(out);
  out["UnprocessedItems"] = std::move(unprocessed);
  return out;
}

Outcome batch_get_item(engine::Tables& tables, Fields& f) {
  engine::BatchGetItemRequest req;
  Problems& p = f.problems();
  const json::object* items = f.map("RequestItems", true);
  Capacity cap{read_capacity_mode(f).value_or(CapacityMode::none), {}};
  std::map<std::string, bool> consistent;
  if (items != nullptr) {
    Fields tf(items, p, "requestItems.");
    for (const auto& kv : *items) {
      std::string table(kv.key());
      const json::object* ka = tf.structure(kv.key());
      Fields kf(ka, p, "requestItems." + table + ".member.");
      engine::KeysAndAttributes out;
      if (const json::array* keys = kf.list("Keys", ka != nullptr)) {
        for (const auto& k : *keys) {
          if (!k.is_object()) {
            p.set_fatal(Error{
                ErrorCode::serialization_exception,
                k.is_array() ? "Start of list found where not expected" : "Expected map or null"});
            continue;
          }
          auto key = engine::ddb::item_from_json(k);
          if (!key)
            p.set_fatal(key.error());
          else
            out.keys.push_back(std::move(*key));
        }
      }
      out.projection_expression = kf.str("ProjectionExpression");
      out.names = kf.names("ExpressionAttributeNames");
      consistent[table] = kf.boolean("ConsistentRead").value_or(false);
      kf.unsupported({"AttributesToGet"});
      req.request_items.emplace(table, std::move(out));
    }
  }
  if (auto bad = check(p)) return std::unexpected(*bad);
  auto r = tables.batch_get_item(req);
  if (!r) return engine_failure(r);
  json::object responses;
  for (const auto& [table, got] : r->responses) {
    responses[table] = items_json(got);
    double u = 0;
    for (const auto& i : got) u += read_units(engine::ddb::item_size(i), consistent[table]);
    cap.add(table, std::max(u, read_units(0, consistent[table])));
  }
  json::object unprocessed;
  for (const auto& [table, ka] : r->unprocessed_keys) {
    json::object o;
    json::array keys;
    for (const auto& k : ka.keys) keys.push_back(engine::ddb::to_json(k));
    o["Keys"] = std::move(keys);
    if (ka.projection_expression) o["ProjectionExpression"] = *ka.projection_expression;
    if (ka.names) o["ExpressionAttributeNames"] = names_json(*ka.names);
    if (consistent[table]) o["ConsistentRead"] = true;
    unprocessed[table] = std::move(o);
  }
  json::object out;
  cap.put_list(out);
  out["Responses"] = std::move(responses);
  out["UnprocessedKeys"] = std::move(unprocessed);
  return out;
}

// ---------------------------------------------------------------- transactions

Outcome transact_write_items(engine::Tables& tables, Fields& f) {
  engine::TransactWriteItemsRequest req;
  Problems& p = f.problems();
  const json::array* items = f.list("TransactItems", true);
  req.client_request_token = f.str("ClientRequestToken");
  Capacity cap{read_capacity_mode(f).value_or(CapacityMode::none), {}};
  read_item_collection_metrics(f);
  if (items != nullptr) {
    std::size_t i = 0;
    for (const auto& v : *items) {
      ++i;
      std::string prefix = "transactItems." + std::to_string(i) + ".member.";
      Fields af(element_structure(v, p), p, prefix);
      using K = engine::TransactWriteItem::Kind;
      static constexpr std::pair<std::string_view, K> kKinds[] = {
          {"ConditionCheck", K::condition_check},
          {"Put", K::put},
          {"Delete", K::delete_},
          {"Update", K::update}};
      int found = 0;
      for (const auto& [member, kind] : kKinds) {
        const json::object* o = af.structure(member);
        if (o == nullptr) continue;
        ++found;
        Fields of(o, p, prefix + lower_first(member) + ".");
        engine::TransactWriteItem t;
        t.kind = kind;
        auto table = of.str("TableName", true);
        auto item = of.item(kind == K::put ? "Item" : "Key", true);
        if (kind == K::update) t.update_expression = of.str("UpdateExpression", true);
        t.condition_expression = of.str("ConditionExpression", kind == K::condition_check);
        t.attributes = expression_attributes(of);
        t.return_item_on_condition_failure = return_item_on_failure(of);
        if (table) t.table_name = *table;
        if (item) t.item = std::move(*item);
        if (table && item) cap.add(*table, 2 * write_units(engine::ddb::item_size(t.item)));
        req.transact_items.push_back(std::move(t));
      }
      if (found != 1 && p.ok())
        p.set_fatal(Error{ErrorCode::ddb_validation,
                          "TransactItems can only contain one of Check, Put, Update or Delete"});
    }
  }
  if (auto bad = check(p)) return std::unexpected(*bad);
  auto r = tables.transact_write_items(req);
  if (!r) return std::unexpected(table_failure(r.error()));
  json::object out;
  cap.put_list(out);
  return out;
}

Outcome transact_get_items(engine::Tables& tables, Fields& f) {
  engine::TransactGetItemsRequest req;
  Problems& p = f.problems();
  const json::array* items = f.list("TransactItems", true);
  Capacity cap{read_capacity_mode(f).value_or(CapacityMode::none), {}};
  if (items != nullptr) {
    std::size_t i = 0;
    for (const auto& v : *items) {
      ++i;
      std::string prefix = "transactItems." + std::to_string(i) + ".member.";
      Fields gf(element_structure(v, p), p, prefix);
      const json::object* get = gf.structure("Get", true);
      Fields of(get, p, prefix + "get.");
      engine::TransactGetItem g;
      auto table = of.str("TableName", get != nullptr);
      auto key = of.item("Key", get != nullptr);
      g.projection_expression = of.str("ProjectionExpression");
      g.names = of.names("ExpressionAttributeNames");
      if (table) g.table_name = *table;
      if (key) g.key = std::move(*key);
      req.transact_items.push_back(std::move(g));
    }
  }
  if (auto bad = check(p)) return std::unexpected(*bad);
  auto r = tables.transact_get_items(req);
  if (!r) return engine_failure(r);
  json::array responses;
  for (std::size_t i = 0; i < r->responses.size(); ++i) {
    json::object o;
    const auto& item = r->responses[i];
    if (item) o["Item"] = engine::ddb::to_json(*item);
    responses.push_back(std::move(o));
    cap.add(req.transact_items[i].table_name,
            2 * read_units(item ? engine::ddb::item_size(*item) : 0, true));
  }
  json::object out;
  cap.put_list(out);
  out["Responses"] = std::move(responses);
  return out;
}

// ---------------------------------------------------------------- dispatch

// Most operations answer before they return; PutItem answers through a Reply once its write is
// durable (the request thread does not wait for the disk).
using Handler = Outcome (*)(engine::Tables&, Fields&);
using AsyncHandler = void (*)(engine::Tables&, Fields&, Reply);
struct Operation {
  Handler sync = nullptr;
  AsyncHandler async = nullptr;
};

const std::map<std::string_view, Operation>& operations() {
  static const std::map<std::string_view, Operation> kOperations = {
      {"CreateTable", {&create_table}},
      {"DescribeTable", {&describe_table}},
      {"ListTables", {&list_tables}},
      {"DeleteTable", {&delete_table}},
      {"UpdateTable", {&update_table}},
      {"PutItem", {nullptr, &put_item}},
      {"GetItem", {&get_item}},
      {"DeleteItem", {&delete_item}},
      {"UpdateItem", {&update_item}},
      {"Query", {&query}},
      {"Scan", {&scan}},
      {"BatchWriteItem", {&batch_write_item}},
      {"BatchGetItem", {&batch_get_item}},
      {"TransactWriteItems", {&transact_write_items}},
      {"TransactGetItems", {&transact_get_items}},
  };
  return kOperations;
}

// Deep enough for 32 levels of nested M/L values (two JSON levels each) inside a request.
constexpr std::size_t kMaxJsonDepth = 100;

}  // namespace

void dynamodb_handle_async(engine::Tables& tables, std::string_view operation, std::string_view body,
                           const RequestContext& /*ctx*/, Respond reply) {
  // As DynamoDB: the body must parse before the operation is looked at.
  json::value doc;
  if (!body.empty()) {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = kMaxJsonDepth;
    doc = json::parse(body, ec, {}, opts);
    if (ec)
      return reply(error_response(Failure{
          Error{ErrorCode::serialization_exception, "Malformed JSON request body: " + ec.message()}, {}}));
  }
  auto it = operations().find(operation);
  if (it == operations().end())
    return reply(error_response(
        Failure{Error{ErrorCode::unknown_operation,
                      "Unknown operation: DynamoDB_20120810." + std::string(operation)},
                {}}));
  if (body.empty())
    return reply(error_response(
        Failure{Error{ErrorCode::serialization_exception, "The request body is empty"}, {}}));
  if (!doc.is_object())
    return reply(error_response(Failure{
        Error{ErrorCode::serialization_exception, doc.is_array()
                                                ? "Start of list found where not expected"
                                                : "Expected a JSON object as the request body"},
        {}}));
  Problems problems;
  Fields fields(&doc.get_object(), problems);
  auto finish = [reply = std::move(reply)](Outcome out) {
    reply(out ? respond(200, json::serialize(*out)) : error_response(out.error()));
  };
  if (it->second.async != nullptr) return it->second.async(tables, fields, std::move(finish));
  finish(it->second.sync(tables, fields));
}

ApiResponse dynamodb_handle(engine::Tables& tables, std::string_view operation,
                            std::string_view body, const RequestContext& ctx) {
  return await_answer<ApiResponse>(
      [&](Respond reply) { dynamodb_handle_async(tables, operation, body, ctx, std::move(reply)); });
}

}  // namespace orderflow::server
