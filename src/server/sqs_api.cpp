#include "server/sqs_api.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/util.h"
#include "server/wire.h"
#include "server/xml.h"

namespace orderflow::server {
namespace {

namespace json = boost::json;
using engine::MessageAttributes;
using engine::MessageAttributeValue;
using StringMap = std::map<std::string, std::string>;

constexpr std::size_t kMaxJsonDepth = 32;

Error missing(std::string_view name) {
  return Error{ErrorCode::missing_parameter,
               "The request must contain the parameter " + std::string(name) + "."};
}

Error invalid(std::string_view name, std::string_view value, std::string_view reason) {
  return Error{ErrorCode::invalid_parameter_value, "Value " + std::string(value) + " for parameter " +
                                                       std::string(name) + " is invalid. Reason: " +
                                                       std::string(reason)};
}

Error wrong_type(std::string_view name, std::string_view expected) {
  return Error{ErrorCode::invalid_parameter_value,
               "Value for parameter " + std::string(name) + " is invalid. Reason: expected " +
                   std::string(expected) + "."};
}

// ---- Input: one reader interface over form parameters and over JSON ------------------------

// Reads the members of one request structure (the request itself or one batch entry). Every
// getter names the member as the JSON protocol does; the query protocol's flattened name is
// passed where it differs. Absent members are nullopt / empty.
class Input {
 public:
  virtual ~Input() = default;
  virtual Result<std::optional<std::string>> str(std::string_view name) = 0;
  virtual Result<std::optional<std::int64_t>> integer(std::string_view name) = 0;
  // A list of strings: JSON array `json_name`, query `query_name.N`.
  virtual Result<std::vector<std::string>> strings(std::string_view json_name,
                                                   std::string_view query_name) = 0;
  // A string map: JSON object `json_name`, query `entry.N.<key>` / `entry.N.<value>`.
  virtual Result<StringMap> string_map(std::string_view json_name, std::string_view entry,
                                       std::string_view key, std::string_view value) = 0;
  // Message attributes: JSON {"n": {"DataType","StringValue","BinaryValue"}}, query
  // `entry.N.Name`, `entry.N.Value.DataType|StringValue|BinaryValue`; binary values base64.
  virtual Result<MessageAttributes> attributes(std::string_view json_name, std::string_view entry) = 0;
  // A list of structures: JSON array of objects, query `entry.N.<member>`.
  virtual Result<std::vector<std::unique_ptr<Input>>> structs(std::string_view json_name,
                                                              std::string_view entry) = 0;
};

Result<int> to_int(std::string_view name, std::int64_t v) {
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
    return std::unexpected(invalid(name, std::to_string(v), "Value is out of range."));
  return static_cast<int>(v);
}

Result<std::string> decode_binary(std::string_view name, std::string_view text) {
  auto raw = base64_decode(text);
  if (!raw) return std::unexpected(wrong_type(name, "base64-encoded binary data"));
  return std::move(*raw);
}

// Form parameters, under a prefix such as "SendMessageBatchRequestEntry.3.".
class QueryInput final : public Input {
 public:
  using Params = std::map<std::string, std::string, std::less<>>;
  QueryInput(const Params& params, std::string prefix) : params_(params), prefix_(std::move(prefix)) {}

  Result<std::optional<std::string>> str(std::string_view name) override {
    auto it = params_.find(prefix_ + std::string(name));
    if (it == params_.end()) return std::optional<std::string>();
    if (!is_valid_utf8(it->second)) return std::unexpected(wrong_type(name, "valid UTF-8 text"));
    return std::optional<std::string>(it->second);
  }

  Result<std::optional<std::int64_t>> integer(std::string_view name) override {
    auto it = params_.find(prefix_ + std::string(name));
    if (it == params_.end()) return std::optional<std::int64_t>();
    return parse_int(name, it->second);
  }

  Result<std::vector<std::string>> strings(std::string_view, std::string_view query_name) override {
    std::vector<std::string> out;
    for (auto& [n, key] : indexed(query_name, false)) {
      auto it = params_.find(key);
      if (!is_valid_utf8(it->second)) return std::unexpected(wrong_type(query_name, "valid UTF-8 text"));
      out.push_back(it->second);
    }
    // "AttributeName=All" without an index, as some clients send a one-element list.
    if (auto it = params_.find(prefix_ + std::string(query_name)); it != params_.end() && !it->second.empty())
      out.push_back(it->second);
    return out;
  }

  Result<StringMap> string_map(std::string_view, std::string_view entry, std::string_view key,
                               std::string_view value) override {
    StringMap out;
    for (auto& [n, sub] : indexed(entry, true)) {
      QueryInput in(params_, sub);
      auto k = in.str(key);
      if (!k) return std::unexpected(k.error());
      auto v = in.str(value);
      if (!v) return std::unexpected(v.error());
      if (!*k) return std::unexpected(missing(sub + std::string(key)));
      out[**k] = v->value_or("");
    }
    return out;
  }

  Result<MessageAttributes> attributes(std::string_view, std::string_view entry) override {
    MessageAttributes out;
    for (auto& [n, sub] : indexed(entry, true)) {
      QueryInput in(params_, sub);
      auto name = in.str("Name");
      if (!name) return std::unexpected(name.error());
      if (!*name) return std::unexpected(missing(sub + "Name"));
      MessageAttributeValue v;
      auto type = in.str("Value.DataType");
      if (!type) return std::unexpected(type.error());
      v.data_type = type->value_or("");
      auto s = in.str("Value.StringValue");
      if (!s) return std::unexpected(s.error());
      v.string_value = s->value_or("");
      if (auto it = params_.find(sub + "Value.BinaryValue"); it != params_.end()) {
        auto raw = decode_binary(sub + "Value.BinaryValue", it->second);
        if (!raw) return std::unexpected(raw.error());
        v.binary_value = std::move(*raw);
      }
      out[**name] = std::move(v);
    }
    return out;
  }

  Result<std::vector<std::unique_ptr<Input>>> structs(std::string_view, std::string_view entry) override {
    std::vector<std::unique_ptr<Input>> out;
    for (auto& [n, sub] : indexed(entry, true)) out.push_back(std::make_unique<QueryInput>(params_, sub));
    return out;
  }

