// Fuzz target: DynamoDB expressions (engine/ddb/expr.h): condition and filter expressions, key
// conditions, update expressions and projections, parsed and then applied to an order item.
//
// Input: the kind on the first line (condition, filter, key, key-range, update, projection),
// the expression after it. Placeholders #a..#f and :a..:k are defined (values of every type),
// as a request's ExpressionAttributeNames/Values would define them. After a successful parse
// the expression is evaluated against the item (update: applied to a copy, whose size and
// encoding must then still round-trip).
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>

#include "engine/ddb/expr.h"
#include "engine/ddb/value.h"
#include "fuzz/fuzz_support.h"

namespace {

namespace ddb = orderflow::engine::ddb;
using orderflow::fuzz::contract_broken;

ddb::Item parse_item(std::string_view json_text) {
  auto item = ddb::item_from_json(boost::json::parse(json_text));
  if (!item) contract_broken("fixture does not parse", item.error().message);
  return std::move(*item);
}

const ddb::Item& order_item() {
  static const ddb::Item item = parse_item(R"({
    "orderId": {"S": "ord-1"}, "sk": {"N": "7"}, "total": {"N": "25.50"}, "currency": {"S": "USD"},
    "paid": {"BOOL": true}, "note": {"NULL": true}, "blob": {"B": "AAEC"},
    "tags": {"SS": ["gift", "rush"]}, "scores": {"NS": ["1", "2.5"]}, "bins": {"BS": ["AQ=="]},
    "items": {"L": [{"M": {"sku": {"S": "A-1"}, "quantity": {"N": "2"}, "unitPrice": {"N": "10"}}},
                    {"M": {"sku": {"S": "B-2"}, "quantity": {"N": "1"}, "unitPrice": {"N": "5.5"}}}]},
    "customer": {"M": {"id": {"S": "c-9"}, "address": {"M": {"city": {"S": "Lyon"}}}}}
  })");
  return item;
}

const ddb::ValueMap& values() {
  static const ddb::ValueMap v = [] {
    ddb::Item m = parse_item(R"({
      ":a": {"S": "ord-1"}, ":b": {"N": "5"}, ":c": {"N": "-1e-3"}, ":d": {"BOOL": false},
      ":e": {"NULL": true}, ":f": {"B": "AQID"}, ":g": {"SS": ["gift"]}, ":h": {"NS": ["2.5", "9"]},
      ":i": {"L": [{"S": "x"}, {"N": "1"}]}, ":j": {"M": {"k": {"S": "v"}}}, ":k": {"S": "S"}
    })");
    return ddb::ValueMap(m.begin(), m.end());
  }();
  return v;
}

const ddb::NameMap kNames = {{"#a", "orderId"}, {"#b", "items"}, {"#c", "total"},
                             {"#d", "tags"},    {"#e", "status"}, {"#f", "customer"}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = orderflow::fuzz::as_text(data, size);
  std::string_view kind = orderflow::fuzz::take_line(in);
  auto ctx = ddb::ExpressionContext::make(kNames, values());
  if (!ctx) contract_broken("fixture context refused", ctx.error().message);
  const ddb::Item& item = order_item();

  if (kind == "condition" || kind == "filter") {
    auto cond = ddb::parse_condition(in, *ctx, kind == "filter" ? "FilterExpression" : "ConditionExpression");
    if (cond) {
      (void)ddb::evaluate(*cond, item);
      (void)ddb::evaluate(*cond, ddb::Item{});
    }
  } else if (kind == "key" || kind == "key-range") {
    std::optional<std::string> range;
    if (kind == "key-range") range = "sk";
    auto key = ddb::parse_key_condition(in, *ctx, "orderId", range);
    if (key && key->sort) (void)key->sort->matches(item.at("sk"));
  } else if (kind == "update") {
    auto update = ddb::parse_update(in, *ctx);
    if (update) {
      (void)update->paths();
      ddb::Item copy = item;
      if (ddb::apply_update(*update, copy)) {
        (void)ddb::check_item_size(copy);
        auto back = ddb::decode_item(ddb::encode_item(copy));
        if (!back || !(ddb::AttributeValue(ddb::Map(*back)) == ddb::AttributeValue(ddb::Map(copy))))
          contract_broken("an updated item does not survive encode_item/decode_item");
        (void)ddb::to_json(copy);
      }
      ddb::Item empty;
      (void)ddb::apply_update(*update, empty);
    }
  } else if (kind == "projection") {
    auto projection = ddb::parse_projection(in, *ctx);
    if (projection) {
      ddb::Item projected = ddb::project(item, *projection);
      (void)ddb::to_json(projected);
    }
  } else {
    return -1;  // not a kind: keep such inputs out of the corpus
  }
  (void)ctx->check_all_used();
  return 0;
}
