#include "orders/order.h"

#include <algorithm>
#include <iterator>
#include <cctype>

namespace orderflow::orders {

namespace {

// Active ISO 4217 codes (list one, 2025), sorted. XTS (testing) and XXX (no currency) are left
// out: neither names money an order can be paid in.
constexpr std::string_view kCurrencies[] = {
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP",
    "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP",
    "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS",
    "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW",
    "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD",
    "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN",
    "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR",
    "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL",
    "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY",
    "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES",
    "VND", "VUV", "WST", "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR",
    "XOF", "XPD", "XPF", "XPT", "XSU", "XUA", "YER", "ZAR", "ZMW", "ZWG", "ZWL"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// Reads exactly `n` digits at `s[pos]` into `out`.
bool read_digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

Rejection reject(std::string reason, const std::optional<std::string>& order_id) {
  return Rejection{std::move(reason), order_id};
}

// A checked number: a JSON number that parses as a non-negative Decimal storable in DynamoDB.
std::optional<Decimal> non_negative_number(const JsonValue& v) {
  if (!v.is_number()) return std::nullopt;
  auto d = Decimal::parse(v.as_number().text);
  if (!d || !fits_dynamodb_number(*d)) return std::nullopt;
  return d;
}

}  // namespace

bool is_valid_order_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxOrderIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '.' || c == ':';
  });
}

bool is_iso4217_currency(std::string_view code) {
  if (code.size() != 3) return false;
  return std::binary_search(std::begin(kCurrencies), std::end(kCurrencies), code);
}

bool is_rfc3339_date_time(std::string_view s) {
  // full-date "T" partial-time time-offset; "T" and "Z" may be lowercase (RFC 3339 5.6).
  int year, month, day, hour, minute, second;
  if (!read_digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' ||
      !read_digits(s, 5, 2, month) || s[7] != '-' || !read_digits(s, 8, 2, day) ||
      (s[10] != 'T' && s[10] != 't') || !read_digits(s, 11, 2, hour) || s[13] != ':' ||
      !read_digits(s, 14, 2, minute) || s[16] != ':' || !read_digits(s, 17, 2, second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return false;
  if (hour > 23 || minute > 59 || second > 60) return false;  // 60: a leap second
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    std::size_t start = ++pos;
    while (pos < s.size() && is_digit(s[pos])) ++pos;
    if (pos == start) return false;
  }
  if (pos >= s.size()) return false;
  if (s[pos] == 'Z' || s[pos] == 'z') return pos + 1 == s.size();
  if (s[pos] != '+' && s[pos] != '-') return false;
  int off_hour, off_minute;
  return pos + 6 == s.size() && read_digits(s, pos + 1, 2, off_hour) && s[pos + 3] == ':' &&
         read_digits(s, pos + 4, 2, off_minute) && off_hour <= 23 && off_minute <= 59;
}

bool is_plausible_email(std::string_view s) {
  if (s.size() > 254) return false;
  std::size_t at = s.find('@');
  if (at == std::string_view::npos || s.find('@', at + 1) != std::string_view::npos) return false;
  std::string_view local = s.substr(0, at);
  std::string_view domain = s.substr(at + 1);
  if (local.empty() || local.size() > 64 || domain.empty()) return false;
  constexpr std::string_view kLocalForbidden = "()<>[]\\,;:\"";
  for (char c : local) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || kLocalForbidden.find(c) != std::string_view::npos) return false;
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  // domain: dot-separated labels of letters, digits, hyphens (or UTF-8 for IDNs), at least two
  // labels, none empty, none starting or ending with a hyphen, the last at least 2 long.
  std::size_t labels = 0, start = 0;
  while (true) {
    std::size_t dot = domain.find('.', start);
    std::string_view label = domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      auto u = static_cast<unsigned char>(c);
      if (!(is_alpha(c) || is_digit(c) || c == '-' || u >= 0x80)) return false;
    }
    ++labels;
    if (dot == std::string_view::npos) return labels >= 2 && label.size() >= 2;
    start = dot + 1;
  }
}

bool fits_dynamodb_nesting(const JsonValue& value, int depth) {
  if (depth > kMaxDynamoDbNesting) return false;
  if (value.is_array()) {
    for (const auto& v : value.as_array())
      if (!fits_dynamodb_nesting(v, depth + 1)) return false;
  } else if (value.is_object()) {
    for (const auto& [name, v] : value.as_object())
      if (!fits_dynamodb_nesting(v, depth + 1)) return false;
  }
  return true;
}

bool fits_dynamodb_number(const Decimal& d) {
  if (d.is_zero()) return true;
  return d.significant_digits() <= 38 && d.magnitude() <= 125 && d.magnitude() >= -130;
}

const std::string* first_unstorable_number(const JsonValue& value) {
  if (value.is_number()) {
    const std::string& text = value.as_number().text;
    // The sign does not change what fits (Decimal holds magnitudes only).
    auto d = Decimal::parse(std::string_view(text).substr(text.starts_with('-') ? 1 : 0));
    return d && fits_dynamodb_number(*d) ? nullptr : &text;
  }
  if (value.is_array()) {
    for (const auto& v : value.as_array())
      if (const std::string* bad = first_unstorable_number(v)) return bad;
  } else if (value.is_object()) {
    for (const auto& [name, v] : value.as_object())
      if (const std::string* bad = first_unstorable_number(v)) return bad;
  }
  return nullptr;
}