 private:
  static Result<std::optional<std::int64_t>> parse_int(std::string_view name, std::string_view text) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || text.empty())
      return std::unexpected(invalid(name, text, "Must be an integer."));
    return std::optional<std::int64_t>(v);
  }

  // The indexes N of keys `<prefix><name>.N` (structs: `<prefix><name>.N.<anything>`) in
  // ascending order, each with the key (structs: the sub-prefix `<prefix><name>.N.`).
  std::vector<std::pair<long, std::string>> indexed(std::string_view name, bool structs) const {
    std::string base = prefix_ + std::string(name) + ".";
    std::map<long, std::string> found;
    for (auto it = params_.lower_bound(base); it != params_.end() && it->first.starts_with(base); ++it) {
      std::string_view rest = std::string_view(it->first).substr(base.size());
      std::size_t dot = rest.find('.');
      if (structs != (dot != std::string_view::npos)) continue;
      std::string_view digits = rest.substr(0, dot);
      long n = 0;
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (ec != std::errc() || p != digits.data() + digits.size() || digits.empty() || n < 1) continue;
      found.emplace(n, structs ? base + std::string(digits) + "." : it->first);
    }
    return {found.begin(), found.end()};
  }

  const Params& params_;
  std::string prefix_;
};

// A JSON object (the request body or one element of a list of structures).
class JsonInput final : public Input {
 public:
  explicit JsonInput(const json::object& obj) : obj_(obj) {}

  Result<std::optional<std::string>> str(std::string_view name) override {
    const json::value* v = find(name);
    if (v == nullptr) return std::optional<std::string>();
    if (!v->is_string()) return std::unexpected(wrong_type(name, "a string"));
    return std::optional<std::string>(std::string(v->get_string()));
  }

  Result<std::optional<std::int64_t>> integer(std::string_view name) override {
    const json::value* v = find(name);
    if (v == nullptr) return std::optional<std::int64_t>();
    if (v->is_int64()) return std::optional<std::int64_t>(v->get_int64());
    if (v->is_uint64()) return std::unexpected(invalid(name, std::to_string(v->get_uint64()), "Value is out of range."));
    return std::unexpected(wrong_type(name, "an integer"));
  }

  Result<std::vector<std::string>> strings(std::string_view json_name, std::string_view) override {
    std::vector<std::string> out;
    const json::value* v = find(json_name);
    if (v == nullptr) return out;
    if (!v->is_array()) return std::unexpected(wrong_type(json_name, "a list of strings"));
    for (const auto& e : v->get_array()) {
      if (!e.is_string()) return std::unexpected(wrong_type(json_name, "a list of strings"));
      out.emplace_back(e.get_string());
    }
    return out;
  }

  Result<StringMap> string_map(std::string_view json_name, std::string_view, std::string_view,
                               std::string_view) override {
    StringMap out;
    const json::value* v = find(json_name);
    if (v == nullptr) return out;
    if (!v->is_object()) return std::unexpected(wrong_type(json_name, "a map of strings"));
    for (const auto& [k, e] : v->get_object()) {
      if (!e.is_string()) return std::unexpected(wrong_type(json_name, "a map of strings"));
      out[std::string(k)] = std::string(e.get_string());
    }
    return out;
  }

  Result<MessageAttributes> attributes(std::string_view json_name, std::string_view) override {
    MessageAttributes out;
    const json::value* v = find(json_name);
    if (v == nullptr) return out;
    if (!v->is_object()) return std::unexpected(wrong_type(json_name, "a map of attribute values"));
    for (const auto& [k, e] : v->get_object()) {
      if (!e.is_object()) return std::unexpected(wrong_type(json_name, "a map of attribute values"));
      JsonInput in(e.get_object());
      MessageAttributeValue a;
      auto type = in.str("DataType");
      if (!type) return std::unexpected(type.error());
      a.data_type = type->value_or("");
      auto s = in.str("StringValue");
      if (!s) return std::unexpected(s.error());
      a.string_value = s->value_or("");
      auto b = in.str("BinaryValue");
      if (!b) return std::unexpected(b.error());
      if (*b) {
        auto raw = decode_binary("BinaryValue", **b);
        if (!raw) return std::unexpected(raw.error());
        a.binary_value = std::move(*raw);
      }
      out[std::string(k)] = std::move(a);
    }
    return out;
  }

  Result<std::vector<std::unique_ptr<Input>>> structs(std::string_view json_name, std::string_view) override {
    std::vector<std::unique_ptr<Input>> out;
    const json::value* v = find(json_name);
    if (v == nullptr) return out;
    if (!v->is_array()) return std::unexpected(wrong_type(json_name, "a list of structures"));
    for (const auto& e : v->get_array()) {
      if (!e.is_object()) return std::unexpected(wrong_type(json_name, "a list of structures"));
      out.push_back(std::make_unique<JsonInput>(e.get_object()));
    }
    return out;
  }

 private:
  const json::value* find(std::string_view name) const {
    auto it = obj_.find(name);
    if (it == obj_.end() || it->value().is_null()) return nullptr;
    return &it->value();
  }
  const json::object& obj_;
};

// ---- Output: one result tree, rendered as XML or JSON --------------------------------------

// A result value. Objects keep member order (the XML element order). Lists and maps carry
// the element names the query protocol uses for their (flattened) items.
struct Member;

struct Node {
  enum class Kind { string, integer, boolean, object, list, map };
  Kind kind = Kind::object;
  std::string text;
  std::int64_t number = 0;
  bool flag = false;
  std::vector<Member> members;                        // object members, or map entries
  std::vector<Node> items;                            // list items
  std::string xml_item;                               // list item / map entry element
  std::string xml_key = "Name";
  std::string xml_value = "Value";

  Node& add(std::string name, Node v);
};

// A named member (a struct, not std::pair<std::string, Node>: clang with libstdc++ cannot
// instantiate that pair's traits while Node is incomplete).
struct Member {
  std::string name;
  Node value;
};

Node& Node::add(std::string name, Node v) {
  members.push_back(Member{std::move(name), std::move(v)});
  return members.back().value;
}

