#include "orders/processor.h"

#include <charconv>

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

// Steps 1-3 for one record; fills outcome, order_id and reason.
std::optional<bool> process_record(const JsonValue& record, RecordResult& r, OrderStore& store,
                                   Clock& clock) {
  auto fail = [&r](RecordOutcome outcome, std::string reason) {
    r.outcome = outcome;
    r.reason = std::move(reason);
  };
  const JsonValue* source = record.find("eventSource");
  if (source != nullptr && !(source->is_string() && source->as_string() == "aws:sqs")) {
    fail(RecordOutcome::rejected, "record is not from SQS (eventSource is not \"aws:sqs\")");
    return std::nullopt;
  }
  const JsonValue* body = record.find("body");
  if (body == nullptr || !body->is_string()) {
    fail(RecordOutcome::rejected, "record has no body string");
    return std::nullopt;
  }
  auto unwrapped = unwrap_message(body->as_string());
  if (!unwrapped) {
    fail(RecordOutcome::rejected, unwrapped.error().reason);
    return std::nullopt;
  }
  auto order = parse_order(unwrapped->message);
  if (!order) {
    r.order_id = order.error().order_id;
    fail(RecordOutcome::rejected, order.error().reason);
    return std::nullopt;
  }
  r.order_id = order->order_id;
  std::string received_at = iso8601_ms(to_epoch_ms(clock.now()));
  const std::string& message_id =
      unwrapped->sns_message_id ? *unwrapped->sns_message_id : r.message_id;
  StoreOutcome outcome = store.put_if_absent(*order, received_at, message_id);
  switch (outcome.kind) {
    case StoreOutcome::Kind::stored: r.outcome = RecordOutcome::stored; break;
    case StoreOutcome::Kind::duplicate: r.outcome = RecordOutcome::duplicate; break;
    case StoreOutcome::Kind::error:
      fail(RecordOutcome::store_error, outcome.message.empty() ? "store failed" : outcome.message);
      return outcome.retryable;
  }
  return std::nullopt;
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
  batch.records.reserve(list.size());
  // The margin is at most a quarter of the time the invocation had when it started, so a short
  // timeout (1 s) still leaves time to work.
  Millis margin = options.deadline_margin;
  if (options.deadline) {
    auto remaining = std::chrono::duration_cast<Millis>(*options.deadline - clock.now());
    margin = std::max(Millis(0), std::min(margin, remaining / 4));
  }
  for (const JsonValue& record : list) {
    RecordResult r;
    r.message_id = record.find("messageId")->as_string();
    std::optional<bool> retryable;
    if (options.deadline && clock.now() >= *options.deadline - margin) {
      r.outcome = RecordOutcome::not_attempted;
      r.reason = "not attempted: the invocation deadline is near";
    } else {
      retryable = process_record(record, r, store, clock);
    }
    switch (r.outcome) {
      case RecordOutcome::stored: ++batch.stored; break;
      case RecordOutcome::duplicate: ++batch.duplicates; break;
      case RecordOutcome::rejected: ++batch.rejected; break;
      case RecordOutcome::store_error: ++batch.store_errors; break;
      case RecordOutcome::not_attempted: ++batch.not_attempted; break;
    }
    if (!r.succeeded()) batch.failed_message_ids.push_back(r.message_id);
    write_record_log(log, r, receive_count(record), retryable);
    batch.records.push_back(std::move(r));
  }
  batch.response_body = batch_response_body(batch.failed_message_ids);
  const TimePoint end = clock.now();
  batch.processing_time = end - start;
  log.write(emf_line(batch, end, options));
  return batch;
}

}  // namespace orderflow::orders
