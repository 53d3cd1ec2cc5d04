#include "server/sns_api.h"

#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/util.h"
#include "server/xml.h"

namespace orderflow::server {

namespace {

constexpr std::string_view kXmlns = "http://sns.amazonaws.com/doc/2010-03-31/";

// The decoded parameters by name (the first of repeated names wins), with SNS's list and map
// encodings unfolded on demand.
class Params {
 public:
  Params() = default;
  explicit Params(const aws::QueryParams& params) {
    for (const auto& [k, v] : params) values_.emplace(k, v);
  }

  const std::string* get(std::string_view name) const {
    auto it = values_.find(name);
    return it == values_.end() ? nullptr : &it->second;
  }
  std::string value_or_empty(std::string_view name) const {
    const std::string* v = get(name);
    return v != nullptr ? *v : std::string();
  }

  // "Prefix.N.Rest=value" grouped by N (>= 1), each group as Params of "Rest" -> value.
  std::map<int, Params> indexed(std::string_view prefix) const {
    std::map<int, Params> out;
    std::string start = std::string(prefix) + ".";
    for (auto it = values_.lower_bound(start); it != values_.end() && it->first.starts_with(start);
         ++it) {
      std::string_view rest = std::string_view(it->first).substr(start.size());
      std::size_t dot = rest.find('.');
      std::string_view digits = rest.substr(0, dot);
      int n = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (ec != std::errc() || end != digits.data() + digits.size() || n < 1) continue;
      std::string field =
          dot == std::string_view::npos ? std::string() : std::string(rest.substr(dot + 1));
      out[n].values_.emplace(std::move(field), it->second);
    }
    return out;
  }

