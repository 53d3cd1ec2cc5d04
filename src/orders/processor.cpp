#include "orders/processor.h"

#include <charconv>
#include <map>

#include "common/util.h"
#include "orders/envelope.h"
#include "orders/json.h"

namespace orderflow::orders {

std::string_view to_string(RecordOutcome outcome) {
  switch (outcome) {
    case RecordOutcome::stored: return "stored";
    case RecordOutcome::duplicate: return "duplicate";
    case RecordOutcome::rejected: return "rejected";
    case RecordOutcome::store_error: return "store_error";
    case RecordOutcome::not_attempted: return "not_attempted";
  }
  return "unknown";
}

std::vector<std::optional<StoreOutcome>> OrderStore::put_all(
    std::span<const PutRequest> requests, const std::function<bool()>& may_start) {
  std::vector<std::optional<StoreOutcome>> out(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (!may_start()) break;
    out[i] = put_if_absent(*requests[i].order, requests[i].received_at, requests[i].message_id);
  }
  return out;
}

std::string batch_response_body(const std::vector<std::string>& failed_message_ids) {
  std::string out = "{\"batchItemFailures\":[";
  for (std::size_t i = 0; i < failed_message_ids.size(); ++i) {
    if (i) out += ',';
    out += "{\"itemIdentifier\":";
    append_json_string(out, failed_message_ids[i]);
    out += '}';
  }
  out += "]}";
  return out;
}

namespace {

std::optional<long long> receive_count(const JsonValue& record) {
  const JsonValue* attributes = record.find("attributes");
  const JsonValue* count = attributes ? attributes->find("ApproximateReceiveCount") : nullptr;
  if (count == nullptr || !count->is_string()) return std::nullopt;
  const std::string& s = count->as_string();
  long long n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

void write_record_log(LogSink& log, const RecordResult& r, std::optional<long long> count,
                      std::optional<bool> retryable) {
  std::string line = "{\"level\":";
  switch (r.outcome) {
    case RecordOutcome::stored:
    case RecordOutcome::duplicate: line += "\"INFO\""; break;
    case RecordOutcome::rejected:
    case RecordOutcome::not_attempted: line += "\"WARN\""; break;
    case RecordOutcome::store_error: line += "\"ERROR\""; break;
  }
  if (r.order_id) {
    line += ",\"orderId\":";
    append_json_string(line, *r.order_id);
  }
  line += ",\"messageId\":";
  append_json_string(line, r.message_id);
  line += ",\"approximateReceiveCount\":";
  line += count ? std::to_string(*count) : "null";
  line += ",\"outcome\":";
  append_json_string(line, to_string(r.outcome));
  if (!r.reason.empty()) {
    line += ",\"reason\":";
    append_json_string(line, r.reason);
  }
  if (retryable) line += *retryable ? ",\"retryable\":true" : ",\"retryable\":false";
  line += '}';
  log.write(line);
}

// A record that passed steps 1 and 2: what step 3 stores.
struct Prepared {
  Order order;
  std::string received_at;
  std::string message_id;  // the SNS MessageId, or the SQS one for a raw body
};

// Steps 1 and 2 for one record: the order to store, or nullopt with r's outcome, order_id
// and reason filled in.
std::optional<Prepared> prepare_record(const JsonValue& record, RecordResult& r, Clock& clock) {
  auto fail = [&r](std::string reason) {
    r.outcome = RecordOutcome::rejected;
    r.reason = std::move(reason);
    return std::nullopt;
  };
  const JsonValue* source = record.find("eventSource");
  if (source != nullptr && !(source->is_string() && source->as_string() == "aws:sqs")) {
    return fail("record is not from SQS (eventSource is not \"aws:sqs\")");
  }
  const JsonValue* body = record.find("body");
  if (body == nullptr || !body->is_string()) return fail("record has no body string");
  auto unwrapped = unwrap_message(body->as_string());
  if (!unwrapped) return fail(unwrapped.error().reason);
  auto order = parse_order(unwrapped->message);
  if (!order) {
    r.order_id = order.error().order_id;
    return fail(order.error().reason);
  }
  r.order_id = order->order_id;
  std::string message_id = unwrapped->sns_message_id ? *unwrapped->sns_message_id : r.message_id;
  return Prepared{std::move(*order), iso8601_ms(to_epoch_ms(clock.now())), std::move(message_id)};
}

// Step 3's outcome into r; returns whether a store error is retryable (nullopt otherwise).
std::optional<bool> apply_store_outcome(const StoreOutcome& outcome, RecordResult& r) {
  switch (outcome.kind) {
    case StoreOutcome::Kind::stored: r.outcome = RecordOutcome::stored; break;
    case StoreOutcome::Kind::duplicate: r.outcome = RecordOutcome::duplicate; break;
    case StoreOutcome::Kind::error:
      r.outcome = RecordOutcome::store_error;
      r.reason = outcome.message.empty() ? "store failed" : outcome.message;
      return outcome.retryable;
  }
  return std::nullopt;
}

void mark_not_attempted(RecordResult& r) {
  r.outcome = RecordOutcome::not_attempted;
  r.reason = "not attempted: the invocation deadline is near";
}

std::string emf_line(const BatchResult& b, TimePoint now, const ProcessOptions& options) {
  std::string line = "{\"_aws\":{\"Timestamp\":" + std::to_string(to_epoch_ms(now)) +
                     ",\"CloudWatchMetrics\":[{\"Namespace\":\"OrderFlow\",\"Dimensions\":[[";
  for (std::size_t i = 0; i < options.metric_dimensions.size(); ++i) {
    if (i) line += ',';
    append_json_string(line, options.metric_dimensions[i].first);
  }
  line +=
      "]],\"Metrics\":[{\"Name\":\"OrdersStored\",\"Unit\":\"Count\"},"
      "{\"Name\":\"OrdersDuplicate\",\"Unit\":\"Count\"},"
      "{\"Name\":\"OrdersRejected\",\"Unit\":\"Count\"},"
      "{\"Name\":\"StoreErrors\",\"Unit\":\"Count\"},"
      "{\"Name\":\"ProcessingTime\",\"Unit\":\"Milliseconds\"}]}]}";
  for (const auto& [name, value] : options.metric_dimensions) {
    line += ',';
    append_json_string(line, name);
    line += ':';
    append_json_string(line, value);
  }
  line += ",\"OrdersStored\":" + std::to_string(b.stored);
  line += ",\"OrdersDuplicate\":" + std::to_string(b.duplicates);
  line += ",\"OrdersRejected\":" + std::to_string(b.rejected);
  line += ",\"StoreErrors\":" + std::to_string(b.store_errors);
  line += ",\"ProcessingTime\":" + std::to_string(b.processing_time.count());
  line += '}';
  return line;
}

}  // namespace

std::expected<BatchResult, InvalidEvent> process_sqs_event(std::string_view event_json,
                                                           OrderStore& store, Clock& clock,
                                                           LogSink& log,
                                                           const ProcessOptions& options) {
  const TimePoint start = clock.now();
  auto event = parse_json(event_json);
  if (!event) return std::unexpected(InvalidEvent{"event is not JSON: " + event.error().message});
  if (!event->is_object()) return std::unexpected(InvalidEvent{"event is not a JSON object"});
  const JsonValue* records = event->find("Records");
  if (records == nullptr || !records->is_array()) {
    return std::unexpected(InvalidEvent{"event has no Records array"});
  }
  const JsonArray& list = records->as_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const JsonValue* id = list[i].find("messageId");
    if (id == nullptr || !id->is_string() || id->as_string().empty()) {
      return std::unexpected(InvalidEvent{"Records[" + std::to_string(i) +
                                          "] is not an object with a messageId string"});
    }
  }

