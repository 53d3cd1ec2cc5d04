#include "engine/tables.h"

#include <algorithm>
#include <future>
#include <set>
#include <unordered_map>
#include <utility>

#include <boost/json.hpp>

#include "common/await.h"
#include "common/util.h"

namespace orderflow::engine {

namespace {

using ddb::ExpressionContext;
using ddb::Type;

constexpr std::size_t kPageBytes = 1024 * 1024;            // Query/Scan page
constexpr std::size_t kBatchGetBytes = 16 * 1024 * 1024;    // BatchGetItem response
constexpr std::size_t kMaxBatchWrite = 25;
constexpr std::size_t kMaxBatchGet = 100;
constexpr std::size_t kMaxTransactItems = 100;
constexpr std::size_t kMaxHashKeyBytes = 2048;
constexpr std::size_t kMaxRangeKeyBytes = 1024;
constexpr Millis kTokenLifetime = std::chrono::minutes(10);
constexpr std::string_view kCounterKey = "ddb.table_num";

std::unexpected<Error> invalid(std::string message) {
  return fail(ErrorCode::ddb_validation, std::move(message));
}

std::unexpected<Error> not_found() {
  return fail(ErrorCode::ddb_resource_not_found, "Requested resource not found");
}

std::unexpected<Error> table_not_found(std::string_view name) {
  return fail(ErrorCode::ddb_resource_not_found,
              "Requested resource not found: Table: " + std::string(name) + " not found");
}

TableError table_error(Error e) { return TableError{std::move(e), std::nullopt, {}}; }

std::string constraint(std::string_view value, std::string_view field, std::string_view rule) {
  return "1 validation error detected: Value '" + std::string(value) + "' at '" +
         std::string(field) + "' failed to satisfy constraint: " + std::string(rule);
}

template <class E>
Result<E> parse_enum(std::string_view s, std::string_view field,
                     std::initializer_list<std::pair<std::string_view, E>> values) {
  std::string set;
  for (const auto& [name, value] : values) {
    if (name == s) return value;
    if (!set.empty()) set += ", ";
    set += name;
  }
  return invalid(constraint(s, field, "Member must satisfy enum value set: [" + set + "]"));
}

Type to_type(ScalarType t) {
  switch (t) {
    case ScalarType::S: return Type::S;
    case ScalarType::N: return Type::N;
    case ScalarType::B: return Type::B;
  }
  return Type::S;
}

ScalarType to_scalar(Type t) {
  return t == Type::N ? ScalarType::N : t == Type::B ? ScalarType::B : ScalarType::S;
}

Status check_table_name(std::string_view name) {
  if (name.size() < 3)
    return invalid(constraint(name, "tableName",
                              "Member must have length greater than or equal to 3"));
  if (name.size() > 255)
    return invalid(constraint(name, "tableName", "Member must have length less than or equal to 255"));
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'))
      return invalid(constraint(name, "tableName",
                                "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"));
  }
  return {};
}

Status check_limit(const std::optional<int>& limit) {
  if (limit && *limit < 1)
    return invalid(constraint(std::to_string(*limit), "limit",
                              "Member must have value greater than or equal to 1"));
  return {};
}

// The store-side byte image of a table's records: see tables.h.
struct KeyDef {
  std::string name;
  Type type = Type::S;
};

struct Table {
  std::string name;
  std::uint64_t num = 0;  // prefix of the table's item keys in the store
  std::string id;         // TableId (UUID)
  TimePoint created;
  KeyDef hash;
  std::optional<KeyDef> range;
  BillingMode billing = BillingMode::provisioned;
  std::optional<TimePoint> last_pay_per_request;
  ProvisionedThroughput throughput;
  bool deletion_protection = false;

  // An item and the number of its row in the store. Rows are numbered in the order the items
  // were first written (Space::item_row: table number + row number), so that new items are
  // appended to the store's B-tree, whatever their keys: a commit of many new items rewrites a
  // page or two instead of one page per item (random keys, such as UUID order ids, would
  // otherwise touch a page each). A replaced item keeps its row.
  struct Stored {
    Item item;
    std::uint64_t row = 0;
  };
  std::map<std::string, Stored> items;  // order-preserving encoded key -> item
  std::uint64_t size_bytes = 0;         // sum of item_size over items
  std::uint64_t next_row = 1;           // above every row of `items`

