#include "orders/json.h"

#include <boost/json/basic_parser_impl.hpp>
#include <cstdio>
#include <set>

namespace orderflow::orders {

const JsonValue* JsonValue::find(std::string_view name) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : as_object()) {
    if (k == name) return &v;
  }
  return nullptr;
}

std::string_view JsonValue::type_name() const {
  switch (v_.index()) {
    case 0: return "null";
    case 1: return "boolean";
    case 2: return "number";
    case 3: return "string";
    case 4: return "array";
    default: return "object";
  }
}

namespace {

namespace bj = boost::json;

// Builds JsonValues from Boost.JSON's parse events. Containers under construction live on
// `stack_`; a finished value is attached to the container on top (or becomes the root).
class Builder {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  bool on_document_begin(bj::error_code&) { return true; }
  bool on_document_end(bj::error_code&) { return true; }
  bool on_array_begin(bj::error_code&) {
    stack_.push_back(Frame{JsonValue(JsonArray{}), {}});
    return true;
  }
  bool on_array_end(std::size_t, bj::error_code&) { return close(); }
  bool on_object_begin(bj::error_code&) {
    stack_.push_back(Frame{JsonValue(JsonObject{}), {}});
    return true;
  }
  bool on_object_end(std::size_t, bj::error_code&) { return close(); }
  bool on_string_part(bj::string_view s, std::size_t, bj::error_code&) {
    text_.append(s.data(), s.size());
    return true;
  }
  bool on_string(bj::string_view s, std::size_t, bj::error_code&) {
    text_.append(s.data(), s.size());
    return add(JsonValue(take_text()));
  }
  bool on_key_part(bj::string_view s, std::size_t, bj::error_code&) {
    text_.append(s.data(), s.size());
    return true;
  }
  bool on_key(bj::string_view s, std::size_t, bj::error_code&) {
    text_.append(s.data(), s.size());
    stack_.back().key = take_text();
    return true;
  }
  bool on_number_part(bj::string_view s, bj::error_code&) {
    text_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t, bj::string_view s, bj::error_code&) { return number(s); }
  bool on_uint64(std::uint64_t, bj::string_view s, bj::error_code&) { return number(s); }
  bool on_double(double, bj::string_view s, bj::error_code&) { return number(s); }
  bool on_bool(bool b, bj::error_code&) { return add(JsonValue(b)); }
  bool on_null(bj::error_code&) { return add(JsonValue(nullptr)); }
  bool on_comment_part(bj::string_view, bj::error_code&) { return true; }
  bool on_comment(bj::string_view, bj::error_code&) { return true; }

  JsonValue take_root() { return std::move(root_); }

 private:
  struct Frame {
    JsonValue container;
    std::string key;  // pending member name (objects only)
  };

  std::string take_text() {
    std::string s = std::move(text_);
    text_.clear();
    return s;
  }
  bool number(bj::string_view s) {
    text_.append(s.data(), s.size());
    return add(JsonValue(JsonNumber{take_text()}));
  }
  bool add(JsonValue v) {
    if (stack_.empty()) {
      root_ = std::move(v);
    } else if (Frame& top = stack_.back(); top.container.is_array()) {
      top.container.as_array().push_back(std::move(v));
    } else {
      top.container.as_object().emplace_back(std::move(top.key), std::move(v));
      top.key.clear();
    }
    return true;
  }
  bool close() {
    JsonValue done = std::move(stack_.back().container);
    stack_.pop_back();
    return add(std::move(done));
  }

  std::vector<Frame> stack_;
  std::string text_;
  JsonValue root_;
};

void write_value(std::string& out, const JsonValue& v) {
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          out += "null";
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, JsonNumber>) {
          out += x.text;
        } else if constexpr (std::is_same_v<T, std::string>) {
          append_json_string(out, x);
        } else if constexpr (std::is_same_v<T, JsonArray>) {
          out += '[';
          for (std::size_t i = 0; i < x.size(); ++i) {
            if (i) out += ',';
            write_value(out, x[i]);
          }
          out += ']';
        } else {
          out += '{';
          for (std::size_t i = 0; i < x.size(); ++i) {
            if (i) out += ',';
            append_json_string(out, x[i].first);
            out += ':';
            write_value(out, x[i].second);
          }
          out += '}';
        }
      },
      v.storage());
}

}  // namespace

std::expected<JsonValue, JsonParseError> parse_json(std::string_view text) {
  bj::parse_options options;
  options.max_depth = kMaxJsonDepth;
  bj::basic_parser<Builder> parser(options);
  bj::error_code ec;
  std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && used < text.size()) ec = bj::error::extra_data;
  if (ec) {
    JsonParseError err;
    err.offset = used;
    err.message = ec.message() + " at offset " + std::to_string(used);
    return std::unexpected(std::move(err));
  }
  return parser.handler().take_root();
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string to_json(const JsonValue& value) {
  std::string out;
  write_value(out, value);
  return out;
}

const std::string* find_duplicate_member(const JsonValue& value) {
  if (value.is_array()) {
    for (const auto& e : value.as_array()) {
      if (const auto* d = find_duplicate_member(e)) return d;
    }
  } else if (value.is_object()) {
    std::set<std::string_view> seen;
    for (const auto& [k, v] : value.as_object()) {
      if (!seen.insert(k).second) return &k;
    }
    for (const auto& [k, v] : value.as_object()) {
      if (const auto* d = find_duplicate_member(v)) return d;
    }
  }
  return nullptr;
}

}  // namespace orderflow::orders