  const std::map<std::string, std::string, std::less<>>& all() const { return values_; }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

std::string lower_first(std::string_view s) {
  std::string out(s);
  if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z')
    out[0] = static_cast<char>(out[0] - 'A' + 'a');
  return out;
}

std::unexpected<Error> invalid_parameter(std::string_view what) {
  return fail(ErrorCode::sns_invalid_parameter, "Invalid parameter: " + std::string(what));
}

// ValidationError for every required parameter that is absent, as SNS reports them together.
Status require(const Params& p, std::initializer_list<std::string_view> names) {
  std::vector<std::string> missing;
  for (auto n : names) {
    if (p.get(n) == nullptr)
      missing.push_back("Value null at '" + lower_first(n) +
                        "' failed to satisfy constraint: Member must not be null");
  }
  if (missing.empty()) return {};
  std::string m = std::to_string(missing.size()) + " validation error" +
                  (missing.size() > 1 ? "s" : "") + " detected: ";
  for (std::size_t i = 0; i < missing.size(); ++i) m += (i ? "; " : "") + missing[i];
  return fail(ErrorCode::sns_validation_error, std::move(m));
}

// Attributes.entry.N.key / .value
engine::AttributeMap attribute_map(const Params& p, std::string_view prefix) {
  engine::AttributeMap out;
  for (const auto& [n, e] : p.indexed(std::string(prefix) + ".entry")) {
    const std::string* k = e.get("key");
    if (k == nullptr) continue;
    out[*k] = e.value_or_empty("value");
  }
  return out;
}

Result<engine::TagMap> tags(const Params& p) {
  engine::TagMap out;
  for (const auto& [n, e] : p.indexed("Tags.member")) {
    const std::string* k = e.get("Key");
    const std::string* v = e.get("Value");
    if (k == nullptr || v == nullptr)
      return fail(ErrorCode::sns_validation_error,
                  "1 validation error detected: Value null at 'tags." + std::to_string(n) +
                      ".member." + (k == nullptr ? "key" : "value") +
                      "' failed to satisfy constraint: Member must not be null");
    out[*k] = *v;
  }
  return out;
}

// MessageAttributes.entry.N.Name / .Value.DataType / .Value.StringValue / .Value.BinaryValue
Result<engine::MessageAttributes> message_attributes(const Params& p) {
  engine::MessageAttributes out;
  for (const auto& [n, e] : p.indexed("MessageAttributes.entry")) {
    const std::string* name = e.get("Name");
    if (name == nullptr)
      return fail(ErrorCode::sns_validation_error,
                  "1 validation error detected: Value null at 'messageAttributes." +
                      std::to_string(n) +
                      ".member.name' failed to satisfy constraint: Member must not be null");
    engine::MessageAttributeValue v;
    v.data_type = e.value_or_empty("Value.DataType");
    v.string_value = e.value_or_empty("Value.StringValue");
    if (const std::string* b = e.get("Value.BinaryValue")) {
      auto decoded = base64_decode(*b);
      if (!decoded)
        return invalid_parameter("MessageAttributes Reason: The message attribute '" + *name +
                                 "' with type 'Binary' must have a base64-encoded value");
      v.binary_value = std::move(*decoded);
    }
    out[*name] = std::move(v);
  }
  return out;
}

// A Publish or a PublishBatch entry (params relative to the entry).
Result<engine::PublishRequest> publish_request(const Params& p) {
  engine::PublishRequest r;
  r.message = p.value_or_empty("Message");
  if (const std::string* s = p.get("Subject")) r.subject = *s;
  r.message_structure = p.value_or_empty("MessageStructure");
  for (std::string_view fifo_only : {"MessageGroupId", "MessageDeduplicationId"}) {
    if (p.get(fifo_only) != nullptr)
      return invalid_parameter(std::string(fifo_only) + " Reason: The request includes " +
                               std::string(fifo_only) +
                               " parameter that is not valid for this topic type");
  }
  auto attrs = message_attributes(p);
  if (!attrs) return std::unexpected(attrs.error());
  r.attributes = std::move(*attrs);
  return r;
}

void attributes_xml(xml::Writer& w, const engine::AttributeMap& m) {
  w.open("Attributes");
  for (const auto& [k, v] : m) w.open("entry").element("key", k).element("value", v).close();
  w.close();
}

// ---------------------------------------------------------------- operations
// Each writes the inside of <{Op}Result> (nothing for void operations) into `w`.

using Handler = Status (*)(engine::Engine&, const Params&, xml::Writer&);

Status create_topic(engine::Engine& e, const Params& p, xml::Writer& w) {
  if (auto st = require(p, {"Name"}); !st) return st;
  auto t = tags(p);
  if (!t) return std::unexpected(t.error());
  auto arn = e.topics().create_topic(*p.get("Name"), attribute_map(p, "Attributes"), *t);
  if (!arn) return std::unexpected(arn.error());
  w.element("TopicArn", *arn);
  return {};
}

Status delete_topic(engine::Engine& e, const Params& p, xml::Writer&) {
  if (auto st = require(p, {"TopicArn"}); !st) return st;
  return e.topics().delete_topic(*p.get("TopicArn"));
}

Status list_topics(engine::Engine& e, const Params& p, xml::Writer& w) {
  auto page = e.topics().list_topics(p.value_or_empty("NextToken"));
  if (!page) return std::unexpected(page.error());
  w.open("Topics");
  for (const auto& arn : page->items) w.open("member").element("TopicArn", arn).close();
  w.close();
  if (!page->next_token.empty()) w.element("NextToken", page->next_token);
  return {};
}

Status get_topic_attributes(engine::Engine& e, const Params& p, xml::Writer& w) {
  if (auto st = require(p, {"TopicArn"}); !st) return st;
  auto attrs = e.topics().get_topic_attributes(*p.get("TopicArn"));
  if (!attrs) return std::unexpected(attrs.error());
  attributes_xml(w, *attrs);
  return {};
}

Status set_topic_attributes(engine::Engine& e, const Params& p, xml::Writer&) {
  if (auto st = require(p, {"TopicArn", "AttributeName"}); !st) return st;
  return e.topics().set_topic_attribute(*p.get("TopicArn"), *p.get("AttributeName"),
                                        p.value_or_empty("AttributeValue"));
}

Status subscribe(engine::Engine& e, const Params& p, xml::Writer& w) {
  if (auto st = require(p, {"TopicArn", "Protocol"}); !st) return st;
  auto arn = e.topics().subscribe(*p.get("TopicArn"), *p.get("Protocol"),
                                  p.value_or_empty("Endpoint"), attribute_map(p, "Attributes"));
  if (!arn) return std::unexpected(arn.error());
  // sqs subscriptions in the same account are confirmed at once: always the real ARN.
  w.element("SubscriptionArn", *arn);
  return {};
}

Status unsubscribe(engine::Engine& e, const Params& p, xml::Writer&) {
  if (auto st = require(p, {"SubscriptionArn"}); !st) return st;
  return e.topics().unsubscribe(*p.get("SubscriptionArn"));
}

Status subscriptions_xml(engine::Engine& e, std::string_view topic_arn, const Params& p,
                         xml::Writer& w) {
  std::string next;
  auto subs = e.topics().list_subscriptions(topic_arn, p.value_or_empty("NextToken"), &next);
  if (!subs) return std::unexpected(subs.error());
  w.open("Subscriptions");
  for (const auto& s : *subs) {
    w.open("member")
        .element("SubscriptionArn", s.subscription_arn)
        .element("Owner", s.owner)
        .element("Protocol", s.protocol)
        .element("Endpoint", s.endpoint)
        .element("TopicArn", s.topic_arn)
        .close();
  }
  w.close();
  if (!next.empty()) w.element("NextToken", next);
  return {};
}

Status list_subscriptions(engine::Engine& e, const Params& p, xml::Writer& w) {
  return subscriptions_xml(e, "", p, w);
}

Status list_subscriptions_by_topic(engine::Engine& e, const Params& p, xml::Writer& w) {
  if (auto st = require(p, {"TopicArn"}); !st) return st;
  return subscriptions_xml(e, *p.get("TopicArn"), p, w);
}

Status get_subscription_attributes(engine::Engine& e, const Params& p, xml::Writer& w) {
  if (auto st = require(p, {"SubscriptionArn"}); !st) return st;
  auto attrs = e.topics().get_subscription_attributes(*p.get("SubscriptionArn"));
  if (!attrs) return std::unexpected(attrs.error());
  attributes_xml(w, *attrs);
  return {};
}

Status set_subscription_attributes(engine::Engine& e, const Params& p, xml::Writer&) {
  if (auto st = require(p, {"SubscriptionArn", "AttributeName"}); !st) return st;
  return e.topics().set_subscription_attribute(*p.get("SubscriptionArn"), *p.get("AttributeName"),
                                               p.value_or_empty("AttributeValue"));
}

Status publish(engine::Engine& e, const Params& p, xml::Writer& w) {
  if (p.get("PhoneNumber") != nullptr && p.get("TopicArn") == nullptr &&
      p.get("TargetArn") == nullptr)
    return invalid_parameter("PhoneNumber Reason: SMS delivery is not supported by orderflow");
  const std::string* topic = p.get("TopicArn");
  if (topic == nullptr) topic = p.get("TargetArn");
  if (topic == nullptr)
    return invalid_parameter("TopicArn or TargetArn Reason: no value for required parameter");
  if (auto st = require(p, {"Message"}); !st) return st;
  auto req = publish_request(p);
  if (!req) return std::unexpected(req.error());
  auto id = e.topics().publish(*topic, std::move(*req));
  if (!id) return std::unexpected(id.error());
  w.element("MessageId", *id);
  return {};
}

Status publish_batch(engine::Engine& e, const Params& p, xml::Writer& w) {
  if (auto st = require(p, {"TopicArn"}); !st) return st;
  std::vector<std::pair<std::string, engine::PublishRequest>> entries;
  for (const auto& [n, entry] : p.indexed("PublishBatchRequestEntries.member")) {
    auto req = publish_request(entry);
    if (!req) return std::unexpected(req.error());
    entries.emplace_back(entry.value_or_empty("Id"), std::move(*req));
  }
  if (entries.empty() && p.get("PublishBatchRequestEntries") == nullptr)
    return require(p, {"PublishBatchRequestEntries"});
  auto out = e.topics().publish_batch(*p.get("TopicArn"), std::move(entries));
  if (!out) return std::unexpected(out.error());
  w.open("Successful");
  for (const auto& [id, message_id] : out->successful)
    w.open("member").element("Id", id).element("MessageId", message_id).close();
  w.close();
  w.open("Failed");
  for (const auto& [id, error] : out->failed) {
    const ErrorInfo& info = error.info();
    w.open("member")
        .element("Id", id)
        .element("Code", info.code)
        .element("Message", error.message)
        .element("SenderFault", info.sender_fault ? "true" : "false")
        .close();
  }
  w.close();
  return {};
}

Status tag_resource(engine::Engine& e, const Params& p, xml::Writer&) {
  if (auto st = require(p, {"ResourceArn"}); !st) return st;
  auto t = tags(p);
  if (!t) return std::unexpected(t.error());
  if (t->empty()) return require(p, {"Tags"});
  return e.topics().tag_topic(*p.get("ResourceArn"), *t);
}

Status untag_resource(engine::Engine& e, const Params& p, xml::Writer&) {
  if (auto st = require(p, {"ResourceArn"}); !st) return st;
  std::vector<std::string> keys;
  for (const auto& [n, member] : p.indexed("TagKeys.member")) keys.push_back(member.value_or_empty(""));
  if (keys.empty()) return require(p, {"TagKeys"});
  return e.topics().untag_topic(*p.get("ResourceArn"), keys);
}

Status list_tags_for_resource(engine::Engine& e, const Params& p, xml::Writer& w) {
  if (auto st = require(p, {"ResourceArn"}); !st) return st;
  auto t = e.topics().topic_tags(*p.get("ResourceArn"));
  if (!t) return std::unexpected(t.error());
  w.open("Tags");
  for (const auto& [k, v] : *t) w.open("member").element("Key", k).element("Value", v).close();
  w.close();
  return {};
}

struct Operation {
  Handler handler;
  bool has_result;  // false: <{Op}Response> holds only ResponseMetadata
};

const std::map<std::string, Operation, std::less<>>& operations() {
  static const std::map<std::string, Operation, std::less<>> kOperations = {
      {"CreateTopic", {&create_topic, true}},
      {"DeleteTopic", {&delete_topic, false}},
      {"ListTopics", {&list_topics, true}},
      {"GetTopicAttributes", {&get_topic_attributes, true}},
      {"SetTopicAttributes", {&set_topic_attributes, false}},
      {"Subscribe", {&subscribe, true}},
      {"Unsubscribe", {&unsubscribe, false}},
      {"ListSubscriptions", {&list_subscriptions, true}},
      {"ListSubscriptionsByTopic", {&list_subscriptions_by_topic, true}},
      {"GetSubscriptionAttributes", {&get_subscription_attributes, true}},
      {"SetSubscriptionAttributes", {&set_subscription_attributes, false}},
      {"Publish", {&publish, true}},
      {"PublishBatch", {&publish_batch, true}},
      {"TagResource", {&tag_resource, true}},
      {"UntagResource", {&untag_resource, true}},
      {"ListTagsForResource", {&list_tags_for_resource, true}},
  };
  return kOperations;
}

ApiResponse error_response(const Error& error, const RequestContext& ctx) {
  const ErrorInfo& info = error.info();
  xml::Writer w;
  w.open("ErrorResponse", kXmlns)
      .open("Error")
      .element("Type", info.sender_fault ? "Sender" : "Receiver")
      .element("Code", info.code)
      .element("Message", error.message)
      .close()
      .element("RequestId", ctx.request_id);
  ApiResponse r;
  r.status = info.http_status;
  r.headers.emplace_back("Content-Type", "text/xml");
  r.body = w.finish();
  return r;
}

ApiResponse handle(engine::Engine& engine, const aws::QueryParams& raw, const RequestContext& ctx) {
  for (const auto& [k, v] : raw) {
    if (!is_valid_utf8(k) || !is_valid_utf8(v))
      return error_response(
          Error{ErrorCode::sns_invalid_parameter,
                "Invalid parameter: " + (is_valid_utf8(k) ? k : std::string("name")) +
                    " Reason: the value is not valid UTF-8"},
          ctx);
  }
  Params params(raw);
  const std::string* action = params.get("Action");
  if (action == nullptr)
    return error_response(
        Error{ErrorCode::invalid_action, "Missing required parameter: Action"}, ctx);
  auto it = operations().find(*action);
  if (it == operations().end())
    return error_response(Error{ErrorCode::invalid_action,
                                "The action or operation requested is invalid. Verify that the "
                                "action is typed correctly."},
                          ctx);
  const std::string& op = it->first;
  xml::Writer w;
  w.open(op + "Response", kXmlns);
  if (it->second.has_result) w.open(op + "Result");
  if (auto st = it->second.handler(engine, params, w); !st) return error_response(st.error(), ctx);
  if (it->second.has_result) w.close();
  w.open("ResponseMetadata").element("RequestId", ctx.request_id).close();
  ApiResponse r;
  r.headers.emplace_back("Content-Type", "text/xml");
  r.body = w.finish();
  return r;
}

}  // namespace

void sns_handle(engine::Engine& engine, const aws::QueryParams& params, const RequestContext& ctx,
                Respond respond) {
  respond(handle(engine, params, ctx));
}

}  // namespace orderflow::server