  bool is_key(std::string_view attr) const {
    return attr == hash.name || (range && attr == range->name);
  }
  std::string row_key(std::uint64_t row) const {
    std::string out;
    put_u64_be(out, num);
    put_u64_be(out, row);
    return out;
  }
  Item key_of(const Item& item) const {
    Item key;
    key.emplace(hash.name, item.at(hash.name));
    if (range) key.emplace(range->name, item.at(range->name));
    return key;
  }
};

std::string encode_record(const Table& t) {
  boost::json::object o;
  o["name"] = t.name;
  o["num"] = t.num;
  o["id"] = t.id;
  o["created_ms"] = to_epoch_ms(t.created);
  o["hash"] = {{"name", t.hash.name}, {"type", ddb::type_name(t.hash.type)}};
  if (t.range) o["range"] = {{"name", t.range->name}, {"type", ddb::type_name(t.range->type)}};
  o["billing"] = to_string(t.billing);
  if (t.last_pay_per_request) o["ppr_ms"] = to_epoch_ms(*t.last_pay_per_request);
  o["rcu"] = t.throughput.read_capacity_units;
  o["wcu"] = t.throughput.write_capacity_units;
  o["deletion_protection"] = t.deletion_protection;
  return boost::json::serialize(o);
}

Result<std::unique_ptr<Table>> decode_record(std::string_view bytes) {
  auto corrupt = [] { return fail(ErrorCode::ddb_internal_server_error, "corrupt table record"); };
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(bytes, ec);
  if (ec || !v.is_object()) return corrupt();
  const auto& o = v.get_object();
  auto t = std::make_unique<Table>();
  auto str = [&](const boost::json::object& obj, std::string_view k, std::string& out) {
    const auto* p = obj.if_contains(k);
    if (!p || !p->is_string()) return false;
    out = std::string(p->get_string());
    return true;
  };
  auto num = [&](std::string_view k, std::int64_t& out) {
    const auto* p = o.if_contains(k);
    if (!p || !p->is_number()) return false;
    out = p->to_number<std::int64_t>(ec);
    return !ec;
  };
  auto key = [&](std::string_view k, KeyDef& out) {
    const auto* p = o.if_contains(k);
    if (!p || !p->is_object()) return false;
    std::string type;
    if (!str(p->get_object(), "name", out.name) || !str(p->get_object(), "type", type))
      return false;
    auto ty = ddb::type_from_name(type);
    if (!ty) return false;
    out.type = *ty;
    return true;
  };
  std::int64_t n = 0, created = 0, rcu = 0, wcu = 0;
  std::string billing;
  if (!str(o, "name", t->name) || !num("num", n) || !str(o, "id", t->id) ||
      !num("created_ms", created) || !key("hash", t->hash) || !str(o, "billing", billing) ||
      !num("rcu", rcu) || !num("wcu", wcu))
    return corrupt();
  t->num = static_cast<std::uint64_t>(n);
  t->created = from_epoch_ms(created);
  if (o.contains("range")) {
    KeyDef r;
    if (!key("range", r)) return corrupt();
    t->range = r;
  }
  auto mode = parse_billing_mode(billing);
  if (!mode) return corrupt();
  t->billing = *mode;
  std::int64_t ppr = 0;
  if (o.contains("ppr_ms")) {
    if (!num("ppr_ms", ppr)) return corrupt();
    t->last_pay_per_request = from_epoch_ms(ppr);
  }
  t->throughput = {rcu, wcu};
  if (const auto* dp = o.if_contains("deletion_protection"); dp && dp->is_bool())
    t->deletion_protection = dp->get_bool();
  return t;
}

// Validates one key attribute value. `from_item`: PutItem-style messages, else Key-style.
Status check_key_value(const KeyDef& def, const AttributeValue* v, bool is_range,
                       bool from_item) {
  if (!v) {
    if (from_item)
      return invalid("One or more parameter values were invalid: Missing the key " + def.name +
                     " in the item");
    return invalid("The provided key element does not match the schema");
  }
  if (v->type() != def.type) {
    if (from_item)
      return invalid("One or more parameter values were invalid: Type mismatch for key " +
                     def.name + " expected: " + std::string(ddb::type_name(def.type)) +
                     " actual: " + std::string(ddb::type_name(v->type())));
    return invalid("The provided key element does not match the schema");
  }
  std::size_t size = ddb::value_size(*v);
  if (const auto* s = v->get_if<std::string>(); s && s->empty())
    return invalid("One or more parameter values are not valid. The AttributeValue for a key "
                   "attribute cannot contain an empty string value. Key: " + def.name);
  if (const auto* b = v->get_if<ddb::Binary>(); b && b->bytes.empty())
    return invalid("One or more parameter values are not valid. The AttributeValue for a key "
                   "attribute cannot contain an empty binary value. Key: " + def.name);
  if (!is_range && size > kMaxHashKeyBytes)
    return invalid("One or more parameter values were invalid: Size of hashkey has exceeded the "
                   "maximum size limit of2048 bytes");
  if (is_range && size > kMaxRangeKeyBytes)
    return invalid("One or more parameter values were invalid: Aggregated size of all range "
                   "keys has exceeded the size limit of 1024 bytes");
  return {};
}

const AttributeValue* attr(const Item& item, const std::string& name) {
  auto it = item.find(name);
  return it == item.end() ? nullptr : &it->second;
}

// The encoded primary key of a full item (PutItem).
Result<std::string> key_from_item(const Table& t, const Item& item) {
  if (auto st = check_key_value(t.hash, attr(item, t.hash.name), false, true); !st)
    return std::unexpected(st.error());
  if (t.range) {
    if (auto st = check_key_value(*t.range, attr(item, t.range->name), true, true); !st)
      return std::unexpected(st.error());
  }
  std::string out;
  ddb::encode_key_value(item.at(t.hash.name), out);
  if (t.range) ddb::encode_key_value(item.at(t.range->name), out);
  return out;
}

// The encoded primary key of a Key parameter: exactly the key attributes.
Result<std::string> key_from_key(const Table& t, const Item& key) {
  std::size_t expected = t.range ? 2 : 1;
  if (key.size() != expected) return invalid("The provided key element does not match the schema");
  if (auto st = check_key_value(t.hash, attr(key, t.hash.name), false, false); !st)
    return std::unexpected(st.error());
  if (t.range) {
    if (auto st = check_key_value(*t.range, attr(key, t.range->name), true, false); !st)
      return std::unexpected(st.error());
  }
  std::string out;
  ddb::encode_key_value(key.at(t.hash.name), out);
  if (t.range) ddb::encode_key_value(key.at(t.range->name), out);
  return out;
}

// The parsed expressions of one item request.
struct Expressions {
  std::optional<ddb::Condition> condition;
  std::optional<ddb::UpdateExpression> update;
  std::optional<ddb::Projection> projection;
};

struct ExpressionTexts {
  const std::optional<std::string>* condition = nullptr;
  std::string_view condition_label = "ConditionExpression";
  const std::optional<std::string>* update = nullptr;
  const std::optional<std::string>* projection = nullptr;
};

bool has(const std::optional<std::string>* text) { return text && text->has_value(); }

// "ExpressionAttributeValues can only be specified when using expressions: X is null".
std::string null_expressions(const ExpressionTexts& texts) {
  std::vector<std::string> nulls;
  if (texts.update && !texts.update->has_value()) nulls.push_back("UpdateExpression");
  if (texts.condition && !texts.condition->has_value())
    nulls.push_back(std::string(texts.condition_label));
  if (nulls.empty()) return "no expression is allowed";
  if (nulls.size() == 1) return nulls[0] + " is null";
  return nulls[0] + " and " + nulls[1] + " are null";
}

// A condition that uses no ExpressionAttributeNames/Values depends on its text alone; a
// writer that repeats one (the function's `attribute_not_exists(orderId)` on every order)
// gets the parse of its earlier call. Each thread keeps up to kConditionCacheSize of them;
// only conditions that parsed are kept.
constexpr std::size_t kConditionCacheSize = 256;

std::optional<ddb::Condition> cached_condition(std::string_view label, std::string_view text,
                                               const ddb::Condition* parsed = nullptr) {
  thread_local std::unordered_map<std::string, ddb::Condition> cache;
  std::string key;
  key.reserve(label.size() + 1 + text.size());
  key.append(label).push_back('\0');
  key.append(text);
  if (parsed != nullptr) {
    if (cache.size() >= kConditionCacheSize) cache.clear();
    cache.insert_or_assign(std::move(key), *parsed);
    return std::nullopt;
  }
  auto it = cache.find(key);
  if (it == cache.end()) return std::nullopt;
  return it->second;
}

Result<Expressions> parse_expressions(const ExpressionTexts& texts,
                                      const ExpressionAttributes& attrs) {
  bool only_condition = has(texts.condition) && !has(texts.update) && !has(texts.projection) &&
                        !attrs.names && !attrs.values;
  if (only_condition) {
    if (auto c = cached_condition(texts.condition_label, **texts.condition)) {
      Expressions out;
      out.condition = std::move(*c);
      return out;
    }
  }
  bool any = has(texts.condition) || has(texts.update) || has(texts.projection);
  if (attrs.names && !any)
    return invalid("ExpressionAttributeNames can only be specified when using expressions");
  if (attrs.values && !has(texts.condition) && !has(texts.update))
    return invalid("ExpressionAttributeValues can only be specified when using expressions: " +
                   null_expressions(texts));
  auto ctx = ExpressionContext::make(attrs.names, attrs.values);
  if (!ctx) return std::unexpected(ctx.error());
  Expressions out;
  if (has(texts.update)) {
    auto u = ddb::parse_update(**texts.update, *ctx);
    if (!u) return std::unexpected(u.error());
    out.update = std::move(*u);
  }
  if (has(texts.condition)) {
    auto c = ddb::parse_condition(**texts.condition, *ctx, texts.condition_label);
    if (!c) return std::unexpected(c.error());
    out.condition = std::move(*c);
  }
  if (has(texts.projection)) {
    auto p = ddb::parse_projection(**texts.projection, *ctx);
    if (!p) return std::unexpected(p.error());
    out.projection = std::move(*p);
  }
  if (auto st = ctx->check_all_used(); !st) return std::unexpected(st.error());
  if (only_condition) cached_condition(texts.condition_label, **texts.condition, &*out.condition);
  return out;
}

bool passes(const std::optional<ddb::Condition>& cond, const Item* item) {
  if (!cond) return true;
  static const Item empty;
  return ddb::evaluate(*cond, item ? *item : empty);
}

TableError condition_failed(const Item* old, bool return_item) {
  TableError e = table_error(Error{ErrorCode::conditional_check_failed,
                                   "The conditional request failed"});
  if (return_item && old) e.item = *old;
  return e;
}

Status check_update_keys(const Table& t, const std::optional<ddb::UpdateExpression>& update) {
  if (!update) return {};
  for (const auto& a : update->actions) {
    if (t.is_key(a.path[0].name))
      return invalid("One or more parameter values were invalid: Cannot update attribute " +
                     a.path[0].name + ". This attribute is part of the key");
  }
  return {};
}

Status check_return_values_old_or_none(ReturnValues rv) {
  if (rv != ReturnValues::none && rv != ReturnValues::all_old)
    return invalid("ReturnValues can only be ALL_OLD or NONE");
  return {};
}

// The smallest string greater than every string starting with `prefix`; empty = no bound.
std::string prefix_successor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// Paths of a condition's operands (for the "key attributes in filter" check).
void collect_paths(const ddb::Condition& c, std::vector<const ddb::Path*>& out) {
  for (const auto& o : c.operands) {
    if (o.kind == ddb::Operand::Kind::path || o.kind == ddb::Operand::Kind::size)
      out.push_back(&o.path);
  }
  for (const auto& child : c.children) collect_paths(child, out);
}

// Size a value counts for in the result of a read: the item size.
std::size_t result_size(const Item& item) { return ddb::item_size(item); }

}  // namespace

