// `orderflow orders get ID` (GetItem) and `orderflow orders list [--limit N]` (Scan) on the
// stack's table.
#include "cli/orders.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/stack_client.h"
#include "orders/envelope.h"

namespace orderflow::cli {

namespace bj = boost::json;

// ---- Pure pieces -----------------------------------------------------------------------

bool is_json_number(std::string_view t) {
  std::size_t i = 0;
  auto digit = [&](std::size_t k) { return k < t.size() && t[k] >= '0' && t[k] <= '9'; };
  if (i < t.size() && t[i] == '-') ++i;
  if (!digit(i)) return false;
  if (t[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == t.size();
}

namespace {

struct JsonWriter {
  std::string out;
  int indent = 0;

  void newline(int depth) {
    if (indent == 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(depth * indent), ' ');
  }
  void string(std::string_view s) { out += bj::serialize(bj::string_view(s.data(), s.size())); }
  void number_text(std::string_view text) {
    if (is_json_number(text)) {
      out += text;
    } else {
      string(text);
    }
  }

  // Writes a list of already-decided members: `emit(i)` writes element i.
  template <class Emit>
  void sequence(char open, char close, std::size_t n, int depth, Emit emit) {
    out += open;
    if (n == 0) {
      out += close;
      return;
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (i) out += ',';
      newline(depth + 1);
      emit(i);
    }
    newline(depth);
    out += close;
  }

  void member_name(std::string_view name) {
    string(name);
    out += indent ? ": " : ":";
  }

  void attribute_value(const bj::value& av, int depth) {
    if (!av.is_object() || av.get_object().size() != 1) {  // not an AttributeValue: as it is
      out += bj::serialize(av);
      return;
    }
    const auto& [type_key, v] = *av.get_object().begin();
    std::string_view type(type_key.data(), type_key.size());
    if (type == "S" && v.is_string()) {
      string(v.get_string());
    } else if (type == "N" && v.is_string()) {
      number_text(v.get_string());
    } else if (type == "BOOL" && v.is_bool()) {
      out += v.get_bool() ? "true" : "false";
    } else if (type == "NULL") {
      out += "null";
    } else if (type == "B" && v.is_string()) {
      string(v.get_string());
    } else if (type == "L" && v.is_array()) {
      const auto& a = v.get_array();
      sequence('[', ']', a.size(), depth, [&](std::size_t i) { attribute_value(a[i], depth + 1); });
    } else if (type == "M" && v.is_object()) {
      map(v.get_object(), depth, false);
    } else if ((type == "SS" || type == "NS" || type == "BS") && v.is_array()) {
      const auto& a = v.get_array();
      sequence('[', ']', a.size(), depth, [&](std::size_t i) {
        if (!a[i].is_string()) {
          out += bj::serialize(a[i]);
        } else if (type == "NS") {
          number_text(a[i].get_string());
        } else {
          string(a[i].get_string());
        }
      });
    } else {
      out += bj::serialize(av);
    }
  }

  void map(const bj::object& o, int depth, bool order_id_first) {
    std::vector<const bj::key_value_pair*> members;
    members.reserve(o.size());
    for (const auto& kv : o) members.push_back(&kv);
    if (order_id_first) {
      std::stable_partition(members.begin(), members.end(),
                            [](const bj::key_value_pair* kv) { return kv->key() == "orderId"; });
    }
    sequence('{', '}', members.size(), depth, [&](std::size_t i) {
      member_name(members[i]->key());
      attribute_value(members[i]->value(), depth + 1);
    });
  }
};

const bj::value* attribute(const bj::object& item, std::string_view name, std::string_view type) {
  const bj::value* av = item.if_contains(name);
  if (av == nullptr || !av->is_object()) return nullptr;
  return av->get_object().if_contains(type);
}

std::string sort_key(const bj::object& item) {
  std::string key = attribute_text(item, "receivedAt");
  if (key.empty()) key = attribute_text(item, "createdAt");
  return key;
}

}  // namespace

std::string item_to_json(const bj::object& item, int indent) {
  JsonWriter w;
  w.indent = indent;
  w.map(item, 0, true);
  return std::move(w.out);
}

std::string attribute_text(const bj::object& item, std::string_view name) {
  for (std::string_view type : {"S", "N"}) {
    const bj::value* v = attribute(item, name, type);
    if (v != nullptr && v->is_string()) return std::string(v->get_string());
  }
  return {};
}

std::optional<std::size_t> attribute_list_size(const bj::object& item, std::string_view name) {
  const bj::value* v = attribute(item, name, "L");
  if (v == nullptr || !v->is_array()) return std::nullopt;
  return v->get_array().size();
}

void sort_newest_first(std::vector<bj::object>& items) {
  std::stable_sort(items.begin(), items.end(), [](const bj::object& a, const bj::object& b) {
    std::string ka = sort_key(a), kb = sort_key(b);
    if (ka.empty() != kb.empty()) return !ka.empty();  // dated ones first
    return ka > kb;
  });
}

std::optional<std::string> order_id_in_message(std::string_view message) {
  bj::error_code ec;
  bj::value doc = bj::parse(message, ec);
  if (ec || !doc.is_object()) return std::nullopt;
  const bj::value* id = doc.get_object().if_contains("orderId");
  if (id == nullptr || !id->is_string()) return std::nullopt;
  return std::string(id->get_string());
}

std::string message_in_body(std::string_view body) {
  auto unwrapped = orders::unwrap_message(body);
  if (!unwrapped) return std::string(body);
  return std::move(unwrapped->message);
}

std::optional<std::string> order_id_in_body(std::string_view body) {
  return order_id_in_message(message_in_body(body));
}

// ---- The commands ----------------------------------------------------------------------

namespace {

struct OrdersOptions {
  ConnectionOptions connection;
  ResourceNames names;
  bool json = false;
  std::string order_id;
  int limit = 20;
};

void print_text(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// The table's error line for a missing table.
StackError table_error(StackError e, std::string_view table) {
  if (e.is({"ResourceNotFoundException"}))
    e.message = "table " + std::string(table) + " does not exist";
  return e;
}

int run_get(const OrdersOptions& o) {
  constexpr std::string_view kCommand = "orders get";
  auto stack = Stack::connect(o.connection, process_environment());
  if (!stack) {
    print_error(kCommand, stack.error().message);
    return 1;
  }
  bj::object request{{"TableName", o.names.table},
                     {"Key", bj::object{{"orderId", bj::object{{"S", o.order_id}}}}},
                     {"ConsistentRead", true}};
  auto r = (*stack)->json_call("dynamodb", "DynamoDB_20120810.GetItem", request);
  if (!r) {
    print_error(kCommand, table_error(r.error(), o.names.table).message);
    return 1;
  }
  const bj::value* item = r->if_contains("Item");
  if (item == nullptr || !item->is_object()) {
    print_error(kCommand, "order " + o.order_id + " not found in table " + o.names.table);
    return 1;
  }
  print_text(item_to_json(item->get_object(), o.json ? 0 : 2) + "\n");
  return 0;
}

int run_list(const OrdersOptions& o) {
  constexpr std::string_view kCommand = "orders list";
  auto stack = Stack::connect(o.connection, process_environment());
  if (!stack) {
    print_error(kCommand, stack.error().message);
    return 1;
  }
  std::vector<bj::object> items;
  bj::value last_key;
  bool more = false;
  const auto limit = static_cast<std::size_t>(o.limit);
  do {
    bj::object request{{"TableName", o.names.table},
                       {"Limit", static_cast<std::int64_t>(limit - items.size())}};
    if (!last_key.is_null()) request["ExclusiveStartKey"] = last_key;
    auto r = (*stack)->json_call("dynamodb", "DynamoDB_20120810.Scan", request);
    if (!r) {
      print_error(kCommand, table_error(r.error(), o.names.table).message);
      return 1;
    }
    if (const auto* page = r->if_contains("Items"); page && page->is_array()) {
      for (const auto& item : page->get_array()) {
        if (item.is_object() && items.size() < limit) items.push_back(item.get_object());
      }
    }
    const bj::value* next = r->if_contains("LastEvaluatedKey");
    last_key =
        next != nullptr && next->is_object() && !next->get_object().empty() ? *next : bj::value();
    more = !last_key.is_null();
  } while (more && items.size() < limit);
  sort_newest_first(items);

  if (o.json) {
    std::string text = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) text += ',';
      text += item_to_json(items[i]);
    }
    text += "]\n";
    print_text(text);
    return 0;
  }
  if (items.empty()) {
    print_text("no orders in table " + o.names.table + "\n");
    return 0;
  }
  Table table({"ORDER ID", "CUSTOMER", "ITEMS", "TOTAL", "CURRENCY", "CREATED", "RECEIVED"});
  table.align_right(2);
  table.align_right(3);
  table.set_max_width(0, 48);
  table.set_max_width(1, 32);
  for (const auto& item : items) {
    auto n = attribute_list_size(item, "items");
    table.add_row({attribute_text(item, "orderId"), attribute_text(item, "customerId"),
                   n ? std::to_string(*n) : "", attribute_text(item, "total"),
                   attribute_text(item, "currency"), attribute_text(item, "createdAt"),
                   attribute_text(item, "receivedAt")});
  }
  print_text(table.render());
  if (more) {
    std::fprintf(stderr, "(the first %s scanned; more are in table %s: raise --limit)\n",
                 plural(static_cast<std::int64_t>(items.size()), "order", "orders").c_str(),
                 o.names.table.c_str());
  }
  return 0;
}

}  // namespace

void register_orders(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<OrdersOptions>();
  CLI::App* orders = app.add_subcommand("orders", "Read the orders stored in the table");
  orders->require_subcommand(1);

  CLI::App* get = orders->add_subcommand("get", "Print one order as JSON (GetItem)");
  get->add_option("id", o->order_id, "orderId of the order")->required();
  get->add_flag("--json", o->json, "One line of JSON instead of indented JSON");
  add_resource_flags(*get, o->names, kTableFlag);
  add_connection_flags(*get, o->connection);
  get->callback([o, &exit_code] { exit_code = run_get(*o); });

  CLI::App* list =
      orders->add_subcommand("list", "List orders (Scan: the first N found, shown newest first)");
  list->add_option("--limit", o->limit, "How many orders to read")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  list->add_flag("--json", o->json, "A JSON array of the orders instead of a table");
  add_resource_flags(*list, o->names, kTableFlag);
  add_connection_flags(*list, o->connection);
  list->callback([o, &exit_code] { exit_code = run_list(*o); });
}

}  // namespace orderflow::cli
