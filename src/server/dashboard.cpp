#include "server/dashboard.h"

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "aws/uri.h"
#include "common/function_log.h"
#include "common/util.h"
#include "orders/envelope.h"
#include "orders/order.h"

namespace orderflow::server {
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxBodyChars = 4096;       // of a DLQ message shown on the page
constexpr std::size_t kMaxPostBytes = 4096;       // a redrive request
constexpr std::size_t kReasonLookups = 50;        // DLQ messages whose reason is searched in the store
constexpr std::size_t kMaxLogLinesPerEvent = 200; // per push
constexpr std::size_t kMaxApiLimit = 500;

ApiResponse json_response(int status, const json::value& body) {
  ApiResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("Cache-Control", "no-store");
  r.body = json::serialize(body);
  return r;
}

ApiResponse error_response(int status, std::string_view message) {
  return json_response(status, json::object{{"message", message}});
}

// Equal-time comparison of a presented token with the expected one.
bool token_matches(std::string_view given, std::string_view want) {
  unsigned diff = given.size() == want.size() ? 0 : 1;
  for (std::size_t i = 0; i < want.size(); ++i) diff |= static_cast<unsigned char>(want[i]) ^
                                                        static_cast<unsigned char>(i < given.size() ? given[i] : 0);
  return diff == 0;
}

// An SQS message id: a UUID (36 characters of hex digits and dashes).
bool valid_message_id(std::string_view id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !std::isxdigit(static_cast<unsigned char>(id[i]))) return false;
  }
  return true;
}

std::optional<std::string> param(const aws::QueryParams& q, std::string_view name) {
  for (const auto& [k, v] : q)
    if (k == name) return v;
  return std::nullopt;
}

// A non-negative integer parameter within [lo, hi]; `fallback` when absent; nullopt when bad.
std::optional<std::int64_t> int_param(const aws::QueryParams& q, std::string_view name, std::int64_t fallback,
                                      std::int64_t lo, std::int64_t hi) {
  auto v = param(q, name);
  if (!v) return fallback;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < lo || n > hi) return std::nullopt;
  return n;
}

json::value number_or_null(double v) { return std::isfinite(v) ? json::value(v) : json::value(nullptr); }

std::string sse_event(std::string_view event, const json::value& data) {
  std::string out = "event: ";
  out += event;
  out += "\ndata: ";
  out += json::serialize(data);  // one line: serialize never emits a newline
  out += "\n\n";
  return out;
}

}  // namespace

struct Pipeline {
  std::string topic_arn, queue, dlq, function, table, log_group;
};

struct Dashboard::Impl {
  engine::Engine& engine;
  DashboardOptions options;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;                              // guarded by mu
  std::vector<std::shared_ptr<EventStream>> streams;  // guarded by mu
  std::thread pusher;

  Impl(engine::Engine& e, DashboardOptions o) : engine(e), options(std::move(o)) {}

  // ---- the pipeline, found in the engine ----
  Pipeline pipeline() {
    Pipeline p;
    auto mappings = engine.lambda().mappings();
    if (mappings.empty()) return p;
    p.queue = mappings.front().config.queue;
    p.function = mappings.front().config.function;
    p.log_group = "/aws/lambda/" + p.function;
    if (auto cfg = engine.lambda().functions().function_config(p.function)) {
      if (auto it = cfg->environment.find("ORDERS_TABLE"); it != cfg->environment.end()) p.table = it->second;
    }
    if (auto attrs = engine.queues().get_attributes(p.queue, {"RedrivePolicy"})) {
      if (auto it = attrs->find("RedrivePolicy"); it != attrs->end()) {
        boost::system::error_code ec;
        auto doc = json::parse(it->second, ec);
        if (!ec && doc.is_object()) {
          if (const auto* target = doc.get_object().if_contains("deadLetterTargetArn"); target && target->is_string())
            p.dlq = engine.queues().name_from_arn(target->get_string()).value_or("");
        }
      }
    }
    std::string queue_arn = engine.queues().arn(p.queue);
    std::string token, next;
    for (int pages = 0; pages < 100 && p.topic_arn.empty(); ++pages) {
      auto subs = engine.topics().list_subscriptions("", token, &next);
      if (!subs) break;
      for (const auto& s : *subs)
        if (s.protocol == "sqs" && s.endpoint == queue_arn) {
          p.topic_arn = s.topic_arn;
          break;
        }
      if (next.empty()) break;
      token = std::exchange(next, {});
    }
    return p;
  }