// ---------------------------------------------------------------- enum helpers

Result<KeyType> parse_key_type(std::string_view s) {
  return parse_enum<KeyType>(s, "keyType", {{"HASH", KeyType::hash}, {"RANGE", KeyType::range}});
}
Result<ScalarType> parse_scalar_type(std::string_view s) {
  return parse_enum<ScalarType>(
      s, "attributeType", {{"B", ScalarType::B}, {"S", ScalarType::S}, {"N", ScalarType::N}});
}
Result<BillingMode> parse_billing_mode(std::string_view s) {
  return parse_enum<BillingMode>(s, "billingMode",
                                 {{"PROVISIONED", BillingMode::provisioned},
                                  {"PAY_PER_REQUEST", BillingMode::pay_per_request}});
}
Result<ReturnValues> parse_return_values(std::string_view s) {
  return parse_enum<ReturnValues>(s, "returnValues",
                                  {{"ALL_NEW", ReturnValues::all_new},
                                   {"UPDATED_OLD", ReturnValues::updated_old},
                                   {"ALL_OLD", ReturnValues::all_old},
                                   {"NONE", ReturnValues::none},
                                   {"UPDATED_NEW", ReturnValues::updated_new}});
}
Result<Select> parse_select(std::string_view s) {
  return parse_enum<Select>(s, "select",
                            {{"SPECIFIC_ATTRIBUTES", Select::specific_attributes},
                             {"COUNT", Select::count},
                             {"ALL_ATTRIBUTES", Select::all_attributes},
                             {"ALL_PROJECTED_ATTRIBUTES", Select::all_projected_attributes}});
}
Result<bool> parse_return_values_on_condition_check_failure(std::string_view s) {
  return parse_enum<bool>(s, "returnValuesOnConditionCheckFailure",
                          {{"ALL_OLD", true}, {"NONE", false}});
}
std::string_view to_string(KeyType t) { return t == KeyType::hash ? "HASH" : "RANGE"; }
std::string_view to_string(ScalarType t) { return ddb::type_name(to_type(t)); }
std::string_view to_string(BillingMode m) {
  return m == BillingMode::provisioned ? "PROVISIONED" : "PAY_PER_REQUEST";
}

// ---------------------------------------------------------------- Impl

// Lock order: Impl::mu only (one lock for the whole service). Store::submit is called while
// holding it; the wait for the commit happens after releasing it.
struct Tables::Impl {
  Impl(Store& s, Clock& c, TablesOptions o) : store(s), clock(c), options(std::move(o)) {}

  Store& store;
  Clock& clock;
  const TablesOptions options;

  std::mutex mu;
  // Guarded by mu: every table (and its items), the table number allocator, and the
  // TransactWriteItems idempotency tokens.
  std::map<std::string, std::unique_ptr<Table>, std::less<>> tables;
  std::uint64_t next_num = 1;
  std::map<std::string, TimePoint> tokens;

  // ---- helpers (callers hold mu)

  Result<Table*> find(std::string_view name) {
    if (auto st = check_table_name(name); !st) return std::unexpected(st.error());
    auto it = tables.find(name);
    if (it == tables.end()) return not_found();
    return it->second.get();
  }

  const Item* lookup(const Table& t, const std::string& ekey) const {
    auto it = t.items.find(ekey);
    return it == t.items.end() ? nullptr : &it->second.item;
  }

  // Replaces (or with nullopt erases) the item at `ekey` in memory and records it in `batch`.
  void write(Table& t, const std::string& ekey, std::optional<Item> item, WriteBatch& batch) {
    auto it = t.items.find(ekey);
    if (it != t.items.end()) t.size_bytes -= ddb::item_size(it->second.item);
    if (item) {
      t.size_bytes += ddb::item_size(*item);
      if (it == t.items.end()) it = t.items.emplace(ekey, Table::Stored{{}, t.next_row++}).first;
      batch.put(Space::item_row, t.row_key(it->second.row), ddb::encode_item(*item));
      it->second.item = std::move(*item);
    } else if (it != t.items.end()) {
      batch.erase(Space::item_row, t.row_key(it->second.row));
      t.items.erase(it);
    }
  }

  // What a failed commit returns to the caller.
  static Status commit_outcome(const Status& s) {
    if (!s)
      return fail(ErrorCode::ddb_internal_server_error,
                  "Internal server error: " + s.error().message);
    return {};
  }

  // Submits `batch` under `lock`, releases the lock and waits until the batch is durable.
  Status commit(WriteBatch batch, std::unique_lock<std::mutex>& lock) {
    auto done = std::make_shared<std::promise<Status>>();
    auto outcome = done->get_future();
    store.submit(std::move(batch), [done](const Status& s) { done->set_value(s); });
    lock.unlock();
    return commit_outcome(outcome.get());
  }

  TableDescription describe(const Table& t, std::string_view status = "ACTIVE") const {
    TableDescription d;
    d.table_name = t.name;
    d.table_id = t.id;
    d.table_arn = "arn:aws:dynamodb:" + options.region + ":" + options.account_id + ":table/" +
                  t.name;
    d.key_schema.push_back({t.hash.name, KeyType::hash});
    d.attribute_definitions.push_back({t.hash.name, to_scalar(t.hash.type)});
    if (t.range) {
      d.key_schema.push_back({t.range->name, KeyType::range});
      d.attribute_definitions.push_back({t.range->name, to_scalar(t.range->type)});
    }
    d.table_status = std::string(status);
    d.creation_date_time = t.created;
    d.billing_mode = t.billing;
    d.last_update_to_pay_per_request_date_time = t.last_pay_per_request;
    d.provisioned_throughput = t.throughput;
    d.item_count = t.items.size();
    d.table_size_bytes = t.size_bytes;
    d.deletion_protection_enabled = t.deletion_protection;
    return d;
  }

  Result<Item> project_result(const Item& item, const std::optional<ddb::Projection>& p) const {
    if (!p) return item;
    return ddb::project(item, *p);
  }

  // ---- Query / Scan page loop

  struct Page {
    std::optional<int> limit;
    const std::optional<ddb::Condition>* filter;
    const std::optional<ddb::Projection>* projection;
    bool count_only;
  };

  // Feeds items to the page in order; returns false when the page is full.
  struct PageState {
    QueryResponse out;
    std::size_t bytes = 0;
    const std::string* last_key = nullptr;
    const Item* last_item = nullptr;
    bool stopped = false;
  };

