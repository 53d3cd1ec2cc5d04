#include "server/logs_api.h"

#include <boost/json.hpp>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/wire.h"

namespace orderflow::server {

namespace json = boost::json;

namespace {

using Outcome = Result<json::object>;

// ---------------------------------------------------------------- reading the request

// What is wrong with a request (server/wire.h), reported under logs_invalid_parameter.
struct Problems : RequestProblems {
  Problems() : RequestProblems(ErrorCode::logs_invalid_parameter) {}
};

std::string java_number_class(const json::value& v) {
  if (v.is_double()) return "java.lang.Double";
  if (v.is_int64() && v.get_int64() >= std::numeric_limits<std::int32_t>::min() &&
      v.get_int64() <= std::numeric_limits<std::int32_t>::max())
    return "java.lang.Integer";
  return "java.lang.Long";
}

// Typed access to the members of one JSON object: absent and null members read as nullopt; a
// member of the wrong JSON type is a SerializationException.
class Fields {
 public:
  Fields(const json::object* o, Problems& p, std::string prefix = {})
      : o_(o), p_(p), prefix_(std::move(prefix)) {}

  std::string path(std::string_view key) const { return prefix_ + std::string(key); }

  const json::value* raw(std::string_view key) const {
    if (o_ == nullptr) return nullptr;
    const json::value* v = o_->if_contains(key);
    return v == nullptr || v->is_null() ? nullptr : v;
  }
  bool has(std::string_view key) const { return raw(key) != nullptr; }

  void require(std::string_view key) {
    if (raw(key) == nullptr) p_.violate("null", path(key), "Member must not be null");
  }

  std::optional<std::string> str(std::string_view key, bool required = false) {
    if (required) require(key);
    const json::value* v = raw(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_bool())
      serialization("class java.lang.Boolean can not be converted to an String");
    else if (v->is_number())
      serialization("class " + java_number_class(*v) + " can not be converted to an String");
    else
      structural(*v);
    return std::nullopt;
  }

  // A string with a minimum length of 1 (NextToken, SequenceToken).
  std::optional<std::string> token(std::string_view key) {
    auto s = str(key);
    if (s && s->empty()) {
      p_.violate("''", path(key), "Member must have length greater than or equal to 1");
      return std::nullopt;
    }
    return s;
  }

  // A JSON number read as a Java Integer or Long; fractions are truncated.
  std::optional<std::int64_t> integer(std::string_view key, bool is_long, bool required = false) {
    if (required) require(key);
    const json::value* v = raw(key);
    if (v == nullptr) return std::nullopt;
    std::string_view type = is_long ? "Long" : "Integer";
    if (v->is_bool() || v->is_string()) {
      serialization(std::string("class java.lang.") + (v->is_bool() ? "Boolean" : "String") +
                    " can not be converted to an " + std::string(type));
      return std::nullopt;
    }
    if (!v->is_number()) {
      structural(*v);
      return std::nullopt;
    }
    double lo = is_long ? -9.2233720368547758e18 : std::numeric_limits<std::int32_t>::min();
    double hi = is_long ? 9.2233720368547748e18 : std::numeric_limits<std::int32_t>::max();
    double d = v->is_double()  ? v->get_double()
               : v->is_int64() ? static_cast<double>(v->get_int64())
                               : static_cast<double>(v->get_uint64());
    if (!(d >= lo && d <= hi)) {
      serialization("Numeric value (" + json::serialize(*v) + ") out of range of " +
                    (is_long ? "long" : "int"));
      return std::nullopt;
    }
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    return static_cast<std::int64_t>(std::trunc(d));
  }

  std::optional<bool> boolean(std::string_view key, bool required = false) {
    if (required) require(key);
    const json::value* v = raw(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_bool()) return v->get_bool();
    if (v->is_string())
      serialization("class java.lang.String can not be converted to an Boolean");
    else if (v->is_number())
      serialization("class " + java_number_class(*v) + " can not be converted to an Boolean");
    else
      structural(*v);
    return std::nullopt;
  }