Node str_node(std::string s) {
  Node n;
  n.kind = Node::Kind::string;
  n.text = std::move(s);
  return n;
}
Node int_node(std::int64_t v) {
  Node n;
  n.kind = Node::Kind::integer;
  n.number = v;
  return n;
}
Node bool_node(bool v) {
  Node n;
  n.kind = Node::Kind::boolean;
  n.flag = v;
  return n;
}
Node list_node(std::string xml_item) {
  Node n;
  n.kind = Node::Kind::list;
  n.xml_item = std::move(xml_item);
  return n;
}
Node map_node(std::string xml_item, std::string key = "Name", std::string value = "Value") {
  Node n;
  n.kind = Node::Kind::map;
  n.xml_item = std::move(xml_item);
  n.xml_key = std::move(key);
  n.xml_value = std::move(value);
  return n;
}
Node string_map_node(const StringMap& m, std::string xml_item, std::string key = "Name",
                     std::string value = "Value") {
  Node n = map_node(std::move(xml_item), std::move(key), std::move(value));
  for (const auto& [k, v] : m) n.members.push_back(Member{k, str_node(v)});
  return n;
}

json::value to_json(const Node& n) {
  switch (n.kind) {
    case Node::Kind::string: return json::value(n.text);
    case Node::Kind::integer: return json::value(n.number);
    case Node::Kind::boolean: return json::value(n.flag);
    case Node::Kind::list: {
      json::array a;
      for (const auto& i : n.items) a.push_back(to_json(i));
      return a;
    }
    case Node::Kind::object:
    case Node::Kind::map: {
      json::object o;
      for (const auto& [k, v] : n.members) o[k] = to_json(v);
      return o;
    }
  }
  return nullptr;
}

void xml_members(const Node& n, std::string& out);

void xml_element(std::string_view name, const Node& n, std::string& out) {
  switch (n.kind) {
    case Node::Kind::list:
      for (const auto& i : n.items) xml_element(n.xml_item, i, out);
      return;
    case Node::Kind::map:
      for (const auto& [k, v] : n.members) {
        out += '<' + n.xml_item + "><" + n.xml_key + '>' + xml::escape(k) + "</" + n.xml_key + '>';
        xml_element(n.xml_value, v, out);
        out += "</" + n.xml_item + '>';
      }
      return;
    default:
      break;
  }
  out += '<';
  out += name;
  out += '>';
  switch (n.kind) {
    case Node::Kind::string: out += xml::escape(n.text); break;
    case Node::Kind::integer: out += std::to_string(n.number); break;
    case Node::Kind::boolean: out += n.flag ? "true" : "false"; break;
    default: xml_members(n, out);
  }
  out += "</";
  out += name;
  out += '>';
}

void xml_members(const Node& n, std::string& out) {
  for (const auto& [k, v] : n.members) xml_element(k, v, out);
}

// ---- Operations -----------------------------------------------------------------------------

enum class Protocol { query, json };

struct Call {
  engine::Engine& engine;
  const RequestContext& ctx;
  std::string_view legacy_queue;  // queue named by the request path (query protocol)
  engine::Queues& queues() { return engine.queues(); }
  std::string url(std::string_view name) const {
    return ctx.base_url + "/" + ctx.account_id + "/" + std::string(name);
  }
};

using Done = std::function<void(Result<Node>)>;

Result<std::string> queue_from_url(std::string_view url, const RequestContext& ctx) {
  auto bad = [&] {
    return std::unexpected(Error{ErrorCode::invalid_address,
                                 "The address " + std::string(url) + " is not valid for this endpoint."});
  };
  std::string_view path = url;
  if (auto scheme = url.find("://"); scheme != std::string_view::npos) {
    auto slash = url.find('/', scheme + 3);
    if (slash == std::string_view::npos) return bad();
    path = url.substr(slash);
  }
  if (path.starts_with('/')) path.remove_prefix(1);
  if (path.ends_with('/')) path.remove_suffix(1);
  auto slash = path.find('/');
  if (slash == std::string_view::npos) return bad();
  std::string_view account = path.substr(0, slash);
  std::string_view name = path.substr(slash + 1);
  if (name.empty() || name.find('/') != std::string_view::npos || account.empty()) return bad();
  if (account != ctx.account_id)
    return std::unexpected(Error{ErrorCode::queue_does_not_exist, "The specified queue does not exist."});
  return std::string(name);
}

// The queue an operation addresses: QueueUrl, else the legacy request path.
Result<std::string> queue_of(Call& call, Input& in) {
  auto url = in.str("QueueUrl");
  if (!url) return std::unexpected(url.error());
  if (*url && !(*url)->empty()) return queue_from_url(**url, call.ctx);
  if (!call.legacy_queue.empty()) return std::string(call.legacy_queue);
  return std::unexpected(missing("QueueUrl"));
}

Result<std::string> required_str(Input& in, std::string_view name) {
  auto v = in.str(name);
  if (!v) return std::unexpected(v.error());
  if (!*v) return std::unexpected(missing(name));
  return std::move(**v);
}

Result<std::optional<int>> optional_int(Input& in, std::string_view name) {
  auto v = in.integer(name);
  if (!v) return std::unexpected(v.error());
  if (!*v) return std::optional<int>();
  auto i = to_int(name, **v);
  if (!i) return std::unexpected(i.error());
  return std::optional<int>(*i);
}

