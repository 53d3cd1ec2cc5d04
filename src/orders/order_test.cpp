#include "orders/order.h"

#include <gtest/gtest.h>

#include <string>

namespace orderflow::orders {
namespace {

// A complete valid order; tests replace one field at a time.
std::string order_with(const std::string& field, const std::string& json_value) {
  std::string members[][2] = {
      {"orderId", R"("order-1")"},
      {"customerId", R"("c-42")"},
      {"items", R"([{"sku":"A-1","quantity":2,"unitPrice":12.50},{"sku":"B","quantity":1,"unitPrice":0.1}])"},
      {"currency", R"("EUR")"},
      {"total", "25.10"},
      {"createdAt", R"("2024-05-01T12:30:00.250Z")"},
      {"email", R"("jane.doe@example.com")"},
  };
  std::string out = "{";
  bool found = false;
  for (auto& [name, value] : members) {
    std::string v = value;
    if (name == field) {
      found = true;
      if (json_value.empty()) continue;  // "" removes the field
      v = json_value;
    }
    if (out.size() > 1) out += ',';
    out += '"' + name + "\":" + v;
  }
  if (!found && !json_value.empty()) {
    if (out.size() > 1) out += ',';
    out += '"' + field + "\":" + json_value;
  }
  return out + "}";
}

std::string reason_for(const std::string& json) {
  auto r = parse_order(json);
  if (r.has_value()) return "(accepted)";
  return r.error().reason;
}

TEST(Order, AcceptsACompleteValidOrder) {
  auto r = parse_order(order_with("", ""));
  ASSERT_TRUE(r.has_value()) << r.error().reason;
  EXPECT_EQ(r->order_id, "order-1");
  EXPECT_EQ(r->customer_id, "c-42");
  ASSERT_TRUE(r->items.has_value());
  ASSERT_EQ(r->items->size(), 2u);
  EXPECT_EQ((*r->items)[0].sku, "A-1");
  EXPECT_EQ((*r->items)[0].unit_price.to_string(), "12.5");
  EXPECT_EQ(r->currency, "EUR");
  EXPECT_EQ(r->total->to_string(), "25.1");
  EXPECT_EQ(r->created_at, "2024-05-01T12:30:00.250Z");
  EXPECT_EQ(r->email, "jane.doe@example.com");
}

TEST(Order, AcceptsAnOrderWithOnlyAnOrderId) {
  auto r = parse_order(R"({"orderId":"o"})");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->items.has_value());
  EXPECT_FALSE(r->total.has_value());
}

TEST(Order, KeepsUnknownFieldsWithExactNumbersAndOrder) {
  auto r = parse_order(R"({"giftWrap":true,"orderId":"o-1","weight":1.250,"notes":{"a":[1,null]}})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(to_json(r->document),
            R"({"giftWrap":true,"orderId":"o-1","weight":1.250,"notes":{"a":[1,null]}})");
}

TEST(Order, RejectsTextThatIsNotJson) {
  EXPECT_EQ(reason_for("{not json").rfind("order is not valid JSON", 0), 0u);
  EXPECT_EQ(reason_for("").rfind("order is not valid JSON", 0), 0u);
}

TEST(Order, RejectsJsonThatIsNotAnObject) {
  EXPECT_EQ(reason_for(R"(["orderId"])"), "order must be a JSON object, not array");
  EXPECT_EQ(reason_for(R"("o-1")"), "order must be a JSON object, not string");
}

TEST(Order, RequiresAnOrderId) {
  EXPECT_EQ(reason_for(order_with("orderId", "")), "orderId is required");
  EXPECT_EQ(reason_for(order_with("orderId", "42")), "orderId must be a string");
  EXPECT_EQ(reason_for(order_with("orderId", "null")), "orderId must be a string");
}

TEST(Order, OrderIdIsOneTo128AllowedCharacters) {
  const std::string rule =
      "orderId must be 1 to 128 characters of letters, digits, '-', '_', '.' and ':'";
  EXPECT_EQ(reason_for(order_with("orderId", R"("")")), rule);
  EXPECT_EQ(reason_for(order_with("orderId", '"' + std::string(129, 'a') + '"')), rule);
  for (const char* bad : {"a b", "a/b", "a#b", "ä", "a\\u0000"}) {
    EXPECT_EQ(reason_for(order_with("orderId", std::string("\"") + bad + "\"")), rule) << bad;
  }
  EXPECT_TRUE(parse_order(order_with("orderId", '"' + std::string(128, 'a') + '"')).has_value());
  EXPECT_TRUE(parse_order(order_with("orderId", R"("Az09-_.:x")")).has_value());
  EXPECT_TRUE(is_valid_order_id("a"));
  EXPECT_FALSE(is_valid_order_id("a+b"));
}

TEST(Order, RejectionCarriesTheOrderIdWhenItWasValid) {
  auto r = parse_order(order_with("currency", R"("usd")"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().order_id, "order-1");
  auto no_id = parse_order(R"({"orderId":""})");
  ASSERT_FALSE(no_id.has_value());
  EXPECT_FALSE(no_id.error().order_id.has_value());
}

TEST(Order, CustomerIdIsANonEmptyString) {
  const std::string rule = "customerId must be a non-empty string of at most 256 characters";
  EXPECT_EQ(reason_for(order_with("customerId", "7")), rule);
  EXPECT_EQ(reason_for(order_with("customerId", R"("")")), rule);
  EXPECT_EQ(reason_for(order_with("customerId", '"' + std::string(257, 'c') + '"')), rule);
}

TEST(Order, ItemsIsANonEmptyArrayOfObjects) {
  EXPECT_EQ(reason_for(order_with("items", R"({"sku":"A"})")), "items must be an array");
  EXPECT_EQ(reason_for(order_with("items", "[]")), "items must not be empty");
  EXPECT_EQ(reason_for(order_with("items", R"(["A"])")), "items[0] must be an object");
}

TEST(Order, EachItemNeedsASku) {
  EXPECT_EQ(reason_for(order_with("items", R"([{"quantity":1,"unitPrice":1}])")),
            "items[0].sku is required");
  EXPECT_EQ(reason_for(order_with("items", R"([{"sku":"","quantity":1,"unitPrice":1}])")),
            "items[0].sku must be a non-empty string");
  EXPECT_EQ(reason_for(order_with("items", R"([{"sku":5,"quantity":1,"unitPrice":1}])")),
            "items[0].sku must be a non-empty string");
}

TEST(Order, QuantityIsAPositiveInteger) {
  auto with_quantity = [](const std::string& q) {
    return order_with("items", R"([{"sku":"A","quantity":)" + q + R"(,"unitPrice":1}])") ;
  };
  const std::string rule = "items[0].quantity must be a positive integer";
  for (const char* bad : {"0", "-1", "1.5", "\"2\"", "null", "true", "1e-1"}) {
    EXPECT_EQ(reason_for(with_quantity(bad)).substr(0, rule.size()), rule) << bad;
  }
  EXPECT_EQ(reason_for(order_with("items", R"([{"sku":"A","unitPrice":1}])")),
            "items[0].quantity is required");
  // total is absent in these, so only the item rules apply
  auto ok = [&](const std::string& q) {
    return parse_order(R"({"orderId":"o","items":[{"sku":"A","quantity":)" + q +
                       R"(,"unitPrice":1}]})");
  };
  EXPECT_TRUE(ok("3").has_value());
  EXPECT_TRUE(ok("2.0").has_value());
  EXPECT_TRUE(ok("1e2").has_value());
}

TEST(Order, UnitPriceIsANonNegativeDecimal) {
  auto with_price = [](const std::string& p) {
    return R"({"orderId":"o","items":[{"sku":"A","quantity":1,"unitPrice":)" + p + "}]}";
  };
  const std::string rule = "items[0].unitPrice must be a non-negative decimal number";
  for (const char* bad : {"-0.01", "\"1.00\"", "null", "[]"}) {
    EXPECT_EQ(reason_for(with_price(bad)), rule) << bad;
  }
  EXPECT_EQ(reason_for(R"({"orderId":"o","items":[{"sku":"A","quantity":1}]})"),
            "items[0].unitPrice is required");
  EXPECT_TRUE(parse_order(with_price("0")).has_value());
  EXPECT_TRUE(parse_order(with_price("19.99")).has_value());
}

TEST(Order, NumbersMustFitADynamoDbNumber) {
  auto with_price = [](const std::string& p) {
    return R"({"orderId":"o","items":[{"sku":"A","quantity":1,"unitPrice":)" + p + "}]}";
  };
  EXPECT_FALSE(parse_order(with_price("1" + std::string(38, '1'))).has_value());  // 39 digits
  EXPECT_TRUE(parse_order(with_price(std::string(38, '9'))).has_value());
  EXPECT_FALSE(parse_order(with_price("1e126")).has_value());
  EXPECT_TRUE(parse_order(with_price("9.99e125")).has_value());
  EXPECT_FALSE(parse_order(with_price("1e-131")).has_value());
  EXPECT_TRUE(parse_order(with_price("1e-130")).has_value());
}

TEST(Order, ItemsKeepTheirUnknownFields) {
  auto r = parse_order(R"({"orderId":"o","items":[{"sku":"A","quantity":1,"unitPrice":1,"color":"red"}]})");
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(to_json(r->document).find(R"("color":"red")"), std::string::npos);
}

TEST(Order, CurrencyIsAnIso4217Code) {
  const std::string rule = "currency must be an ISO 4217 code of three uppercase letters, like USD";
  for (const char* bad : {"\"usd\"", "\"US\"", "\"USDD\"", "\"ABC\"", "\"XXX\"", "840", "null"}) {
    EXPECT_EQ(reason_for(order_with("currency", bad)), rule) << bad;
  }
  for (const char* good : {"USD", "EUR", "JPY", "GBP", "CHF", "AED", "ZMW"}) {
    EXPECT_TRUE(is_iso4217_currency(good)) << good;
  }
  EXPECT_FALSE(is_iso4217_currency("DEM"));  // withdrawn in 2002
}

TEST(Order, TotalIsANonNegativeDecimal) {
  const std::string rule = "total must be a non-negative decimal number";
  EXPECT_EQ(reason_for(R"({"orderId":"o","total":-5})"), rule);
  EXPECT_EQ(reason_for(R"({"orderId":"o","total":"5"})"), rule);
  EXPECT_TRUE(parse_order(R"({"orderId":"o","total":5})").has_value());
  EXPECT_TRUE(parse_order(R"({"orderId":"o","total":0})").has_value());
}

TEST(Order, TotalEqualsTheSumOfTheItemsExactly) {
  EXPECT_EQ(reason_for(order_with("total", "25.11")),
            "total 25.11 does not equal the sum of the items, 25.1");
  EXPECT_TRUE(parse_order(order_with("total", "25.1")).has_value());
  EXPECT_TRUE(parse_order(order_with("total", "25.1000")).has_value());
  // three times 0.1 is 0.3 exactly (a double sum would be 0.30000000000000004)
  EXPECT_TRUE(parse_order(R"({"orderId":"o","total":0.3,"items":[{"sku":"A","quantity":3,"unitPrice":0.1}]})")
                  .has_value());
  EXPECT_FALSE(parse_order(R"({"orderId":"o","total":0.30000000000000004,"items":[{"sku":"A","quantity":3,"unitPrice":0.1}]})")
                   .has_value());
}

TEST(Order, CreatedAtIsAnRfc3339DateTime) {
  const std::string rule = "createdAt must be an RFC 3339 date-time, like 2024-05-01T12:30:00Z";
  for (const char* bad : {"2024-05-01", "2024-05-01 12:30:00Z", "2024-05-01T12:30:00",
                          "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
                          "2024-05-01T24:00:00Z", "2024-05-01T12:60:00Z", "2024-05-01T12:30:00.Z",
                          "2024-05-01T12:30:00+0200", "2024-05-01T12:30:00+24:00", "1714566600",
                          "2024-05-01T12:30:00Zjunk"}) {
    EXPECT_FALSE(is_rfc3339_date_time(bad)) << bad;
  }
  EXPECT_EQ(reason_for(order_with("createdAt", R"("yesterday")")), rule);
  EXPECT_EQ(reason_for(order_with("createdAt", "1714566600")), rule);
  for (const char* good : {"2024-05-01T12:30:00Z", "2024-05-01t12:30:00z", "2024-02-29T23:59:60Z",
                           "2024-05-01T14:30:00+02:00", "2024-05-01T12:30:00.123456-07:30"}) {
    EXPECT_TRUE(is_rfc3339_date_time(good)) << good;
  }
}

TEST(Order, EmailHasABasicAddressShape) {
  const std::string rule = "email must be an address like name@example.com";
  for (const char* bad : {"jane", "jane@", "@example.com", "jane@example", "ja ne@example.com",
                          "jane@@example.com", "jane@exa mple.com", "jane@.example.com",
                          "jane@example..com", "jane@-example.com", ".jane@example.com",
                          "ja..ne@example.com", "jane@example.c", "a@b@example.com"}) {
    EXPECT_FALSE(is_plausible_email(bad)) << bad;
  }
  EXPECT_EQ(reason_for(order_with("email", R"("not-an-address")")), rule);
  EXPECT_EQ(reason_for(order_with("email", "5")), rule);
  for (const char* good : {"jane@example.com", "jane.doe+orders@mail.example.co.uk", "a@b.io"}) {
    EXPECT_TRUE(is_plausible_email(good)) << good;
  }
}

TEST(Order, RejectsDuplicateAndEmptyFieldNames) {
  EXPECT_EQ(reason_for(R"({"orderId":"o","total":1,"total":2})"), "field 'total' appears more than once");
  EXPECT_EQ(reason_for(R"({"orderId":"o","meta":{"k":1,"k":2}})"), "field 'k' appears more than once");
  EXPECT_EQ(reason_for(R"({"orderId":"o","":1})"), "field names must not be empty");
}

// Found by the fuzzer (fuzz/regressions/order): an order nested deeper than DynamoDB stores
// passed validation, and its PutItem then failed on every delivery.
TEST(Order, RejectsNestingDeeperThanDynamoDbStores) {
  auto nested = [](int levels) {
    return R"({"orderId":"o","x":)" + std::string(levels, '[') + std::string(levels, ']') + "}";
  };
  EXPECT_TRUE(parse_order(nested(kMaxDynamoDbNesting)).has_value());
  EXPECT_EQ(reason_for(nested(kMaxDynamoDbNesting + 1)),
            "field 'x' is nested more than 32 levels deep, more than DynamoDB stores");
  EXPECT_TRUE(parse_order(R"({"orderId":"o","m":)" + std::string(30, '[') + R"({"k":1})" + std::string(30, ']') + "}")
                  .has_value());
  EXPECT_FALSE(parse_order(R"({"orderId":"o","m":)" + std::string(31, '[') + R"({"k":1})" + std::string(31, ']') + "}")
                   .has_value());
}

// An order whose kept fields hold a number DynamoDB cannot store (magnitude, precision, or one
// too large to parse at all) is rejected as invalid, not retried as a store error until the DLQ.
TEST(Order, RejectsNumbersDynamoDbCannotStoreAnywhereInTheOrder) {
  EXPECT_EQ(reason_for(R"({"orderId":"o","meta":1e400})"),
            "field 'meta' holds the number 1e400, which DynamoDB cannot store (at most 38 significant "
            "digits, magnitude 1E-130 to 1E+125)");
  EXPECT_FALSE(parse_order(R"({"orderId":"o","meta":{"a":[1,2,{"b":1e-131}]}})").has_value());
  EXPECT_FALSE(parse_order(R"({"orderId":"o","n":123456789012345678901234567890123456789})").has_value());
  EXPECT_FALSE(parse_order(R"({"orderId":"o","n":1e99999999999999999999})").has_value());
  EXPECT_TRUE(parse_order(R"({"orderId":"o","n":12345678901234567890123456789012345678})").has_value());
  EXPECT_TRUE(parse_order(R"({"orderId":"o","n":9.9e125,"m":[1e-130,0,-0.0,-7.25,-9.9e125]})").has_value());
  EXPECT_FALSE(parse_order(R"({"orderId":"o","m":[-1e126]})").has_value());
  // The checked fields keep their own reasons.
  EXPECT_EQ(reason_for(R"({"orderId":"o","total":1e400})"), "total must be a non-negative decimal number");
}

}  // namespace
}  // namespace orderflow::orders
