#include "engine/topics.h"

#include <boost/json.hpp>

#include <algorithm>
#include <future>
#include <mutex>
#include <set>

#include "common/util.h"
#include "engine/sns/envelope.h"
#include "engine/sns/filter_policy.h"
#include "engine/sns/publish_validation.h"

namespace orderflow::engine {
namespace json = boost::json;

namespace {

constexpr std::size_t kPageSize = 100;
// SenderId of messages SNS delivers into SQS.
constexpr std::string_view kSnsSenderId = "AIDAORDERFLOWSNS00000";

Error invalid(std::string_view what) {
  return Error{ErrorCode::sns_invalid_parameter, "Invalid parameter: " + std::string(what)};
}
Error topic_missing() { return Error{ErrorCode::sns_not_found, "Topic does not exist"}; }
Error subscription_missing() { return Error{ErrorCode::sns_not_found, "Subscription does not exist"}; }

bool valid_topic_name(std::string_view n) {
  if (n.empty() || n.size() > 256) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

bool valid_batch_id(std::string_view id) {
  if (id.empty() || id.size() > 80) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

const std::set<std::string, std::less<>> kTopicSettable = {
    "DisplayName", "Policy", "DeliveryPolicy", "KmsMasterKeyId", "SignatureVersion", "TracingConfig",
    "ContentBasedDeduplication", "DataProtectionPolicy", "ArchivePolicy",
    "SQSSuccessFeedbackRoleArn", "SQSSuccessFeedbackSampleRate", "SQSFailureFeedbackRoleArn"};
const std::set<std::string, std::less<>> kSubscriptionSettable = {
    "RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy", "DeliveryPolicy",
    "SubscriptionRoleArn", "ReplayPolicy"};
const std::set<std::string, std::less<>> kProtocols = {"http", "https", "email", "email-json", "sms", "sqs",
                                                       "application", "lambda", "firehose"};

struct Topic {
  std::string name;
  std::string arn;
  std::uint64_t published = 0;  // in memory only: since the process started
  AttributeMap attributes;  // settable ones as given
  TagMap tags;
};

struct Subscription {
  std::string arn;
  std::string topic_arn;
  std::string protocol;
  std::string endpoint;
  AttributeMap attributes;
  sns::FilterPolicy filter;  // compiled from attributes
  bool raw = false;
};

}  // namespace

struct Topics::Impl {
  Store& store;
  Clock& clock;
  Queues& queues;
  TopicsOptions options;
  // The SNS signing key and its certificate. A new data directory's key is generated on a
  // thread of its own (an RSA-2048 key takes about a second), so that opening does not wait for
  // it; the first publish (or certificate request) does, and it is durable before it is used.
  struct Signing {
    sns::SigningKey key;
    std::string certificate;
  };
  mutable std::mutex signing_mu;
  mutable std::shared_future<Result<Signing>> signing;  // guarded by signing_mu (replaced on failure)

  mutable std::mutex mu;
  std::map<std::string, Topic, std::less<>> topics;                // by ARN; guarded by mu
  std::map<std::string, Subscription, std::less<>> subscriptions;  // by ARN; guarded by mu

  Impl(Store& s, Clock& c, Queues& q, TopicsOptions o) : store(s), clock(c), queues(q), options(std::move(o)) {}
  ~Impl() {
    std::lock_guard g(signing_mu);
    if (signing.valid()) signing.wait();  // the generating thread uses the store
  }

  // Generates a key, stores it durably, and makes its certificate.
  Result<Signing> generate_signing() const {
    auto k = sns::SigningKey::generate(options.signing_key_bits);
    if (!k) return std::unexpected(k.error());
    WriteBatch b;
    b.put(Space::counter, "sns_signing_key", k->private_key_pem());
    if (auto s = store.commit(std::move(b)); !s) return std::unexpected(s.error());
    return make_signing(std::move(*k));
  }

  std::shared_future<Result<Signing>> start_generating() const {
    return std::async(std::launch::async, [this] { return generate_signing(); }).share();
  }

  // The signing key, once ready. A failed background generation is started again for the
  // next caller. A successful result is never replaced, so the pointer stays valid.
  Result<const Signing*> current_signing() const {
    std::shared_future<Result<Signing>> f;
    {
      std::lock_guard g(signing_mu);
      f = signing;
    }
    const Result<Signing>& r = f.get();
    if (r) return &*r;
    if (options.generate_key_in_background) {
      std::lock_guard g(signing_mu);
      if (signing.valid() && signing.wait_for(std::chrono::seconds(0)) == std::future_status::ready &&
          !signing.get())
        signing = start_generating();
    }
    return std::unexpected(r.error());
  }

  static Result<Signing> make_signing(sns::SigningKey key) {
    auto cert = key.certificate_pem(1'600'000'000);
    if (!cert) return std::unexpected(cert.error());
    return Signing{std::move(key), std::move(*cert)};
  }

  std::string arn_for(std::string_view name) const {
    return "arn:aws:sns:" + options.region + ":" + options.account_id + ":" + std::string(name);
  }

  // Validates an ARN's shape the way SNS reports it.
  static Status check_arn(std::string_view arn, std::string_view param) {
    if (!arn.starts_with("arn:"))
      return std::unexpected(invalid(std::string(param) + " Reason: " + std::string(arn) + " does not start with arn"));
    std::size_t parts = static_cast<std::size_t>(std::count(arn.begin(), arn.end(), ':')) + 1;
    if (parts < 6)
      return std::unexpected(invalid(std::string(param) + " Reason: An ARN must have at least 6 elements, not " +
                                     std::to_string(parts)));
    return {};
  }

  std::string encode_topic(const Topic& t) const {
    json::object o, a, g;
    for (const auto& [k, v] : t.attributes) a[k] = v;
    for (const auto& [k, v] : t.tags) g[k] = v;
    o["attributes"] = std::move(a);
    o["tags"] = std::move(g);
    return json::serialize(o);
  }

  std::string encode_subscription(const Subscription& s) const {
    json::object o, a;
    for (const auto& [k, v] : s.attributes) a[k] = v;
    o["topic"] = s.topic_arn;
    o["protocol"] = s.protocol;
    o["endpoint"] = s.endpoint;
    o["attributes"] = std::move(a);
    return json::serialize(o);
  }

  // Validates one subscription attribute and applies it to `s`.
  static Status apply_subscription_attribute(Subscription& s, std::string_view name, std::string_view value,
                                             sns::FilterPolicySource source) {
    if (!kSubscriptionSettable.contains(name)) return std::unexpected(invalid("AttributeName"));
    if (name == "RawMessageDelivery") {
      if (value != "true" && value != "false" && value != "True" && value != "False")
        return std::unexpected(invalid("Attributes Reason: RawMessageDelivery: Invalid value [" +
                                       std::string(value) + "]. Must be true or false."));
      s.raw = value == "true" || value == "True";
      s.attributes["RawMessageDelivery"] = s.raw ? "true" : "false";
      return {};
    }
    if (name == "FilterPolicyScope") {
      auto scope = sns::parse_filter_policy_scope(value, source);
      if (!scope) return std::unexpected(scope.error());
      auto it = s.attributes.find("FilterPolicy");
      if (it != s.attributes.end() && !it->second.empty()) {
        auto fp = sns::FilterPolicy::parse(it->second, *scope, source);
        if (!fp) return std::unexpected(fp.error());
        s.filter = *fp;
      }
      s.attributes["FilterPolicyScope"] = std::string(value);
      return {};
    }
    if (name == "FilterPolicy") {
      if (value.empty()) {
        s.filter = sns::FilterPolicy();
        s.attributes.erase("FilterPolicy");
        return {};
      }
      auto sc = s.attributes.contains("FilterPolicyScope")
                    ? sns::parse_filter_policy_scope(s.attributes["FilterPolicyScope"], source)
                    : Result<sns::FilterPolicyScope>(sns::FilterPolicyScope::message_attributes);
      if (!sc) return std::unexpected(sc.error());
      auto fp = sns::FilterPolicy::parse(value, *sc, source);
      if (!fp) return std::unexpected(fp.error());
      s.filter = *fp;
      s.attributes["FilterPolicy"] = std::string(value);
      return {};
    }
    if (name == "RedrivePolicy" || name == "DeliveryPolicy" || name == "ReplayPolicy") {
      if (!value.empty()) {
        std::error_code ec;
        json::value v = json::parse(value, ec);
        if (ec || !v.is_object())
          return std::unexpected(invalid(std::string(name) + ": failed to parse JSON."));
      }
    }
    s.attributes[std::string(name)] = std::string(value);
    return {};
  }

  Status load() {
    Status bad;
    // The signing key is generated once and kept, so SigningCertURL stays valid across restarts.
    std::string pem;
    if (auto s = store.scan(Space::counter, [&](std::string_view k, std::string_view v) {
          if (k == "sns_signing_key") pem = std::string(v);
        });
        !s)
      return s;
    if (!pem.empty()) {
      auto k = sns::SigningKey::from_private_key_pem(pem);
      if (!k) return std::unexpected(k.error());
      auto made = make_signing(std::move(*k));
      if (!made) return std::unexpected(made.error());
      std::promise<Result<Signing>> ready;
      ready.set_value(std::move(made));
      signing = ready.get_future().share();
    } else if (options.generate_key_in_background) {
      std::lock_guard g(signing_mu);
      signing = start_generating();
    } else {
      auto made = generate_signing();
      if (!made) return std::unexpected(made.error());
      std::promise<Result<Signing>> ready;
      ready.set_value(std::move(made));
      signing = ready.get_future().share();
    }
    if (auto s = store.scan(Space::topic, [&](std::string_view k, std::string_view v) {
          std::error_code ec;
          json::value j = json::parse(v, ec);
          if (ec || !j.is_object()) {
            bad = fail(ErrorCode::internal_error, "corrupt topic record " + std::string(k));
            return;
          }
          Topic t;
          t.name = std::string(k);
          t.arn = arn_for(k);
          for (const auto& kv : j.at("attributes").as_object())
            t.attributes[std::string(kv.key())] = std::string(kv.value().as_string());
          for (const auto& kv : j.at("tags").as_object())
            t.tags[std::string(kv.key())] = std::string(kv.value().as_string());
          topics.emplace(t.arn, std::move(t));
        });
        !s)
      return s;
    if (auto s = store.scan(Space::subscription, [&](std::string_view k, std::string_view v) {
          std::error_code ec;
          json::value j = json::parse(v, ec);
          if (ec || !j.is_object()) {
            bad = fail(ErrorCode::internal_error, "corrupt subscription record " + std::string(k));
            return;
          }
          Subscription s;
          s.arn = std::string(k);
          s.topic_arn = std::string(j.at("topic").as_string());
          s.protocol = std::string(j.at("protocol").as_string());
          s.endpoint = std::string(j.at("endpoint").as_string());
          AttributeMap attrs;
          for (const auto& kv : j.at("attributes").as_object())
            attrs[std::string(kv.key())] = std::string(kv.value().as_string());
          // Scope first so the filter policy compiles with it.
          if (auto it = attrs.find("FilterPolicyScope"); it != attrs.end())
            (void)apply_subscription_attribute(s, it->first, it->second, sns::FilterPolicySource::subscribe);
          for (const auto& [name, value] : attrs)
            (void)apply_subscription_attribute(s, name, value, sns::FilterPolicySource::subscribe);
          subscriptions.emplace(s.arn, std::move(s));
        });
        !s)
      return s;
    return bad;
  }

  // A delivery whose SNS envelope still has to be built and signed (outside mu: RSA signing
  // costs ~1 ms of CPU, and publishers on several threads sign in parallel).
  struct Prepared {
    Queues::Delivery delivery;
    std::optional<sns::Notification> envelope;
  };

  // Validates a publish and builds its deliveries, envelopes not yet signed. Called with mu held.
  Result<std::vector<Prepared>> prepare(const Topic& t, PublishRequest& r, const std::string& message_id,
                                        std::int64_t now) const {
    if (r.message.empty()) return std::unexpected(invalid("Empty message"));
    if (r.subject) {
      const auto& s = *r.subject;
      bool ok = !s.empty() && s.size() < 100 &&
                std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
      if (!ok) return std::unexpected(invalid("Subject"));
    }
    if (auto st = sns::validate_sns_message_attributes(r.attributes); !st) return std::unexpected(st.error());
    if (auto st = sns::validate_sns_message_size(r.message, r.attributes); !st) return std::unexpected(st.error());
    std::string sqs_message = r.message;
    if (!r.message_structure.empty()) {
      if (r.message_structure != "json") return std::unexpected(invalid("MessageStructure"));
      std::error_code ec;
      json::value v = json::parse(r.message, ec);
      if (ec || !v.is_object())
        return std::unexpected(invalid("Message Structure - JSON message body failed to parse"));
      const auto& o = v.as_object();
      auto* def = o.if_contains("default");
      if (def == nullptr || !def->is_string())
        return std::unexpected(invalid("Message Structure - No default entry in JSON message body"));
      auto* sqs = o.if_contains("sqs");
      sqs_message = std::string(sqs != nullptr && sqs->is_string() ? sqs->as_string() : def->as_string());
    }
    std::vector<Prepared> out;
    for (const auto& [arn, s] : subscriptions) {
      if (s.topic_arn != t.arn || s.protocol != "sqs") continue;
      if (!s.filter.empty() && !s.filter.matches_message(sqs_message, r.attributes)) continue;
      auto queue = queues.name_from_arn(s.endpoint);
      if (!queue) continue;
      Prepared p;
      Queues::Delivery& d = p.delivery;
      d.queue = *queue;
      d.request.sender_id = std::string(kSnsSenderId);
      if (s.raw) {
        d.request.body = sqs_message;
        d.request.attributes = r.attributes;
      } else {
        sns::Notification n;
        n.message_id = message_id;
        n.topic_arn = t.arn;
        n.subject = r.subject;
        n.message = sqs_message;
        n.timestamp_ms = now;
        n.attributes = r.attributes;
        n.subscription_arn = s.arn;
        n.base_url = options.base_url;
        if (auto it = t.attributes.find("SignatureVersion"); it != t.attributes.end() && it->second == "2")
          n.signature_version = sns::SignatureVersion::v2;
        p.envelope = std::move(n);
      }
      out.push_back(std::move(p));
    }
    return out;
  }

  // Builds and signs the envelopes of `prepared`. Without mu: `signing` is set once by open().
  Result<std::vector<Queues::Delivery>> seal(std::vector<Prepared> prepared) const {
    std::vector<Queues::Delivery> out;
    out.reserve(prepared.size());
    for (auto& p : prepared) {
      if (p.envelope) {
        auto sig = current_signing();
        if (!sig) return std::unexpected(Error{ErrorCode::sns_internal_error, sig.error().message});
        auto env = sns::build_notification_envelope(*p.envelope, (*sig)->key);
        if (!env) return std::unexpected(env.error());
        p.delivery.request.body = std::move(*env);
      }
      out.push_back(std::move(p.delivery));
    }
    return out;
  }

  Result<const Topic*> topic(std::string_view arn) const {
    if (auto s = check_arn(arn, "TopicArn"); !s) return std::unexpected(s.error());
    auto it = topics.find(arn);
    if (it == topics.end()) return std::unexpected(topic_missing());
    return &it->second;
  }
};

Topics::Topics(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Topics::~Topics() = default;

Result<std::unique_ptr<Topics>> Topics::open(Store& store, Clock& clock, Queues& queues, TopicsOptions options) {
  auto impl = std::make_unique<Impl>(store, clock, queues, std::move(options));
  if (auto s = impl->load(); !s) return std::unexpected(s.error());
  return std::unique_ptr<Topics>(new Topics(std::move(impl)));
}

std::string Topics::topic_arn(std::string_view name) const { return impl_->arn_for(name); }
std::string Topics::signing_certificate_pem() const {
  auto sig = impl_->current_signing();
  return sig ? (*sig)->certificate : std::string();
}

Result<std::string> Topics::create_topic(std::string_view name, const AttributeMap& attributes, const TagMap& tags) {
  if (!valid_topic_name(name))
    return std::unexpected(invalid("Topic Name"));
  for (const auto& [k, v] : attributes) {
    if (k == "FifoTopic") {
      if (v == "true")
        return std::unexpected(invalid("Attributes Reason: FIFO topics are not supported by this orderflow engine"));
      continue;
    }
    if (!kTopicSettable.contains(k)) return std::unexpected(invalid("Attributes Reason: Unknown attribute " + k));
  }
  WriteBatch b;
  std::string arn = impl_->arn_for(name);
  std::future<Status> durable;
  {
    std::lock_guard g(impl_->mu);
    if (auto it = impl_->topics.find(arn); it != impl_->topics.end()) {
      for (const auto& [k, v] : attributes) {
        if (k == "FifoTopic") continue;
        auto e = it->second.attributes.find(k);
        if (e == it->second.attributes.end() || e->second != v)
          return std::unexpected(invalid("Attributes Reason: Topic already exists with different attributes"));
      }
      return arn;
    }
    Topic t;
    t.name = std::string(name);
    t.arn = arn;
    for (const auto& [k, v] : attributes)
      if (k != "FifoTopic") t.attributes[k] = v;
    t.tags = tags;
    b.put(Space::topic, t.name, impl_->encode_topic(t));
    impl_->topics.emplace(arn, std::move(t));
    durable = impl_->store.submit(std::move(b));
  }
  if (auto s = durable.get(); !s) return std::unexpected(s.error());
  return arn;
}

namespace {
Error resource_missing() { return Error{ErrorCode::sns_resource_not_found, "Resource does not exist"}; }
}  // namespace

Status Topics::tag_topic(std::string_view topic_arn, const TagMap& tags) {
  if (auto s = Impl::check_arn(topic_arn, "ResourceArn"); !s) return s;
  for (const auto& [k, v] : tags) {
    if (k.empty() || k.size() > 128 || v.size() > 256 || !is_valid_utf8(k) || !is_valid_utf8(v))
      return std::unexpected(invalid("Tags Reason: a tag key must be 1 to 128 characters, a value at most 256"));
  }
  std::future<Status> durable;
  {
    std::lock_guard g(impl_->mu);
    auto it = impl_->topics.find(topic_arn);
    if (it == impl_->topics.end()) return std::unexpected(resource_missing());
    TagMap merged = it->second.tags;
    for (const auto& [k, v] : tags) merged[k] = v;
    if (merged.size() > 50)
      return fail(ErrorCode::sns_tag_limit_exceeded, "Could not complete request: tag quota of per resource exceeded");
    it->second.tags = std::move(merged);
    WriteBatch b;
    b.put(Space::topic, it->second.name, impl_->encode_topic(it->second));
    durable = impl_->store.submit(std::move(b));
  }
  return durable.get();
}

Status Topics::untag_topic(std::string_view topic_arn, const std::vector<std::string>& keys) {
  if (auto s = Impl::check_arn(topic_arn, "ResourceArn"); !s) return s;
  std::future<Status> durable;
  {
    std::lock_guard g(impl_->mu);
    auto it = impl_->topics.find(topic_arn);
    if (it == impl_->topics.end()) return std::unexpected(resource_missing());
    for (const auto& k : keys) it->second.tags.erase(k);
    WriteBatch b;
    b.put(Space::topic, it->second.name, impl_->encode_topic(it->second));
    durable = impl_->store.submit(std::move(b));
  }
  return durable.get();
}

Result<TagMap> Topics::topic_tags(std::string_view topic_arn) const {
  if (auto s = Impl::check_arn(topic_arn, "ResourceArn"); !s) return std::unexpected(s.error());
  std::lock_guard g(impl_->mu);
  auto it = impl_->topics.find(topic_arn);
  if (it == impl_->topics.end()) return std::unexpected(resource_missing());
  return it->second.tags;
}

Status Topics::delete_topic(std::string_view topic_arn) {
  if (auto s = Impl::check_arn(topic_arn, "TopicArn"); !s) return s;
  std::future<Status> durable;
  {
    std::lock_guard g(impl_->mu);
    auto it = impl_->topics.find(topic_arn);
    if (it == impl_->topics.end()) return {};
    WriteBatch b;
    for (auto s = impl_->subscriptions.begin(); s != impl_->subscriptions.end();) {
      if (s->second.topic_arn == topic_arn) {
        b.erase(Space::subscription, s->first);
        s = impl_->subscriptions.erase(s);
      } else {
        ++s;
      }
    }
    b.erase(Space::topic, it->second.name);
    impl_->topics.erase(it);
    durable = impl_->store.submit(std::move(b));
  }
  return durable.get();
}

Result<Page> Topics::list_topics(std::string_view next_token) const {
  std::string after;
  if (!next_token.empty()) {
    auto d = base64_decode(next_token);
    if (!d) return std::unexpected(invalid("NextToken"));
    after = *d;
  }
  std::lock_guard g(impl_->mu);
  Page p;
  auto it = after.empty() ? impl_->topics.begin() : impl_->topics.upper_bound(after);
  for (; it != impl_->topics.end() && p.items.size() < kPageSize; ++it) p.items.push_back(it->first);
  if (it != impl_->topics.end()) p.next_token = base64_encode(p.items.back());
  return p;
}

Result<AttributeMap> Topics::get_topic_attributes(std::string_view topic_arn) const {
  std::lock_guard g(impl_->mu);
  auto t = impl_->topic(topic_arn);
  if (!t) return std::unexpected(t.error());
  const Topic& topic = **t;
  AttributeMap m;
  std::size_t subs = 0;
  for (const auto& [a, s] : impl_->subscriptions)
    if (s.topic_arn == topic.arn) ++subs;
  const auto& acct = impl_->options.account_id;
  json::object policy{
      {"Version", "2008-10-17"},
      {"Id", "__default_policy_ID"},
      {"Statement",
       json::array{json::object{
           {"Sid", "__default_statement_ID"},
           {"Effect", "Allow"},
           {"Principal", json::object{{"AWS", "*"}}},
           {"Action", json::array{"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                                  "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                                  "SNS:ListSubscriptionsByTopic", "SNS:Publish"}},
           {"Resource", topic.arn},
           {"Condition", json::object{{"StringEquals", json::object{{"AWS:SourceOwner", acct}}}}}}}}};
  m["Policy"] = json::serialize(policy);
  m["EffectiveDeliveryPolicy"] =
      R"({"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}})";
  m["DisplayName"] = "";
  for (const auto& [k, v] : topic.attributes) m[k] = v;
  m["TopicArn"] = topic.arn;
  m["Owner"] = acct;
  m["SubscriptionsConfirmed"] = std::to_string(subs);
  m["SubscriptionsPending"] = "0";
  m["SubscriptionsDeleted"] = "0";
  return m;
}

Status Topics::set_topic_attribute(std::string_view topic_arn, std::string_view name, std::string_view value) {
  if (!kTopicSettable.contains(name)) return std::unexpected(invalid("AttributeName"));
  if (name == "SignatureVersion" && value != "1" && value != "2")
    return std::unexpected(invalid("Attributes Reason: SignatureVersion must be 1 or 2"));
  if ((name == "Policy" || name == "DeliveryPolicy") && !value.empty()) {
    std::error_code ec;
    json::value v = json::parse(value, ec);
    if (ec || !v.is_object()) return std::unexpected(invalid(std::string(name) + ": failed to parse JSON"));
  }
  std::future<Status> durable;
  {
    std::lock_guard g(impl_->mu);
    auto t = impl_->topic(topic_arn);
    if (!t) return std::unexpected(t.error());
    Topic& topic = const_cast<Topic&>(**t);
    topic.attributes[std::string(name)] = std::string(value);
    WriteBatch b;
    b.put(Space::topic, topic.name, impl_->encode_topic(topic));
    durable = impl_->store.submit(std::move(b));
  }
  return durable.get();
}

Result<std::string> Topics::subscribe(std::string_view topic_arn, std::string_view protocol, std::string_view endpoint,
                                      const AttributeMap& attributes) {
  if (!kProtocols.contains(protocol)) return std::unexpected(invalid("Invalid protocol type: " + std::string(protocol)));
  if (protocol != "sqs")
    return std::unexpected(invalid("Protocol Reason: only the sqs protocol is supported by this orderflow engine"));
  if (endpoint.empty()) return std::unexpected(invalid("Endpoint"));
  if (!endpoint.starts_with("arn:aws:sqs:") || std::count(endpoint.begin(), endpoint.end(), ':') != 5)
    return std::unexpected(invalid("SQS endpoint ARN"));
  Subscription s;
  s.topic_arn = std::string(topic_arn);
  s.protocol = std::string(protocol);
  s.endpoint = std::string(endpoint);
  if (auto it = attributes.find("FilterPolicyScope"); it != attributes.end())
    if (auto st = Impl::apply_subscription_attribute(s, it->first, it->second, sns::FilterPolicySource::subscribe); !st)
      return std::unexpected(st.error());
  for (const auto& [k, v] : attributes)
    if (auto st = Impl::apply_subscription_attribute(s, k, v, sns::FilterPolicySource::subscribe); !st)
      return std::unexpected(st.error());
  std::string arn;
  std::future<Status> durable;
  {
    std::lock_guard g(impl_->mu);
    auto t = impl_->topic(topic_arn);
    if (!t) return std::unexpected(t.error());
    for (const auto& [a, existing] : impl_->subscriptions) {
      if (existing.topic_arn == topic_arn && existing.protocol == protocol && existing.endpoint == endpoint) {
        for (const auto& [k, v] : s.attributes) {
          auto e = existing.attributes.find(k);
          if (e == existing.attributes.end() || e->second != v)
            return std::unexpected(invalid("Attributes Reason: Subscription already exists with different attributes"));
        }
        return a;
      }
    }
    s.arn = std::string(topic_arn) + ":" + uuid4();
    arn = s.arn;
    WriteBatch b;
    b.put(Space::subscription, s.arn, impl_->encode_subscription(s));
    impl_->subscriptions.emplace(s.arn, std::move(s));
    durable = impl_->store.submit(std::move(b));
  }
  if (auto st = durable.get(); !st) return std::unexpected(st.error());
  return arn;
}

Status Topics::unsubscribe(std::string_view subscription_arn) {
  if (auto s = Impl::check_arn(subscription_arn, "SubscriptionArn"); !s) return s;
  std::future<Status> durable;
  {
    std::lock_guard g(impl_->mu);
    auto it = impl_->subscriptions.find(subscription_arn);
    if (it == impl_->subscriptions.end()) return std::unexpected(subscription_missing());
    WriteBatch b;
    b.erase(Space::subscription, it->first);
    impl_->subscriptions.erase(it);
    durable = impl_->store.submit(std::move(b));
  }
  return durable.get();
}

Result<std::vector<SubscriptionInfo>> Topics::list_subscriptions(std::string_view topic_arn, std::string_view next_token,
                                                                 std::string* next_out) const {
  std::string after;
  if (!next_token.empty()) {
    auto d = base64_decode(next_token);
    if (!d) return std::unexpected(invalid("NextToken"));
    after = *d;
  }
  std::lock_guard g(impl_->mu);
  if (!topic_arn.empty()) {
    auto t = impl_->topic(topic_arn);
    if (!t) return std::unexpected(t.error());
  }
  std::vector<SubscriptionInfo> out;
  auto it = after.empty() ? impl_->subscriptions.begin() : impl_->subscriptions.upper_bound(after);
  for (; it != impl_->subscriptions.end(); ++it) {
    if (!topic_arn.empty() && it->second.topic_arn != topic_arn) continue;
    if (out.size() == kPageSize) {
      if (next_out != nullptr) *next_out = base64_encode(out.back().subscription_arn);
      return out;
    }
    const auto& s = it->second;
    out.push_back(SubscriptionInfo{s.arn, s.topic_arn, s.protocol, s.endpoint, impl_->options.account_id});
  }
  if (next_out != nullptr) next_out->clear();
  return out;
}

Result<AttributeMap> Topics::get_subscription_attributes(std::string_view subscription_arn) const {
  if (auto s = Impl::check_arn(subscription_arn, "SubscriptionArn"); !s) return std::unexpected(s.error());
  std::lock_guard g(impl_->mu);
  auto it = impl_->subscriptions.find(subscription_arn);
  if (it == impl_->subscriptions.end()) return std::unexpected(subscription_missing());
  const auto& s = it->second;
  AttributeMap m = s.attributes;
  m["SubscriptionArn"] = s.arn;
  m["TopicArn"] = s.topic_arn;
  m["Owner"] = impl_->options.account_id;
  m["Protocol"] = s.protocol;
  m["Endpoint"] = s.endpoint;
  m["RawMessageDelivery"] = s.raw ? "true" : "false";
  m["PendingConfirmation"] = "false";
  m["ConfirmationWasAuthenticated"] = "true";
  m["SubscriptionPrincipal"] = "arn:aws:iam::" + impl_->options.account_id + ":user/orderflow";
  if (m.contains("FilterPolicy") && !m.contains("FilterPolicyScope")) m["FilterPolicyScope"] = "MessageAttributes";
  return m;
}

Status Topics::set_subscription_attribute(std::string_view subscription_arn, std::string_view name,
                                          std::string_view value) {
  if (auto s = Impl::check_arn(subscription_arn, "SubscriptionArn"); !s) return s;
  std::future<Status> durable;
  {
    std::lock_guard g(impl_->mu);
    auto it = impl_->subscriptions.find(subscription_arn);
    if (it == impl_->subscriptions.end()) return std::unexpected(subscription_missing());
    Subscription copy = it->second;  // a failed call changes nothing
    if (auto st = Impl::apply_subscription_attribute(copy, name, value,
                                                     sns::FilterPolicySource::set_subscription_attributes);
        !st)
      return st;
    it->second = std::move(copy);
    WriteBatch b;
    b.put(Space::subscription, it->first, impl_->encode_subscription(it->second));
    durable = impl_->store.submit(std::move(b));
  }
  return durable.get();
}

Result<std::string> Topics::publish(std::string_view topic_arn, PublishRequest request) {
  auto r = publish_batch(topic_arn, {{"single", std::move(request)}});
  if (!r) return std::unexpected(r.error());
  if (!r->failed.empty()) return std::unexpected(r->failed.front().second);
  return r->successful.front().second;
}

Result<BatchOutcome<std::string>> Topics::publish_batch(std::string_view topic_arn,
                                                        std::vector<std::pair<std::string, PublishRequest>> entries) {
  if (entries.empty())
    return fail(ErrorCode::sns_empty_batch_request, "The batch request doesn't contain any entries.");
  if (entries.size() > 10)
    return fail(ErrorCode::sns_too_many_entries_in_batch_request,
                "The batch request contains more entries than permissible.");
  std::set<std::string_view> ids;
  std::size_t total = 0;
  for (const auto& [id, r] : entries) {
    if (!valid_batch_id(id))
      return fail(ErrorCode::sns_invalid_batch_entry_id,
                  "The Id of a batch entry in a batch request doesn't abide by the specification.");
    if (!ids.insert(id).second)
      return fail(ErrorCode::sns_batch_entry_ids_not_distinct, "Two or more batch entries in the request have the same Id.");
    total += sns::sns_message_size(r.message, r.attributes);
  }
  if (entries.size() > 1 && total > sns::max_sns_message_bytes)
    return fail(ErrorCode::sns_batch_request_too_long, "The length of all the messages put together is more than the limit.");
  BatchOutcome<std::string> out;
  std::vector<Impl::Prepared> prepared;
  {
    std::lock_guard g(impl_->mu);
    auto t = impl_->topic(topic_arn);
    if (!t) return std::unexpected(t.error());
    std::int64_t now = to_epoch_ms(impl_->clock.now());
    for (auto& [id, r] : entries) {
      std::string message_id = uuid4();
      auto d = impl_->prepare(**t, r, message_id, now);
      if (!d) {
        out.failed.emplace_back(id, d.error());
        continue;
      }
      for (auto& one : *d) prepared.push_back(std::move(one));
      out.successful.emplace_back(id, std::move(message_id));
    }
  }
  if (!prepared.empty()) {
    auto deliveries = impl_->seal(std::move(prepared));
    if (!deliveries) return std::unexpected(deliveries.error());
    auto delivered = impl_->queues.deliver_all(std::move(*deliveries));
    if (!delivered) return std::unexpected(Error{ErrorCode::sns_internal_error, delivered.error().message});
  }
  std::lock_guard g(impl_->mu);
  if (auto it = impl_->topics.find(topic_arn); it != impl_->topics.end()) it->second.published += out.successful.size();
  return out;
}

std::map<std::string, std::uint64_t> Topics::published_counts() const {
  std::lock_guard g(impl_->mu);
  std::map<std::string, std::uint64_t> out;
  for (const auto& [arn, t] : impl_->topics) out.emplace(arn, t.published);
  return out;
}

}  // namespace orderflow::engine