  const json::array* list(std::string_view key, bool required = false) {
    if (required) require(key);
    const json::value* v = raw(key);
    if (v == nullptr) return nullptr;
    if (v->is_array()) return &v->get_array();
    serialization(v->is_object() ? "Start of structure or map found where not expected."
                                 : "Expected list or null");
    return nullptr;
  }

  const json::object* object(std::string_view key, bool required = false) {
    if (required) require(key);
    const json::value* v = raw(key);
    if (v == nullptr) return nullptr;
    if (v->is_object()) return &v->get_object();
    serialization(v->is_array() ? "Start of list found where not expected"
                                : "Expected map or null");
    return nullptr;
  }

  // A list of strings with the model's size bounds.
  std::optional<std::vector<std::string>> strings(std::string_view key, std::size_t min,
                                                  std::size_t max, bool required = false) {
    const json::array* a = list(key, required);
    if (a == nullptr) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& v : *a) {
      if (!v.is_string()) {
        serialization(v.is_number()
                          ? "class " + java_number_class(v) + " can not be converted to an String"
                          : std::string("Expected a string in ") + std::string(key));
        return std::nullopt;
      }
      out.emplace_back(v.get_string());
    }
    size_check(key, out.size(), min, max);
    return out;
  }

  // A map of string to string (tags).
  std::optional<engine::LogTags> string_map(std::string_view key, std::size_t min, std::size_t max,
                                            bool required = false) {
    const json::object* o = object(key, required);
    if (o == nullptr) return std::nullopt;
    engine::LogTags out;
    for (const auto& kv : *o) {
      if (!kv.value().is_string()) {
        serialization(kv.value().is_number()
                          ? "class " + java_number_class(kv.value()) +
                                " can not be converted to an String"
                          : std::string("Expected a string value in ") + std::string(key));
        return std::nullopt;
      }
      out.emplace(std::string(kv.key()), std::string(kv.value().get_string()));
    }
    size_check(key, out.size(), min, max);
    return out;
  }

  std::optional<std::string> enumeration(std::string_view key,
                                         std::initializer_list<std::string_view> allowed,
                                         bool required = false) {
    auto s = str(key, required);
    if (!s) return std::nullopt;
    std::string set;
    for (auto a : allowed) {
      if (a == *s) return s;
      set += (set.empty() ? "" : ", ") + std::string(a);
    }
    p_.violate("'" + *s + "'", path(key), "Member must satisfy enum value set: [" + set + "]");
    return std::nullopt;
  }

  Problems& problems() { return p_; }

 private:
  void size_check(std::string_view key, std::size_t n, std::size_t min, std::size_t max) {
    if (n < min)
      p_.violate("[]", path(key),
                 "Member must have length greater than or equal to " + std::to_string(min));
    else if (n > max)
      p_.violate("[...]", path(key),
                 "Member must have length less than or equal to " + std::to_string(max));
  }
  void structural(const json::value& v) {
    serialization(v.is_array() ? "Start of list found where not expected"
                               : "Start of structure or map found where not expected.");
  }
  void serialization(std::string message) {
    p_.set_fatal(Error{ErrorCode::serialization_exception, std::move(message)});
  }