#define OF_TRY(var, expr)                                 \
  auto var##_r = (expr);                                  \
  if (!var##_r) return std::unexpected(var##_r.error());  \
  auto var = std::move(*var##_r)

#define OF_CHECK(expr)                     \
  do {                                     \
    auto s_ = (expr);                      \
    if (!s_) return std::unexpected(s_.error()); \
  } while (false)

Node attribute_value_node(const MessageAttributeValue& v) {
  Node n;
  if (v.is_binary()) n.add("BinaryValue", str_node(base64_encode(v.binary_value)));
  else n.add("StringValue", str_node(v.string_value));
  n.add("DataType", str_node(v.data_type));
  return n;
}

// Opaque pagination tokens: the last name returned, base64.
std::string make_token(std::string_view last) { return base64_encode(last); }

Result<std::string> read_token(Input& in) {
  OF_TRY(token, in.str("NextToken"));
  if (!token || token->empty()) return std::string();
  auto raw = base64_decode(*token);
  if (!raw) return std::unexpected(Error{ErrorCode::invalid_parameter_value, "Invalid NextToken value."});
  return std::move(*raw);
}

Result<std::optional<int>> read_max_results(Input& in) {
  OF_TRY(max, optional_int(in, "MaxResults"));
  if (max && (*max < 1 || *max > 1000))
    return std::unexpected(invalid("MaxResults", std::to_string(*max),
                                   "MaxResults must be an integer between 1 and 1000."));
  return max;
}

// Names after `after`, at most `max` (when given), as queue URLs plus a NextToken.
void page_urls(Call& call, std::vector<std::string> names, std::optional<int> max, Node& out,
               std::string member) {
  Node urls = list_node("QueueUrl");
  bool more = max && names.size() > static_cast<std::size_t>(*max);
  if (more) names.resize(static_cast<std::size_t>(*max));
  for (const auto& n : names) urls.items.push_back(str_node(call.url(n)));
  out.add(std::move(member), std::move(urls));
  if (more) out.add("NextToken", str_node(make_token(names.back())));
}

Result<Node> create_queue(Call& call, Input& in) {
  OF_TRY(name, required_str(in, "QueueName"));
  OF_TRY(attributes, in.string_map("Attributes", "Attribute", "Name", "Value"));
  OF_TRY(tags, in.string_map("tags", "Tag", "Key", "Value"));
  engine::AttributeMap attrs(attributes.begin(), attributes.end());
  engine::TagMap tag_map(tags.begin(), tags.end());
  OF_TRY(created, call.queues().create_queue(name, attrs, tag_map));
  Node out;
  out.add("QueueUrl", str_node(call.url(created)));
  return out;
}

Result<Node> get_queue_url(Call& call, Input& in) {
  OF_TRY(name, required_str(in, "QueueName"));
  OF_TRY(owner, in.str("QueueOwnerAWSAccountId"));
  if ((owner && !owner->empty() && *owner != call.ctx.account_id) || !call.queues().exists(name))
    return std::unexpected(Error{ErrorCode::queue_does_not_exist, "The specified queue does not exist."});
  Node out;
  out.add("QueueUrl", str_node(call.url(name)));
  return out;
}

Result<Node> list_queues(Call& call, Input& in) {
  OF_TRY(prefix, in.str("QueueNamePrefix"));
  OF_TRY(max, read_max_results(in));
  OF_TRY(after, read_token(in));
  std::size_t limit = max ? static_cast<std::size_t>(*max) + 1 : 1000;
  OF_TRY(names, call.queues().list_queues(prefix.value_or(""), std::min<std::size_t>(limit, 1000), after));
  if (max && static_cast<std::size_t>(*max) == 1000 && names.size() == 1000) {
    // One more to learn whether a next page exists.
    OF_TRY(next, call.queues().list_queues(prefix.value_or(""), 1, names.back()));
    if (!next.empty()) names.push_back(next.front());
  }
  Node out;
  if (!names.empty()) page_urls(call, std::move(names), max, out, "QueueUrls");
  return out;
}

Result<Node> delete_queue(Call& call, Input& in) {
  OF_TRY(queue, queue_of(call, in));
  OF_CHECK(call.queues().delete_queue(queue));
  return Node{};
}

Result<Node> get_queue_attributes(Call& call, Input& in) {
  OF_TRY(queue, queue_of(call, in));
  OF_TRY(names, in.strings("AttributeNames", "AttributeName"));
  OF_TRY(attrs, call.queues().get_attributes(queue, names));
  Node out;
  if (!attrs.empty()) out.add("Attributes", string_map_node(StringMap(attrs.begin(), attrs.end()), "Attribute"));
  return out;
}

Result<Node> set_queue_attributes(Call& call, Input& in) {
  OF_TRY(queue, queue_of(call, in));
  OF_TRY(attributes, in.string_map("Attributes", "Attribute", "Name", "Value"));
  OF_CHECK(call.queues().set_attributes(queue, engine::AttributeMap(attributes.begin(), attributes.end())));
  return Node{};
}

// The parts of SendMessage that batch entries share.
Result<engine::SendRequest> read_send(Call& call, Input& in) {
  engine::SendRequest req;
  OF_TRY(body, in.str("MessageBody"));
  req.body = body.value_or("");
  OF_TRY(delay, optional_int(in, "DelaySeconds"));
  req.delay_seconds = delay;
  OF_TRY(attributes, in.attributes("MessageAttributes", "MessageAttribute"));
  req.attributes = std::move(attributes);
  OF_TRY(system, in.attributes("MessageSystemAttributes", "MessageSystemAttribute"));
  for (const auto& [name, value] : system) {
    if (name != "AWSTraceHeader")
      return std::unexpected(Error{ErrorCode::invalid_parameter_value,
                                   "Message system attribute name '" + name + "' is invalid."});
    if (value.data_type != "String" || value.string_value.empty())
      return std::unexpected(Error{ErrorCode::invalid_parameter_value,
                                   "Message system attribute 'AWSTraceHeader' must contain a non-empty "
                                   "value of type 'String'."});
    req.trace_header = value.string_value;
  }
  OF_TRY(dedup, in.str("MessageDeduplicationId"));
  if (dedup)
    return std::unexpected(invalid("MessageDeduplicationId", *dedup,
                                   "The request include parameter that is not valid for this queue type."));
  req.sender_id = call.ctx.access_key;
  return req;
}

std::string md5_of_trace(const std::string& trace) {
  if (trace.empty()) return {};
  MessageAttributes sys;
  sys["AWSTraceHeader"] = MessageAttributeValue{"String", trace, {}};
  return engine::md5_of_message_attributes(sys);
}

// SendMessage, SendMessageBatch, DeleteMessage and DeleteMessageBatch answer from the store's
// thread once durable: no request thread waits for the disk.
void send_message(Call& call, Input& in, Done done) {
  auto parsed = [&]() -> Result<std::pair<std::string, engine::SendRequest>> {
    OF_TRY(queue, queue_of(call, in));
    OF_TRY(req, read_send(call, in));
    return std::make_pair(std::move(queue), std::move(req));
  }();
  if (!parsed) return done(std::unexpected(parsed.error()));
  std::string system_md5 = md5_of_trace(parsed->second.trace_header);
  call.queues().send_async(
      parsed->first, std::move(parsed->second),
      [system_md5 = std::move(system_md5), done = std::move(done)](Result<engine::SendResult> sent) {
        if (!sent) return done(std::unexpected(sent.error()));
        Node out;
        out.add("MD5OfMessageBody", str_node(sent->md5_of_body));
        if (!sent->md5_of_attributes.empty())
          out.add("MD5OfMessageAttributes", str_node(sent->md5_of_attributes));
        if (!system_md5.empty()) out.add("MD5OfMessageSystemAttributes", str_node(system_md5));
        out.add("MessageId", str_node(sent->message_id));
        done(std::move(out));
      });
}

Node failed_entry(const std::string& id, const Error& e) {
  Node n;
  n.add("Id", str_node(id));
  n.add("SenderFault", bool_node(e.info().sender_fault));
  n.add("Code", str_node(std::string(e.info().code)));
  n.add("Message", str_node(e.message));
  return n;
}

template <class T>
void add_failures(Node& out, const engine::BatchOutcome<T>& outcome) {
  Node failed = list_node("BatchResultErrorEntry");
  for (const auto& [id, e] : outcome.failed) failed.items.push_back(failed_entry(id, e));
  out.add("Failed", std::move(failed));
}

void send_message_batch(Call& call, Input& in, Done done) {
  using Batch = std::vector<std::pair<std::string, engine::SendRequest>>;
  std::map<std::string, std::string> system_md5;
  auto parsed = [&]() -> Result<std::pair<std::string, Batch>> {
    OF_TRY(queue, queue_of(call, in));
    OF_TRY(entries, in.structs("Entries", "SendMessageBatchRequestEntry"));
    Batch batch;
    for (auto& e : entries) {
      OF_TRY(id, e->str("Id"));
      OF_TRY(req, read_send(call, *e));
      if (!req.trace_header.empty()) system_md5[id.value_or("")] = md5_of_trace(req.trace_header);
      batch.emplace_back(id.value_or(""), std::move(req));
    }
    return std::make_pair(std::move(queue), std::move(batch));
  }();
  if (!parsed) return done(std::unexpected(parsed.error()));
  call.queues().send_batch_async(
      parsed->first, std::move(parsed->second),
      [system_md5 = std::move(system_md5), done = std::move(done)](
          Result<engine::BatchOutcome<engine::SendResult>> outcome) {
        if (!outcome) return done(std::unexpected(outcome.error()));
        Node out;
        Node ok = list_node("SendMessageBatchResultEntry");
        for (const auto& [id, sent] : outcome->successful) {
          Node n;
          n.add("Id", str_node(id));
          n.add("MessageId", str_node(sent.message_id));
          n.add("MD5OfMessageBody", str_node(sent.md5_of_body));
          if (!sent.md5_of_attributes.empty()) n.add("MD5OfMessageAttributes", str_node(sent.md5_of_attributes));
          if (auto it = system_md5.find(id); it != system_md5.end())
            n.add("MD5OfMessageSystemAttributes", str_node(it->second));
          ok.items.push_back(std::move(n));
        }
        out.add("Successful", std::move(ok));
        add_failures(out, *outcome);
        done(std::move(out));
      });
}

// Which attributes of received messages to return.
struct Selection {
  std::set<std::string> system;  // names, or "All"
  std::vector<std::string> user; // names, "All"/".*", or "prefix.*"

  bool wants_system(std::string_view name) const {
    return system.contains("All") || system.contains(std::string(name));
  }
  bool wants_user(std::string_view name) const {
    for (const auto& u : user) {
      if (u == "All" || u == ".*" || u == name) return true;
      if (u.size() > 2 && u.ends_with(".*") && name.starts_with(std::string_view(u).substr(0, u.size() - 1)))
        return true;
    }
    return false;
  }
};

Node message_node(const engine::ReceivedMessage& m, const Selection& sel) {
  Node n;
  n.add("MessageId", str_node(m.message_id));
  n.add("ReceiptHandle", str_node(m.receipt_handle));
  n.add("MD5OfBody", str_node(m.md5_of_body));
  n.add("Body", str_node(m.body));
  StringMap system;
  auto put = [&](const char* name, std::string value) {
    if (sel.wants_system(name) && !value.empty()) system[name] = std::move(value);
  };
  put("SenderId", m.sender_id);
  put("SentTimestamp", std::to_string(m.sent_timestamp_ms));
  put("ApproximateReceiveCount", std::to_string(m.receive_count));
  put("ApproximateFirstReceiveTimestamp", std::to_string(m.first_receive_timestamp_ms));
  put("AWSTraceHeader", m.trace_header);
  put("DeadLetterQueueSourceArn", m.dead_letter_source_arn);
  if (!system.empty()) n.add("Attributes", string_map_node(system, "Attribute"));
  MessageAttributes user;
  for (const auto& [name, value] : m.attributes)
    if (sel.wants_user(name)) user.emplace(name, value);
  if (!user.empty()) {
    n.add("MD5OfMessageAttributes", str_node(engine::md5_of_message_attributes(user)));
    Node attrs = map_node("MessageAttribute");
    for (const auto& [name, value] : user) attrs.members.push_back(Member{name, attribute_value_node(value)});
    n.add("MessageAttributes", std::move(attrs));
  }
  return n;
}

void receive_message(Call& call, Input& in, Done done) {
  auto parsed = [&]() -> Result<std::pair<std::string, std::pair<engine::ReceiveRequest, Selection>>> {
    OF_TRY(queue, queue_of(call, in));
    Selection sel;
    OF_TRY(names, in.strings("AttributeNames", "AttributeName"));
    OF_TRY(system_names, in.strings("MessageSystemAttributeNames", "MessageSystemAttributeName"));
    sel.system.insert(names.begin(), names.end());
    sel.system.insert(system_names.begin(), system_names.end());
    OF_TRY(user, in.strings("MessageAttributeNames", "MessageAttributeName"));
    sel.user = std::move(user);
    engine::ReceiveRequest req;
    OF_TRY(max, optional_int(in, "MaxNumberOfMessages"));
    req.max_messages = max.value_or(1);
    OF_TRY(visibility, optional_int(in, "VisibilityTimeout"));
    req.visibility_timeout = visibility;
    OF_TRY(wait, optional_int(in, "WaitTimeSeconds"));
    req.wait_seconds = wait;
    OF_TRY(attempt, in.str("ReceiveRequestAttemptId"));
    (void)attempt;  // FIFO only; standard queues ignore it
    return std::make_pair(std::move(queue), std::make_pair(req, std::move(sel)));
  }();
  if (!parsed) return done(std::unexpected(parsed.error()));
  auto& [queue, rest] = *parsed;
  auto& [req, sel] = rest;
  call.queues().receive_async(
      queue, req, [sel = std::move(sel), done = std::move(done)](Result<std::vector<engine::ReceivedMessage>> got) {
        if (!got) return done(std::unexpected(got.error()));
        Node out;
        if (!got->empty()) {
          Node messages = list_node("Message");
          for (const auto& m : *got) messages.items.push_back(message_node(m, sel));
          out.add("Messages", std::move(messages));
        }
        done(std::move(out));
      });
}

void delete_message(Call& call, Input& in, Done done) {
  auto parsed = [&]() -> Result<std::pair<std::string, std::string>> {
    OF_TRY(queue, queue_of(call, in));
    OF_TRY(handle, required_str(in, "ReceiptHandle"));
    return std::make_pair(std::move(queue), std::move(handle));
  }();
  if (!parsed) return done(std::unexpected(parsed.error()));
  call.queues().delete_message_batch_async(
      parsed->first, {{"single", parsed->second}},
      [done = std::move(done)](Result<engine::BatchOutcome<bool>> outcome) {
        if (!outcome) return done(std::unexpected(outcome.error()));
        if (!outcome->failed.empty()) return done(std::unexpected(outcome->failed.front().second));
        done(Node{});
      });
}

void delete_message_batch(Call& call, Input& in, Done done) {
  using Batch = std::vector<std::pair<std::string, std::string>>;
  auto parsed = [&]() -> Result<std::pair<std::string, Batch>> {
    OF_TRY(queue, queue_of(call, in));
    OF_TRY(entries, in.structs("Entries", "DeleteMessageBatchRequestEntry"));
    Batch batch;
    for (auto& e : entries) {
      OF_TRY(id, e->str("Id"));
      OF_TRY(handle, e->str("ReceiptHandle"));
      batch.emplace_back(id.value_or(""), handle.value_or(""));
    }
    return std::make_pair(std::move(queue), std::move(batch));
  }();
  if (!parsed) return done(std::unexpected(parsed.error()));
  call.queues().delete_message_batch_async(
      parsed->first, parsed->second, [done = std::move(done)](Result<engine::BatchOutcome<bool>> outcome) {
        if (!outcome) return done(std::unexpected(outcome.error()));
        Node out;
        Node ok = list_node("DeleteMessageBatchResultEntry");
        for (const auto& [id, unused] : outcome->successful) {
          Node n;
          n.add("Id", str_node(id));
          ok.items.push_back(std::move(n));
        }
        out.add("Successful", std::move(ok));
        add_failures(out, *outcome);
        done(std::move(out));
      });
}

Result<Node> change_message_visibility(Call& call, Input& in) {
  OF_TRY(queue, queue_of(call, in));
  OF_TRY(handle, required_str(in, "ReceiptHandle"));
  OF_TRY(timeout, optional_int(in, "VisibilityTimeout"));
  if (!timeout) return std::unexpected(missing("VisibilityTimeout"));
  OF_CHECK(call.queues().change_visibility(queue, handle, *timeout));
  return Node{};
}

Result<Node> change_message_visibility_batch(Call& call, Input& in) {
  OF_TRY(queue, queue_of(call, in));
  OF_TRY(entries, in.structs("Entries", "ChangeMessageVisibilityBatchRequestEntry"));
  std::vector<std::pair<std::string, engine::ChangeVisibilityEntry>> batch;
  for (auto& e : entries) {
    OF_TRY(id, e->str("Id"));
    OF_TRY(handle, e->str("ReceiptHandle"));
    OF_TRY(timeout, optional_int(*e, "VisibilityTimeout"));
    batch.emplace_back(id.value_or(""), engine::ChangeVisibilityEntry{handle.value_or(""), timeout.value_or(0)});
  }
  OF_TRY(outcome, call.queues().change_visibility_batch(queue, batch));
  Node out;
  Node ok = list_node("ChangeMessageVisibilityBatchResultEntry");
  for (const auto& [id, unused] : outcome.successful) {
    Node n;
    n.add("Id", str_node(id));
    ok.items.push_back(std::move(n));
  }
  out.add("Successful", std::move(ok));
  add_failures(out, outcome);
  return out;
}

Result<Node> purge_queue(Call& call, Input& in) {
  OF_TRY(queue, queue_of(call, in));
  OF_CHECK(call.queues().purge(queue));
  return Node{};
}

Result<Node> list_dead_letter_source_queues(Call& call, Input& in) {
  OF_TRY(queue, queue_of(call, in));
  OF_TRY(max, read_max_results(in));
  OF_TRY(after, read_token(in));
  OF_TRY(sources, call.queues().dead_letter_sources(queue));
  std::vector<std::string> names;
  for (auto& s : sources)
    if (after.empty() || s > after) names.push_back(std::move(s));
  std::sort(names.begin(), names.end());
  Node out;
  page_urls(call, std::move(names), max, out, "queueUrls");
  return out;
}

Result<Node> start_message_move_task(Call& call, Input& in) {
  OF_TRY(source, required_str(in, "SourceArn"));
  OF_TRY(destination, in.str("DestinationArn"));
  OF_TRY(rate, optional_int(in, "MaxNumberOfMessagesPerSecond"));
  OF_TRY(handle, call.queues().start_move_task(source, destination.value_or(""), rate));
  Node out;
  out.add("TaskHandle", str_node(handle));
  return out;
}

Result<Node> list_message_move_tasks(Call& call, Input& in) {
  OF_TRY(source, required_str(in, "SourceArn"));
  OF_TRY(max, optional_int(in, "MaxResults"));
  OF_TRY(tasks, call.queues().list_move_tasks(source, max.value_or(1)));
  Node out;
  Node results = list_node("ListMessageMoveTasksResultEntry");
  for (const auto& t : tasks) {
    Node n;
    if (t.status == "RUNNING") n.add("TaskHandle", str_node(t.task_handle));
    n.add("Status", str_node(t.status));
    n.add("SourceArn", str_node(t.source_arn));
    if (!t.destination_arn.empty()) n.add("DestinationArn", str_node(t.destination_arn));
    if (t.max_per_second) n.add("MaxNumberOfMessagesPerSecond", int_node(*t.max_per_second));
    n.add("ApproximateNumberOfMessagesMoved", int_node(t.moved));
    n.add("ApproximateNumberOfMessagesToMove", int_node(t.to_move));
    if (!t.failure_reason.empty()) n.add("FailureReason", str_node(t.failure_reason));
    n.add("StartedTimestamp", int_node(t.started_ms));
    results.items.push_back(std::move(n));
  }
  out.add("Results", std::move(results));
  return out;
}

Result<Node> cancel_message_move_task(Call& call, Input& in) {
  OF_TRY(handle, required_str(in, "TaskHandle"));
  OF_TRY(moved, call.queues().cancel_move_task(handle));
  Node out;
  out.add("ApproximateNumberOfMessagesMoved", int_node(moved));
  return out;
}

Result<Node> tag_queue(Call& call, Input& in) {
  OF_TRY(queue, queue_of(call, in));
  OF_TRY(tags, in.string_map("Tags", "Tag", "Key", "Value"));
  OF_CHECK(call.queues().tag(queue, engine::TagMap(tags.begin(), tags.end())));
  return Node{};
}

Result<Node> untag_queue(Call& call, Input& in) {
  OF_TRY(queue, queue_of(call, in));
  OF_TRY(keys, in.strings("TagKeys", "TagKey"));
  OF_CHECK(call.queues().untag(queue, keys));
  return Node{};
}

Result<Node> list_queue_tags(Call& call, Input& in) {
  OF_TRY(queue, queue_of(call, in));
  OF_TRY(tags, call.queues().tags(queue));
  Node out;
  if (!tags.empty()) out.add("Tags", string_map_node(StringMap(tags.begin(), tags.end()), "Tag", "Key", "Value"));
  return out;
}

// AddPermission / RemovePermission edit the queue's Policy attribute, as SQS does: one
// statement per Label (its Sid). Serialized among themselves so two labels added at once are
// both kept.
std::mutex& policy_edit_mutex() {
  static std::mutex mu;
  return mu;
}

bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > 80) return false;
  for (char c : label)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

Result<json::object> current_policy(Call& call, const std::string& queue) {
  OF_TRY(attrs, call.queues().get_attributes(queue, {"Policy"}));
  auto it = attrs.find("Policy");
  if (it == attrs.end() || it->second.empty()) return json::object{};
  std::error_code ec;
  json::value v = json::parse(it->second, ec);
  if (ec || !v.is_object()) return json::object{};
  return v.as_object();
}

Error label_error(std::string_view label, std::string_view reason) {
  return Error{ErrorCode::invalid_parameter_value,
               "Value " + std::string(label) + " for parameter Label is invalid. Reason: " + std::string(reason)};
}

Result<Node> add_permission(Call& call, Input& in) {
  OF_TRY(queue, queue_of(call, in));
  OF_TRY(label, required_str(in, "Label"));
  OF_TRY(accounts, in.strings("AWSAccountIds", "AWSAccountId"));
  OF_TRY(actions, in.strings("Actions", "ActionName"));
  if (!valid_label(label))
    return std::unexpected(label_error(label, "Label must be 1 to 80 of A-Z, a-z, 0-9, '-' and '_'."));
  if (accounts.empty())
    return fail(ErrorCode::missing_parameter, "The request must contain the parameter AWSAccountIds.");
  if (actions.empty()) return fail(ErrorCode::missing_parameter, "The request must contain the parameter Actions.");
  if (actions.size() > 7)
    return fail(ErrorCode::invalid_parameter_value, "An Amazon SQS policy can have a maximum of seven actions per statement.");
  static const std::set<std::string_view> kActions = {
      "*", "SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "GetQueueAttributes",
      "GetQueueUrl", "ListDeadLetterSourceQueues", "PurgeQueue", "ListQueueTags", "SendMessageBatch",
      "DeleteMessageBatch", "ChangeMessageVisibilityBatch"};
  json::array action_list;
  for (const auto& a : actions) {
    if (!kActions.contains(a))
      return fail(ErrorCode::invalid_parameter_value,
                  "Value SQS:" + a + " for parameter ActionName is invalid. Reason: Please refer to the appropriate "
                  "WSDL for a list of valid actions.");
    action_list.emplace_back("SQS:" + a);
  }
  json::array principals;
  for (const auto& acct : accounts) {
    bool digits = acct.size() == 12 && acct.find_first_not_of("0123456789") == std::string::npos;
    if (!digits)
      return fail(ErrorCode::invalid_parameter_value,
                  "Value " + acct + " for parameter AWSAccountId is invalid. Reason: An AWS account id has 12 digits.");
    principals.emplace_back("arn:aws:iam::" + acct + ":root");
  }
  std::lock_guard g(policy_edit_mutex());
  OF_TRY(policy, current_policy(call, queue));
  std::string arn = call.queues().arn(queue);
  if (!policy.contains("Version")) policy["Version"] = "2012-10-17";
  if (!policy.contains("Id")) policy["Id"] = arn + "/SQSDefaultPolicy";
  json::array statements;
  if (auto* st = policy.if_contains("Statement"); st && st->is_array()) statements = st->as_array();
  for (const auto& st : statements)
    if (st.is_object() && st.as_object().contains("Sid") && st.as_object().at("Sid") == json::value(label))
      return std::unexpected(label_error(label, "Already exists."));
  json::object statement;
  statement["Sid"] = label;
  statement["Effect"] = "Allow";
  statement["Principal"] = json::object{{"AWS", principals.size() == 1 ? json::value(principals[0]) : json::value(principals)}};
  statement["Action"] = action_list.size() == 1 ? json::value(action_list[0]) : json::value(action_list);
  statement["Resource"] = arn;
  statements.emplace_back(std::move(statement));
  policy["Statement"] = std::move(statements);
  OF_CHECK(call.queues().set_attributes(queue, {{"Policy", json::serialize(policy)}}));
  return Node{};
}

Result<Node> remove_permission(Call& call, Input& in) {
  OF_TRY(queue, queue_of(call, in));
  OF_TRY(label, required_str(in, "Label"));
  std::lock_guard g(policy_edit_mutex());
  OF_TRY(policy, current_policy(call, queue));
  json::array kept;
  bool found = false;
  if (auto* st = policy.if_contains("Statement"); st && st->is_array()) {
    for (const auto& s : st->as_array()) {
      if (s.is_object() && s.as_object().contains("Sid") && s.as_object().at("Sid") == json::value(label)) found = true;
      else kept.push_back(s);
    }
  }
  if (!found) return std::unexpected(label_error(label, "can't find label on existing policy."));
  std::string text;
  if (!kept.empty()) {
    policy["Statement"] = std::move(kept);
    text = json::serialize(policy);
  }
  OF_CHECK(call.queues().set_attributes(queue, {{"Policy", text}}));
  return Node{};
}

#undef OF_TRY
#undef OF_CHECK

struct Operation {
  std::string_view name;
  bool has_result;  // the query protocol wraps output in <NameResult>
  Result<Node> (*sync)(Call&, Input&);
  void (*async)(Call&, Input&, Done);
};

constexpr Operation kOperations[] = {
    {"CreateQueue", true, create_queue, nullptr},
    {"GetQueueUrl", true, get_queue_url, nullptr},
    {"ListQueues", true, list_queues, nullptr},
    {"DeleteQueue", false, delete_queue, nullptr},
    {"GetQueueAttributes", true, get_queue_attributes, nullptr},
    {"SetQueueAttributes", false, set_queue_attributes, nullptr},
    {"SendMessage", true, nullptr, send_message},
    {"SendMessageBatch", true, nullptr, send_message_batch},
    {"ReceiveMessage", true, nullptr, receive_message},
    {"DeleteMessage", false, nullptr, delete_message},
    {"DeleteMessageBatch", true, nullptr, delete_message_batch},
    {"ChangeMessageVisibility", false, change_message_visibility, nullptr},
    {"ChangeMessageVisibilityBatch", true, change_message_visibility_batch, nullptr},
    {"PurgeQueue", false, purge_queue, nullptr},
    {"ListDeadLetterSourceQueues", true, list_dead_letter_source_queues, nullptr},
    {"StartMessageMoveTask", true, start_message_move_task, nullptr},
    {"ListMessageMoveTasks", true, list_message_move_tasks, nullptr},
    {"CancelMessageMoveTask", true, cancel_message_move_task, nullptr},
    {"TagQueue", false, tag_queue, nullptr},
    {"UntagQueue", false, untag_queue, nullptr},
    {"ListQueueTags", true, list_queue_tags, nullptr},
    {"AddPermission", false, add_permission, nullptr},
    {"RemovePermission", false, remove_permission, nullptr},
};

const Operation* find_operation(std::string_view name) {
  for (const auto& op : kOperations)
    if (op.name == name) return &op;
  return nullptr;
}

ApiResponse render_error(Protocol protocol, Error e, const RequestContext& ctx) {
  if (protocol == Protocol::json) return json_error(e, ctx, JsonErrorStyle{kJson10, true});
  if (e.code == ErrorCode::queue_does_not_exist)
    e.message = "The specified queue does not exist for this wsdl version.";
  return query_error(kSqsXmlns, e, ctx);
}

ApiResponse render(Protocol protocol, const Operation& op, const Result<Node>& result,
                   const RequestContext& ctx) {
  if (!result) return render_error(protocol, result.error(), ctx);
  if (protocol == Protocol::json) return ok_response(json::serialize(to_json(*result)), kJson10);
  std::string body = "<?xml version=\"1.0\"?>\n<";
  body += op.name;
  body += "Response xmlns=\"";
  body += kSqsXmlns;
  body += "\">";
  if (op.has_result) {
    body += '<';
    body += op.name;
    body += "Result>";
    xml_members(*result, body);
    body += "</";
    body += op.name;
    body += "Result>";
  }
  body += "<ResponseMetadata><RequestId>" + xml::escape(ctx.request_id) +
          "</RequestId></ResponseMetadata></";
  body += op.name;
  body += "Response>";
  return ok_response(std::move(body), "text/xml");
}

void run(Protocol protocol, const Operation& op, Call& call, Input& in, Respond respond) {
  if (op.sync) return respond(render(protocol, op, op.sync(call, in), call.ctx));
  // The completion may run later on an engine thread: it owns copies of what it needs.
  op.async(call, in, [protocol, &op, ctx = call.ctx, respond = std::move(respond)](Result<Node> r) {
    respond(render(protocol, op, r, ctx));
  });
}

}  // namespace