  static json::object pipeline_json(const Pipeline& p) {
    return json::object{{"topicArn", p.topic_arn},
                        {"topic", p.topic_arn.substr(p.topic_arn.rfind(':') + 1)},
                        {"queue", p.queue},
                        {"dlq", p.dlq},
                        {"function", p.function},
                        {"table", p.table},
                        {"logGroup", p.log_group}};
  }

  // The newest sample with totals the page shows beside the rates.
  json::object snapshot() {
    json::object out;
    json::object values;
    if (auto s = engine.metrics().latest()) {
      out["time"] = s->time;
      for (const auto& [k, v] : s->values) values[k] = number_or_null(v);
    }
    out["values"] = std::move(values);
    json::object totals;
    for (const auto& [arn, n] : engine.topics().published_counts())
      totals["topic:" + arn.substr(arn.rfind(':') + 1) + ":published"] = n;
    engine::Functions& fns = engine.lambda().functions();
    for (const auto& f : fns.function_names()) {
      auto st = fns.stats(f);
      totals["function:" + f + ":invocations"] = st.invocations;
      totals["function:" + f + ":errors"] = st.errors;
    }
    out["totals"] = std::move(totals);
    return out;
  }

  json::object history(std::int64_t since) {
    auto samples = engine.metrics().history(since);
    json::array times;
    std::map<std::string, json::array> series;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      times.push_back(samples[i].time);
      for (const auto& [k, v] : samples[i].values) {
        auto& col = series[k];
        while (col.size() < i) col.push_back(nullptr);  // a series that appeared later
        col.push_back(number_or_null(v));
      }
      for (auto& [k, col] : series)
        if (col.size() < i + 1) col.push_back(nullptr);
    }
    json::object cols;
    for (auto& [k, col] : series) cols[k] = std::move(col);
    return json::object{{"interval", 1000}, {"time", std::move(times)}, {"series", std::move(cols)}};
  }

  static json::object log_json(const engine::FunctionLogLine& l) {
    return json::object{{"seq", l.seq},
                        {"function", l.function},
                        {"stream", l.stream},
                        {"timestamp", l.timestamp},
                        {"message", l.message}};
  }

  // ---- the DLQ ----
  // The failure reason of each message id, newest log line first: from the recent lines in
  // memory, then (for at most kReasonLookups messages) from the log group in the store.
  std::map<std::string, FunctionLogRecord> reasons(const std::vector<std::string>& ids, const std::string& group) {
    std::map<std::string, FunctionLogRecord> out;
    std::map<std::string_view, bool> wanted;
    for (const auto& id : ids) wanted[id] = true;
    for (const auto& line : engine.metrics().logs_after(0, SIZE_MAX)) {
      auto r = parse_function_log_line(line.message);
      if (!r || r->reason.empty() || !wanted.contains(r->message_id)) continue;
      out[r->message_id] = *r;  // later lines replace earlier ones
    }
    std::size_t lookups = 0;
    for (const auto& id : ids) {
      if (out.contains(id) || lookups++ >= kReasonLookups || group.empty()) continue;
      engine::FilterLogEventsRequest req;
      req.log_group = group;
      req.filter_pattern = "\"" + id + "\"";  // a message id has no quote or backslash
      req.limit = 100;
      auto found = engine.logs().filter_log_events(req);
      if (!found) continue;
      for (const auto& e : found->events) {
        auto r = parse_function_log_line(e.message);
        if (r && r->message_id == id && !r->reason.empty()) out[id] = *r;
      }
    }
    return out;
  }

  ApiResponse dlq(const aws::QueryParams& q) {
    auto limit = int_param(q, "limit", 50, 1, kMaxApiLimit);
    if (!limit) return error_response(400, "limit must be an integer from 1 to 500");
    Pipeline p = pipeline();
    if (p.dlq.empty()) return json_response(200, json::object{{"queue", nullptr}, {"messages", json::array{}}});
    auto peeked = engine.queues().peek(p.dlq, static_cast<std::size_t>(*limit));
    if (!peeked) return error_response(500, peeked.error().message);
    std::vector<std::string> ids;
    for (const auto& m : *peeked) ids.push_back(m.message_id);
    auto why = reasons(ids, p.log_group);
    json::array messages;
    for (const auto& m : *peeked) {
      json::object o{{"messageId", m.message_id},
                     {"receiveCount", m.receive_count},
                     {"sentTimestamp", m.sent_timestamp_ms},
                     {"firstReceiveTimestamp", m.first_receive_timestamp_ms},
                     {"body", m.body.size() > kMaxBodyChars ? m.body.substr(0, kMaxBodyChars) + "..." : m.body},
                     {"sourceQueueArn", m.dead_letter_source_arn}};
      json::value order_id = nullptr;
      if (auto unwrapped = orders::unwrap_message(m.body)) {
        boost::system::error_code ec;
        auto doc = json::parse(unwrapped->message, ec);
        if (!ec && doc.is_object())
          if (const auto* id = doc.get_object().if_contains("orderId"); id && id->is_string()) order_id = *id;
      }
      o["orderId"] = order_id;
      if (auto it = why.find(m.message_id); it != why.end()) {
        o["reason"] = it->second.reason;
        o["outcome"] = it->second.outcome;
      } else {
        o["reason"] = nullptr;
      }
      messages.push_back(std::move(o));
    }
    auto counts = engine.queues().counts(p.dlq);
    json::object depth;
    if (counts) depth = {{"visible", counts->visible}, {"inFlight", counts->not_visible}, {"delayed", counts->delayed}};
    return json_response(200, json::object{{"queue", p.dlq}, {"depth", std::move(depth)}, {"messages", std::move(messages)}});
  }

  ApiResponse redrive(const aws::HttpRequest& req) {
    if (req.body.size() > kMaxPostBytes) return error_response(413, "request body too large");
    boost::system::error_code ec;
    json::value doc = req.body.empty() ? json::value(json::object{}) : json::parse(req.body, ec);
    if (ec || !doc.is_object()) return error_response(400, "the body must be a JSON object");
    const auto& o = doc.get_object();
    for (const auto& [k, v] : o)
      if (k != "messageId") return error_response(400, "unknown field " + std::string(k));
    Pipeline p = pipeline();
    if (p.dlq.empty()) return error_response(404, "the pipeline has no dead-letter queue");
    if (const auto* id = o.if_contains("messageId")) {
      if (!id->is_string() || !valid_message_id(id->get_string()))
        return error_response(400, "messageId must be a message id (a UUID)");
      auto st = engine.queues().redrive_message(p.dlq, id->get_string());
      if (!st) {
        int status = st.error().code == ErrorCode::sqs_resource_not_found ? 404
                     : st.error().code == ErrorCode::invalid_parameter_value ? 409
                                                                            : 500;
        return error_response(status, st.error().message);
      }
      return json_response(200, json::object{{"moved", 1}});
    }
    auto task = engine.queues().start_move_task(engine.queues().arn(p.dlq), "", std::nullopt);
    if (!task) return error_response(409, task.error().message);
    return json_response(200, json::object{{"taskHandle", *task}});
  }

  // ---- orders ----
  std::optional<json::value> get_order(const Pipeline& p, std::string_view key_name, std::string_view id) {
    engine::GetItemRequest req;
    req.table_name = p.table;
    req.key.emplace(std::string(key_name), engine::ddb::S(std::string(id)));
    auto got = engine.tables().get_item(req);
    if (!got || !got->item) return std::nullopt;
    return engine::ddb::to_json(*got->item);
  }

  ApiResponse orders(const aws::QueryParams& q) {
    Pipeline p = pipeline();
    if (p.table.empty()) return error_response(404, "the pipeline has no table");
    auto desc = engine.tables().describe_table(p.table);
    if (!desc || desc->key_schema.empty()) return error_response(404, "the table " + p.table + " does not exist");
    const std::string& key_name = desc->key_schema.front().attribute_name;
    if (auto id = param(q, "id")) {
      if (!orders::is_valid_order_id(*id)) return error_response(400, "id must be 1..128 letters, digits or -_.:");
      auto item = get_order(p, key_name, *id);
      if (!item) return error_response(404, "no order " + *id);
      return json_response(200, json::object{{"item", std::move(*item)}});
    }
    auto limit = int_param(q, "limit", 20, 1, 100);
    if (!limit) return error_response(400, "limit must be an integer from 1 to 100");
    // The latest stored orders are the newest "stored" lines of the function's log.
    json::array items;
    std::vector<std::string> seen;
    auto lines = engine.metrics().logs_after(0, SIZE_MAX);
    for (auto it = lines.rbegin(); it != lines.rend() && items.size() < static_cast<std::size_t>(*limit); ++it) {
      if (it->function != p.function) continue;
      auto r = parse_function_log_line(it->message);
      if (!r || r->outcome != "stored" || !orders::is_valid_order_id(r->order_id)) continue;
      if (std::find(seen.begin(), seen.end(), r->order_id) != seen.end()) continue;
      seen.push_back(r->order_id);
      if (auto item = get_order(p, key_name, r->order_id)) items.push_back(std::move(*item));
    }
    // None logged by this process yet (a restart): some from the table.
    if (items.empty()) {
      engine::ScanRequest scan;
      scan.table_name = p.table;
      scan.limit = static_cast<int>(*limit);
      if (auto page = engine.tables().scan(scan))
        for (const auto& item : page->items) items.push_back(engine::ddb::to_json(item));
    }
    return json_response(200, json::object{{"table", p.table}, {"itemCount", desc->item_count}, {"items", std::move(items)}});
  }

  ApiResponse logs(const aws::QueryParams& q) {
    // Without `after`: the newest `limit` lines.
    auto limit = int_param(q, "limit", 200, 1, 1000);
    std::uint64_t last = engine.metrics().last_log_seq();
    auto newest = static_cast<std::int64_t>(last > static_cast<std::uint64_t>(limit.value_or(0)) ? last - *limit : 0);
    auto after = int_param(q, "after", newest, 0, INT64_MAX);
    if (!after || !limit) return error_response(400, "after and limit must be non-negative integers (limit 1..1000)");
    json::array lines;
    for (const auto& l : engine.metrics().logs_after(static_cast<std::uint64_t>(*after), static_cast<std::size_t>(*limit)))
      lines.push_back(log_json(l));
    return json_response(200, json::object{{"lines", std::move(lines)}, {"last", last}});
  }

  // ---- the event stream ----
  ApiResponse events() {
    auto stream = std::make_shared<EventStream>();
    {
      std::lock_guard g(mu);
      if (stopping) return error_response(503, "the server is stopping");
      std::erase_if(streams, [](const auto& s) { return s->closed(); });
      if (streams.size() >= options.max_streams) return error_response(503, "too many event streams");
      // First: the retry hint and the current state, so the page draws at once.
      stream->push("retry: 2000\n\n" + sse_event("sample", snapshot()));
      streams.push_back(stream);
    }
    ApiResponse r;
    r.headers.emplace_back("Content-Type", "text/event-stream");
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("X-Accel-Buffering", "no");
    r.stream = std::move(stream);
    return r;
  }

  void run_pusher() {
    std::int64_t last_sample = 0;
    std::uint64_t last_log = engine.metrics().last_log_seq();
    auto last_ping = std::chrono::steady_clock::now();
    std::unique_lock lock(mu);
    while (!stopping) {
      cv.wait_for(lock, std::chrono::milliseconds(250), [&] { return stopping; });
      if (stopping) break;
      std::erase_if(streams, [](const auto& s) { return s->closed(); });
      std::string out;
      auto latest = engine.metrics().latest();
      if (latest && latest->time != last_sample) {
        last_sample = latest->time;
        out += sse_event("sample", snapshot());
      }
      for (const auto& l : engine.metrics().logs_after(last_log, kMaxLogLinesPerEvent)) {
        last_log = l.seq;
        out += sse_event("log", log_json(l));
      }
      auto now = std::chrono::steady_clock::now();
      if (out.empty() && now - last_ping > std::chrono::seconds(15)) out = ": ping\n\n";  // keeps proxies open
      if (out.empty()) continue;
      last_ping = now;
      for (auto& s : streams) s->push(out);
    }
    for (auto& s : streams) s->close();
    streams.clear();
  }

  bool authorized(const aws::HttpRequest& req, const aws::QueryParams& q) const {
    if (options.token.empty()) return true;
    if (auto h = req.header("X-Orderflow-Token"); h && token_matches(*h, options.token)) return true;
    if (auto t = param(q, "token"); t && token_matches(*t, options.token)) return true;
    return false;
  }

  // A POST must not come from another site: JSON only (a cross-site form cannot send it without
  // a preflight, which is never granted), and the browser's Origin, when sent, is this host.
  static std::optional<std::string> post_problem(const aws::HttpRequest& req) {
    auto type = req.header("Content-Type");
    if (!type || !aws::to_lower(*type).starts_with("application/json")) return "Content-Type must be application/json";
    if (auto origin = req.header("Origin")) {
      auto host = req.header("Host");
      if (!host || (*origin != "http://" + std::string(*host) && *origin != "https://" + std::string(*host)))
        return "cross-origin requests are refused";
    }
    return std::nullopt;
  }
};