  bool add_to_page(const Page& page, PageState& st, const std::string& ekey, const Item& item) {
    std::size_t size = ddb::item_size(item);
    if (st.out.scanned_count > 0 && st.bytes + size > kPageBytes) {
      st.stopped = true;
      return false;
    }
    st.bytes += size;
    ++st.out.scanned_count;
    st.last_key = &ekey;
    st.last_item = &item;
    if (passes(*page.filter, &item)) {
      ++st.out.count;
      if (!page.count_only) st.out.items.push_back(*project_result(item, *page.projection));
    }
    if (page.limit && st.out.scanned_count >= static_cast<std::uint64_t>(*page.limit)) {
      st.stopped = true;
      return false;
    }
    return true;
  }

  Result<Expressions> read_expressions(const std::optional<std::string>& filter,
                                       const std::optional<std::string>& projection,
                                       ExpressionContext& ctx) {
    Expressions out;
    if (filter) {
      auto c = ddb::parse_condition(*filter, ctx, "FilterExpression");
      if (!c) return std::unexpected(c.error());
      out.condition = std::move(*c);
    }
    if (projection) {
      auto p = ddb::parse_projection(*projection, ctx);
      if (!p) return std::unexpected(p.error());
      out.projection = std::move(*p);
    }
    return out;
  }

  Status check_select(const std::optional<Select>& select,
                      const std::optional<std::string>& projection) {
    if (!select) return {};
    if (*select == Select::all_projected_attributes)
      return invalid("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName");
    if (*select == Select::specific_attributes && !projection)
      return invalid("Must specify the ProjectionExpression when choosing to get "
                     "SPECIFIC_ATTRIBUTES");
    if (*select != Select::specific_attributes && projection)
      return invalid("Cannot specify the ProjectionExpression when choosing to get " +
                     std::string(*select == Select::count ? "COUNT" : "ALL_ATTRIBUTES"));
    return {};
  }

  Result<std::string> start_key(const Table& t, const std::optional<Item>& esk) {
    auto k = key_from_key(t, *esk);
    if (!k) return invalid("The provided starting key is invalid: " + k.error().message);
    return k;
  }
};