void sqs_handle_query(engine::Engine& engine, const aws::QueryParams& params, std::string_view path,
                      const RequestContext& ctx, Respond respond) {
  QueryInput::Params map;
  for (const auto& [k, v] : params) map.emplace(k, v);  // the first of repeated names wins
  auto action = map.find("Action");
  if (action == map.end() || action->second.empty())
    return respond(render_error(Protocol::query,
                                Error{ErrorCode::missing_action, "The request must contain the parameter Action."},
                                ctx));
  const Operation* op = find_operation(action->second);
  if (op == nullptr)
    return respond(render_error(
        Protocol::query,
        Error{ErrorCode::invalid_action, "The action " + action->second + " is not valid for this endpoint."},
        ctx));
  // The legacy form names the queue in the path: /<account>/<name>.
  std::string legacy;
  if (path.size() > 1) {
    auto q = queue_from_url(path, ctx);
    if (!q) return respond(render_error(Protocol::query, q.error(), ctx));
    legacy = std::move(*q);
  }
  Call call{engine, ctx, legacy};
  QueryInput in(map, "");
  run(Protocol::query, *op, call, in, std::move(respond));
}

void sqs_handle_json(engine::Engine& engine, std::string_view operation, std::string_view body,
                     const RequestContext& ctx, Respond respond) {
  const Operation* op = find_operation(operation);
  if (op == nullptr)
    return respond(render_error(
        Protocol::json,
        Error{ErrorCode::invalid_action, "The action " + std::string(operation) + " is not valid for this endpoint."},
        ctx));
  json::value doc;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    doc = json::object();
  } else {
    json::parse_options options;
    options.max_depth = kMaxJsonDepth;
    boost::system::error_code ec;
    doc = json::parse(body, ec, {}, options);
    if (ec)
      return respond(render_error(
          Protocol::json, Error{ErrorCode::serialization_exception, "Malformed JSON request body: " + ec.message()},
          ctx));
  }
  if (!doc.is_object())
    return respond(render_error(
        Protocol::json,
        Error{ErrorCode::serialization_exception, "The request body must be a JSON object."}, ctx));
  Call call{engine, ctx, {}};
  JsonInput in(doc.get_object());
  run(Protocol::json, *op, call, in, std::move(respond));
}

}  // namespace orderflow::server