Dashboard::Dashboard(engine::Engine& engine, DashboardOptions options)
    : impl_(std::make_unique<Impl>(engine, std::move(options))) {
  impl_->pusher = named_thread("of-dashboard", [impl = impl_.get()] { impl->run_pusher(); });
}

Dashboard::~Dashboard() { shutdown(); }

void Dashboard::shutdown() {
  {
    std::lock_guard g(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->pusher.joinable()) impl_->pusher.join();
}

bool Dashboard::handle(const aws::HttpRequest& req, const Respond& respond) {
  std::string_view path = req.path();
  bool get = req.method == "GET" || req.method == "HEAD";
  bool page = path == "/" || path == "/index.html";
  bool api = path.starts_with(kDashboardApiPrefix);
  bool asset = path.starts_with(kDashboardAssetPrefix);
  if (!page && !api && !asset) return false;
  auto query = aws::parse_query(req.query());
  if (page) {
    // GET / is also where SQS/SNS query calls (presigned or signed GETs) arrive.
    if (!get || req.header("Authorization") || req.header("X-Amz-Target")) return false;
    if (!query) return false;
    if (param(*query, "Action") || param(*query, "X-Amz-Signature")) return false;
  }
  auto reply = [&](ApiResponse r) {
    if (req.method == "HEAD" && !r.stream) r.body.clear();
    respond(std::move(r));
  };
  if (!query) {
    reply(error_response(400, "malformed query string"));
    return true;
  }
  if (asset) {
    if (!get) {
      reply(error_response(405, "method not allowed"));
      return true;
    }
    const DashboardAsset* a = find_dashboard_asset(path.substr(kDashboardAssetPrefix.size()));
    if (!a) {
      reply(error_response(404, "no such asset"));
      return true;
    }
    ApiResponse r;
    r.headers.emplace_back("Content-Type", std::string(a->content_type) + "; charset=utf-8");
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.body = std::string(a->data);
    reply(std::move(r));
    return true;
  }
  if (!impl_->authorized(req, *query)) {
    reply(error_response(401, "this dashboard needs the token printed by `orderflow up`: add ?token=<token>"));
    return true;
  }
  if (page) {
    const DashboardAsset* a = find_dashboard_asset("index.html");
    ApiResponse r;
    r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.body = a ? std::string(a->data) : "dashboard assets missing";
    reply(std::move(r));
    return true;
  }
  std::string_view route = path.substr(kDashboardApiPrefix.size());
  if (route == "dlq/redrive") {
    if (req.method != "POST") {
      reply(error_response(405, "use POST"));
      return true;
    }
    if (auto problem = Impl::post_problem(req)) {
      reply(error_response(403, *problem));
      return true;
    }
    reply(impl_->redrive(req));
    return true;
  }
  if (!get) {
    reply(error_response(405, "use GET"));
    return true;
  }
  if (route == "overview") {
    reply(json_response(200, json::object{{"pipeline", Impl::pipeline_json(impl_->pipeline())},
                                          {"sample", impl_->snapshot()}}));
  } else if (route == "history") {
    auto since = int_param(*query, "since", 0, 0, INT64_MAX);
    reply(since ? json_response(200, impl_->history(*since)) : error_response(400, "since must be epoch ms"));
  } else if (route == "events") {
    reply(impl_->events());
  } else if (route == "logs") {
    reply(impl_->logs(*query));
  } else if (route == "dlq") {
    reply(impl_->dlq(*query));
  } else if (route == "orders") {
    reply(impl_->orders(*query));
  } else {
    reply(error_response(404, "no such dashboard API"));
  }
  return true;
}

}  // namespace orderflow::server