Tables::Tables(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tables::~Tables() = default;

Result<std::unique_ptr<Tables>> Tables::open(Store& store, Clock& clock, TablesOptions options) {
  auto impl = std::make_unique<Impl>(store, clock, std::move(options));
  std::map<std::uint64_t, Table*> by_num;
  Status bad;
  auto st = store.scan(Space::table, [&](std::string_view, std::string_view value) {
    if (!bad) return;
    auto t = decode_record(value);
    if (!t) {
      bad = std::unexpected(t.error());
      return;
    }
    by_num[(*t)->num] = t->get();
    impl->next_num = std::max(impl->next_num, (*t)->num + 1);
    std::string name = (*t)->name;
    impl->tables.emplace(std::move(name), std::move(*t));
  });
  if (!st) return std::unexpected(st.error());
  if (!bad) return std::unexpected(bad.error());
  st = store.scan(Space::counter, [&](std::string_view key, std::string_view value) {
    if (key == kCounterKey && value.size() == 8)
      impl->next_num = std::max(impl->next_num, get_u64_be(value));
  });
  if (!st) return std::unexpected(st.error());
  // Rows are read in row order; an item's key is its key attributes'. Two rows of one key
  // cannot arise (a replaced item keeps its row); should the store hold them anyway, the later
  // row (the later write) wins and the other is erased.
  WriteBatch stale;
  st = store.scan(Space::item_row, [&](std::string_view key, std::string_view value) {
    if (!bad || key.size() != 16) return;
    auto it = by_num.find(get_u64_be(key.substr(0, 8)));
    if (it == by_num.end()) return;  // rows of a dropped table: never read again
    Table& t = *it->second;
    std::uint64_t row = get_u64_be(key.substr(8));
    auto item = ddb::decode_item(value);
    if (!item) {
      bad = std::unexpected(item.error());
      return;
    }
    auto ekey = key_from_item(t, *item);
    if (!ekey) {
      bad = fail(ErrorCode::internal_error,
                 "table " + t.name + ": stored item without a valid key: " + ekey.error().message);
      return;
    }
    t.next_row = std::max(t.next_row, row + 1);
    auto [slot, fresh] = t.items.try_emplace(std::move(*ekey));
    if (!fresh) {
      stale.erase(Space::item_row, t.row_key(slot->second.row));
      t.size_bytes -= ddb::item_size(slot->second.item);
    }
    t.size_bytes += ddb::item_size(*item);
    slot->second = Table::Stored{std::move(*item), row};
  });
  if (!st) return std::unexpected(st.error());
  if (!bad) return std::unexpected(bad.error());
  if (!stale.empty()) {
    if (auto s = store.commit(std::move(stale)); !s) return std::unexpected(s.error());
  }
  return std::unique_ptr<Tables>(new Tables(std::move(impl)));
}

// ---------------------------------------------------------------- tables

Result<TableDescription> Tables::create_table(const CreateTableRequest& req) {
  if (auto st = check_table_name(req.table_name); !st) return std::unexpected(st.error());
  const auto& ks = req.key_schema;
  if (ks.empty())
    return invalid(constraint("[]", "keySchema", "Member must have length greater than or equal to 1"));
  if (ks.size() > 2)
    return invalid(constraint("[" + std::to_string(ks.size()) + " elements]", "keySchema",
                              "Member must have length less than or equal to 2"));
  for (const auto& k : ks) {
    if (k.attribute_name.empty() || k.attribute_name.size() > 255)
      return invalid(constraint(k.attribute_name, "keySchema.member.attributeName",
                                "Member must have length between 1 and 255"));
  }
  if (ks[0].key_type != KeyType::hash)
    return invalid("Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
  if (ks.size() == 2) {
    if (ks[1].key_type != KeyType::range)
      return invalid("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type");
    if (ks[0].attribute_name == ks[1].attribute_name)
      return invalid("Both the Hash Key and the Range Key element in the KeySchema have the same "
                     "name");
  }
  std::map<std::string, ScalarType> defs;
  for (const auto& d : req.attribute_definitions) {
    if (!defs.emplace(d.attribute_name, d.attribute_type).second)
      return invalid("Cannot have two attributes with the same name");
  }
  std::string missing, defined;
  for (const auto& k : ks) {
    if (!defs.contains(k.attribute_name)) missing += (missing.empty() ? "" : ", ") + k.attribute_name;
  }
  for (const auto& d : req.attribute_definitions)
    defined += (defined.empty() ? "" : ", ") + d.attribute_name;
  if (!missing.empty())
    return invalid("One or more parameter values were invalid: Some index key attributes are not "
                   "defined in AttributeDefinitions. Keys: [" + missing +
                   "], AttributeDefinitions: [" + defined + "]");
  if (defs.size() != ks.size())
    return invalid("One or more parameter values were invalid: Number of attributes in KeySchema "
                   "does not exactly match number of attributes defined in AttributeDefinitions");
  BillingMode billing = req.billing_mode.value_or(BillingMode::provisioned);
  ProvisionedThroughput throughput;
  if (billing == BillingMode::provisioned) {
    if (!req.provisioned_throughput)
      return invalid("One or more parameter values were invalid: ReadCapacityUnits and "
                     "WriteCapacityUnits must both be specified when BillingMode is PROVISIONED");
    throughput = *req.provisioned_throughput;
    if (throughput.read_capacity_units < 1)
      return invalid(constraint(std::to_string(throughput.read_capacity_units),
                                "provisionedThroughput.readCapacityUnits",
                                "Member must have value greater than or equal to 1"));
    if (throughput.write_capacity_units < 1)
      return invalid(constraint(std::to_string(throughput.write_capacity_units),
                                "provisionedThroughput.writeCapacityUnits",
                                "Member must have value greater than or equal to 1"));
  } else if (req.provisioned_throughput) {
    return invalid("One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                   "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
  }

  std::unique_lock lock(impl_->mu);
  if (impl_->tables.contains(req.table_name))
    return fail(ErrorCode::ddb_resource_in_use, "Table already exists: " + req.table_name);
  auto t = std::make_unique<Table>();
  t->name = req.table_name;
  t->num = impl_->next_num++;
  t->id = uuid4();
  t->created = impl_->clock.now();
  t->hash = {ks[0].attribute_name, to_type(defs.at(ks[0].attribute_name))};
  if (ks.size() == 2) t->range = KeyDef{ks[1].attribute_name, to_type(defs.at(ks[1].attribute_name))};
  t->billing = billing;
  if (billing == BillingMode::pay_per_request) t->last_pay_per_request = t->created;
  t->throughput = throughput;
  t->deletion_protection = req.deletion_protection_enabled;

  WriteBatch batch;
  batch.put(Space::table, t->name, encode_record(*t));
  std::string counter;
  put_u64_be(counter, impl_->next_num);
  batch.put(Space::counter, std::string(kCounterKey), counter);
  TableDescription d = impl_->describe(*t);
  impl_->tables.emplace(t->name, std::move(t));
  if (auto st = impl_->commit(std::move(batch), lock); !st) return std::unexpected(st.error());
  return d;
}

Result<TableDescription> Tables::describe_table(std::string_view table_name) {
  if (auto st = check_table_name(table_name); !st) return std::unexpected(st.error());
  std::lock_guard lock(impl_->mu);
  auto it = impl_->tables.find(table_name);
  if (it == impl_->tables.end()) return table_not_found(table_name);
  return impl_->describe(*it->second);
}

Result<TableDescription> Tables::update_table(const UpdateTableRequest& req) {
  if (auto st = check_table_name(req.table_name); !st) return std::unexpected(st.error());
  if (!req.billing_mode && !req.provisioned_throughput && !req.deletion_protection_enabled)
    return invalid("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                   "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
  std::unique_lock lock(impl_->mu);
  auto it = impl_->tables.find(req.table_name);
  if (it == impl_->tables.end()) return table_not_found(req.table_name);
  Table& t = *it->second;
  // Compute the new settings first: a failed call changes nothing.
  BillingMode mode = req.billing_mode.value_or(t.billing);
  ProvisionedThroughput throughput = t.throughput;
  std::optional<TimePoint> last_pay_per_request = t.last_pay_per_request;
  if (mode == BillingMode::provisioned) {
    if (req.provisioned_throughput) {
      const auto& pt = *req.provisioned_throughput;
      if (pt.read_capacity_units < 1 || pt.write_capacity_units < 1)
        return invalid(constraint(std::to_string(std::min(pt.read_capacity_units,
                                                          pt.write_capacity_units)),
                                  "provisionedThroughput.readCapacityUnits",
                                  "Member must have value greater than or equal to 1"));
      throughput = pt;
    } else if (t.billing != BillingMode::provisioned) {
      return invalid("One or more parameter values were invalid: ProvisionedThroughput must be "
                     "specified when BillingMode is PROVISIONED");
    }
  } else {
    if (req.provisioned_throughput)
      return invalid("One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                     "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
    if (t.billing != BillingMode::pay_per_request) last_pay_per_request = impl_->clock.now();
    throughput = {0, 0};
  }
  t.billing = mode;
  t.throughput = throughput;
  t.last_pay_per_request = last_pay_per_request;
  if (req.deletion_protection_enabled) t.deletion_protection = *req.deletion_protection_enabled;
  WriteBatch batch;
  batch.put(Space::table, t.name, encode_record(t));
  TableDescription d = impl_->describe(t);
  if (auto st = impl_->commit(std::move(batch), lock); !st) return std::unexpected(st.error());
  return d;
}

Result<TableDescription> Tables::delete_table(std::string_view table_name) {
  if (auto st = check_table_name(table_name); !st) return std::unexpected(st.error());
  std::unique_lock lock(impl_->mu);
  auto it = impl_->tables.find(table_name);
  if (it == impl_->tables.end()) return table_not_found(table_name);
  Table& t = *it->second;
  if (t.deletion_protection)
    return invalid("Resource cannot be deleted as it is currently protected against deletion. "
                   "Disable deletion protection first.");
  TableDescription d = impl_->describe(t, "DELETING");
  WriteBatch batch;
  batch.erase(Space::table, t.name);
  for (const auto& [ekey, stored] : t.items) batch.erase(Space::item_row, t.row_key(stored.row));
  impl_->tables.erase(it);
  if (auto st = impl_->commit(std::move(batch), lock); !st) return std::unexpected(st.error());
  return d;
}

Result<ListTablesResponse> Tables::list_tables(const ListTablesRequest& req) {
  int limit = req.limit.value_or(100);
  if (limit < 1 || limit > 100)
    return invalid(constraint(std::to_string(limit), "limit",
                              limit < 1 ? "Member must have value greater than or equal to 1"
                                        : "Member must have value less than or equal to 100"));
  if (req.exclusive_start_table_name) {
    if (auto st = check_table_name(*req.exclusive_start_table_name); !st)
      return std::unexpected(st.error());
  }
  std::lock_guard lock(impl_->mu);
  ListTablesResponse out;
  auto it = req.exclusive_start_table_name
                ? impl_->tables.upper_bound(*req.exclusive_start_table_name)
                : impl_->tables.begin();
  for (; it != impl_->tables.end(); ++it) {
    if (out.table_names.size() == static_cast<std::size_t>(limit)) {
      out.last_evaluated_table_name = out.table_names.back();
      break;
    }
    out.table_names.push_back(it->first);
  }
  return out;
}

// ---------------------------------------------------------------- single items

void Tables::put_item_async(const PutItemRequest& req, WriteCallback done) {
  std::unique_lock lock(impl_->mu, std::defer_lock);
  auto refuse = [&](TableError e) {
    if (lock.owns_lock()) lock.unlock();  // `done` runs without the lock
    done(std::unexpected(std::move(e)));
  };
  if (auto st = check_return_values_old_or_none(req.return_values); !st) return refuse(table_error(st.error()));
  auto ex = parse_expressions({&req.condition_expression, "ConditionExpression", nullptr, nullptr},
                              req.attributes);
  if (!ex) return refuse(table_error(ex.error()));
  if (auto st = ddb::check_item_size(req.item); !st) return refuse(table_error(st.error()));

  lock.lock();
  auto t = impl_->find(req.table_name);
  if (!t) return refuse(table_error(t.error()));
  auto ekey = key_from_item(**t, req.item);
  if (!ekey) return refuse(table_error(ekey.error()));
  const Item* old = impl_->lookup(**t, *ekey);
  if (!passes(ex->condition, old)) return refuse(condition_failed(old, req.return_item_on_condition_failure));
  WriteItemResponse out;
  if (req.return_values == ReturnValues::all_old && old) out.attributes = *old;
  WriteBatch batch;
  impl_->write(**t, *ekey, req.item, batch);
  // Submitted under the lock (the order on disk is the order in memory); `done` runs on the
  // store's thread once the batch is durable.
  impl_->store.submit(std::move(batch), [out = std::move(out), done = std::move(done)](const Status& s) mutable {
    if (auto st = Impl::commit_outcome(s); !st) return done(std::unexpected(table_error(st.error())));
    done(std::move(out));
  });
}

TableResult<WriteItemResponse> Tables::put_item(const PutItemRequest& req) {
  return await_answer<TableResult<WriteItemResponse>>([&](WriteCallback done) { put_item_async(req, done); });
}

Result<GetItemResponse> Tables::get_item(const GetItemRequest& req) {
  auto ex = parse_expressions({nullptr, "", nullptr, &req.projection_expression},
                              {req.names, std::nullopt});
  if (!ex) return std::unexpected(ex.error());
  std::lock_guard lock(impl_->mu);
  auto t = impl_->find(req.table_name);
  if (!t) return std::unexpected(t.error());
  auto ekey = key_from_key(**t, req.key);
  if (!ekey) return std::unexpected(ekey.error());
  GetItemResponse out;
  if (const Item* item = impl_->lookup(**t, *ekey))
    out.item = *impl_->project_result(*item, ex->projection);
  return out;
}

TableResult<WriteItemResponse> Tables::delete_item(const DeleteItemRequest& req) {
  auto fail_with = [](const Error& e) { return std::unexpected(table_error(e)); };
  if (auto st = check_return_values_old_or_none(req.return_values); !st) return fail_with(st.error());
  auto ex = parse_expressions({&req.condition_expression, "ConditionExpression", nullptr, nullptr},
                              req.attributes);
  if (!ex) return fail_with(ex.error());

  std::unique_lock lock(impl_->mu);
  auto t = impl_->find(req.table_name);
  if (!t) return fail_with(t.error());
  auto ekey = key_from_key(**t, req.key);
  if (!ekey) return fail_with(ekey.error());
  const Item* old = impl_->lookup(**t, *ekey);
  if (!passes(ex->condition, old))
    return std::unexpected(condition_failed(old, req.return_item_on_condition_failure));
  WriteItemResponse out;
  if (req.return_values == ReturnValues::all_old && old) out.attributes = *old;
  WriteBatch batch;
  impl_->write(**t, *ekey, std::nullopt, batch);
  if (auto st = impl_->commit(std::move(batch), lock); !st) return fail_with(st.error());
  return out;
}

TableResult<WriteItemResponse> Tables::update_item(const UpdateItemRequest& req) {
  auto fail_with = [](const Error& e) { return std::unexpected(table_error(e)); };
  auto ex = parse_expressions(
      {&req.condition_expression, "ConditionExpression", &req.update_expression, nullptr},
      req.attributes);
  if (!ex) return fail_with(ex.error());

  std::unique_lock lock(impl_->mu);
  auto t = impl_->find(req.table_name);
  if (!t) return fail_with(t.error());
  auto ekey = key_from_key(**t, req.key);
  if (!ekey) return fail_with(ekey.error());
  if (auto st = check_update_keys(**t, ex->update); !st) return fail_with(st.error());
  const Item* old = impl_->lookup(**t, *ekey);
  if (!passes(ex->condition, old))
    return std::unexpected(condition_failed(old, req.return_item_on_condition_failure));
  Item updated = old ? *old : req.key;
  if (ex->update) {
    if (auto st = ddb::apply_update(*ex->update, updated); !st) return fail_with(st.error());
  }
  if (ddb::item_size(updated) > ddb::kMaxItemSize)
    return fail_with(Error{ErrorCode::ddb_validation,
                           "Item size to update has exceeded the maximum allowed size"});

  WriteItemResponse out;
  std::vector<ddb::Path> paths = ex->update ? ex->update->paths() : std::vector<ddb::Path>{};
  auto non_empty = [](Item item) -> std::optional<Item> {
    if (item.empty()) return std::nullopt;
    return item;
  };
  switch (req.return_values) {
    case ReturnValues::none: break;
    case ReturnValues::all_old:
      if (old) out.attributes = *old;
      break;
    case ReturnValues::updated_old:
      if (old) out.attributes = non_empty(ddb::project(*old, paths));
      break;
    case ReturnValues::all_new: out.attributes = updated; break;
    case ReturnValues::updated_new: out.attributes = non_empty(ddb::project(updated, paths)); break;
  }
  WriteBatch batch;
  impl_->write(**t, *ekey, std::move(updated), batch);
  if (auto st = impl_->commit(std::move(batch), lock); !st) return fail_with(st.error());
  return out;
}

// ---------------------------------------------------------------- query / scan

Result<QueryResponse> Tables::query(const QueryRequest& req) {
  if (auto st = check_limit(req.limit); !st) return std::unexpected(st.error());
  if (auto st = impl_->check_select(req.select, req.projection_expression); !st)
    return std::unexpected(st.error());
  auto ctx = ExpressionContext::make(req.attributes.names, req.attributes.values);
  if (!ctx) return std::unexpected(ctx.error());

  std::lock_guard lock(impl_->mu);
  auto found = impl_->find(req.table_name);
  if (!found) return std::unexpected(found.error());
  const Table& t = **found;
  std::optional<std::string> range_name;
  if (t.range) range_name = t.range->name;
  auto kc = ddb::parse_key_condition(req.key_condition_expression, *ctx, t.hash.name, range_name);
  if (!kc) return std::unexpected(kc.error());
  auto ex = impl_->read_expressions(req.filter_expression, req.projection_expression, *ctx);
  if (!ex) return std::unexpected(ex.error());
  if (auto st = ctx->check_all_used(); !st) return std::unexpected(st.error());

  constexpr std::string_view kTypeMismatch =
      "One or more parameter values were invalid: Condition parameter type does not match "
      "schema type";
  if (kc->hash_value.type() != t.hash.type) return invalid(std::string(kTypeMismatch));
  if (kc->sort) {
    if (kc->sort->value.type() != t.range->type ||
        (kc->sort->upper && kc->sort->upper->type() != t.range->type))
      return invalid(std::string(kTypeMismatch));
    if (kc->sort->kind == ddb::SortKeyCondition::Kind::begins_with && t.range->type == Type::N)
      return invalid("Invalid KeyConditionExpression: Incorrect operand type for operator or "
                     "function; operator or function: begins_with, operand type: NUMBER");
    if (kc->sort->upper && ddb::compare_scalars(kc->sort->value, *kc->sort->upper) ==
                               std::strong_ordering::greater)
      return invalid("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound "
                     "to be greater than or equal to lower bound");
  }
  if (ex->condition) {
    std::vector<const ddb::Path*> paths;
    collect_paths(*ex->condition, paths);
    for (const ddb::Path* p : paths) {
      if (t.is_key((*p)[0].name))
        return invalid("Filter Expression can only contain non-primary key attributes: Primary "
                       "key attribute: " + (*p)[0].name);
    }
  }
  std::optional<std::string> esk;
  if (req.exclusive_start_key) {
    auto k = impl_->start_key(t, req.exclusive_start_key);
    if (!k) return std::unexpected(k.error());
    esk = std::move(*k);
  }

  std::string prefix;
  ddb::encode_key_value(kc->hash_value, prefix);
  std::string prefix_end = prefix_successor(prefix);
  Impl::Page page{req.limit, &ex->condition, &ex->projection,
                  req.select == Select::count};
  Impl::PageState st;
  auto in_range = [&](const Item& item) {
    return !kc->sort || kc->sort->matches(item.at(kc->sort->name));
  };
  if (req.scan_index_forward) {
    // Start at the sort key's lower bound when there is one, and after the start key.
    std::string seek = prefix;
    if (kc->sort && (kc->sort->kind == ddb::SortKeyCondition::Kind::eq ||
                     kc->sort->kind == ddb::SortKeyCondition::Kind::ge ||
                     kc->sort->kind == ddb::SortKeyCondition::Kind::between))
      ddb::encode_key_value(kc->sort->value, seek);
    auto it = esk && *esk >= seek ? t.items.upper_bound(*esk) : t.items.lower_bound(seek);
    for (; it != t.items.end() && it->first.starts_with(prefix); ++it) {
      if (!in_range(it->second.item)) continue;
      if (!impl_->add_to_page(page, st, it->first, it->second.item)) break;
    }
  } else {
    // Walk backwards from the end of the partition, or from just before the start key.
    bool before_end = esk && (prefix_end.empty() || *esk < prefix_end);
    auto it = before_end ? t.items.lower_bound(*esk)
              : prefix_end.empty() ? t.items.end()
                                   : t.items.lower_bound(prefix_end);
    while (it != t.items.begin()) {
      --it;
      if (!it->first.starts_with(prefix)) break;
      if (!in_range(it->second.item)) continue;
      if (!impl_->add_to_page(page, st, it->first, it->second.item)) break;
    }
  }
  if (st.stopped && st.last_item) st.out.last_evaluated_key = t.key_of(*st.last_item);
  return std::move(st.out);
}

Result<QueryResponse> Tables::scan(const ScanRequest& req) {
  if (auto st = check_limit(req.limit); !st) return std::unexpected(st.error());
  if (auto st = impl_->check_select(req.select, req.projection_expression); !st)
    return std::unexpected(st.error());
  if (req.segment && !req.total_segments)
    return invalid("The TotalSegments parameter is required but was not present in the request "
                   "when Segment parameter is present");
  if (req.total_segments && !req.segment)
    return invalid("The Segment parameter is required but was not present in the request when "
                   "parameter TotalSegments is present");
  if (req.total_segments) {
    if (*req.total_segments < 1 || *req.total_segments > 1'000'000)
      return invalid(constraint(std::to_string(*req.total_segments), "totalSegments",
                                "Member must have value between 1 and 1000000"));
    if (*req.segment < 0 || *req.segment >= *req.total_segments)
      return invalid("The Segment parameter is zero-based and must be less than parameter "
                     "TotalSegments: Segment: " + std::to_string(*req.segment) +
                     " is not less than TotalSegments: " + std::to_string(*req.total_segments));
  }
  bool any = req.filter_expression || req.projection_expression;
  if (req.attributes.names && !any)
    return invalid("ExpressionAttributeNames can only be specified when using expressions");
  if (req.attributes.values && !req.filter_expression)
    return invalid("ExpressionAttributeValues can only be specified when using expressions: "
                   "FilterExpression is null");
  auto ctx = ExpressionContext::make(req.attributes.names, req.attributes.values);
  if (!ctx) return std::unexpected(ctx.error());
  auto ex = impl_->read_expressions(req.filter_expression, req.projection_expression, *ctx);
  if (!ex) return std::unexpected(ex.error());
  if (auto st = ctx->check_all_used(); !st) return std::unexpected(st.error());

  std::lock_guard lock(impl_->mu);
  auto found = impl_->find(req.table_name);
  if (!found) return std::unexpected(found.error());
  const Table& t = **found;
  auto it = t.items.begin();
  if (req.exclusive_start_key) {
    auto k = impl_->start_key(t, req.exclusive_start_key);
    if (!k) return std::unexpected(k.error());
    it = t.items.upper_bound(*k);
  }
  Impl::Page page{req.limit, &ex->condition, &ex->projection, req.select == Select::count};
  Impl::PageState st;
  for (; it != t.items.end(); ++it) {
    if (req.total_segments) {
      std::string hash_key;
      ddb::encode_key_value(it->second.item.at(t.hash.name), hash_key);
      if (fnv1a(hash_key) % static_cast<std::uint64_t>(*req.total_segments) !=
          static_cast<std::uint64_t>(*req.segment))
        continue;
    }
    if (!impl_->add_to_page(page, st, it->first, it->second.item)) break;
  }
  if (st.stopped && st.last_item) st.out.last_evaluated_key = t.key_of(*st.last_item);
  return std::move(st.out);
}

// ---------------------------------------------------------------- batches

Result<BatchWriteItemResponse> Tables::batch_write_item(const BatchWriteItemRequest& req) {
  std::size_t total = 0;
  for (const auto& [name, reqs] : req.request_items) total += reqs.size();
  if (req.request_items.empty())
    return invalid(constraint("{}", "requestItems",
                              "Member must have length greater than or equal to 1"));
  if (total > kMaxBatchWrite)
    return invalid(constraint("[" + std::to_string(total) + " write requests]", "requestItems",
                              "Map value must satisfy constraint: [Member must have length less "
                              "than or equal to 25, Member must have length greater than or "
                              "equal to 1]"));
  for (const auto& [name, reqs] : req.request_items) {
    if (reqs.empty())
      return invalid(constraint("[]", "requestItems." + name + ".member",
                                "Member must have length greater than or equal to 1"));
    for (const auto& w : reqs) {
      if (w.put_item.has_value() == w.delete_key.has_value())
        return invalid("A WriteRequest must contain exactly one of PutRequest or DeleteRequest");
      if (w.put_item) {
        if (auto st = ddb::check_item_size(*w.put_item); !st) return std::unexpected(st.error());
      }
    }
  }

  std::unique_lock lock(impl_->mu);
  struct Planned {
    Table* table;
    std::string ekey;
    const WriteRequest* w;
  };
  std::vector<Planned> plan;
  std::set<std::pair<std::uint64_t, std::string>> seen;
  for (const auto& [name, reqs] : req.request_items) {
    auto t = impl_->find(name);
    if (!t) return std::unexpected(t.error());
    for (const auto& w : reqs) {
      auto ekey = w.put_item ? key_from_item(**t, *w.put_item) : key_from_key(**t, *w.delete_key);
      if (!ekey) return std::unexpected(ekey.error());
      if (!seen.emplace((*t)->num, *ekey).second)
        return invalid("Provided list of item keys contains duplicates");
      plan.push_back({*t, std::move(*ekey), &w});
    }
  }
  WriteBatch batch;
  for (const auto& p : plan) {
    if (p.w->put_item) impl_->write(*p.table, p.ekey, *p.w->put_item, batch);
    else impl_->write(*p.table, p.ekey, std::nullopt, batch);
  }
  if (auto st = impl_->commit(std::move(batch), lock); !st) return std::unexpected(st.error());
  return BatchWriteItemResponse{};
}

Result<BatchGetItemResponse> Tables::batch_get_item(const BatchGetItemRequest& req) {
  if (req.request_items.empty())
    return invalid(constraint("{}", "requestItems",
                              "Member must have length greater than or equal to 1"));
  std::size_t total = 0;
  for (const auto& [name, ka] : req.request_items) {
    if (ka.keys.empty())
      return invalid(constraint("[]", "requestItems." + name + ".member.keys",
                                "Member must have length greater than or equal to 1"));
    total += ka.keys.size();
  }
  if (total > kMaxBatchGet) return invalid("Too many items requested for the BatchGetItem call");
  std::map<std::string, Expressions> parsed;
  for (const auto& [name, ka] : req.request_items) {
    auto ex = parse_expressions({nullptr, "", nullptr, &ka.projection_expression},
                                {ka.names, std::nullopt});
    if (!ex) return std::unexpected(ex.error());
    parsed.emplace(name, std::move(*ex));
  }

  std::lock_guard lock(impl_->mu);
  // Validate everything before reading anything.
  std::vector<std::pair<Table*, std::vector<std::string>>> keys;
  for (const auto& [name, ka] : req.request_items) {
    auto t = impl_->find(name);
    if (!t) return std::unexpected(t.error());
    std::set<std::string> seen;
    std::vector<std::string> ekeys;
    for (const Item& k : ka.keys) {
      auto ekey = key_from_key(**t, k);
      if (!ekey) return std::unexpected(ekey.error());
      if (!seen.insert(*ekey).second)
        return invalid("Provided list of item keys contains duplicates");
      ekeys.push_back(std::move(*ekey));
    }
    keys.emplace_back(*t, std::move(ekeys));
  }
  BatchGetItemResponse out;
  std::size_t bytes = 0;
  std::size_t table_index = 0;
  for (const auto& [name, ka] : req.request_items) {
    auto& [table, ekeys] = keys[table_index++];
    auto& items = out.responses[name];
    for (std::size_t i = 0; i < ekeys.size(); ++i) {
      if (bytes >= kBatchGetBytes) {
        auto& un = out.unprocessed_keys[name];
        if (un.keys.empty()) {
          un.projection_expression = ka.projection_expression;
          un.names = ka.names;
        }
        un.keys.push_back(ka.keys[i]);
        continue;
      }
      if (const Item* item = impl_->lookup(*table, ekeys[i])) {
        Item result = *impl_->project_result(*item, parsed.at(name).projection);
        bytes += result_size(result);
        items.push_back(std::move(result));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- transactions

TableResult<std::monostate> Tables::transact_write_items(const TransactWriteItemsRequest& req) {
  auto fail_with = [](const Error& e) { return std::unexpected(table_error(e)); };
  const auto& actions = req.transact_items;
  if (actions.empty() || actions.size() > kMaxTransactItems)
    return fail_with(Error{ErrorCode::ddb_validation,
                           constraint("[" + std::to_string(actions.size()) + " items]",
                                      "transactItems",
                                      actions.empty()
                                          ? "Member must have length greater than or equal to 1"
                                          : "Member must have length less than or equal to 100")});
  std::vector<Expressions> parsed;
  for (const auto& a : actions) {
    using K = TransactWriteItem::Kind;
    if (a.kind == K::condition_check && !a.condition_expression)
      return fail_with(Error{ErrorCode::ddb_validation,
                             "The ConditionExpression must be specified for ConditionCheck"});
    if (a.kind == K::update && !a.update_expression)
      return fail_with(Error{ErrorCode::ddb_validation,
                             "The UpdateExpression must be specified for Update"});
    auto ex = parse_expressions(
        {&a.condition_expression, "ConditionExpression",
         a.kind == K::update ? &a.update_expression : nullptr, nullptr},
        a.attributes);
    if (!ex) return fail_with(ex.error());
    if (a.kind == K::put) {
      if (auto st = ddb::check_item_size(a.item); !st) return fail_with(st.error());
    }
    parsed.push_back(std::move(*ex));
  }

  std::unique_lock lock(impl_->mu);
  TimePoint now = impl_->clock.now();
  std::erase_if(impl_->tokens, [&](const auto& e) { return e.second + kTokenLifetime <= now; });
  if (req.client_request_token && impl_->tokens.contains(*req.client_request_token))
    return std::monostate{};

  struct Planned {
    Table* table;
    std::string ekey;
  };
  std::vector<Planned> plan;
  std::set<std::pair<std::uint64_t, std::string>> seen;
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const auto& a = actions[i];
    auto t = impl_->find(a.table_name);
    if (!t) return fail_with(t.error());
    auto ekey = a.kind == TransactWriteItem::Kind::put ? key_from_item(**t, a.item)
                                                       : key_from_key(**t, a.item);
    if (!ekey) return fail_with(ekey.error());
    if (auto st = check_update_keys(**t, parsed[i].update); !st) return fail_with(st.error());
    if (!seen.emplace((*t)->num, *ekey).second)
      return fail_with(Error{ErrorCode::ddb_validation,
                             "Transaction request cannot include multiple operations on one item"});
    plan.push_back({*t, std::move(*ekey)});
  }

  // Check every action against the current state before changing anything.
  std::vector<CancellationReason> reasons(actions.size(), CancellationReason{"None", {}, {}});
  std::vector<std::optional<Item>> results(actions.size());
  bool cancelled = false;
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const auto& a = actions[i];
    const Item* old = impl_->lookup(*plan[i].table, plan[i].ekey);
    if (!passes(parsed[i].condition, old)) {
      cancelled = true;
      reasons[i].code = "ConditionalCheckFailed";
      reasons[i].message = "The conditional request failed";
      if (a.return_item_on_condition_failure && old) reasons[i].item = *old;
      continue;
    }
    switch (a.kind) {
      case TransactWriteItem::Kind::condition_check: break;
      case TransactWriteItem::Kind::put: results[i] = a.item; break;
      case TransactWriteItem::Kind::delete_: break;
      case TransactWriteItem::Kind::update: {
        Item updated = old ? *old : a.item;
        Status st = ddb::apply_update(*parsed[i].update, updated);
        if (st) st = ddb::check_item_size(updated);
        if (!st) {
          cancelled = true;
          reasons[i].code = "ValidationError";
          reasons[i].message = st.error().message;
          continue;
        }
        results[i] = std::move(updated);
        break;
      }
    }
  }
  if (cancelled) {
    std::string codes;
    for (const auto& r : reasons) codes += (codes.empty() ? "" : ", ") + r.code;
    TableError e = table_error(Error{ErrorCode::transaction_canceled,
                                     "Transaction cancelled, please refer cancellation reasons "
                                     "for specific reasons [" + codes + "]"});
    e.cancellation_reasons = std::move(reasons);
    return std::unexpected(std::move(e));
  }
  WriteBatch batch;
  for (std::size_t i = 0; i < actions.size(); ++i) {
    switch (actions[i].kind) {
      case TransactWriteItem::Kind::condition_check: break;
      case TransactWriteItem::Kind::delete_:
        impl_->write(*plan[i].table, plan[i].ekey, std::nullopt, batch);
        break;
      default: impl_->write(*plan[i].table, plan[i].ekey, std::move(results[i]), batch); break;
    }
  }
  if (req.client_request_token) impl_->tokens[*req.client_request_token] = now;
  if (auto st = impl_->commit(std::move(batch), lock); !st) return fail_with(st.error());
  return std::monostate{};
}

Result<TransactGetItemsResponse> Tables::transact_get_items(const TransactGetItemsRequest& req) {
  const auto& gets = req.transact_items;
  if (gets.empty() || gets.size() > kMaxTransactItems)
    return invalid(constraint("[" + std::to_string(gets.size()) + " items]", "transactItems",
                              gets.empty() ? "Member must have length greater than or equal to 1"
                                           : "Member must have length less than or equal to 100"));
  std::vector<Expressions> parsed;
  for (const auto& g : gets) {
    auto ex = parse_expressions({nullptr, "", nullptr, &g.projection_expression},
                                {g.names, std::nullopt});
    if (!ex) return std::unexpected(ex.error());
    parsed.push_back(std::move(*ex));
  }
  std::lock_guard lock(impl_->mu);
  std::vector<std::pair<const Table*, std::string>> keys;
  for (const auto& g : gets) {
    auto t = impl_->find(g.table_name);
    if (!t) return std::unexpected(t.error());
    auto ekey = key_from_key(**t, g.key);
    if (!ekey) return std::unexpected(ekey.error());
    keys.emplace_back(*t, std::move(*ekey));
  }
  TransactGetItemsResponse out;
  for (std::size_t i = 0; i < gets.size(); ++i) {
    const Item* item = impl_->lookup(*keys[i].first, keys[i].second);
    if (item) out.responses.push_back(*impl_->project_result(*item, parsed[i].projection));
    else out.responses.push_back(std::nullopt);
  }
  return out;
}

}  // namespace orderflow::engine