OrderResult parse_order(std::string_view json_text) {
  auto doc = parse_json(json_text);
  if (!doc) return std::unexpected(reject("order is not valid JSON: " + doc.error().message, {}));
  return validate_order(std::move(*doc));
}

OrderResult validate_order(JsonValue document) {
  if (!document.is_object()) {
    return std::unexpected(
        reject("order must be a JSON object, not " + std::string(document.type_name()), {}));
  }
  Order order;
  std::optional<std::string> id;

  const JsonValue* order_id = document.find("orderId");
  if (order_id == nullptr) return std::unexpected(reject("orderId is required", {}));
  if (!order_id->is_string()) return std::unexpected(reject("orderId must be a string", {}));
  if (!is_valid_order_id(order_id->as_string())) {
    return std::unexpected(reject(
        "orderId must be 1 to 128 characters of letters, digits, '-', '_', '.' and ':'", {}));
  }
  id = order_id->as_string();
  order.order_id = *id;

  for (const auto& [name, value] : document.as_object()) {
    if (name.empty()) return std::unexpected(reject("field names must not be empty", id));
  }
  if (const std::string* dup = find_duplicate_member(document)) {
    return std::unexpected(reject("field '" + *dup + "' appears more than once", id));
  }
  for (const auto& [name, value] : document.as_object()) {
    if (!fits_dynamodb_nesting(value, 1)) {
      return std::unexpected(reject("field '" + name + "' is nested more than " +
                                        std::to_string(kMaxDynamoDbNesting) +
                                        " levels deep, more than DynamoDB stores",
                                    id));
    }
  }
  // Checked fields give their own reason below; a number anywhere else that DynamoDB cannot
  // hold would fail every PutItem, so the order is rejected here as what it is.
  static constexpr std::string_view kChecked[] = {"items", "total"};
  for (const auto& [name, value] : document.as_object()) {
    if (std::find(std::begin(kChecked), std::end(kChecked), name) != std::end(kChecked)) continue;
    if (const std::string* bad = first_unstorable_number(value)) {
      return std::unexpected(reject("field '" + name + "' holds the number " + bad->substr(0, 64) +
                                        ", which DynamoDB cannot store (at most 38 significant digits, "
                                        "magnitude 1E-130 to 1E+125)",
                                    id));
    }
  }

  if (const JsonValue* v = document.find("customerId")) {
    if (!v->is_string() || v->as_string().empty() || v->as_string().size() > 256) {
      return std::unexpected(reject("customerId must be a non-empty string of at most 256 characters", id));
    }
    order.customer_id = v->as_string();
  }

  if (const JsonValue* v = document.find("items")) {
    if (!v->is_array()) return std::unexpected(reject("items must be an array", id));
    if (v->as_array().empty()) return std::unexpected(reject("items must not be empty", id));
    std::vector<OrderItem> items;
    const auto& array = v->as_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
      std::string at = "items[" + std::to_string(i) + "]";
      const JsonValue& item = array[i];
      if (!item.is_object()) return std::unexpected(reject(at + " must be an object", id));
      OrderItem out;
      const JsonValue* sku = item.find("sku");
      if (sku == nullptr) return std::unexpected(reject(at + ".sku is required", id));
      if (!sku->is_string() || sku->as_string().empty()) {
        return std::unexpected(reject(at + ".sku must be a non-empty string", id));
      }
      out.sku = sku->as_string();
      const JsonValue* quantity = item.find("quantity");
      if (quantity == nullptr) return std::unexpected(reject(at + ".quantity is required", id));
      auto q = non_negative_number(*quantity);
      if (!q || q->is_zero() || !q->is_integer()) {
        return std::unexpected(reject(at + ".quantity must be a positive integer", id));
      }
      out.quantity = *q;
      const JsonValue* price = item.find("unitPrice");
      if (price == nullptr) return std::unexpected(reject(at + ".unitPrice is required", id));
      auto p = non_negative_number(*price);
      if (!p) return std::unexpected(reject(at + ".unitPrice must be a non-negative decimal number", id));
      out.unit_price = *p;
      items.push_back(std::move(out));
    }
    order.items = std::move(items);
  }

  if (const JsonValue* v = document.find("currency")) {
    if (!v->is_string() || !is_iso4217_currency(v->as_string())) {
      return std::unexpected(
          reject("currency must be an ISO 4217 code of three uppercase letters, like USD", id));
    }
    order.currency = v->as_string();
  }

  if (const JsonValue* v = document.find("total")) {
    auto t = non_negative_number(*v);
    if (!t) return std::unexpected(reject("total must be a non-negative decimal number", id));
    order.total = *t;
    if (order.items) {
      Decimal sum;
      for (const auto& item : *order.items) sum = sum + item.quantity * item.unit_price;
      if (!(sum == *t)) {
        return std::unexpected(reject("total " + v->as_number().text +
                                          " does not equal the sum of the items, " +
                                          sum.to_string(),
                                      id));
      }
    }
  }

  if (const JsonValue* v = document.find("createdAt")) {
    if (!v->is_string() || !is_rfc3339_date_time(v->as_string())) {
      return std::unexpected(reject(
          "createdAt must be an RFC 3339 date-time, like 2024-05-01T12:30:00Z", id));
    }
    order.created_at = v->as_string();
  }

  if (const JsonValue* v = document.find("email")) {
    if (!v->is_string() || !is_plausible_email(v->as_string())) {
      return std::unexpected(reject("email must be an address like name@example.com", id));
    }
    order.email = v->as_string();
  }

  order.document = std::move(document);
  return order;
}

}  // namespace orderflow::orders