  const json::object* o_;
  Problems& p_;
  std::string prefix_;
};

std::optional<Error> check(const Problems& p) {
  if (p.ok()) return std::nullopt;
  return p.error();
}

#define LOGS_CHECK(fields)                                                   \
  do {                                                                       \
    if (auto bad = check((fields).problems())) return std::unexpected(*bad); \
  } while (0)

// The group of a request that names it by logGroupName or logGroupIdentifier (exactly one).
std::optional<std::string> group_of(Fields& f) {
  auto name = f.str("logGroupName");
  auto id = f.str("logGroupIdentifier");
  Problems& p = f.problems();
  if (!p.ok()) return std::nullopt;
  if (name && id) {
    p.set_fatal(Error{ErrorCode::logs_validation,
                      "LogGroup name and LogGroup ARN are mutually exclusive parameters."});
    return std::nullopt;
  }
  if (!name && !id) {
    p.set_fatal(Error{ErrorCode::logs_invalid_parameter,
                      "Either logGroupName or logGroupIdentifier must be specified."});
    return std::nullopt;
  }
  return name ? name : id;
}

// ---------------------------------------------------------------- rendering

json::object group_json(const engine::LogGroupInfo& g, bool pattern_view) {
  json::object o;
  o["logGroupName"] = g.log_group_name;
  o["creationTime"] = g.creation_time;
  if (!pattern_view && g.retention_in_days) o["retentionInDays"] = *g.retention_in_days;
  o["metricFilterCount"] = g.metric_filter_count;
  o["arn"] = g.arn;
  if (!pattern_view) {
    o["storedBytes"] = g.stored_bytes;
    if (!g.kms_key_id.empty()) o["kmsKeyId"] = g.kms_key_id;
    o["deletionProtectionEnabled"] = g.deletion_protection_enabled;
  }
  o["logGroupClass"] = g.log_group_class;
  o["logGroupArn"] = g.log_group_arn;
  return o;
}

json::object stream_json(const engine::LogStreamInfo& s) {
  json::object o;
  o["logStreamName"] = s.log_stream_name;
  o["creationTime"] = s.creation_time;
  if (s.first_event_timestamp) o["firstEventTimestamp"] = *s.first_event_timestamp;
  if (s.last_event_timestamp) o["lastEventTimestamp"] = *s.last_event_timestamp;
  if (s.last_ingestion_time) o["lastIngestionTime"] = *s.last_ingestion_time;
  if (s.upload_sequence_token) o["uploadSequenceToken"] = *s.upload_sequence_token;
  o["arn"] = s.arn;
  o["storedBytes"] = s.stored_bytes;
  return o;
}

json::object tags_json(const engine::LogTags& tags) {
  json::object o;
  for (const auto& [k, v] : tags) o[k] = v;
  return o;
}

template <class T>
Outcome empty_or_error(const Result<T>& r) {
  if (!r) return std::unexpected(r.error());
  return json::object{};
}

// ---------------------------------------------------------------- groups

Outcome create_log_group(engine::Logs& logs, Fields& f) {
  engine::CreateLogGroupRequest req;
  auto name = f.str("logGroupName", true);
  auto kms = f.str("kmsKeyId");
  auto tags = f.string_map("tags", 1, 50);
  auto cls = f.enumeration("logGroupClass", {"STANDARD", "INFREQUENT_ACCESS", "DELIVERY"});
  auto protection = f.boolean("deletionProtectionEnabled");
  LOGS_CHECK(f);
  req.log_group_name = *name;
  if (kms) req.kms_key_id = *kms;
  if (tags) req.tags = std::move(*tags);
  if (cls) req.log_group_class = *cls;
  req.deletion_protection_enabled = protection.value_or(false);
  return empty_or_error(logs.create_log_group(req));
}

Outcome delete_log_group(engine::Logs& logs, Fields& f) {
  auto name = f.str("logGroupName", true);
  LOGS_CHECK(f);
  return empty_or_error(logs.delete_log_group(*name));
}

Outcome describe_log_groups(engine::Logs& logs, Fields& f) {
  engine::DescribeLogGroupsRequest req;
  f.strings("accountIdentifiers", 0, 20);
  req.log_group_name_prefix = f.str("logGroupNamePrefix");
  req.log_group_name_pattern = f.str("logGroupNamePattern");
  req.next_token = f.token("nextToken");
  if (auto l = f.integer("limit", false)) req.limit = static_cast<int>(*l);
  f.boolean("includeLinkedAccounts");
  req.log_group_class =
      f.enumeration("logGroupClass", {"STANDARD", "INFREQUENT_ACCESS", "DELIVERY"});
  if (auto ids = f.strings("logGroupIdentifiers", 1, 50))
    req.log_group_identifiers = std::move(*ids);
  LOGS_CHECK(f);
  auto r = logs.describe_log_groups(req);
  if (!r) return std::unexpected(r.error());
  json::array groups;
  for (const auto& g : r->log_groups)
    groups.push_back(group_json(g, req.log_group_name_pattern.has_value()));
  json::object out{{"logGroups", std::move(groups)}};
  if (r->next_token) out["nextToken"] = *r->next_token;
  return out;
}

Outcome put_retention_policy(engine::Logs& logs, Fields& f) {
  auto name = f.str("logGroupName", true);
  auto days = f.integer("retentionInDays", false, true);
  LOGS_CHECK(f);
  return empty_or_error(logs.put_retention_policy(*name, static_cast<int>(*days)));
}

Outcome delete_retention_policy(engine::Logs& logs, Fields& f) {
  auto name = f.str("logGroupName", true);
  LOGS_CHECK(f);
  return empty_or_error(logs.delete_retention_policy(*name));
}

Outcome put_deletion_protection(engine::Logs& logs, Fields& f) {
  auto id = f.str("logGroupIdentifier", true);
  auto enabled = f.boolean("deletionProtectionEnabled", true);
  LOGS_CHECK(f);
  return empty_or_error(logs.put_deletion_protection(*id, *enabled));
}

// ---------------------------------------------------------------- streams

Outcome create_log_stream(engine::Logs& logs, Fields& f) {
  auto group = f.str("logGroupName", true);
  auto stream = f.str("logStreamName", true);
  LOGS_CHECK(f);
  return empty_or_error(logs.create_log_stream(*group, *stream));
}

Outcome delete_log_stream(engine::Logs& logs, Fields& f) {
  auto group = f.str("logGroupName", true);
  auto stream = f.str("logStreamName", true);
  LOGS_CHECK(f);
  return empty_or_error(logs.delete_log_stream(*group, *stream));
}

Outcome describe_log_streams(engine::Logs& logs, Fields& f) {
  engine::DescribeLogStreamsRequest req;
  auto group = group_of(f);
  req.log_stream_name_prefix = f.str("logStreamNamePrefix");
  auto order = f.enumeration("orderBy", {"LogStreamName", "LastEventTime"});
  req.descending = f.boolean("descending").value_or(false);
  req.next_token = f.token("nextToken");
  if (auto l = f.integer("limit", false)) req.limit = static_cast<int>(*l);
  LOGS_CHECK(f);
  req.log_group = *group;
  if (order && *order == "LastEventTime") req.order_by = engine::LogStreamOrder::last_event_time;
  auto r = logs.describe_log_streams(req);
  if (!r) return std::unexpected(r.error());
  json::array streams;
  for (const auto& s : r->log_streams) streams.push_back(stream_json(s));
  json::object out{{"logStreams", std::move(streams)}};
  if (r->next_token) out["nextToken"] = *r->next_token;
  return out;
}

// ---------------------------------------------------------------- events

Outcome put_log_events(engine::Logs& logs, Fields& f) {
  auto group = f.str("logGroupName", true);
  auto stream = f.str("logStreamName", true);
  const json::array* list = f.list("logEvents", true);
  f.token("sequenceToken");
  f.object("entity");
  Problems& p = f.problems();
  std::vector<engine::InputLogEvent> events;
  if (list != nullptr) {
    if (list->empty())
      p.violate("[]", "logEvents", "Member must have length greater than or equal to 1");
    if (list->size() > engine::kMaxLogEventsPerBatch)
      p.violate("[...]", "logEvents", "Member must have length less than or equal to 10000");
    events.reserve(list->size());
    std::size_t i = 0;
    for (const auto& v : *list) {
      ++i;
      if (!v.is_object()) {
        p.set_fatal(Error{
            ErrorCode::serialization_exception,
            v.is_array() ? "Start of list found where not expected" : "Expected a structure"});
        break;
      }
      Fields ef(&v.get_object(), p, "logEvents." + std::to_string(i) + ".member.");
      auto ts = ef.integer("timestamp", true, true);
      auto msg = ef.str("message", true);
      if (ts && msg) events.push_back(engine::InputLogEvent{*ts, std::move(*msg)});
    }
  }
  LOGS_CHECK(f);
  auto r = logs.put_log_events(*group, *stream, events);
  if (!r) return std::unexpected(r.error());
  json::object out{{"nextSequenceToken", r->next_sequence_token}};
  json::object rejected;
  if (r->too_new_log_event_start_index)
    rejected["tooNewLogEventStartIndex"] = *r->too_new_log_event_start_index;
  if (r->too_old_log_event_end_index)
    rejected["tooOldLogEventEndIndex"] = *r->too_old_log_event_end_index;
  if (r->expired_log_event_end_index)
    rejected["expiredLogEventEndIndex"] = *r->expired_log_event_end_index;
  if (!rejected.empty()) out["rejectedLogEventsInfo"] = std::move(rejected);
  return out;
}

Outcome get_log_events(engine::Logs& logs, Fields& f) {
  engine::GetLogEventsRequest req;
  auto group = group_of(f);
  auto stream = f.str("logStreamName", true);
  req.start_time = f.integer("startTime", true);
  req.end_time = f.integer("endTime", true);
  req.next_token = f.token("nextToken");
  if (auto l = f.integer("limit", false)) req.limit = static_cast<int>(*l);
  req.start_from_head = f.boolean("startFromHead").value_or(false);
  f.boolean("unmask");
  LOGS_CHECK(f);
  req.log_group = *group;
  req.log_stream_name = *stream;
  auto r = logs.get_log_events(req);
  if (!r) return std::unexpected(r.error());
  json::array events;
  events.reserve(r->events.size());
  for (const auto& e : r->events)
    events.push_back(json::object{
        {"timestamp", e.timestamp}, {"message", e.message}, {"ingestionTime", e.ingestion_time}});
  return json::object{{"events", std::move(events)},
                      {"nextForwardToken", r->next_forward_token},
                      {"nextBackwardToken", r->next_backward_token}};
}

Outcome filter_log_events(engine::Logs& logs, Fields& f) {
  engine::FilterLogEventsRequest req;
  auto group = group_of(f);
  if (auto names = f.strings("logStreamNames", 1, 100)) req.log_stream_names = std::move(*names);
  req.log_stream_name_prefix = f.str("logStreamNamePrefix");
  req.start_time = f.integer("startTime", true);
  req.end_time = f.integer("endTime", true);
  if (auto p = f.str("filterPattern")) req.filter_pattern = std::move(*p);
  req.next_token = f.token("nextToken");
  if (auto l = f.integer("limit", false)) req.limit = static_cast<int>(*l);
  req.start_from_head = f.boolean("startFromHead");
  f.boolean("interleaved");
  f.boolean("unmask");
  LOGS_CHECK(f);
  req.log_group = *group;
  auto r = logs.filter_log_events(req);
  if (!r) return std::unexpected(r.error());
  json::array events;
  events.reserve(r->events.size());
  for (const auto& e : r->events)
    events.push_back(json::object{{"logStreamName", e.log_stream_name},
                                  {"timestamp", e.timestamp},
                                  {"message", e.message},
                                  {"ingestionTime", e.ingestion_time},
                                  {"eventId", e.event_id}});
  json::array searched;
  for (const auto& s : r->searched_log_streams)
    searched.push_back(json::object{{"logStreamName", s.log_stream_name},
                                    {"searchedCompletely", s.searched_completely}});
  json::object out{{"events", std::move(events)}, {"searchedLogStreams", std::move(searched)}};
  if (r->next_token) out["nextToken"] = *r->next_token;
  return out;
}

// ---------------------------------------------------------------- tags

// A taggable resource: a log group ARN of this account (with or without ":*").
std::optional<std::string> resource_arn(Fields& f) {
  auto arn = f.str("resourceArn", true);
  if (arn && !arn->starts_with("arn:")) {
    f.problems().set_fatal(
        Error{ErrorCode::logs_invalid_parameter, "Invalid resource ARN: " + *arn});
    return std::nullopt;
  }
  if (arn && arn->find(":log-group:") == std::string::npos) {
    f.problems().set_fatal(
        Error{ErrorCode::logs_resource_not_found, "The specified resource does not exist."});
    return std::nullopt;
  }
  return arn;
}

Outcome tag_log_group(engine::Logs& logs, Fields& f) {
  auto name = f.str("logGroupName", true);
  auto tags = f.string_map("tags", 1, 50, true);
  LOGS_CHECK(f);
  return empty_or_error(logs.tag_log_group(*name, *tags));
}

Outcome untag_log_group(engine::Logs& logs, Fields& f) {
  auto name = f.str("logGroupName", true);
  auto keys = f.strings("tags", 1, std::numeric_limits<std::size_t>::max(), true);
  LOGS_CHECK(f);
  return empty_or_error(logs.untag_log_group(*name, *keys));
}

Outcome list_tags_log_group(engine::Logs& logs, Fields& f) {
  auto name = f.str("logGroupName", true);
  LOGS_CHECK(f);
  auto r = logs.list_tags(*name);
  if (!r) return std::unexpected(r.error());
  return json::object{{"tags", tags_json(*r)}};
}

Outcome tag_resource(engine::Logs& logs, Fields& f) {
  auto arn = resource_arn(f);
  auto tags = f.string_map("tags", 1, 50, true);
  LOGS_CHECK(f);
  return empty_or_error(logs.tag_log_group(*arn, *tags));
}

Outcome untag_resource(engine::Logs& logs, Fields& f) {
  auto arn = resource_arn(f);
  auto keys = f.strings("tagKeys", 0, 50, true);
  LOGS_CHECK(f);
  return empty_or_error(logs.untag_log_group(*arn, *keys));
}

Outcome list_tags_for_resource(engine::Logs& logs, Fields& f) {
  auto arn = resource_arn(f);
  LOGS_CHECK(f);
  auto r = logs.list_tags(*arn);
  if (!r) return std::unexpected(r.error());
  return json::object{{"tags", tags_json(*r)}};
}

#undef LOGS_CHECK

// ---------------------------------------------------------------- dispatch

using Handler = Outcome (*)(engine::Logs&, Fields&);

const std::map<std::string_view, Handler>& handlers() {
  static const std::map<std::string_view, Handler> kHandlers = {
      {"CreateLogGroup", &create_log_group},
      {"DeleteLogGroup", &delete_log_group},
      {"DescribeLogGroups", &describe_log_groups},
      {"PutRetentionPolicy", &put_retention_policy},
      {"DeleteRetentionPolicy", &delete_retention_policy},
      {"PutLogGroupDeletionProtection", &put_deletion_protection},
      {"CreateLogStream", &create_log_stream},
      {"DeleteLogStream", &delete_log_stream},
      {"DescribeLogStreams", &describe_log_streams},
      {"PutLogEvents", &put_log_events},
      {"GetLogEvents", &get_log_events},
      {"FilterLogEvents", &filter_log_events},
      {"TagLogGroup", &tag_log_group},
      {"UntagLogGroup", &untag_log_group},
      {"ListTagsLogGroup", &list_tags_log_group},
      {"TagResource", &tag_resource},
      {"UntagResource", &untag_resource},
      {"ListTagsForResource", &list_tags_for_resource},
  };
  return kHandlers;
}

constexpr std::size_t kMaxJsonDepth = 32;

}  // namespace

ApiResponse logs_handle(engine::Logs& logs, std::string_view operation, std::string_view body,
                        const RequestContext& ctx) {
  auto error = [&](Error e) { return json_error(e, ctx, JsonErrorStyle{kJson11, false}); };
  json::value doc;
  if (!body.empty()) {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = kMaxJsonDepth;
    doc = json::parse(body, ec, {}, opts);
    if (ec)
      return error(Error{ErrorCode::serialization_exception,
                         "Malformed JSON request body: " + ec.message()});
  }
  auto it = handlers().find(operation);
  if (it == handlers().end())
    return error(Error{ErrorCode::unknown_operation,
                       "Unknown operation: Logs_20140328." + std::string(operation)});
  if (body.empty())
    return error(Error{ErrorCode::serialization_exception, "The request body is empty"});
  if (!doc.is_object())
    return error(Error{ErrorCode::serialization_exception,
                       doc.is_array() ? "Start of list found where not expected"
                                      : "Expected a JSON object as the request body"});
  Problems problems;
  Fields fields(&doc.get_object(), problems);
  Outcome out = it->second(logs, fields);
  if (!out) return error(out.error());
  return ok_response(json::serialize(*out), kJson11);
}

}  // namespace orderflow::server