  BatchResult batch;
  // The margin is at most a quarter of the time the invocation had when it started, so a short
  // timeout (1 s) still leaves time to work.
  Millis margin = options.deadline_margin;
  if (options.deadline) {
    auto remaining = std::chrono::duration_cast<Millis>(*options.deadline - clock.now());
    margin = std::max(Millis(0), std::min(margin, remaining / 4));
  }
  auto may_start = [&] { return !options.deadline || clock.now() < *options.deadline - margin; };

  // Steps 1 and 2, record by record.
  std::vector<RecordResult> results(list.size());
  std::vector<std::optional<bool>> retryable(list.size());
  std::vector<std::optional<Prepared>> prepared(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    RecordResult& r = results[i];
    r.message_id = list[i].find("messageId")->as_string();
    if (!may_start()) {
      mark_not_attempted(r);
      continue;
    }
    prepared[i] = prepare_record(list[i], r, clock);
  }
  // Step 3 in waves: wave k holds the k-th record of each orderId, so one call never holds
  // an orderId twice and the first delivery in the batch is stored first.
  std::map<std::string_view, std::size_t> seen;  // orderId -> records with it so far
  std::vector<std::vector<std::size_t>> waves;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!prepared[i]) continue;
    std::size_t k = seen[prepared[i]->order.order_id]++;
    if (k == waves.size()) waves.emplace_back();
    waves[k].push_back(i);
  }
  for (const auto& wave : waves) {
    std::vector<PutRequest> requests;
    requests.reserve(wave.size());
    for (std::size_t i : wave)
      requests.push_back({&prepared[i]->order, prepared[i]->received_at, prepared[i]->message_id});
    auto outcomes = store.put_all(requests, may_start);
    for (std::size_t j = 0; j < wave.size(); ++j) {
      RecordResult& r = results[wave[j]];
      if (j < outcomes.size() && outcomes[j]) {
        retryable[wave[j]] = apply_store_outcome(*outcomes[j], r);
      } else {
        mark_not_attempted(r);
      }
    }
  }
  // Step 4, in the batch's order.
  for (std::size_t i = 0; i < list.size(); ++i) {
    RecordResult& r = results[i];
    switch (r.outcome) {
      case RecordOutcome::stored: ++batch.stored; break;
      case RecordOutcome::duplicate: ++batch.duplicates; break;
      case RecordOutcome::rejected: ++batch.rejected; break;
      case RecordOutcome::store_error: ++batch.store_errors; break;
      case RecordOutcome::not_attempted: ++batch.not_attempted; break;
    }
    if (!r.succeeded()) batch.failed_message_ids.push_back(r.message_id);
    write_record_log(log, r, receive_count(list[i]), retryable[i]);
  }
  batch.records = std::move(results);
  batch.response_body = batch_response_body(batch.failed_message_ids);
  const TimePoint end = clock.now();
  batch.processing_time = end - start;
  log.write(emf_line(batch, end, options));
  return batch;
}

}  // namespace orderflow::orders
