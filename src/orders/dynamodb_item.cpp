#include "orders/dynamodb_item.h"

namespace orderflow::orders {

namespace {

JsonValue typed(const char* type, JsonValue v) {
  JsonObject o;
  o.emplace_back(type, std::move(v));
  return JsonValue(std::move(o));
}

void set_member(JsonObject& o, std::string_view name, JsonValue v) {
  for (auto& [k, existing] : o) {
    if (k == name) {
      existing = std::move(v);
      return;
    }
  }
  o.emplace_back(std::string(name), std::move(v));
}

}  // namespace

JsonValue to_attribute_value(const JsonValue& value) {
  if (value.is_null()) return typed("NULL", JsonValue(true));
  if (value.is_bool()) return typed("BOOL", JsonValue(value.as_bool()));
  if (value.is_number()) return typed("N", JsonValue(value.as_number().text));
  if (value.is_string()) return typed("S", JsonValue(value.as_string()));
  if (value.is_array()) {
    JsonArray l;
    l.reserve(value.as_array().size());
    for (const auto& e : value.as_array()) l.push_back(to_attribute_value(e));
    return typed("L", JsonValue(std::move(l)));
  }
  JsonObject m;
  m.reserve(value.as_object().size());
  for (const auto& [k, v] : value.as_object()) m.emplace_back(k, to_attribute_value(v));
  return typed("M", JsonValue(std::move(m)));
}

JsonValue to_dynamodb_item(const Order& order, std::string_view received_at,
                           std::string_view message_id) {
  JsonObject item;
  item.reserve(order.document.as_object().size() + 2);
  for (const auto& [k, v] : order.document.as_object()) item.emplace_back(k, to_attribute_value(v));
  set_member(item, "receivedAt", typed("S", JsonValue(std::string(received_at))));
  set_member(item, "messageId", typed("S", JsonValue(std::string(message_id))));
  return JsonValue(std::move(item));
}

}  // namespace orderflow::orders
